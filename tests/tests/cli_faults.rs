//! Bad input and faults, from the command line: each is refused with the file, key or line it
//! comes from, before anything is written, and never changes the results already stored.

#[path = "web_support.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use harmonium_tests::{harmonium, ok, run_file, stderr, stdout};

const BASE: &str = "name: faults
dataset: {name: mnist, train_size: 100, valid_size: 100, test_size: 100}
seeds: [1, 2]
mlp: {hidden: [8], epochs: 1, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.1, 0.3]
";

/// Runs `harmonium run FILE` on `yaml`, which must fail; returns its error output.
fn refused(dir: &Path, file: &str, yaml: &str) -> String {
    std::fs::write(dir.join(file), yaml).unwrap();
    let o = harmonium(dir, &["run", file, "--no-progress"]);
    assert!(!o.status.success(), "{file} was accepted:\n{}", stderr(&o));
    stderr(&o)
}

/// What the runner sees of a database: each finished run (id, experiment, hash) and every
/// metric point of it.
async fn runner_view(
    db: &Path,
) -> BTreeMap<(i64, String, String), Vec<(String, i64, Option<f64>)>> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(db)
                .read_only(true),
        )
        .await
        .unwrap();
    let rows: Vec<(i64, String, String, String, i64, Option<f64>)> = sqlx::query_as(
        "SELECT r.id, e.name, r.config_hash, m.key, m.step, m.value FROM runs r \
         JOIN experiments e ON e.id = r.experiment_id JOIN metrics m ON m.run_id = r.id \
         WHERE r.status = 'finished' ORDER BY r.id, m.key, m.step",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut view: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for (id, experiment, hash, key, step, value) in rows {
        view.entry((id, experiment, hash))
            .or_default()
            .push((key, step, value));
    }
    view
}

#[test]
fn a_sweep_into_a_section_the_file_lacks_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let e = refused(
        dir.path(),
        "mlp-only.yaml",
        &BASE.replace("mlp.lr: [0.1, 0.3]", "rbm.lr: [0.1, 0.3]"),
    );
    assert!(
        e.contains("mlp-only.yaml")
            && e.contains("line 7")
            && e.contains("'rbm.lr'")
            && e.contains("no `rbm:` section"),
        "{e}"
    );
    assert!(!dir.path().join("h.db").exists());
}

#[test]
fn a_huge_grid_is_counted_not_listed_and_run_cap_applies_lazily() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let values = |scale: f64| {
        (1..=10)
            .map(|i| format!("{}", i as f64 * scale))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut grid = String::from(BASE.trim_end_matches("    mlp.lr: [0.1, 0.3]\n"));
    for (key, scale) in [
        ("lr", 0.01),
        ("momentum", 0.05),
        ("weight_decay", 0.001),
        ("lr_decay", 0.1),
    ] {
        grid.push_str(&format!("    mlp.{key}: [{}]\n", values(scale)));
    }
    for key in ["batch_size", "epochs", "patience"] {
        grid.push_str(&format!("    mlp.{key}: [{}]\n", values(1.0)));
    }
    let t0 = Instant::now();
    let e = refused(d, "grid.yaml", &grid);
    assert!(
        e.contains("20,000,000 trials") && e.contains("a grid of 10,000,000 points"),
        "{e}"
    );
    let capped = grid.replace("sweep:\n", "sweep:\n  run_cap: 5\n");
    std::fs::write(d.join("capped.yaml"), &capped).unwrap();
    let out = stdout(&ok(harmonium(d, &["run", "capped.yaml", "--dry-run"])));
    assert!(out.starts_with("experiment 'faults': 5 trials"), "{out}");
    assert!(
        t0.elapsed() < Duration::from_secs(20),
        "counting a grid must not list it"
    );
}

#[test]
fn deeply_nested_yaml_is_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "name: deep\ndataset: {{name: mnist}}\nmlp: {}1{}\n",
        "[".repeat(250_000),
        "]".repeat(250_000)
    );
    let t0 = Instant::now();
    let e = refused(dir.path(), "deep.yaml", &deep);
    assert!(
        e.contains("deep.yaml: line 3") && e.contains("64 levels"),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn what_can_be_checked_up_front_is_checked_before_any_run_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let block = BASE.replace(
        "dataset: {name: mnist, train_size: 100, valid_size: 100, test_size: 100}",
        "dataset:\n  name: mnist\n  train_size: 100\n  valid_size: 100\n  test_size: 100",
    );
    let cases = [
        (
            block.replace("train_size: 100", "train_size: 0"),
            "line 4: dataset.train_size: 0",
        ),
        (
            block.replace("train_size: 100", "train_size: 70000"),
            "line 4: dataset.train_size: 70000 is more than the 59900",
        ),
        (
            block.replace("valid_size: 100", "valid_size: 0"),
            "line 5: dataset.valid_size: 0 leaves `mlp:` no validation split",
        ),
        (
            block.replace("seeds: [1, 2]", "seeds: [1, 2]\ndevice: cuda:3"),
            "line 8: device: device 'cuda:3'",
        ),
        (
            "name: speech\ndataset: {name: fsdd, speakers: [george, jackson, lucas], repetitions: 1, \
             split: {valid: [jackson], test: [lucas]}, train_size: 100000000}\nmlp: {hidden: [8], epochs: 1}\n"
                .to_string(),
            "line 2: dataset.train_size: 100000000 is more than the",
        ),
    ];
    for (yaml, want) in &cases {
        let e = refused(d, "bad.yaml", yaml);
        assert!(
            e.contains("bad.yaml: ") && e.contains(want),
            "want {want:?} in:\n{e}"
        );
        if d.join("h.db").exists() {
            assert_eq!(
                harmonium_tests::scalar(&d.join("h.db"), "SELECT COUNT(*) FROM runs").await,
                0,
                "{want}: no run row is written"
            );
        }
    }
    // An RBM alone may do without a validation split: its validation metrics are left out.
    run_file(
        d,
        "rbm.yaml",
        "name: rbm-no-valid\ndataset: {name: mnist, train_size: 200, valid_size: 0, test_size: 100}\n\
         rbm: {hidden: 16, epochs: 2, eval: {ais: null}}\n",
    );
    let db = d.join("h.db");
    assert_eq!(
        harmonium_tests::scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        1
    );
    assert_eq!(
        harmonium_tests::scalar(&db, "SELECT COUNT(*) FROM metrics WHERE key LIKE '%valid%'").await,
        0
    );
    assert!(
        harmonium_tests::scalar(
            &db,
            "SELECT COUNT(*) FROM metrics WHERE key = 'free_energy_train'"
        )
        .await
            > 0
    );
}

#[test]
fn another_applications_database_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let theirs = d.join("theirs.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&theirs)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        for s in [
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)",
            "INSERT INTO runs (what) VALUES ('theirs')",
        ] {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    });
    let before = std::fs::read(&theirs).unwrap();
    std::fs::write(d.join("ok.yaml"), BASE).unwrap();
    for args in [
        vec!["--db", "theirs.db", "run", "ok.yaml", "--no-progress"],
        vec!["--db", "theirs.db", "ls"],
    ] {
        let o = harmonium(d, &args);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(
            e.contains("theirs.db is not a harmonium results database") && e.contains("runs"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(std::fs::read(&theirs).unwrap(), before);
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["ok.yaml", "theirs.db"],
        "no -wal, -shm or new database"
    );
}

#[test]
fn a_read_only_database_is_listed_shown_compared_exported_and_served() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "ok.yaml", BASE);
    let archive = d.join("archive");
    std::fs::create_dir(&archive).unwrap();
    ok(harmonium(d, &["migrate"]));
    std::fs::copy(d.join("h.db"), archive.join("h.db")).unwrap();
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(&archive.join("h.db"), 0o444);
    mode(&archive, 0o555);
    let before = std::fs::read(archive.join("h.db")).unwrap();
    let db = archive.join("h.db");
    let db = db.to_str().unwrap();
    let csv = d.join("out.csv");
    for args in [
        vec!["--db", db, "ls"],
        vec!["--db", db, "show", "1"],
        vec![
            "--db",
            db,
            "compare",
            "faults",
            "--group-by",
            "lr",
            "--metric",
            "best_valid_error",
        ],
        vec!["--db", db, "export", "faults", "-o", csv.to_str().unwrap()],
    ] {
        ok(harmonium(d, &args));
    }
    assert!(std::fs::read_to_string(&csv).unwrap().lines().count() == 5);
    {
        let server = support::Server::start(Path::new(db));
        let v = support::json(&format!("{}/api/experiments", server.url));
        assert_eq!(v.as_array().map(|a| a.len()), Some(1), "{v}");
    }
    let names: Vec<String> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    mode(&archive, 0o755);
    assert_eq!(names, ["h.db"], "no -wal or -shm left behind");
    assert_eq!(std::fs::read(archive.join("h.db")).unwrap(), before);
}

/// Seeded mutations of a valid file (lines dropped, doubled or re-indented, numbers and values
/// replaced, keys added, the file cut short) and other failing commands: whatever fails leaves
/// the finished runs and their metrics exactly as they were.
#[tokio::test]
async fn a_failed_command_never_changes_what_the_runner_sees() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("h.db");
    run_file(d, "base.yaml", BASE);
    let mut view = runner_view(&db).await;
    assert_eq!(view.len(), 4);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let replacements = [
        "0",
        "-1",
        "1e9",
        ".nan",
        "abc",
        "[]",
        "{}",
        "~",
        "[0, 0]",
        "'\u{1b}[2J'",
    ];
    let (mut failed, mut mutants) = (0, 0);
    for case in 0..40 {
        let lines: Vec<String> = BASE.lines().map(str::to_string).collect();
        let mut m = lines.clone();
        let i = next(m.len());
        match next(6) {
            0 => {
                m.remove(i);
            }
            1 => m.insert(i, m[i].clone()),
            2 => m[i] = format!(" {}", m[i]),
            3 => m.insert(i + 1, "  bogus_key: 1".into()),
            4 => {
                let words: Vec<&str> = m[i].split(|c: char| " ,[]{}:".contains(c)).collect();
                let target = words[next(words.len())].to_string();
                let with = replacements[next(replacements.len())];
                if !target.is_empty() {
                    m[i] = m[i].replacen(&target, with, 1);
                }
            }
            _ => {
                let text = m.join("\n");
                let cut = next(text.len());
                m = vec![text[..cut].to_string()];
            }
        }
        let text = m.join("\n") + "\n";
        if text == BASE {
            continue;
        }
        mutants += 1;
        std::fs::write(d.join("mutant.yaml"), &text).unwrap();
        let o = harmonium(d, &["run", "mutant.yaml", "--no-progress"]);
        let now = runner_view(&db).await;
        if o.status.success() {
            // A valid variant: it may only add runs.
            assert!(
                view.iter().all(|(h, v)| now.get(h) == Some(v)),
                "case {case}:\n{text}"
            );
            view = now;
        } else {
            failed += 1;
            assert_eq!(
                now,
                view,
                "case {case} failed and changed the database:\n{text}\n{}",
                stderr(&o)
            );
        }
    }
    assert!(
        failed >= 15 && mutants >= 30,
        "{failed} of {mutants} mutants failed"
    );
    // Other failing commands.
    std::fs::write(d.join("theirs.db"), b"not a database at all").unwrap();
    std::fs::write(
        d.join("deep.yaml"),
        format!("name: x\nmlp: {}\n", "[".repeat(1000)),
    )
    .unwrap();
    for args in [
        vec!["run", "base.yaml", "-j", "0"],
        vec!["run", "absent.yaml"],
        vec!["run", "deep.yaml"],
        vec!["show", "999"],
        vec!["compare", "faults", "--group-by", "nothing"],
        vec![
            "compare",
            "faults",
            "--group-by",
            "lr",
            "--metric",
            "nothing",
        ],
        vec!["export", "faults", "-o", "/proc/no/such/dir/x.csv"],
        vec!["ls", "no-such-experiment"],
        vec!["--db", "theirs.db", "run", "base.yaml"],
    ] {
        let o = harmonium(d, &args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert_eq!(runner_view(&db).await, view, "{args:?}: {}", stderr(&o));
    }
    // And the runner still skips every finished trial.
    let e = stderr(&ok(harmonium(d, &["run", "base.yaml", "--no-progress"])));
    assert!(e.contains("4 already finished, 0 to run"), "{e}");
}

/// A cached pretrained stack belongs to the files it was trained on: changing a recording of
/// the corpus in place makes the next run train the stack again instead of reusing it.
#[tokio::test]
async fn a_corpus_changed_in_place_is_pretrained_on_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = |lr: &str| {
        format!(
            "name: fsdd-stack-{lr}
dataset:
  name: fsdd
  speakers: [george, jackson, lucas]
  repetitions: 1
  split: {{valid: [jackson], test: [lucas]}}
seeds: [1]
pretrain:
  rbm: {{epochs: 1, batch_size: 50, lr: 0.002, visible_type: gaussian}}
mlp: {{hidden: [16], epochs: 1, batch_size: 50, lr: {lr}, init: pretrained}}
"
        )
    };
    let cached = || async {
        let pool = harmonium_tests::open_db(d).await;
        let v: Vec<f64> = sqlx::query_scalar(
            "SELECT value FROM metrics WHERE key = 'pretrain_cached' ORDER BY run_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        v
    };
    run_file(d, "a.yaml", &yaml("0.05"));
    run_file(d, "b.yaml", &yaml("0.1"));
    assert_eq!(cached().await, [0.0, 1.0], "the same files reuse the stack");
    let rec = d.join("data/fsdd/recordings");
    let other = std::fs::read(rec.join("1_george_0.wav")).unwrap();
    std::fs::write(rec.join("0_george_0.wav"), other).unwrap();
    run_file(d, "c.yaml", &yaml("0.2"));
    assert_eq!(
        cached().await,
        [0.0, 1.0, 0.0],
        "a changed recording trains the stack again"
    );
}

/// Ctrl-C during the AIS estimate at the end of an `rbm:` stage stops it within moments: the
/// run is `killed` without AIS metrics, so the next `run` does it again, whole.
#[tokio::test]
async fn ctrl_c_during_the_final_ais_stops_it_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = "name: long-ais
dataset: {name: mnist, train_size: 200, valid_size: 100, test_size: 100}
seeds: [1]
rbm: {hidden: 32, epochs: 1, eval: {ais: {runs: 100, betas: 5000000}}}
";
    std::fs::write(d.join("ais.yaml"), yaml).unwrap();
    let child = harmonium_tests::spawn_run(d, "ais.yaml");
    let db = d.join("h.db");
    let t0 = Instant::now();
    // The epoch's metrics are written before the AIS starts.
    while harmonium_tests::scalar_so_far(
        &db,
        "SELECT COUNT(*) FROM metrics WHERE key = 'recon_error'",
    )
    .await
        == 0
    {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "training never ended"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let asked = Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let waited = asked.elapsed();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(waited < Duration::from_secs(10), "stopping took {waited:?}");
    assert_eq!(
        harmonium_tests::scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'killed'").await,
        1
    );
    assert_eq!(
        harmonium_tests::scalar(
            &db,
            "SELECT COUNT(*) FROM metrics WHERE key LIKE 'ais%' OR key = 'test_logprob'"
        )
        .await,
        0
    );
}

/// An experiment whose name looks like another's id is its own experiment: none of the other's
/// finished trials count as its own.
#[test]
fn a_name_that_looks_like_an_id_resumes_only_its_own_trials() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_file(d, "first.yaml", BASE);
    let e = stderr(&run_file(
        d,
        "one.yaml",
        &BASE.replace("name: faults", "name: '1'"),
    ));
    assert!(e.contains("4 trials (0 already finished, 4 to run)"), "{e}");
}
