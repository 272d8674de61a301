//! Training: an MNIST subset raises the variational bound; events, stopping, divergence, config.

use std::cell::Cell;

use burn::tensor::{Device, Distribution, Tensor};

use crate::dbm::{Dbm, DbmConfig, DbmError, DbmEvalConfig, DbmLearner, MeanFieldConfig};
use crate::eval::testing::{mnist_binary, serial};
use crate::events::{Event, EventSink, VecSink};
use crate::rbm::HostDraws;

fn quick(layers: Vec<usize>) -> DbmConfig {
    DbmConfig {
        layers,
        epochs: 6,
        batch_size: 50,
        lr: 0.05,
        chains: 50,
        gibbs_steps: 3,
        eval: DbmEvalConfig {
            ais: None,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn training_on_an_mnist_subset_raises_the_variational_bound() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(500, &device);
    let cfg = DbmConfig {
        epochs: 10,
        lr: 0.1,
        init_sigma: 0.1,
        ..quick(vec![12, 8])
    };
    // The bound of the DBM as it starts (the same construction as `fit`).
    let mut start = Dbm::new(
        784,
        &[12, 8],
        cfg.init_sigma,
        &device,
        &mut HostDraws::new(7),
    )
    .unwrap();
    start.init_visible_bias_from_data(&data).unwrap();
    let start_log_z = start.exact_log_partition(20).unwrap();
    let before = start.variational_lower_bound(&data, &cfg.mean_field, start_log_z);

    let mut sink = VecSink::default();
    let (dbm, summary) = Dbm::fit(&data, None, &cfg, &mut sink, 7).unwrap();
    assert_eq!(summary.epochs, 10);
    assert!(!summary.stopped_early);
    let bounds = sink.series("mf_bound");
    let lls = sink.series("exact_loglik");
    assert_eq!(bounds.len(), 10, "{bounds:?}");
    let after = bounds.last().unwrap().1;
    assert!(
        after > before + 10.0,
        "the bound went from {before} to {after}: {bounds:?}"
    );
    let log_z = dbm.exact_log_partition(20).unwrap();
    let direct = dbm.variational_lower_bound(&data, &cfg.mean_field, log_z);
    assert!((direct - after).abs() < 1e-2, "{direct} vs {after}");
    for ((e, b), (_, ll)) in bounds.iter().zip(&lls) {
        assert!(
            *b <= ll + 1e-3,
            "epoch {e}: bound {b} above the log-likelihood {ll}"
        );
    }
    for key in [
        "epoch_seconds",
        "lr",
        "momentum",
        "mf_iterations",
        "mf_free_energy",
        "exact_log_z",
    ] {
        assert_eq!(sink.series(key).len(), 10, "{key}");
    }
    // The learning rate decays linearly towards zero.
    let lr = sink.series("lr");
    assert!(
        (lr[0].1 - 0.1).abs() < 1e-12 && lr.windows(2).all(|w| w[1].1 < w[0].1),
        "{lr:?}"
    );
    let progress = sink
        .0
        .iter()
        .filter(|e| matches!(e, Event::Progress { stage, .. } if stage == "dbm"))
        .count();
    assert_eq!(progress, 10);
    let checkpoint = sink.0.iter().find_map(|e| match e {
        Event::Artifact { kind, bytes, .. } if kind == "checkpoint" => Some(bytes.clone()),
        _ => None,
    });
    let back = Dbm::from_safetensors(&checkpoint.expect("a checkpoint artifact"), &device).unwrap();
    assert_eq!(back.sizes(), vec![784, 12, 8]);
}

#[test]
fn a_dbm_composed_from_pretrained_rbms_starts_with_a_better_bound_and_trains_on() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(500, &device);
    let eval = crate::rbm::RbmEvalConfig {
        reconstruction: false,
        free_energy_gap: false,
        pseudo_likelihood: false,
        exact_loglik: false,
        ais: None,
        checkpoint: false,
        ..Default::default()
    };
    let layer = |hidden| crate::rbm::RbmConfig {
        hidden,
        epochs: 5,
        batch_size: 50,
        lr: 0.1,
        eval: eval.clone(),
        ..Default::default()
    };
    let (dbm, _) =
        crate::dbm::pretrain(&data, &[layer(12), layer(8)], &mut VecSink::default(), 3).unwrap();
    let mut dbm = dbm.unwrap();
    let cfg = quick(vec![12, 8]);
    let composed =
        dbm.variational_lower_bound(&data, &cfg.mean_field, dbm.exact_log_partition(20).unwrap());
    let mut fresh = Dbm::new(784, &[12, 8], 0.01, &device, &mut HostDraws::new(3)).unwrap();
    fresh.init_visible_bias_from_data(&data).unwrap();
    let fresh_bound = fresh.variational_lower_bound(
        &data,
        &cfg.mean_field,
        fresh.exact_log_partition(20).unwrap(),
    );
    assert!(
        composed > fresh_bound + 10.0,
        "composed {composed}, fresh {fresh_bound}"
    );
    let mut sink = VecSink::default();
    let summary = dbm.train(&data, None, &cfg, &mut sink, 3).unwrap();
    assert_eq!(summary.epochs, cfg.epochs);
    let bounds = sink.series("mf_bound");
    assert!(
        bounds
            .iter()
            .all(|(_, b)| b.is_finite() && *b > fresh_bound + 10.0),
        "{bounds:?}"
    );
    // Fine-tuning the composed DBM as a whole raises its bound further.
    let trained = bounds.last().unwrap().1;
    assert!(
        trained > composed,
        "composed {composed}, after fine-tuning {trained}"
    );
}

struct StopAfter {
    events: VecSink,
    progress: Cell<usize>,
    limit: usize,
}

impl EventSink for StopAfter {
    fn emit(&mut self, event: Event) {
        if matches!(event, Event::Progress { .. }) {
            self.progress.set(self.progress.get() + 1);
        }
        self.events.emit(event);
    }
    fn keep_going(&self) -> bool {
        self.progress.get() < self.limit
    }
}

#[test]
fn a_stop_request_ends_training_at_the_next_epoch_boundary() {
    let _guard = serial();
    let device = Device::flex();
    device.seed(4);
    let data = Tensor::<2>::random([60, 10], Distribution::Bernoulli(0.3), &device);
    let mut sink = StopAfter {
        events: VecSink::default(),
        progress: Cell::new(0),
        limit: 2,
    };
    let mut cfg = quick(vec![4, 3]);
    cfg.eval.ais = Some(crate::rbm::AisConfig {
        runs: 10,
        betas: 100,
        at_end: true,
    });
    let (_, summary) = Dbm::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    assert_eq!(summary.epochs, 2);
    assert!(summary.stopped_early);
    assert!(sink.events.series("ais_log_z").is_empty());
}

#[test]
fn ais_metrics_follow_the_last_epoch_of_a_two_layer_dbm() {
    let _guard = serial();
    let device = Device::flex();
    device.seed(5);
    let data = Tensor::<2>::random([60, 10], Distribution::Bernoulli(0.3), &device);
    let mut cfg = quick(vec![4, 3]);
    cfg.epochs = 2;
    cfg.eval.ais = Some(crate::rbm::AisConfig {
        runs: 50,
        betas: 1000,
        at_end: true,
    });
    let mut sink = VecSink::default();
    Dbm::fit(&data, Some(&data), &cfg, &mut sink, 2).unwrap();
    let ais = sink.series("ais_log_z");
    let exact = sink.series("exact_log_z");
    assert_eq!(ais.len(), 1);
    assert!(
        (ais[0].1 - exact.last().unwrap().1).abs() < 0.1,
        "{ais:?} vs {exact:?}"
    );
    assert_eq!(sink.series("ais_mf_bound").len(), 1);
    assert_eq!(sink.series("ais_mf_bound_valid").len(), 1);
    assert_eq!(sink.series("mf_bound_valid").len(), 2);
}

#[test]
fn divergence_is_an_error_naming_the_epoch() {
    let _guard = serial();
    let device = Device::flex();
    device.seed(6);
    let data = Tensor::<2>::random([40, 10], Distribution::Bernoulli(0.3), &device);
    let mut cfg = quick(vec![4, 3]);
    cfg.lr = 1e30;
    cfg.lr_schedule = crate::dbm::DbmLrSchedule::Constant;
    let err = Dbm::fit(&data, None, &cfg, &mut VecSink::default(), 3).unwrap_err();
    let DbmError::Diverged { epoch, .. } = err else {
        panic!("expected Diverged, got {err:?}");
    };
    assert!((1..=cfg.epochs).contains(&epoch), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("diverged at epoch {epoch}")),
        "{err}"
    );
}

#[test]
fn persistent_chains_keep_their_count_and_stay_binary() {
    let device = Device::flex();
    let dbm = super::random_dbm(&[6, 4, 3], 1.0, 8, &device);
    let mut dbm = dbm;
    let mut draws = HostDraws::new(2);
    let mut learner = DbmLearner::new(&dbm, 7, &mut draws);
    let v = Tensor::<2>::random([5, 6], Distribution::Bernoulli(0.5), &device);
    learner.step(
        &mut dbm,
        v,
        &MeanFieldConfig::default(),
        2,
        0.01,
        0.5,
        0.0002,
        &mut draws,
    );
    for (l, c) in learner.chains.iter().enumerate() {
        assert_eq!(c.dims(), [7, dbm.sizes()[l]]);
        let x = crate::eval::to_vec(c.clone());
        assert!(x.iter().all(|&a| a == 0.0 || a == 1.0));
    }
}

#[test]
fn config_defaults_round_trip_and_unknown_keys_are_errors() {
    let cfg = DbmConfig::default();
    assert_eq!(cfg.chains, 100);
    assert_eq!(cfg.mean_field.max_iterations, 10);
    cfg.validate().unwrap();
    let json = serde_json::to_string(&cfg).unwrap();
    let back: DbmConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let partial: DbmConfig = serde_json::from_str(r#"{"layers": [20, 10], "epochs": 3}"#).unwrap();
    assert_eq!(
        (partial.layers, partial.epochs, partial.batch_size),
        (vec![20, 10], 3, 100)
    );
    assert!(serde_json::from_str::<DbmConfig>(r#"{"layer": [20, 10]}"#).is_err());
    assert!(serde_json::from_str::<DbmConfig>(r#"{"mean_field": {"iters": 3}}"#).is_err());
    let bad = DbmConfig {
        chains: 0,
        ..Default::default()
    };
    assert!(matches!(bad.validate(), Err(DbmError::Config(_))));
}

/// With a picture shape, the last epoch leaves a filters and a samples picture: PNGs of a grid
/// of 28 × 28 tiles (one per first-layer unit, one per chain).
#[test]
fn the_last_epoch_draws_the_filters_and_the_chains() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(200, &device);
    let mut cfg = quick(vec![9, 4]);
    cfg.epochs = 1;
    cfg.chains = 16;
    cfg.eval.picture_shape = Some([28, 28]);
    let mut sink = VecSink::default();
    Dbm::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    let pictures: Vec<(String, Vec<u8>)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact { kind, bytes, .. } if kind != "checkpoint" => {
                Some((kind.clone(), bytes.clone()))
            }
            _ => None,
        })
        .collect();
    let kinds: Vec<&str> = pictures.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["filters", "samples"]);
    for (_, png) in &pictures {
        assert_eq!(&png[1..4], b"PNG");
        // Width: 3 tiles of 28 and 4 borders (9 filters; 16 chains: 4 tiles, 5 borders).
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert!(width == 3 * 29 + 1 || width == 4 * 29 + 1, "{width}");
    }
}

/// `pictures_every: 2` over 5 epochs draws at epochs 2, 4 and 5 (the last), one filters and one
/// samples picture each, named by their epoch.
#[test]
fn pictures_every_draws_the_pictures_during_training_too() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(100, &device);
    let mut cfg = quick(vec![9, 4]);
    cfg.epochs = 5;
    cfg.chains = 16;
    cfg.eval.picture_shape = Some([28, 28]);
    cfg.eval.pictures_every = 2;
    let mut sink = VecSink::default();
    Dbm::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    let names: Vec<(String, Option<u64>)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact {
                kind, name, step, ..
            } if kind != "checkpoint" => Some((name.clone(), *step)),
            _ => None,
        })
        .collect();
    let want: Vec<(String, Option<u64>)> = [2u64, 4, 5]
        .iter()
        .flat_map(|&e| ["filters", "samples"].map(|k| (format!("dbm_{k}_epoch{e}.png"), Some(e))))
        .collect();
    assert_eq!(names, want);
}
