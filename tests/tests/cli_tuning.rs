//! A tuned sweep from the command line: every cell of the outer sweep (pretrained and random
//! init) gets the same inner search on one seed, the best configuration on the validation
//! metric runs over the experiment's seeds, the pretrained stack is trained once for all of
//! them, both levels resume, and `compare --tuning` shows the choices.

use harmonium_tests::{harmonium, ok, open_db, run_file, stderr, stdout};

const TUNED: &str = "name: tuned
dataset: {name: mnist, train_size: 400, valid_size: 200, test_size: 200}
seeds: [1, 2]
pretrain:
  rbm: {epochs: 1, batch_size: 50, lr: 0.05}
mlp: {hidden: [24], epochs: 2, batch_size: 50, lr: 0.1}
sweep:
  parameters:
    mlp.init: [dbn, random]
  tune:
    method: random
    samples: 3
    seed: 4
    parameters:
      mlp.lr: {distribution: log_uniform, min: 0.01, max: 1.0}
  metric: {name: best_valid_error, goal: minimize}
";

#[tokio::test]
async fn each_cell_is_tuned_on_the_same_budget_and_its_choice_runs_over_the_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_file(d, "tuned.yaml", TUNED);
    let log = stderr(&out);
    // One stack per seed: tuning (seed 1) trains one for its three pretrained trials, and the
    // final runs take it from the cache and train only seed 2's.
    assert!(
        log.contains("1 pretrained stacks needed (0 cached, 1 to train)"),
        "{log}"
    );
    assert!(
        log.contains("2 pretrained stacks needed (1 cached, 1 to train)"),
        "{log}"
    );
    let pool = open_db(d).await;
    let count = |name: &'static str| {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id \
                 WHERE e.name = ? AND r.status = 'finished'",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
            n
        }
    };
    assert_eq!(count("tuned/tune").await, 2 * 3);
    assert_eq!(count("tuned").await, 2 * 2);
    // Per cell (`dbn` is stored under its first name, `pretrained`): the tuning runs (seed 1)
    // with their lr and validation error; the final runs' lr
    // must be the lr of the lowest one, for both seeds.
    let rows: Vec<(String, String, f64, i64)> = sqlx::query_as(
        "SELECT e.name, i.value, l.value, r.seed FROM runs r \
         JOIN experiments e ON e.id = r.experiment_id \
         JOIN params i ON i.run_id = r.id AND i.key = 'mlp.init' \
         JOIN params lr ON lr.run_id = r.id AND lr.key = 'mlp.lr' \
         JOIN latest_metrics l ON l.run_id = r.id AND l.key = 'best_valid_error' \
         WHERE r.status = 'finished' ORDER BY r.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let lrs: Vec<(String, String, f64)> = sqlx::query_as(
        "SELECT e.name, i.value, CAST(lr.value AS REAL) FROM runs r \
         JOIN experiments e ON e.id = r.experiment_id \
         JOIN params i ON i.run_id = r.id AND i.key = 'mlp.init' \
         JOIN params lr ON lr.run_id = r.id AND lr.key = 'mlp.lr' \
         WHERE r.status = 'finished' ORDER BY r.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    for init in ["pretrained", "random"] {
        let tuning: Vec<(f64, f64)> = rows
            .iter()
            .zip(&lrs)
            .filter(|((e, i, _, seed), _)| e == "tuned/tune" && i == init && *seed == 1)
            .map(|((_, _, v, _), (_, _, lr))| (*v, *lr))
            .collect();
        assert_eq!(tuning.len(), 3, "{init}");
        let best = tuning
            .iter()
            .copied()
            .reduce(|a, b| if b.0 < a.0 { b } else { a })
            .unwrap();
        let finals: Vec<f64> = lrs
            .iter()
            .filter(|(e, i, _)| e == "tuned" && i == init)
            .map(|(_, _, lr)| *lr)
            .collect();
        assert_eq!(
            finals,
            vec![best.1, best.1],
            "{init}: chose the lowest valid error"
        );
    }
    // The same three learning rates were tried in both cells.
    let tried = |init: &str| -> Vec<u64> {
        lrs.iter()
            .filter(|(e, i, _)| e == "tuned/tune" && i == init)
            .map(|(_, _, lr)| lr.to_bits())
            .collect()
    };
    assert_eq!(tried("pretrained"), tried("random"));
    // Both levels resume: a second run has nothing to do.
    let again = ok(harmonium(d, &["run", "tuned.yaml", "--no-progress"]));
    assert!(
        stdout(&again).contains("0 finished") || stderr(&again).contains("0 finished"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("10 skipped"), "{}", stderr(&again));
    let table = stdout(&ok(harmonium(d, &["compare", "tuned", "--tuning"])));
    assert!(
        table.contains("mlp.init=\"dbn\"") && table.contains("3/3") && table.contains("mlp.lr"),
        "{table}"
    );
    // While only the tuning runs exist (the final ones not started), --tuning still reports.
    let pool = open_db(d).await;
    for sql in [
        "DELETE FROM runs WHERE experiment_id = (SELECT id FROM experiments WHERE name = 'tuned')",
        "DELETE FROM experiments WHERE name = 'tuned'",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let early = stdout(&ok(harmonium(d, &["compare", "tuned", "--tuning"])));
    assert!(early.contains("3/3"), "{early}");
    // The dry run shows both levels.
    let plan = stdout(&ok(harmonium(d, &["run", "tuned.yaml", "--dry-run"])));
    assert!(
        plan.contains("'tuned/tune': 6 tuning trials (2 cells × 3, seed 1)")
            && plan.contains("then 4 final trials (2 cells × 2 seeds)"),
        "{plan}"
    );
}

#[tokio::test]
async fn a_tuned_sweep_runs_by_index_its_tuning_trials_then_each_cells_final_trials() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("indexed.yaml"),
        harmonium_tests::tuned_sweep("indexed"),
    )
    .unwrap();
    let trial = |spec: &str| {
        harmonium(
            d,
            &["run", "indexed.yaml", "--no-progress", "--trial", spec],
        )
    };
    let plan = stdout(&ok(harmonium(d, &["plan", "indexed.yaml"])));
    assert!(plan.contains("numbered 4-7"), "{plan}");
    // A final trial before its cell's tuning: refused, naming the tuning trials to run first.
    let out = trial("4");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("tuning trial(s) 0, 1 of that cell"),
        "{}",
        stderr(&out)
    );
    let out = trial("8");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("numbered 0-7"), "{}", stderr(&out));
    ok(trial("0-1"));
    ok(trial("4-5"));
    let out = trial("6");
    assert!(
        stderr(&out).contains("tuning trial(s) 2, 3 of that cell"),
        "{}",
        stderr(&out)
    );
    // The whole file then runs what is left, and nothing twice.
    let rest = stderr(&ok(harmonium(d, &["run", "indexed.yaml", "--no-progress"])));
    assert!(rest.contains("2 already finished, 2 to run"), "{rest}");
    let pool = open_db(d).await;
    let finals: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT h.value, r.seed, lr.value FROM runs r JOIN experiments e ON e.id = r.experiment_id \
         JOIN params h ON h.run_id = r.id AND h.key = 'mlp.hidden' \
         JOIN params lr ON lr.run_id = r.id AND lr.key = 'mlp.lr' \
         WHERE e.name = 'indexed' AND r.status = 'finished' ORDER BY h.value, r.seed",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(finals.len(), 4, "{finals:?}");
    let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(runs, 8, "each trial once");
    // Each cell's final runs have the rate its tuning chose (the lower validation error).
    for hidden in ["[8]", "[16]"] {
        let tuning: Vec<(String, f64)> = sqlx::query_as(
            "SELECT lr.value, l.value FROM runs r JOIN experiments e ON e.id = r.experiment_id \
             JOIN params h ON h.run_id = r.id AND h.key = 'mlp.hidden' \
             JOIN params lr ON lr.run_id = r.id AND lr.key = 'mlp.lr' \
             JOIN latest_metrics l ON l.run_id = r.id AND l.key = 'best_valid_error' \
             WHERE e.name = 'indexed/tune' AND h.value = ? ORDER BY r.trial_index",
        )
        .bind(hidden)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(tuning.len(), 2);
        let best = if tuning[1].1 < tuning[0].1 {
            &tuning[1].0
        } else {
            &tuning[0].0
        };
        for (h, _, lr) in finals.iter().filter(|f| f.0 == hidden) {
            assert_eq!(lr, best, "cell {h}");
        }
    }
}
