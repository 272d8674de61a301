//! `harmonium report EXPERIMENT`: one self-contained HTML file to send to a colleague — the
//! experiment's description and file, its runs by status, the comparison table with the Welch
//! and paired intervals and the published figures (the store's one aggregation, as `compare`
//! prints it), each group's learning curve (mean ± std) as inline SVG, and the pictures of the
//! best run of each group embedded as data URIs. Nothing on the page is fetched: styles and the
//! one small script are inline, and the numbers behind the tables are embedded as JSON.
//!
//! This file gathers what the page shows ([`Report`]), `best` picks each group's best run and
//! its pictures; `page` writes the HTML (`tables` its tables) and `svg` draws the chart.

mod best;
mod page;
mod svg;
mod tables;

pub use best::Best;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use harmonium_store::aggregate::Comparison;
use harmonium_store::references::{self, ReferenceCheck};
use harmonium_store::{GroupCurve, GroupQuery, MetricKey, RunFilter, Store};

/// Confidence level of the intervals (as `compare` by default).
pub const LEVEL: f64 = 0.95;
/// Most points of one group's curve; longer curves keep every k-th step and the last.
pub const MAX_CURVE_POINTS: usize = 1000;

/// Whether the best run has the lowest or the highest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Goal {
    Minimize,
    Maximize,
}

/// What `harmonium report` was asked for.
pub struct Options {
    pub experiment: String,
    pub output: Option<PathBuf>,
    /// Params to group by (default: the swept ones, without the seed).
    pub group_by: Vec<String>,
    /// Final metric (default: the sweep's, else `best_test_error`).
    pub metric: Option<String>,
    /// Which run of a group is the best (default: the sweep's goal for its metric).
    pub goal: Option<Goal>,
    pub artifacts_dir: PathBuf,
}

/// Everything the page shows.
pub struct Report {
    pub name: String,
    pub description: String,
    /// The experiment file as last run.
    pub yaml: String,
    /// Runs by status.
    pub counts: BTreeMap<String, i64>,
    /// When and by which version the report was written.
    pub generated: String,
    pub comparison: Comparison,
    /// The published figures of the comparison's metric, beside its groups.
    pub references: Vec<ReferenceCheck>,
    /// Why the stored experiment file's figures could not be read, when they could not.
    pub reference_error: Option<String>,
    pub goal: Goal,
    /// How the goal was chosen, for the page.
    pub goal_from: &'static str,
    pub curves: Curves,
    /// The best run of each group with its pictures, in the groups' order.
    pub best: Vec<Best>,
    /// What was not embedded, and why.
    pub left_out: Vec<String>,
}

/// The learning curves of the per-epoch metric that goes with the summary metric.
pub struct Curves {
    pub metric: Option<String>,
    pub groups: Vec<GroupCurve>,
    /// The published figures drawn on the chart.
    pub references: Vec<ReferenceCheck>,
    /// Why there are none, when there are none.
    pub note: Option<String>,
}

/// Writes the report and returns its path.
pub async fn report(store: &Store, o: &Options) -> Result<PathBuf> {
    let r = gather(store, o).await?;
    let html = page::render(&r);
    let path = o
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.html", file_stem(&r.name))));
    std::fs::write(&path, html).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A name as a file name: letters, digits, `-` and `_` kept, anything else `_`.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn gather(store: &Store, o: &Options) -> Result<Report> {
    let exp_id = store.experiment_id(&o.experiment).await?;
    let exp = store
        .experiment(exp_id)
        .await?
        .context("experiment vanished")?;
    let total: i64 = exp.counts.values().sum();
    let finished = exp.counts.get("finished").copied().unwrap_or(0);
    if finished == 0 {
        bail!(
            "experiment '{}' has no finished runs yet ({total} runs{}): a report compares \
             finished runs; run the experiment first (`harmonium run FILE`)",
            exp.name,
            if total == 0 {
                String::new()
            } else {
                format!(
                    ": {}",
                    exp.counts
                        .iter()
                        .map(|(s, n)| format!("{n} {s}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    let metric = match o.metric.clone().or(exp.metric.clone()) {
        Some(m) => store.resolve_metric(exp_id, &m).await?,
        None => store.resolve_metric(exp_id, "best_test_error").await?,
    };
    let names = if o.group_by.is_empty() {
        store
            .swept_params(exp_id)
            .await?
            .into_iter()
            .map(|p| p.key)
            .filter(|k| k != "seed")
            .collect()
    } else {
        o.group_by.clone()
    };
    let by = store.resolve_params(exp_id, &names).await?;
    let q = GroupQuery {
        experiment_id: exp_id,
        by: by.clone(),
        metric: metric.clone(),
        filter: RunFilter::default(),
    };
    let comparison = store.compare(&q, LEVEL).await?;
    let (refs, reference_error) = match store.references(exp_id).await {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let references = references::for_comparison(&refs, &comparison);
    let sweep_metric = match &exp.metric {
        Some(m) => store.resolve_metric(exp_id, m).await.ok(),
        None => None,
    };
    let (goal, goal_from) = match o.goal {
        Some(g) => (g, "--goal"),
        None if sweep_metric.as_ref() == Some(&metric) => {
            let g = if exp.goal.as_deref() == Some("maximize") {
                Goal::Maximize
            } else {
                Goal::Minimize
            };
            (g, "the sweep's goal")
        }
        None => (
            goal_of_name(&metric),
            "the metric's name (--goal to choose)",
        ),
    };
    let curves = curves(store, exp_id, &metric, &by, &refs).await?;
    let yaml = store.experiment_yaml(exp_id).await?.unwrap_or_default();
    let mut best = Vec::new();
    let (mut budget, mut left_out) = (best::PICTURE_BUDGET, Vec::new());
    for g in comparison.groups.iter().filter(|g| g.stat.n > 0) {
        let b = best::best_of(store, exp_id, &by, &g.group, &metric, goal).await?;
        best.push(b);
    }
    for b in &mut best {
        if let Some(run) = &b.run {
            b.pictures =
                best::pictures(store, run.id, &o.artifacts_dir, &mut budget, &mut left_out).await?;
        }
    }
    Ok(Report {
        name: exp.name,
        description: exp.description,
        yaml,
        counts: exp.counts,
        generated: format!(
            "{} by harmonium {}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            env!("CARGO_PKG_VERSION")
        ),
        comparison,
        references,
        reference_error,
        goal,
        goal_from,
        curves,
        best,
        left_out,
    })
}

/// A goal guessed from a metric's name: log-likelihoods, log-probabilities, bounds on them and
/// accuracies are better high; errors, losses and anything else low.
pub fn goal_of_name(metric: &str) -> Goal {
    let m = metric.to_ascii_lowercase();
    if ["loglik", "logprob", "bound", "accuracy"]
        .iter()
        .any(|w| m.contains(w))
    {
        Goal::Maximize
    } else {
        Goal::Minimize
    }
}

/// The per-epoch metric that goes with a final metric, as the dashboard pairs them: the metric
/// itself when it has a curve, else the one it summarises (`best_valid_error` → `valid_error`,
/// also below a prefix such as `layer1/`). Only metrics with more than one point have a curve.
pub fn curve_metric(metric: &str, keys: &[MetricKey]) -> Option<String> {
    let has = |k: &str| keys.iter().any(|m| m.key == k && m.points > 1);
    if has(metric) {
        return Some(metric.to_string());
    }
    let (head, tail) = match metric.rsplit_once('/') {
        Some((h, t)) => (format!("{h}/"), t),
        None => (String::new(), metric),
    };
    let base = format!("{head}{}", references::summarised(tail)?);
    has(&base).then_some(base)
}

async fn curves(
    store: &Store,
    exp_id: i64,
    metric: &str,
    by: &[String],
    refs: &[references::Reference],
) -> Result<Curves> {
    let keys = store.metric_keys(exp_id).await?;
    let Some(cm) = curve_metric(metric, &keys) else {
        return Ok(Curves {
            metric: None,
            groups: Vec::new(),
            references: Vec::new(),
            note: Some(format!(
                "no per-epoch metric goes with {metric} (neither it nor the metric it \
                 summarises was recorded at more than one step)"
            )),
        });
    };
    let q = GroupQuery {
        experiment_id: exp_id,
        by: by.to_vec(),
        metric: cm.clone(),
        filter: RunFilter {
            statuses: vec!["finished".into()],
            params: Vec::new(),
        },
    };
    let mut groups = store.group_curves(&q).await?;
    for g in &mut groups {
        thin(g, MAX_CURVE_POINTS);
    }
    let references = references::for_curves(refs, &cm, by, &groups);
    Ok(Curves {
        metric: Some(cm),
        groups,
        references,
        note: None,
    })
}

/// Keeps at most `max` points of a curve: every k-th step, and the last.
pub fn thin(c: &mut GroupCurve, max: usize) {
    let n = c.steps.len();
    if n <= max || max < 2 {
        return;
    }
    let k = n.div_ceil(max - 1);
    let keep: Vec<usize> = (0..n).filter(|i| i % k == 0 || *i == n - 1).collect();
    c.steps = keep.iter().map(|&i| c.steps[i]).collect();
    c.stats = keep.iter().map(|&i| c.stats[i].clone()).collect();
}

#[cfg(test)]
mod tests {
    use harmonium_store::Stat;

    use super::*;

    fn key(key: &str, points: i64) -> MetricKey {
        MetricKey {
            key: key.into(),
            max_step: points,
            points,
        }
    }

    #[test]
    fn the_curve_of_a_summary_metric_is_the_metric_it_summarises() {
        let keys = [
            key("valid_error", 10),
            key("best_valid_error", 1),
            key("test_recon_error", 5),
            key("layer1/recon_error", 5),
            key("test_logprob", 1),
        ];
        assert_eq!(
            curve_metric("best_valid_error", &keys).as_deref(),
            Some("valid_error")
        );
        assert_eq!(
            curve_metric("test_recon_error", &keys).as_deref(),
            Some("test_recon_error")
        );
        assert_eq!(
            curve_metric("layer1/final_recon_error", &keys).as_deref(),
            Some("layer1/recon_error")
        );
        assert_eq!(
            curve_metric("test_logprob", &keys),
            None,
            "one point is no curve"
        );
        assert_eq!(curve_metric("best_test_error", &keys), None);
        assert_eq!(goal_of_name("test_mf_bound"), Goal::Maximize);
        assert_eq!(goal_of_name("rbm/test_exact_loglik"), Goal::Maximize);
        assert_eq!(goal_of_name("best_test_error"), Goal::Minimize);
        assert_eq!(file_stem("a b/c-d_é"), "a_b_c-d_é");
    }

    #[test]
    fn a_long_curve_keeps_every_kth_step_and_the_last() {
        let stat = |v: f64| Stat {
            n: 1,
            mean: Some(v),
            std: None,
            min: Some(v),
            max: Some(v),
        };
        let mut c = GroupCurve {
            group: vec![],
            steps: (1..=10).collect(),
            stats: (1..=10).map(|s| stat(s as f64)).collect(),
        };
        thin(&mut c, 4);
        // 10 points into at most 4: every ⌈10 / 3⌉ = 4th (steps 1, 5, 9) and the last.
        assert_eq!(c.steps, [1, 5, 9, 10]);
        assert_eq!(c.stats[3].mean, Some(10.0));
        let before = c.steps.clone();
        thin(&mut c, 4);
        assert_eq!(c.steps, before, "short enough already");
    }
}
