//! Two databases in one folder keep their artifacts apart: each database writes below a folder
//! of its own, so runs with the same id never share a file, even when two `run` processes write
//! at once.

use std::path::Path;
use std::process::Command;

use harmonium_tests::{harmonium_bin, mirror, ok, stdout};

fn yaml(name: &str, hidden: usize) -> String {
    format!(
        "name: {name}
dataset: {{name: mnist, train_size: 300, valid_size: 100, test_size: 100, binarize: stochastic}}
seeds: [1]
rbm:
  hidden: {hidden}
  epochs: 1
  batch_size: 50
  eval: {{ais: {{runs: 4, betas: 50}}, sample_steps: 5, picture_filters: 8, sample_chains: 8}}
"
    )
}

fn run(dir: &Path, db: &str, file: &str) -> Command {
    let mut c = Command::new(harmonium_bin());
    c.args(["run", file, "--no-progress", "--db", db])
        .current_dir(dir)
        .env_remove("HARMONIUM_DB")
        .env("HARMONIUM_DATA_DIR", dir.join("data"))
        .env("HARMONIUM_DATA_MIRROR", mirror());
    c
}

/// (kind, path) of every artifact row of the database.
async fn artifacts(db: &Path) -> Vec<(String, String)> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let rows = sqlx::query_as("SELECT kind, path FROM artifacts ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

/// The shape of the weights `W` in a SafeTensors checkpoint.
fn weights_shape(bytes: &[u8]) -> Vec<u64> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let (_, t) = header
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| *k == "W")
        .unwrap_or_else(|| panic!("no W in {header}"));
    t["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn two_databases_in_one_folder_never_share_an_artifact_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("a.yaml"), yaml("arm-a", 8)).unwrap();
    std::fs::write(d.join("b.yaml"), yaml("arm-b", 12)).unwrap();
    // The data once, then both runs at the same time.
    ok(Command::new(harmonium_bin())
        .args(["data", "fetch", "mnist"])
        .current_dir(d)
        .env("HARMONIUM_DATA_DIR", d.join("data"))
        .env("HARMONIUM_DATA_MIRROR", mirror())
        .output()
        .unwrap());
    let a = run(d, "a.db", "a.yaml").spawn().unwrap();
    let b = run(d, "b.db", "b.yaml").spawn().unwrap();
    ok(a.wait_with_output().unwrap());
    ok(b.wait_with_output().unwrap());

    let mut seen = std::collections::HashSet::new();
    for (db, hidden) in [("a.db", 8u64), ("b.db", 12)] {
        let rows = artifacts(&d.join(db)).await;
        let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        for kind in ["filters", "checkpoint"] {
            assert!(kinds.contains(&kind), "{db}: {kinds:?}");
        }
        for (kind, path) in &rows {
            assert!(
                seen.insert(path.clone()),
                "{path} is pointed at by both databases"
            );
            let stem = db.trim_end_matches(".db");
            assert!(path.starts_with(&format!("{stem}-")), "{db}: {path}");
            let bytes = std::fs::read(d.join("artifacts").join(path)).unwrap();
            if kind == "checkpoint" {
                assert_eq!(weights_shape(&bytes), vec![784, hidden], "{db}: {path}");
            } else {
                assert_eq!(&bytes[1..4], b"PNG", "{db}: {path}");
            }
        }
        // `show` names each artifact by its full path.
        let show = stdout(&ok(Command::new(harmonium_bin())
            .args(["show", "1", "--db", db])
            .current_dir(d)
            .output()
            .unwrap()));
        let full = std::fs::canonicalize(d.join("artifacts").join(&rows[0].1)).unwrap();
        assert!(show.contains(&full.display().to_string()), "{show}");
    }
}
