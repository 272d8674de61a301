//! The dashboard over a PostgreSQL store answers as it does over a SQLite file: the same tiny
//! sweep, run into one of each, gives the same JSON from every read endpoint (timestamps and
//! hosts aside), and the event stream starts on both.

#[path = "web_support.rs"]
mod support;

use harmonium_tests::{harmonium_bin, mirror, ok, postgres_db};
use serde_json::Value;
use support::{Server, TINY, get, json};

/// `v` without the fields that differ between two runs of one sweep: times and where it ran.
fn timeless(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !(k.ends_with("_at")
                        || k.ends_with("time")
                        || k.ends_with("activity")
                        || ["host", "pid", "git_commit", "seconds", "duration"]
                            .contains(&k.as_str()))
                })
                .map(|(k, v)| (k.clone(), timeless(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(timeless).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn the_api_over_postgres_answers_as_over_a_sqlite_file() {
    let Some(pg) = postgres_db("web").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.yaml"), TINY).unwrap();
    let file = d.join("h.db");
    for db in [file.as_path(), pg.as_path()] {
        // One worker, so that both stores number the runs in the same order.
        ok(std::process::Command::new(harmonium_bin())
            .args(["run", "tiny.yaml", "--no-progress", "-j", "1", "--db"])
            .arg(db)
            .current_dir(d)
            .env("HARMONIUM_DATA_DIR", d.join("data"))
            .env("HARMONIUM_DATA_MIRROR", mirror())
            .output()
            .unwrap());
    }
    let (a, b) = (Server::start(&file), Server::start(&pg));
    for path in [
        "/api/experiments",
        "/api/experiments/1",
        "/api/experiments/1/runs?limit=100",
        "/api/experiments/1/runs?sort=metric:best_valid_error&order=desc",
        "/api/experiments/1/groups?by=mlp.lr&metric=best_valid_error",
        "/api/runs?ids=1,2,3,4",
        "/api/runs/2",
        "/api/series?runs=1,2,3,4&keys=valid_error,train_loss&max_points=500",
    ] {
        let (x, y) = (
            json(&format!("{}{path}", a.url)),
            json(&format!("{}{path}", b.url)),
        );
        assert_eq!(
            timeless(&x),
            timeless(&y),
            "{path}\nsqlite: {x}\npostgres: {y}"
        );
    }
    let runs = json(&format!("{}/api/experiments/1/runs?limit=100", b.url));
    assert_eq!(runs["total"], 4, "{runs}");
    // The pages are served too.
    let (status, ct, _) = get(&format!("{}/experiments/1", b.url));
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
}
