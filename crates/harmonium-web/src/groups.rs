//! Group aggregation: runs grouped by one or more parameters, a metric's mean ± std and n per
//! group, at every step (curves) and for the latest value (final).

use axum::Json;
use axum::extract::{Path, Query, State};
use harmonium_store::query::{GroupCurve, GroupFinal, GroupQuery, Stat};
use serde::Serialize;

use crate::api::{find_experiment, list, parse_filter};
use crate::downsample::min_max_downsample;
use crate::error::{ApiError, ApiResult};
use crate::routes::AppState;

/// Most parameters to group by at once.
pub const MAX_BY: usize = 4;

#[derive(Serialize)]
pub struct Groups {
    by: Vec<String>,
    /// The metric of the curves.
    metric: String,
    /// The metric of the final aggregates (`final_metric`, else `metric`).
    final_metric: String,
    /// Latest value per run, aggregated per group (finished runs unless `status` says otherwise).
    #[serde(rename = "final")]
    final_: Vec<GroupFinal>,
    /// Per-step aggregates per group (all runs passing the filter); empty unless `curves=1`.
    curves: Vec<GroupCurve>,
}

pub async fn groups(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Groups>> {
    let experiment = find_experiment(&app, &id).await?;
    let (filter, rest) = parse_filter(&pairs);
    let (mut by, mut metric, mut curves, mut final_metric, mut max_points) =
        (Vec::new(), None, false, None, 500);
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
    let metric = metric
        .or(experiment.metric.clone())
        .ok_or_else(|| ApiError::BadRequest("say which metric to aggregate: metric=KEY".into()))?;
    let q = GroupQuery {
        experiment_id: experiment.id,
        by: by.clone(),
        metric: metric.clone(),
        filter,
    };
    let mut final_q = q.clone();
    if final_q.filter.statuses.is_empty() {
        final_q.filter.statuses = vec!["finished".into()];
    }
    final_q.metric = final_metric.unwrap_or(metric.clone());
    // The curves (summary) and the final aggregates (SQL) at once, on two connections.
    let (curves, final_) = tokio::join!(
        async {
            if !curves {
                return Ok(Vec::new());
            }
            let mut c = app.summary.group_curves(&app.store, &q).await?;
            for g in &mut c {
                downsample_curve(g, max_points);
            }
            Ok::<_, ApiError>(c)
        },
        app.store.group_final(&final_q)
    );
    let (curves, final_) = (curves?, final_?);
    let q = final_q;
    Ok(Json(Groups {
        by,
        metric,
        final_metric: q.metric,
        final_,
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
