//! Workers that share a sweep: several `harmonium run` processes of one file against one new
//! database (a SQLite file, or a PostgreSQL server) split its trials between them — each trial
//! is claimed by exactly one process, none is lost, and the processes racing to create the new
//! database's tables all succeed.

use std::path::Path;

use harmonium_tests::{harmonium_bin, mirror, postgres_db, scalar};

const SWEEP: &str = "name: shared
dataset: {name: mnist, train_size: 300, valid_size: 100, test_size: 100}
seeds: [1, 2, 3, 4]
mlp: {hidden: [16], epochs: 2, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6]
";

#[tokio::test]
async fn four_processes_on_one_sqlite_file_run_every_trial_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    four_processes_run_every_trial_once(dir.path(), &db).await;
}

#[tokio::test]
async fn four_processes_on_one_postgres_database_run_every_trial_exactly_once() {
    let Some(db) = postgres_db("shared").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    four_processes_run_every_trial_once(dir.path(), &db).await;
}

async fn four_processes_run_every_trial_once(d: &Path, db: &Path) {
    std::fs::write(d.join("shared.yaml"), SWEEP).unwrap();
    // The data is fetched once beforehand, so the processes start their trials together.
    let fetch = std::process::Command::new(harmonium_bin())
        .args(["data", "fetch", "mnist", "--data-dir"])
        .arg(d.join("data"))
        .env("HARMONIUM_DATA_MIRROR", mirror())
        .output()
        .unwrap();
    assert!(
        fetch.status.success(),
        "{}",
        String::from_utf8_lossy(&fetch.stderr)
    );
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(harmonium_bin())
                .args(["run", "shared.yaml", "--no-progress"])
                .current_dir(d)
                .env("HARMONIUM_DB", db)
                .env("HARMONIUM_DATA_DIR", d.join("data"))
                .env("HARMONIUM_DATA_MIRROR", mirror())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ran = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        assert!(!err.contains("could not claim"), "{err}");
        ran += err.matches("finished run ").count();
    }
    assert_eq!(ran, 24, "the processes ran 24 trials between them");
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM runs").await, 24);
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(DISTINCT config_hash) FROM runs WHERE status = 'finished'"
        )
        .await,
        24,
        "every trial once, none duplicated"
    );
    assert_eq!(
        scalar(db, "SELECT COUNT(DISTINCT pid) FROM runs").await > 1,
        true,
        "the trials were shared"
    );
}

#[tokio::test]
async fn a_wrong_postgres_password_or_an_unreachable_server_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("shared.yaml"), SWEEP).unwrap();
    let run = |db: &str| {
        std::process::Command::new(harmonium_bin())
            .args(["run", "shared.yaml", "--no-progress", "--db", db])
            .current_dir(d)
            .env("HARMONIUM_DATA_DIR", d.join("data"))
            .env("HARMONIUM_DATA_MIRROR", mirror())
            .output()
            .unwrap()
    };
    let out = run("postgres://someone:secret@127.0.0.1:1/results");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            "cannot connect to the PostgreSQL database postgres://someone:***@127.0.0.1:1/results"
        ),
        "{err}"
    );
    assert!(err.contains("is the server running"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    if let Some(db) = postgres_db("wrongpw").await {
        let wrong = db.to_string_lossy().replacen(":harmonium@", ":not-it@", 1);
        let out = run(&wrong);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("password authentication failed"), "{err}");
        assert!(!err.contains("not-it"), "{err}");
        // Nothing was written: the database has no tables.
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
            )
            .await,
            0
        );
    }
    assert!(
        !d.join("artifacts").exists() && !d.join("data").exists(),
        "nothing written"
    );
}
