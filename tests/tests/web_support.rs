//! Shared by the dashboard tests (`web_api`, `web_browser`, `web_bench`): a database filled by a
//! real tiny sweep, and a `harmonium serve` child process on a free loopback port.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use harmonium_tests::{harmonium, harmonium_bin, ok};

/// Two learning rates × two seeds, three epochs on 500 digits: a few seconds. With made-up
/// published figures, one per learning rate, of the sweep metric (drawn on the `valid_error`
/// curves and listed under the group table).
pub const TINY: &str = "name: tiny-web
description: 'two learning rates × two seeds on 500 digits'
dataset: {name: mnist, train_size: 500, valid_size: 500, test_size: 500}
seeds: [1, 2]
mlp: {hidden: [16], epochs: 3, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.1, 0.3]
  metric: {name: best_valid_error, goal: minimize}
reference:
  - {best_valid_error: {0.1: 0.2, 0.3: 0.25}, by: lr, source: 'Made-up <i>figures</i> 2026'}
";

/// The source of the figures in [`TINY`].
pub const TINY_SOURCE: &str = "Made-up <i>figures</i> 2026";

/// The name of the experiment added to check escaping.
pub const EVIL_NAME: &str = "<script>alert(1)</script>";
pub const EVIL_DESCRIPTION: &str = "<img src=x onerror=alert(2)> & friends";

/// A 4×4 grey PNG, recorded as a `filters` artifact of run 1.
pub const PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 4, 0, 0, 0, 4, 8, 0, 0,
    0, 0, 140, 154, 193, 162, 0, 0, 0, 28, 73, 68, 65, 84, 120, 156, 99, 96, 176, 169, 216, 194,
    160, 145, 178, 224, 14, 67, 64, 207, 9, 22, 134, 138, 45, 31, 116, 0, 66, 132, 7, 97, 0, 232,
    200, 48, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// A folder under the target directory, emptied, for this test binary.
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The folder holding `h.db` filled by the tiny sweep (run once per test binary), plus an
/// experiment with an HTML-like name and two picture artifacts of run 1 (`filters`, `fantasies`).
pub fn tiny_db(name: &'static str) -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = scratch(name);
        std::fs::write(d.join("tiny.yaml"), TINY).unwrap();
        ok(harmonium(&d, &["run", "tiny.yaml", "--no-progress", "-j", "2"]));
        let db = d.join("h.db");
        let png = d.join("artifacts/run-1/filters-epoch-2.png");
        std::fs::create_dir_all(png.parent().unwrap()).unwrap();
        std::fs::write(&png, PNG).unwrap();
        std::fs::write(d.join("artifacts/run-1/fantasies_epoch3.png"), PNG).unwrap();
        sql(&db, &[
            "INSERT INTO artifacts (run_id, kind, path, step, created_at) VALUES (1, 'filters', 'run-1/filters-epoch-2.png', 2, '2026-01-01T00:00:00Z')",
            // A kind of picture the run page has no fixed place for: shown all the same.
            "INSERT INTO artifacts (run_id, kind, path, step, created_at) VALUES (1, 'fantasies', 'run-1/fantasies_epoch3.png', 3, '2026-01-01T00:00:00Z')",
            &format!(
                "INSERT INTO experiments (name, description, yaml, metric, goal, created_at, updated_at) \
                 VALUES ('{}', '{}', '', 'best_valid_error', 'minimize', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                EVIL_NAME, EVIL_DESCRIPTION
            ),
            "INSERT INTO runs (experiment_id, trial_index, status, config_json, config_hash, seed, git_commit, host, pid, created_at) \
             SELECT (SELECT id FROM experiments WHERE name LIKE '<script>%'), 0, 'failed', '{\"note\": \"<b>bold?</b>\"}', 'x', 1, NULL, '<i>host</i>', 1, created_at FROM runs WHERE id = 1",
            // Rows written behind the store's back: its summaries are rebuilt on the next open.
            "UPDATE store_meta SET value = 0 WHERE key = 'summaries_built'",
        ]);
        d
    })
}

/// Runs statements on a database (the tests' own writes; the dashboard never writes).
pub fn sql(db: &Path, statements: &[&str]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        for s in statements {
            sqlx::query(s)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    });
}

/// `harmonium serve` on 127.0.0.1 and a port the system picks; stopped when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    /// The rest of its output (kept open, so that it can still write).
    out: BufReader<ChildStdout>,
}

impl Server {
    pub fn start(db: &Path) -> Server {
        let mut child = Command::new(harmonium_bin())
            .args(["serve", "--port", "0", "--db"])
            .arg(db)
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start harmonium serve");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("harmonium serve printed no address: {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Server { child, url, out }
    }

    /// The server's peak resident memory (Linux: `VmHWM` of /proc/PID/status), in kB.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Waits for the server to report that it is ready; returns that line.
    pub fn wait_ready(&mut self) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "harmonium serve stopped before it was ready");
            if line.contains("ready") {
                return line.trim().to_string();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET → (status, content type, body).
pub fn get(url: &str) -> (u16, String, String) {
    let r = agent()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    (status, ct, body)
}

/// GET a JSON answer that must be 200.
pub fn json(url: &str) -> serde_json::Value {
    let (status, ct, body) = get(url);
    assert_eq!(status, 200, "GET {url}: {body}");
    assert!(
        ct.starts_with("application/json"),
        "GET {url}: content type {ct}"
    );
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}
