//! The group aggregation, once, for `harmonium compare` and the dashboard alike: the runs of an
//! experiment grouped by the values of any number of params, and per group the count, mean,
//! standard deviation, minimum and maximum of a metric — of its latest value (final) or at
//! every step (curves) — plus the difference between each level of the first param and its
//! first level, within every combination of the others, with a Welch confidence interval and,
//! where the two levels' runs share seeds, paired statistics ([`paired`]: a paired t interval
//! and an exact sign-flip p-value, and which of the two intervals applies).
//!
//! Rules, the same everywhere:
//! - `n` counts the runs whose value is a number (NaN and missing values are left out but the
//!   run still counts in `runs`); `std` is the sample standard deviation (n − 1), `None` below
//!   two values; computed by Welford's algorithm (stable, no engine `SUM`).
//! - Final aggregates take finished runs unless the filter names statuses.
//! - Pairs are made of runs with a number only (a NaN run is left out of its pair as of `n`);
//!   two runs pair when they share the seed and their values of the sweep's parameters that
//!   are not grouped by ([`partners`]: e.g. the held-out speaker); the paired interval applies
//!   when every such run of both levels pairs up, one run per key per level; otherwise Welch's
//!   does, and the contrast says why.
//! - Groups come in natural order: for each param in turn, numbers numerically, then text, then
//!   runs without the param.
//! - A param may be named by a suffix of its key (`init` → `mlp.init`); of several keys with
//!   that suffix, the one whose value varies in the experiment; otherwise the name is an error
//!   that lists the candidates.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::Row;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::columns::{self, Dictionary};
use crate::runs::RunFilter;
use crate::{Result, Store, StoreError, curves};

pub mod paired;
pub mod partners;

pub use paired::{Applies, Paired, Partner, Seeded, Unpaired};

/// Runs grouped by the values of some params and a metric aggregated over them.
#[derive(Debug, Clone)]
pub struct GroupQuery {
    pub experiment_id: i64,
    /// Param keys to group by, resolved (a missing param groups as `None`).
    pub by: Vec<String>,
    pub metric: String,
    pub filter: RunFilter,
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

/// Welford's running mean and sum of squared deviations, with the extremes.
#[derive(Debug, Clone, Copy)]
pub struct Welford {
    /// Values seen, numbers or not.
    rows: i64,
    n: i64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for Welford {
    fn default() -> Self {
        Welford {
            rows: 0,
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Welford {
    /// Adds a value; NaN (a missing value) counts as a row but not as a number.
    pub fn add(&mut self, x: f64) {
        self.rows += 1;
        if x.is_nan() {
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// The accumulator of both sets of values (Chan, Golub and LeVeque's pairwise update).
    pub fn merge(&mut self, o: &Welford) {
        self.rows += o.rows;
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            let rows = self.rows;
            *self = *o;
            self.rows = rows;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * (self.n as f64 * o.n as f64) / n as f64;
        self.n = n;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    pub fn stat(&self) -> Stat {
        let some = |x: f64| (self.n > 0).then_some(x);
        Stat {
            n: self.n,
            mean: some(self.mean),
            std: (self.n > 1).then(|| (self.m2 / (self.n - 1) as f64).max(0.0).sqrt()),
            min: some(self.min),
            max: some(self.max),
        }
    }
}

/// The final (latest) value of a metric aggregated over one group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupFinal {
    /// One value per `by` key (`None`: the runs lack the param).
    pub group: Vec<Option<String>>,
    /// Runs in the group, with or without a value.
    pub runs: i64,
    #[serde(flatten)]
    pub stat: Stat,
}

/// A metric aggregated over one group at every step some run of the group recorded.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupCurve {
    pub group: Vec<Option<String>>,
    pub steps: Vec<i64>,
    pub stats: Vec<Stat>,
}

/// `mean(a) − mean(b)` between two levels of the first `by` param, within one combination of
/// the others, with a Welch t interval (`None` bounds when a group has fewer than two values).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Contrast {
    /// Values of the other `by` params.
    pub within: Vec<Option<String>>,
    pub a: Option<String>,
    /// The reference: the first level in natural order.
    pub b: Option<String>,
    pub diff: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom.
    pub dof: Option<f64>,
    /// Paired statistics over the partner keys (seed, and the values of the sweep's parameters
    /// not grouped by) both levels share; `None` when no key is shared or a level has several
    /// runs of one key.
    pub paired: Option<Paired>,
    /// The interval that applies: paired when every run (with a number) of both levels pairs
    /// up, else Welch.
    pub applies: Applies,
    /// Why Welch's interval applies; `None` when the paired one does.
    pub why_welch: Option<Unpaired>,
}

/// The final aggregates of a group query and the contrasts between levels of its first param.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Comparison {
    pub by: Vec<String>,
    /// The sweep's parameters a pair shares besides the seed (those not grouped by, pooled
    /// over: [`partners`]); empty when runs pair on the seed alone.
    pub paired_on: Vec<String>,
    pub metric: String,
    /// Confidence level of the intervals.
    pub level: f64,
    pub groups: Vec<GroupFinal>,
    pub contrasts: Vec<Contrast>,
}

/// A group's key: each `by` param's value and its number.
type Key = Vec<(Option<String>, Option<f64>)>;

/// Natural order of one param's values: numbers numerically, then text by bytes, then none.
pub(crate) fn value_order(
    a: &(Option<String>, Option<f64>),
    b: &(Option<String>, Option<f64>),
) -> Ordering {
    match (a, b) {
        ((None, _), (None, _)) => Ordering::Equal,
        ((None, _), _) => Ordering::Greater,
        (_, (None, _)) => Ordering::Less,
        ((Some(x), xn), (Some(y), yn)) => match (xn, yn) {
            (Some(p), Some(q)) => p.total_cmp(q).then_with(|| x.cmp(y)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.as_bytes().cmp(y.as_bytes()),
        },
    }
}

fn key_order(a: &[(Option<String>, Option<f64>)], b: &[(Option<String>, Option<f64>)]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| value_order(x, y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn labels(key: &Key) -> Vec<Option<String>> {
    key.iter().map(|(v, _)| v.clone()).collect()
}

/// Groups by the values' ids, each with its accumulator, labelled and in natural order.
fn ordered<T>(groups: HashMap<Vec<u32>, T>, dict: &Dictionary) -> Vec<(Vec<Option<String>>, T)> {
    let mut out: Vec<(Key, T)> = groups
        .into_iter()
        .map(|(ids, acc)| {
            let key = ids
                .iter()
                .map(|id| match dict.get(id) {
                    Some((v, n)) => (Some(v.clone()), *n),
                    None => (None, None),
                })
                .collect();
            (key, acc)
        })
        .collect();
    out.sort_by(|a, b| key_order(&a.0, &b.0));
    out.into_iter().map(|(k, acc)| (labels(&k), acc)).collect()
}

/// Per-step accumulators of one group: a flat array over a span of steps, or a map when the
/// steps are too spread out for one.
enum Cells {
    Dense { base: i64, cells: Vec<Welford> },
    Sparse(BTreeMap<i64, Welford>),
}

/// Widest span of steps kept in a flat array.
const MAX_DENSE_SPAN: i64 = 1 << 16;

impl Cells {
    fn new() -> Cells {
        Cells::Dense {
            base: 0,
            cells: Vec::new(),
        }
    }

    /// The accumulator of a step, made when new (a flat array turns into a map when the steps
    /// spread too wide for one).
    fn cell(&mut self, step: i64) -> &mut Welford {
        let too_wide = match self {
            Cells::Dense { base, cells } => {
                if cells.is_empty() {
                    *base = step;
                }
                let end = *base + cells.len() as i64;
                end.max(step + 1) - (*base).min(step) > MAX_DENSE_SPAN
            }
            Cells::Sparse(_) => false,
        };
        if too_wide {
            *self = Cells::Sparse(self.cells().into_iter().collect());
        }
        match self {
            Cells::Dense { base, cells } => {
                if step < *base {
                    let grow = (*base - step) as usize;
                    cells.splice(0..0, std::iter::repeat_n(Welford::default(), grow));
                    *base = step;
                } else if step >= *base + cells.len() as i64 {
                    cells.resize((step - *base + 1) as usize, Welford::default());
                }
                &mut cells[(step - *base) as usize]
            }
            Cells::Sparse(map) => map.entry(step).or_default(),
        }
    }

    fn add(&mut self, step: i64, v: f64) {
        self.cell(step).add(v);
    }

    /// Every step with a value, and its accumulator.
    fn cells(&self) -> Vec<(i64, Welford)> {
        match self {
            Cells::Dense { base, cells } => cells
                .iter()
                .enumerate()
                .filter(|(_, w)| w.rows > 0)
                .map(|(i, w)| (base + i as i64, *w))
                .collect(),
            Cells::Sparse(map) => map.iter().map(|(s, w)| (*s, *w)).collect(),
        }
    }

    /// Adds another part's accumulators of the same group, step by step.
    fn merge(&mut self, other: &Cells) {
        for (step, w) in other.cells() {
            self.cell(step).merge(&w);
        }
    }

    fn into_curve(self, group: Vec<Option<String>>) -> GroupCurve {
        let (steps, stats) = self.cells().into_iter().map(|(s, w)| (s, w.stat())).unzip();
        GroupCurve {
            group,
            steps,
            stats,
        }
    }
}

impl Store {
    /// The latest value of the metric, aggregated per group. Finished runs unless the filter
    /// names statuses. Reads the experiment's run columns (a few hundred rows per column).
    pub async fn group_final(&self, q: &GroupQuery) -> Result<Vec<GroupFinal>> {
        Ok(self
            .final_groups(q, None)
            .await?
            .into_iter()
            .map(|(g, _)| g)
            .collect())
    }

    /// [`Store::group_final`], with each group's runs as (partner key, value) when `partners`
    /// names the pooled sweep parameters a pair shares besides the seed (else none); reads
    /// the runs' seeds.
    async fn final_groups(
        &self,
        q: &GroupQuery,
        partners: Option<&[String]>,
    ) -> Result<Vec<(GroupFinal, Vec<Seeded>)>> {
        let seeds = partners.is_some();
        let mut filter = q.filter.clone();
        if filter.statuses.is_empty() {
            filter.statuses = vec!["finished".into()];
        }
        let latest = columns::latest(&q.metric);
        let (runs, by, latest, dict, seed_of, pooled) = tokio::join!(
            self.select_runs(q.experiment_id, &filter),
            self.param_columns(q.experiment_id, &q.by),
            self.column(q.experiment_id, &latest),
            self.dictionary(q.experiment_id),
            async {
                if seeds {
                    self.run_seeds(q.experiment_id).await
                } else {
                    Ok(HashMap::new())
                }
            },
            // The sweep's parameters that pairs must also share.
            self.param_columns(q.experiment_id, partners.unwrap_or(&[])),
        );
        let (runs, by, latest, dict, seed_of, pooled) =
            (runs?, by?, latest?, dict?, seed_of?, pooled?);
        let mut groups: HashMap<Vec<u32>, (Welford, Vec<Seeded>)> = HashMap::new();
        for run in runs {
            let key: Vec<u32> = by.iter().map(|c| c.value_id(run)).collect();
            let (w, members) = groups.entry(key).or_default();
            let v = latest.value(run);
            w.add(v);
            if let Some(&seed) = seed_of.get(&run) {
                let cell = pooled.iter().map(|c| c.value_id(run)).collect();
                members.push(((seed, cell), v));
            }
        }
        Ok(ordered(groups, &dict)
            .into_iter()
            .map(|(group, (w, members))| {
                let g = GroupFinal {
                    group,
                    runs: w.rows,
                    stat: w.stat(),
                };
                (g, members)
            })
            .collect())
    }

    /// Each run's seed, by run id.
    async fn run_seeds(&self, experiment_id: i64) -> Result<HashMap<i64, i64>> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, seed FROM runs WHERE experiment_id = $1")
                .bind(experiment_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// The metric at every step, aggregated per group, over every run that passes the filter
    /// (running ones included); groups without any point are left out. Reads one packed curve
    /// per run.
    pub async fn group_curves(&self, q: &GroupQuery) -> Result<Vec<GroupCurve>> {
        let (runs, by, dict) = tokio::join!(
            self.select_runs(q.experiment_id, &q.filter),
            self.param_columns(q.experiment_id, &q.by),
            self.dictionary(q.experiment_id),
        );
        let (runs, by, dict) = (runs?, by?, dict?);
        // Two halves of the runs' id range, each read and aggregated on its own task (and
        // connection), then merged.
        let mid = runs.get(runs.len() / 2).copied().unwrap_or(i64::MAX);
        let group_of: std::sync::Arc<HashMap<i64, Vec<u32>>> = std::sync::Arc::new(
            runs.into_iter()
                .map(|r| (r, by.iter().map(|c| c.value_id(r)).collect()))
                .collect(),
        );
        // Ended runs' curves by chunk of run ids; running runs' curves one row each.
        let mid = mid.div_euclid(curves::CHUNK_RUNS);
        let part = |lo: i64, hi: i64, live: bool| {
            let (store, group_of, metric) = (self.clone(), group_of.clone(), q.metric.clone());
            let exp = q.experiment_id;
            tokio::spawn(async move {
                let mut groups: HashMap<Vec<u32>, Cells> = HashMap::new();
                let mut add = |run: i64, points: &[u8]| {
                    if let Some(key) = group_of.get(&run) {
                        let cells = groups.entry(key.clone()).or_insert_with(Cells::new);
                        for (step, v) in curves::decode(points) {
                            cells.add(step, v);
                        }
                    }
                };
                let mut chunks = sqlx::query(
                    "SELECT data FROM curve_chunks WHERE experiment_id = $1 AND key = $2 \
                     AND chunk >= $3 AND chunk < $4",
                )
                .bind(exp)
                .bind(&metric)
                .bind(lo)
                .bind(hi)
                .fetch(&store.pool);
                while let Some(r) = chunks.try_next().await? {
                    for (run, points) in curves::segments(r.get::<&[u8], _>(0)) {
                        add(run, points);
                    }
                }
                drop(chunks);
                if live {
                    let mut rows = sqlx::query(
                        "SELECT run_id, points FROM metric_curves WHERE experiment_id = $1 AND key = $2",
                    )
                    .bind(exp)
                    .bind(&metric)
                    .fetch(&store.pool);
                    while let Some(r) = rows.try_next().await? {
                        add(r.get(0), r.get(1));
                    }
                }
                Ok::<_, StoreError>(groups)
            })
        };
        let (a, b) = tokio::join!(part(i64::MIN, mid, true), part(mid, i64::MAX, false));
        let joined = |r: std::result::Result<Result<_>, tokio::task::JoinError>| {
            r.map_err(|e| StoreError::Message(format!("aggregation task failed: {e}")))?
        };
        let (mut groups, other) = (joined(a)?, joined(b)?);
        for (key, cells) in other {
            match groups.get_mut(&key) {
                Some(c) => c.merge(&cells),
                None => {
                    groups.insert(key, cells);
                }
            }
        }
        Ok(ordered(groups, &dict)
            .into_iter()
            .map(|(group, cells)| cells.into_curve(group))
            .collect())
    }

    /// Final aggregates per group and the contrasts between the levels of the first param at
    /// confidence `level`: what `harmonium compare` prints and the dashboard's groups show.
    pub async fn compare(&self, q: &GroupQuery, level: f64) -> Result<Comparison> {
        if !(0.0 < level && level < 1.0) {
            return Err(StoreError::Message(format!(
                "the confidence level must be between 0 and 1, not {level}"
            )));
        }
        let yaml = self.experiment_yaml(q.experiment_id).await?;
        let paired_on = partners::pooled_keys(yaml.as_deref().unwrap_or(""), &q.by);
        let (groups, seeds): (Vec<GroupFinal>, Vec<Vec<Seeded>>) = self
            .final_groups(q, Some(&paired_on))
            .await?
            .into_iter()
            .unzip();
        let contrasts = contrasts(&groups, &seeds, level);
        Ok(Comparison {
            by: q.by.clone(),
            paired_on,
            metric: q.metric.clone(),
            level,
            groups,
            contrasts,
        })
    }

    /// The param keys meant by `names` in this experiment: a full key, or a suffix after a dot
    /// (`init` → `mlp.init`); of several keys with that suffix, the one whose value varies.
    pub async fn resolve_params(
        &self,
        experiment_id: i64,
        names: &[String],
    ) -> Result<Vec<String>> {
        let values = self.param_values(experiment_id).await?;
        names
            .iter()
            .map(|name| resolve_param(&values, name))
            .collect()
    }

    /// The metric key meant by `name` in this experiment: a recorded key, or the one recorded
    /// key ending in `/NAME` or `.NAME`.
    pub async fn resolve_metric(&self, experiment_id: i64, name: &str) -> Result<String> {
        let keys: Vec<String> = self
            .metric_keys(experiment_id)
            .await?
            .into_iter()
            .map(|m| m.key)
            .collect();
        if keys.iter().any(|k| k == name) {
            return Ok(name.to_string());
        }
        let hits: Vec<&String> = keys
            .iter()
            .filter(|k| k.ends_with(&format!("/{name}")) || k.ends_with(&format!(".{name}")))
            .collect();
        match hits.as_slice() {
            [one] => Ok(one.to_string()),
            [] => Err(StoreError::Message(format!(
                "no metric '{name}' in this experiment; its metrics are: {}",
                keys.join(", ")
            ))),
            many => Err(StoreError::Message(format!(
                "metric '{name}' is ambiguous: {}; give the full name",
                join(many)
            ))),
        }
    }
}

fn join(keys: &[&String]) -> String {
    keys.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`Store::resolve_params`] for one name, given every param's distinct values.
pub fn resolve_param(
    values: &BTreeMap<String, Vec<(String, Option<f64>)>>,
    name: &str,
) -> Result<String> {
    if values.contains_key(name) {
        return Ok(name.to_string());
    }
    let suffix = format!(".{name}");
    let hits: Vec<&String> = values.keys().filter(|k| k.ends_with(&suffix)).collect();
    let varying: Vec<&String> = hits
        .iter()
        .copied()
        .filter(|k| values[*k].len() > 1)
        .collect();
    match (hits.as_slice(), varying.as_slice()) {
        ([one], _) | (_, [one]) => Ok(one.to_string()),
        ([], _) => {
            let swept: Vec<&String> = values
                .iter()
                .filter(|(_, v)| v.len() > 1)
                .map(|(k, _)| k)
                .collect();
            let listed = if swept.is_empty() {
                values.keys().collect()
            } else {
                swept
            };
            Err(StoreError::Message(format!(
                "no param '{name}' in this experiment; {}: {}",
                if values.values().any(|v| v.len() > 1) {
                    "the swept params are"
                } else {
                    "its params are"
                },
                join(&listed)
            )))
        }
        (many, _) => Err(StoreError::Message(format!(
            "param '{name}' is ambiguous: {}; give the full name",
            join(many)
        ))),
    }
}

/// Bounds of a Welch interval and its degrees of freedom: (lo, hi, dof).
pub type WelchBounds = (f64, f64, f64);

/// Welch's interval for `mean(a) − mean(b)` at `level`: (diff, bounds and degrees of freedom
/// when both groups have at least two values).
pub fn welch_interval(a: &Stat, b: &Stat, level: f64) -> Option<(f64, Option<WelchBounds>)> {
    let diff = a.mean? - b.mean?;
    if a.n < 2 || b.n < 2 {
        return Some((diff, None));
    }
    let (sa, sb) = (a.std?, b.std?);
    let (va, vb) = (sa * sa / a.n as f64, sb * sb / b.n as f64);
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return Some((diff, Some((diff, diff, f64::INFINITY))));
    }
    let dof = (va + vb).powi(2) / (va * va / (a.n as f64 - 1.0) + vb * vb / (b.n as f64 - 1.0));
    let t = StudentsT::new(0.0, 1.0, dof)
        .ok()?
        .inverse_cdf(0.5 + level / 2.0);
    Some((diff, Some((diff - t * se, diff + t * se, dof))))
}

/// Every level of the first `by` param against the first level (the reference), within each
/// combination of the others, by Welch and paired (by seed and the sweep's pooled parameters);
/// groups must be in natural order (as [`Store::group_final`] gives them), `seeds[i]` the
/// (partner key, value) of the runs of `groups[i]` (a group without an entry pairs with
/// nothing). Levels without a mean are left out.
pub fn contrasts(groups: &[GroupFinal], seeds: &[Vec<Seeded>], level: f64) -> Vec<Contrast> {
    type Member<'a> = (&'a GroupFinal, &'a [Seeded]);
    let mut within: Vec<(Vec<Option<String>>, Vec<Member>)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if g.group.is_empty() || g.stat.mean.is_none() {
            continue;
        }
        let m = (g, seeds.get(i).map_or(&[][..], |s| s.as_slice()));
        let rest = g.group[1..].to_vec();
        match within.iter_mut().find(|(r, _)| *r == rest) {
            Some((_, members)) => members.push(m),
            None => within.push((rest, vec![m])),
        }
    }
    let mut out = Vec::new();
    for (rest, members) in within {
        let Some(((reference, ref_seeds), others)) = members.split_first() else {
            continue;
        };
        for (o, o_seeds) in others {
            let Some((diff, bounds)) = welch_interval(&o.stat, &reference.stat, level) else {
                continue;
            };
            let (paired, why_welch) = paired::paired(o_seeds, ref_seeds, level);
            out.push(Contrast {
                within: rest.clone(),
                a: o.group[0].clone(),
                b: reference.group[0].clone(),
                diff,
                lo: bounds.map(|b| b.0),
                hi: bounds.map(|b| b.1),
                dof: bounds.map(|b| b.2).filter(|d| d.is_finite()),
                applies: Applies::unless(why_welch),
                paired,
                why_welch,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
