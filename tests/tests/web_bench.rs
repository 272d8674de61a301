//! Load figures for the dashboard (ignored by default; `just bench-web [RUNS]`): RUNS runs
//! (`HARMONIUM_BENCH_RUNS`, default 10,000) of 100 epochs × 3 metrics in a temporary database,
//! `harmonium serve` on a free loopback port, and a bounded number of requests per
//! experiment-page endpoint (N each, one at a time, loopback only). Prints the time until the
//! server reports ready, p50/p95 per endpoint for first-time URLs (nothing cached) and for
//! repeated ones (answered from the change-stamped cache), and the server's peak resident
//! memory; asserts ready within 2 s, first-time p95 under 200 ms (per-epoch group curves: 1 s)
//! and peak memory under 1 GB.
//!
//! HARMONIUM_BENCH_RUNS=100000 cargo test --release -p harmonium-tests --test web_bench -- --ignored --nocapture

#[path = "web_support.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Server, get};

const EPOCHS: i64 = 100;
/// Requests per endpoint and kind (distinct URLs, then one URL repeated).
const N: usize = 20;
const METRICS: [(&str, f64); 3] = [
    ("train_loss", 2.0),
    ("valid_error", 0.5),
    ("test_error", 0.55),
];

fn runs() -> i64 {
    std::env::var("HARMONIUM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Fills `db`: the schema through the store, then the recorded rows by plain SQL (far faster
/// than sending 30 M points through the writer), then the store's summaries from them.
fn fill(db: &std::path::Path, runs: i64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        harmonium_store::Store::open(db).await.unwrap().close().await;
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let mut tx = pool.begin().await.unwrap();
        let metric_rows: Vec<String> = METRICS
            .iter()
            .map(|(k, scale)| format!("SELECT '{k}' AS key, {scale} AS scale"))
            .collect();
        let steps = [
            "INSERT INTO experiments (id, name, description, yaml, metric, goal, created_at, updated_at) \
             VALUES (1, 'bench', 'synthetic: lr × train_size × init × seeds', '', 'valid_error', 'minimize', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')".to_string(),
            format!(
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {runs}) \
                 INSERT INTO runs (id, experiment_id, trial_index, status, config_json, config_hash, seed, git_commit, host, pid, created_at, started_at, finished_at) \
                 SELECT i, 1, i - 1, CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'finished' END, '{{\"mlp\": {{\"lr\": 0.1}}}}', 'h' || i, i / 40, 'abc', 'bench', 1, \
                 '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-01T00:01:00.000Z' FROM c"
            ),
            "INSERT INTO params SELECT id, 'mlp.lr', CAST((id % 4 + 1) * 0.1 AS TEXT), (id % 4 + 1) * 0.1 FROM runs".into(),
            "INSERT INTO params SELECT id, 'dataset.train_size', CAST((id / 4 % 5 + 1) * 1000 AS TEXT), (id / 4 % 5 + 1) * 1000 FROM runs".into(),
            "INSERT INTO params SELECT id, 'init', CASE WHEN id / 20 % 2 = 0 THEN 'pretrained' ELSE 'random' END, NULL FROM runs".into(),
            "INSERT INTO params SELECT id, 'seed', CAST(seed AS TEXT), seed FROM runs".into(),
            "INSERT INTO params SELECT r.id, k.key, '1', 1 FROM runs r, (SELECT 'mlp.epochs' AS key UNION ALL SELECT 'mlp.batch_size' \
             UNION ALL SELECT 'mlp.momentum' UNION ALL SELECT 'mlp.hidden' UNION ALL SELECT 'dataset.name' UNION ALL SELECT 'device' \
             UNION ALL SELECT 'mlp.activation' UNION ALL SELECT 'mlp.weight_decay') k".into(),
            format!(
                "WITH RECURSIVE s(e) AS (SELECT 1 UNION ALL SELECT e + 1 FROM s WHERE e < {EPOCHS}) \
                 INSERT INTO metrics (run_id, key, step, value, wall_time) \
                 SELECT r.id, k.key, s.e, k.scale / s.e + (r.id % 97) * 0.0001 + (r.id % 4) * 0.01, s.e FROM runs r, s, \
                 ({}) k ORDER BY r.id, k.key, s.e",
                metric_rows.join(" UNION ALL ")
            ),
            format!("INSERT INTO latest_metrics SELECT run_id, key, step, value, wall_time FROM metrics WHERE step = {EPOCHS}"),
        ];
        for s in steps {
            sqlx::query(&s).execute(&mut *tx).await.unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        sqlx::query("UPDATE store_meta SET value = 0 WHERE key = 'summaries_built'")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        pool.close().await;
        // The store rebuilds its summaries (columns, packed curves) from the rows on open.
        let t = Instant::now();
        harmonium_store::Store::open(db).await.unwrap().close().await;
        println!("summaries built in {:.1} s", t.elapsed().as_secs_f64());
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.unwrap();
        pool.close().await;
    });
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn time(url: &str) -> Duration {
    let t = Instant::now();
    let (status, _, body) = get(url);
    let d = t.elapsed();
    assert_eq!(status, 200, "{url}: {body}");
    d
}

fn report(name: &str, mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let (p50, p95) = (percentile(&v, 0.5), percentile(&v, 0.95));
    println!(
        "{name:<44} n={:<3} p50 {:>7.1} ms   p95 {:>7.1} ms   max {:>7.1} ms",
        v.len(),
        ms(p50),
        ms(p95),
        ms(*v.last().unwrap())
    );
    (p50, p95)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[test]
#[ignore = "load test: just bench-web"]
fn experiment_page_endpoints_answer_within_200_ms_at_p95() {
    let runs = runs();
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("web_bench-{runs}"));
    if std::env::var_os("HARMONIUM_BENCH_REUSE").is_none() {
        let _ = std::fs::remove_dir_all(&d);
    }
    std::fs::create_dir_all(&d).unwrap();
    let db = d.join("bench.db");
    let t = Instant::now();
    // HARMONIUM_BENCH_REUSE=1 measures the database the last run filled (same RUNS).
    let reuse = std::env::var_os("HARMONIUM_BENCH_REUSE").is_some() && db.exists();
    if !reuse {
        fill(&db, runs);
    }
    println!(
        "filled {runs} runs × {EPOCHS} epochs × 3 metrics in {:.1} s ({:.0} MB)",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
    let t = Instant::now();
    let mut s = Server::start(&db);
    let listening = t.elapsed();
    let ready_line = s.wait_ready();
    let ready = t.elapsed();
    println!(
        "server listening after {:.2} s; {ready_line} (ready seen after {:.2} s)",
        listening.as_secs_f64(),
        ready.as_secs_f64()
    );
    let u = |p: &str| format!("{}{p}", s.url);
    // Each endpoint: a family of distinct URLs (first-time answers) and one URL repeated.
    type Family = Box<dyn Fn(usize) -> String>;
    let metrics = METRICS.map(|(k, _)| k);
    let bys = [
        "mlp.lr",
        "dataset.train_size",
        "init",
        "mlp.lr,init",
        "init,dataset.train_size",
        "seed",
        "mlp.lr,dataset.train_size",
    ];
    let endpoints: Vec<(&str, Family)> = vec![
        // A query these handlers ignore makes each URL new to the response cache.
        (
            "experiments",
            Box::new(|i| format!("/api/experiments?fresh={i}")),
        ),
        (
            "experiment (swept params, metric keys)",
            Box::new(|i| format!("/api/experiments/1?fresh={i}")),
        ),
        (
            "runs page (50, sorted by a param)",
            Box::new(|i| {
                format!(
                    "/api/experiments/1/runs?params=swept&limit=50&sort=param:mlp.lr&offset={}",
                    i * 50
                )
            }),
        ),
        (
            "runs page (50, filtered, sorted by metric)",
            Box::new(move |i| {
                format!(
                    "/api/experiments/1/runs?params=swept&limit=50&sort=metric:{}&param.init=random&offset={}",
                    metrics[i % 3],
                    i * 50
                )
            }),
        ),
        (
            "runs for parallel coordinates (2000)",
            Box::new(move |i| {
                format!(
                    "/api/experiments/1/runs?params=swept&status=finished&limit=2000&sort=metric:{}&offset={}",
                    metrics[i % 3],
                    i
                )
            }),
        ),
        (
            "series (8 runs × 1 metric)",
            Box::new(move |i| {
                format!(
                    "/api/series?runs={}&keys={}",
                    (1..=8)
                        .map(|k| (i * 8 + k).to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    metrics[i % 3]
                )
            }),
        ),
        (
            "groups, final only (panel)",
            Box::new(move |i| {
                format!(
                    "/api/experiments/1/groups?by={}&final_metric={}",
                    bys[i % bys.len()],
                    metrics[i / bys.len() % 3]
                )
            }),
        ),
        (
            "groups with per-epoch curves",
            Box::new(move |i| {
                format!(
                    "/api/experiments/1/groups?by={}&metric={}&curves=1",
                    bys[i % bys.len()],
                    metrics[i / bys.len() % 3]
                )
            }),
        ),
    ];
    println!("\n{:<44} (first-time URLs: nothing cached)", "");
    let mut worst_warm = Duration::ZERO;
    let mut cold = Vec::new();
    for (name, family) in &endpoints {
        let v: Vec<Duration> = (0..N).map(|i| time(&u(&family(i)))).collect();
        cold.push((name, report(name, v)));
    }
    println!("\n{:<44} (one URL repeated: change-stamped cache)", "");
    for (name, family) in &endpoints {
        let url = u(&family(0));
        let v: Vec<Duration> = (0..N).map(|_| time(&url)).collect();
        worst_warm = worst_warm.max(report(name, v).1);
    }
    println!("\nworst warm p95: {:.1} ms", ms(worst_warm));
    let rss = s.peak_rss_kb();
    println!(
        "server peak resident memory: {:.0} MB",
        rss.unwrap_or(0) as f64 / 1024.0
    );
    let limit = |name: &str| {
        Duration::from_millis(if name.contains("per-epoch") {
            1000
        } else {
            200
        })
    };
    let over: Vec<_> = cold
        .iter()
        .filter(|(name, (_, p95))| *p95 > limit(name))
        .map(|(n, _)| **n)
        .collect();
    if !over.is_empty() {
        println!("first-time p95 over the limit: {over:?}");
    }
    assert!(ready < Duration::from_secs(2), "ready after {ready:?}");
    assert!(
        over.is_empty(),
        "first-time URLs must answer within 200 ms at p95 (curves: 1 s): {over:?}"
    );
    assert!(
        rss.is_some_and(|kb| kb < 1024 * 1024),
        "peak resident memory {rss:?} kB"
    );
    assert!(
        worst_warm < Duration::from_millis(200),
        "repeated reads must answer within 200 ms at p95"
    );
}
