//! The summary's answers against the SQL reference, bit for bit, on a database with the awkward
//! cases (missing parameters, NULL values, repeated and far-apart steps, several experiments),
//! before and after rows are added.

use std::path::PathBuf;

use harmonium_store::Store;
use harmonium_store::query::{GroupQuery, RunFilter};

use super::Summary;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", self.0.display()));
        }
    }
}

/// A small deterministic generator (no dependency for it).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn add_runs(store: &Store, rng: &mut Lcg, from: i64, to: i64) {
    let mut tx = store.pool.begin().await.unwrap();
    for id in from..to {
        let exp = 1 + id % 2;
        let status = ["finished", "finished", "failed", "running"][rng.below(4) as usize];
        sqlx::query(
            "INSERT INTO runs (id, experiment_id, trial_index, status, config_json, config_hash, seed, host, pid, created_at) \
             VALUES (?, ?, ?, ?, '{}', ?, 1, 'h', 1, '2026-01-01T00:00:00Z')",
        )
        .bind(id)
        .bind(exp)
        .bind(id)
        .bind(status)
        .bind(format!("h{id}"))
        .execute(&mut *tx)
        .await
        .unwrap();
        let lr = ["0.1", "0.3", "1e-2", "0.10"][rng.below(4) as usize];
        let mut params = vec![
            ("lr", lr.to_string(), lr.parse::<f64>().ok()),
            (
                "init",
                ["random", "pretrained", "Zeta"][rng.below(3) as usize].to_string(),
                None,
            ),
            ("size", (rng.below(3) * 1000).to_string(), None),
            ("const", "7".to_string(), Some(7.0)),
        ];
        params[2].2 = params[2].1.parse().ok();
        if rng.below(5) == 0 {
            params.remove(1); // some runs lack `init`
        }
        for (k, v, n) in params {
            sqlx::query("INSERT INTO params (run_id, key, value, value_num) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(k)
                .bind(v)
                .bind(n)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        let epochs = rng.below(12) as i64;
        for step in 0..epochs {
            for key in ["loss", "err"] {
                let value = match rng.below(10) {
                    0 => None,
                    1 => Some(1e8 + rng.below(1000) as f64 * 0.37),
                    _ => Some(rng.below(1_000_000) as f64 / 7919.0 - 50.0),
                };
                let repeats = if rng.below(20) == 0 { 2 } else { 1 };
                for _ in 0..repeats {
                    sqlx::query(
                        "INSERT INTO metrics (run_id, key, step, value, wall_time) VALUES (?, ?, ?, ?, 0)",
                    )
                    .bind(id)
                    .bind(key)
                    .bind(step)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                }
            }
        }
        if rng.below(7) == 0 {
            // A far-away step: the sparse layout.
            sqlx::query(
                "INSERT INTO metrics (run_id, key, step, value, wall_time) VALUES (?, 'far', ?, ?, 0)",
            )
            .bind(id)
            .bind(rng.below(3) as i64 * 1_000_000_000)
            .bind(rng.below(100) as f64 * 0.1)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

async fn compare(store: &Store, summary: &Summary) {
    let bys: [&[&str]; 6] = [
        &[],
        &["lr"],
        &["init"],
        &["init", "lr"],
        &["size", "missing"],
        &["const"],
    ];
    let filters = [
        RunFilter::default(),
        RunFilter {
            statuses: vec!["finished".into()],
            params: vec![],
        },
        RunFilter {
            statuses: vec![],
            params: vec![("init".into(), vec!["random".into(), "Zeta".into()])],
        },
    ];
    for exp in [1, 2, 3] {
        for by in bys {
            for metric in ["loss", "err", "far", "none"] {
                for filter in &filters {
                    let q = GroupQuery {
                        experiment_id: exp,
                        by: by.iter().map(|s| s.to_string()).collect(),
                        metric: metric.into(),
                        filter: filter.clone(),
                    };
                    let want =
                        serde_json::to_string(&store.group_curves(&q).await.unwrap()).unwrap();
                    let got =
                        serde_json::to_string(&summary.group_curves(store, &q).await.unwrap())
                            .unwrap();
                    assert_eq!(got, want, "{q:?}");
                }
            }
        }
        let want = serde_json::to_string(&store.swept_params(exp).await.unwrap()).unwrap();
        let got = serde_json::to_string(&summary.swept(store, exp).await.unwrap()).unwrap();
        assert_eq!(got, want, "swept params of experiment {exp}");
    }
}

#[tokio::test]
async fn summary_answers_as_sql_does_before_and_after_new_rows() {
    let path =
        std::env::temp_dir().join(format!("harmonium-web-summary-{}.db", std::process::id()));
    let _scratch = Scratch(path.clone());
    let store = Store::open(&path).await.unwrap();
    for id in 1..=2 {
        sqlx::query(
            "INSERT INTO experiments (id, name, yaml, created_at, updated_at) VALUES (?, ?, '', 'now', 'now')",
        )
        .bind(id)
        .bind(format!("e{id}"))
        .execute(&store.pool)
        .await
        .unwrap();
    }
    let mut rng = Lcg(42);
    let summary = Summary::default();
    add_runs(&store, &mut rng, 1, 120).await;
    let built = summary.refresh(&store).await.unwrap();
    assert!(built.points > 0 && built.params > 0);
    compare(&store, &summary).await;
    // New runs and points: only those are read, and the answers follow.
    add_runs(&store, &mut rng, 120, 200).await;
    let more = summary.refresh(&store).await.unwrap();
    assert!(more.points > 0 && more.points < built.points * 2);
    compare(&store, &summary).await;
    // Rows deleted by hand: rebuilt from scratch.
    sqlx::query("DELETE FROM runs WHERE id > 150")
        .execute(&store.pool)
        .await
        .unwrap();
    compare(&store, &summary).await;
    store.pool.close().await;
}
