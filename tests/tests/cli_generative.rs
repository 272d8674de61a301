//! The generative family from the command line: a general Boltzmann machine, an RBM and a
//! sigmoid belief net side by side on bars and stripes; the conditional Boltzmann machine on
//! correlated outputs; wake-sleep on binarized MNIST; the up-down DBN with its label units and
//! fantasies, its stack reused from the stage cache; and the bad sections each refused.

use harmonium_tests::{harmonium, run_file, scalar, stderr};

/// A final metric of the one run of experiment `exp`.
async fn value(db: &std::path::Path, key: &str) -> f64 {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let v: f64 = sqlx::query_scalar("SELECT value FROM latest_metrics WHERE key = ? LIMIT 1")
        .bind(key)
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{key}: {e}"));
    pool.close().await;
    v
}

const SIDE_BY_SIDE: &str = "name: toy
dataset: {name: bars_and_stripes, side: 3, train_size: 280}
seeds: [1]
boltzmann: {hidden: 4, epochs: 40, batch_size: 14, eval: {every: 20}}
rbm: {hidden: 8, epochs: 40, batch_size: 14, lr: 0.05, cd_k: 5, eval: {every: 20, exact_loglik: true, ais: null}}
sbn: {layers: [8, 2], epochs: 100, batch_size: 5, lr: 0.1, eval: {every: 50}}
";

#[tokio::test]
async fn three_density_models_side_by_side_report_exact_test_log_likelihoods() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "toy.yaml", SIDE_BY_SIDE);
    let db = d.join("h.db");
    let uniform = -(512f64.ln());
    let best = -(14f64.ln());
    for model in ["boltzmann", "rbm", "sbn"] {
        let ll = value(&db, &format!("{model}/test_exact_loglik")).await;
        assert!(
            ll > uniform + 1.0 && ll <= best + 1e-6,
            "{model}: {ll} (uniform {uniform}, best {best})"
        );
    }
    // The SBN's importance-sampled estimate sits at or above its bound, near the exact value.
    let (is, bound, exact) = (
        value(&db, "sbn/test_is_loglik").await,
        value(&db, "sbn/test_bound").await,
        value(&db, "sbn/test_exact_loglik").await,
    );
    assert!(
        bound <= is + 1e-9 && (is - exact).abs() < 0.1,
        "{bound} {is} {exact}"
    );
    // Each model's pictures, named by it.
    for name in [
        "rbm_samples_epoch40",
        "boltzmann_samples_epoch40",
        "sbn_samples_epoch100",
    ] {
        assert_eq!(
            scalar(
                &db,
                &format!("SELECT COUNT(*) FROM artifacts WHERE path LIKE '%/{name}.png'")
            )
            .await,
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_conditional_boltzmann_machine_models_outputs_a_product_distribution_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(
        d,
        "agree.yaml",
        "name: agree
dataset: {name: agreement, train_size: 20}
seeds: [1]
boltzmann: {inputs: 1, hidden: 2, persistent: false, epochs: 200, lr: 0.1}
",
    );
    let db = d.join("h.db");
    let agree = value(&db, "bm_p_11").await + value(&db, "bm_p_00").await;
    let product = value(&db, "product_p_11").await + value(&db, "product_p_00").await;
    assert!(agree > 0.9, "the machine puts {agree} on agreeing outputs");
    assert!((product - 0.5).abs() < 1e-9, "{product}");
    assert!(value(&db, "bm_kl").await < 0.2);
    assert!((value(&db, "product_kl").await - 2f64.ln()).abs() < 1e-9);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM artifacts WHERE kind = 'outputs'").await,
        1
    );
}

#[tokio::test]
async fn wake_sleep_on_binarized_mnist_is_scored_by_importance_sampling_and_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "name: ws
dataset: {name: mnist, train_size: 500, valid_size: 100, test_size: 100, binarize: stochastic}
seeds: [1]
sbn: {layers: [40, 10], epochs: 3, batch_size: 10, lr: 0.1, eval: {max_examples: 100, importance_samples: 20}}
";
    run_file(d, "ws.yaml", text);
    let db = d.join("h.db");
    let (is, se, bound) = (
        value(&db, "test_is_loglik").await,
        value(&db, "test_is_loglik_se").await,
        value(&db, "test_bound").await,
    );
    assert!(
        bound <= is && se > 0.0 && is < 0.0 && is > -543.0,
        "{bound} {is} ± {se}"
    );
    assert!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM artifacts WHERE kind IN ('samples', 'filters')"
        )
        .await
            == 2
    );
    // Grey-level pixels are refused: the visible units are binary.
    std::fs::write(
        d.join("grey.yaml"),
        text.replace(", binarize: stochastic", ""),
    )
    .unwrap();
    let out = harmonium(d, &["run", "grey.yaml"]);
    assert!(
        stderr(&out).contains("dataset.binarize"),
        "{}",
        stderr(&out)
    );
}

const UPDOWN: &str = "name: NAME
dataset: {name: mnist, train_size: 1000, valid_size: 200, test_size: 500}
seeds: [1]
updown:
  layers: [64, 64, 128]
  epochs: 2
  batch_size: 20
  pretrain: {epochs: 3, batch_size: 20, lr: 0.1}
  top: {epochs: 10, batch_size: 20}
  eval: {fantasy_steps: 50, fantasies_per_class: 4}
";

#[tokio::test]
async fn an_up_down_dbn_classifies_by_free_energy_dreams_by_class_and_shares_its_stack() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "a.yaml", &UPDOWN.replace("NAME", "ud-a"));
    let db = d.join("h.db");
    let err = value(&db, "test_error").await;
    assert!(
        err < 0.5,
        "test error {err} after a short run (chance: 0.9)"
    );
    // One fantasy grid after the last epoch: 10 rows of 28-pixel tiles (one per class).
    let path: String = {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query_scalar("SELECT path FROM artifacts WHERE kind = 'fantasies'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let png =
        std::fs::read(d.join("artifacts").join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(height, 10 * 29 + 1, "one row of tiles per class");
    // Another experiment with the same section reuses the pretrained stack.
    run_file(d, "b.yaml", &UPDOWN.replace("NAME", "ud-b"));
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM latest_metrics WHERE key = 'updown_stack_cached' AND value = 1"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn bad_generative_sections_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            "mask.yaml",
            "name: m\ndataset: {name: agreement}\nboltzmann:\n  hidden: 0\n  connectivity: {mask: [[0, 1, 0], [0, 0, 1], [0, 1, 0]]}\n",
            "connectivity",
        ),
        (
            "self.yaml",
            "name: s\ndataset: {name: agreement}\nboltzmann:\n  hidden: 0\n  connectivity: {mask: [[1, 1, 0], [1, 0, 1], [0, 1, 0]]}\n",
            "connectivity",
        ),
        (
            "labels.yaml",
            "name: l\ndataset: {name: agreement}\nupdown: {layers: [4, 4], classes: 10}\n",
            "updown.classes",
        ),
        (
            "layers.yaml",
            "name: y\ndataset: {name: agreement}\nsbn: {layers: []}\n",
            "layers",
        ),
        (
            "chain.yaml",
            "name: c\ndataset: {name: agreement}\nupdown: {layers: [4], classes: 2}\n",
            "updown",
        ),
    ];
    for (file, text, key) in cases {
        std::fs::write(d.join(file), text).unwrap();
        let out = harmonium(d, &["run", file]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{file} ran");
        assert!(err.contains(key), "{file}: {err}");
    }
}
