//! YAML → CLI → database, on a real MNIST subset.

use harmonium_tests::{harmonium, ok, scalar, stderr, stdout};
use sqlx::sqlite::SqlitePoolOptions;

const TINY: &str = "name: tiny
description: two learning rates on 500 digits
dataset: {name: mnist, train_size: 500, valid_size: 1000, test_size: 500}
seeds: [7]
mlp: {hidden: [32], epochs: 2, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.1, 0.3]
  metric: {name: best_valid_error, goal: minimize}
";

#[tokio::test]
async fn run_lands_every_trial_in_the_database_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.yaml"), TINY).unwrap();
    let out = ok(harmonium(d, &["run", "tiny.yaml", "--no-progress"]));
    let err = stderr(&out);
    assert!(
        err.contains("2 trials (0 already finished, 2 to run)"),
        "{err}"
    );
    let db = d.join("h.db");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM experiments WHERE name = 'tiny'").await,
        1
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        2
    );
    // 7 metrics per epoch × 2 epochs + 3 summary metrics, per run.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM metrics").await,
        2 * (7 * 2 + 3)
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM latest_metrics WHERE key = 'best_test_error'"
        )
        .await,
        2
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM params WHERE key = 'mlp.lr'").await,
        2
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM runs WHERE host <> '' AND started_at IS NOT NULL"
        )
        .await,
        2
    );
    let errors_ok = scalar(&db, "SELECT COUNT(*) FROM latest_metrics WHERE key = 'best_test_error' AND value > 0 AND value < 0.5").await;
    assert_eq!(
        errors_ok, 2,
        "500 training digits give a test error well under 50%"
    );

    // Resume: the same file again runs nothing.
    let again = ok(harmonium(d, &["run", "tiny.yaml", "--no-progress"]));
    assert!(
        stderr(&again).contains("2 already finished, 0 to run"),
        "{}",
        stderr(&again)
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM runs").await, 2);

    // ls and show read it back.
    let ls = stdout(&ok(harmonium(d, &["ls"])));
    assert!(
        ls.contains("tiny")
            && ls.contains("finished")
            && ls.contains("best_test_error")
            && ls.contains("mlp.lr"),
        "{ls}"
    );
    let show = stdout(&ok(harmonium(d, &["show", "1"])));
    assert!(
        show.contains("status:   finished")
            && show.contains("lr: 0.1")
            && show.contains("best_valid_error"),
        "{show}"
    );
    let missing = harmonium(d, &["show", "99"]);
    assert!(!missing.status.success() && stderr(&missing).contains("no run with id 99"));
}

#[tokio::test]
async fn bad_files_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("typo.yaml"),
        TINY.replace("batch_size: 50", "batch_sise: 50"),
    )
    .unwrap();
    let o = harmonium(d, &["run", "typo.yaml"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("typo.yaml") && e.contains("batch_sise") && e.contains("line 5"),
        "{e}"
    );
    std::fs::write(d.join("path.yaml"), TINY.replace("mlp.lr:", "mlp.rate:")).unwrap();
    let e = stderr(&harmonium(d, &["run", "path.yaml"]));
    assert!(e.contains("'mlp.rate'") && e.contains("line 8"), "{e}");
    assert!(
        !d.join("h.db").exists(),
        "nothing was written for a bad file"
    );
    let e = stderr(&harmonium(d, &["run", "absent.yaml"]));
    assert!(e.contains("absent.yaml"), "{e}");
}

#[tokio::test]
async fn a_run_left_running_by_a_dead_process_is_marked_killed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one = TINY.replace("[0.1, 0.3]", "[0.1]");
    std::fs::write(d.join("one.yaml"), &one).unwrap();
    ok(harmonium(d, &["run", "one.yaml", "--no-progress"]));
    // Simulate a crash: the finished run becomes a half-done run of a process that is gone.
    let db = d.join("h.db");
    let pool = SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE runs SET status = 'running', pid = 999999999")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = ok(harmonium(d, &["run", "one.yaml", "--no-progress"]));
    assert!(stderr(&out).contains("marked killed"), "{}", stderr(&out));
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'killed'").await,
        1
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        1,
        "the trial ran again"
    );
}

#[tokio::test]
async fn ctrl_c_marks_the_running_trial_killed_and_keeps_finished_ones() {
    stopped_by("-INT").await;
}

/// SIGTERM and SIGHUP (Slurm, Kubernetes, a closed terminal) stop a run as Ctrl-C does.
#[tokio::test]
async fn sigterm_and_sighup_stop_a_run_as_ctrl_c_does() {
    stopped_by("-TERM").await;
    stopped_by("-HUP").await;
}

async fn stopped_by(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // First trial short, second long enough to be interrupted.
    let text = TINY.replace("mlp.lr: [0.1, 0.3]", "mlp.epochs: [1, 400]");
    std::fs::write(d.join("long.yaml"), text).unwrap();
    let child = harmonium_tests::spawn_run(d, "long.yaml");
    let db = d.join("h.db");
    let t0 = std::time::Instant::now();
    loop {
        assert!(
            t0.elapsed().as_secs() < 120,
            "the second trial never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        if harmonium_tests::scalar_so_far(&db, "SELECT COUNT(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.status = 'running' AND r.trial_index = 1").await > 0 {
            break;
        }
    }
    std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        1
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM runs WHERE status = 'killed' AND error LIKE '%interrupted%'"
        )
        .await,
        1
    );
    assert!(
        scalar(&db, "SELECT COUNT(*) FROM metrics WHERE run_id = 2").await > 0,
        "metrics of the killed run are kept"
    );
}

/// A name with terminal escape codes (retitle, clear screen) is printed escaped by `ls`, `show`
/// and `compare`, and by `run` in its progress lines, never sent raw to the terminal.
#[test]
fn names_with_control_characters_are_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = "name: \"\\e]0;pwned\\a\\e[2Jevil\"
dataset: {name: mnist, train_size: 100, valid_size: 100, test_size: 100}
seeds: [1, 2]
mlp: {hidden: [8], epochs: 1, batch_size: 50}
";
    std::fs::write(d.join("evil.yaml"), yaml).unwrap();
    let run = stderr(&ok(harmonium(d, &["run", "evil.yaml", "--no-progress"])));
    assert!(
        !run.contains('\u{1b}') && !run.contains('\u{7}') && run.contains("\\u{1b}]0;pwned"),
        "run: {run:?}"
    );
    for args in [
        vec!["ls"],
        vec!["show", "1"],
        vec!["compare", "1", "--group-by", "seed"],
    ] {
        let out = stdout(&ok(harmonium(d, &args)));
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}'),
            "{args:?}: {out:?}"
        );
        assert!(out.contains("\\u{1b}]0;pwned"), "{args:?}: {out}");
    }
}
