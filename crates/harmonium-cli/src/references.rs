//! The published figures of an experiment (`reference:`) beside a comparison's groups, for
//! `harmonium compare` (text and `--json`) and `harmonium report`.

use harmonium_store::Store;
use harmonium_store::aggregate::Comparison;
use harmonium_store::references::{self, Published, ReferenceCheck};
use serde::Serialize;

use crate::report::{aligned, signed};
use crate::table::fmt_metric;

/// `compare --json`: the store's comparison with the references of its metric beside it.
#[derive(Serialize)]
pub struct WithReferences<'a> {
    #[serde(flatten)]
    pub comparison: &'a Comparison,
    pub references: &'a [ReferenceCheck],
}

/// The references of the comparison's metric from the experiment file the store keeps, lined up
/// with its groups. References that cannot be read are reported on stderr and left out, so
/// that the comparison itself is still printed.
pub async fn checks(store: &Store, experiment_id: i64, c: &Comparison) -> Vec<ReferenceCheck> {
    match store.references(experiment_id).await {
        Ok(refs) => references::for_comparison(&refs, c),
        Err(e) => {
            eprintln!("warning: {e}");
            Vec::new()
        }
    }
}

/// The lines `compare` prints for the references: per reference its source, then one row per
/// figure (the group, the published value, the measured mean with its n, the gap), then why
/// some figures are beside no group.
pub fn lines(metric: &str, by: &[String], checks: &[ReferenceCheck]) -> Vec<String> {
    if checks.is_empty() {
        return Vec::new();
    }
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| fmt_metric(metric, Some(v)));
    let mut out = vec![String::new(), format!("published {metric}:")];
    for c in checks {
        let r = &c.reference;
        let by_text =
            r.by.as_ref()
                .map(|b| format!(" (by {b})"))
                .unwrap_or_default();
        out.push(format!("  {}{by_text}", r.source));
        let grouped = c.matched_by.is_some() || matches!(r.published, Published::All(_));
        let mut header: Vec<String> = if grouped {
            by.to_vec()
        } else {
            vec![r.by.clone().unwrap_or_default()]
        };
        if header.is_empty() {
            header.push("group".into());
        }
        header.extend(["published", "mean", "n", "gap"].map(String::from));
        let mut rows = vec![header];
        for row in &c.rows {
            let mut cells: Vec<String> = match (&row.group, grouped) {
                (Some(g), _) if g.is_empty() => vec!["all runs".into()],
                (Some(g), _) => g.iter().map(|v| v.clone().unwrap_or("-".into())).collect(),
                (None, true) => by
                    .iter()
                    .map(|k| match (&c.matched_by, &row.level) {
                        (Some(m), Some(l)) if m == k => l.clone(),
                        _ => "-".into(),
                    })
                    .collect(),
                (None, false) => vec![row.level.clone().unwrap_or_default()],
            };
            if cells.is_empty() {
                cells.push("-".into());
            }
            cells.push(fmt_metric(metric, Some(row.published)));
            cells.push(f(row.mean));
            cells.push(if row.group.is_some() {
                row.n.to_string()
            } else {
                "-".into()
            });
            cells.push(row.gap.map_or("-".into(), |g| signed(metric, g)));
            rows.push(cells);
        }
        out.extend(aligned(&rows).into_iter().map(|l| format!("    {l}")));
        if let Some(note) = &c.note {
            out.push(format!("    ({note})"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use harmonium_store::aggregate::{Comparison, GroupFinal, Stat};
    use harmonium_store::references::{for_comparison, parse};

    use super::*;

    fn group(init: &str, n: i64, mean: f64) -> GroupFinal {
        GroupFinal {
            group: vec![Some(init.into())],
            runs: n,
            stat: Stat {
                n,
                mean: Some(mean),
                std: None,
                min: Some(mean),
                max: Some(mean),
            },
        }
    }

    #[test]
    fn compare_prints_each_figure_beside_its_group_with_the_gap_and_the_absent_levels() {
        let c = Comparison {
            by: vec!["mlp.init".into()],
            paired_on: vec![],
            metric: "best_test_error".into(),
            level: 0.95,
            groups: vec![group("pretrained", 1, 0.0131), group("random", 1, 0.0175)],
            contrasts: vec![],
        };
        let refs = parse(
            "reference:\n  \
             - {best_test_error: {pretrained: 0.012, random: 0.016, dbm: 0.0095}, by: init, source: HOT 2006}\n  \
             - {best_test_error: 0.0125, source: Up-down}\n  \
             - {test_logprob: -86.3, source: not this metric}\n",
        )
        .unwrap();
        let checks = for_comparison(&refs, &c);
        assert_eq!(checks.len(), 2, "only the figures of best_test_error");
        assert_eq!(
            lines("best_test_error", &c.by, &checks),
            [
                "",
                "published best_test_error:",
                "  HOT 2006 (by init)",
                "    mlp.init    published  mean   n  gap",
                "    pretrained  1.20%      1.31%  1  +0.11%",
                "    random      1.60%      1.75%  1  +0.15%",
                "    dbm         0.95%      -      -  -",
                "    (no group has mlp.init = `dbm`)",
                "  Up-down",
                "    mlp.init    published  mean   n  gap",
                "    pretrained  1.25%      1.31%  1  +0.06%",
                "    random      1.25%      1.75%  1  +0.50%",
            ]
        );
        // Grouped by another param: the figures, and why they are beside no group.
        let by_seed = Comparison {
            by: vec!["seed".into()],
            groups: vec![group("1", 1, 0.02)],
            ..c.clone()
        };
        let checks = for_comparison(&refs[..1], &by_seed);
        let text = lines("best_test_error", &by_seed.by, &checks);
        assert_eq!(text[3], "    init        published  mean  n  gap");
        assert_eq!(text[4], "    pretrained  1.20%      -     -  -");
        assert!(
            text[7].contains("`init` is not among the group-by params (seed)"),
            "{text:?}"
        );
    }
}
