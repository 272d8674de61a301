//! JSON handlers for experiments and runs.

use axum::Json;
use axum::extract::State;
use harmonium_store::{ExperimentInfo, ExperimentRow, RunDetail, RunRow};
use harmonium_store::{MetricKey, RunFilter, RunPage, RunQuery, SortKey, SweptParam};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::routes::AppState;

/// Most runs in one page of the runs table.
pub const MAX_PAGE: i64 = 10_000;
/// Most runs asked for by id at once.
pub const MAX_IDS: usize = 1_000;

pub async fn experiments(State(app): State<AppState>) -> ApiResult<Json<Vec<ExperimentRow>>> {
    Ok(Json(app.store.experiments().await?))
}

#[derive(Serialize)]
pub struct ExperimentDetail {
    #[serde(flatten)]
    experiment: ExperimentRow,
    /// Parameters with more than one value among the runs.
    swept: Vec<SweptParam>,
    /// Metrics recorded by the runs.
    metrics: Vec<MetricKey>,
}

/// The experiment with this numeric id, or 404.
pub async fn find_experiment(app: &AppState, id: &str) -> ApiResult<ExperimentInfo> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no experiment with id '{id}'")))?;
    app.store
        .experiment_info(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no experiment with id {id}")))
}

pub async fn experiment(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExperimentDetail>> {
    let experiment = find_experiment(&app, &id).await?;
    let experiment = app
        .store
        .experiment(experiment.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no experiment with id {id}")))?;
    let (swept, metrics) = tokio::join!(
        app.store.swept_params(experiment.id),
        app.store.metric_keys(experiment.id)
    );
    let (swept, metrics) = (swept?, metrics?);
    Ok(Json(ExperimentDetail {
        experiment,
        swept,
        metrics,
    }))
}

/// Reads the run filter from query pairs: `status=a,b` and `param.KEY=VALUE` (repeat a key for
/// several values). Other pairs are returned for the caller.
pub fn parse_filter(pairs: &[(String, String)]) -> (RunFilter, Vec<(String, String)>) {
    let mut filter = RunFilter::default();
    let mut rest = Vec::new();
    for (k, v) in pairs {
        if k == "status" {
            filter
                .statuses
                .extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string));
        } else if let Some(key) = k.strip_prefix("param.") {
            match filter.params.iter_mut().find(|(pk, _)| pk == key) {
                Some((_, vs)) => vs.push(v.clone()),
                None => filter.params.push((key.to_string(), vec![v.clone()])),
            }
        } else {
            rest.push((k.clone(), v.clone()));
        }
    }
    (filter, rest)
}

fn int(name: &str, v: &str) -> ApiResult<i64> {
    v.parse()
        .map_err(|_| ApiError::BadRequest(format!("{name} must be a whole number, not '{v}'")))
}

/// Splits a comma-separated list, dropping empty items.
pub fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn experiment_runs(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<RunPage>> {
    let experiment = find_experiment(&app, &id).await?;
    let (filter, rest) = parse_filter(&pairs);
    let mut q = RunQuery {
        experiment_id: experiment.id,
        filter,
        sort: SortKey::Id,
        descending: false,
        limit: 100,
        offset: 0,
        param_keys: None,
    };
    for (k, v) in rest {
        match k.as_str() {
            "sort" => {
                q.sort = SortKey::parse(&v).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "cannot sort by '{v}': use id, trial_index, status, seed, created_at, started_at, \
                         finished_at, param:KEY or metric:KEY"
                    ))
                })?
            }
            "order" => {
                q.descending = match v.as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(ApiError::BadRequest(format!("order must be asc or desc, not '{v}'"))),
                }
            }
            "limit" => q.limit = int("limit", &v)?.clamp(0, MAX_PAGE),
            "offset" => q.offset = int("offset", &v)?.max(0),
            "params" if v == "swept" => {
                let swept = app.store.swept_params(experiment.id).await?;
                q.param_keys = Some(swept.into_iter().map(|p| p.key).collect());
            }
            "params" if v == "all" => q.param_keys = None,
            "params" => q.param_keys = Some(list(&v)),
            _ => return Err(ApiError::BadRequest(format!("unknown query parameter '{k}'"))),
        }
    }
    Ok(Json(app.store.runs_page(&q).await?))
}

#[derive(serde::Deserialize)]
pub struct IdsQuery {
    ids: String,
}

/// Parses `1,2,3` into run ids.
pub fn parse_ids(v: &str) -> ApiResult<Vec<i64>> {
    let ids = list(v)
        .iter()
        .map(|s| int("run id", s))
        .collect::<ApiResult<Vec<i64>>>()?;
    if ids.len() > MAX_IDS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_IDS} runs at once"
        )));
    }
    Ok(ids)
}

pub async fn runs_by_ids(
    State(app): State<AppState>,
    Query(q): Query<IdsQuery>,
) -> ApiResult<Json<Vec<RunRow>>> {
    Ok(Json(
        app.store.runs_by_ids(&parse_ids(&q.ids)?, None).await?,
    ))
}

#[derive(Serialize)]
pub struct RunResponse {
    #[serde(flatten)]
    detail: RunDetail,
    /// The configuration as YAML text.
    config_yaml: String,
}

pub async fn run(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunResponse>> {
    let missing = || ApiError::NotFound(format!("no run with id '{id}'"));
    let run_id: i64 = id.parse().map_err(|_| missing())?;
    let mut detail = app.store.run_detail(run_id).await?.ok_or_else(missing)?;
    for a in &mut detail.artifacts {
        a.locate(&app.artifacts_dir);
    }
    let config_yaml = serde_yaml::to_string(&detail.config).unwrap_or_default();
    Ok(Json(RunResponse {
        detail,
        config_yaml,
    }))
}
