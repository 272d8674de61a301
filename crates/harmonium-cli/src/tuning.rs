//! `compare EXPERIMENT --tuning`: the inner search of a tuned sweep, cell by cell — how many
//! tuning trials finished of how many, the spread of the metric they were chosen by, and the
//! configuration chosen (the same choice `run` made, from the same store).

use anyhow::{Context, Result, bail};
use harmonium_experiment::parse_experiment;
use harmonium_experiment::runner::choose;
use harmonium_experiment::sweep::{Goal, expand_tuning, tuning_metric, tuning_name};
use harmonium_store::Store;

use crate::table::{fmt_metric, print_table};

/// Prints the tuning summary of `experiment` (name or id of the experiment the file names).
pub async fn tuning(store: &Store, experiment: &str) -> Result<()> {
    // Before its final runs exist, the experiment is known by its tuning runs alone.
    let id = match store.experiment_id(experiment).await {
        Ok(id) => id,
        Err(e) => match store.experiment_named(&tuning_name(experiment)).await? {
            Some(id) => id,
            None => return Err(e.into()),
        },
    };
    let yaml = store
        .experiment_yaml(id)
        .await?
        .context("the experiment has no stored file")?;
    let exp = parse_experiment(&yaml, experiment).map_err(anyhow::Error::msg)?;
    let Some(cells) = expand_tuning(&exp, &yaml).map_err(anyhow::Error::msg)? else {
        bail!(
            "experiment '{}' has no sweep.tune block: nothing was tuned",
            exp.name
        );
    };
    let sweep = exp.sweep.as_ref().expect("tuned experiments have a sweep");
    let by = tuning_metric(sweep).expect("checked when parsed");
    let name = tuning_name(&exp.name);
    let Some(tune_id) = store.experiment_named(&name).await? else {
        bail!("no tuning runs yet: `harmonium run` the file first ('{name}' is empty)");
    };
    let values = store.finished_values(tune_id, &by.name).await?;
    let chosen = choose(&cells, &values, by.goal);
    let tuned: Vec<&String> = sweep
        .tune
        .as_ref()
        .map(|t| t.parameters.keys().collect())
        .unwrap_or_default();
    let goal = match by.goal {
        Goal::Minimize => "lowest",
        Goal::Maximize => "highest",
    };
    println!(
        "{} — tuning by {} ({goal} chosen), {} tuning trials per cell, runs under '{name}'",
        exp.name,
        by.name,
        cells.first().map_or(0, |c| c.trials.len())
    );
    let mut header = vec!["cell".to_string(), "finished".into()];
    header.extend(["min", "median", "max", "chosen"].map(String::from));
    header.extend(tuned.iter().map(|k| k.to_string()));
    let mut rows = Vec::new();
    for (cell, pick) in cells.iter().zip(&chosen) {
        let mut got: Vec<f64> = cell
            .trials
            .iter()
            .filter_map(|t| values.get(&t.hash).copied().flatten())
            .filter(|v| v.is_finite())
            .collect();
        got.sort_by(f64::total_cmp);
        let finished = cell
            .trials
            .iter()
            .filter(|t| values.contains_key(&t.hash))
            .count();
        let median = match got.len() {
            0 => None,
            n if n % 2 == 1 => Some(got[n / 2]),
            n => Some(0.5 * (got[n / 2 - 1] + got[n / 2])),
        };
        let mut row = vec![
            cell.label(),
            format!("{finished}/{}", cell.trials.len()),
            fmt_metric(&by.name, got.first().copied()),
            fmt_metric(&by.name, median),
            fmt_metric(&by.name, got.last().copied()),
        ];
        match pick {
            Some(i) => {
                let t = &cell.trials[*i];
                row.push(fmt_metric(&by.name, values.get(&t.hash).copied().flatten()));
                for k in &tuned {
                    row.push(t.point.get(*k).map_or("-".into(), |v| v.to_string()));
                }
            }
            None => {
                row.push("none finished".into());
                row.extend(tuned.iter().map(|_| "-".to_string()));
            }
        }
        rows.push(row);
    }
    print_table(&header, &rows);
    Ok(())
}
