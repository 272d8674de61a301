//! The pages and their assets, embedded in the binary from `web/` at build time.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::routes::AppState;

/// One embedded file of `web/`.
pub struct Asset {
    pub path: &'static str,
    pub mime: &'static str,
    pub body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $mime:literal) => {
        Asset {
            path: $path,
            mime: $mime,
            body: include_bytes!(concat!("../../../web/", $path)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";

/// Every file the pages use. A unit test checks that each file under `web/` is listed.
pub static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("experiment.html", "text/html; charset=utf-8"),
    asset!("run.html", "text/html; charset=utf-8"),
    asset!("compare.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/api.js", "text/javascript; charset=utf-8"),
    asset!("js/dom.js", "text/javascript; charset=utf-8"),
    asset!("js/format.js", "text/javascript; charset=utf-8"),
    asset!("js/charts.js", "text/javascript; charset=utf-8"),
    asset!("js/live.js", "text/javascript; charset=utf-8"),
    asset!("js/experiments.js", "text/javascript; charset=utf-8"),
    asset!("js/experiment.js", "text/javascript; charset=utf-8"),
    asset!("js/runs-table.js", "text/javascript; charset=utf-8"),
    asset!("js/groups.js", "text/javascript; charset=utf-8"),
    asset!("js/panel.js", "text/javascript; charset=utf-8"),
    asset!("js/parcoords.js", "text/javascript; charset=utf-8"),
    asset!("js/run.js", "text/javascript; charset=utf-8"),
    asset!("js/compare.js", "text/javascript; charset=utf-8"),
    asset!(
        "vendor/uplot/uPlot.esm.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
    asset!("vendor/uplot/LICENSE", "text/plain; charset=utf-8"),
];

/// Files in `web/` that are not served (documentation, provenance notes).
#[cfg(test)]
pub const NOT_SERVED: &[&str] = &["API.md", "vendor/uplot/VERSION"];

/// Pages may only load what this server serves.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                   script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn respond(a: &Asset) -> Response {
    let mut r = (
        [
            (header::CONTENT_TYPE, a.mime),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        a.body,
    )
        .into_response();
    if a.mime == HTML {
        r.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(CSP),
        );
    }
    r
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn page(name: &'static str) -> Response {
    find(name)
        .map(respond)
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

async fn static_file(Path(path): Path<String>) -> Response {
    match find(&path) {
        Some(a) => respond(a),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response(),
    }
}

/// `/`, `/experiments/{id}`, `/runs/{id}`, `/compare` and `/static/…`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { page("index.html") }))
        .route(
            "/experiments/{id}",
            get(|| async { page("experiment.html") }),
        )
        .route("/runs/{id}", get(|| async { page("run.html") }))
        .route("/compare", get(|| async { page("compare.html") }))
        .route("/favicon.ico", get(|| async { page("favicon.svg") }))
        .route("/static/{*path}", get(static_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, root, out);
            } else {
                out.push(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }

    #[test]
    fn every_file_in_web_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
        let mut all = Vec::new();
        files(&root, &root, &mut all);
        for f in all {
            assert!(
                find(&f).is_some() || NOT_SERVED.contains(&f.as_str()),
                "web/{f} is not listed in assets.rs"
            );
        }
    }
}
