//! Group aggregation: runs grouped by one or more parameters, a metric's mean ± std and n per
//! group, at every step (curves) and for the latest value (final), with the experiment's
//! published figures (`reference:`) beside the final groups and on the curves.

use axum::Json;
use axum::extract::State;
use harmonium_store::references::{self, ReferenceCheck};
use harmonium_store::{Contrast, GroupCurve, GroupFinal, GroupQuery, Stat};
use serde::Serialize;

use crate::api::{find_experiment, list, parse_filter};
use crate::downsample::min_max_downsample;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::routes::AppState;

/// Most parameters to group by at once.
pub const MAX_BY: usize = 4;

#[derive(Serialize)]
pub struct Groups {
    /// The params grouped by, resolved to their full keys.
    by: Vec<String>,
    /// The metric of the curves.
    metric: String,
    /// The metric of the final aggregates (`final_metric`, else `metric`).
    final_metric: String,
    /// Latest value per run, aggregated per group (finished runs unless `status` says otherwise).
    #[serde(rename = "final")]
    final_: Vec<GroupFinal>,
    /// Each level of the first `by` param against its first level, within the others, with a
    /// Welch interval at `level` and, where runs share seeds, the paired statistics (paired t
    /// interval, sign-flip p-value) and which interval applies (what `harmonium compare`
    /// prints).
    contrasts: Vec<Contrast>,
    level: f64,
    /// Per-step aggregates per group (all runs passing the filter); empty unless `curves=1`.
    curves: Vec<GroupCurve>,
    /// The published figures of the final metric beside its groups (what `harmonium compare`
    /// prints under the group table).
    references: Vec<ReferenceCheck>,
    /// The published figures that belong on the curves of `metric` (theirs, or of a summary of
    /// it such as `best_valid_error` for `valid_error`); empty unless `curves=1`.
    curve_references: Vec<ReferenceCheck>,
    /// Why the experiment file's figures could not be read, when they could not.
    reference_error: Option<String>,
}

pub async fn groups(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Groups>> {
    let experiment = find_experiment(&app, &id).await?;
    let (filter, rest) = parse_filter(&pairs);
    let (mut by, mut metric, mut curves, mut final_metric, mut max_points, mut level) =
        (Vec::new(), None, false, None, 500, 0.95);
    for (k, v) in rest {
        match k.as_str() {
            "by" => by = list(&v),
            "metric" => metric = Some(v),
            "final_metric" => final_metric = Some(v),
            "curves" => curves = matches!(v.as_str(), "1" | "true"),
            "max_points" => {
                max_points = v.parse().map_err(|_| {
                    ApiError::BadRequest(format!("max_points must be a number, not '{v}'"))
                })?
            }
            "level" => {
                level = v
                    .parse()
                    .ok()
                    .filter(|l: &f64| 0.0 < *l && *l < 1.0)
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!("level must be between 0 and 1, not '{v}'"))
                    })?
            }
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter '{k}'"
                )));
            }
        }
    }
    if by.len() > MAX_BY {
        return Err(ApiError::BadRequest(format!(
            "group by at most {MAX_BY} parameters"
        )));
    }
    let by = app
        .store
        .resolve_params(experiment.id, &by)
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let metric = metric
        .or(experiment.metric.clone())
        .ok_or_else(|| ApiError::BadRequest("say which metric to aggregate: metric=KEY".into()))?;
    // A short metric name resolves as in `harmonium compare`; a name no run has recorded (yet)
    // aggregates to nothing.
    let resolve = |m: String| async {
        app.store
            .resolve_metric(experiment.id, &m)
            .await
            .unwrap_or(m)
    };
    let metric = resolve(metric).await;
    let final_metric = match final_metric {
        Some(m) => resolve(m).await,
        None => metric.clone(),
    };
    let q = GroupQuery {
        experiment_id: experiment.id,
        by: by.clone(),
        metric: metric.clone(),
        filter,
    };
    let final_q = GroupQuery {
        metric: final_metric.clone(),
        ..q.clone()
    };
    // The curves, the final aggregates and the published figures at once.
    let (curves, comparison, refs) = tokio::join!(
        async {
            if !curves {
                return Ok(Vec::new());
            }
            let mut c = app.store.group_curves(&q).await?;
            for g in &mut c {
                downsample_curve(g, max_points);
            }
            Ok::<_, ApiError>(c)
        },
        app.store.compare(&final_q, level),
        app.store.references(experiment.id),
    );
    let (curves, comparison) = (curves?, comparison?);
    let (refs, reference_error) = match refs {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let curve_references = references::for_curves(&refs, &metric, &by, &curves);
    Ok(Json(Groups {
        references: references::for_comparison(&refs, &comparison),
        curve_references,
        reference_error,
        by,
        metric,
        final_metric,
        final_: comparison.groups,
        contrasts: comparison.contrasts,
        level,
        curves,
    }))
}

/// Keeps the steps where the mean is smallest and largest in each bucket.
fn downsample_curve(c: &mut GroupCurve, max_points: usize) {
    let means: Vec<Option<f64>> = c.stats.iter().map(|s| s.mean).collect();
    let keep = min_max_downsample(&means, max_points);
    if keep.len() < c.steps.len() {
        c.steps = keep.iter().map(|&i| c.steps[i]).collect();
        let stats: Vec<Stat> = keep.iter().map(|&i| c.stats[i].clone()).collect();
        c.stats = stats;
    }
}
