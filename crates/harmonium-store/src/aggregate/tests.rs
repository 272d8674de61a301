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
    let mut keys = [
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
    let db = crate::tests::test_db(dir.path(), "agg.db").await;
    std::fs::write(dir.path().join("location"), db.to_string_lossy().as_bytes()).unwrap();
    let store = Store::open(&db).await.unwrap();
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
    // Each run has a seed of its own: nothing pairs.
    assert_eq!(
        (k.applies, k.why_welch, &k.paired),
        (Applies::Welch, Some(Unpaired::SeedsDiffer), &None)
    );
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
    let db = std::fs::read_to_string(dir.path().join("location")).unwrap();
    let rebuilt = snapshot(Store::open(std::path::Path::new(&db)).await.unwrap()).await;
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

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() < tol
}

#[test]
fn paired_interval_equals_a_hand_computation() {
    // d = .02 .03 .07: mean .04; deviations −.02 −.01 .03: .0004 + .0001 + .0009 = .0014,
    // over n − 1 = 2: s² = .0007, s = .0264575; se = s/√3 = .0152753; t(2 dof, .975) = 4.302653
    // (t-table: 4.303): half-width .0657241.
    let p = paired::paired_stats(&[0.02, 0.03, 0.07], 0.95);
    assert_eq!(p.n, 3);
    assert!(close(p.diff, 0.04, 1e-12), "{p:?}");
    assert!(close(p.std.unwrap(), 0.0007f64.sqrt(), 1e-12), "{p:?}");
    assert!(close(p.lo.unwrap(), 0.04 - 0.0657241, 1e-6), "{p:?}");
    assert!(close(p.hi.unwrap(), 0.04 + 0.0657241, 1e-6), "{p:?}");
    // Sums ±.02 ±.03 ±.07: only all-plus and all-minus reach |.12|: 2/8.
    assert_eq!((p.p, p.p_exact), (0.25, true));
    // d = 1 3: mean 2, s = √2, se = 1, t(1 dof, .975) = 12.7062; sums ±1 ±3 = 4 2 −2 −4: 2/4.
    let p = paired::paired_stats(&[1.0, 3.0], 0.95);
    assert!(close(p.std.unwrap(), 2f64.sqrt(), 1e-12), "{p:?}");
    assert!(close(p.lo.unwrap(), 2.0 - 12.7062, 1e-4), "{p:?}");
    assert!(close(p.hi.unwrap(), 2.0 + 12.7062, 1e-4), "{p:?}");
    assert_eq!(p.p, 0.5);
    // One pair: no std, no interval; both signs give |d|: p = 1.
    let p = paired::paired_stats(&[0.5], 0.95);
    assert_eq!((p.std, p.lo, p.hi, p.p), (None, None, None, 1.0));
    // Equal differences: no spread, the interval is the point.
    let p = paired::paired_stats(&[0.25, 0.25, 0.25], 0.95);
    assert_eq!((p.lo, p.hi), (Some(0.25), Some(0.25)));
}

#[test]
fn sign_flip_p_equals_a_hand_enumeration() {
    let p = |d: &[f64]| {
        let (p, exact) = paired::sign_flip_p(d);
        assert!(exact, "{d:?}");
        p
    };
    // ±1 ±2 ±3 = 6 4 2 0 0 −2 −4 −6: |s| ≥ 6 twice in 8.
    assert_eq!(p(&[1.0, 2.0, 3.0]), 2.0 / 8.0);
    // A zero's sign changes nothing: ±1 ±2 = 3 1 −1 −3, each twice; |s| ≥ 3: 4 of 8.
    assert_eq!(p(&[0.0, 1.0, 2.0]), 4.0 / 8.0);
    // ±1 ±1 ±2 = 4 2 2 0 0 −2 −2 −4: 2 of 8.
    assert_eq!(p(&[1.0, 1.0, 2.0]), 2.0 / 8.0);
    // No difference at all: every assignment ties with the observed 0.
    assert_eq!(p(&[0.0, 0.0, 0.0]), 1.0);
    // n = 4, observed sum 4; flipping a subset S gives 4 − 2 ΣS, |·| ≥ 4 when ΣS ≤ 0 or ≥ 4:
    // {}, {−1}, {−1'}, {4}, {2,4}, {−1,−1'}, {2,−1,−1'} (a tie), {2,−1,4}, {2,−1',4}, all: 10/16.
    assert_eq!(p(&[2.0, -1.0, -1.0, 4.0]), 10.0 / 16.0);
    // ±1 ±2 ±3 reach |6| only as 6 and −6, times the two signs of the zero: 4/16.
    assert_eq!(p(&[0.0, 1.0, 2.0, 3.0]), 4.0 / 16.0);
    // The same ten subsets as above with .1 .2 −.3 .6, where .1 + .2 − .3 is 5.6e-17 and not 0
    // in floating point: the tie still counts (without the tolerance it would be 8/16).
    assert_eq!(p(&[0.1, 0.2, -0.3, 0.6]), 10.0 / 16.0);
    // n = 20 (the largest exact case), 14 differences of +1 and 6 of −1: a sign assignment sums
    // to 2K − 20 with K ~ Binomial(20, ½), observed 8, so p = P(K ≤ 6) + P(K ≥ 14)
    // = 2 (1 + 20 + 190 + 1140 + 4845 + 15504 + 38760) / 2²⁰ = 120920 / 1048576.
    let mut d = vec![1.0; 14];
    d.extend([-1.0; 6]);
    assert_eq!(p(&d), 120_920.0 / 1_048_576.0);
}

#[test]
fn monte_carlo_sign_flips_above_twenty_pairs_are_close_to_the_exact_value() {
    use statrs::distribution::{Binomial, DiscreteCDF};
    // n = 30: 18 of +1, 12 of −1, observed sum 6; exactly p = 2 P(K ≤ 12), K ~ Binomial(30, ½)
    // = 0.3615946. The estimate's standard error at 100,000 flips is 0.0015.
    let mut d = vec![1.0; 18];
    d.extend([-1.0; 12]);
    let exact = 2.0 * Binomial::new(0.5, 30).unwrap().cdf(12);
    assert!(close(exact, 0.3615946, 1e-6), "{exact}");
    let (p, is_exact) = paired::sign_flip_p(&d);
    assert!(!is_exact);
    assert!(close(p, exact, 0.006), "{p} vs {exact}");
    assert_eq!(paired::sign_flip_p(&d).0, p, "seeded: the same every time");
    // 30 equal differences: only 2 of 2³⁰ assignments reach the observed sum, so no random one
    // does (almost surely): p = (1 + 0) / (1 + 100,000).
    assert_eq!(paired::sign_flip_p(&[0.5; 30]).0, 1.0 / 100_001.0);
}

#[test]
fn runs_pair_by_seed_or_fall_back_to_welch_with_the_reason() {
    use paired::paired as pair;
    let nan = f64::NAN;
    // The same seeds, in any order: paired applies.
    let a = [(1, 0.10), (2, 0.12), (3, 0.14)];
    let (p, why) = pair(&a, &[(3, 0.07), (1, 0.08), (2, 0.09)], 0.95);
    let p = p.unwrap();
    assert_eq!((p.n, why), (3, None));
    assert!(close(p.diff, 0.04, 1e-12) && p.p == 0.25, "{p:?}");
    // Seeds 1 2 3 against 2 3 4: the two shared seeds pair (.12 − .08, .14 − .09), Welch applies.
    let (p, why) = pair(&a, &[(2, 0.08), (3, 0.09), (4, 0.07)], 0.95);
    let p = p.unwrap();
    assert_eq!((p.n, why), (2, Some(Unpaired::SeedsDiffer)));
    assert!(close(p.diff, 0.045, 1e-12), "{p:?}");
    // No shared seed: nothing paired.
    assert_eq!(
        pair(&a, &[(7, 0.1), (8, 0.2)], 0.95),
        (None, Some(Unpaired::SeedsDiffer))
    );
    // Two runs of seed 1 in a level: nothing paired.
    let dup = [(1, 0.1), (1, 0.2), (2, 0.3)];
    assert_eq!(
        pair(&dup, &[(1, 0.0), (2, 0.0)], 0.95),
        (None, Some(Unpaired::SeveralRunsPerSeed))
    );
    assert_eq!(
        pair(&[(1, 0.0), (2, 0.0)], &dup, 0.95),
        (None, Some(Unpaired::SeveralRunsPerSeed))
    );
    // NaN values are left out before pairing, as in `n`: a NaN run needs no partner, and a NaN
    // duplicate is no duplicate.
    let (p, why) = pair(
        &[(1, 0.1), (2, 0.2), (3, nan), (1, nan)],
        &[(1, 0.0), (2, 0.0)],
        0.95,
    );
    assert_eq!((p.unwrap().n, why), (2, None));
    // …but a number whose partner is NaN is unpaired.
    let (p, why) = pair(&a, &[(1, 0.0), (2, 0.0), (3, nan)], 0.95);
    assert_eq!((p.unwrap().n, why), (2, Some(Unpaired::SeedsDiffer)));
}

/// A finished run of trial `i` with this seed and these params, its `test_error` at `v`.
async fn finished_run(
    w: &WriterHandle,
    exp: i64,
    i: i64,
    seed: i64,
    params: &[(&str, serde_json::Value)],
    v: f64,
) {
    let id = w
        .create_run(NewRun {
            seed,
            ..run(exp, i, params)
        })
        .await
        .unwrap();
    w.start(id).unwrap();
    w.metric(id, "test_error", 1, v, 0.0).unwrap();
    w.finish(id, "finished", None).unwrap();
}

/// Two levels of init × four train sizes, with seeds chosen per case (value NaN: a NaN final).
async fn seeded() -> (tempfile::TempDir, Store, i64) {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::tests::test_db(dir.path(), "paired.db").await)
        .await
        .unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let exp = w.experiment("paired", "", "", None, None).await.unwrap();
    let nan = f64::NAN;
    type Case<'a> = (i64, &'a [(i64, f64)], &'a [(i64, f64)]);
    // (train_size, pretrained (seed, value)s, random (seed, value)s)
    let cases: [Case; 4] = [
        // The same seeds: paired applies, d = .02 .03 .07.
        (
            1000,
            &[(1, 0.08), (2, 0.09), (3, 0.07)],
            &[(1, 0.10), (2, 0.12), (3, 0.14)],
        ),
        // Seeds 1 2 3 against 2 3 4: Welch; seeds 2, 3 pair: d = .10 − .09, .12 − .07.
        (
            2000,
            &[(1, 0.08), (2, 0.09), (3, 0.07)],
            &[(2, 0.10), (3, 0.12), (4, 0.14)],
        ),
        // Seed 1 twice: Welch, nothing paired.
        (
            3000,
            &[(1, 0.08), (1, 0.09), (2, 0.07)],
            &[(1, 0.10), (2, 0.12)],
        ),
        // Seed 3's value is NaN: left out, the rest pairs: d = .10 − .08, .12 − .09.
        (
            4000,
            &[(1, 0.08), (2, 0.09), (3, nan)],
            &[(1, 0.10), (2, 0.12)],
        ),
    ];
    let mut i = 0;
    for (size, pre, rnd) in cases {
        for (init, runs) in [("pretrained", pre), ("random", rnd)] {
            for &(seed, v) in runs {
                let p = [
                    ("dataset.train_size", json!(size)),
                    ("mlp.init", json!(init)),
                ];
                finished_run(&w, exp, i, seed, &p, v).await;
                i += 1;
            }
        }
    }
    finish(w, writer).await;
    (dir, store, exp)
}

#[tokio::test]
async fn compare_pairs_runs_by_seed_within_each_combination() {
    let (_d, store, exp) = seeded().await;
    let c = store
        .compare(&query(exp, &["mlp.init", "dataset.train_size"]), 0.95)
        .await
        .unwrap();
    let sizes: Vec<Option<&str>> = c.contrasts.iter().map(|k| k.within[0].as_deref()).collect();
    assert_eq!(
        sizes,
        [Some("1000"), Some("2000"), Some("3000"), Some("4000")]
    );
    assert!(c.contrasts.iter().all(|k| k.a.as_deref() == Some("random")));
    // 1000: the hand computation of `paired_interval_equals_a_hand_computation`; d̄ is Welch's
    // difference when every run pairs.
    let k = &c.contrasts[0];
    let p = k.paired.as_ref().unwrap();
    assert_eq!((k.applies, k.why_welch, p.n), (Applies::Paired, None, 3));
    assert!(close(p.diff, k.diff, 1e-12) && close(p.diff, 0.04, 1e-12));
    assert!(close(p.lo.unwrap(), 0.04 - 0.0657241, 1e-6), "{p:?}");
    assert_eq!(p.p, 0.25);
    // 2000: two shared seeds, d = .01 .05, Welch applies because the seeds differ.
    let k = &c.contrasts[1];
    let p = k.paired.as_ref().unwrap();
    assert_eq!(
        (k.applies, k.why_welch, p.n),
        (Applies::Welch, Some(Unpaired::SeedsDiffer), 2)
    );
    assert!(close(p.diff, 0.03, 1e-12), "{p:?}");
    // 3000: a repeated seed, nothing paired.
    let k = &c.contrasts[2];
    assert_eq!(
        (k.applies, k.why_welch, k.paired.is_none()),
        (Applies::Welch, Some(Unpaired::SeveralRunsPerSeed), true)
    );
    // 4000: the NaN run counts in neither n nor the pairs; d = .02 .03.
    let k = &c.contrasts[3];
    let p = k.paired.as_ref().unwrap();
    assert_eq!((k.applies, p.n), (Applies::Paired, 2));
    assert!(close(p.diff, 0.025, 1e-12) && close(p.diff, k.diff, 1e-12));
    // The JSON of `compare --json` and the dashboard: the new fields beside Welch's.
    let j = serde_json::to_value(&c.contrasts).unwrap();
    assert_eq!(j[0]["applies"], "paired");
    assert_eq!(j[0]["why_welch"], serde_json::Value::Null);
    assert_eq!(j[0]["paired"]["n"], 3);
    assert_eq!(j[0]["paired"]["p_exact"], true);
    assert!(j[0]["lo"].is_number() && j[0]["dof"].is_number());
    assert_eq!(j[1]["why_welch"], "seeds differ");
    assert_eq!(j[2]["why_welch"], "several runs per seed");
    assert_eq!(j[2]["paired"], serde_json::Value::Null);
    assert_eq!(j[2]["applies"], "welch");
}

/// A leave-one-speaker-out sweep grouped by `init` alone: a pair is a seed *and* a held-out
/// speaker (an outer sweep parameter the comparison pools over), never the tuned `mlp.lr`,
/// whose selected value differs between the arms. Stored without its sweep, the same runs
/// repeat each seed and pair with nothing.
#[tokio::test]
async fn pairs_share_the_seed_and_the_pooled_sweep_parameters() {
    use serde_json::json;
    const LOSO: &str = "name: loso\nsweep:\n  parameters:\n    mlp.init: [pretrained, random]\n    \
                        dataset.split.leave_one_out: [0, 1]\n  tune:\n    parameters:\n      \
                        mlp.lr: [0.01, 0.03, 0.1]\n";
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::tests::test_db(dir.path(), "loso.db").await)
        .await
        .unwrap();
    let (writer, w) = Writer::spawn(store.clone());
    let with = w.experiment("loso", "", LOSO, None, None).await.unwrap();
    let without = w
        .experiment("loso-flat", "", "name: loso-flat\n", None, None)
        .await
        .unwrap();
    // (init, held-out speaker, selected lr, seed, test error); d = .05 .04 .08 .01.
    let runs = [
        ("pretrained", 0, 0.1, 1, 0.20),
        ("pretrained", 0, 0.1, 2, 0.22),
        ("pretrained", 1, 0.1, 1, 0.30),
        ("pretrained", 1, 0.1, 2, 0.34),
        ("random", 0, 0.03, 1, 0.25),
        ("random", 0, 0.03, 2, 0.26),
        ("random", 1, 0.01, 1, 0.38),
        ("random", 1, 0.01, 2, 0.35),
    ];
    let mut i = 0;
    for exp in [with, without] {
        for (init, speaker, lr, seed, v) in runs {
            let p = [
                ("mlp.init", json!(init)),
                ("dataset.split.leave_one_out", json!(speaker)),
                ("mlp.lr", json!(lr)),
            ];
            finished_run(&w, exp, i, seed, &p, v).await;
            i += 1;
        }
    }
    finish(w, writer).await;
    let c = store
        .compare(&query(with, &["mlp.init"]), 0.95)
        .await
        .unwrap();
    let k = &c.contrasts[0];
    let p = k.paired.as_ref().expect("paired");
    assert_eq!((k.applies, k.why_welch, p.n), (Applies::Paired, None, 4));
    // By hand: d̄ = .045, s_d = √(.0025 / 3) = .0288675, t_{3, .975} = 3.182446.
    assert!(close(p.diff, 0.045, 1e-12) && close(p.diff, k.diff, 1e-12));
    assert!(close(p.std.unwrap(), 0.028_867_5, 1e-6), "{p:?}");
    let half = 3.182_446 * 0.028_867_5 / 2.0;
    assert!(close(p.lo.unwrap(), 0.045 - half, 1e-6), "{p:?}");
    assert!(close(p.hi.unwrap(), 0.045 + half, 1e-6), "{p:?}");
    // Only the all-positive assignment (of 2⁴, counted with its negation) reaches |Σd|.
    assert_eq!((p.p, p.p_exact), (0.125, true));
    let c = store
        .compare(&query(without, &["mlp.init"]), 0.95)
        .await
        .unwrap();
    let k = &c.contrasts[0];
    assert_eq!(
        (k.applies, k.why_welch, k.paired.is_none()),
        (Applies::Welch, Some(Unpaired::SeveralRunsPerSeed), true)
    );
}
