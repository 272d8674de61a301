//! Speech: an FSDD pretrained-vs-random run on a few speakers, from YAML to database.

use harmonium_tests::{harmonium, ok, open_db, run_file, scalar, stdout};

const FSDD: &str = "name: fsdd-tiny
dataset:
  name: fsdd
  speakers: [george, jackson, lucas]
  repetitions: 4
  split: {valid: [jackson], test: [lucas]}
seeds: [1]
pretrain:
  rbm: {epochs: 1, batch_size: 50, lr: 0.02}
  layers: [{visible_type: gaussian, lr: 0.002}]
mlp: {hidden: [32], epochs: 2, batch_size: 50, lr: 0.05}
sweep:
  parameters:
    mlp.init: [pretrained, random]
  metric: {name: valid_utterance_error, goal: minimize}
";

#[tokio::test]
async fn fsdd_run_on_three_speakers_records_frame_and_utterance_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "fsdd.yaml", FSDD);
    let pool = open_db(d).await;
    assert_eq!(
        scalar(
            &d.join("h.db"),
            "SELECT COUNT(*) FROM runs WHERE status = 'finished'"
        )
        .await,
        2
    );
    // 4 repetitions × 10 digits of one test speaker: utterance error is a multiple of 1/40.
    let errs: Vec<f64> =
        sqlx::query_scalar("SELECT value FROM latest_metrics WHERE key = 'test_utterance_error'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(errs.len(), 2);
    for e in errs {
        assert!(
            (0.0..=1.0).contains(&e) && ((e * 40.0) - (e * 40.0).round()).abs() < 1e-9,
            "{e}"
        );
    }
    let gaussian: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM metrics WHERE key = 'layer1/recon_error'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        gaussian, 1,
        "the Gaussian first layer of the pretrained run logs its curve"
    );
    pool.close().await;
    // The feature cache was written beside the data and is reused by a second experiment.
    assert_eq!(std::fs::read_dir(d.join("data/cache")).unwrap().count(), 1);
    let table = stdout(&ok(harmonium(
        d,
        &[
            "compare",
            "fsdd-tiny",
            "--group-by",
            "init",
            "--metric",
            "test_utterance_error",
        ],
    )));
    assert!(
        table.contains("pretrained") && table.contains("random"),
        "{table}"
    );
}
