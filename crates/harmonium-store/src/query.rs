//! Read-side queries for the dashboard: filtered, sorted pages of runs; the parameters an
//! experiment sweeps; metric series of many runs at once; group aggregates (n, mean ± std).
//!
//! Every value from a caller is bound. The only SQL text assembled at run time comes from fixed
//! fragments in this file (sort columns are an enum, join aliases are generated), never from input.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::{ArtifactRow, MetricPoint, Result, RunDetail, RunRow, Store};

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

/// Runs grouped by the values of some parameters and a metric aggregated over them.
#[derive(Debug, Clone)]
pub struct GroupQuery {
    pub experiment_id: i64,
    /// Parameter keys to group by (a missing parameter groups as `None`).
    pub by: Vec<String>,
    pub metric: String,
    pub filter: RunFilter,
}

/// A run taking part in a group query, with its value of each grouping key (`value`, and
/// `value_num` when it is a number; `None` when the run lacks the parameter).
#[derive(Debug, Clone)]
pub struct GroupMember {
    pub run_id: i64,
    pub group: Vec<(Option<String>, Option<f64>)>,
}

/// Aggregate of a metric over the runs of one group (at one step, or their latest value).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stat {
    /// Runs whose value is a number.
    pub n: i64,
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1); `None` below two values.
    pub std: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupFinal {
    /// One value per `by` key.
    pub group: Vec<Option<String>>,
    /// Runs in the group, with or without a value.
    pub runs: i64,
    #[serde(flatten)]
    pub stat: Stat,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupCurve {
    pub group: Vec<Option<String>>,
    pub steps: Vec<i64>,
    pub stats: Vec<Stat>,
}

fn stat(n: i64, sum: Option<f64>, sumsq: Option<f64>, min: Option<f64>, max: Option<f64>) -> Stat {
    Stat::from_sums(n, sum, sumsq, min, max)
}

impl Stat {
    /// The statistics of `n` numbers from their sum, sum of squares, minimum and maximum (as SQL
    /// `COUNT`, `SUM`, `MIN` and `MAX` give them: `None` when there is no number).
    pub fn from_sums(
        n: i64,
        sum: Option<f64>,
        sumsq: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Stat {
        let (mean, std) = match (sum, sumsq) {
            (Some(s), Some(q)) if n > 0 => {
                let mean = s / n as f64;
                let std = (n > 1).then(|| {
                    ((q - n as f64 * mean * mean) / (n - 1) as f64)
                        .max(0.0)
                        .sqrt()
                });
                (Some(mean), std)
            }
            _ => (None, None),
        };
        Stat {
            n,
            mean,
            std,
            min,
            max,
        }
    }
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

/// Pushes `WHERE …` selecting the runs of `experiment_id` that pass `filter` (alias `r`).
fn push_where(qb: &mut QueryBuilder<'_, Sqlite>, experiment_id: i64, filter: &RunFilter) {
    qb.push(" WHERE r.experiment_id = ")
        .push_bind(experiment_id);
    if !filter.statuses.is_empty() {
        qb.push(" AND r.status IN (SELECT value FROM json_each(")
            .push_bind(serde_json::to_string(&filter.statuses).unwrap_or_default())
            .push("))");
    }
    for (key, values) in &filter.params {
        qb.push(" AND EXISTS (SELECT 1 FROM params f WHERE f.run_id = r.id AND f.key = ")
            .push_bind(key.clone())
            .push(" AND f.value IN (SELECT value FROM json_each(")
            .push_bind(serde_json::to_string(values).unwrap_or_default())
            .push(")))");
    }
}

/// Pushes one `LEFT JOIN params gI` per grouping key (the alias is generated, the key bound).
fn push_group_joins(qb: &mut QueryBuilder<'_, Sqlite>, by: &[String]) {
    for (i, key) in by.iter().enumerate() {
        qb.push(format!(
            " LEFT JOIN params g{i} ON g{i}.run_id = r.id AND g{i}.key = "
        ))
        .push_bind(key.clone());
    }
}

impl Store {
    /// One page of an experiment's runs, filtered and sorted.
    pub async fn runs_page(&self, q: &RunQuery) -> Result<RunPage> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM runs r");
        push_where(&mut count, q.experiment_id, &q.filter);

        let dir = if q.descending { "DESC" } else { "ASC" };
        let mut ids = QueryBuilder::<Sqlite>::new("SELECT r.id FROM runs r");
        let order = match &q.sort {
            SortKey::Param(k) => {
                ids.push(" LEFT JOIN params s ON s.run_id = r.id AND s.key = ")
                    .push_bind(k.clone());
                format!("s.value IS NULL, s.value_num {dir}, s.value {dir}, r.id {dir}")
            }
            SortKey::Metric(k) => {
                ids.push(" LEFT JOIN latest_metrics s ON s.run_id = r.id AND s.key = ")
                    .push_bind(k.clone());
                format!("s.value IS NULL, s.value {dir}, r.id {dir}")
            }
            plain => format!("{} {dir}, r.id {dir}", plain.column().unwrap_or("r.id")),
        };
        push_where(&mut ids, q.experiment_id, &q.filter);
        ids.push(format!(" ORDER BY {order} LIMIT "))
            .push_bind(q.limit.max(0));
        ids.push(" OFFSET ").push_bind(q.offset.max(0));
        // Both at once, on two connections.
        let (total, ids) = tokio::join!(
            count.build_query_scalar::<i64>().fetch_one(&self.pool),
            ids.build_query_scalar::<i64>().fetch_all(&self.pool),
        );
        let (total, ids) = (total?, ids?);
        let runs = self.runs_by_ids(&ids, q.param_keys.as_deref()).await?;
        Ok(RunPage {
            total,
            offset: q.offset,
            runs,
        })
    }

    /// These runs, in the order given (unknown ids are left out), with their parameters (only
    /// `param_keys` when given) and latest metrics.
    pub async fn runs_by_ids(
        &self,
        ids: &[i64],
        param_keys: Option<&[String]>,
    ) -> Result<Vec<RunRow>> {
        let id_json = serde_json::to_string(ids).unwrap_or_default();
        let keys_json = param_keys.map(|k| serde_json::to_string(k).unwrap_or_default());
        // The three reads at once, on three connections.
        let (rows, param_rows, metric_rows) = tokio::join!(
            sqlx::query(
                "SELECT r.id, r.experiment_id, e.name AS experiment, r.trial_index, r.status, r.seed, r.config_hash, \
                 r.created_at, r.started_at, r.finished_at, r.error \
                 FROM runs r JOIN experiments e ON e.id = r.experiment_id \
                 WHERE r.id IN (SELECT value FROM json_each(?))",
            )
            .bind(&id_json)
            .fetch_all(&self.pool),
            sqlx::query(
                "SELECT run_id, key, value FROM params WHERE run_id IN (SELECT value FROM json_each(?1)) \
                 AND (?2 IS NULL OR key IN (SELECT value FROM json_each(?2)))",
            )
            .bind(&id_json)
            .bind(&keys_json)
            .fetch_all(&self.pool),
            sqlx::query(
                "SELECT run_id, key, value FROM latest_metrics WHERE run_id IN (SELECT value FROM json_each(?))",
            )
            .bind(&id_json)
            .fetch_all(&self.pool),
        );
        let (rows, param_rows, metric_rows) = (rows?, param_rows?, metric_rows?);
        let mut params: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
        for r in param_rows {
            params
                .entry(r.get(0))
                .or_default()
                .insert(r.get(1), r.get(2));
        }
        let mut metrics: BTreeMap<i64, BTreeMap<String, Option<f64>>> = BTreeMap::new();
        for r in metric_rows {
            metrics
                .entry(r.get(0))
                .or_default()
                .insert(r.get(1), r.get(2));
        }
        let mut by_id: BTreeMap<i64, RunRow> = rows
            .into_iter()
            .map(|r| {
                let row = crate::read::run_row(&r, &mut params, &mut metrics);
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
        let r = sqlx::query("SELECT config_json, git_commit, host FROM runs WHERE id = ?")
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
            "SELECT id, run_id, kind, path, step FROM artifacts WHERE run_id = ? ORDER BY step, id",
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
            })
            .collect())
    }

    /// One artifact by id.
    pub async fn artifact(&self, id: i64) -> Result<Option<ArtifactRow>> {
        let row: Option<(i64, i64, String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, run_id, kind, path, step FROM artifacts WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, run_id, kind, path, step)| ArtifactRow {
            id,
            run_id,
            kind,
            path,
            step,
        }))
    }

    /// Parameters with more than one value among the experiment's runs, by key.
    pub async fn swept_params(&self, experiment_id: i64) -> Result<Vec<SweptParam>> {
        let rows: Vec<(String, String, Option<f64>)> = sqlx::query_as(
            "SELECT p.key, p.value, MIN(p.value_num) FROM params p JOIN runs r ON r.id = p.run_id \
             WHERE r.experiment_id = ? GROUP BY p.key, p.value",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_key: BTreeMap<String, Vec<(String, Option<f64>)>> = BTreeMap::new();
        for (k, v, n) in rows {
            by_key.entry(k).or_default().push((v, n));
        }
        Ok(by_key
            .into_iter()
            .filter_map(|(key, vs)| SweptParam::from_values(key, vs))
            .collect())
    }

    /// The metrics recorded by the experiment's runs, by key.
    pub async fn metric_keys(&self, experiment_id: i64) -> Result<Vec<MetricKey>> {
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
            "WITH sample AS (SELECT m.key, COUNT(*) AS n FROM metrics m WHERE m.run_id = \
               (SELECT id FROM runs WHERE experiment_id = ?1 ORDER BY status = 'finished' DESC, id DESC LIMIT 1) \
               GROUP BY m.key) \
             SELECT l.key, MAX(l.step), MAX(s.n) FROM latest_metrics l JOIN runs r ON r.id = l.run_id \
             LEFT JOIN sample s ON s.key = l.key WHERE r.experiment_id = ?1 GROUP BY l.key ORDER BY l.key",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(key, max_step, points)| MetricKey {
                key,
                max_step,
                points: points.unwrap_or(0),
            })
            .collect())
    }

    /// Every point of each of `keys` for each of `run_ids` (pairs without points are left out),
    /// ordered by run, key and step.
    pub async fn series(&self, run_ids: &[i64], keys: &[String]) -> Result<Vec<Series>> {
        let rows: Vec<(i64, String, i64, Option<f64>, f64)> = sqlx::query_as(
            "SELECT run_id, key, step, value, wall_time FROM metrics \
             WHERE run_id IN (SELECT value FROM json_each(?1)) AND key IN (SELECT value FROM json_each(?2)) \
             ORDER BY run_id, key, step, rowid",
        )
        .bind(serde_json::to_string(run_ids).unwrap_or_default())
        .bind(serde_json::to_string(keys).unwrap_or_default())
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

    /// The latest value of the metric, aggregated per group.
    pub async fn group_final(&self, q: &GroupQuery) -> Result<Vec<GroupFinal>> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
        let cols = group_value_columns(q.by.len());
        qb.push(format!(
            "{cols}COUNT(*), COUNT(m.value), SUM(m.value), SUM(m.value * m.value), MIN(m.value), MAX(m.value) FROM runs r"
        ));
        push_group_joins(&mut qb, &q.by);
        qb.push(" LEFT JOIN latest_metrics m ON m.run_id = r.id AND m.key = ")
            .push_bind(q.metric.clone());
        push_where(&mut qb, q.experiment_id, &q.filter);
        push_group_by(&mut qb, q.by.len(), false);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let k = q.by.len();
        Ok(rows
            .into_iter()
            .map(|r| GroupFinal {
                group: (0..k).map(|i| r.get::<Option<String>, _>(i)).collect(),
                runs: r.get(k),
                stat: stat(
                    r.get(k + 1),
                    r.get(k + 2),
                    r.get(k + 3),
                    r.get(k + 4),
                    r.get(k + 5),
                ),
            })
            .collect())
    }

    /// The runs of a group query (its experiment and filter), with their values of the `by`
    /// keys: what an in-memory aggregation of the metric needs besides the metric's points.
    pub async fn group_members(&self, q: &GroupQuery) -> Result<Vec<GroupMember>> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT r.id");
        for i in 0..q.by.len() {
            qb.push(format!(", g{i}.value, g{i}.value_num"));
        }
        qb.push(" FROM runs r");
        push_group_joins(&mut qb, &q.by);
        push_where(&mut qb, q.experiment_id, &q.filter);
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| GroupMember {
                run_id: r.get(0),
                group: (0..q.by.len())
                    .map(|i| (r.get(1 + 2 * i), r.get(2 + 2 * i)))
                    .collect(),
            })
            .collect())
    }

    /// The metric at every step, aggregated per group (in SQL; it reads every point of the
    /// metric, so the dashboard aggregates from its in-memory summary instead and this is the
    /// reference it is tested against).
    pub async fn group_curves(&self, q: &GroupQuery) -> Result<Vec<GroupCurve>> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
        let cols = group_value_columns(q.by.len());
        qb.push(format!(
            "{cols}m.step, COUNT(m.value), SUM(m.value), SUM(m.value * m.value), MIN(m.value), MAX(m.value) FROM runs r"
        ));
        push_group_joins(&mut qb, &q.by);
        qb.push(" JOIN metrics m ON m.run_id = r.id AND m.key = ")
            .push_bind(q.metric.clone());
        push_where(&mut qb, q.experiment_id, &q.filter);
        push_group_by(&mut qb, q.by.len(), true);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let k = q.by.len();
        let mut out: Vec<GroupCurve> = Vec::new();
        for r in rows {
            let group: Vec<Option<String>> =
                (0..k).map(|i| r.get::<Option<String>, _>(i)).collect();
            let step: i64 = r.get(k);
            let s = stat(
                r.get(k + 1),
                r.get(k + 2),
                r.get(k + 3),
                r.get(k + 4),
                r.get(k + 5),
            );
            match out.last_mut() {
                Some(c) if c.group == group => {
                    c.steps.push(step);
                    c.stats.push(s);
                }
                _ => out.push(GroupCurve {
                    group,
                    steps: vec![step],
                    stats: vec![s],
                }),
            }
        }
        Ok(out)
    }
}

/// `g0.value, g1.value, ` for `k` grouping keys (generated text, no input).
fn group_value_columns(k: usize) -> String {
    (0..k).map(|i| format!("g{i}.value, ")).collect()
}

/// `GROUP BY` the group columns (and the step), ordered numerically where possible.
fn push_group_by(qb: &mut QueryBuilder<'_, Sqlite>, k: usize, by_step: bool) {
    let mut cols: Vec<String> = (0..k).map(|i| format!("g{i}.value")).collect();
    // Numerically where the values are numbers, then as text.
    let mut order: String = (0..k)
        .map(|i| format!("MIN(g{i}.value_num), g{i}.value"))
        .collect::<Vec<_>>()
        .join(", ");
    if by_step {
        cols.push("m.step".into());
        order = if order.is_empty() {
            "m.step".into()
        } else {
            format!("{order}, m.step")
        };
    }
    if !cols.is_empty() {
        qb.push(format!(" GROUP BY {} ORDER BY {order}", cols.join(", ")));
    }
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
    /// Text that changes whenever anything the dashboard shows changes: new metric points,
    /// artifacts or runs, run status changes, experiment updates. Cheap: a handful of index reads
    /// and one pass over the runs table.
    pub async fn change_stamp(&self) -> Result<String> {
        let (m, a, n, r, e): (Option<i64>, Option<i64>, i64, Option<String>, Option<String>) = sqlx::query_as(
            "SELECT (SELECT MAX(rowid) FROM metrics), (SELECT MAX(rowid) FROM artifacts), \
             (SELECT COUNT(*) FROM runs), (SELECT MAX(COALESCE(finished_at, started_at, created_at)) FROM runs), \
             (SELECT MAX(updated_at) FROM experiments)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(format!(
            "{}/{}/{n}/{}/{}",
            m.unwrap_or(0),
            a.unwrap_or(0),
            r.unwrap_or_default(),
            e.unwrap_or_default()
        ))
    }

    /// Position of the newest metric point (0 when there is none).
    pub async fn last_metric_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(rowid) FROM metrics")
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
            "SELECT m.rowid, m.run_id, m.key, m.step, m.value FROM metrics m \
             WHERE m.rowid > ?1 AND m.run_id IN (SELECT id FROM runs WHERE (?2 IS NULL OR experiment_id = ?2) \
             AND (?3 IS NULL OR id = ?3)) ORDER BY m.rowid LIMIT ?4",
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
             FROM runs WHERE (?1 IS NULL OR experiment_id = ?1) AND (?2 IS NULL OR id = ?2) AND t >= ?3 ORDER BY t",
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
