//! `harmonium compare` and `harmonium export`: the analysis tables on the command line.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use harmonium_store::aggregate::{Applies, paired};
use harmonium_store::{Contrast, GroupQuery, RunFilter, Store};
use polars::prelude::*;

use crate::frames::runs_frame;
use crate::table::fmt_metric;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

/// Prints the group statistics of a final metric and the contrasts between the levels of the
/// first `--group-by` param — Welch's interval, and under it the paired one (by seed, and by
/// the sweep's parameters the groups pool over) with its sign-flip p-value, the one that applies marked (or, with `json`, the store's comparison as
/// JSON: the same object the dashboard's groups endpoint answers with). After the group table,
/// the experiment's published figures of the metric beside the groups (`references` in JSON).
pub async fn compare(
    store: &Store,
    experiment: &str,
    group_by: &[String],
    metric: Option<&str>,
    level: f64,
    json: bool,
) -> Result<()> {
    if !(0.0 < level && level < 1.0) {
        bail!("--level must be between 0 and 1, got {level}");
    }
    let exp_id = store.experiment_id(experiment).await?;
    let exp = store
        .experiment(exp_id)
        .await?
        .context("experiment vanished")?;
    let total: i64 = exp.counts.values().sum();
    if total == 0 {
        bail!("experiment '{}' has no runs yet", exp.name);
    }
    let metric = match metric.map(str::to_string).or(exp.metric.clone()) {
        Some(m) => store.resolve_metric(exp_id, &m).await?,
        None => store.resolve_metric(exp_id, "best_test_error").await?,
    };
    let by = store.resolve_params(exp_id, group_by).await?;
    let q = GroupQuery {
        experiment_id: exp_id,
        by: by.clone(),
        metric: metric.clone(),
        filter: RunFilter::default(),
    };
    let c = store.compare(&q, level).await?;
    let references = crate::references::checks(store, exp_id, &c).await;
    if json {
        let with = crate::references::WithReferences {
            comparison: &c,
            references: &references,
        };
        out!("{}", serde_json::to_string_pretty(&with)?);
        return Ok(());
    }
    let finished = exp.counts.get("finished").copied().unwrap_or(0);
    out!(
        "{} — {metric} over {finished} finished runs (of {total}), by {}",
        exp.name,
        by.join(" × ")
    );
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| fmt_metric(&metric, Some(v)));
    let label = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut header: Vec<String> = by.clone();
    header.extend(["n", "mean", "± std", "min", "max"].map(String::from));
    let rows: Vec<Vec<String>> = c
        .groups
        .iter()
        .filter(|g| g.stat.n > 0)
        .map(|g| {
            let mut r: Vec<String> = g.group.iter().map(label).collect();
            let s = &g.stat;
            r.extend([s.n.to_string(), f(s.mean), f(s.std), f(s.min), f(s.max)]);
            r
        })
        .collect();
    crate::table::print_table(&header, &rows);
    for line in crate::references::lines(&metric, &by, &references) {
        out!("{line}");
    }
    if !c.contrasts.is_empty() {
        let pairs = std::iter::once("seed")
            .chain(c.paired_on.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" × ");
        out!(
            "\ndifference in {metric} between {} levels ({:.0}% Welch confidence interval; \
             under it, paired by {pairs}):",
            by[0],
            100.0 * level
        );
        let mut header = vec!["difference".to_string()];
        header.extend(by[1..].iter().cloned());
        header.extend(["a − b", "interval", ""].map(String::from));
        let mut rows: Vec<Vec<String>> = vec![header];
        rows.extend(c.contrasts.iter().map(|c| {
            let mut r = vec![format!("{} − {}", label(&c.a), label(&c.b))];
            r.extend(c.within.iter().map(label));
            r.push(signed(&metric, c.diff));
            r.push(match (c.lo, c.hi) {
                (Some(lo), Some(hi)) => {
                    format!("[{}, {}]", signed(&metric, lo), signed(&metric, hi))
                }
                _ => "needs ≥ 2 runs per group".into(),
            });
            r.push(applies(c.applies == Applies::Welch).into());
            r
        }));
        let lines = aligned(&rows);
        let pooled = !c.paired_on.is_empty();
        out!("{}", lines[0]);
        for (line, c) in lines[1..].iter().zip(&c.contrasts) {
            out!("{line}");
            out!("{}", paired_line(&metric, c, pooled));
        }
    }
    Ok(())
}

fn applies(yes: bool) -> &'static str {
    if yes { "← applies" } else { "" }
}

/// The paired statistics of a contrast on one line: pairs, mean difference, paired t
/// interval, sign-flip p-value, and whether it applies (or why Welch's does). A pair is a seed,
/// or (`pooled`) a seed and values of the sweep's pooled parameters.
fn paired_line(metric: &str, c: &Contrast, pooled: bool) -> String {
    let tail = match c.why_welch {
        Some(w) => format!("(Welch: {w})"),
        None => applies(true).into(),
    };
    let Some(p) = &c.paired else {
        return format!("  paired: no pairs  {tail}");
    };
    let seeds = match (c.applies, pooled) {
        (Applies::Paired, false) => "seed",
        (Applies::Welch, false) => "shared seed",
        (Applies::Paired, true) => "pair",
        (Applies::Welch, true) => "shared pair",
    };
    let plural = if p.n == 1 { "" } else { "s" };
    let interval = match (p.lo, p.hi) {
        (Some(lo), Some(hi)) => format!(" [{}, {}]", signed(metric, lo), signed(metric, hi)),
        _ => " (no interval below 2 pairs)".into(),
    };
    let p_value = if p.p_exact {
        format!("sign-flip p = {}", fmt_p(p.p))
    } else {
        format!(
            "sign-flip p ≈ {} (Monte Carlo, {} flips)",
            fmt_p(p.p),
            paired::FLIPS
        )
    };
    format!(
        "  paired (n={} {seeds}{plural}): Δ = {}{interval}, {p_value}  {tail}",
        p.n,
        signed(metric, p.diff)
    )
}

/// A p-value with 4 decimals, trailing zeros dropped (`0.25`), or 3 digits below 0.001.
pub(crate) fn fmt_p(p: f64) -> String {
    if p < 1e-3 {
        return format!("{p:.2e}");
    }
    let s = format!("{p:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Rows of cells as lines, each column as wide as its widest cell (as `table::print_table`).
pub(crate) fn aligned(rows: &[Vec<String>]) -> Vec<String> {
    let mut w: Vec<usize> = Vec::new();
    for r in rows {
        w.resize(w.len().max(r.len()), 0);
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<width$}", width = w[i]))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

pub(crate) fn signed(metric: &str, v: f64) -> String {
    let s = fmt_metric(metric, Some(v));
    if v >= 0.0 { format!("+{s}") } else { s }
}

pub async fn export(
    store: &Store,
    experiment: &str,
    format: Format,
    curves: bool,
    output: Option<PathBuf>,
) -> Result<PathBuf> {
    let exp_id = store.experiment_id(experiment).await?;
    let mut df = if curves {
        let pts = store.experiment_curves(exp_id).await?;
        DataFrame::new_infer_height(vec![
            Column::new(
                "run_id".into(),
                pts.iter().map(|p| p.run_id).collect::<Vec<_>>(),
            ),
            Column::new(
                "key".into(),
                pts.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "step".into(),
                pts.iter().map(|p| p.step).collect::<Vec<_>>(),
            ),
            Column::new(
                "value".into(),
                pts.iter().map(|p| p.value).collect::<Vec<_>>(),
            ),
            Column::new(
                "wall_time".into(),
                pts.iter().map(|p| p.wall_time).collect::<Vec<_>>(),
            ),
        ])?
    } else {
        runs_frame(&store.runs(Some(exp_id)).await?)?
    };
    let ext = match format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
    };
    let path = output.unwrap_or_else(|| {
        let safe: String = experiment
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        PathBuf::from(format!(
            "{safe}{}.{ext}",
            if curves { "-curves" } else { "" }
        ))
    });
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    match format {
        Format::Csv => CsvWriter::new(file).finish(&mut df)?,
        Format::Parquet => {
            ParquetWriter::new(file).finish(&mut df)?;
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use harmonium_store::aggregate::{Paired, Unpaired};

    use super::*;

    fn contrast(paired: Option<Paired>, why_welch: Option<Unpaired>) -> Contrast {
        Contrast {
            within: vec![],
            a: Some("random".into()),
            b: Some("pretrained".into()),
            diff: 0.04,
            lo: Some(-0.007),
            hi: Some(0.087),
            dof: Some(2.9),
            applies: Applies::unless(why_welch),
            paired,
            why_welch,
        }
    }

    #[test]
    fn the_paired_line_says_which_interval_applies_and_why() {
        let p = Paired {
            n: 3,
            diff: 0.04,
            std: Some(0.026),
            lo: Some(-0.0257),
            hi: Some(0.1057),
            p: 0.25,
            p_exact: true,
        };
        assert_eq!(
            paired_line("test_error", &contrast(Some(p.clone()), None), false),
            "  paired (n=3 seeds): Δ = +4.00% [-2.57%, +10.57%], sign-flip p = 0.25  ← applies"
        );
        // Pairs of a seed and a held-out speaker (a pooled sweep parameter).
        assert_eq!(
            paired_line("test_error", &contrast(Some(p.clone()), None), true),
            "  paired (n=3 pairs): Δ = +4.00% [-2.57%, +10.57%], sign-flip p = 0.25  ← applies"
        );
        let many = Paired {
            n: 2,
            lo: None,
            hi: None,
            p: 0.3608764,
            p_exact: false,
            ..p
        };
        assert_eq!(
            paired_line(
                "test_error",
                &contrast(Some(many), Some(Unpaired::SeedsDiffer)),
                false
            ),
            "  paired (n=2 shared seeds): Δ = +4.00% (no interval below 2 pairs), \
             sign-flip p ≈ 0.3609 (Monte Carlo, 100000 flips)  (Welch: seeds differ)"
        );
        assert_eq!(
            paired_line(
                "test_error",
                &contrast(None, Some(Unpaired::SeveralRunsPerSeed)),
                false
            ),
            "  paired: no pairs  (Welch: several runs per seed)"
        );
        assert_eq!(
            (fmt_p(1.0), fmt_p(0.625), fmt_p(1.0 / 100_001.0)),
            ("1".into(), "0.625".into(), "1.00e-5".into())
        );
    }
}
