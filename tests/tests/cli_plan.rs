//! `plan` and `run --trial`: the expanded trials with stable indices and hashes (text and JSON),
//! exactly the trials named run (what an array job's tasks do), and a bad index refused before
//! anything is written.

use harmonium_tests::{harmonium, ok, open_db, stderr, stdout};

const SWEEP: &str = "name: plan
dataset: {name: mnist, train_size: 200, valid_size: 100, test_size: 100}
seeds: [1, 2]
mlp: {hidden: [8], epochs: 1, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.1, 0.3]
";

#[tokio::test]
async fn plan_numbers_the_trials_and_run_trial_runs_exactly_those() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("plan.yaml"), SWEEP).unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout(&ok(harmonium(
        d,
        &["plan", "plan.yaml", "--format", "json"],
    ))))
    .unwrap();
    let trials = json["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    for (i, t) in trials.iter().enumerate() {
        assert_eq!(t["index"], i);
    }
    assert_eq!(trials[3]["params"]["mlp.lr"], 0.3);
    assert_eq!(trials[3]["seed"], 2);
    // The text form gives the same hashes, and so does the dry run.
    let text = stdout(&ok(harmonium(d, &["plan", "plan.yaml"])));
    let dry = stdout(&ok(harmonium(d, &["run", "plan.yaml", "--dry-run"])));
    for t in trials {
        let hash = t["hash"].as_str().unwrap();
        assert!(text.contains(hash) && dry.contains(hash), "{hash}");
    }
    // Out of range, or not an index: refused, and no database is created.
    for bad in ["4", "2-9", "3-1", "one"] {
        let out = harmonium(d, &["run", "plan.yaml", "--trial", bad, "--no-progress"]);
        assert!(!out.status.success(), "--trial {bad} ran");
        assert!(stderr(&out).contains("--trial"), "{}", stderr(&out));
    }
    assert!(!d.join("h.db").exists(), "nothing written");
    // Two "array tasks" split the sweep; a third repeats one and finds it finished.
    ok(harmonium(
        d,
        &["run", "plan.yaml", "--trial", "0-1", "--no-progress"],
    ));
    ok(harmonium(
        d,
        &["run", "plan.yaml", "--trial", "3", "--no-progress"],
    ));
    let pool = open_db(d).await;
    let runs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT trial_index, config_hash FROM runs WHERE status = 'finished' ORDER BY trial_index",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        [0, 1, 3],
        "exactly the trials named"
    );
    for (i, hash) in &runs {
        assert_eq!(trials[*i as usize]["hash"], hash.as_str());
    }
    let again = ok(harmonium(
        d,
        &["run", "plan.yaml", "--trial", "3", "--no-progress"],
    ));
    assert!(stderr(&again).contains("1 skipped"), "{}", stderr(&again));
    pool.close().await;
}
