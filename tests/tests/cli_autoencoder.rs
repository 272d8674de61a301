//! Deep autoencoders against PCA from the command line: an `autoencoder:` section swept over
//! its method on an MNIST subset, every method's reconstruction error recorded and compared by
//! method, the pictures stored, the pretrained stack kept in the stage cache, and bad sections
//! refused before anything runs.

use harmonium_tests::{harmonium, ok, open_db, run_file, scalar, stderr, stdout};

const CODES: &str = "name: codes
dataset: {name: mnist, train_size: 1000, valid_size: 200, test_size: 300}
seeds: [1]
autoencoder:
  net: {layers: [64, 2], epochs: 2, lr: 0.01, eval: {pictures: 10}}
  rbm: {epochs: 1, lr: 0.1, eval: {every: 1, max_examples: 200}}
  code: {epochs: 1}
  logistic_pca: {iterations: 5, code_iterations: 20}
sweep:
  parameters:
    autoencoder.method: [deep, pca, logistic_pca]
    autoencoder.net.init: [pretrained, random]
  exclude:
    - {autoencoder.method: pca, autoencoder.net.init: random}
    - {autoencoder.method: logistic_pca, autoencoder.net.init: random}
  metric: {name: test_recon_error, goal: minimize}
";

/// The latest value of `key` in the run whose params say `method` (and `init`).
async fn latest(pool: &sqlx::SqlitePool, method: &str, init: &str, key: &str) -> f64 {
    sqlx::query_scalar(
        "SELECT l.value FROM latest_metrics l JOIN params m ON m.run_id = l.run_id \
         JOIN params i ON i.run_id = l.run_id \
         WHERE m.key = 'autoencoder.method' AND m.value = ? \
         AND i.key = 'autoencoder.net.init' AND i.value = ? AND l.key = ?",
    )
    .bind(method)
    .bind(init)
    .bind(key)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("{method} {init} {key}: {e}"))
}

#[tokio::test]
async fn every_method_codes_mnist_and_compare_prints_the_reconstruction_error_by_method() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "codes.yaml", CODES);
    let db = d.join("h.db");
    // The grid's 6 points less the 2 excluded.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        4
    );
    let pool = open_db(d).await;
    for (method, init) in [
        ("deep", "pretrained"),
        ("deep", "random"),
        ("pca", "pretrained"),
        ("logistic_pca", "pretrained"),
    ] {
        for key in ["train_recon_error", "test_recon_error"] {
            let v = latest(&pool, method, init, key).await;
            // Squared error per 784-pixel image in [0, 1]: positive and below 784.
            assert!(v > 0.0 && v < 784.0, "{method} {init} {key} = {v}");
        }
    }
    // The PCA a deep trial fits beside its net is the PCA trial's: same data, same code size.
    let beside = latest(&pool, "deep", "pretrained", "pca_test_recon_error").await;
    let alone = latest(&pool, "pca", "pretrained", "test_recon_error").await;
    assert!((beside - alone).abs() < 1e-3, "{beside} vs {alone}");
    // The pretrained stack was trained, not taken from the cache.
    assert_eq!(
        latest(&pool, "deep", "pretrained", "autoencoder_stack_cached").await,
        0.0
    );
    // Pictures: every trial its reconstructions; the deep ones a code map per picture epoch;
    // the pretrained deep trial the autoencoder and PCA side by side, and PCA's code map.
    for name in [
        "autoencoder_vs_pca.png",
        "pca_code_map.png",
        "pca_reconstructions.png",
        "logistic_pca_reconstructions.png",
        "logistic_pca_code_map.png",
        "autoencoder_code_map_epoch2.png",
    ] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM artifacts WHERE path LIKE ?")
            .bind(format!("%{name}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(n >= 1, "{name}");
    }
    pool.close().await;
    let table = stdout(&ok(harmonium(
        d,
        &[
            "compare",
            "codes",
            "--group-by",
            "method",
            "--group-by",
            "init",
        ],
    )));
    assert!(table.contains("test_recon_error"), "{table}");
    for method in ["deep", "pca", "logistic_pca"] {
        assert!(
            table.lines().any(|l| l.starts_with(method)),
            "{method}: {table}"
        );
    }
    // A second experiment with other fine-tuning settings takes the pretrained stack from the
    // stage cache.
    let again = CODES
        .replace("name: codes", "name: again")
        .replace("epochs: 2, lr: 0.01", "epochs: 1, lr: 0.02")
        .replace("[deep, pca, logistic_pca]", "[deep]")
        .replace("[pretrained, random]", "[pretrained]")
        .replace("  exclude:\n    - {autoencoder.method: pca, autoencoder.net.init: random}\n    - {autoencoder.method: logistic_pca, autoencoder.net.init: random}\n", "");
    run_file(d, "again.yaml", &again);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM latest_metrics l JOIN runs r ON r.id = l.run_id \
             JOIN experiments e ON e.id = r.experiment_id \
             WHERE e.name = 'again' AND l.key = 'autoencoder_stack_cached' AND l.value = 1"
        )
        .await,
        1
    );
}

#[test]
fn a_code_larger_than_the_input_or_a_misspelt_key_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            CODES.replace("layers: [64, 2]", "layers: [1000]"),
            "autoencoder.net.layers: the code size 1000",
        ),
        (
            CODES.replace("  code: {epochs: 1}", "  code: {epochs: 1, hidden: 5}"),
            "autoencoder.code.hidden",
        ),
        (
            CODES.replace("  code: {epochs: 1}", "  method: pcaa"),
            "pcaa",
        ),
        (
            CODES.replace(
                "{autoencoder.method: pca, autoencoder.net.init: random}",
                "{autoencoder.method: pca, autoencoder.init: random}",
            ),
            "sweep.exclude (line 13): entry 1: 'autoencoder.init' is not a swept parameter",
        ),
        (
            CODES.replace(
                "{autoencoder.method: pca, autoencoder.net.init: random}",
                "{autoencoder.method: pcaa, autoencoder.net.init: random}",
            ),
            "'autoencoder.method' = \"pcaa\" is not one of its values",
        ),
    ];
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let file = format!("bad{i}.yaml");
        std::fs::write(d.join(&file), yaml).unwrap();
        let out = harmonium(d, &["run", &file, "--no-progress"]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{file} ran");
        assert!(
            err.contains(expected),
            "{file}: expected {expected:?} in\n{err}"
        );
    }
    // Nothing was written: no run of any of them exists.
    assert!(
        !d.join("h.db").exists() || {
            let out = stdout(&harmonium(d, &["ls"]));
            !out.contains("codes")
        }
    );
}
