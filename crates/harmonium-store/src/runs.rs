//! Experiments and runs as the CLI and the dashboard read them: rows with their params and
//! latest metrics, filtered and sorted pages, a run's detail and artifacts, metric series, the
//! parameters an experiment sweeps and the metrics it records.
//!
//! Every value from a caller is bound. The only SQL text assembled at run time comes from fixed
//! fragments in this file (sort columns are an enum, join aliases are generated), never from input.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Row};

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

/// An experiment's identity and sweep metric.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentInfo {
    pub id: i64,
    pub name: String,
    pub metric: Option<String>,
    pub goal: Option<String>,
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
    /// Relative to the artifacts folder.
    pub path: String,
    pub step: Option<i64>,
    /// The full path of the file, where the reader knows the artifacts folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl ArtifactRow {
    /// Sets [`ArtifactRow::file`] to the path below `artifacts_dir` (absolute where it exists).
    pub fn locate(&mut self, artifacts_dir: &std::path::Path) {
        let file = artifacts_dir.join(&self.path);
        let file = std::fs::canonicalize(&file).unwrap_or(file);
        self.file = Some(file.display().to_string());
    }
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
             WHERE $1 IS NULL OR id = $1 ORDER BY updated_at DESC",
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
                "SELECT status, COUNT(*) FROM runs WHERE experiment_id = $1 GROUP BY status",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            let best = match &metric {
                Some(m) => {
                    self.best(id, m, goal.as_deref() == Some("maximize"))
                        .await?
                }
                None => None,
            };
            let last_activity: Option<String> = sqlx::query_scalar(
                "SELECT MAX(COALESCE(finished_at, started_at, created_at)) FROM runs WHERE experiment_id = $1",
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

    /// An experiment's name, metric and goal by numeric id, without reading its runs.
    pub async fn experiment_info(&self, id: i64) -> Result<Option<ExperimentInfo>> {
        let row: Option<(i64, String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT id, name, metric, goal FROM experiments WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, name, metric, goal)| ExperimentInfo {
            id,
            name,
            metric,
            goal,
        }))
    }

    /// The id of the experiment with exactly this name, if there is one (a name that looks like
    /// a number is still a name).
    pub async fn experiment_named(&self, name: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM experiments WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The experiment with this name or numeric id.
    pub async fn experiment_id(&self, name_or_id: &str) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM experiments WHERE name = $1 OR CAST(id AS TEXT) = $2",
        )
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
             WHERE ($1 IS NULL OR r.experiment_id = $1) ORDER BY r.id",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        let of_experiment = |sql| sqlx::query(sql).bind(experiment_id).fetch_all(&self.pool);
        let mut params: BTreeMap<i64, BTreeMap<String, String>> = by_run(
            of_experiment(
                "SELECT p.run_id, p.key, p.value FROM params p JOIN runs r ON r.id = p.run_id \
                 WHERE ($1 IS NULL OR r.experiment_id = $1)",
            )
            .await?,
        );
        let mut metrics: BTreeMap<i64, BTreeMap<String, Option<f64>>> = by_run(
            of_experiment(
                "SELECT l.run_id, l.key, l.value FROM latest_metrics l JOIN runs r ON r.id = l.run_id \
                 WHERE ($1 IS NULL OR r.experiment_id = $1)",
            )
            .await?,
        );
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
            "SELECT step, value, wall_time FROM metrics WHERE run_id = $1 AND key = $2 ORDER BY step, id",
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

    /// The experiment file's text as its last `run` stored it (empty for an experiment recorded
    /// without one); `None` when there is no such experiment.
    pub async fn experiment_yaml(&self, experiment_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT yaml FROM experiments WHERE id = $1")
                .bind(experiment_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Config hashes of the finished runs of an experiment (for resuming).
    pub async fn finished_hashes(&self, experiment_id: i64) -> Result<HashSet<String>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT config_hash FROM runs WHERE experiment_id = $1 AND status = 'finished'",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The latest value of `metric` of each finished run of an experiment, by config hash (the
    /// most recent run of a hash when it finished more than once; `None` when the run has no
    /// such metric or its value was not a number). For choosing a tuned configuration.
    pub async fn finished_values(
        &self,
        experiment_id: i64,
        metric: &str,
    ) -> Result<HashMap<String, Option<f64>>> {
        let rows: Vec<(String, Option<f64>)> = sqlx::query_as(
            "SELECT r.config_hash, l.value FROM runs r \
             LEFT JOIN latest_metrics l ON l.run_id = r.id AND l.key = $1 \
             WHERE r.experiment_id = $2 AND r.status = 'finished' ORDER BY r.id",
        )
        .bind(metric)
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
             WHERE r.experiment_id = $1 ORDER BY m.run_id, m.key, m.step, m.id",
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

/// Rows of (run id, key, value) as run → key → value.
fn by_run<V>(rows: Vec<sqlx::any::AnyRow>) -> BTreeMap<i64, BTreeMap<String, V>>
where
    V: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    let mut m: BTreeMap<i64, BTreeMap<String, V>> = BTreeMap::new();
    for r in rows {
        m.entry(r.get(0)).or_default().insert(r.get(1), r.get(2));
    }
    m
}

/// A [`RunRow`] from a row of `runs` joined with the experiment's name, taking its params and
/// latest metrics out of the maps gathered for a set of runs.
pub(crate) fn run_row(
    r: &sqlx::any::AnyRow,
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

/// The column a page of runs is sorted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Id,
    TrialIndex,
    Status,
    Seed,
    CreatedAt,
    StartedAt,
    FinishedAt,
    /// A parameter, numerically when it is a number.
    Param(String),
    /// The latest value of a metric; runs without it come last.
    Metric(String),
}

impl SortKey {
    /// Parses `id`, `trial_index`, `status`, `seed`, `created_at`, `started_at`, `finished_at`,
    /// `param:KEY` or `metric:KEY`; anything else is `None`.
    pub fn parse(s: &str) -> Option<SortKey> {
        Some(match s {
            "id" => SortKey::Id,
            "trial_index" => SortKey::TrialIndex,
            "status" => SortKey::Status,
            "seed" => SortKey::Seed,
            "created_at" => SortKey::CreatedAt,
            "started_at" => SortKey::StartedAt,
            "finished_at" => SortKey::FinishedAt,
            _ => {
                if let Some(k) = s.strip_prefix("param:").filter(|k| !k.is_empty()) {
                    SortKey::Param(k.to_string())
                } else if let Some(k) = s.strip_prefix("metric:").filter(|k| !k.is_empty()) {
                    SortKey::Metric(k.to_string())
                } else {
                    return None;
                }
            }
        })
    }

    /// The runs column for a plain sort key (a fixed string, never input).
    fn column(&self) -> Option<&'static str> {
        Some(match self {
            SortKey::Id => "r.id",
            SortKey::TrialIndex => "r.trial_index",
            SortKey::Status => "r.status",
            SortKey::Seed => "r.seed",
            SortKey::CreatedAt => "r.created_at",
            SortKey::StartedAt => "r.started_at",
            SortKey::FinishedAt => "r.finished_at",
            SortKey::Param(_) | SortKey::Metric(_) => return None,
        })
    }
}

/// Which runs of an experiment take part.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Accepted statuses; empty means any.
    pub statuses: Vec<String>,
    /// Parameter key → accepted values (as stored, e.g. `0.1`); every key must match.
    pub params: Vec<(String, Vec<String>)>,
}

/// A page of runs: filtered, sorted, `limit` rows from `offset`.
#[derive(Debug, Clone)]
pub struct RunQuery {
    pub experiment_id: i64,
    pub filter: RunFilter,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
    /// Only these parameters in each row; `None` gives all of them.
    pub param_keys: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunPage {
    /// Runs matching the filter, over all pages.
    pub total: i64,
    pub offset: i64,
    pub runs: Vec<RunRow>,
}

/// A parameter whose value differs between runs of an experiment.
#[derive(Debug, Clone, Serialize)]
pub struct SweptParam {
    pub key: String,
    /// Distinct values, numerically sorted when every value is a number.
    pub values: Vec<String>,
    pub numeric: bool,
}

/// A metric recorded by an experiment's runs.
#[derive(Debug, Clone, Serialize)]
pub struct MetricKey {
    pub key: String,
    /// Largest step recorded.
    pub max_step: i64,
    /// Points of this metric in the experiment's latest finished run (else its latest run):
    /// 1 for a summary metric such as `best_valid_error`, the epochs for a learning curve.
    pub points: i64,
}

/// Every point of one metric of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub run_id: i64,
    pub key: String,
    pub points: Vec<MetricPoint>,
}

impl SweptParam {
    /// The parameter `key` from its distinct values (in text order) and each value's number
    /// (`None` when it is not one); `None` when it has fewer than two values, so is not swept.
    pub fn from_values(key: String, mut values: Vec<(String, Option<f64>)>) -> Option<SweptParam> {
        if values.len() < 2 {
            return None;
        }
        let numeric = values.iter().all(|(_, n)| n.is_some());
        if numeric {
            values.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
        }
        Some(SweptParam {
            key,
            values: values.into_iter().map(|(v, _)| v).collect(),
            numeric,
        })
    }
}

/// A query text built in pieces, with numbered placeholders (`$1`, `$2`, …, which both engines
/// read) and the values bound to them.
pub(crate) struct Built {
    pub sql: String,
    pub args: AnyArguments<'static>,
    n: usize,
}

impl Built {
    pub fn new(sql: &str) -> Built {
        Built {
            sql: sql.into(),
            args: AnyArguments::default(),
            n: 0,
        }
    }

    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Pushes ` AND col IN ($n, $n+1, …)` binding each value (` AND 1 = 0` for none).
    pub fn push_in<T>(&mut self, col: &str, values: &[T])
    where
        T: Clone + Send + for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + 'static,
    {
        if values.is_empty() {
            self.sql.push_str(" AND 1 = 0");
            return;
        }
        self.sql.push_str(&format!(" AND {col} IN ("));
        for (i, v) in values.iter().enumerate() {
            self.n += 1;
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.sql.push_str(&format!("${}", self.n));
            self.args
                .add(v.clone())
                .expect("a value of a supported type");
        }
        self.sql.push(')');
    }
}

impl Store {
    /// One page of an experiment's runs, filtered and sorted.
    pub async fn runs_page(&self, q: &RunQuery) -> Result<RunPage> {
        let mut ids = self.select_runs(q.experiment_id, &q.filter).await?;
        let total = ids.len() as i64;
        self.sort_runs(q.experiment_id, &mut ids, &q.sort).await?;
        if q.descending {
            // Runs without the sort value stay last.
            let missing = self
                .missing_sort_values(q.experiment_id, &ids, &q.sort)
                .await?;
            let (mut with, without): (Vec<i64>, Vec<i64>) =
                ids.into_iter().partition(|r| !missing.contains(r));
            with.reverse();
            ids = with;
            ids.extend(without);
        }
        let (offset, limit) = (q.offset.max(0) as usize, q.limit.max(0) as usize);
        let page: Vec<i64> = ids.into_iter().skip(offset).take(limit).collect();
        let runs = self
            .rows_from_columns(q.experiment_id, &page, q.param_keys.as_deref())
            .await?;
        Ok(RunPage {
            total,
            offset: q.offset,
            runs,
        })
    }

    /// Sorts run ids ascending by `sort`, ties by id; runs without the value last.
    async fn sort_runs(&self, experiment_id: i64, ids: &mut [i64], sort: &SortKey) -> Result<()> {
        match sort {
            SortKey::Id => ids.sort_unstable(),
            SortKey::Param(k) => {
                let name = crate::columns::param(k);
                let (col, dict) = tokio::join!(
                    self.column(experiment_id, &name),
                    self.dictionary(experiment_id)
                );
                let (col, dict) = (col?, dict?);
                // The values in order once, then each run by its value's rank (none last).
                let mut values: Vec<(&u32, &(String, Option<f64>))> = dict.iter().collect();
                values.sort_by(|a, b| {
                    let (x, y) = ((Some(a.1.0.clone()), a.1.1), (Some(b.1.0.clone()), b.1.1));
                    crate::aggregate::value_order(&x, &y)
                });
                let rank: HashMap<u32, usize> = values
                    .iter()
                    .enumerate()
                    .map(|(i, (id, _))| (**id, i))
                    .collect();
                let mut keyed: Vec<(usize, i64)> = ids
                    .iter()
                    .map(|&r| (rank.get(&col.value_id(r)).copied().unwrap_or(usize::MAX), r))
                    .collect();
                keyed.sort_unstable();
                for (slot, (_, r)) in ids.iter_mut().zip(keyed) {
                    *slot = r;
                }
            }
            SortKey::Metric(k) => {
                let col = self
                    .column(experiment_id, &crate::columns::latest(k))
                    .await?;
                // Values read once; no value (NaN) last.
                let mut keyed: Vec<(f64, i64)> = ids.iter().map(|&r| (col.value(r), r)).collect();
                keyed.sort_unstable_by(|(x, a), (y, b)| match (x.is_nan(), y.is_nan()) {
                    (true, true) => a.cmp(b),
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    (false, false) => x.total_cmp(y).then(a.cmp(b)),
                });
                for (slot, (_, r)) in ids.iter_mut().zip(keyed) {
                    *slot = r;
                }
            }
            plain => {
                // A column of `runs` itself: ordered by the engine, then kept to the selection.
                let col = plain.column().unwrap_or("r.id");
                let order: Vec<i64> = sqlx::query_scalar(&format!(
                    "SELECT r.id FROM runs r WHERE r.experiment_id = $1 ORDER BY {col} IS NULL, {col}, r.id"
                ))
                .bind(experiment_id)
                .fetch_all(&self.pool)
                .await?;
                let rank: HashMap<i64, usize> =
                    order.into_iter().enumerate().map(|(i, r)| (r, i)).collect();
                ids.sort_by_key(|r| rank.get(r).copied().unwrap_or(usize::MAX));
            }
        }
        Ok(())
    }

    /// The runs among `ids` that have no value to sort by.
    async fn missing_sort_values(
        &self,
        experiment_id: i64,
        ids: &[i64],
        sort: &SortKey,
    ) -> Result<HashSet<i64>> {
        Ok(match sort {
            SortKey::Param(k) => {
                let col = self
                    .column(experiment_id, &crate::columns::param(k))
                    .await?;
                ids.iter()
                    .copied()
                    .filter(|&r| col.value_id(r) == 0)
                    .collect()
            }
            SortKey::Metric(k) => {
                let col = self
                    .column(experiment_id, &crate::columns::latest(k))
                    .await?;
                ids.iter()
                    .copied()
                    .filter(|&r| col.value(r).is_nan())
                    .collect()
            }
            SortKey::StartedAt | SortKey::FinishedAt => {
                let col = sort.column().expect("plain");
                let null: Vec<i64> = sqlx::query_scalar(&format!(
                    "SELECT r.id FROM runs r WHERE r.experiment_id = $1 AND {col} IS NULL"
                ))
                .bind(experiment_id)
                .fetch_all(&self.pool)
                .await?;
                null.into_iter().collect()
            }
            _ => HashSet::new(),
        })
    }

    /// Runs of one experiment in the order given, their params (only `param_keys` when given)
    /// and latest metrics read from the run columns rather than one row per value.
    async fn rows_from_columns(
        &self,
        experiment_id: i64,
        ids: &[i64],
        param_keys: Option<&[String]>,
    ) -> Result<Vec<RunRow>> {
        let (keys, metric_keys, dict) = tokio::join!(
            async {
                Ok::<_, StoreError>(match param_keys {
                    Some(k) => k.to_vec(),
                    None => self
                        .param_values(experiment_id)
                        .await?
                        .into_keys()
                        .collect(),
                })
            },
            sqlx::query_scalar::<_, String>("SELECT key FROM metric_keys WHERE experiment_id = $1")
                .bind(experiment_id)
                .fetch_all(&self.pool),
            self.dictionary(experiment_id),
        );
        let (keys, metric_keys, dict) = (keys?, metric_keys?, dict?);
        let names: Vec<String> = metric_keys
            .iter()
            .map(|k| crate::columns::latest(k))
            .collect();
        let (params, latest, rows) = tokio::join!(
            self.param_columns(experiment_id, &keys),
            futures_util::future::try_join_all(names.iter().map(|n| self.column(experiment_id, n))),
            self.bare_runs(ids),
        );
        let (params, latest, mut rows) = (params?, latest?, rows?);
        for row in &mut rows {
            for (key, col) in keys.iter().zip(&params) {
                if let Some((v, _)) = dict.get(&col.value_id(row.id)) {
                    row.params.insert(key.clone(), v.clone());
                }
            }
            for (key, col) in metric_keys.iter().zip(&latest) {
                if let Some(v) = col.latest(row.id) {
                    row.metrics.insert(key.clone(), v);
                }
            }
        }
        Ok(rows)
    }

    /// The best latest value of `metric` over the experiment's finished runs.
    pub async fn best(
        &self,
        experiment_id: i64,
        metric: &str,
        maximize: bool,
    ) -> Result<Option<f64>> {
        let name = crate::columns::latest(metric);
        let (status, latest) = tokio::join!(
            self.column(experiment_id, crate::columns::STATUS),
            self.column(experiment_id, &name)
        );
        let (status, latest) = (status?, latest?);
        let finished = crate::columns::status_code("finished");
        Ok(status
            .runs()
            .into_iter()
            .filter(|&r| status.status(r) == finished)
            .map(|r| latest.value(r))
            .filter(|v| !v.is_nan())
            .reduce(|a, b| if (b > a) == maximize { b } else { a }))
    }

    /// These runs, in the order given (unknown ids are left out), with their parameters (only
    /// `param_keys` when given) and latest metrics.
    pub async fn runs_by_ids(
        &self,
        ids: &[i64],
        param_keys: Option<&[String]>,
    ) -> Result<Vec<RunRow>> {
        let mut params = Built::new("SELECT run_id, key, value FROM params WHERE 1 = 1");
        params.push_in("run_id", ids);
        if let Some(keys) = param_keys {
            params.push_in("key", keys);
        }
        let mut latest = Built::new("SELECT run_id, key, value FROM latest_metrics WHERE 1 = 1");
        latest.push_in("run_id", ids);
        // The three reads at once, on three connections.
        let (rows, param_rows, metric_rows) = tokio::join!(
            self.bare_runs(ids),
            sqlx::query_with(&params.sql, params.args).fetch_all(&self.pool),
            sqlx::query_with(&latest.sql, latest.args).fetch_all(&self.pool),
        );
        let (mut rows, param_rows, metric_rows) = (rows?, param_rows?, metric_rows?);
        let at: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        for r in param_rows {
            if let Some(&i) = at.get(&r.get::<i64, _>(0)) {
                rows[i].params.insert(r.get(1), r.get(2));
            }
        }
        for r in metric_rows {
            if let Some(&i) = at.get(&r.get::<i64, _>(0)) {
                rows[i].metrics.insert(r.get(1), r.get(2));
            }
        }
        Ok(rows)
    }

    /// These runs in the order given (unknown ids are left out), without params and metrics.
    async fn bare_runs(&self, ids: &[i64]) -> Result<Vec<RunRow>> {
        let mut runs = Built::new(
            "SELECT r.id, r.experiment_id, e.name AS experiment, r.trial_index, r.status, r.seed, \
             r.config_hash, r.created_at, r.started_at, r.finished_at, r.error \
             FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE 1 = 1",
        );
        runs.push_in("r.id", ids);
        let rows = sqlx::query_with(&runs.sql, runs.args)
            .fetch_all(&self.pool)
            .await?;
        let (mut params, mut metrics) = (BTreeMap::new(), BTreeMap::new());
        let mut by_id: HashMap<i64, RunRow> = rows
            .iter()
            .map(|r| {
                let row = run_row(r, &mut params, &mut metrics);
                (row.id, row)
            })
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// One run with its configuration, metadata and artifacts; `None` when there is no such run.
    /// Unlike [`Store::run`], it reads only this run's rows, whatever the experiment's size.
    pub async fn run_detail(&self, run_id: i64) -> Result<Option<RunDetail>> {
        let Some(run) = self.runs_by_ids(&[run_id], None).await?.pop() else {
            return Ok(None);
        };
        let r = sqlx::query("SELECT config_json, git_commit, host FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(&self.pool)
            .await?;
        let config_json: String = r.get("config_json");
        Ok(Some(RunDetail {
            run,
            config: serde_json::from_str(&config_json)
                .unwrap_or(serde_json::Value::String(config_json)),
            git_commit: r.get("git_commit"),
            host: r.get("host"),
            artifacts: self.artifacts(run_id).await?,
        }))
    }

    /// The artifacts of a run, oldest first.
    pub async fn artifacts(&self, run_id: i64) -> Result<Vec<ArtifactRow>> {
        let rows: Vec<(i64, i64, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, run_id, kind, path, step FROM artifacts WHERE run_id = $1 ORDER BY step, id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, run_id, kind, path, step)| ArtifactRow {
                id,
                run_id,
                kind,
                path,
                step,
                file: None,
            })
            .collect())
    }

    /// One artifact by id.
    pub async fn artifact(&self, id: i64) -> Result<Option<ArtifactRow>> {
        let row: Option<(i64, i64, String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, run_id, kind, path, step FROM artifacts WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, run_id, kind, path, step)| ArtifactRow {
            id,
            run_id,
            kind,
            path,
            step,
            file: None,
        }))
    }

    /// Parameters with more than one value among the experiment's runs, by key (from the
    /// values the writer keeps per experiment, so it costs one row per distinct value).
    pub async fn swept_params(&self, experiment_id: i64) -> Result<Vec<SweptParam>> {
        Ok(self
            .param_values(experiment_id)
            .await?
            .into_iter()
            .filter_map(|(key, vs)| SweptParam::from_values(key, vs))
            .collect())
    }

    /// Every parameter of the experiment's runs with its distinct values (in text order) and
    /// each value's number (`None` when it is not one).
    pub async fn param_values(
        &self,
        experiment_id: i64,
    ) -> Result<BTreeMap<String, Vec<(String, Option<f64>)>>> {
        let rows: Vec<(String, String, Option<f64>)> = sqlx::query_as(
            "SELECT key, value, value_num FROM param_values WHERE experiment_id = $1 ORDER BY key, value",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_key: BTreeMap<String, Vec<(String, Option<f64>)>> = BTreeMap::new();
        for (k, v, n) in rows {
            by_key.entry(k).or_default().push((v, n));
        }
        Ok(by_key)
    }

    /// The metrics recorded by the experiment's runs, by key.
    pub async fn metric_keys(&self, experiment_id: i64) -> Result<Vec<MetricKey>> {
        // The latest finished run, else the latest run (both by the experiment-status index).
        let sample: Option<i64> = sqlx::query_scalar(
            "SELECT COALESCE((SELECT MAX(id) FROM runs WHERE experiment_id = $1 AND status = 'finished'), \
             (SELECT MAX(id) FROM runs WHERE experiment_id = $1))",
        )
        .bind(experiment_id)
        .fetch_one(&self.pool)
        .await?;
        let sample = sample.unwrap_or(-1);
        let (keys, live, sealed) = tokio::join!(
            sqlx::query_as::<_, (String, i64)>(
                "SELECT key, max_step FROM metric_keys WHERE experiment_id = $1 ORDER BY key",
            )
            .bind(experiment_id)
            .fetch_all(&self.pool),
            sqlx::query_as::<_, (String, Vec<u8>)>(
                "SELECT key, points FROM metric_curves WHERE run_id = $1"
            )
            .bind(sample)
            .fetch_all(&self.pool),
            sqlx::query_as::<_, (String, Vec<u8>)>(
                "SELECT key, data FROM curve_chunks WHERE experiment_id = $1 AND chunk = $2"
            )
            .bind(experiment_id)
            .bind(sample.div_euclid(crate::curves::CHUNK_RUNS))
            .fetch_all(&self.pool),
        );
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for (k, p) in live? {
            *counts.entry(k).or_default() += crate::curves::count(&p) as i64;
        }
        for (k, data) in sealed? {
            for (run, p) in crate::curves::segments(&data) {
                if run == sample {
                    *counts.entry(k.clone()).or_default() += crate::curves::count(p) as i64;
                }
            }
        }
        Ok(keys?
            .into_iter()
            .map(|(key, max_step)| MetricKey {
                points: counts.get(&key).copied().unwrap_or(0),
                key,
                max_step,
            })
            .collect())
    }

    /// Every point of each of `keys` for each of `run_ids` (pairs without points are left out),
    /// ordered by run, key and step.
    pub async fn series(&self, run_ids: &[i64], keys: &[String]) -> Result<Vec<Series>> {
        let mut qb =
            Built::new("SELECT run_id, key, step, value, wall_time FROM metrics WHERE 1 = 1");
        qb.push_in("run_id", run_ids);
        qb.push_in("key", keys);
        qb.push(" ORDER BY run_id, key, step, id");
        let rows: Vec<(i64, String, i64, Option<f64>, f64)> = sqlx::query_as_with(&qb.sql, qb.args)
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<Series> = Vec::new();
        for (run_id, key, step, value, wall_time) in rows {
            let point = MetricPoint {
                step,
                value,
                wall_time,
            };
            match out.last_mut() {
                Some(s) if s.run_id == run_id && s.key == key => s.points.push(point),
                _ => out.push(Series {
                    run_id,
                    key,
                    points: vec![point],
                }),
            }
        }
        Ok(out)
    }
}
