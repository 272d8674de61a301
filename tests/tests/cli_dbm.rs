//! Deep Boltzmann machines from the command line: a `dbm:` section pretrained, composed and
//! trained on an MNIST subset, its AIS log Z and test bound recorded; bad sections refused.

use harmonium_tests::{harmonium, ok, run_file, scalar, stderr, stdout};

const TINY: &str = "name: dbm-tiny
dataset: {name: mnist, train_size: 400, valid_size: 200, test_size: 200, binarize: stochastic}
seeds: [1, 2]
dbm:
  layers: [16, 8]
  epochs: 2
  batch_size: 50
  lr: 0.02
  chains: 50
  eval: {max_examples: 200, exact: false, ais: {runs: 20, betas: 400}}
  pretrain: {epochs: 1, batch_size: 50, lr: 0.05}
";

#[tokio::test]
async fn a_dbm_section_pretrains_composes_trains_and_bounds_the_test_log_probability() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "dbm.yaml", TINY);
    let db = d.join("h.db");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        2
    );
    for key in [
        "layer1/recon_error",
        "layer2/recon_error",
        "mf_iterations",
        "ais_log_z",
        "test_mf_bound",
    ] {
        assert_eq!(
            scalar(
                &db,
                &format!("SELECT COUNT(DISTINCT run_id) FROM metrics WHERE key = '{key}'")
            )
            .await,
            2,
            "{key} in both runs"
        );
    }
    // The bound lies inside the interval AIS's log Z gives it, and below 0 nats.
    let inside = scalar(
        &db,
        "SELECT COUNT(*) FROM latest_metrics b JOIN latest_metrics lo ON lo.run_id = b.run_id \
         JOIN latest_metrics hi ON hi.run_id = b.run_id WHERE b.key = 'test_mf_bound' \
         AND lo.key = 'test_mf_bound_lower' AND hi.key = 'test_mf_bound_upper' \
         AND lo.value <= b.value AND b.value <= hi.value AND b.value < 0",
    )
    .await;
    assert_eq!(inside, 2);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM artifacts WHERE kind = 'checkpoint'"
        )
        .await,
        2
    );
    // Pictures of the first-layer filters and of the persistent chains, in each run.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM artifacts WHERE kind IN ('filters', 'samples')"
        )
        .await,
        4
    );
    let table = stdout(&ok(harmonium(
        d,
        &[
            "compare",
            "dbm-tiny",
            "--group-by",
            "seed",
            "--metric",
            "test_mf_bound",
        ],
    )));
    assert!(table.contains("test_mf_bound"), "{table}");
}

#[test]
fn a_dbm_with_one_hidden_layer_is_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("one.yaml"),
        TINY.replace("layers: [16, 8]", "layers: [16]"),
    )
    .unwrap();
    let o = harmonium(d, &["run", "one.yaml", "--no-progress"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("one.yaml: line 4: dbm") && e.contains("at least 2 hidden layers"),
        "{e}"
    );
    assert!(!d.join("h.db").exists(), "nothing written");
    std::fs::write(d.join("typo.yaml"), TINY.replace("chains: 50", "chain: 50")).unwrap();
    let e = stderr(&harmonium(d, &["run", "typo.yaml"]));
    assert!(e.contains("chain") && e.contains("line 9"), "{e}");
}

/// `mlp.init: dbm` fine-tunes a classifier from the DBM on the data augmented with the top
/// layer's posterior, against the random-init arm of the same hidden layers.
#[tokio::test]
async fn a_classifier_is_fine_tuned_from_the_dbm_against_random_init() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = TINY.replace("seeds: [1, 2]", "seeds: [1]")
        + "mlp: {hidden: [16, 8], epochs: 2, batch_size: 50, lr: 0.1}
sweep:
  parameters:
    mlp.init: [dbm, random]
";
    run_file(d, "finetune.yaml", &yaml);
    let db = d.join("h.db");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        2
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM latest_metrics WHERE key = 'best_test_error'"
        )
        .await,
        2
    );
    let table = stdout(&ok(harmonium(
        d,
        &[
            "compare",
            "dbm-tiny",
            "--group-by",
            "init",
            "--metric",
            "best_test_error",
        ],
    )));
    assert!(table.contains("dbm") && table.contains("random"), "{table}");
    // The random arm took the DBM from the stage cache instead of training it again, and its
    // run has the DBM's curves all the same.
    let pool = harmonium_tests::open_db(d).await;
    let cached: Vec<f64> =
        sqlx::query_scalar("SELECT value FROM metrics WHERE key = 'dbm_cached' ORDER BY run_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(cached, [0.0, 1.0]);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(DISTINCT run_id) FROM metrics WHERE key = 'test_mf_bound'"
        )
        .await,
        2
    );
    // The DBM's layers must match the net's.
    std::fs::write(
        d.join("mismatch.yaml"),
        yaml.replace("hidden: [16, 8]", "hidden: [16, 4]"),
    )
    .unwrap();
    let e = stderr(&harmonium(d, &["run", "mismatch.yaml"]));
    assert!(e.contains("must be the DBM's layers [16, 8]"), "{e}");
}

/// A DBM that diverges is a failed run whose error names the epoch; the sweep goes on.
#[tokio::test]
async fn a_diverging_dbm_fails_its_run_and_the_sweep_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = TINY.replace("seeds: [1, 2]", "seeds: [1]")
        + "sweep:
  parameters:
    dbm.lr: [1.0e+38, 0.02]
";
    std::fs::write(d.join("diverge.yaml"), yaml).unwrap();
    let o = harmonium(d, &["run", "diverge.yaml", "--no-progress"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let db = d.join("h.db");
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM runs WHERE status = 'failed' AND trial_index = 0 \
             AND error LIKE '%epoch%' AND error LIKE '%not finite%'"
        )
        .await,
        1,
        "{}",
        stderr(&o)
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM runs WHERE status = 'finished' AND trial_index = 1"
        )
        .await,
        1
    );
}

/// `init: {checkpoint: PATH}` continues from a DBM an earlier run wrote; a checkpoint of another
/// shape fails the run with both shapes named.
#[tokio::test]
async fn a_dbm_starts_from_a_checkpoint_of_its_shape_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one = TINY.replace("seeds: [1, 2]", "seeds: [1]");
    run_file(d, "first.yaml", &one);
    let checkpoint = find(&d.join("artifacts"), "dbm.safetensors").expect("a DBM checkpoint");
    let from = |layers: &str, name: &str| {
        one.replace("name: dbm-tiny", &format!("name: {name}"))
            .replace("layers: [16, 8]", layers)
            .replace(
                "  pretrain: {epochs: 1, batch_size: 50, lr: 0.05}\n",
                &format!("  init: {{checkpoint: {}}}\n", checkpoint.display()),
            )
    };
    run_file(d, "again.yaml", &from("layers: [16, 8]", "again"));
    let db = d.join("h.db");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        2
    );
    std::fs::write(d.join("other.yaml"), from("layers: [16, 4]", "other")).unwrap();
    let o = harmonium(d, &["run", "other.yaml", "--no-progress"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM runs WHERE status = 'failed' AND error LIKE \
             '%dbm.init.checkpoint%784-16-8 DBM%784-16-4%'"
        )
        .await,
        1,
        "{}",
        stderr(&o)
    );
}

/// The first file named `name` below `dir`.
fn find(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

const SPEECH: &str = "name: dbm-speech
dataset:
  name: fsdd
  speakers: [george, jackson, lucas]
  repetitions: 4
  split: {valid: [jackson], test: [lucas]}
seeds: [1]
dbm:
  visible: gaussian
  layers: [16, 8]
  epochs: 2
  batch_size: 50
  lr: 0.002
  chains: 50
  eval: {max_examples: 200, exact: false, ais: {runs: 20, betas: 400}}
  pretrain: {epochs: 1, batch_size: 50, lr: 0.02}
  pretrain_first_lr: 0.002
mlp: {hidden: [16, 8], epochs: 2, batch_size: 50, lr: 0.05}
sweep:
  parameters:
    mlp.init: [dbm, random]
  metric: {name: valid_utterance_error, goal: minimize}
";

#[tokio::test]
async fn a_gaussian_dbm_on_speech_frames_is_bounded_and_fine_tuned_against_random_init() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "speech.yaml", SPEECH);
    let db = d.join("h.db");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        2
    );
    for key in [
        "layer1/recon_error",
        "ais_log_z",
        "test_mf_bound",
        "test_utterance_error",
    ] {
        assert_eq!(
            scalar(
                &db,
                &format!("SELECT COUNT(DISTINCT run_id) FROM metrics WHERE key = '{key}'")
            )
            .await,
            2,
            "{key} in both runs"
        );
    }
    // A density of real-valued frames: the bound is finite and its lower end (from AIS's upper
    // log Z) below it. (20 runs over 1,353 dimensions rarely give AIS a finite lower log Z.)
    let below = scalar(
        &db,
        "SELECT COUNT(*) FROM latest_metrics b JOIN latest_metrics lo ON lo.run_id = b.run_id \
         WHERE b.key = 'test_mf_bound' AND lo.key = 'test_mf_bound_lower' \
         AND lo.value <= b.value AND b.value > -1e6",
    )
    .await;
    assert_eq!(below, 2);
    // The DBM stays Gaussian through the stage cache: the random arm replayed it.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM latest_metrics WHERE key = 'dbm_cached' AND value = 1"
        )
        .await,
        1
    );
    // The same section with binary visible units is refused, naming `visible`.
    let binary = SPEECH.replace("  visible: gaussian\n", "");
    std::fs::write(d.join("binary.yaml"), binary).unwrap();
    let out = harmonium(d, &["run", "binary.yaml"]);
    let err = stderr(&out);
    assert!(err.contains("visible: gaussian"), "{err}");
}
