//! Training: wake-sleep learns a small known net (KL measured exactly), raises the
//! importance-sampled log-likelihood of an MNIST subset; events, pictures, stopping,
//! divergence, reproducibility and the config.

use std::cell::Cell;

use burn::tensor::{Device, Tensor};

use super::random_sbn;
use crate::eval::exact::binary_states;
use crate::eval::testing::{mnist_binary, rows};
use crate::events::{Event, EventSink, NullSink, VecSink};
use crate::rbm::HostDraws;
use crate::sbn::{Sbn, SbnConfig, SbnError, SbnEvalConfig};

/// log p(v) of every visible vector (numbered as `binary_states` numbers them).
fn visible_log_probs(sbn: &Sbn) -> Vec<f64> {
    let n = sbn.visible();
    let all = binary_states(n, 0, 1 << n, &sbn.device());
    sbn.exact_evaluation(&all, 16).unwrap().log_likelihood
}

/// `KL(p ‖ q) = Σ_v p(v) (log p(v) − log q(v))` from log-probabilities of every v.
fn kl(log_p: &[f64], log_q: &[f64]) -> f64 {
    log_p
        .iter()
        .zip(log_q)
        .filter(|(p, _)| p.is_finite())
        .map(|(p, q)| p.exp() * (p - q))
        .sum()
}

/// The empirical distribution of binary rows as log-probabilities of every v.
fn empirical_log_probs(data: &Tensor<2>) -> Vec<f64> {
    let rows = rows(data.clone());
    let mut counts = vec![0usize; 1 << rows[0].len()];
    for r in &rows {
        let s: usize = r.iter().enumerate().map(|(i, &b)| (b as usize) << i).sum();
        counts[s] += 1;
    }
    counts
        .iter()
        .map(|&c| (c as f64 / rows.len() as f64).ln())
        .collect()
}

fn no_eval() -> SbnEvalConfig {
    SbnEvalConfig {
        every: 0,
        importance_samples: 20,
        ..Default::default()
    }
}

/// Data drawn from a known 8-4-2 sigmoid belief net with strong weights; an 8-4-2 net trained
/// by wake-sleep comes close to it. KL(true ‖ model) and KL(data ‖ model) are exact sums over
/// all 256 visible vectors.
#[test]
fn wake_sleep_learns_a_small_known_sigmoid_belief_net() {
    let device = Device::flex();
    let truth = random_sbn(&[8, 4, 2], 5.0, 43, &device);
    let data = truth.fantasize(5000, &mut HostDraws::new(41)).remove(0);
    let cfg = SbnConfig {
        layers: vec![4, 2],
        epochs: 100,
        batch_size: 20,
        lr: 0.1,
        init_sigma: 0.3,
        eval: no_eval(),
        ..Default::default()
    };
    let truth_lp = visible_log_probs(&truth);
    let data_lp = empirical_log_probs(&data);
    let before = SbnConfig {
        epochs: 0,
        ..cfg.clone()
    };
    let start = Sbn::fit(&data, None, &before, &mut NullSink, 42).unwrap().0;
    let start_lp = visible_log_probs(&start);
    let t = std::time::Instant::now();
    let mut sink = VecSink::default();
    let (sbn, summary) = Sbn::fit(&data, None, &cfg, &mut sink, 42).unwrap();
    let seconds = t.elapsed().as_secs_f64();
    let end_lp = visible_log_probs(&sbn);
    let (kl_start, kl_end) = (kl(&truth_lp, &start_lp), kl(&truth_lp, &end_lp));
    let (kl_data_start, kl_data_end) = (kl(&data_lp, &start_lp), kl(&data_lp, &end_lp));
    println!(
        "KL(true‖model) {kl_start:.4} -> {kl_end:.4}; KL(data‖model) {kl_data_start:.4} -> \
         {kl_data_end:.4} (KL(data‖true) {:.4}); {seconds:.1} s",
        kl(&data_lp, &truth_lp)
    );
    assert_eq!(summary.epochs, 100);
    assert!(kl_start > 0.15, "the problem is too easy: {kl_start}");
    assert!(kl_end < 0.25 * kl_start, "{kl_start} -> {kl_end}");
    assert!(kl_end < 0.06, "{kl_end}");
    assert!(
        kl_data_end < 0.25 * kl_data_start,
        "{kl_data_start} -> {kl_data_end}"
    );
    // The exact metrics of the last epoch describe the trained net on the first
    // `eval.max_examples` examples.
    let head = data.narrow(0, 0, cfg.eval.max_examples);
    let exact = sbn.exact_evaluation(&head, 16).unwrap();
    let ll = sink.series("exact_loglik");
    assert_eq!(ll.len(), 1);
    assert!((ll[0].1 - exact.mean_log_likelihood()).abs() < 1e-9);
    let kl_metric = sink.series("exact_kl")[0].1;
    assert!(kl_metric >= 0.0 && (kl_metric - exact.mean_kl()).abs() < 1e-9);
}

/// Bars and stripes on a 3 × 3 grid: every pattern of whole rows on (or of whole columns on),
/// 14 distinct patterns.
fn bars_and_stripes(repeats: usize, device: &Device) -> Tensor<2> {
    let mut patterns: Vec<Vec<f64>> = Vec::new();
    for s in 0..8usize {
        let rows_on: Vec<f64> = (0..9).map(|p| ((s >> (p / 3)) & 1) as f64).collect();
        let cols_on: Vec<f64> = (0..9).map(|p| ((s >> (p % 3)) & 1) as f64).collect();
        for pattern in [rows_on, cols_on] {
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
    }
    assert_eq!(patterns.len(), 14);
    let data: Vec<Vec<f64>> = (0..repeats).flat_map(|_| patterns.clone()).collect();
    crate::eval::testing::tensor_from_rows(&data, device)
}

/// The 14 bars-and-stripes patterns, equally often: the data distribution is known exactly,
/// and a 9-8-2 net trained by wake-sleep comes within 0.25 nats of it (from about 3.7 for the
/// starting, nearly factorial net).
#[test]
fn wake_sleep_learns_bars_and_stripes() {
    let device = Device::flex();
    let data = bars_and_stripes(100, &device);
    let data_lp = empirical_log_probs(&data);
    let cfg = SbnConfig {
        layers: vec![8, 2],
        epochs: 200,
        batch_size: 10,
        lr: 0.1,
        init_sigma: 0.3,
        eval: no_eval(),
        ..Default::default()
    };
    let before = SbnConfig {
        epochs: 0,
        ..cfg.clone()
    };
    let start = Sbn::fit(&data, None, &before, &mut NullSink, 1).unwrap().0;
    let t = std::time::Instant::now();
    let (sbn, _) = Sbn::fit(&data, None, &cfg, &mut NullSink, 1).unwrap();
    let seconds = t.elapsed().as_secs_f64();
    let (kl_start, kl_end) = (
        kl(&data_lp, &visible_log_probs(&start)),
        kl(&data_lp, &visible_log_probs(&sbn)),
    );
    let exact = sbn.exact_evaluation(&data, 16).unwrap();
    println!(
        "BAS 3x3: KL(data‖model) {kl_start:.3} -> {kl_end:.3}; log p {:.3} (best −log 14 = \
         {:.3}), bound {:.3}, KL(Q‖P) {:.3}; {seconds:.1} s",
        exact.mean_log_likelihood(),
        -(14f64.ln()),
        exact.mean_bound(),
        exact.mean_kl()
    );
    assert!(kl_start > 3.0, "{kl_start}");
    assert!(kl_end < 0.25, "{kl_start} -> {kl_end}");
    // The data distribution is uniform on the patterns: KL(data‖model) = −log 14 − ⟨log p⟩.
    let direct = -(14f64.ln()) - exact.mean_log_likelihood();
    assert!((direct - kl_end).abs() < 1e-3, "{direct} vs {kl_end}");
}

/// 784-100-20 on 1000 binarized MNIST images: a few epochs of wake-sleep raise the
/// importance-sampled log-likelihood (train and held out) far above the untrained net's, the
/// sampled bound stays below it, and the run leaves its metrics, progress and pictures.
#[test]
fn wake_sleep_on_an_mnist_subset_raises_the_importance_sampled_log_likelihood() {
    let device = Device::flex();
    let all = mnist_binary(1500, &device);
    let (data, valid) = (all.clone().narrow(0, 0, 1000), all.narrow(0, 1000, 500));
    let cfg = SbnConfig {
        layers: vec![100, 20],
        epochs: 5,
        batch_size: 10,
        lr: 0.1,
        eval: SbnEvalConfig {
            max_examples: 500,
            importance_samples: 20,
            picture_shape: Some([28, 28]),
            pictures_every: 2,
            fantasies: 16,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut untrained = VecSink::default();
    let before = SbnConfig {
        epochs: 0,
        ..cfg.clone()
    };
    Sbn::fit(&data, Some(&valid), &before, &mut untrained, 3).unwrap();
    let start = untrained.series("is_loglik");
    assert_eq!(start.len(), 1);
    assert_eq!(start[0].0, 0);

    let mut sink = VecSink::default();
    let (_, summary) = Sbn::fit(&data, Some(&valid), &cfg, &mut sink, 3).unwrap();
    assert_eq!((summary.epochs, summary.stopped_early), (5, false));
    let is = sink.series("is_loglik");
    let bound = sink.series("bound");
    let se = sink.series("is_loglik_se");
    let is_valid = sink.series("is_loglik_valid");
    let seconds = sink.series("epoch_seconds");
    println!("untrained is_loglik {:.2}", start[0].1);
    for e in 0..5 {
        println!(
            "epoch {}: is_loglik {:.2} ± {:.3}, bound {:.2}, valid {:.2}, {:.2} s",
            e + 1,
            is[e].1,
            se[e].1,
            bound[e].1,
            is_valid[e].1,
            seconds[e].1
        );
    }
    assert_eq!(is.len(), 5);
    let last = is[4].1;
    assert!(last > start[0].1 + 40.0, "{:?} then {is:?}", start);
    assert!(last > is[0].1 + 20.0, "{is:?}");
    assert!(is_valid[4].1 > untrained.series("is_loglik_valid")[0].1 + 40.0);
    for ((b, i), s) in bound.iter().zip(&is).zip(&se) {
        assert!(b.1 <= i.1, "the bound {b:?} is above the estimate {i:?}");
        assert!(s.1 > 0.0 && s.1 < 0.5, "{s:?}");
    }
    for key in [
        "bound_se",
        "bound_valid",
        "bound_se_valid",
        "is_loglik_se_valid",
    ] {
        assert_eq!(sink.series(key).len(), 5, "{key}");
    }
    // 120 hidden units cannot be enumerated.
    assert!(sink.series("exact_loglik").is_empty());
    let progress = sink
        .0
        .iter()
        .filter(|e| matches!(e, Event::Progress { stage, total: 5, .. } if stage == "sbn"))
        .count();
    assert_eq!(progress, 5);
    let pictures: Vec<(String, String, Vec<u8>)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact {
                kind, name, bytes, ..
            } => Some((kind.clone(), name.clone(), bytes.clone())),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = pictures.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sbn_samples_epoch2.png",
            "sbn_filters_epoch2.png",
            "sbn_samples_epoch4.png",
            "sbn_filters_epoch4.png",
            "sbn_samples_epoch5.png",
            "sbn_filters_epoch5.png"
        ]
    );
    for (kind, _, png) in &pictures {
        assert_eq!(&png[1..4], b"PNG");
        // 16 fantasies: 4 tiles of 28 and 5 borders; 100 filters: 10 tiles.
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let tiles = if kind == "samples" { 4 } else { 10 };
        assert_eq!(width, tiles * 29 + 1, "{kind}");
    }
}

/// Stops when `keep_going` turns false once `stop_after` epochs have reported progress.
struct StopAfter {
    inner: VecSink,
    stop_after: usize,
    progress: Cell<usize>,
}

impl EventSink for StopAfter {
    fn emit(&mut self, event: Event) {
        if matches!(event, Event::Progress { .. }) {
            self.progress.set(self.progress.get() + 1);
        }
        self.inner.emit(event);
    }
    fn keep_going(&self) -> bool {
        self.progress.get() < self.stop_after
    }
}

#[test]
fn a_stop_request_ends_training_at_the_next_epoch_boundary() {
    let device = Device::flex();
    let data = bars_and_stripes(4, &device);
    let cfg = SbnConfig {
        layers: vec![4, 2],
        epochs: 10,
        eval: SbnEvalConfig {
            picture_shape: Some([3, 3]),
            ..no_eval()
        },
        ..Default::default()
    };
    let mut sink = StopAfter {
        inner: VecSink::default(),
        stop_after: 2,
        progress: Cell::new(0),
    };
    let (_, summary) = Sbn::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    assert_eq!((summary.epochs, summary.stopped_early), (2, true));
    assert_eq!(sink.inner.series("epoch_seconds").len(), 2);
    // No last epoch, so no last evaluation and no pictures.
    assert!(sink.inner.series("is_loglik").is_empty());
    assert!(
        !sink
            .inner
            .0
            .iter()
            .any(|e| matches!(e, Event::Artifact { .. }))
    );
}

#[test]
fn divergence_is_an_error_naming_the_epoch() {
    let device = Device::flex();
    let data = bars_and_stripes(3, &device);
    // lr · weight_cost = 1000: every update multiplies the weights by −999.
    let cfg = SbnConfig {
        layers: vec![4, 2],
        epochs: 30,
        batch_size: 7,
        lr: 1.0,
        weight_cost: 1000.0,
        eval: SbnEvalConfig {
            importance_samples: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    let err = Sbn::fit(&data, None, &cfg, &mut NullSink, 3).unwrap_err();
    let SbnError::Diverged { epoch, .. } = &err else {
        panic!("expected Diverged, got {err:?}");
    };
    assert!((1..=cfg.epochs).contains(epoch), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("diverged at epoch {epoch}")),
        "{err}"
    );
}

#[test]
fn training_is_reproducible_from_the_seed() {
    let device = Device::flex();
    let data = bars_and_stripes(5, &device);
    let cfg = SbnConfig {
        layers: vec![5, 2],
        epochs: 3,
        batch_size: 7,
        eval: SbnEvalConfig {
            importance_samples: 10,
            ..Default::default()
        },
        ..Default::default()
    };
    let run = |seed| {
        let (sbn, summary) = Sbn::fit(&data, None, &cfg, &mut NullSink, seed).unwrap();
        let metrics: Vec<(String, f64)> = summary
            .final_metrics
            .into_iter()
            .filter(|(k, _)| k != "epoch_seconds")
            .collect();
        (crate::eval::to_vec(sbn.generative[0].clone()), metrics)
    };
    let (a, b, c) = (run(4), run(4), run(5));
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
    let keys: Vec<&str> = a.1.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "is_loglik",
            "is_loglik_se",
            "bound",
            "bound_se",
            "exact_loglik",
            "exact_bound",
            "exact_kl"
        ]
    );
}

#[test]
fn config_defaults_round_trip_unknown_keys_and_bad_values_are_errors() {
    let cfg = SbnConfig::default();
    cfg.validate().unwrap();
    assert_eq!(cfg.recognition_lr(), cfg.lr);
    let json = serde_json::to_string(&cfg).unwrap();
    assert!(!json.contains("recognition_lr") && !json.contains("picture_shape"));
    let back: SbnConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let partial: SbnConfig =
        serde_json::from_str(r#"{"layers": [50], "recognition_lr": 0.2, "eval": {"every": 3}}"#)
            .unwrap();
    assert_eq!(
        (
            partial.layers.clone(),
            partial.recognition_lr(),
            partial.eval.every
        ),
        (vec![50], 0.2, 3)
    );
    assert_eq!(partial.eval.importance_samples, 100);
    assert!(serde_json::from_str::<SbnConfig>(r#"{"layer": [20]}"#).is_err());
    assert!(serde_json::from_str::<SbnConfig>(r#"{"eval": {"samples": 3}}"#).is_err());
    let bad = |edit: &dyn Fn(&mut SbnConfig), key: &str| {
        let mut c = SbnConfig::default();
        edit(&mut c);
        match c.validate() {
            Err(e @ SbnError::Config(_)) => assert!(e.to_string().contains(key), "{e}"),
            other => panic!("expected an error about {key}, got {other:?}"),
        }
    };
    bad(&|c| c.layers = vec![], "layers");
    bad(&|c| c.layers = vec![3, 0], "layers");
    bad(&|c| c.batch_size = 0, "batch_size");
    bad(&|c| c.lr = 0.0, "lr");
    bad(&|c| c.lr = f64::NAN, "lr");
    bad(&|c| c.recognition_lr = Some(-1.0), "recognition_lr");
    bad(&|c| c.weight_cost = -1.0, "weight_cost");
    bad(&|c| c.init_sigma = -0.1, "init_sigma");
    bad(&|c| c.eval.max_examples = 0, "eval.max_examples");
    bad(
        &|c| c.eval.importance_samples = 1,
        "eval.importance_samples",
    );
    bad(&|c| c.eval.exact_max_units = 31, "eval.exact_max_units");
    bad(&|c| c.eval.fantasies = 0, "eval.fantasies");
    bad(
        &|c| c.eval.picture_shape = Some([0, 28]),
        "eval.picture_shape",
    );
}
