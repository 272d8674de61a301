//! API errors: every failure answers JSON `{"error": "..."}` with a fitting status code.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use harmonium_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: no such experiment, run, artifact or path.
    #[error("{0}")]
    NotFound(String),
    /// 400: a parameter the API does not accept.
    #[error("{0}")]
    BadRequest(String),
    /// 500: the database failed.
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    /// 500: an artifact file could not be read.
    #[error("{0}")]
    Io(String),
    /// Any other status: a refused `Host` (421), a request the router or an extractor rejected.
    #[error("{1}")]
    Http(StatusCode, String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Store(_) | ApiError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Http(status, _) => *status,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status(),
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Errors are longer than this only by mistake; the rest is cut.
const MAX_MESSAGE: usize = 4096;

/// Middleware over `/api/…`: an error answer that is not JSON already (a rejection by the
/// router, such as 405, or by an extractor) gets the JSON error body, with its status and other
/// headers kept. The extractors in `extract` already answer JSON; this is for anything else.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path() == "/api" || req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_MESSAGE).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = match (text.is_empty(), status) {
        (false, _) => text,
        (true, StatusCode::NOT_FOUND) => "no such API endpoint (see web/API.md)".to_string(),
        (true, _) => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_ascii_lowercase(),
    };
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = ApiError::Http(status, message).into_response();
    let (json_parts, body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, body)
}
