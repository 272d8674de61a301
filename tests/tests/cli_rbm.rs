//! An RBM stage from YAML to database: curves, AIS test log-probability, pictures, checkpoint.

use std::path::Path;

use harmonium_tests::{harmonium, ok, open_db, run_file, scalar, stderr, stdout};

/// The exact log Z that run `run` logged at epoch `step`.
async fn exact_log_z(dir: &Path, run: i64, step: i64) -> f64 {
    let pool = open_db(dir).await;
    let v = sqlx::query_scalar(
        "SELECT value FROM metrics WHERE run_id = ? AND step = ? AND key = 'exact_log_z'",
    )
    .bind(run)
    .bind(step)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    v
}

const RBM: &str = "name: rbm-tiny
dataset: {name: mnist, train_size: 500, valid_size: 500, test_size: 500, binarize: stochastic}
seeds: [3]
rbm:
  hidden: 16
  epochs: 2
  batch_size: 50
  eval: {ais: {runs: 16, betas: 500}, sample_steps: 20, picture_filters: 16, sample_chains: 16}
sweep:
  parameters:
    rbm: [{cd_k: 1}, {cd_k: 1, persistent: true, chains: 50}]
  metric: {name: test_logprob, goal: maximize}
";

#[tokio::test]
async fn rbm_stage_records_curves_likelihoods_pictures_and_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "rbm.yaml", RBM);
    let pool = open_db(d).await;
    assert_eq!(
        scalar(
            &d.join("h.db"),
            "SELECT COUNT(*) FROM runs WHERE status = 'finished'"
        )
        .await,
        2
    );
    for key in [
        "recon_error",
        "free_energy_gap",
        "pseudo_loglik",
        "exact_loglik",
    ] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM metrics WHERE key = ?")
            .bind(key)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 4, "{key}: 2 runs × 2 epochs");
    }
    // With 16 hidden units the exact log-likelihood is known: the AIS figure must be close.
    let rows: Vec<(f64, f64)> = sqlx::query_as(
        "SELECT a.value, e.value FROM latest_metrics a JOIN latest_metrics e ON e.run_id = a.run_id \
         WHERE a.key = 'ais_log_z' AND e.key = 'exact_log_z'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    for (ais, exact) in rows {
        assert!(
            (ais - exact).abs() < 2.0,
            "AIS log Z {ais} vs exact {exact}"
        );
    }
    let logprob: Vec<f64> =
        sqlx::query_scalar("SELECT value FROM latest_metrics WHERE key = 'test_logprob'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(logprob.len(), 2);
    assert!(
        logprob.iter().all(|&l| l < 0.0 && l > -543.0),
        "{logprob:?} (−543 nats = uniform over 784 bits)"
    );
    let artifacts: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, path FROM artifacts WHERE run_id = 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    for kind in ["filters", "reconstructions", "samples", "checkpoint"] {
        let (_, path) = artifacts
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("no {kind} in {artifacts:?}"));
        let bytes = std::fs::read(d.join("artifacts").join(path)).unwrap();
        if kind == "checkpoint" {
            assert!(bytes.len() > 784 * 16 * 4);
        } else {
            assert_eq!(&bytes[1..4], b"PNG", "{path}");
        }
    }
    pool.close().await;
    let ls = stdout(&ok(harmonium(d, &["ls", "rbm-tiny"])));
    assert!(
        ls.contains("test_logprob") && ls.contains("rbm.persistent"),
        "{ls}"
    );

    // The checkpoint of run 1 is loaded again: evaluated as it is (epochs: 0), and trained on.
    let (_, ckpt) = artifacts.iter().find(|(k, _)| k == "checkpoint").unwrap();
    let ckpt = d.join("artifacts").join(ckpt);
    let resume = format!(
        "name: rbm-resume
dataset: {{name: mnist, train_size: 500, valid_size: 500, test_size: 500, binarize: stochastic}}
seeds: [3]
rbm:
  hidden: 16
  batch_size: 50
  init: {{checkpoint: {}}}
  eval: {{ais: {{runs: 16, betas: 500}}, sample_steps: 20, picture_filters: 16, sample_chains: 16}}
sweep:
  parameters:
    rbm.epochs: [0, 1]
",
        ckpt.display()
    );
    run_file(d, "resume.yaml", &resume);
    let trained = exact_log_z(d, 1, 2).await;
    let loaded = exact_log_z(d, 3, 0).await;
    assert!(
        (trained - loaded).abs() < 1e-6 * trained.abs().max(1.0),
        "exact log Z of the saved model {trained} vs the loaded one {loaded}"
    );
    let continued = exact_log_z(d, 4, 1).await;
    assert!(
        (continued - loaded).abs() > 1e-6,
        "one more epoch changes the model"
    );
    let ais = scalar(
        &d.join("h.db"),
        "SELECT COUNT(*) FROM metrics WHERE run_id = 3 AND key IN \
         ('ais_log_z', 'ais_effective_runs', 'test_logprob')",
    )
    .await;
    assert_eq!(ais, 3, "an evaluation-only run still estimates log Z");

    // A missing checkpoint is named before anything runs.
    let bad = resume.replace(&ckpt.display().to_string(), "no/such.safetensors");
    std::fs::write(d.join("bad.yaml"), bad).unwrap();
    let out = harmonium(d, &["run", "bad.yaml"]);
    let err = stderr(&out);
    assert!(
        !out.status.success() && err.contains("rbm.init.checkpoint") && err.contains("no/such"),
        "{err}"
    );
}
