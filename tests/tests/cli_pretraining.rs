//! Pretrained-vs-random sweep from YAML to database, the stage cache across invocations, and
//! `compare` / `export` on the result.

use harmonium_tests::{harmonium, ok, run_file, scalar, stderr, stdout};

const SWEEP: &str = "name: pvr
dataset: {name: mnist, train_size: 300, valid_size: 500, test_size: 500}
seeds: [1, 2]
mlp: {hidden: [24, 12], epochs: 2, batch_size: 50, lr: 0.1}
pretrain:
  rbm: {epochs: 1, batch_size: 50}
  data: labelled
sweep:
  parameters:
    mlp.init: [pretrained, random]
  metric: {name: best_valid_error, goal: minimize}
";

#[tokio::test]
async fn pretrained_vs_random_sweep_lands_every_run_and_reuses_stacks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pvr.yaml"), SWEEP).unwrap();
    let out = ok(harmonium(d, &["run", "pvr.yaml", "--no-progress"]));
    assert!(
        stderr(&out).contains("2 pretrained stacks needed (0 cached, 2 to train)"),
        "{}",
        stderr(&out)
    );
    let db = d.join("h.db");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        4
    );
    // Pretrained runs carry per-layer curves; random ones do not.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(DISTINCT run_id) FROM metrics WHERE key = 'layer2/recon_error'"
        )
        .await,
        2
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM artifacts WHERE kind = 'filters'").await,
        2
    );

    // A second experiment that changes only fine-tuning reuses both stacks, with their curves.
    let tuned = SWEEP
        .replace("name: pvr", "name: pvr-lr")
        .replace("lr: 0.1}", "lr: 0.05}");
    std::fs::write(d.join("tuned.yaml"), tuned).unwrap();
    let out = ok(harmonium(d, &["run", "tuned.yaml", "--no-progress"]));
    assert!(
        stderr(&out).contains("2 pretrained stacks needed (2 cached, 0 to train)"),
        "{}",
        stderr(&out)
    );
    let reused = "SELECT COUNT(*) FROM latest_metrics l JOIN runs r ON r.id = l.run_id JOIN experiments e ON e.id = r.experiment_id \
                  WHERE e.name = 'pvr-lr' AND l.key = 'pretrain_cached' AND l.value = 1";
    assert_eq!(scalar(&db, reused).await, 2);
    let curves = "SELECT COUNT(*) FROM metrics m JOIN runs r ON r.id = m.run_id JOIN experiments e ON e.id = r.experiment_id \
                  WHERE e.name = 'pvr-lr' AND m.key = 'layer1/recon_error'";
    assert_eq!(
        scalar(&db, curves).await,
        2,
        "cached curves are replayed into each run"
    );

    let table = stdout(&ok(harmonium(
        d,
        &[
            "compare",
            "pvr",
            "--group-by",
            "init",
            "--metric",
            "test_error",
        ],
    )));
    assert!(
        table.contains("pretrained  2")
            && table.contains("random      2")
            && table.contains("random − pretrained"),
        "{table}"
    );
    ok(harmonium(
        d,
        &["export", "pvr", "--format", "csv", "-o", "runs.csv"],
    ));
    let csv = std::fs::read_to_string(d.join("runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "header and 4 runs:\n{csv}");
    assert!(csv.lines().next().unwrap().contains("mlp.init"));
    ok(harmonium(
        d,
        &[
            "export",
            "pvr",
            "--format",
            "parquet",
            "--curves",
            "-o",
            "curves.parquet",
        ],
    ));
    let bytes = std::fs::read(d.join("curves.parquet")).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
}

const MODULES: &str = "name: modules
dataset: {name: mnist, train_size: 500, valid_size: 200, test_size: 200}
seeds: [1]
pretrain:
  rbm: {epochs: 1, lr: 0.05}
  autoencoder: {epochs: 1}
mlp: {hidden: [32, 16], epochs: 2, batch_size: 50, lr: 0.1, init: dbn}
sweep:
  parameters:
    pretrain.module: [rbm, dae, cae]
  metric: {name: best_valid_error, goal: minimize}
";

#[tokio::test]
async fn pretraining_modules_are_one_more_swept_parameter_through_the_stage_cache() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_file(d, "modules.yaml", MODULES);
    let text = stdout(&out) + &stderr(&out);
    assert!(
        text.contains("3 pretrained stacks needed (0 cached, 3 to train)"),
        "{text}"
    );
    let db = d.join("h.db");
    // Each module trained its own stack: the autoencoders report their own losses.
    for (key, runs) in [
        ("layer1/recon_error", 3),
        ("layer1/contractive_penalty", 1),
        ("layer2/loss", 2),
        ("pretrain_cached", 3),
    ] {
        assert_eq!(
            scalar(
                &db,
                &format!("SELECT COUNT(DISTINCT run_id) FROM metrics WHERE key = '{key}'")
            )
            .await,
            runs,
            "{key}"
        );
    }
    // A second run of the same stacks in another experiment takes all three from the cache.
    let out = run_file(
        d,
        "again.yaml",
        &MODULES.replace("name: modules", "name: again"),
    );
    let text = stdout(&out) + &stderr(&out);
    assert!(
        text.contains("3 pretrained stacks needed (3 cached, 0 to train)"),
        "{text}"
    );
    // An unknown module is refused with its key before anything runs.
    std::fs::write(
        d.join("bad.yaml"),
        MODULES
            .replace("[rbm, dae, cae]", "[rbm, vae]")
            .replace("name: modules", "name: bad"),
    )
    .unwrap();
    let out = harmonium(d, &["run", "bad.yaml"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pretrain.module"), "{}", stderr(&out));
    // A module where no trial pretrains is refused too, naming the key and its line.
    std::fs::write(
        d.join("unused.yaml"),
        MODULES
            .replace("init: dbn}", "init: random}")
            .replace("name: modules", "name: unused"),
    )
    .unwrap();
    let out = harmonium(d, &["run", "unused.yaml"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("pretrain.module") && err.contains("no trial pretrains"),
        "{err}"
    );
}
