//! What a paired comparison matches runs on besides the seed: the parameters of the experiment's
//! outer sweep (`sweep.parameters` of the file the store keeps) that the comparison does not
//! group by, and so pools over.
//!
//! Two runs of the two levels pair when they share the seed *and* these values: in a
//! leave-one-speaker-out sweep grouped by `init` alone, the pretrained run of seed 1 on held-out
//! speaker 3 pairs with the random run of seed 1 on speaker 3, not with that of speaker 0 (whose
//! test set is another). A `tune:` block's parameters are not outer sweep parameters: each arm
//! selects its own values of them, so they never have to match. An experiment without a sweep
//! (or whose stored file cannot be read, which `run` never stores) pairs on the seed alone.

use serde_yaml::Value;

/// The keys of the outer sweep's parameters, in the file's order.
pub fn sweep_keys(yaml: &str) -> Vec<String> {
    let Ok(doc) = serde_yaml::from_str::<Value>(yaml) else {
        return Vec::new();
    };
    let Some(params) = doc
        .get("sweep")
        .and_then(|s| s.get("parameters"))
        .and_then(Value::as_mapping)
    else {
        return Vec::new();
    };
    params
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

/// The sweep keys a comparison grouped by `by` (resolved keys) pairs on.
pub fn pooled_keys(yaml: &str, by: &[String]) -> Vec<String> {
    sweep_keys(yaml)
        .into_iter()
        .filter(|k| !by.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOSO: &str = "
name: x
sweep:
  parameters:
    mlp.hidden: [[512], [512, 512]]
    mlp.init: [pretrained, random]
    dataset.split.leave_one_out: [0, 1, 2]
  tune:
    parameters:
      mlp.lr: [0.01, 0.1]
";

    #[test]
    fn the_outer_sweep_keys_not_grouped_by_are_pooled_over() {
        assert_eq!(
            sweep_keys(LOSO),
            ["mlp.hidden", "mlp.init", "dataset.split.leave_one_out"]
        );
        let by = ["mlp.init".to_string(), "mlp.hidden".to_string()];
        assert_eq!(pooled_keys(LOSO, &by), ["dataset.split.leave_one_out"]);
    }

    #[test]
    fn no_sweep_or_an_unreadable_file_pairs_on_the_seed_alone() {
        assert!(sweep_keys("name: x\nmlp: {epochs: 3}\n").is_empty());
        assert!(sweep_keys("sweep: [unclosed").is_empty());
        assert!(sweep_keys("").is_empty());
    }
}
