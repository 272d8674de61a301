//! API errors: every failure answers JSON `{"error": "..."}` with a fitting status code.

use axum::Json;
use axum::http::StatusCode;
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
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Store(_) | ApiError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
