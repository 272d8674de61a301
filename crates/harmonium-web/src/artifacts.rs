//! Artifact files (pictures, checkpoints) by artifact id, confined to the artifacts folder.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::routes::AppState;

/// The media type for a file name.
pub fn mime_for(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "txt" | "csv" | "yaml" | "yml" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub async fn artifact(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let missing = || ApiError::NotFound(format!("no artifact with id '{id}'"));
    let a = app
        .store
        .artifact(id.parse().map_err(|_| missing())?)
        .await?
        .ok_or_else(missing)?;
    let root = app.artifacts_dir.canonicalize().map_err(|_| {
        ApiError::NotFound(format!(
            "the artifacts folder {} does not exist",
            app.artifacts_dir.display()
        ))
    })?;
    let file = root
        .join(&a.path)
        .canonicalize()
        .map_err(|_| ApiError::NotFound(format!("artifact file {} is missing", a.path)))?;
    if !file.starts_with(&root) {
        return Err(ApiError::NotFound(format!(
            "artifact file {} is outside the artifacts folder",
            a.path
        )));
    }
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|e| ApiError::Io(format!("reading {}: {e}", file.display())))?;
    let mime = mime_for(&a.path);
    // Pictures are shown inline; anything else is downloaded, never rendered as a page.
    let disposition = if mime.starts_with("image/") && mime != "image/svg+xml" {
        "inline"
    } else {
        "attachment"
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    ))
}
