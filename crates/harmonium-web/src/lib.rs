//! The dashboard: an axum server with a JSON API and server-sent events over the results
//! database, serving the pages in `web/` (embedded in the binary, so it runs from anywhere).
//!
//! Read-only: at start-up the schema is brought up to date (indexes from `migrations/`), then
//! every query goes through a read-only connection pool. The API is documented in `web/API.md`.

mod api;
mod artifacts;
mod assets;
mod cache;
mod downsample;
mod error;
mod groups;
mod routes;
mod series;
mod sse;
mod summary;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use harmonium_store::{Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

pub use downsample::min_max_downsample;
pub use error::ApiError;
pub use routes::router;

/// Where and what to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub db: PathBuf,
    pub bind: IpAddr,
    pub port: u16,
    /// Folder holding run artifacts (pictures, checkpoints), as written by the runner.
    pub artifacts_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    Missing(StoreError),
    #[error(
        "cannot read {path} as a harmonium results database: {reason}\n\
         (is it corrupt, or another kind of file? pass the database `harmonium run` wrote with --db)"
    )]
    Unreadable { path: PathBuf, reason: String },
    #[error("cannot listen on {addr}: {source} (is another server using the port? try --port)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Serves the dashboard until the process is stopped (Ctrl-C).
pub async fn serve(opts: ServeOptions) -> Result<(), WebError> {
    let store = open_read_only(&opts.db).await?;
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| WebError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(WebError::Serve)?;
    println!(
        "harmonium dashboard on http://{local}/ (database {}, read-only); Ctrl-C stops it",
        opts.db.display()
    );
    // Builds the in-memory summary (parameter values, metric points) in the background; the
    // pages are served meanwhile, and answers that need the summary wait for it.
    let summary = Arc::new(summary::Summary::default());
    tokio::spawn({
        let (store, summary) = (store.clone(), summary.clone());
        async move {
            let line = match summary.refresh(&store).await {
                Ok(l) => format!(
                    "dashboard ready: summary of {} parameter values and {} metric points built in {:.1} s",
                    l.params,
                    l.points,
                    l.elapsed.as_secs_f64()
                ),
                Err(e) => format!("dashboard ready (summary not built: {e}; built on first use)"),
            };
            // Not println!: whoever started the server may no longer read its output.
            let _ = writeln!(std::io::stdout(), "{line}");
        }
    });
    axum::serve(
        listener,
        routes::router_with(store, opts.artifacts_dir, summary),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(WebError::Serve)
}

/// Checks that `path` is a harmonium database, brings its schema up to date (indexes only:
/// results are never touched), and returns a store over a read-only connection pool.
pub async fn open_read_only(path: &Path) -> Result<Store, WebError> {
    if !path.exists() {
        return Err(WebError::Missing(StoreError::NotFound {
            path: path.into(),
        }));
    }
    let unreadable = |reason: String| WebError::Unreadable {
        path: path.into(),
        reason,
    };
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(|e| unreadable(e.to_string()))?
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('experiments', 'runs', 'metrics')",
    )
    .fetch_all(&pool)
    .await
    .map_err(|e| unreadable(e.to_string()))?;
    if tables.len() != 3 {
        return Err(unreadable(
            "it has no experiments, runs and metrics tables".into(),
        ));
    }
    // Adds the dashboard's indexes when the runner has not yet done so.
    Store::open_existing(path)
        .await
        .map_err(|e| unreadable(e.to_string()))?
        .pool
        .close()
        .await;
    Ok(Store {
        pool,
        path: path.into(),
    })
}
