//! Plain-text tables for `ls` and `show`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use harmonium_store::{RunRow, Store};

/// Metrics shown by `ls` when a run has them.
const KEY_METRICS: [&str; 5] = [
    "best_valid_error",
    "best_test_error",
    "test_utterance_error",
    "test_frame_error_39",
    "test_logprob",
];

/// Whether a metric is a fraction of examples (`test_error`, `best_valid_error`,
/// `test_frame_error_39`, …): every `*_error` and `*_error_*` except the reconstruction error, a
/// squared distance per example.
pub fn is_error_rate(key: &str) -> bool {
    !key.contains("recon_error") && (key.ends_with("_error") || key.contains("_error_"))
}

/// `0.0123` → `1.23%` for error rates, plain otherwise.
pub fn fmt_metric(key: &str, v: Option<f64>) -> String {
    match v {
        None => "NaN".into(),
        Some(v) if is_error_rate(key) => format!("{:.2}%", 100.0 * v),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e9 => format!("{v}"),
        Some(v) => format!("{v:.4}"),
    }
}

pub use harmonium_experiment::terminal::printable;

pub fn print_table(header: &[String], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    out!("{}", line(header));
    for r in rows {
        out!("{}", line(r));
    }
}

/// Parameters whose value differs between runs (the swept ones), without the seed.
pub fn varying_params(runs: &[RunRow]) -> Vec<String> {
    let mut values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in runs {
        for (k, v) in &r.params {
            values.entry(k).or_default().insert(v);
        }
    }
    values
        .into_iter()
        .filter(|(k, v)| v.len() > 1 && *k != "seed")
        .map(|(k, _)| k.to_string())
        .collect()
}

fn duration(r: &RunRow) -> String {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    match (parse(&r.started_at), parse(&r.finished_at)) {
        (Some(a), Some(b)) => format!("{:.1}s", (b - a).num_milliseconds() as f64 / 1000.0),
        (Some(_), None) => "…".into(),
        _ => "".into(),
    }
}

pub async fn ls(store: &Store, experiment: Option<&str>, limit: usize) -> Result<()> {
    let exps = store.experiments().await?;
    let only = match experiment {
        Some(e) => Some(store.experiment_id(e).await?),
        None => None,
    };
    if exps.is_empty() {
        out!(
            "no experiments in {} yet: `harmonium run FILE` starts one",
            store.path.display()
        );
    }
    for e in exps
        .iter()
        .rev()
        .filter(|e| only.is_none_or(|id| id == e.id))
    {
        let counts: Vec<String> = e.counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let best = match (&e.metric, e.best) {
            (Some(m), b) => format!(
                ", best {m} {}",
                b.map(|v| fmt_metric(m, Some(v))).unwrap_or("-".into())
            ),
            _ => String::new(),
        };
        out!(
            "experiment {} '{}': {}{best}",
            e.id,
            e.name,
            counts.join(", ")
        );
        let runs = store.runs(Some(e.id)).await?;
        let params = varying_params(&runs);
        let metrics: Vec<&str> = KEY_METRICS
            .iter()
            .copied()
            .filter(|k| runs.iter().any(|r| r.metrics.contains_key(*k)))
            .collect();
        let mut header: Vec<String> = ["run", "status", "seed"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        header.extend(params.iter().cloned());
        header.extend(metrics.iter().map(|s| s.to_string()));
        header.push("time".into());
        let skip = runs.len().saturating_sub(limit);
        let rows: Vec<Vec<String>> = runs
            .iter()
            .skip(skip)
            .map(|r| {
                let mut row = vec![r.id.to_string(), r.status.clone(), r.seed.to_string()];
                row.extend(
                    params
                        .iter()
                        .map(|p| r.params.get(p).cloned().unwrap_or_default()),
                );
                row.extend(metrics.iter().map(|m| {
                    r.metrics
                        .get(*m)
                        .map(|v| fmt_metric(m, *v))
                        .unwrap_or_default()
                }));
                row.push(duration(r));
                row
            })
            .collect();
        if skip > 0 {
            out!("({skip} older runs not shown; --limit N shows more)");
        }
        print_table(&header, &rows);
        out!();
    }
    Ok(())
}

pub async fn show(store: &Store, run_id: i64, artifacts_dir: &std::path::Path) -> Result<()> {
    let mut d = store.run(run_id).await?;
    for a in &mut d.artifacts {
        a.locate(artifacts_dir);
    }
    let r = &d.run;
    out!(
        "run {} of experiment '{}' (trial {})",
        r.id,
        r.experiment,
        r.trial_index
    );
    out!("status:   {}", r.status);
    if let Some(e) = &r.error {
        out!("error:    {e}");
    }
    out!("seed:     {}", r.seed);
    out!("hash:     {}", r.config_hash);
    out!("commit:   {}", d.git_commit.as_deref().unwrap_or("-"));
    out!("host:     {}", d.host);
    out!("created:  {}", r.created_at);
    out!("started:  {}", r.started_at.as_deref().unwrap_or("-"));
    out!(
        "finished: {} ({})",
        r.finished_at.as_deref().unwrap_or("-"),
        duration(r)
    );
    out!("\nconfig:");
    for line in serde_yaml_like(&d.config, 1) {
        out!("{line}");
    }
    out!("\nfinal metrics:");
    let rows: Vec<Vec<String>> = r
        .metrics
        .iter()
        .map(|(k, v)| vec![format!("  {k}"), fmt_metric(k, *v)])
        .collect();
    print_table(&["  key".into(), "value".into()], &rows);
    if !d.artifacts.is_empty() {
        out!("\nartifacts:");
        for a in &d.artifacts {
            out!(
                "  {:<12} {}{}",
                a.kind,
                a.file.as_deref().unwrap_or(&a.path),
                a.step.map(|s| format!(" (step {s})")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Indented `key: value` lines of a JSON value.
fn serde_yaml_like(v: &serde_json::Value, depth: usize) -> Vec<String> {
    let pad = "  ".repeat(depth);
    let mut out = Vec::new();
    if let serde_json::Value::Object(map) = v {
        for (k, v) in map {
            match v {
                serde_json::Value::Object(_) => {
                    out.push(format!("{pad}{k}:"));
                    out.extend(serde_yaml_like(v, depth + 1));
                }
                other => out.push(format!("{pad}{k}: {other}")),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rates_are_percentages_and_the_reconstruction_error_is_not() {
        assert_eq!(fmt_metric("best_test_error", Some(0.0123)), "1.23%");
        assert_eq!(fmt_metric("test_frame_error_39", Some(0.5)), "50.00%");
        assert_eq!(fmt_metric("recon_error", Some(7.3817)), "7.3817");
        assert_eq!(fmt_metric("layer2/recon_error", Some(7.0)), "7");
        assert_eq!(
            fmt_metric("layer2/recon_error_valid", Some(10.0205)),
            "10.0205"
        );
        assert_eq!(fmt_metric("epochs", Some(20.0)), "20");
        assert_eq!(fmt_metric("test_logprob", None), "NaN");
    }
}
