//! The URL map: pages, static assets, the JSON API and the event stream.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use harmonium_store::Store;

use crate::error::{self, ApiError};
use crate::host::{self, HostPolicy};
use crate::{api, artifacts, assets, cache, groups, series, sse};

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub artifacts_dir: PathBuf,
    pub cache: Arc<cache::Cache>,
}

/// The whole dashboard over `store`, serving artifact files from `artifacts_dir`, to requests
/// whose `Host` the policy accepts (see `host`).
pub fn router(store: Store, artifacts_dir: PathBuf, hosts: HostPolicy) -> Router {
    let state = AppState {
        store,
        artifacts_dir,
        cache: Arc::new(cache::Cache::default()),
    };
    let cached_api = Router::new()
        .route("/api/experiments", get(api::experiments))
        .route("/api/experiments/{id}", get(api::experiment))
        .route("/api/experiments/{id}/runs", get(api::experiment_runs))
        .route("/api/experiments/{id}/groups", get(groups::groups))
        .route("/api/runs", get(api::runs_by_ids))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/series", get(series::series))
        .route_layer(middleware::from_fn_with_state(state.clone(), cache::layer));
    Router::new()
        .merge(cached_api)
        .route("/api/artifacts/{id}", get(artifacts::artifact))
        .route("/api/events", get(sse::events))
        .route("/api/{*rest}", get(api_not_found))
        .merge(assets::routes())
        .with_state(state)
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn_with_state(hosts, host::guard))
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint (see web/API.md)".into())
}
