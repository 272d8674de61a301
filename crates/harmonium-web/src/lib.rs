//! The dashboard: an axum server with a JSON API and server-sent events over the results
//! database, serving the pages in `web/` (embedded in the binary). Read-only.

use std::net::IpAddr;
use std::path::PathBuf;

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
    #[error("the dashboard is not built yet")]
    NotBuilt,
}

/// Serves the dashboard until the process is stopped.
pub async fn serve(_opts: ServeOptions) -> Result<(), WebError> {
    Err(WebError::NotBuilt)
}
