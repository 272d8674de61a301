//! A response cache for the JSON API. An entry is reused only while the database's change stamp
//! (new metric points, run status changes, new runs or artifacts) is the one it was computed
//! under, so answers are never stale; repeated reads of an idle experiment cost one small query.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::routes::AppState;

/// Entries kept at most; the cache is emptied when it is full.
const CAPACITY: usize = 512;
/// Responses larger than this are not kept.
const KEEP_BODY: usize = 8 << 20;
/// Responses are buffered up to this size (every API answer is built in memory anyway).
const MAX_BODY: usize = 256 << 20;

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, (String, Bytes)>>,
}

impl Cache {
    fn get(&self, uri: &str, stamp: &str) -> Option<Bytes> {
        let map = self.entries.lock().ok()?;
        map.get(uri)
            .filter(|(s, _)| s == stamp)
            .map(|(_, b)| b.clone())
    }

    fn put(&self, uri: String, stamp: String, body: Bytes) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(uri, (stamp, body));
        }
    }
}

fn json(body: Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Middleware: answers from the cache when the stamp matches, else runs the handler and keeps
/// a successful answer.
pub async fn layer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    // Only reads are answered from the cache; any other method goes to the router (405).
    if req.method() != axum::http::Method::GET {
        return next.run(req).await;
    }
    let uri = req.uri().to_string();
    let stamp = match app.store.change_stamp().await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(body) = app.cache.get(&uri, &stamp) {
        return json(body);
    }
    let response = next.run(req).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            if bytes.len() <= KEEP_BODY {
                app.cache.put(uri, stamp, bytes.clone());
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => ApiError::Io(format!("response too large: {e}")).into_response(),
    }
}
