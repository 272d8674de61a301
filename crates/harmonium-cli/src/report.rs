//! `harmonium compare` and `harmonium export`: the analysis tables on the command line.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use harmonium_store::{GroupQuery, RunFilter, Store};
use polars::prelude::*;

use crate::frames::runs_frame;
use crate::table::fmt_metric;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

/// Prints the group statistics of a final metric and the contrasts between the levels of the
/// first `--group-by` param (or, with `json`, the store's comparison as JSON: the same object
/// the dashboard's groups endpoint answers with).
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
    if json {
        out!("{}", serde_json::to_string_pretty(&c)?);
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
    if !c.contrasts.is_empty() {
        out!(
            "\ndifference in {metric} between {} levels ({:.0}% Welch confidence interval):",
            by[0],
            100.0 * level
        );
        let mut header = vec!["difference".to_string()];
        header.extend(by[1..].iter().cloned());
        header.extend(["a − b", "interval"].map(String::from));
        let rows: Vec<Vec<String>> = c
            .contrasts
            .iter()
            .map(|c| {
                let mut r = vec![format!("{} − {}", label(&c.a), label(&c.b))];
                r.extend(c.within.iter().map(label));
                r.push(signed(&metric, c.diff));
                r.push(match (c.lo, c.hi) {
                    (Some(lo), Some(hi)) => {
                        format!("[{}, {}]", signed(&metric, lo), signed(&metric, hi))
                    }
                    _ => "needs ≥ 2 runs per group".into(),
                });
                r
            })
            .collect();
        crate::table::print_table(&header, &rows);
    }
    Ok(())
}

fn signed(metric: &str, v: f64) -> String {
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
