//! Analysis with polars: runs × params × final metrics as a DataFrame, per-group statistics, and
//! differences between groups with Welch confidence intervals (`harmonium compare`), CSV and
//! Parquet export (`harmonium export`).

use std::collections::{BTreeMap, BTreeSet};

use harmonium_store::RunRow;
use polars::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// One column per param (text) and per final metric (f64, null when absent or NaN), one row per
/// run, plus `run_id`, `status`, `seed`, `config_hash`, `started_at`, `finished_at`. A metric whose
/// name equals a param key is prefixed with `metric:`.
pub fn runs_frame(runs: &[RunRow]) -> PolarsResult<DataFrame> {
    let params: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.params.keys().map(String::as_str))
        .collect();
    let metrics: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.metrics.keys().map(String::as_str))
        .collect();
    let mut cols: Vec<Column> = vec![
        Column::new(
            "run_id".into(),
            runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            runs.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "config_hash".into(),
            runs.iter()
                .map(|r| r.config_hash.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "started_at".into(),
            runs.iter()
                .map(|r| r.started_at.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "finished_at".into(),
            runs.iter()
                .map(|r| r.finished_at.clone())
                .collect::<Vec<_>>(),
        ),
    ];
    for p in &params {
        cols.push(Column::new(
            (*p).into(),
            runs.iter()
                .map(|r| r.params.get(*p).cloned())
                .collect::<Vec<_>>(),
        ));
    }
    for m in &metrics {
        let name = if params.contains(m) || ["run_id", "status"].contains(m) {
            format!("metric:{m}")
        } else {
            m.to_string()
        };
        cols.push(Column::new(
            name.into(),
            runs.iter()
                .map(|r| r.metrics.get(*m).copied().flatten())
                .collect::<Vec<_>>(),
        ));
    }
    DataFrame::new_infer_height(cols)
}

/// Resolves a user's column name: exact, or the one column ending in `.NAME` (`init` →
/// `mlp.init`). With `params_first`, a dotted param wins over a metric of the same short name
/// (`lr` → `mlp.lr`, not the `lr` metric); of several dotted params, the one that varies across
/// the runs wins (`lr` → `mlp.lr` when `pretrain.rbm.lr` is the same everywhere).
pub fn resolve_column(df: &DataFrame, name: &str) -> Result<String, String> {
    resolve(df, name, false)
}

/// [`resolve_column`] for group-by columns: params are preferred.
pub fn resolve_param(df: &DataFrame, name: &str) -> Result<String, String> {
    resolve(df, name, true)
}

fn resolve(df: &DataFrame, name: &str, params_first: bool) -> Result<String, String> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let suffix = format!(".{name}");
    if params_first && !name.contains('.') {
        let dotted: Vec<&String> = names.iter().filter(|n| n.ends_with(&suffix)).collect();
        if let [one] = dotted.as_slice() {
            return Ok(one.to_string());
        }
        if dotted.len() > 1 {
            let varies = |n: &&&String| {
                df.column(n.as_str())
                    .and_then(|c| c.n_unique())
                    .is_ok_and(|u| u > 1)
            };
            let varying: Vec<&&String> = dotted.iter().filter(varies).collect();
            return match varying.as_slice() {
                [one] => Ok(one.to_string()),
                _ => Err(format!(
                    "'{name}' is ambiguous: {}; give the full name",
                    dotted
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
        }
    }
    if names.iter().any(|n| n == name) {
        return Ok(name.to_string());
    }
    let hits: Vec<&String> = names.iter().filter(|n| n.ends_with(&suffix)).collect();
    match hits.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!(
            "no column '{name}'; columns are: {}",
            names.join(", ")
        )),
        many => Err(format!(
            "'{name}' is ambiguous: {}",
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Statistics of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    /// The group's value of each group-by column, in order.
    pub key: Vec<String>,
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); NaN for a single run.
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

/// Mean, std, n, min, max of `metric` per group of finished runs, groups in natural order
/// (numbers numerically).
pub fn group_stats(
    df: &DataFrame,
    group_by: &[String],
    metric: &str,
) -> PolarsResult<Vec<GroupStats>> {
    let keys: Vec<Expr> = group_by.iter().map(|g| col(g.as_str())).collect();
    let m = || col(metric);
    let out = df
        .clone()
        .lazy()
        .filter(col("status").eq(lit("finished")).and(m().is_not_null()))
        .group_by(keys)
        .agg([
            m().count().alias("n"),
            m().mean().alias("mean"),
            m().std(1).alias("std"),
            m().min().alias("min"),
            m().max().alias("max"),
        ])
        .collect()?;
    let mut stats = Vec::with_capacity(out.height());
    let text = |c: &str, i: usize| -> PolarsResult<String> {
        let v = out.column(c)?.get(i)?;
        Ok(match v {
            AnyValue::String(s) => s.to_string(),
            AnyValue::Null => "null".into(),
            other => other.to_string(),
        })
    };
    let num = |c: &str, i: usize| -> PolarsResult<f64> {
        Ok(out
            .column(c)?
            .cast(&DataType::Float64)?
            .f64()?
            .get(i)
            .unwrap_or(f64::NAN))
    };
    for i in 0..out.height() {
        stats.push(GroupStats {
            key: group_by
                .iter()
                .map(|g| text(g, i))
                .collect::<PolarsResult<_>>()?,
            n: num("n", i)? as usize,
            mean: num("mean", i)?,
            std: num("std", i)?,
            min: num("min", i)?,
            max: num("max", i)?,
        });
    }
    stats.sort_by(|a, b| natural_cmp(&a.key, &b.key));
    Ok(stats)
}

fn natural_cmp(a: &[String], b: &[String]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => p.partial_cmp(&q).unwrap_or(std::cmp::Ordering::Equal),
            _ => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

/// The difference `mean(a) − mean(b)` between two levels of the first group-by column, within one
/// combination of the other columns, with a Welch t confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Contrast {
    /// Values of the other group-by columns.
    pub within: Vec<String>,
    pub a: String,
    pub b: String,
    pub diff: f64,
    pub lo: f64,
    pub hi: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub dof: f64,
}

/// Welch's interval for the difference of two means at `level` (e.g. 0.95). NaN bounds when a
/// group has fewer than two runs.
pub fn welch_interval(a: &GroupStats, b: &GroupStats, level: f64) -> (f64, f64, f64, f64) {
    let diff = a.mean - b.mean;
    if a.n < 2 || b.n < 2 {
        return (diff, f64::NAN, f64::NAN, f64::NAN);
    }
    let (va, vb) = (a.std * a.std / a.n as f64, b.std * b.std / b.n as f64);
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return (diff, diff, diff, f64::INFINITY);
    }
    let dof = (va + vb).powi(2) / (va * va / (a.n as f64 - 1.0) + vb * vb / (b.n as f64 - 1.0));
    let t = StudentsT::new(0.0, 1.0, dof)
        .expect("dof > 0")
        .inverse_cdf(0.5 + level / 2.0);
    (diff, diff - t * se, diff + t * se, dof)
}

/// Every level of the first group-by column against the first level (the reference), within each
/// combination of the remaining columns.
pub fn contrasts(stats: &[GroupStats], level: f64) -> Vec<Contrast> {
    let mut by_rest: BTreeMap<Vec<String>, Vec<&GroupStats>> = BTreeMap::new();
    for s in stats {
        by_rest.entry(s.key[1..].to_vec()).or_default().push(s);
    }
    let mut out = Vec::new();
    let mut groups: Vec<(Vec<String>, Vec<&GroupStats>)> = by_rest.into_iter().collect();
    groups.sort_by(|x, y| natural_cmp(&x.0, &y.0));
    for (rest, members) in groups {
        let Some((reference, others)) = members.split_first() else {
            continue;
        };
        for o in others {
            let (diff, lo, hi, dof) = welch_interval(o, reference, level);
            out.push(Contrast {
                within: rest.clone(),
                a: o.key[0].clone(),
                b: reference.key[0].clone(),
                diff,
                lo,
                hi,
                dof,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, init: &str, size: &str, err: Option<f64>) -> RunRow {
        RunRow {
            id,
            experiment_id: 1,
            experiment: "e".into(),
            trial_index: id,
            status: "finished".into(),
            seed: id,
            config_hash: format!("h{id}"),
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            error: None,
            params: [
                ("dbn.init".to_string(), init.to_string()),
                ("dataset.train_size".to_string(), size.to_string()),
            ]
            .into(),
            metrics: [("test_error".to_string(), err)].into(),
        }
    }

    fn table() -> DataFrame {
        runs_frame(&[
            run(1, "random", "1000", Some(0.10)),
            run(2, "random", "1000", Some(0.12)),
            run(3, "random", "1000", Some(0.14)),
            run(4, "pretrained", "1000", Some(0.08)),
            run(5, "pretrained", "1000", Some(0.09)),
            run(6, "pretrained", "1000", Some(0.07)),
            run(7, "random", "10000", Some(0.05)),
            run(8, "random", "10000", None),
        ])
        .unwrap()
    }

    #[test]
    fn group_statistics_equal_a_hand_computation() {
        let df = table();
        let g = resolve_param(&df, "init").unwrap();
        let s = resolve_param(&df, "train_size").unwrap();
        let stats = group_stats(&df, &[g, s], "test_error").unwrap();
        assert_eq!(stats.len(), 3);
        let pre = &stats[0];
        assert_eq!(pre.key, vec!["pretrained", "1000"]);
        assert_eq!(pre.n, 3);
        assert!((pre.mean - 0.08).abs() < 1e-12);
        assert!(
            (pre.std - 0.01).abs() < 1e-12,
            "sample std of .08 .09 .07 is 0.01"
        );
        assert_eq!((pre.min, pre.max), (0.07, 0.09));
        let rnd = &stats[1];
        assert_eq!(rnd.key, vec!["random", "1000"]);
        assert!((rnd.mean - 0.12).abs() < 1e-12 && (rnd.std - 0.02).abs() < 1e-12);
        // The NaN/absent metric of run 8 is left out, not counted as zero.
        assert_eq!(stats[2].n, 1);
        assert!(stats[2].std.is_nan());
    }

    #[test]
    fn welch_interval_equals_a_hand_computation() {
        let a = GroupStats {
            key: vec!["random".into()],
            n: 3,
            mean: 0.12,
            std: 0.02,
            min: 0.0,
            max: 0.0,
        };
        let b = GroupStats {
            key: vec!["pretrained".into()],
            n: 3,
            mean: 0.08,
            std: 0.01,
            min: 0.0,
            max: 0.0,
        };
        let (diff, lo, hi, dof) = welch_interval(&a, &b, 0.95);
        // se² = .0004/3 + .0001/3 = 1.6667e-4; dof = se⁴ / ((.0004/3)²/2 + (.0001/3)²/2) = 2.9412
        let se = (0.0005f64 / 3.0).sqrt();
        let dof_hand = (0.0005f64 / 3.0).powi(2)
            / ((0.0004f64 / 3.0).powi(2) / 2.0 + (0.0001f64 / 3.0).powi(2) / 2.0);
        assert!((dof - dof_hand).abs() < 1e-9 && (dof - 2.941176).abs() < 1e-5);
        // t quantile 0.975 at 2.941 dof = 3.2188 (numerical integration of the t density; tables
        // give 3.182 at 3 dof and 4.303 at 2).
        let t = (hi - diff) / se;
        assert!((t - 3.2188).abs() < 1e-3, "t = {t}");
        assert!((diff - 0.04).abs() < 1e-12 && (lo - (0.04 - t * se)).abs() < 1e-12);
    }

    #[test]
    fn contrasts_compare_each_level_with_the_first_within_the_other_columns() {
        let df = table();
        let stats = group_stats(
            &df,
            &["dbn.init".into(), "dataset.train_size".into()],
            "test_error",
        )
        .unwrap();
        let c = contrasts(&stats, 0.95);
        assert_eq!(c.len(), 1, "only train_size 1000 has both inits");
        assert_eq!(
            (c[0].a.as_str(), c[0].b.as_str(), c[0].within.clone()),
            ("random", "pretrained", vec!["1000".to_string()])
        );
        assert!((c[0].diff - 0.04).abs() < 1e-12);
        assert!(c[0].lo < 0.04 && c[0].hi > 0.04);
    }

    #[test]
    fn unknown_or_ambiguous_columns_are_reported() {
        let df = table();
        assert!(
            resolve_column(&df, "depth")
                .unwrap_err()
                .contains("no column 'depth'")
        );
        assert_eq!(resolve_column(&df, "test_error").unwrap(), "test_error");
    }

    #[test]
    fn group_by_a_short_name_picks_the_param_that_varies_never_a_metric() {
        let with_lr = |id: i64, lr: &str, rbm_lr: &str| {
            let mut r = run(id, "random", "1000", Some(0.1));
            r.params.insert("mlp.lr".into(), lr.into());
            r.params.insert("pretrain.rbm.lr".into(), rbm_lr.into());
            r.metrics.insert("lr".into(), Some(0.001 * id as f64));
            r
        };
        let df = runs_frame(&[with_lr(1, "0.1", "0.05"), with_lr(2, "0.01", "0.05")]).unwrap();
        assert_eq!(resolve_param(&df, "lr").unwrap(), "mlp.lr");
        let df = runs_frame(&[with_lr(1, "0.1", "0.05"), with_lr(2, "0.01", "0.5")]).unwrap();
        let e = resolve_param(&df, "lr").unwrap_err();
        assert!(
            e.contains("ambiguous") && e.contains("mlp.lr") && e.contains("pretrain.rbm.lr"),
            "{e}"
        );
        // Asked for as a column (a metric), the exact name still wins.
        assert_eq!(resolve_column(&df, "lr").unwrap(), "lr");
    }
}
