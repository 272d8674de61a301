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

/// The params the outer sweep sets, in the file's order: each parameter's key, or, for one
/// whose values are mappings (`mlp: [{epochs: 300, patience: 100}, …]`), the dotted keys inside
/// them (`mlp.epochs`, `mlp.patience`).
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
    let mut keys = Vec::new();
    for (k, values) in params {
        let Some(k) = k.as_str() else { continue };
        let before = keys.len();
        for v in values.as_sequence().into_iter().flatten() {
            if let Value::Mapping(m) = v {
                inner_keys(k, m, &mut keys);
            }
        }
        if keys.len() == before {
            keys.push(k.to_string());
        }
    }
    keys
}

/// The dotted keys of the leaves of `m` under `prefix`, each once.
fn inner_keys(prefix: &str, m: &serde_yaml::Mapping, keys: &mut Vec<String>) {
    for (k, v) in m {
        let Some(k) = k.as_str() else { continue };
        let key = format!("{prefix}.{k}");
        match v {
            Value::Mapping(inner) => inner_keys(&key, inner, keys),
            _ if !keys.contains(&key) => keys.push(key),
            _ => {}
        }
    }
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
    fn a_parameter_of_mappings_stands_for_the_keys_inside_them() {
        let yaml = "sweep:\n  parameters:\n    dataset.train_size: [1000, 50000]\n    \
                    mlp: [{epochs: 300, patience: 100}, {epochs: 12, momentum: {final: 0.9}}]\n    \
                    mlp.lr: {distribution: log_uniform, min: 0.01, max: 1}\n";
        assert_eq!(
            sweep_keys(yaml),
            [
                "dataset.train_size",
                "mlp.epochs",
                "mlp.patience",
                "mlp.momentum.final",
                "mlp.lr"
            ]
        );
    }

    #[test]
    fn no_sweep_or_an_unreadable_file_pairs_on_the_seed_alone() {
        assert!(sweep_keys("name: x\nmlp: {epochs: 3}\n").is_empty());
        assert!(sweep_keys("sweep: [unclosed").is_empty());
        assert!(sweep_keys("").is_empty());
    }
}
