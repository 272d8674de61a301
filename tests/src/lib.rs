//! Helpers for the end-to-end tests: find the `harmonium` binary and run it in a scratch folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The release `harmonium` binary built by `cargo test --workspace` next to this test.
pub fn harmonium_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder");
    let bin = dir.join(format!("harmonium{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not built: run the tests with `cargo test --workspace` (just test)",
        bin.display()
    );
    bin
}

/// The data mirror; the end-to-end tests need real MNIST and fail loudly without it.
pub fn mirror() -> PathBuf {
    let m = std::env::var_os("HARMONIUM_DATA_MIRROR")
        .map(PathBuf::from)
        .expect("set HARMONIUM_DATA_MIRROR to a folder holding mnist/*.gz (just test does)");
    std::fs::canonicalize(&m).unwrap_or(m)
}

/// Runs `harmonium ARGS` in `dir` with the database `dir/h.db` and data in `dir/data`.
pub fn harmonium(dir: &Path, args: &[&str]) -> Output {
    Command::new(harmonium_bin())
        .args(args)
        .current_dir(dir)
        .env("HARMONIUM_DB", dir.join("h.db"))
        .env("HARMONIUM_DATA_DIR", dir.join("data"))
        .env("HARMONIUM_DATA_MIRROR", mirror())
        .output()
        .expect("run harmonium")
}

/// Starts `harmonium run FILE --no-progress` in `dir` (database `dir/h.db`, data in `dir/data`)
/// with its error output piped, for tests that signal it while it runs.
pub fn spawn_run(dir: &Path, file: &str) -> std::process::Child {
    Command::new(harmonium_bin())
        .args(["run", file, "--no-progress"])
        .current_dir(dir)
        .env("HARMONIUM_DB", dir.join("h.db"))
        .env("HARMONIUM_DATA_DIR", dir.join("data"))
        .env("HARMONIUM_DATA_MIRROR", mirror())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start harmonium run")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Panics with both streams when the command failed.
pub fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "harmonium failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    o
}

/// Writes `yaml` to `dir/file` and runs it (without progress bars); panics when the run fails.
pub fn run_file(dir: &Path, file: &str, yaml: &str) -> Output {
    std::fs::write(dir.join(file), yaml).expect("write the experiment file");
    ok(harmonium(dir, &["run", file, "--no-progress"]))
}

/// A connection pool on the database `harmonium` wrote in `dir`.
pub async fn open_db(dir: &Path) -> sqlx::SqlitePool {
    sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}", dir.join("h.db").display()))
        .await
        .expect("open database")
}

/// A one-connection pool on the database at `db` (a SQLite file, or a `postgres://` URL).
async fn connect(db: &Path) -> Result<sqlx::AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let text = db.to_string_lossy();
    let url = if text.contains("://") {
        text.to_string()
    } else {
        format!("sqlite://{text}")
    };
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
}

/// The single integer an SQL query on the database at `db` (a SQLite file, or a
/// `postgres://` URL) returns.
pub async fn scalar(db: &Path, sql: &str) -> i64 {
    let pool = connect(db).await.expect("open database");
    let v: i64 = sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .expect("query");
    pool.close().await;
    v
}

/// [`scalar`] for polling a run that is still starting, on a SQLite file: 0 until the file
/// exists and the run's first migration has created the tables the query reads (a busy
/// machine may show the file some time before its schema).
pub async fn scalar_so_far(db: &Path, sql: &str) -> i64 {
    if !db.exists() {
        return 0;
    }
    let Ok(pool) = connect(db).await else {
        return 0;
    };
    let v: Result<i64, _> = sqlx::query_scalar(sql).fetch_one(&pool).await;
    pool.close().await;
    match v {
        Ok(v) => v,
        Err(sqlx::Error::Database(e)) if e.message().contains("no such table") => 0,
        Err(e) => panic!("query: {e}"),
    }
}

/// The start-up script `tests/services/NAME` of the checkout under test. It is looked up from the
/// package folder cargo names when it runs the test (a test binary built in another checkout that
/// shares the target folder, and found fresh, would otherwise start another checkout's script).
pub fn service_script(name: &str) -> PathBuf {
    let at_run = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let found = at_run.iter().flat_map(|d| d.ancestors()).find_map(|d| {
        [
            d.join("services").join(name),
            d.join("tests/services").join(name),
        ]
        .into_iter()
        .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("services")
            .join(name)
    })
}

/// The superuser URL of the throw-away PostgreSQL server the tests use (`services/postgres-up.sh`:
/// 127.0.0.1:55432, password `harmonium`), started if it is not running; `None` when PostgreSQL
/// is not installed here, which CI does not accept.
pub fn postgres_server() -> Option<String> {
    let installed = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|mut d| d.next().is_some());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL is not installed (apt-get install -y postgresql); CI cannot skip this"
        );
        eprintln!("SKIPPED: PostgreSQL is not installed");
        return None;
    }
    let up = Command::new("bash")
        .arg(service_script("postgres-up.sh"))
        .output()
        .expect("run services/postgres-up.sh");
    assert!(
        up.status.success(),
        "starting PostgreSQL failed:\n{}{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    Some("postgres://postgres:harmonium@127.0.0.1:55432/postgres".into())
}

/// A new, empty database on the test PostgreSQL server (see [`postgres_server`]), its URL.
pub async fn postgres_db(name: &str) -> Option<PathBuf> {
    let admin = postgres_server()?;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let db = format!(
        "e_{name}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {db}").as_str())
        .await
        .expect("create a database");
    let _ = sqlx::Connection::close(conn).await;
    Some(PathBuf::from(format!(
        "postgres://postgres:harmonium@127.0.0.1:55432/{db}"
    )))
}

/// Debian's headless Chromium (or Chrome) on the `PATH`, if there is one.
pub fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(p) = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        }) {
            return Some(p);
        }
    }
    None
}

/// Runs headless Chromium with a fresh profile on `url` with `extra` flags (such as
/// `--dump-dom`); returns its stdout. Panics when it fails.
pub fn chrome(bin: &Path, profile: &Path, url: &str, extra: &[&str]) -> String {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("start chromium");
    assert!(
        out.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A tuned sweep named `name`: 2 cells × 2 tuning trials (indices 0-3), then 2 cells × 2 seeds
/// of final trials (4-7), on 200 MNIST images.
pub fn tuned_sweep(name: &str) -> String {
    format!(
        "name: {name}
dataset: {{name: mnist, train_size: 200, valid_size: 100, test_size: 100}}
seeds: [1, 2]
mlp: {{hidden: [8], epochs: 1, batch_size: 50}}
sweep:
  parameters:
    mlp.hidden: [[8], [16]]
  tune:
    parameters: {{mlp.lr: [0.05, 0.4]}}
  metric: {{name: best_valid_error}}
"
    )
}
