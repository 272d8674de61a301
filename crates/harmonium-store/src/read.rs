//! Read-side queries shared by the CLI and the dashboard.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct ExperimentRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub metric: Option<String>,
    pub goal: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Number of runs by status.
    pub counts: BTreeMap<String, i64>,
    /// Best final value of the experiment's metric over finished runs.
    pub best: Option<f64>,
    /// Latest start or finish time of any run.
    pub last_activity: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub experiment_id: i64,
    pub experiment: String,
    pub trial_index: i64,
    pub status: String,
    pub seed: i64,
    pub config_hash: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    pub params: BTreeMap<String, String>,
    /// Latest value of every metric (None when it was NaN or infinite).
    pub metrics: BTreeMap<String, Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArtifactRow {
    pub id: i64,
    pub run_id: i64,
    pub kind: String,
    pub path: String,
    pub step: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRow,
    pub config: serde_json::Value,
    pub git_commit: Option<String>,
    pub host: String,
    pub artifacts: Vec<ArtifactRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricPoint {
    pub step: i64,
    pub value: Option<f64>,
    pub wall_time: f64,
}

impl Store {
    pub async fn experiments(&self) -> Result<Vec<ExperimentRow>> {
        self.experiment_rows(None).await
    }

    /// One experiment by numeric id (what [`Store::experiments`] gives for it), reading only its
    /// own runs; `None` when there is no such experiment.
    pub async fn experiment(&self, id: i64) -> Result<Option<ExperimentRow>> {
        Ok(self.experiment_rows(Some(id)).await?.pop())
    }

    /// Every experiment, or the one with this id, most recently updated first.
    async fn experiment_rows(&self, only: Option<i64>) -> Result<Vec<ExperimentRow>> {
        let rows = sqlx::query(
            "SELECT id, name, description, metric, goal, created_at, updated_at FROM experiments \
             WHERE ?1 IS NULL OR id = ?1 ORDER BY updated_at DESC",
        )
        .bind(only)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: i64 = r.get("id");
            let metric: Option<String> = r.get("metric");
            let goal: Option<String> = r.get("goal");
            let counts: Vec<(String, i64)> = sqlx::query_as(
                "SELECT status, COUNT(*) FROM runs WHERE experiment_id = ? GROUP BY status",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            let best = match &metric {
                Some(m) => {
                    let agg = if goal.as_deref() == Some("maximize") {
                        "MAX"
                    } else {
                        "MIN"
                    };
                    sqlx::query_scalar::<_, Option<f64>>(&format!(
                        "SELECT {agg}(l.value) FROM latest_metrics l JOIN runs r ON r.id = l.run_id \
                         WHERE r.experiment_id = ? AND r.status = 'finished' AND l.key = ?"
                    ))
                    .bind(id)
                    .bind(m)
                    .fetch_one(&self.pool)
                    .await?
                }
                None => None,
            };
            let last_activity: Option<String> = sqlx::query_scalar(
                "SELECT MAX(COALESCE(finished_at, started_at, created_at)) FROM runs WHERE experiment_id = ?",
            )
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
            out.push(ExperimentRow {
                id,
                name: r.get("name"),
                description: r.get("description"),
                metric,
                goal,
                created_at: r.get("created_at"),
                updated_at: r.get("updated_at"),
                counts: counts.into_iter().collect(),
                best,
                last_activity,
            });
        }
        Ok(out)
    }

    /// The experiment with this name or numeric id.
    pub async fn experiment_id(&self, name_or_id: &str) -> Result<i64> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM experiments WHERE name = ? OR CAST(id AS TEXT) = ?")
                .bind(name_or_id)
                .bind(name_or_id)
                .fetch_optional(&self.pool)
                .await?;
        id.ok_or_else(|| StoreError::Message(format!("no experiment named '{name_or_id}'")))
    }

    /// Runs, newest first; of one experiment when `experiment_id` is given.
    pub async fn runs(&self, experiment_id: Option<i64>) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(
            "SELECT r.id, r.experiment_id, e.name AS experiment, r.trial_index, r.status, r.seed, r.config_hash, \
             r.created_at, r.started_at, r.finished_at, r.error \
             FROM runs r JOIN experiments e ON e.id = r.experiment_id \
             WHERE (?1 IS NULL OR r.experiment_id = ?1) ORDER BY r.id",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        let mut params: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT p.run_id, p.key, p.value FROM params p JOIN runs r ON r.id = p.run_id \
             WHERE (?1 IS NULL OR r.experiment_id = ?1)",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?
        {
            params
                .entry(r.get(0))
                .or_default()
                .insert(r.get(1), r.get(2));
        }
        let mut metrics: BTreeMap<i64, BTreeMap<String, Option<f64>>> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT l.run_id, l.key, l.value FROM latest_metrics l JOIN runs r ON r.id = l.run_id \
             WHERE (?1 IS NULL OR r.experiment_id = ?1)",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?
        {
            metrics
                .entry(r.get(0))
                .or_default()
                .insert(r.get(1), r.get(2));
        }
        Ok(rows
            .into_iter()
            .map(|r| run_row(&r, &mut params, &mut metrics))
            .collect())
    }

    /// One run with its configuration and artifacts (oldest first); an error when there is no
    /// such run. Reads only this run's rows.
    pub async fn run(&self, run_id: i64) -> Result<RunDetail> {
        let mut detail = self
            .run_detail(run_id)
            .await?
            .ok_or_else(|| StoreError::Message(format!("no run with id {run_id}")))?;
        detail.artifacts.sort_by_key(|a| a.id);
        Ok(detail)
    }

    /// Every point of one metric of one run, in step order.
    pub async fn metric_series(&self, run_id: i64, key: &str) -> Result<Vec<MetricPoint>> {
        let rows: Vec<(i64, Option<f64>, f64)> = sqlx::query_as(
            "SELECT step, value, wall_time FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, rowid",
        )
        .bind(run_id)
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(step, value, wall_time)| MetricPoint {
                step,
                value,
                wall_time,
            })
            .collect())
    }

    /// Config hashes of the finished runs of an experiment (for resuming).
    pub async fn finished_hashes(&self, experiment_id: i64) -> Result<HashSet<String>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT config_hash FROM runs WHERE experiment_id = ? AND status = 'finished'",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}

/// One metric point with its run, for exporting curves.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CurvePoint {
    pub run_id: i64,
    pub key: String,
    pub step: i64,
    pub value: Option<f64>,
    pub wall_time: f64,
}

impl Store {
    /// Every metric point of every run of an experiment, by run, key and step.
    pub async fn experiment_curves(&self, experiment_id: i64) -> Result<Vec<CurvePoint>> {
        let rows: Vec<(i64, String, i64, Option<f64>, f64)> = sqlx::query_as(
            "SELECT m.run_id, m.key, m.step, m.value, m.wall_time FROM metrics m JOIN runs r ON r.id = m.run_id \
             WHERE r.experiment_id = ? ORDER BY m.run_id, m.key, m.step, m.rowid",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(run_id, key, step, value, wall_time)| CurvePoint {
                run_id,
                key,
                step,
                value,
                wall_time,
            })
            .collect())
    }
}

/// A [`RunRow`] from a row of `runs` joined with the experiment's name, taking its params and
/// latest metrics out of the maps gathered for a set of runs.
pub(crate) fn run_row(
    r: &sqlx::sqlite::SqliteRow,
    params: &mut BTreeMap<i64, BTreeMap<String, String>>,
    metrics: &mut BTreeMap<i64, BTreeMap<String, Option<f64>>>,
) -> RunRow {
    let id: i64 = r.get("id");
    RunRow {
        id,
        experiment_id: r.get("experiment_id"),
        experiment: r.get("experiment"),
        trial_index: r.get("trial_index"),
        status: r.get("status"),
        seed: r.get("seed"),
        config_hash: r.get("config_hash"),
        created_at: r.get("created_at"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        error: r.get("error"),
        params: params.remove(&id).unwrap_or_default(),
        metrics: metrics.remove(&id).unwrap_or_default(),
    }
}
