//! Store round trip, migrations from an empty file, and reaping runs of dead processes.

use crate::{NewRun, Store, StoreError, Writer};

/// Where a test's database goes: `name` in `dir`, or, when `HARMONIUM_TEST_POSTGRES` names a
/// PostgreSQL server's maintenance database (as `just test` does), a new database created on that
/// server for this test, so that the tests of the store's queries run against both engines.
pub(crate) async fn test_db(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let Ok(admin) = std::env::var("HARMONIUM_TEST_POSTGRES") else {
        return dir.join(name);
    };
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let db = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("the test PostgreSQL server");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {db}").as_str())
        .await
        .expect("a new database");
    let _ = sqlx::Connection::close(conn).await;
    let base = admin.rsplit_once('/').expect("a URL with a database").0;
    std::path::PathBuf::from(format!("{base}/{db}"))
}

/// Whether the tests run against PostgreSQL (see [`test_db`]); tests of SQLite files skip then.
pub(crate) fn on_postgres() -> bool {
    std::env::var_os("HARMONIUM_TEST_POSTGRES").is_some()
}

fn new_run(experiment_id: i64, hash: &str) -> NewRun {
    NewRun {
        experiment_id,
        trial_index: 0,
        config_json: r#"{"mlp":{"lr":0.1}}"#.into(),
        config_hash: hash.into(),
        seed: 3,
        git_commit: Some("abc".into()),
        host: "testhost".into(),
        params: vec![
            ("mlp.lr".into(), serde_json::json!(0.1)),
            ("dataset.name".into(), serde_json::json!("mnist")),
        ],
    }
}

#[tokio::test]
async fn migrations_create_the_schema_in_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&store.pool)
            .await
            .unwrap();
    for t in [
        "artifacts",
        "experiments",
        "latest_metrics",
        "metrics",
        "params",
        "runs",
    ] {
        assert!(tables.iter().any(|x| x == t), "{t} missing from {tables:?}");
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // Opening again applies nothing new and keeps working.
    drop(store);
    Store::open(&path).await.unwrap();
}

#[tokio::test]
async fn corrupt_database_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&path).await.unwrap_err().to_string();
    assert!(err.contains("bad.db"), "{err}");
    let missing = Store::open_existing(&dir.path().join("nope.db"))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("does not exist"), "{missing}");
}

#[tokio::test]
async fn writes_round_trip_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&test_db(dir.path(), "h.db").await)
        .await
        .unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let exp = w
        .experiment(
            "e1",
            "desc",
            "name: e1",
            Some("valid_error".into()),
            Some("minimize".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        w.experiment("e1", "desc2", "name: e1", Some("valid_error".into()), None)
            .await
            .unwrap(),
        exp,
        "same name, same experiment"
    );
    let run = w.create_run(new_run(exp, "h1")).await.unwrap();
    w.start(run).unwrap();
    for step in 1..=3 {
        w.metric(run, "valid_error", step, 0.5 / step as f64, step as f64)
            .unwrap();
    }
    w.metric(run, "loss", 1, f64::NAN, 1.0).unwrap();
    w.artifact(run, "filters", "run-1/filters.png", Some(3))
        .unwrap();
    w.finish(run, "finished", None).unwrap();
    w.flush().await.unwrap();
    drop(w);
    writer.join().await;

    let runs = store.runs(Some(exp)).await.unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(
        (r.status.as_str(), r.seed, r.config_hash.as_str()),
        ("finished", 3, "h1")
    );
    assert_eq!(r.params["mlp.lr"], "0.1");
    assert_eq!(r.params["dataset.name"], "mnist");
    assert_eq!(r.metrics["valid_error"], Some(0.5 / 3.0));
    assert_eq!(
        r.metrics["loss"], None,
        "NaN is stored as NULL, not dropped"
    );
    let series = store.metric_series(run, "valid_error").await.unwrap();
    assert_eq!(
        series.iter().map(|p| p.step).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let detail = store.run(run).await.unwrap();
    assert_eq!(detail.config["mlp"]["lr"], 0.1);
    assert_eq!(detail.artifacts[0].path, "run-1/filters.png");
    assert_eq!(
        store
            .finished_hashes(exp)
            .await
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["h1".to_string()]
    );
    let exps = store.experiments().await.unwrap();
    assert_eq!(exps[0].best, Some(0.5 / 3.0));
    assert_eq!(exps[0].description, "desc2");
    assert!(store.run(999).await.is_err());
}

#[tokio::test]
async fn runs_of_a_dead_process_are_marked_killed_and_finished_runs_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&test_db(dir.path(), "h.db").await)
        .await
        .unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let exp = w.experiment("e", "", "", None, None).await.unwrap();
    let done = w.create_run(new_run(exp, "a")).await.unwrap();
    w.finish(done, "finished", None).unwrap();
    let crashed = w.create_run(new_run(exp, "b")).await.unwrap();
    w.start(crashed).unwrap();
    w.flush().await.unwrap();
    drop(w);
    writer.join().await;
    // Pretend the run belonged to a process that no longer exists.
    sqlx::query("UPDATE runs SET pid = 999999999 WHERE id = $1")
        .bind(crashed)
        .execute(&store.pool)
        .await
        .unwrap();
    assert_eq!(
        store.reap_dead_runs("otherhost").await.unwrap(),
        0,
        "other hosts' runs are left alone"
    );
    assert_eq!(store.reap_dead_runs("testhost").await.unwrap(), 1);
    let runs = store.runs(Some(exp)).await.unwrap();
    assert_eq!(runs[0].status, "finished");
    assert_eq!(runs[1].status, "killed");
    assert!(
        runs[1]
            .error
            .as_deref()
            .unwrap()
            .contains("ended without finishing")
    );
}

/// A database written before positions and summaries existed (only the first migration
/// applied, rows inserted as that version wrote them) opens, and its summaries are filled.
#[tokio::test]
async fn an_old_database_is_migrated_and_its_summaries_filled() {
    let dir = tempfile::tempdir().unwrap();
    let mig = dir.path().join("migrations");
    std::fs::create_dir(&mig).unwrap();
    std::fs::write(
        mig.join("0001_initial.sql"),
        include_str!("../../../migrations/0001_initial.sql"),
    )
    .unwrap();
    let path = dir.path().join("old.db");
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        sqlx::migrate::Migrator::new(mig.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        for s in [
            "INSERT INTO experiments VALUES (1, 'old', '', '', 'valid_error', 'minimize', 't', 't')",
            "INSERT INTO runs (id, experiment_id, trial_index, status, config_json, config_hash, seed, host, pid, created_at) \
             VALUES (1, 1, 0, 'finished', '{}', 'a', 1, 'h', 1, 't'), (2, 1, 1, 'finished', '{}', 'b', 2, 'h', 1, 't')",
            "INSERT INTO params VALUES (1, 'mlp.lr', '0.1', 0.1), (2, 'mlp.lr', '0.01', 0.01)",
            "INSERT INTO metrics VALUES (1, 'valid_error', 1, 0.5, 1), (1, 'valid_error', 2, 0.25, 2), \
             (2, 'valid_error', 1, NULL, 1), (2, 'loss', 1, 3.0, 1)",
            "INSERT INTO latest_metrics VALUES (1, 'valid_error', 2, 0.25, 2), (2, 'valid_error', 1, NULL, 1), \
             (2, 'loss', 1, 3.0, 1)",
        ] {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&path).await.unwrap();
    let swept = store.swept_params(1).await.unwrap();
    assert_eq!(swept.len(), 1);
    assert_eq!(
        (swept[0].key.as_str(), swept[0].values.clone()),
        ("mlp.lr", vec!["0.01".to_string(), "0.1".into()])
    );
    let keys = store.metric_keys(1).await.unwrap();
    let keys: Vec<(String, i64)> = keys.into_iter().map(|k| (k.key, k.max_step)).collect();
    assert_eq!(keys, vec![("loss".into(), 1), ("valid_error".into(), 2)]);
    let curves = store
        .group_curves(&crate::GroupQuery {
            experiment_id: 1,
            by: vec![],
            metric: "valid_error".into(),
            filter: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(curves[0].steps, vec![1, 2]);
    assert_eq!(
        (curves[0].stats[0].n, curves[0].stats[0].mean),
        (1, Some(0.5))
    );
    assert_eq!(
        store.last_metric_seq().await.unwrap(),
        4,
        "positions kept from the old rows"
    );
    let series = store.metric_series(1, "valid_error").await.unwrap();
    assert_eq!(
        series.iter().map(|p| p.value).collect::<Vec<_>>(),
        vec![Some(0.5), Some(0.25)]
    );
    // A second open finds nothing left to do.
    drop(store);
    let again = Store::open(&path).await.unwrap();
    // Both runs ended: their three curves sit in chunks, none is left live.
    let (live, chunks): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM metric_curves), (SELECT COUNT(*) FROM curve_chunks)",
    )
    .fetch_one(&again.pool)
    .await
    .unwrap();
    assert_eq!((live, chunks), (0, 2), "one chunk per metric key");
}

/// Every committed write moves the change stamp on.
#[tokio::test]
async fn the_change_stamp_grows_with_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&test_db(dir.path(), "h.db").await)
        .await
        .unwrap();
    let s0 = store.change_stamp().await.unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let exp = w.experiment("e", "", "", None, None).await.unwrap();
    let s1 = store.change_stamp().await.unwrap();
    let run = w.create_run(new_run(exp, "a")).await.unwrap();
    w.metric(run, "x", 1, 1.0, 0.0).unwrap();
    w.flush().await.unwrap();
    let s2 = store.change_stamp().await.unwrap();
    drop(w);
    writer.join().await;
    assert!(s0 != s1 && s1 != s2, "{s0} {s1} {s2}");
    assert_eq!(
        store.change_stamp().await.unwrap(),
        s2,
        "no write, same stamp"
    );
}

/// Every file in `dir` with its bytes, to show that nothing was written or left behind.
fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// A database with migration 0001 only, as the first release wrote it.
async fn schema_one_database(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let mig = dir.join("migrations-0001");
    std::fs::create_dir_all(&mig).unwrap();
    std::fs::write(
        mig.join("0001_initial.sql"),
        include_str!("../../../migrations/0001_initial.sql"),
    )
    .unwrap();
    let path = dir.join(name);
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::migrate::Migrator::new(mig.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO experiments VALUES (1, 'old', '', '', NULL, NULL, 't', 't')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    std::fs::remove_dir_all(&mig).unwrap();
    path
}

/// A file holding only an empty `_sqlx_migrations` table is what a second process sees while
/// the first is creating the database (the tasks of an array job starting together on a new
/// file): it is a new database, opened and migrated, not another application's.
#[tokio::test]
async fn a_database_being_created_by_another_process_is_not_taken_for_a_foreign_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::query(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
         checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let store = Store::open(&path).await.expect("a database being created");
    assert!(store.runs(None).await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test]
async fn another_applications_database_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("theirs.db");
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        for s in [
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)",
            "CREATE TABLE users (name TEXT)",
            "INSERT INTO users VALUES ('ada')",
        ] {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let before = snapshot(dir.path());
    for opened in [
        Store::open(&path).await.map(|_| ()),
        Store::open_read_only(&path).await.map(|_| ()),
    ] {
        let e = opened.unwrap_err();
        assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("theirs.db")
                && e.contains("runs, users")
                && e.contains("Nothing was written"),
            "{e}"
        );
    }
    assert_eq!(
        snapshot(dir.path()),
        before,
        "no table, no WAL switch, no -wal or -shm"
    );
    // A new, empty file is a new database.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    Store::open(&empty).await.unwrap().close().await;
}

#[tokio::test]
async fn a_read_only_database_is_read_without_writing_and_an_old_one_says_how_to_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("archive");
    std::fs::create_dir(&ro).unwrap();
    let path = ro.join("results.db");
    {
        let store = Store::open(&path).await.unwrap();
        let (writer, w) = Writer::spawn(store.clone());
        let exp = w.experiment("e", "", "", None, None).await.unwrap();
        let run = w
            .create_run(crate::NewRun {
                experiment_id: exp,
                trial_index: 0,
                config_json: "{}".into(),
                config_hash: "h".into(),
                seed: 1,
                git_commit: None,
                host: "h".into(),
                params: vec![("mlp.lr".into(), 0.1.into())],
            })
            .await
            .unwrap();
        w.start(run).unwrap();
        w.metric(run, "valid_error", 1, 0.25, 1.0).unwrap();
        w.finish(run, "finished", None).unwrap();
        w.flush().await.unwrap();
        drop(w);
        writer.join().await;
        store.close().await;
    }
    let old = schema_one_database(&ro, "old.db").await;
    let set_mode = |p: &std::path::Path, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for p in [&path, &old] {
        set_mode(p, 0o444);
    }
    set_mode(&ro, 0o555);
    let before = snapshot(&ro);
    assert_eq!(before.len(), 2, "no -wal or -shm to begin with");

    let store = Store::open_read_only(&path).await.unwrap();
    let runs = store.runs(None).await.unwrap();
    assert_eq!((runs.len(), runs[0].status.as_str()), (1, "finished"));
    assert_eq!(store.metric_keys(1).await.unwrap().len(), 1);
    store.close().await;
    let e = Store::open_read_only(&old).await.unwrap_err();
    assert!(matches!(e, StoreError::Outdated { version: 1, .. }), "{e}");
    assert!(e.to_string().contains("harmonium migrate --db"), "{e}");
    let after = snapshot(&ro);
    set_mode(&ro, 0o755);
    assert_eq!(after, before, "nothing written, nothing left behind");

    // Made writable again, the old database is brought up to date when read.
    set_mode(&old, 0o644);
    let store = Store::open_read_only(&old).await.unwrap();
    assert_eq!(store.experiments().await.unwrap().len(), 1);
    store.close().await;
}

/// A run on another host is never judged by its pid: while its heartbeat is fresh its trial
/// stays claimed; once the heartbeat is older than the lease, the next claim marks it killed
/// (saying why) and takes the trial over, and the heartbeats of live runs move forward.
#[tokio::test]
async fn a_trial_on_another_host_is_taken_over_once_its_heartbeat_expires() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&test_db(dir.path(), "l.db").await)
        .await
        .unwrap();
    let (writer, handle) = Writer::spawn(store.clone());
    let exp = handle.experiment("e", "", "", None, None).await.unwrap();
    let elsewhere = move || NewRun {
        host: "another-node".into(),
        ..new_run(exp, "a")
    };
    let h = handle.clone();
    let (theirs, while_alive) = tokio::task::spawn_blocking(move || {
        let theirs = h.claim_blocking(elsewhere(), false).unwrap().unwrap().id;
        // A pid that exists nowhere: on another host it proves nothing.
        (theirs, h.claim_blocking(new_run(exp, "a"), false).unwrap())
    })
    .await
    .unwrap();
    assert_eq!(while_alive, None, "a fresh heartbeat keeps the claim");
    let beat = |id: i64| {
        let pool = store.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT heartbeat_at FROM runs WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let first = beat(theirs).await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    handle.heartbeat(vec![theirs]).unwrap();
    handle.flush().await.unwrap();
    assert!(beat(theirs).await > first, "a heartbeat moves it forward");
    sqlx::query("UPDATE runs SET heartbeat_at = '2026-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(theirs)
        .execute(&store.pool)
        .await
        .unwrap();
    let h = handle.clone();
    let taken = tokio::task::spawn_blocking(move || h.claim_blocking(new_run(exp, "a"), false))
        .await
        .unwrap()
        .unwrap()
        .expect("taken over");
    assert_eq!(taken.killed_before, Some(theirs));
    let (status, error): (String, String) =
        sqlx::query_as("SELECT status, error FROM runs WHERE id = $1")
            .bind(theirs)
            .fetch_one(&store.pool)
            .await
            .unwrap();
    assert_eq!(status, "killed");
    assert!(
        error.contains("no heartbeat from another-node since 2026-01-01"),
        "{error}"
    );
    drop(handle);
    writer.join().await;
}

/// A claim creates the run already running; a second claim of the same trial (another process
/// would make it the same way) gets nothing while the first runs or once it finished, unless
/// rerunning; a claim left by a dead process on this host is taken over.
#[tokio::test]
async fn a_trial_is_claimed_once_and_taken_over_from_a_dead_process() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&test_db(dir.path(), "c.db").await)
        .await
        .unwrap();
    let (writer, handle) = Writer::spawn(store.clone());
    let exp = handle.experiment("e", "", "", None, None).await.unwrap();
    let run = move |hash: &str| new_run(exp, hash);
    let h = handle.clone();
    let (first, second, rerun_while_running) = tokio::task::spawn_blocking(move || {
        (
            h.claim_blocking(run("a"), false).unwrap(),
            h.claim_blocking(run("a"), false).unwrap(),
            h.claim_blocking(run("a"), true).unwrap(),
        )
    })
    .await
    .unwrap();
    assert!(first.is_some());
    assert_eq!((second, rerun_while_running), (None, None));
    let status: String = sqlx::query_scalar("SELECT status FROM runs WHERE id = $1")
        .bind(first.unwrap().id)
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(status, "running");
    assert_eq!(first.unwrap().killed_before, None);
    handle.finish(first.unwrap().id, "finished", None).unwrap();
    handle.flush().await.unwrap();
    let h = handle.clone();
    let (after, rerun) = tokio::task::spawn_blocking(move || {
        (
            h.claim_blocking(run("a"), false).unwrap(),
            h.claim_blocking(run("a"), true).unwrap(),
        )
    })
    .await
    .unwrap();
    assert_eq!(after, None, "finished: not claimed again");
    assert!(rerun.is_some(), "--rerun claims a finished trial");
    // A run of trial b left `running` by a process that no longer exists, on this host.
    let h = handle.clone();
    let orphan = tokio::task::spawn_blocking(move || h.claim_blocking(run("b"), false).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    sqlx::query("UPDATE runs SET pid = 999999999 WHERE id = $1")
        .bind(orphan)
        .execute(&store.pool)
        .await
        .unwrap();
    let h = handle.clone();
    let taken = tokio::task::spawn_blocking(move || h.claim_blocking(run("b"), false).unwrap())
        .await
        .unwrap();
    let taken = taken.unwrap();
    assert_ne!(taken.id, orphan);
    assert_eq!(taken.killed_before, Some(orphan), "the run it may continue");
    let status: String = sqlx::query_scalar("SELECT status FROM runs WHERE id = $1")
        .bind(orphan)
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(status, "killed");
    drop(handle);
    writer.join().await;
}

#[tokio::test]
async fn an_unsupported_server_url_is_refused_and_an_unreachable_postgres_is_named() {
    for url in ["mysql://u:p@127.0.0.1/h", "redis://db/x"] {
        let e = Store::open(std::path::Path::new(url)).await.err().unwrap();
        assert!(e.to_string().contains("is not supported"), "{e}");
        assert!(!e.to_string().contains("u:p"), "no password echoed: {e}");
    }
    // Nothing listens on port 1: refused at once, with the URL (its password masked) named.
    let t = std::time::Instant::now();
    let url = "postgres://u:secret@127.0.0.1:1/h";
    let e = Store::open(std::path::Path::new(url)).await.err().unwrap();
    let msg = e.to_string();
    assert!(msg.contains("postgres://u:***@127.0.0.1:1/h"), "{msg}");
    assert!(!msg.contains("secret"), "no password echoed: {msg}");
    assert!(msg.contains("is the server running"), "{msg}");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn passwords_are_masked_in_server_urls() {
    assert_eq!(
        crate::mask_password("postgres://me:pw@h:5432/db"),
        "postgres://me:***@h:5432/db"
    );
    assert_eq!(
        crate::mask_password("postgres://me@h/db"),
        "postgres://me@h/db"
    );
    assert_eq!(crate::mask_password("postgres://h/db"), "postgres://h/db");
}

/// PostgreSQL only (see [`test_db`]): a wrong password and another application's database are
/// clear errors that write nothing, and processes opening a new database together all succeed.
#[tokio::test]
async fn on_postgres_bad_urls_are_clear_errors_and_concurrent_first_opens_succeed() {
    if !on_postgres() {
        eprintln!("SKIPPED: HARMONIUM_TEST_POSTGRES is not set");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = test_db(dir.path(), "bad")
        .await
        .to_string_lossy()
        .to_string();
    // The test server's password is `harmonium` (tests/services/postgres-up.sh).
    let wrong = url.replacen(":harmonium@", ":not-the-password@", 1);
    assert_ne!(wrong, url);
    let e = Store::open(std::path::Path::new(&wrong))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("password authentication failed"), "{e}");
    assert!(!e.contains("not-the-password"), "{e}");

    // Another application's tables: refused, and no table of ours appears.
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::Executor::execute(&mut conn, "CREATE TABLE users (id BIGINT)")
        .await
        .unwrap();
    let e = Store::open(std::path::Path::new(&url)).await.unwrap_err();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert!(!e.to_string().contains("harmonium@"), "{e}");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, ["users"]);
    let _ = sqlx::Connection::close(conn).await;

    // Eight processes' first opens of one new database at once.
    let fresh = test_db(dir.path(), "together").await;
    let opens = (0..8).map(|_| {
        let fresh = fresh.clone();
        tokio::spawn(async move { Store::open(&fresh).await.map(|s| s.path.clone()) })
    });
    for o in futures_util::future::join_all(opens).await {
        let shown = o.unwrap().expect("every open succeeds");
        assert!(
            !shown.to_string_lossy().contains(":harmonium@"),
            "password masked"
        );
    }
}
