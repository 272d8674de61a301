//! Preemption-safe trials: a trial killed with SIGKILL in the middle of an epoch continues, on
//! the next `run`, from its last whole epoch, and ends with the metrics of a run that was never
//! killed (same seed, `flex`), its curves whole and without a duplicate point; `--restart`
//! starts it over.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harmonium_tests::{harmonium, ok, scalar, stderr};

/// One trial: a 2-layer stack pretrained by CD (6 epochs each), fine-tuned for 30 epochs (a
/// fine-tuning epoch of 1,500 images takes milliseconds: enough of them are left after the
/// kill point that the run cannot finish before the kill lands).
const TRIAL: &str = "name: resumed
dataset: {name: mnist, train_size: 1500, valid_size: 500, test_size: 500}
seeds: [3]
pretrain:
  rbm: {epochs: 6, batch_size: 50, lr: 0.05, eval: {every: 2, pseudo_likelihood: false}}
  data: all
mlp: {hidden: [200, 100], epochs: 30, batch_size: 50, lr: 0.1, lr_decay: 0.9, init: dbn}
";

async fn one(db: &Path, sql: &str) -> f64 {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let v: f64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    v
}

/// The final values of a run's `best_*` metrics and of each layer's last reconstruction error.
async fn finals(db: &Path, run: i64) -> Vec<(String, f64)> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let rows: Vec<(String, f64)> = sqlx::query_as(
        "SELECT key, value FROM latest_metrics WHERE run_id = ? AND value IS NOT NULL \
         AND key NOT LIKE '%seconds%' AND key NOT LIKE '%cached%' ORDER BY key",
    )
    .bind(run)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

/// Kills `harmonium run` with SIGKILL once the run has `points` metric points of `key` and a
/// saved state, a little into the next epoch (at most the 50 ms poll and 20 ms later).
async fn kill_when(d: &Path, file: &str, key: &str, points: i64) {
    let mut child = harmonium_tests::spawn_run(d, file);
    let db = d.join("h.db");
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < Duration::from_secs(300), "never got there");
        std::thread::sleep(Duration::from_millis(50));
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended ({status}) before it was killed");
        }
        if harmonium_tests::scalar_so_far(
            &db,
            &format!("SELECT COUNT(*) FROM metrics WHERE key = '{key}'"),
        )
        .await
            >= points
        {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(20));
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_trial_killed_mid_epoch_continues_from_its_last_epoch_and_ends_as_if_never_killed() {
    // The run that is never killed.
    let whole = tempfile::tempdir().unwrap();
    std::fs::write(whole.path().join("t.yaml"), TRIAL).unwrap();
    ok(harmonium(whole.path(), &["run", "t.yaml", "--no-progress"]));
    let whole_db = whole.path().join("h.db");
    let expected = finals(&whole_db, 1).await;
    assert!(
        expected.iter().any(|(k, _)| k == "best_test_error"),
        "{expected:?}"
    );

    // Killed during the second layer's pretraining, then (continued) during fine-tuning, then
    // run to the end.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.yaml"), TRIAL).unwrap();
    let db = d.join("h.db");
    kill_when(d, "t.yaml", "layer2/lr", 3).await;
    kill_when(d, "t.yaml", "valid_error", 3).await;
    let e = stderr(&ok(harmonium(d, &["run", "t.yaml", "--no-progress"])));
    assert!(
        e.contains("continuing trial 0 [seed=3] from killed run 2"),
        "{e}"
    );
    let pool = harmonium_tests::open_db(d).await;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM runs ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(statuses, ["killed", "killed", "finished"]);
    let got = finals(&db, 3).await;
    assert_eq!(got.len(), expected.len(), "{got:?}\n{expected:?}");
    for ((k, a), (k2, b)) in got.iter().zip(&expected) {
        assert_eq!(k, k2);
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{k}: {a} after two kills, {b} never killed"
        );
    }
    // Whole curves, no point twice, as many points as the run never killed.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM (SELECT key, step FROM metrics WHERE run_id = 3 \
             GROUP BY key, step HAVING COUNT(*) > 1)"
        )
        .await,
        0,
        "a point recorded twice"
    );
    for key in [
        "layer1/recon_error",
        "layer2/lr",
        "valid_error",
        "best_test_error",
    ] {
        let sql = format!("SELECT COUNT(*) FROM metrics WHERE key = '{key}' AND run_id = ");
        assert_eq!(
            scalar(&db, &format!("{sql}3")).await,
            scalar(&whole_db, &format!("{sql}1")).await,
            "{key}"
        );
    }
    // The killed run's pictures came along; the saved states are gone once it finished.
    let pictures = |db: std::path::PathBuf, run: i64| async move {
        scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM artifacts WHERE run_id = {run} AND kind != 'checkpoint'"
            ),
        )
        .await
    };
    assert_eq!(
        pictures(db.clone(), 3).await,
        pictures(whole_db.clone(), 1).await
    );
    let leftover = walk(&d.join("artifacts"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "state"))
        .count();
    assert_eq!(leftover, 0, "saved states left behind");
    // The continued run's clock goes on from the killed runs'.
    let first = one(
        &db,
        "SELECT MIN(wall_time) FROM metrics WHERE run_id = 3 AND key = 'valid_error'",
    )
    .await;
    let killed = one(
        &db,
        "SELECT MAX(wall_time) FROM metrics WHERE run_id = 2 AND key = 'layer2/lr'",
    )
    .await;
    assert!(first > killed, "{first} after {killed}");
}

#[tokio::test]
async fn a_killed_fine_tuning_continues_and_restart_starts_it_over() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = TRIAL.replace("init: dbn", "init: random");
    std::fs::write(d.join("t.yaml"), &file).unwrap();
    kill_when(d, "t.yaml", "valid_error", 3).await;
    let e = stderr(&ok(harmonium(d, &["run", "t.yaml", "--no-progress"])));
    assert!(e.contains("continuing trial 0"), "{e}");
    assert_eq!(
        scalar(
            &d.join("h.db"),
            "SELECT COUNT(*) FROM metrics WHERE run_id = 2 AND key = 'valid_error'"
        )
        .await,
        30
    );
    // Killed again, and started over with --restart: all thirty epochs run in the new run.
    let again = d.join("again");
    std::fs::create_dir(&again).unwrap();
    std::fs::write(again.join("t.yaml"), &file).unwrap();
    kill_when(&again, "t.yaml", "valid_error", 3).await;
    let e = stderr(&ok(harmonium(
        &again,
        &["run", "t.yaml", "--no-progress", "--restart"],
    )));
    assert!(!e.contains("continuing"), "{e}");
    // Its epochs were computed again, not replayed: a replay copies the killed run's points
    // with their wall times.
    assert_eq!(
        scalar(
            &again.join("h.db"),
            "SELECT COUNT(*) FROM metrics a JOIN metrics b ON a.key = b.key AND a.step = b.step \
             AND a.wall_time = b.wall_time WHERE a.run_id = 1 AND b.run_id = 2"
        )
        .await,
        0,
        "the restarted run replayed the killed run's points"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
