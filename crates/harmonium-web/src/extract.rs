//! `Query` and `Path` extractors that reject with the API's JSON error (status kept, 400 for a
//! bad query string or path) instead of axum's plain text. Handlers use these, not axum's.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The query string, deserialized; a missing, repeated or unreadable parameter is a 400 naming it.
pub struct Query<T>(pub T);

/// The path parameters, deserialized; an unreadable one is a 400 naming it.
pub struct Path<T>(pub T);

/// serde's wording ("missing field `ids`") in the API's terms.
fn query_message(text: &str) -> String {
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    let detail = detail
        .replace("missing field", "missing query parameter")
        .replace("duplicate field", "repeated query parameter")
        .replace("unknown field", "unknown query parameter");
    if detail.contains("query parameter") {
        detail
    } else {
        // `max_points: invalid digit found in string`: the parameter's name comes first.
        format!("query parameter {detail}")
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(r) => Err(ApiError::Http(r.status(), query_message(&r.body_text()))),
        }
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(r) => {
                let text = r.body_text();
                let detail = text.strip_prefix("Invalid URL: ").unwrap_or(&text);
                Err(ApiError::Http(
                    r.status(),
                    format!("bad path parameter: {detail}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::query_message;

    #[test]
    fn query_messages_name_the_parameter() {
        let m = |s: &str| query_message(&format!("Failed to deserialize query string: {s}"));
        assert_eq!(m("missing field `ids`"), "missing query parameter `ids`");
        assert_eq!(m("duplicate field `run`"), "repeated query parameter `run`");
        assert_eq!(
            m("max_points: invalid digit found in string"),
            "query parameter max_points: invalid digit found in string"
        );
    }
}
