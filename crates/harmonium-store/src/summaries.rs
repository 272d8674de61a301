//! The summaries kept beside the recorded rows, so that reads over many runs stay cheap:
//! `param_values` (distinct values per experiment and param), `metric_keys`, `metric_curves`
//! (packed per-run curves, [`crate::curves`]) and `run_columns` ([`crate::columns`]).
//!
//! The writer updates them in the same transaction as the rows they summarize
//! ([`on_create_run`], [`on_status`], [`on_metric`]). They are derived data: [`build_pending`]
//! rebuilds all of them from `runs`, `params`, `metrics` and `latest_metrics` whenever
//! `store_meta.summaries_built` is 0 (after the migration that added them, or after rows were
//! written by other means and the flag reset).

use std::collections::HashMap;

use futures_util::TryStreamExt;
use sqlx::{AnyConnection, Row};

use crate::columns::{self, STATUS, status_code, value_entry};
use crate::{Result, Store, curves};

/// The experiment a run belongs to.
async fn experiment_of(conn: &mut AnyConnection, run_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT experiment_id FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// A new run: `queued`, with these params (key, value as text, value as a number).
pub(crate) async fn on_create_run(
    conn: &mut AnyConnection,
    experiment_id: i64,
    run_id: i64,
    params: &[(String, String, Option<f64>)],
) -> Result<()> {
    columns::set(
        conn,
        experiment_id,
        STATUS,
        run_id,
        &[status_code("queued")],
    )
    .await?;
    for (key, text, num) in params {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO param_values (experiment_id, key, value, value_num, runs) \
             VALUES ($1, $2, $3, $4, 1) ON CONFLICT (experiment_id, key, value) DO UPDATE SET \
             runs = param_values.runs + 1, value_num = CASE WHEN param_values.value_num IS NULL \
             OR excluded.value_num < param_values.value_num THEN excluded.value_num \
             ELSE param_values.value_num END RETURNING id",
        )
        .bind(experiment_id)
        .bind(key)
        .bind(text)
        .bind(num)
        .fetch_one(&mut *conn)
        .await?;
        let entry = (id as u32).to_le_bytes();
        columns::set(conn, experiment_id, &columns::param(key), run_id, &entry).await?;
    }
    Ok(())
}

/// A run's new status; a run that ended has its curves moved into `curve_chunks`.
pub(crate) async fn on_status(conn: &mut AnyConnection, run_id: i64, status: &str) -> Result<()> {
    let exp = experiment_of(conn, run_id).await?;
    columns::set(conn, exp, STATUS, run_id, &[status_code(status)]).await?;
    if ended(status) {
        seal_curves(conn, exp, run_id).await?;
    }
    Ok(())
}

/// Whether a run with this status records nothing more.
fn ended(status: &str) -> bool {
    matches!(status, "finished" | "failed" | "killed")
}

/// Moves a run's live curves into its chunk of each metric.
async fn seal_curves(conn: &mut AnyConnection, exp: i64, run_id: i64) -> Result<()> {
    let live: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT key, points FROM metric_curves WHERE run_id = $1")
            .bind(run_id)
            .fetch_all(&mut *conn)
            .await?;
    let chunk = run_id.div_euclid(curves::CHUNK_RUNS);
    for (key, points) in live {
        let old: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT data FROM curve_chunks WHERE experiment_id = $1 AND key = $2 AND chunk = $3",
        )
        .bind(exp)
        .bind(&key)
        .bind(chunk)
        .fetch_optional(&mut *conn)
        .await?;
        let exists = old.is_some();
        let mut data = old.unwrap_or_default();
        curves::put_segment(&mut data, run_id, &points);
        let sql = if exists {
            "UPDATE curve_chunks SET data = $4 WHERE experiment_id = $1 AND key = $2 AND chunk = $3"
        } else {
            "INSERT INTO curve_chunks (experiment_id, key, chunk, data) VALUES ($1, $2, $3, $4)"
        };
        sqlx::query(sql)
            .bind(exp)
            .bind(&key)
            .bind(chunk)
            .bind(data)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM metric_curves WHERE run_id = $1")
        .bind(run_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A new metric point (`value` `None` when it is not a number).
pub(crate) async fn on_metric(
    conn: &mut AnyConnection,
    run_id: i64,
    key: &str,
    step: i64,
    value: Option<f64>,
) -> Result<()> {
    let exp = experiment_of(conn, run_id).await?;
    sqlx::query(
        "INSERT INTO metric_keys (experiment_id, key, max_step) VALUES ($1, $2, $3) \
         ON CONFLICT (experiment_id, key) DO UPDATE SET max_step = CASE \
         WHEN excluded.max_step > metric_keys.max_step THEN excluded.max_step \
         ELSE metric_keys.max_step END",
    )
    .bind(exp)
    .bind(key)
    .bind(step)
    .execute(&mut *conn)
    .await?;
    let old: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT points FROM metric_curves WHERE run_id = $1 AND key = $2")
            .bind(run_id)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    let exists = old.is_some();
    let mut points = old.unwrap_or_default();
    curves::push(&mut points, step, value);
    let sql = if exists {
        "UPDATE metric_curves SET points = $4 WHERE run_id = $1 AND key = $2"
    } else {
        "INSERT INTO metric_curves (run_id, key, experiment_id, points) VALUES ($1, $2, $3, $4)"
    };
    sqlx::query(sql)
        .bind(run_id)
        .bind(key)
        .bind(exp)
        .bind(points)
        .execute(&mut *conn)
        .await?;
    columns::set(
        conn,
        exp,
        &columns::latest(key),
        run_id,
        &value_entry(value),
    )
    .await
}

/// Chunks of columns being rebuilt: (experiment, column, chunk) → data.
type Chunks = HashMap<(i64, String, i64), Vec<u8>>;

fn put(chunks: &mut Chunks, exp: i64, name: String, run_id: i64, entry: &[u8], blank: &[u8]) {
    let w = entry.len();
    let chunk = run_id.div_euclid(columns::CHUNK);
    let slot = run_id.rem_euclid(columns::CHUNK) as usize;
    let data = chunks
        .entry((exp, name, chunk))
        .or_insert_with(|| blank.repeat(columns::CHUNK as usize));
    data[slot * w..(slot + 1) * w].copy_from_slice(entry);
}

/// Rebuilds every summary from the base tables when `summaries_built` is 0, in one
/// transaction (a concurrent opener waits, then finds it done).
pub(crate) async fn build_pending(store: &Store) -> Result<()> {
    let built: Option<i64> =
        sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'summaries_built'")
            .fetch_optional(&store.pool)
            .await?;
    if built != Some(0) {
        return Ok(());
    }
    let mut tx = store.pool.begin().await?;
    let claimed =
        sqlx::query("UPDATE store_meta SET value = 1 WHERE key = 'summaries_built' AND value = 0")
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if claimed == 0 {
        return Ok(());
    }
    for t in [
        "param_values",
        "metric_keys",
        "metric_curves",
        "curve_chunks",
        "run_columns",
    ] {
        sqlx::query(&format!("DELETE FROM {t}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO param_values (experiment_id, key, value, value_num, runs) \
         SELECT r.experiment_id, p.key, p.value, MIN(p.value_num), COUNT(*) \
         FROM params p JOIN runs r ON r.id = p.run_id GROUP BY r.experiment_id, p.key, p.value",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO metric_keys (experiment_id, key, max_step) \
         SELECT r.experiment_id, m.key, MAX(m.step) FROM metrics m JOIN runs r ON r.id = m.run_id \
         GROUP BY r.experiment_id, m.key",
    )
    .execute(&mut *tx)
    .await?;
    let mut chunks = Chunks::new();
    let mut ended_runs = std::collections::HashSet::new();
    {
        let mut rows = sqlx::query("SELECT id, experiment_id, status FROM runs").fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let status: &str = r.get(2);
            if ended(status) {
                ended_runs.insert(r.get::<i64, _>(0));
            }
            let code = status_code(status);
            put(
                &mut chunks,
                r.get(1),
                STATUS.into(),
                r.get(0),
                &[code],
                &[0],
            );
        }
    }
    {
        let mut rows = sqlx::query(
            "SELECT p.run_id, r.experiment_id, p.key, v.id FROM params p JOIN runs r ON r.id = p.run_id \
             JOIN param_values v ON v.experiment_id = r.experiment_id AND v.key = p.key AND v.value = p.value",
        )
        .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let id = (r.get::<i64, _>(3) as u32).to_le_bytes();
            let name = columns::param(r.get(2));
            put(&mut chunks, r.get(1), name, r.get(0), &id, &[0; 4]);
        }
    }
    {
        let mut rows = sqlx::query(
            "SELECT l.run_id, r.experiment_id, l.key, l.value FROM latest_metrics l JOIN runs r ON r.id = l.run_id",
        )
        .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let entry = value_entry(r.get(3));
            let name = columns::latest(r.get(2));
            put(
                &mut chunks,
                r.get(1),
                name,
                r.get(0),
                &entry,
                &value_entry(None),
            );
        }
    }
    for ((exp, name, chunk), data) in chunks {
        sqlx::query(
            "INSERT INTO run_columns (experiment_id, name, chunk, data) VALUES ($1, $2, $3, $4)",
        )
        .bind(exp)
        .bind(name)
        .bind(chunk)
        .bind(data)
        .execute(&mut *tx)
        .await?;
    }
    // Curves, streamed from another connection (the base tables are not written here, so it
    // reads what this transaction reads) in run order: a running run's curve is written as it
    // is complete, an ended run's goes into its chunk, written once the runs pass the chunk.
    let mut rows = sqlx::query(
        "SELECT m.run_id, m.key, r.experiment_id, m.step, m.value FROM metrics m \
         JOIN runs r ON r.id = m.run_id ORDER BY m.run_id, m.key, m.step, m.id",
    )
    .fetch(&store.pool);
    let mut current: Option<(i64, String, i64, Vec<u8>)> = None;
    let mut open: HashMap<(i64, String, i64), Vec<u8>> = HashMap::new();
    loop {
        let row = rows.try_next().await?;
        let next = row
            .as_ref()
            .map(|r| (r.get::<i64, _>(0), r.get::<&str, _>(1)));
        let done = match (&current, next) {
            (Some((run, key, _, _)), Some((r, k))) => *run != r || key != k,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if done && let Some((run, key, exp, points)) = current.take() {
            if ended_runs.contains(&run) {
                let chunk = run.div_euclid(curves::CHUNK_RUNS);
                curves::put_segment(open.entry((exp, key, chunk)).or_default(), run, &points);
            } else {
                sqlx::query(
                    "INSERT INTO metric_curves (run_id, key, experiment_id, points) VALUES ($1, $2, $3, $4)",
                )
                .bind(run)
                .bind(key)
                .bind(exp)
                .bind(points)
                .execute(&mut *tx)
                .await?;
            }
        }
        // Chunks the runs have passed are complete.
        let now = next.map_or(i64::MAX, |(r, _)| r.div_euclid(curves::CHUNK_RUNS));
        let complete: Vec<(i64, String, i64)> = if done {
            open.keys().filter(|k| k.2 < now).cloned().collect()
        } else {
            Vec::new()
        };
        for k in complete {
            let data = open.remove(&k).expect("listed");
            sqlx::query(
                "INSERT INTO curve_chunks (experiment_id, key, chunk, data) VALUES ($1, $2, $3, $4)",
            )
            .bind(k.0)
            .bind(k.1)
            .bind(k.2)
            .bind(data)
            .execute(&mut *tx)
            .await?;
        }
        let Some(r) = row else { break };
        let c =
            current.get_or_insert_with(|| (r.get(0), r.get::<String, _>(1), r.get(2), Vec::new()));
        curves::push(&mut c.3, r.get(3), r.get(4));
    }
    drop(rows);
    tx.commit().await?;
    Ok(())
}
