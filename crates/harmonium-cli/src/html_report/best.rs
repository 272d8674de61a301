//! The best run of each group and its pictures: the finished run with the lowest (or highest)
//! value of the metric, and the last PNG of each kind it drew, read from the artifacts folder
//! while the report's budget lasts; whatever is not embedded is said, with why.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use harmonium_store::{ArtifactRow, RunFilter, RunQuery, SortKey, Store};

use super::Goal;

/// Most bytes of pictures embedded in one report, and in one picture.
pub const PICTURE_BUDGET: usize = 8 << 20;
pub const MAX_PICTURE: usize = 2 << 20;

/// The best run of one group.
pub struct Best {
    pub group: Vec<Option<String>>,
    pub run: Option<BestRun>,
    pub pictures: Vec<Picture>,
    /// Why no run or no picture is shown.
    pub note: Option<String>,
}

pub struct BestRun {
    pub id: i64,
    pub seed: i64,
    pub value: f64,
}

/// One embedded picture: the last of its kind in its run.
pub struct Picture {
    pub kind: String,
    pub step: Option<i64>,
    pub png: Vec<u8>,
}

/// The finished run of a group with the best value of `metric`.
pub async fn best_of(
    store: &Store,
    exp_id: i64,
    by: &[String],
    group: &[Option<String>],
    metric: &str,
    goal: Goal,
) -> Result<Best> {
    let mut best = Best {
        group: group.to_vec(),
        run: None,
        pictures: Vec::new(),
        note: None,
    };
    let mut params = Vec::new();
    for (k, v) in by.iter().zip(group) {
        match v {
            Some(v) => params.push((k.clone(), vec![v.clone()])),
            None => {
                best.note = Some(format!("its runs have no {k}, so no run is picked"));
                return Ok(best);
            }
        }
    }
    let page = store
        .runs_page(&RunQuery {
            experiment_id: exp_id,
            filter: RunFilter {
                statuses: vec!["finished".into()],
                params,
            },
            sort: SortKey::Metric(metric.to_string()),
            descending: goal == Goal::Maximize,
            limit: 1,
            offset: 0,
            param_keys: Some(Vec::new()),
        })
        .await?;
    match page.runs.first() {
        Some(r) => match r.metrics.get(metric).copied().flatten() {
            Some(value) => {
                best.run = Some(BestRun {
                    id: r.id,
                    seed: r.seed,
                    value,
                })
            }
            None => best.note = Some(format!("no finished run has a value of {metric}")),
        },
        None => best.note = Some("no finished run".into()),
    }
    Ok(best)
}

/// The last PNG picture of each kind of a run, read from the artifacts folder while the budget
/// lasts; what is not embedded is said in `left_out`.
pub async fn pictures(
    store: &Store,
    run_id: i64,
    artifacts_dir: &Path,
    budget: &mut usize,
    left_out: &mut Vec<String>,
) -> Result<Vec<Picture>> {
    let pngs: Vec<ArtifactRow> = store
        .artifacts(run_id)
        .await?
        .into_iter()
        .filter(|a| a.path.to_ascii_lowercase().ends_with(".png"))
        .collect();
    let mut last: BTreeMap<&str, &ArtifactRow> = BTreeMap::new();
    for a in &pngs {
        last.insert(&a.kind, a);
    }
    let earlier = pngs.len() - last.len();
    if earlier > 0 {
        left_out.push(format!(
            "run {run_id}: {earlier} earlier picture{} (only the last of each kind is embedded)",
            if earlier == 1 { "" } else { "s" }
        ));
    }
    let mut out = Vec::new();
    for (kind, a) in last {
        let what = format!(
            "run {run_id}: `{kind}`{}",
            a.step.map(|s| format!(" (step {s})")).unwrap_or_default()
        );
        let file = artifacts_dir.join(&a.path);
        let png = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                left_out.push(format!("{what}: cannot read {}: {e}", file.display()));
                continue;
            }
        };
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            left_out.push(format!("{what}: {} is not a PNG file", file.display()));
        } else if png.len() > MAX_PICTURE {
            left_out.push(format!(
                "{what}: {}, more than the {} one picture may take",
                megabytes(png.len()),
                megabytes(MAX_PICTURE)
            ));
        } else if png.len() > *budget {
            left_out.push(format!(
                "{what}: {}, past the {} of pictures one report embeds",
                megabytes(png.len()),
                megabytes(PICTURE_BUDGET)
            ));
        } else {
            *budget -= png.len();
            out.push(Picture {
                kind: kind.to_string(),
                step: a.step,
                png,
            });
        }
    }
    Ok(out)
}

fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
}
