//! The dashboard: an axum server with a JSON API and server-sent events over the results
//! database, serving the pages in `web/` (embedded in the binary, so it runs from anywhere).
//!
//! Read-only: at start-up the store brings the schema up to date (new tables and indexes from
//! `migrations/`; results are never changed), then every answer comes from typed reads of
//! `harmonium-store` over read-only connections. The API is documented in `web/API.md`.

mod api;
mod artifacts;
mod assets;
mod cache;
mod downsample;
mod error;
mod extract;
mod groups;
mod host;
mod routes;
mod series;
mod sse;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Instant;

use harmonium_store::{Store, StoreError};

pub use downsample::min_max_downsample;
pub use error::ApiError;
pub use host::HostPolicy;
pub use routes::router;

/// Where and what to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub db: PathBuf,
    pub bind: IpAddr,
    pub port: u16,
    /// Folder holding run artifacts (pictures, checkpoints), as written by the runner.
    pub artifacts_dir: PathBuf,
    /// Host names answered besides loopback and the bound address (`--allow-host`; see
    /// [`HostPolicy`]).
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source} (is another server using the port? try --port)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("{0}")]
    AllowHost(String),
}

/// Serves the dashboard until the process is stopped (Ctrl-C).
pub async fn serve(opts: ServeOptions) -> Result<(), WebError> {
    let started = Instant::now();
    HostPolicy::new(opts.bind, &opts.allow_hosts).map_err(WebError::AllowHost)?;
    let store = open_read_only(&opts.db).await?;
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| WebError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(WebError::Serve)?;
    println!(
        "harmonium dashboard on http://{local}/ (database {}, read-only); Ctrl-C stops it",
        store.path.display()
    );
    println!(
        "dashboard ready after {:.2} s",
        started.elapsed().as_secs_f64()
    );
    serve_on(listener, store, &opts, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves the dashboard over `store` on a bound `listener` until `shutdown` completes, answering
/// the hosts that [`HostPolicy`] accepts for the listener's address and `opts.allow_hosts`
/// (`opts.db`, `opts.bind` and `opts.port` are not used).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    store: Store,
    opts: &ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    let local = listener.local_addr().map_err(WebError::Serve)?;
    let hosts = HostPolicy::new(local.ip(), &opts.allow_hosts).map_err(WebError::AllowHost)?;
    axum::serve(
        listener,
        routes::router(store, opts.artifacts_dir.clone(), hosts),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(WebError::Serve)
}

/// The store over `path` for the dashboard: an existing harmonium database, read-only.
pub async fn open_read_only(path: &Path) -> Result<Store, WebError> {
    Ok(Store::open_read_only(path).await?)
}
