//! Requests the dashboard must refuse, and how: other hosts' names (DNS rebinding) and
//! parameters the API cannot read, all answered with the JSON error `{"error": "…"}`.
//!
//! The server runs in-process over an empty database on a loopback port the system picks; the
//! requests are written by hand, so that `Host` can be anything (or missing).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use harmonium_store::Store;
use harmonium_web::ServeOptions;
use serde_json::Value;

/// Serves an empty database on 127.0.0.1, answering `allow` besides the usual hosts.
fn start(name: &str, allow: &[&str]) -> SocketAddr {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("web-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("h.db");
    let opts = ServeOptions {
        db: db.clone(),
        bind: [127, 0, 0, 1].into(),
        port: 0,
        artifacts_dir: dir.join("artifacts"),
        allow_hosts: allow.iter().map(|s| s.to_string()).collect(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            Store::open(&db).await.unwrap().close().await;
            let store = harmonium_web::open_read_only(&db).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            harmonium_web::serve_on(listener, store, &opts, std::future::pending())
                .await
                .unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the server started")
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    /// The body as the API's error shape: an object with one text `error`.
    fn error(&self) -> String {
        assert!(
            self.content_type.starts_with("application/json"),
            "content type {:?}: {}",
            self.content_type,
            self.body
        );
        let v: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body));
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {v}"));
        assert_eq!(obj.len(), 1, "{v}");
        obj["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error text: {v}"))
            .to_string()
    }
}

/// `METHOD path` with `Host: host` (HTTP/1.1), or HTTP/1.0 without `Host` when `host` is None.
fn request(addr: SocketAddr, method: &str, path: &str, host: Option<&str>) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = match host {
        Some(h) => format!("{method} {path} HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n"),
        None => format!("{method} {path} HTTP/1.0\r\n"),
    };
    s.write_all(format!("{head}Content-Length: 0\r\n\r\n").as_bytes())
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end: {raw:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let body = if header("transfer-encoding").eq_ignore_ascii_case("chunked") {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    Answer {
        status,
        content_type: header("content-type"),
        body,
    }
}

fn get(addr: SocketAddr, path: &str, host: &str) -> Answer {
    request(addr, "GET", path, Some(host))
}

#[test]
fn requests_naming_another_host_are_refused_unless_allowed() {
    let addr = start("hosts", &[]);
    let port = addr.port();
    // Every route is guarded: the API, the pages and their static files.
    for path in ["/api/experiments", "/", "/static/style.css", "/runs/1"] {
        for host in ["evil.example", &format!("evil.example:{port}")] {
            let a = get(addr, path, host);
            assert_eq!(a.status, 421, "{path} for {host}: {}", a.body);
            let e = a.error();
            assert!(
                e.contains("evil.example") && e.contains("--allow-host"),
                "{e}"
            );
        }
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            "localhost".into(),
            format!("[::1]:{port}"),
        ] {
            let a = get(addr, path, &host);
            assert_eq!(a.status, 200, "{path} for {host}: {}", a.body);
        }
    }
    assert_eq!(get(addr, "/api/experiments", "127.0.0.1").body, "[]");
    // A name that only ends like an accepted one, an absolute target naming another host, and
    // a request with no Host at all (HTTP/1.0).
    let a = get(addr, "/api/experiments", "localhost.evil.example");
    assert_eq!((a.status, a.error().contains("--allow-host")), (421, true));
    let a = get(addr, "http://evil.example/api/experiments", "localhost");
    assert_eq!(a.status, 421, "{}", a.body);
    a.error();
    let a = request(addr, "GET", "/api/experiments", None);
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.error().contains("Host"), "{}", a.body);

    let allowed = start("allowed-hosts", &["evil.example"]);
    let a = get(allowed, "/api/experiments", "evil.example");
    assert_eq!((a.status, a.body.as_str()), (200, "[]"));
    let a = get(allowed, "/", &format!("EVIL.example:{}", allowed.port()));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(get(allowed, "/", "other.example").status, 421);
}

#[test]
fn unreadable_query_and_path_parameters_are_json_400s_naming_them() {
    let addr = start("params", &[]);
    let cases = [
        ("/api/runs", "ids"),
        ("/api/runs?ids=1&ids=2", "ids"),
        ("/api/series?runs=1", "keys"),
        ("/api/series?keys=valid_error", "runs"),
        (
            "/api/series?runs=1&keys=valid_error&max_points=abc",
            "max_points",
        ),
        (
            "/api/series?runs=1&keys=valid_error&max_points=-1",
            "max_points",
        ),
        ("/api/events?experiment=1&experiment=2", "experiment"),
        ("/api/events?run=1&run=2", "run"),
        ("/api/experiments/%FF", "id"),
        ("/api/experiments/%FF/runs", "id"),
        ("/api/experiments/%FF/groups", "id"),
        ("/api/runs/%FF", "id"),
        ("/api/artifacts/%FF", "id"),
    ];
    for (path, param) in cases {
        let a = get(addr, path, "localhost");
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        let e = a.error();
        assert!(
            e.contains(&format!("`{param}`")) || e.contains(&format!("{param}:")),
            "{path}: {e}"
        );
    }
}

#[test]
fn every_other_api_error_is_json_too() {
    let addr = start("api-errors", &[]);
    for (method, path, status) in [
        ("GET", "/api", 404),
        ("GET", "/api/", 404),
        ("GET", "/api/nothing/here", 404),
        ("POST", "/api/experiments", 405),
        ("DELETE", "/api/runs/1", 405),
        ("PUT", "/api/events", 405),
    ] {
        let a = request(addr, method, path, Some("localhost"));
        assert_eq!(a.status, status, "{method} {path}: {}", a.body);
        assert!(!a.error().is_empty(), "{method} {path}");
    }
    // The pages are not the API: an unknown page is still a plain 404.
    let a = get(addr, "/static/nothing.js", "localhost");
    assert_eq!(a.status, 404);
    assert!(
        a.content_type.starts_with("text/plain"),
        "{}",
        a.content_type
    );
}
