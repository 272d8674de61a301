//! Store round trip, migrations from an empty file, and reaping runs of dead processes.

use crate::{NewRun, Store, Writer};

fn new_run(experiment_id: i64, hash: &str) -> NewRun {
    NewRun {
        experiment_id,
        trial_index: 0,
        config_json: r#"{"mlp":{"lr":0.1}}"#.into(),
        config_hash: hash.into(),
        seed: 3,
        git_commit: Some("abc".into()),
        host: "testhost".into(),
        params: vec![
            ("mlp.lr".into(), serde_json::json!(0.1)),
            ("dataset.name".into(), serde_json::json!("mnist")),
        ],
    }
}

#[tokio::test]
async fn migrations_create_the_schema_in_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&store.pool)
            .await
            .unwrap();
    for t in [
        "artifacts",
        "experiments",
        "latest_metrics",
        "metrics",
        "params",
        "runs",
    ] {
        assert!(tables.iter().any(|x| x == t), "{t} missing from {tables:?}");
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // Opening again applies nothing new and keeps working.
    drop(store);
    Store::open(&path).await.unwrap();
}

#[tokio::test]
async fn corrupt_database_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&path).await.unwrap_err().to_string();
    assert!(err.contains("bad.db"), "{err}");
    let missing = Store::open_existing(&dir.path().join("nope.db"))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("does not exist"), "{missing}");
}

#[tokio::test]
async fn writes_round_trip_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("h.db")).await.unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let exp = w
        .experiment(
            "e1",
            "desc",
            "name: e1",
            Some("valid_error".into()),
            Some("minimize".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        w.experiment("e1", "desc2", "name: e1", Some("valid_error".into()), None)
            .await
            .unwrap(),
        exp,
        "same name, same experiment"
    );
    let run = w.create_run(new_run(exp, "h1")).await.unwrap();
    w.start(run).unwrap();
    for step in 1..=3 {
        w.metric(run, "valid_error", step, 0.5 / step as f64, step as f64)
            .unwrap();
    }
    w.metric(run, "loss", 1, f64::NAN, 1.0).unwrap();
    w.artifact(run, "filters", "run-1/filters.png", Some(3))
        .unwrap();
    w.finish(run, "finished", None).unwrap();
    w.flush().await.unwrap();
    drop(w);
    writer.join().await;

    let runs = store.runs(Some(exp)).await.unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(
        (r.status.as_str(), r.seed, r.config_hash.as_str()),
        ("finished", 3, "h1")
    );
    assert_eq!(r.params["mlp.lr"], "0.1");
    assert_eq!(r.params["dataset.name"], "mnist");
    assert_eq!(r.metrics["valid_error"], Some(0.5 / 3.0));
    assert_eq!(
        r.metrics["loss"], None,
        "NaN is stored as NULL, not dropped"
    );
    let series = store.metric_series(run, "valid_error").await.unwrap();
    assert_eq!(
        series.iter().map(|p| p.step).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let detail = store.run(run).await.unwrap();
    assert_eq!(detail.config["mlp"]["lr"], 0.1);
    assert_eq!(detail.artifacts[0].path, "run-1/filters.png");
    assert_eq!(
        store
            .finished_hashes(exp)
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["h1".to_string()]
    );
    let exps = store.experiments().await.unwrap();
    assert_eq!(exps[0].best, Some(0.5 / 3.0));
    assert_eq!(exps[0].description, "desc2");
    assert!(store.run(999).await.is_err());
}

#[tokio::test]
async fn runs_of_a_dead_process_are_marked_killed_and_finished_runs_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("h.db")).await.unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let exp = w.experiment("e", "", "", None, None).await.unwrap();
    let done = w.create_run(new_run(exp, "a")).await.unwrap();
    w.finish(done, "finished", None).unwrap();
    let crashed = w.create_run(new_run(exp, "b")).await.unwrap();
    w.start(crashed).unwrap();
    w.flush().await.unwrap();
    drop(w);
    writer.join().await;
    // Pretend the run belonged to a process that no longer exists.
    sqlx::query("UPDATE runs SET pid = 999999999 WHERE id = ?")
        .bind(crashed)
        .execute(&store.pool)
        .await
        .unwrap();
    assert_eq!(
        store.reap_dead_runs("otherhost").await.unwrap(),
        0,
        "other hosts' runs are left alone"
    );
    assert_eq!(store.reap_dead_runs("testhost").await.unwrap(), 1);
    let runs = store.runs(Some(exp)).await.unwrap();
    assert_eq!(runs[0].status, "finished");
    assert_eq!(runs[1].status, "killed");
    assert!(
        runs[1]
            .error
            .as_deref()
            .unwrap()
            .contains("ended without finishing")
    );
}
