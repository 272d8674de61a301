//! Published figures in an experiment file (`reference:`), checked against its trials.
//!
//! ```yaml
//! reference:
//!   - {best_test_error: {pretrained: 0.012, random: 0.016}, by: mlp.init, source: "Hinton, Osindero & Teh 2006"}
//!   - {test_logprob: -86.3, source: "Salakhutdinov & Murray 2008 (CD25)"}   # one value for every group
//! ```
//!
//! The entries' type and reader are [`harmonium_store::references`] (the dashboard reads them
//! back from the stored file, and the web crate depends on the store, not on this crate); a
//! malformed entry is an error of the file's parse, with its path and line. What needs the
//! trials is checked here: a `by` must name a param of the trials, by its full key or by a
//! suffix after a dot, resolved as `compare --group-by` resolves names. The entries are not part
//! of any trial's configuration, so they never change a config hash.

use std::collections::BTreeMap;

pub use harmonium_store::references::{Published, Reference};

use crate::config::{flat_params, line_of_key, to_json};
use crate::sweep::Trial;

/// Checks that each entry's `by` names a param of the trials; the error gives its line.
pub fn check(references: &[Reference], trials: &[Trial], text: &str) -> Result<(), String> {
    if references.iter().all(|r| r.by.is_none()) {
        return Ok(());
    }
    let values = param_values(trials);
    for (i, r) in references.iter().enumerate() {
        let Some(by) = &r.by else { continue };
        if let Err(e) = harmonium_store::aggregate::resolve_param(&values, by) {
            let line = line_of_by(text, by).or_else(|| line_of_key(text, "reference"));
            let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
            return Err(format!("{at}reference[{i}].by: {e}"));
        }
    }
    Ok(())
}

/// Every param of the trials (as the store records them: the flattened config and the seed)
/// with its distinct values, for [`harmonium_store::aggregate::resolve_param`].
fn param_values(trials: &[Trial]) -> BTreeMap<String, Vec<(String, Option<f64>)>> {
    let mut values: BTreeMap<String, Vec<(String, Option<f64>)>> = BTreeMap::new();
    for t in trials {
        let mut params = flat_params(&to_json(&t.config));
        params.insert("seed".into(), t.seed.into());
        for (k, v) in params {
            let seen = values.entry(k).or_default();
            let text = v.to_string();
            if !seen.iter().any(|(s, _)| *s == text) {
                seen.push((text, v.as_f64()));
            }
        }
    }
    values
}

/// The 1-based line, at or after `reference:`, of a `by: VALUE` key (block or flow style,
/// quoted or not).
fn line_of_by(text: &str, value: &str) -> Option<usize> {
    let start = line_of_key(text, "reference")?;
    text.lines()
        .enumerate()
        .skip(start - 1)
        .find(|(_, line)| {
            line.match_indices("by:").any(|(i, _)| {
                let before = line[..i].trim_end_matches(['"', '\'']);
                let at_key = before.is_empty() || before.ends_with(['{', ',', ' ', '-']);
                let rest = line[i + 3..].trim_start().trim_start_matches(['"', '\'']);
                at_key
                    && rest.strip_prefix(value).is_some_and(|after| {
                        after.is_empty() || after.starts_with(['"', '\'', ',', '}', ' ', '#'])
                    })
            })
        })
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use crate::{expand, parse_experiment};

    const BASE: &str = "name: t
dataset: {name: mnist, train_size: 100}
seeds: [1, 2]
mlp: {hidden: [8], epochs: 1}
sweep:
  parameters:
    mlp.lr: [0.1, 0.3]
";

    fn with(reference: &str) -> String {
        format!("{BASE}reference:\n{reference}")
    }

    #[test]
    fn references_are_read_with_the_file_and_leave_every_config_hash_alone() {
        let text = with(
            "  - {best_test_error: {0.1: 0.02, 0.3: 0.03}, by: lr, source: made up}\n  \
             - {best_valid_error: 0.05, source: also made up}\n",
        );
        let exp = parse_experiment(&text, "t.yaml").unwrap();
        assert_eq!(exp.references.len(), 2);
        assert_eq!(exp.references[0].by.as_deref(), Some("lr"));
        assert_eq!(exp.references[1].published, super::Published::All(0.05));
        let plain = parse_experiment(BASE, "t.yaml").unwrap();
        assert!(plain.references.is_empty());
        let hashes = |exp, text| {
            expand(exp, text)
                .unwrap()
                .into_iter()
                .map(|t| t.hash)
                .collect::<Vec<_>>()
        };
        assert_eq!(hashes(&exp, &text), hashes(&plain, BASE));
        assert_eq!(hashes(&exp, &text).len(), 4);
    }

    fn err(reference: &str) -> String {
        parse_experiment(&with(reference), "t.yaml")
            .expect_err(reference)
            .to_string()
    }

    #[test]
    fn malformed_references_are_errors_naming_reference_and_the_line() {
        // The file's line 10 is the second entry.
        let second = |entry: &str| err(&format!("  - {{a: 1, source: s}}\n  - {entry}\n"));
        for (entry, says) in [
            ("{best_test_error: 0.012}", "has no `source`"),
            (
                "{best_test_error: 0.01, test_error: 0.02, source: s}",
                "two metric keys",
            ),
            (
                "{best_test_error: '1.2%', source: s}",
                "invalid type: string \"1.2%\"",
            ),
            (
                "{best_test_error: {0.1: x}, by: lr, source: s}",
                "expected a number",
            ),
        ] {
            let e = second(entry);
            assert!(e.starts_with("t.yaml: "), "{e}");
            assert!(e.contains("reference[1]") && e.contains("line 10"), "{e}");
            assert!(e.contains(says), "{entry}: {e}");
        }
        assert!(err("  {best_test_error: 1, source: s}\n").contains("reference"));
    }

    #[test]
    fn a_reference_by_a_param_the_trials_lack_is_an_error_with_its_line() {
        let e = err("  - {best_test_error: 0.012, source: s}\n  \
             - best_test_error: {deep: 3.0}\n    by: method\n    source: s\n");
        assert!(
            e.contains("line 11: reference[1].by: no param 'method'"),
            "{e}"
        );
        assert!(e.contains("mlp.lr"), "lists the swept params: {e}");
        // A suffix resolves as `compare --group-by` does; `seed` is a param too.
        for by in ["lr", "mlp.lr", "seed", "'hidden'", "init"] {
            let text = with(&format!(
                "  - {{best_test_error: {{0.1: 0.02}}, by: {by}, source: s}}\n"
            ));
            parse_experiment(&text, "t.yaml").unwrap_or_else(|e| panic!("{by}: {e}"));
        }
    }
}
