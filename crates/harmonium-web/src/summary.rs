//! An in-memory summary of the database for the experiment page, so that its costliest answers
//! do not reread the whole experiment on every request:
//!
//! - the distinct values of every parameter of every experiment (for `params=swept` and the
//!   experiment's swept parameters);
//! - every point of every metric, by metric and run (for per-epoch group curves, which are then
//!   an in-memory aggregation over the runs SQL selects and groups).
//!
//! It is built once (in the background when the server starts; `serve` reports when it is
//! ready) and then brought up to date before each use from the rows added since: `metrics` and
//! `params` only ever grow, so their largest `rowid` is a change stamp, and the rows past the
//! last one seen are all that is new. Should either table or `runs` shrink (rows deleted by
//! hand: harmonium never deletes), the summary is rebuilt from scratch.
//!
//! Aggregates are computed as SQLite computes them (`COUNT`, `MIN`, `MAX`, and `SUM` with the
//! Kahan–Babuška–Neumaier compensated sum of SQLite ≥ 3.43), so they are the numbers the SQL
//! reference [`Store::group_curves`] gives.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use harmonium_store::query::{GroupCurve, GroupMember, GroupQuery, Stat, SweptParam};
use harmonium_store::{Result, Store};
use sqlx::Row;
use tokio::sync::RwLock;

/// Most accumulator cells (groups × step span) aggregated in flat arrays; beyond, by step map.
const MAX_DENSE_CELLS: u64 = 1 << 19;

#[derive(Default)]
pub struct Summary {
    state: RwLock<State>,
}

/// What a build or refresh read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loaded {
    pub params: usize,
    pub points: usize,
    pub elapsed: Duration,
}

#[derive(Default)]
struct State {
    loaded: bool,
    stamp: Stamp,
    /// Experiment → parameter key → value → smallest `value_num` (SQL `MIN`).
    params: HashMap<i64, BTreeMap<String, BTreeMap<String, Option<f64>>>>,
    /// Metric key → its points.
    metrics: HashMap<String, Curves>,
}

/// Every point of one metric: run → (step, value) in `rowid` order; NaN stands for NULL (SQLite
/// stores no NaN, so none is ambiguous).
#[derive(Default)]
struct Curves {
    runs: HashMap<i64, Vec<(i64, f64)>>,
    min_step: i64,
    max_step: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Stamp {
    metrics: i64,
    params: i64,
    runs: i64,
}

async fn stamp(store: &Store) -> Result<Stamp> {
    let (metrics, params, runs): (Option<i64>, Option<i64>, i64) = sqlx::query_as(
        "SELECT (SELECT MAX(rowid) FROM metrics), (SELECT MAX(rowid) FROM params), \
         (SELECT COUNT(*) FROM runs)",
    )
    .fetch_one(&store.pool)
    .await?;
    Ok(Stamp {
        metrics: metrics.unwrap_or(0),
        params: params.unwrap_or(0),
        runs,
    })
}

impl Summary {
    /// Brings the summary up to date with the database (the whole of it on the first call).
    pub async fn refresh(&self, store: &Store) -> Result<Loaded> {
        let now = stamp(store).await?;
        {
            let st = self.state.read().await;
            if st.loaded && st.stamp == now {
                return Ok(Loaded::default());
            }
        }
        let mut st = self.state.write().await;
        // Another request may have brought it up to date meanwhile.
        let now = stamp(store).await?;
        if st.loaded && st.stamp == now {
            return Ok(Loaded::default());
        }
        let t = Instant::now();
        let old = st.stamp;
        if st.loaded
            && (now.metrics < old.metrics || now.params < old.params || now.runs < old.runs)
        {
            *st = State::default();
        }
        let mut loaded = Loaded::default();
        let st = &mut *st;
        let mut rows = sqlx::query(
            "SELECT p.rowid, r.experiment_id, p.key, p.value, p.value_num FROM params p \
             JOIN runs r ON r.id = p.run_id WHERE p.rowid > ? ORDER BY p.rowid",
        )
        .bind(st.stamp.params)
        .fetch(&store.pool);
        while let Some(r) = rows.try_next().await? {
            let (seq, exp): (i64, i64) = (r.get(0), r.get(1));
            let (key, value, num): (&str, &str, Option<f64>) = (r.get(2), r.get(3), r.get(4));
            let values = st.params.entry(exp).or_default();
            let values = match values.get_mut(key) {
                Some(v) => v,
                None => values.entry(key.to_string()).or_default(),
            };
            match values.get_mut(value) {
                Some(min) => *min = min_num(*min, num),
                None => {
                    values.insert(value.to_string(), num);
                }
            }
            st.stamp.params = st.stamp.params.max(seq);
            loaded.params += 1;
        }
        drop(rows);
        let mut rows = sqlx::query(
            "SELECT rowid, run_id, key, step, value FROM metrics WHERE rowid > ? ORDER BY rowid",
        )
        .bind(st.stamp.metrics)
        .fetch(&store.pool);
        let mut last_key = String::new();
        let mut curves: Option<&mut Curves> = None;
        let mut seq = st.stamp.metrics;
        while let Some(r) = rows.try_next().await? {
            let (rowid, run, key, step, value): (i64, i64, &str, i64, Option<f64>) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            if curves.is_none() || key != last_key {
                last_key.clear();
                last_key.push_str(key);
                let fresh = !st.metrics.contains_key(key);
                let c = st.metrics.entry(key.to_string()).or_default();
                if fresh {
                    (c.min_step, c.max_step) = (step, step);
                }
                curves = Some(c);
            }
            let c = curves.as_deref_mut().expect("set above");
            c.min_step = c.min_step.min(step);
            c.max_step = c.max_step.max(step);
            c.runs
                .entry(run)
                .or_default()
                .push((step, value.unwrap_or(f64::NAN)));
            seq = seq.max(rowid);
            loaded.points += 1;
        }
        drop(rows);
        st.stamp.metrics = seq;
        // Rows may have arrived after `now` was read: the stamps move on to what was read, and a
        // later refresh reads on from there.
        st.stamp.runs = now.runs;
        st.loaded = true;
        loaded.elapsed = t.elapsed();
        Ok(loaded)
    }

    /// The parameters with more than one value among the experiment's runs (as
    /// [`Store::swept_params`] gives them).
    pub async fn swept(&self, store: &Store, experiment_id: i64) -> Result<Vec<SweptParam>> {
        self.refresh(store).await?;
        let st = self.state.read().await;
        Ok(st
            .params
            .get(&experiment_id)
            .map(|keys| {
                keys.iter()
                    .filter_map(|(key, values)| {
                        SweptParam::from_values(
                            key.clone(),
                            values.iter().map(|(v, n)| (v.clone(), *n)).collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The metric at every step, aggregated per group (as [`Store::group_curves`] gives it):
    /// the runs and their groups from SQL, the points from the summary.
    pub async fn group_curves(&self, store: &Store, q: &GroupQuery) -> Result<Vec<GroupCurve>> {
        self.refresh(store).await?;
        let members = store.group_members(q).await?;
        let st = self.state.read().await;
        let Some(curves) = st.metrics.get(&q.metric) else {
            return Ok(Vec::new());
        };
        Ok(aggregate(curves, &members))
    }
}

fn min_num(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// SQLite's `SUM` over doubles: Kahan–Babuška–Neumaier compensated (SQLite ≥ 3.43).
#[derive(Debug, Clone, Copy, Default)]
struct KbnSum {
    sum: f64,
    err: f64,
}

impl KbnSum {
    fn add(&mut self, r: f64) {
        let s = self.sum;
        let t = s + r;
        if s.abs() > r.abs() {
            self.err += (s - t) + r;
        } else {
            self.err += (r - t) + s;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.err
    }
}

/// One group at one step: whether any run has a point there, and SQL's aggregates of the values.
#[derive(Debug, Clone, Copy)]
struct Acc {
    rows: bool,
    n: i64,
    sum: KbnSum,
    sumsq: KbnSum,
    min: f64,
    max: f64,
}

impl Default for Acc {
    fn default() -> Acc {
        Acc {
            rows: false,
            n: 0,
            sum: KbnSum::default(),
            sumsq: KbnSum::default(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Acc {
    fn add(&mut self, v: f64) {
        self.rows = true;
        if v.is_nan() {
            return;
        }
        self.n += 1;
        self.sum.add(v);
        self.sumsq.add(v * v);
        if v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
    }

    fn stat(&self) -> Stat {
        let some = |x: f64| (self.n > 0).then_some(x);
        Stat::from_sums(
            self.n,
            some(self.sum.value()),
            some(self.sumsq.value()),
            some(self.min),
            some(self.max),
        )
    }
}

/// Per-step accumulators of one group: a flat array over the metric's step span, or a map.
enum Cells {
    Dense(Vec<Acc>),
    Sparse(BTreeMap<i64, Acc>),
}

struct Group {
    /// Value of each grouping key.
    values: Vec<Option<String>>,
    /// Smallest `value_num` of each grouping key over the group's runs (SQL `MIN`).
    nums: Vec<Option<f64>>,
    cells: Option<Cells>,
}

/// SQL's `ORDER BY MIN(g0.value_num), g0.value, …`: NULL first, numbers, then text by bytes.
fn group_order(a: &Group, b: &Group) -> Ordering {
    fn nulls_first<T>(a: &Option<T>, b: &Option<T>, cmp: impl Fn(&T, &T) -> Ordering) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => cmp(x, y),
        }
    }
    for i in 0..a.values.len() {
        let o = nulls_first(&a.nums[i], &b.nums[i], |x, y| {
            x.partial_cmp(y).unwrap_or(Ordering::Equal)
        })
        .then_with(|| {
            nulls_first(&a.values[i], &b.values[i], |x, y| {
                x.as_bytes().cmp(y.as_bytes())
            })
        });
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn aggregate(curves: &Curves, members: &[GroupMember]) -> Vec<GroupCurve> {
    // SQL groups by the values alone (`value_num` only orders the groups).
    let mut index: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    // First the groups and their runs, so that the cell layout can depend on how many.
    let mut runs_of: Vec<(usize, &Vec<(i64, f64)>)> = Vec::with_capacity(members.len());
    for m in members {
        let Some(points) = curves.runs.get(&m.run_id) else {
            continue;
        };
        let values: Vec<Option<String>> = m.group.iter().map(|(v, _)| v.clone()).collect();
        let g = match index.get(&values) {
            Some(&g) => {
                let grp = &mut groups[g];
                for (i, (_, n)) in m.group.iter().enumerate() {
                    grp.nums[i] = min_num(grp.nums[i], *n);
                }
                g
            }
            None => {
                groups.push(Group {
                    values: values.clone(),
                    nums: m.group.iter().map(|(_, n)| *n).collect(),
                    cells: None,
                });
                index.insert(values, groups.len() - 1);
                groups.len() - 1
            }
        };
        runs_of.push((g, points));
    }
    let span = curves.max_step.abs_diff(curves.min_step).saturating_add(1);
    let dense = span.saturating_mul(groups.len() as u64) <= MAX_DENSE_CELLS;
    for (g, points) in runs_of {
        let cells = groups[g].cells.get_or_insert_with(|| {
            if dense {
                Cells::Dense(vec![Acc::default(); span as usize])
            } else {
                Cells::Sparse(BTreeMap::new())
            }
        });
        match cells {
            Cells::Dense(accs) => {
                for &(step, v) in points {
                    accs[(step - curves.min_step) as usize].add(v);
                }
            }
            Cells::Sparse(map) => {
                for &(step, v) in points {
                    map.entry(step).or_default().add(v);
                }
            }
        }
    }
    groups.retain(|g| g.cells.is_some());
    groups.sort_by(group_order);
    groups
        .into_iter()
        .map(|g| {
            let (steps, stats) = match g.cells.expect("kept above") {
                Cells::Dense(accs) => accs
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.rows)
                    .map(|(i, a)| (curves.min_step + i as i64, a.stat()))
                    .unzip(),
                Cells::Sparse(map) => map.iter().map(|(s, a)| (*s, a.stat())).unzip(),
            };
            GroupCurve {
                group: g.values,
                steps,
                stats,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
