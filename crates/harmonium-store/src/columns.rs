//! Run columns: per experiment, the runs' status, each param's value (as a `param_values` id)
//! and each metric's latest value, packed in chunks of [`CHUNK`] consecutive run ids
//! (`run_columns`). The writer keeps them up to date; a query over 100,000 runs reads a few
//! hundred small rows per column instead of 100,000 joined ones.

use std::collections::{HashMap, HashSet};

use futures_util::TryStreamExt;
use sqlx::{AnyConnection, Row};

use crate::runs::RunFilter;
use crate::{Result, Store};

/// Run ids per chunk.
pub const CHUNK: i64 = 256;

/// The status column's name.
pub const STATUS: &str = "status";

/// The column of a param's values.
pub fn param(key: &str) -> String {
    format!("param:{key}")
}

/// The column of a metric's latest values.
pub fn latest(key: &str) -> String {
    format!("final:{key}")
}

/// Bytes per run of a column.
pub fn width(name: &str) -> usize {
    if name == STATUS {
        1
    } else if name.starts_with("param:") {
        4
    } else {
        8
    }
}

/// A latest value's entry where the run has no point of the metric: a NaN of its own, told
/// apart from [`value_entry`]`(None)` (a point that is not a number).
pub(crate) const NO_POINT: [u8; 8] = 0x7ff8_0000_0000_0001u64.to_le_bytes();

/// The entry of a run a column says nothing of: zeros, or [`NO_POINT`] for a latest value.
fn missing(name: &str) -> Vec<u8> {
    match width(name) {
        8 => NO_POINT.to_vec(),
        w => vec![0; w],
    }
}

const STATUSES: [&str; 5] = ["queued", "running", "finished", "failed", "killed"];

/// The status column's code for a status (0: no run).
pub fn status_code(status: &str) -> u8 {
    STATUSES
        .iter()
        .position(|s| *s == status)
        .map_or(0, |i| i as u8 + 1)
}

/// The status a code stands for.
pub fn status_name(code: u8) -> Option<&'static str> {
    STATUSES.get((code as usize).checked_sub(1)?).copied()
}

/// Writes one run's entry of a column (creating its chunk, zero-filled, when new).
pub(crate) async fn set(
    conn: &mut AnyConnection,
    experiment_id: i64,
    name: &str,
    run_id: i64,
    entry: &[u8],
) -> Result<()> {
    let w = width(name);
    debug_assert_eq!(entry.len(), w);
    let (chunk, slot) = (run_id.div_euclid(CHUNK), run_id.rem_euclid(CHUNK) as usize);
    let old: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT data FROM run_columns WHERE experiment_id = $1 AND name = $2 AND chunk = $3",
    )
    .bind(experiment_id)
    .bind(name)
    .bind(chunk)
    .fetch_optional(&mut *conn)
    .await?;
    let exists = old.is_some();
    let mut data = old.unwrap_or_else(|| missing(name).repeat(CHUNK as usize));
    data.resize(CHUNK as usize * w, 0);
    data[slot * w..(slot + 1) * w].copy_from_slice(entry);
    let sql = if exists {
        "UPDATE run_columns SET data = $4 WHERE experiment_id = $1 AND name = $2 AND chunk = $3"
    } else {
        "INSERT INTO run_columns (experiment_id, name, chunk, data) VALUES ($1, $2, $3, $4)"
    };
    sqlx::query(sql)
        .bind(experiment_id)
        .bind(name)
        .bind(chunk)
        .bind(data)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A final value's entry: NaN for a missing value.
pub fn value_entry(v: Option<f64>) -> [u8; 8] {
    v.unwrap_or(f64::NAN).to_le_bytes()
}

/// One column of an experiment, as stored: run id → entry.
pub struct Column {
    width: usize,
    chunks: HashMap<i64, Vec<u8>>,
}

impl Column {
    fn entry(&self, run_id: i64) -> Option<&[u8]> {
        let data = self.chunks.get(&run_id.div_euclid(CHUNK))?;
        let at = run_id.rem_euclid(CHUNK) as usize * self.width;
        data.get(at..at + self.width)
    }

    /// Status code of a run (0 when none).
    pub fn status(&self, run_id: i64) -> u8 {
        self.entry(run_id).map_or(0, |e| e[0])
    }

    /// `param_values` id of a run's value (0 when the run lacks the param).
    pub fn value_id(&self, run_id: i64) -> u32 {
        self.entry(run_id)
            .map_or(0, |e| u32::from_le_bytes(e.try_into().expect("4 bytes")))
    }

    /// A run's latest value (NaN when missing).
    pub fn value(&self, run_id: i64) -> f64 {
        self.entry(run_id).map_or(f64::NAN, |e| {
            f64::from_le_bytes(e.try_into().expect("8 bytes"))
        })
    }

    /// A run's latest value as `latest_metrics` holds it: `None` without a point, `Some(None)`
    /// for a point that is not a number.
    pub fn latest(&self, run_id: i64) -> Option<Option<f64>> {
        let e = self.entry(run_id)?;
        if e == NO_POINT {
            return None;
        }
        let v = f64::from_le_bytes(e.try_into().expect("8 bytes"));
        Some((!v.is_nan()).then_some(v))
    }

    /// Every run id with a status, ascending (for the status column).
    pub fn runs(&self) -> Vec<i64> {
        let mut chunks: Vec<(&i64, &Vec<u8>)> = self.chunks.iter().collect();
        chunks.sort_by_key(|(c, _)| **c);
        chunks
            .into_iter()
            .flat_map(|(c, data)| {
                data.iter()
                    .enumerate()
                    .filter(|(_, s)| **s != 0)
                    .map(move |(i, _)| c * CHUNK + i as i64)
            })
            .collect()
    }
}

/// The values of an experiment's params by `param_values` id: (value, its number).
pub type Dictionary = HashMap<u32, (String, Option<f64>)>;

impl Store {
    /// One column of an experiment's runs.
    pub(crate) async fn column(&self, experiment_id: i64, name: &str) -> Result<Column> {
        let mut rows = sqlx::query(
            "SELECT chunk, data FROM run_columns WHERE experiment_id = $1 AND name = $2",
        )
        .bind(experiment_id)
        .bind(name)
        .fetch(&self.pool);
        let mut chunks = HashMap::new();
        while let Some(r) = rows.try_next().await? {
            chunks.insert(r.get::<i64, _>(0), r.get::<Vec<u8>, _>(1));
        }
        Ok(Column {
            width: width(name),
            chunks,
        })
    }

    /// The columns of these params.
    pub(crate) async fn param_columns(
        &self,
        experiment_id: i64,
        keys: &[String],
    ) -> Result<Vec<Column>> {
        futures_util::future::try_join_all(
            keys.iter()
                .map(|k| async move { self.column(experiment_id, &param(k)).await }),
        )
        .await
    }

    /// Every value of the experiment's params, by id.
    pub(crate) async fn dictionary(&self, experiment_id: i64) -> Result<Dictionary> {
        let rows: Vec<(i64, String, Option<f64>)> = sqlx::query_as(
            "SELECT id, value, value_num FROM param_values WHERE experiment_id = $1",
        )
        .bind(experiment_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, v, n)| (id as u32, (v, n)))
            .collect())
    }

    /// The runs of an experiment that pass the filter, by ascending id.
    pub(crate) async fn select_runs(
        &self,
        experiment_id: i64,
        filter: &RunFilter,
    ) -> Result<Vec<i64>> {
        let keys: Vec<String> = filter.params.iter().map(|(k, _)| k.clone()).collect();
        let (status, params, dict) = tokio::join!(
            self.column(experiment_id, STATUS),
            self.param_columns(experiment_id, &keys),
            async {
                if keys.is_empty() {
                    Ok(Dictionary::new())
                } else {
                    self.dictionary(experiment_id).await
                }
            }
        );
        let (status, params, dict) = (status?, params?, dict?);
        let codes: Vec<u8> = filter.statuses.iter().map(|s| status_code(s)).collect();
        // Each param filter as the set of value ids it accepts.
        let accepted: Vec<HashSet<u32>> = filter
            .params
            .iter()
            .map(|(_, values)| {
                dict.iter()
                    .filter(|(_, (v, _))| values.contains(v))
                    .map(|(id, _)| *id)
                    .collect()
            })
            .collect();
        Ok(status
            .runs()
            .into_iter()
            .filter(|&r| codes.is_empty() || codes.contains(&status.status(r)))
            .filter(|&r| {
                params
                    .iter()
                    .zip(&accepted)
                    .all(|(col, ids)| ids.contains(&col.value_id(r)))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        for s in STATUSES {
            assert_eq!(status_name(status_code(s)), Some(s));
        }
        assert_eq!(status_code("nonsense"), 0);
        assert_eq!(status_name(0), None);
    }

    #[test]
    fn entries_are_found_by_run_id() {
        let mut data = vec![0u8; CHUNK as usize * 8];
        data[3 * 8..4 * 8].copy_from_slice(&value_entry(Some(0.25)));
        let col = Column {
            width: 8,
            chunks: [(2, data)].into(),
        };
        assert_eq!(col.value(2 * CHUNK + 3), 0.25);
        assert!(col.value(3).is_nan(), "no chunk: missing");
        let status = Column {
            width: 1,
            chunks: [(0, {
                let mut d = vec![0u8; CHUNK as usize];
                d[5] = 3;
                d[7] = 1;
                d
            })]
            .into(),
        };
        assert_eq!(status.runs(), vec![5, 7]);
        assert_eq!(status.status(5), 3);
    }
}
