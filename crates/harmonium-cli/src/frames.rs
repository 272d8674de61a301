//! Runs × params × final metrics as a polars DataFrame, for CSV and Parquet export
//! (`harmonium export`). Group statistics are not computed here: `harmonium compare` and the
//! dashboard share the store's one aggregation (`harmonium_store::aggregate`).

use std::collections::BTreeSet;

use harmonium_store::RunRow;
use polars::prelude::*;

/// One column per param (text) and per final metric (f64, null when absent or NaN), one row per
/// run, plus `run_id`, `status`, `seed`, `config_hash`, `started_at`, `finished_at`. A metric whose
/// name equals a param key is prefixed with `metric:`.
pub fn runs_frame(runs: &[RunRow]) -> PolarsResult<DataFrame> {
    let params: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.params.keys().map(String::as_str))
        .collect();
    let metrics: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.metrics.keys().map(String::as_str))
        .collect();
    let mut cols: Vec<Column> = vec![
        Column::new(
            "run_id".into(),
            runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            runs.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "config_hash".into(),
            runs.iter()
                .map(|r| r.config_hash.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "started_at".into(),
            runs.iter()
                .map(|r| r.started_at.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "finished_at".into(),
            runs.iter()
                .map(|r| r.finished_at.clone())
                .collect::<Vec<_>>(),
        ),
    ];
    for p in &params {
        cols.push(Column::new(
            (*p).into(),
            runs.iter()
                .map(|r| r.params.get(*p).cloned())
                .collect::<Vec<_>>(),
        ));
    }
    for m in &metrics {
        let name = if params.contains(m) || ["run_id", "status"].contains(m) {
            format!("metric:{m}")
        } else {
            m.to_string()
        };
        cols.push(Column::new(
            name.into(),
            runs.iter()
                .map(|r| r.metrics.get(*m).copied().flatten())
                .collect::<Vec<_>>(),
        ));
    }
    DataFrame::new_infer_height(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, init: &str, err: Option<f64>) -> RunRow {
        RunRow {
            id,
            experiment_id: 1,
            experiment: "e".into(),
            trial_index: id,
            status: "finished".into(),
            seed: id,
            config_hash: format!("h{id}"),
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            error: None,
            params: [("mlp.init".to_string(), init.to_string())].into(),
            metrics: [
                ("test_error".to_string(), err),
                ("status".to_string(), Some(1.0)),
            ]
            .into(),
        }
    }

    #[test]
    fn one_row_per_run_one_column_per_param_and_metric() {
        let df = runs_frame(&[run(1, "random", Some(0.1)), run(2, "dbn", None)]).unwrap();
        assert_eq!(df.height(), 2);
        let init = df.column("mlp.init").unwrap();
        assert_eq!(init.get(1).unwrap(), AnyValue::String("dbn"));
        let err = df.column("test_error").unwrap().f64().unwrap();
        assert_eq!((err.get(0), err.get(1)), (Some(0.1), None));
        // A metric named like a fixed column is prefixed, not lost.
        assert!(df.column("metric:status").is_ok());
    }
}
