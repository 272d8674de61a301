//! Learning on data, reproducibility, the events a run emits, early stopping and errors.

use burn::tensor::{Device, Tensor, TensorData};

use super::{assert_close, flat, flat1, quiet_eval};
use crate::eval::exact;
use crate::eval::testing::{HostRng, mnist_binary, random_rbm, serial};
use crate::events::{Event, EventSink, NullSink, VecSink};
use crate::rbm::{
    AisConfig, GaussianSigma, Rbm, RbmConfig, RbmError, RbmEvalConfig, Sparsity, VisibleType,
};

// --- learning ------------------------------------------------------------------------------

#[test]
fn training_on_an_mnist_subset_raises_the_exact_log_likelihood() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(2000, &device);
    let cfg = RbmConfig {
        hidden: 12,
        epochs: 5,
        lr: 0.05,
        eval: RbmEvalConfig {
            exact_loglik: true,
            ..quiet_eval()
        },
        ..Default::default()
    };
    device.seed(1);
    let mut rbm = Rbm::new(784, &cfg, &device).unwrap();
    rbm.init_from_data(&data, &cfg).unwrap();
    let before = exact::log_likelihood(&rbm, &data, 20).unwrap();
    let mut sink = VecSink::default();
    rbm.train(&data, None, &cfg, &mut sink, 1).unwrap();
    let after = exact::log_likelihood(&rbm, &data, 20).unwrap();
    assert!(
        after > before + 10.0,
        "log-likelihood went from {before:.2} to {after:.2} nats"
    );
    let series = sink.series("exact_loglik");
    assert_eq!(series.len(), 5, "one exact_loglik per epoch");
    assert!((series[4].1 - after).abs() < 1e-3);
}

#[test]
fn gaussian_visible_units_learn_a_known_mean_from_zero_biases() {
    let _guard = serial();
    let device = Device::flex();
    let mu = [-2.0, 0.5, 1.0, 3.0, -1.0];
    let mut rng = HostRng::new(21);
    let n = 4000;
    let mut values = Vec::with_capacity(n * 5);
    for _ in 0..n {
        for m in mu {
            // Box–Muller.
            let (u1, u2) = (rng.uniform().max(1e-12), rng.uniform());
            values.push(
                (m + (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32,
            );
        }
    }
    let data = Tensor::<2>::from_data(TensorData::new(values, [n, 5]), &device);
    let cfg = RbmConfig {
        hidden: 4,
        visible_type: VisibleType::Gaussian,
        epochs: 10,
        lr: 0.01,
        eval: quiet_eval(),
        ..Default::default()
    };
    device.seed(2);
    // Start from zero visible biases (no init_from_data), so the mean has to be learned.
    let mut rbm = Rbm::new(5, &cfg, &device).unwrap();
    rbm.train(&data, None, &cfg, &mut NullSink, 2).unwrap();
    let samples = rbm
        .sample_gibbs(data.clone().narrow(0, 0, 2000), 200)
        .visible;
    let mean = flat1(samples.mean_dim(0).squeeze_dim(0));
    // The model's mean is b + σ∘W⟨h⟩: the hidden units may carry part of the offset, so it is
    // the mean of the model's samples, not b alone, that must match the data (2,000 samples
    // of unit variance: standard error 0.022, tolerance about 7σ).
    assert_close(&mean, &mu, 0.15, "mean of model samples");
}

#[test]
fn training_with_the_same_seed_is_reproducible() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(300, &device);
    let cfg = RbmConfig {
        hidden: 8,
        epochs: 2,
        batch_size: 50,
        eval: quiet_eval(),
        ..Default::default()
    };
    let (a, _) = Rbm::fit(&data, None, &cfg, &mut NullSink, 7).unwrap();
    let (b, _) = Rbm::fit(&data, None, &cfg, &mut NullSink, 7).unwrap();
    let (c, _) = Rbm::fit(&data, None, &cfg, &mut NullSink, 8).unwrap();
    assert_eq!(flat(a.weights.clone()), flat(b.weights));
    assert_ne!(flat(a.weights), flat(c.weights));
}

#[test]
fn training_is_reproducible_while_another_trial_uses_the_device_generator() {
    // The device's generator is one per process; a trial must not depend on it, or parallel
    // trials (`--jobs 2`) would change each other's results.
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(300, &device);
    let cfg = RbmConfig {
        hidden: 8,
        epochs: 3,
        batch_size: 20,
        persistent: true,
        chains: 20,
        eval: quiet_eval(),
        ..Default::default()
    };
    let (alone, _) = Rbm::fit(&data, None, &cfg, &mut NullSink, 7).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let beside = std::thread::scope(|s| {
        s.spawn(|| {
            // Another trial's draws, interleaved with this one's.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                device.seed(99);
                let _ = flat(Tensor::<2>::random(
                    [50, 50],
                    burn::tensor::Distribution::Default,
                    &device,
                ));
            }
        });
        let (rbm, _) = Rbm::fit(&data, None, &cfg, &mut NullSink, 7).unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        rbm
    });
    assert_eq!(flat(alone.weights), flat(beside.weights));
    assert_eq!(flat1(alone.hidden_bias), flat1(beside.hidden_bias));
}

#[test]
fn training_emits_metrics_pictures_checkpoint_and_progress() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(600, &device);
    let valid = data.clone().narrow(0, 500, 100);
    let train = data.narrow(0, 0, 500);
    let cfg = RbmConfig {
        hidden: 16,
        epochs: 2,
        persistent: true,
        chains: 50,
        cd_k: 2,
        sparsity: Some(Sparsity::default()),
        eval: RbmEvalConfig {
            ais: Some(AisConfig {
                runs: 10,
                betas: 200,
                at_end: true,
            }),
            picture_shape: Some([28, 28]),
            sample_chains: 16,
            sample_steps: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut sink = VecSink::default();
    let (_, summary) = Rbm::fit(&train, Some(&valid), &cfg, &mut sink, 3).unwrap();
    assert_eq!(summary.epochs, 2);
    for key in [
        "recon_error",
        "free_energy_train",
        "free_energy_valid",
        "free_energy_gap",
        "pseudo_loglik",
        "exact_log_z",
        "exact_loglik",
        "exact_loglik_valid",
        "epoch_seconds",
    ] {
        assert_eq!(sink.series(key).len(), 2, "{key} once per epoch");
    }
    for key in [
        "ais_log_z",
        "ais_log_z_upper",
        "ais_loglik",
        "ais_loglik_valid",
    ] {
        assert_eq!(sink.series(key).len(), 1, "{key} once at the end");
    }
    let artifacts: Vec<(&str, &str, &[u8])> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact {
                kind, name, bytes, ..
            } => Some((kind.as_str(), name.as_str(), bytes.as_slice())),
            _ => None,
        })
        .collect();
    let png = b"\x89PNG\r\n\x1a\n";
    for kind in ["filters", "reconstructions", "samples"] {
        let (_, name, bytes) = artifacts.iter().find(|a| a.0 == kind).expect(kind);
        assert_eq!(*name, format!("{kind}_epoch2.png"));
        assert!(bytes.starts_with(png), "{kind} is a PNG");
    }
    let (_, _, ckpt) = artifacts
        .iter()
        .find(|a| a.0 == "checkpoint")
        .expect("a checkpoint");
    assert_eq!(Rbm::from_safetensors(ckpt, &device).unwrap().hidden(), 16);
    let progress: Vec<u64> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Progress {
                stage,
                done,
                total: 2,
            } if stage == "rbm" => Some(*done),
            _ => None,
        })
        .collect();
    assert_eq!(progress, vec![1, 2]);
}

struct StopAfter(usize, usize);

impl EventSink for StopAfter {
    fn emit(&mut self, event: Event) {
        if let Event::Progress { .. } = event {
            self.1 += 1;
        }
    }
    fn keep_going(&self) -> bool {
        self.1 < self.0
    }
}

#[test]
fn training_stops_at_an_epoch_boundary_when_the_sink_asks() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(200, &device);
    let cfg = RbmConfig {
        hidden: 8,
        epochs: 5,
        eval: quiet_eval(),
        ..Default::default()
    };
    let mut sink = StopAfter(2, 0);
    let (_, summary) = Rbm::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    assert_eq!((summary.epochs, summary.stopped_early), (2, true));
}

/// Asks to stop `delay` after the last epoch's `Progress` event, or as soon as an event matching
/// `stop_on` is emitted; keeps every event.
struct StopLater {
    epochs: u64,
    delay: Option<std::time::Duration>,
    stop_on: fn(&Event) -> bool,
    last_epoch_at: Option<std::time::Instant>,
    stopped: bool,
    events: VecSink,
}

impl StopLater {
    fn new(epochs: u64, delay: Option<std::time::Duration>, stop_on: fn(&Event) -> bool) -> Self {
        StopLater {
            epochs,
            delay,
            stop_on,
            last_epoch_at: None,
            stopped: false,
            events: VecSink::default(),
        }
    }

    fn has(&self, key: &str) -> bool {
        !self.events.series(key).is_empty()
    }

    fn has_checkpoint(&self) -> bool {
        self.events
            .0
            .iter()
            .any(|e| matches!(e, Event::Artifact { kind, .. } if kind == "checkpoint"))
    }
}

impl EventSink for StopLater {
    fn emit(&mut self, event: Event) {
        if matches!(event, Event::Progress { done, .. } if done == self.epochs) {
            self.last_epoch_at = Some(std::time::Instant::now());
        }
        self.stopped |= (self.stop_on)(&event);
        self.events.emit(event);
    }
    fn keep_going(&self) -> bool {
        let late = match (self.delay, self.last_epoch_at) {
            (Some(d), Some(t)) => t.elapsed() >= d,
            _ => false,
        };
        !(self.stopped || late)
    }
}

/// A small binary RBM whose end-of-training AIS has a million β steps: minutes of work.
fn long_ais_config() -> RbmConfig {
    RbmConfig {
        hidden: 8,
        epochs: 1,
        eval: RbmEvalConfig {
            ais: Some(AisConfig {
                runs: 10,
                betas: 1_000_000,
                at_end: true,
            }),
            checkpoint: true,
            ..quiet_eval()
        },
        ..Default::default()
    }
}

#[test]
fn a_stop_during_the_final_ais_ends_training_promptly_without_ais_metrics() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(200, &device);
    let cfg = long_ais_config();
    // The stop comes 300 ms into the AIS estimate.
    let delay = std::time::Duration::from_millis(300);
    let mut sink = StopLater::new(1, Some(delay), |_| false);
    let (_, summary) = Rbm::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    let after_stop = sink
        .last_epoch_at
        .expect("the epoch ran")
        .elapsed()
        .saturating_sub(delay);
    assert_eq!((summary.epochs, summary.stopped_early), (1, true));
    for key in ["ais_log_z", "ais_log_z_upper", "ais_loglik"] {
        assert!(
            !sink.has(key),
            "{key} of an interrupted AIS is not recorded"
        );
    }
    assert!(
        summary
            .final_metrics
            .iter()
            .all(|(k, _)| !k.starts_with("ais_")),
        "{:?}",
        summary.final_metrics
    );
    assert!(
        !sink.has_checkpoint(),
        "no checkpoint of an interrupted run"
    );
    assert!(
        after_stop.as_secs_f64() < 5.0,
        "training returned {after_stop:?} after the stop request"
    );
}

#[test]
fn a_stop_after_the_last_piece_of_work_does_not_make_training_stopped_early() {
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(200, &device);
    let mut cfg = long_ais_config();
    cfg.eval.ais.as_mut().unwrap().betas = 200;
    // The stop comes with the checkpoint, the last thing training emits.
    let mut sink = StopLater::new(
        1,
        None,
        |e| matches!(e, Event::Artifact { kind, .. } if kind == "checkpoint"),
    );
    let (_, summary) = Rbm::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    assert!(!sink.keep_going(), "the stop was asked for");
    assert_eq!((summary.epochs, summary.stopped_early), (1, false));
    assert!(sink.has("ais_log_z") && sink.has("ais_loglik") && sink.has_checkpoint());
}

#[test]
fn non_finite_parameters_are_reported_as_divergence() {
    let device = Device::flex();
    let cfg = RbmConfig {
        hidden: 3,
        epochs: 2,
        eval: quiet_eval(),
        ..Default::default()
    };
    let mut rbm = random_rbm(4, 3, 0.1, 1, &device);
    rbm.weights = rbm.weights.clone().add_scalar(f32::NAN);
    let data = Tensor::<2>::ones([10, 4], &device);
    let err = rbm.train(&data, None, &cfg, &mut NullSink, 1).unwrap_err();
    assert!(matches!(err, RbmError::Diverged { epoch: 1, .. }), "{err}");
    assert!(err.to_string().contains("diverged at epoch 1"), "{err}");
}

#[test]
fn mismatched_data_and_bad_settings_are_errors() {
    let device = Device::flex();
    let cfg = RbmConfig {
        hidden: 3,
        eval: quiet_eval(),
        ..Default::default()
    };
    let mut rbm = random_rbm(4, 3, 0.1, 1, &device);
    let data = Tensor::<2>::ones([10, 5], &device);
    let err = rbm.train(&data, None, &cfg, &mut NullSink, 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("5 columns but the RBM has 4 visible units"),
        "{err}"
    );
    let bad = RbmConfig {
        cd_k: 0,
        ..cfg.clone()
    };
    assert!(matches!(
        Rbm::new(4, &bad, &device),
        Err(RbmError::Config(_))
    ));
    let bad = RbmConfig {
        visible_type: VisibleType::Gaussian,
        gaussian_sigma: GaussianSigma::Fixed(vec![1.0; 3]),
        ..cfg
    };
    assert!(matches!(
        Rbm::new(4, &bad, &device),
        Err(RbmError::Shape { .. })
    ));
}

// --- resumption ----------------------------------------------------------------------------

/// PCD training stopped after 2 of 5 epochs and continued from the state it saved then ends
/// with the weights, chains and metrics of a training that never stopped.
#[test]
fn a_training_continued_from_its_saved_state_equals_one_that_never_stopped() {
    use crate::resume::KeepingStates;
    let _guard = serial();
    let device = Device::flex();
    let data = mnist_binary(300, &device);
    let cfg = RbmConfig {
        hidden: 10,
        epochs: 5,
        lr: 0.05,
        batch_size: 20,
        persistent: true,
        chains: 20,
        eval: quiet_eval(),
        ..Default::default()
    };
    let whole = {
        let mut sink = KeepingStates::default();
        let (rbm, summary) = Rbm::fit(&data, None, &cfg, &mut sink, 3).unwrap();
        assert_eq!(summary.epochs, 5);
        rbm
    };
    let mut first = KeepingStates {
        stop_after: Some(2),
        ..Default::default()
    };
    let (_, summary) = Rbm::fit(&data, None, &cfg, &mut first, 3).unwrap();
    assert_eq!(summary.epochs, 2, "stopped after two epochs");
    let state = first
        .saved
        .remove("rbm")
        .expect("a state saved under `rbm`");
    let mut second = KeepingStates {
        given: [("rbm".to_string(), state)].into(),
        ..Default::default()
    };
    let (resumed, summary) = Rbm::fit(&data, None, &cfg, &mut second, 3).unwrap();
    assert_eq!(summary.epochs, 5);
    assert_eq!(second.epochs, 3, "only the three missing epochs ran");
    assert_eq!(flat(resumed.weights.clone()), flat(whole.weights.clone()));
    assert_eq!(
        flat1(resumed.hidden_bias.clone()),
        flat1(whole.hidden_bias.clone())
    );
    // A state that does not fit the RBM is an error that says so.
    let other = RbmConfig {
        hidden: 11,
        ..cfg.clone()
    };
    let mut wrong = KeepingStates {
        given: [("rbm".to_string(), second.saved["rbm"].clone())].into(),
        ..Default::default()
    };
    let e = Rbm::fit(&data, None, &other, &mut wrong, 3)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'W'") && e.contains("--restart"), "{e}");
}
