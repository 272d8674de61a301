//! What changed, for the dashboard: a change stamp that grows with every committed write, and
//! the metric points and run status changes recorded after a position (the live feed).
//!
//! Positions are explicit columns (`metrics.id`, the `revision` counter in `store_meta`), never
//! an engine's row ids.

use serde::Serialize;

use crate::{Result, Store};

/// Adds one to the store's revision; called in every transaction that writes results.
pub(crate) async fn bump_revision<'e, E>(conn: E) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE store_meta SET value = value + 1 WHERE key = 'revision'")
        .execute(conn)
        .await?;
    Ok(())
}

/// Which runs a live feed follows: those of an experiment, or one run.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Experiment(i64),
    Run(i64),
}

impl Scope {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            Scope::Experiment(e) => (Some(e), None),
            Scope::Run(r) => (None, Some(r)),
        }
    }
}

/// A metric point with its position in the table, for following new points.
#[derive(Debug, Clone, Serialize)]
pub struct NewPoint {
    #[serde(skip)]
    pub seq: i64,
    pub run_id: i64,
    pub key: String,
    pub step: i64,
    pub value: Option<f64>,
}

/// A run's status and timings, for following status changes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunStatus {
    pub run_id: i64,
    pub status: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// The latest of created, started and finished times.
    #[serde(skip)]
    pub changed_at: String,
}

impl Store {
    /// A number that grows whenever anything the dashboard shows changes (every committed write
    /// of the writer, and runs marked killed): one indexed read.
    pub async fn change_stamp(&self) -> Result<String> {
        let rev: Option<i64> =
            sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'revision'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(rev.unwrap_or(0).to_string())
    }

    /// Position of the newest metric point (0 when there is none).
    pub async fn last_metric_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM metrics")
                .fetch_one(&self.pool)
                .await?
                .unwrap_or(0),
        )
    }

    /// Metric points of the scope recorded after position `after`, oldest first, at most `limit`.
    pub async fn metrics_since(
        &self,
        scope: Scope,
        after: i64,
        limit: i64,
    ) -> Result<Vec<NewPoint>> {
        let (exp, run) = scope.ids();
        let rows: Vec<(i64, i64, String, i64, Option<f64>)> = sqlx::query_as(
            "SELECT m.id, m.run_id, m.key, m.step, m.value FROM metrics m \
             WHERE m.id > $1 AND m.run_id IN (SELECT id FROM runs WHERE ($2 IS NULL OR experiment_id = $2) \
             AND ($3 IS NULL OR id = $3)) ORDER BY m.id LIMIT $4",
        )
        .bind(after)
        .bind(exp)
        .bind(run)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, run_id, key, step, value)| NewPoint {
                seq,
                run_id,
                key,
                step,
                value,
            })
            .collect())
    }

    /// Runs of the scope created, started or finished at or after `since` (RFC 3339 text).
    pub async fn runs_changed_since(&self, scope: Scope, since: &str) -> Result<Vec<RunStatus>> {
        let (exp, run) = scope.ids();
        let rows: Vec<(i64, String, Option<String>, Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT id, status, started_at, finished_at, error, COALESCE(finished_at, started_at, created_at) AS t \
             FROM runs WHERE ($1 IS NULL OR experiment_id = $1) AND ($2 IS NULL OR id = $2) \
             AND COALESCE(finished_at, started_at, created_at) >= $3 ORDER BY t",
        )
        .bind(exp)
        .bind(run)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(run_id, status, started_at, finished_at, error, changed_at)| RunStatus {
                    run_id,
                    status,
                    started_at,
                    finished_at,
                    error,
                    changed_at,
                },
            )
            .collect())
    }
}
