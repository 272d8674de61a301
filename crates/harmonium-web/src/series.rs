//! Metric series of several runs, downsampled on the server to a bounded number of points.

use axum::Json;
use axum::extract::State;
use harmonium_store::MetricPoint;
use serde::{Deserialize, Serialize};

use crate::api::{list, parse_ids};
use crate::downsample::min_max_downsample;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::routes::AppState;

/// Most runs and metric keys in one request.
pub const MAX_RUNS: usize = 200;
pub const MAX_KEYS: usize = 20;
/// Points per series when the request does not say.
pub const DEFAULT_POINTS: usize = 500;

#[derive(Deserialize)]
pub struct SeriesQuery {
    runs: String,
    keys: String,
    max_points: Option<usize>,
}

#[derive(Serialize)]
pub struct SeriesOut {
    run_id: i64,
    key: String,
    /// Points recorded, before downsampling.
    total: usize,
    points: Vec<MetricPoint>,
}

pub async fn series(
    State(app): State<AppState>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult<Json<Vec<SeriesOut>>> {
    let runs = parse_ids(&q.runs)?;
    let keys = list(&q.keys);
    if runs.len() > MAX_RUNS || keys.len() > MAX_KEYS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_RUNS} runs and {MAX_KEYS} keys at once"
        )));
    }
    let max_points = q.max_points.unwrap_or(DEFAULT_POINTS).clamp(4, 100_000);
    let out = app
        .store
        .series(&runs, &keys)
        .await?
        .into_iter()
        .map(|s| {
            let values: Vec<Option<f64>> = s.points.iter().map(|p| p.value).collect();
            let keep = min_max_downsample(&values, max_points);
            let total = s.points.len();
            let points = if keep.len() == total {
                s.points
            } else {
                keep.into_iter().map(|i| s.points[i].clone()).collect()
            };
            SeriesOut {
                run_id: s.run_id,
                key: s.key,
                total,
                points,
            }
        })
        .collect();
    Ok(Json(out))
}
