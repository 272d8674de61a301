//! `harmonium compare` and `harmonium export`: the analysis tables on the command line.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use harmonium_store::Store;
use polars::prelude::*;

use crate::analysis::{contrasts, group_stats, resolve_column, resolve_param, runs_frame};
use crate::table::fmt_metric;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

pub async fn compare(
    store: &Store,
    experiment: &str,
    group_by: &[String],
    metric: Option<&str>,
    level: f64,
) -> Result<()> {
    if !(0.0 < level && level < 1.0) {
        bail!("--level must be between 0 and 1, got {level}");
    }
    let exp_id = store.experiment_id(experiment).await?;
    let exp = store
        .experiments()
        .await?
        .into_iter()
        .find(|e| e.id == exp_id)
        .context("experiment vanished")?;
    let runs = store.runs(Some(exp_id)).await?;
    if runs.is_empty() {
        bail!("experiment '{}' has no runs yet", exp.name);
    }
    let df = runs_frame(&runs)?;
    let metric = match metric {
        Some(m) => resolve_column(&df, m).map_err(anyhow::Error::msg)?,
        None => exp
            .metric
            .clone()
            .unwrap_or_else(|| "best_test_error".into()),
    };
    if df.column(&metric).is_err() {
        bail!("no run of '{}' has the metric '{metric}'", exp.name);
    }
    let cols: Vec<String> = group_by
        .iter()
        .map(|g| resolve_param(&df, g))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let stats = group_stats(&df, &cols, &metric)?;
    let finished = runs.iter().filter(|r| r.status == "finished").count();
    println!(
        "{} — {metric} over {finished} finished runs (of {}), by {}",
        exp.name,
        runs.len(),
        cols.join(" × ")
    );
    let mut header: Vec<String> = cols.clone();
    header.extend(["n", "mean", "± std", "min", "max"].map(String::from));
    let f = |v: f64| {
        if v.is_nan() {
            "-".to_string()
        } else {
            fmt_metric(&metric, Some(v))
        }
    };
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|s| {
            let mut r = s.key.clone();
            r.extend([s.n.to_string(), f(s.mean), f(s.std), f(s.min), f(s.max)]);
            r
        })
        .collect();
    crate::table::print_table(&header, &rows);
    let cs = contrasts(&stats, level);
    if !cs.is_empty() {
        println!(
            "\ndifference in {metric} between {} levels ({:.0}% Welch confidence interval):",
            cols[0],
            100.0 * level
        );
        let mut header = vec!["difference".to_string()];
        header.extend(cols[1..].iter().cloned());
        header.extend(["a − b", "interval"].map(String::from));
        let rows: Vec<Vec<String>> = cs
            .iter()
            .map(|c| {
                let mut r = vec![format!("{} − {}", c.a, c.b)];
                r.extend(c.within.iter().cloned());
                r.push(signed(&metric, c.diff));
                r.push(if c.lo.is_nan() {
                    "needs ≥ 2 runs per group".into()
                } else {
                    format!("[{}, {}]", signed(&metric, c.lo), signed(&metric, c.hi))
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
