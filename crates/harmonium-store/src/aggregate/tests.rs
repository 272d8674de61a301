//! The one aggregation against hand-computed numbers, through a real database.

use std::collections::BTreeMap;

use super::*;
use crate::{NewRun, Store, Writer, WriterHandle};

fn stat_close(s: &Stat, n: i64, mean: f64, std: Option<f64>, min: f64, max: f64) {
    assert_eq!(s.n, n, "{s:?}");
    assert!((s.mean.unwrap() - mean).abs() < 1e-12, "{s:?}");
    match (s.std, std) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12, "{s:?}"),
        (a, b) => assert_eq!(a, b, "{s:?}"),
    }
    assert_eq!((s.min, s.max), (Some(min), Some(max)), "{s:?}");
}

#[test]
fn welford_equals_a_hand_computation_and_is_stable() {
    let mut w = Welford::default();
    for x in [0.08, 0.09, 0.07, f64::NAN] {
        w.add(x);
    }
    // mean .08; squared deviations .0001 + .0001 + 0 over n − 1 = 2: std .01.
    stat_close(&w.stat(), 3, 0.08, Some(0.01), 0.07, 0.09);
    // Large offset, tiny spread: the textbook sum-of-squares formula loses every digit here.
    let mut w = Welford::default();
    for x in [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0] {
        w.add(x);
    }
    // deviations −6, −3, 3, 6 around 1e9 + 10: (36 + 9 + 9 + 36) / 3 = 30.
    let s = w.stat();
    assert!((s.std.unwrap() - 30f64.sqrt()).abs() < 1e-6, "{s:?}");
    let one = {
        let mut w = Welford::default();
        w.add(2.0);
        w.stat()
    };
    assert_eq!(one.std, None, "no std below two values");
    assert_eq!(Welford::default().stat().mean, None);
}

#[test]
fn welch_interval_equals_a_hand_computation() {
    let a = Stat {
        n: 3,
        mean: Some(0.12),
        std: Some(0.02),
        min: None,
        max: None,
    };
    let b = Stat {
        n: 3,
        mean: Some(0.08),
        std: Some(0.01),
        min: None,
        max: None,
    };
    let (diff, bounds) = welch_interval(&a, &b, 0.95).unwrap();
    let (lo, hi, dof) = bounds.unwrap();
    // se² = .0004/3 + .0001/3; dof = se⁴ / ((.0004/3)²/2 + (.0001/3)²/2) = 2.941176.
    let se = (0.0005f64 / 3.0).sqrt();
    assert!((dof - 2.941176).abs() < 1e-5, "{dof}");
    // t quantile 0.975 at 2.941 dof = 3.2188 (tables: 3.182 at 3 dof, 4.303 at 2).
    let t = (hi - diff) / se;
    assert!((t - 3.2188).abs() < 1e-3, "t = {t}");
    assert!((diff - 0.04).abs() < 1e-12 && (lo - (0.04 - t * se)).abs() < 1e-12);
    let single = Stat { n: 1, ..a.clone() };
    assert_eq!(welch_interval(&single, &b, 0.95).unwrap().1, None);
}

#[test]
fn groups_come_in_natural_order_and_missing_values_last() {
    let num = |s: &str| (Some(s.to_string()), s.parse::<f64>().ok());
    let mut keys = vec![
        vec![num("random"), num("1000")],
        vec![(None, None), num("2")],
        vec![num("pretrained"), num("10000")],
        vec![num("pretrained"), num("1000")],
        vec![num("10"), num("1")],
        vec![num("2"), num("1")],
    ];
    keys.sort_by(|a, b| key_order(a, b));
    let text: Vec<Vec<Option<String>>> = keys.iter().map(labels).collect();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        text,
        vec![
            vec![s("2"), s("1")],
            vec![s("10"), s("1")],
            vec![s("pretrained"), s("1000")],
            vec![s("pretrained"), s("10000")],
            vec![s("random"), s("1000")],
            vec![None, s("2")],
        ]
    );
}

fn values(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<(String, Option<f64>)>> {
    pairs
        .iter()
        .map(|(k, vs)| {
            (
                k.to_string(),
                vs.iter().map(|v| (v.to_string(), v.parse().ok())).collect(),
            )
        })
        .collect()
}

#[test]
fn short_names_resolve_to_the_param_that_varies_or_list_the_candidates() {
    let v = values(&[
        ("mlp.init", &["dbn", "random"]),
        ("mlp.lr", &["0.1", "0.01"]),
        ("pretrain.rbm.lr", &["0.05"]),
        ("seed", &["1", "2"]),
    ]);
    assert_eq!(resolve_param(&v, "init").unwrap(), "mlp.init");
    assert_eq!(
        resolve_param(&v, "lr").unwrap(),
        "mlp.lr",
        "the one that varies"
    );
    assert_eq!(resolve_param(&v, "seed").unwrap(), "seed", "a full key");
    let both = values(&[
        ("mlp.lr", &["0.1", "0.01"]),
        ("pretrain.rbm.lr", &["0.05", "0.5"]),
    ]);
    let e = resolve_param(&both, "lr").unwrap_err().to_string();
    assert!(
        e.contains("ambiguous") && e.contains("mlp.lr") && e.contains("pretrain.rbm.lr"),
        "{e}"
    );
    let e = resolve_param(&v, "depth").unwrap_err().to_string();
    assert!(
        e.contains("no param 'depth'") && e.contains("mlp.init") && !e.contains("pretrain"),
        "lists the swept params: {e}"
    );
}

fn run(exp: i64, i: i64, params: &[(&str, serde_json::Value)]) -> NewRun {
    NewRun {
        experiment_id: exp,
        trial_index: i,
        config_json: "{}".into(),
        config_hash: format!("h{i}"),
        seed: i,
        git_commit: None,
        host: "test".into(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

/// An experiment of nine runs: init × train_size, a failed run, a run without `mlp.init`, a
/// run whose final value is NaN, and one still running.
async fn filled() -> (tempfile::TempDir, Store, i64) {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("agg.db")).await.unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let exp = w.experiment("agg", "", "", None, None).await.unwrap();
    // (init, train_size, status, curve of test_error by epoch 1..)
    let runs: [(Option<&str>, i64, &str, &[f64]); 9] = [
        (Some("random"), 1000, "finished", &[0.30, 0.10]),
        (Some("random"), 1000, "finished", &[0.34, 0.12]),
        (Some("random"), 1000, "finished", &[0.38, 0.14]),
        (Some("pretrained"), 1000, "finished", &[0.20, 0.08]),
        (Some("pretrained"), 1000, "finished", &[0.22, 0.09]),
        (Some("pretrained"), 1000, "finished", &[0.24, 0.07]),
        (Some("random"), 10000, "finished", &[0.06, f64::NAN]),
        (Some("random"), 10000, "failed", &[0.9]),
        (None, 1000, "running", &[0.5]),
    ];
    for (i, (init, size, status, curve)) in runs.iter().enumerate() {
        let mut p = vec![("dataset.train_size", json!(size))];
        if let Some(init) = init {
            p.push(("mlp.init", json!(init)));
        }
        let id = w.create_run(run(exp, i as i64, &p)).await.unwrap();
        w.start(id).unwrap();
        for (e, v) in curve.iter().enumerate() {
            w.metric(id, "test_error", e as i64 + 1, *v, 0.0).unwrap();
        }
        if *status != "running" {
            w.finish(
                id,
                if *status == "failed" {
                    "failed"
                } else {
                    "finished"
                },
                None,
            )
            .unwrap();
        }
    }
    finish(w, writer).await;
    (dir, store, exp)
}

async fn finish(w: WriterHandle, writer: Writer) {
    w.flush().await.unwrap();
    drop(w);
    writer.join().await;
}

fn query(exp: i64, by: &[&str]) -> GroupQuery {
    GroupQuery {
        experiment_id: exp,
        by: by.iter().map(|s| s.to_string()).collect(),
        metric: "test_error".into(),
        filter: RunFilter::default(),
    }
}

#[tokio::test]
async fn final_groups_of_finished_runs_equal_a_hand_computation() {
    let (_d, store, exp) = filled().await;
    let by = store
        .resolve_params(exp, &["init".into(), "train_size".into()])
        .await
        .unwrap();
    assert_eq!(by, ["mlp.init", "dataset.train_size"]);
    let g = store
        .group_final(&query(exp, &["mlp.init", "dataset.train_size"]))
        .await
        .unwrap();
    let keys: Vec<Vec<Option<&str>>> = g
        .iter()
        .map(|g| g.group.iter().map(|v| v.as_deref()).collect())
        .collect();
    // The running run (no init) and the failed one take no part.
    assert_eq!(
        keys,
        vec![
            vec![Some("pretrained"), Some("1000")],
            vec![Some("random"), Some("1000")],
            vec![Some("random"), Some("10000")],
        ]
    );
    stat_close(&g[0].stat, 3, 0.08, Some(0.01), 0.07, 0.09);
    stat_close(&g[1].stat, 3, 0.12, Some(0.02), 0.10, 0.14);
    // The NaN final value counts as a run but not as a number.
    assert_eq!((g[2].runs, g[2].stat.n, g[2].stat.mean), (1, 0, None));
    let c = store
        .compare(&query(exp, &["mlp.init", "dataset.train_size"]), 0.95)
        .await
        .unwrap();
    assert_eq!(
        c.contrasts.len(),
        1,
        "only train_size 1000 has two levels with values"
    );
    let k = &c.contrasts[0];
    assert_eq!(
        (k.a.as_deref(), k.b.as_deref(), k.within.clone()),
        (
            Some("random"),
            Some("pretrained"),
            vec![Some("1000".to_string())]
        )
    );
    assert!((k.diff - 0.04).abs() < 1e-12 && k.lo.unwrap() < 0.04 && k.hi.unwrap() > 0.04);
}

#[tokio::test]
async fn curves_per_step_equal_a_hand_computation_and_include_running_runs() {
    let (_d, store, exp) = filled().await;
    let c = store
        .group_curves(&query(exp, &["mlp.init"]))
        .await
        .unwrap();
    let groups: Vec<Option<&str>> = c.iter().map(|c| c.group[0].as_deref()).collect();
    assert_eq!(groups, vec![Some("pretrained"), Some("random"), None]);
    let pre = &c[0];
    assert_eq!(pre.steps, vec![1, 2]);
    // epoch 1: .20 .22 .24 → mean .22, std .02.
    stat_close(&pre.stats[0], 3, 0.22, Some(0.02), 0.20, 0.24);
    // random, epoch 1: .30 .34 .38 .06 (10000, finished) .9 (failed): every run passing the
    // filter; epoch 2: .10 .12 .14 and a NaN.
    let rnd = &c[1];
    let e1 = [0.30, 0.34, 0.38, 0.06, 0.9];
    let mean = e1.iter().sum::<f64>() / 5.0;
    let var = e1.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0;
    stat_close(&rnd.stats[0], 5, mean, Some(var.sqrt()), 0.06, 0.9);
    stat_close(&rnd.stats[1], 3, 0.12, Some(0.02), 0.10, 0.14);
    // The running run without the param groups as None.
    stat_close(&c[2].stats[0], 1, 0.5, None, 0.5, 0.5);
    let finished = GroupQuery {
        filter: RunFilter {
            statuses: vec!["finished".into()],
            params: vec![("dataset.train_size".into(), vec!["1000".into()])],
        },
        ..query(exp, &[])
    };
    let all = store.group_curves(&finished).await.unwrap();
    assert_eq!(all.len(), 1, "no by: one group");
    assert_eq!(all[0].stats[0].n, 6);
}

#[test]
fn sparse_steps_fall_back_to_a_map() {
    let mut c = Cells::Dense {
        base: 0,
        cells: Vec::new(),
    };
    for (s, v) in [(5, 1.0), (3, 2.0), (5, 3.0), (10_000_000, 4.0), (-2, 5.0)] {
        c.add(s, v);
    }
    let curve = c.into_curve(vec![]);
    assert_eq!(curve.steps, vec![-2, 3, 5, 10_000_000]);
    assert_eq!(curve.stats[2].n, 2);
    assert_eq!(curve.stats[2].mean, Some(2.0));
}

/// The summaries the writer keeps and those rebuilt from the recorded rows are the same: every
/// aggregate, page and key list comes out equal after a rebuild.
#[tokio::test]
async fn rebuilt_summaries_equal_the_ones_the_writer_kept() {
    let (dir, store, exp) = filled().await;
    let by = ["mlp.init", "dataset.train_size"];
    let snapshot = |store: Store| async move {
        let page = crate::RunQuery {
            experiment_id: exp,
            filter: RunFilter::default(),
            sort: crate::SortKey::Metric("test_error".into()),
            descending: true,
            limit: 100,
            offset: 0,
            param_keys: None,
        };
        (
            store.group_final(&query(exp, &by)).await.unwrap(),
            store.group_curves(&query(exp, &by)).await.unwrap(),
            store.swept_params(exp).await.unwrap().len(),
            serde_json::to_string(&store.metric_keys(exp).await.unwrap()).unwrap(),
            serde_json::to_string(&store.runs_page(&page).await.unwrap().runs).unwrap(),
        )
    };
    let kept = snapshot(store.clone()).await;
    store.invalidate_summaries().await.unwrap();
    store.close().await;
    let rebuilt = snapshot(Store::open(&dir.path().join("agg.db")).await.unwrap()).await;
    assert_eq!(kept.0, rebuilt.0);
    assert_eq!(kept.1, rebuilt.1);
    assert_eq!(
        (kept.2, &kept.3, &kept.4),
        (rebuilt.2, &rebuilt.3, &rebuilt.4)
    );
}

/// The two halves of a curve query are merged: the merge equals adding every value to one
/// accumulator, whatever the split (including empty and NaN-only parts).
#[test]
fn merged_accumulators_equal_one_pass_over_all_values() {
    let values = [
        0.3,
        f64::NAN,
        0.34,
        1e9 + 4.0,
        0.06,
        0.9,
        -2.5,
        f64::NAN,
        7.0,
    ];
    let mut whole = Welford::default();
    values.iter().for_each(|&v| whole.add(v));
    for split in 0..=values.len() {
        let (mut a, mut b) = (Welford::default(), Welford::default());
        values[..split].iter().for_each(|&v| a.add(v));
        values[split..].iter().for_each(|&v| b.add(v));
        a.merge(&b);
        let (m, w) = (a.stat(), whole.stat());
        assert_eq!(
            (a.rows, m.n, m.min, m.max),
            (whole.rows, w.n, w.min, w.max),
            "split {split}"
        );
        assert!(
            (m.mean.unwrap() - w.mean.unwrap()).abs() < 1e-6,
            "split {split}"
        );
        assert!(
            (m.std.unwrap() / w.std.unwrap() - 1.0).abs() < 1e-12,
            "split {split}"
        );
    }
    // Per step: the cells of two parts merge step by step, steps of either part kept.
    let (mut a, mut b) = (Cells::new(), Cells::new());
    for (s, v) in [(1, 1.0), (2, 2.0)] {
        a.add(s, v);
    }
    for (s, v) in [(2, 4.0), (3, 5.0), (1_000_000, 6.0)] {
        b.add(s, v);
    }
    a.merge(&b);
    let c = a.into_curve(vec![]);
    assert_eq!(c.steps, vec![1, 2, 3, 1_000_000]);
    assert_eq!((c.stats[1].n, c.stats[1].mean), (2, Some(3.0)));
}
