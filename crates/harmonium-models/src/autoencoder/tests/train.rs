//! Training: the reconstruction error of an MNIST subset falls well below its start (dae and
//! cae); the `loss` metric is the mean objective; events, pictures and the checkpoint; seeded
//! runs repeat; a stop at an epoch boundary; divergence names its epoch; bad input is refused.

use burn::tensor::{Device, Tensor};

use super::{max_diff, random_unit_rows};
use crate::autoencoder::{AutoencoderError, AutoencoderLayer, AutoencoderLayerConfig, Corruption};
use crate::autoencoder::{Decoder, Module};
use crate::eval::testing::{HostRng, mnist_binary, serial, tensor_from_rows};
use crate::events::{Event, EventSink, NullSink, VecSink};
use crate::rbm::Rbm;

fn quick(module: Module, hidden: usize, epochs: usize) -> AutoencoderLayerConfig {
    let mut c = AutoencoderLayerConfig {
        module,
        hidden,
        epochs,
        batch_size: 20,
        ..Default::default()
    };
    c.eval.checkpoint = false;
    c
}

fn last(sink: &VecSink, key: &str) -> f64 {
    sink.series(key)
        .last()
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

/// Trains a layer on 1000 MNIST images for `cfg.epochs` epochs and returns the reconstruction
/// error before and after, and the mean seconds per epoch.
fn mnist_run(cfg: &AutoencoderLayerConfig) -> (f64, f64, f64, VecSink) {
    let device = Device::flex();
    let data = mnist_binary(1000, &device);
    let mut before = VecSink::default();
    let start = AutoencoderLayerConfig {
        epochs: 0,
        ..cfg.clone()
    };
    AutoencoderLayer::fit(&data, None, &start, &mut before, 5).unwrap();
    let mut sink = VecSink::default();
    let (_, summary) = AutoencoderLayer::fit(&data, None, cfg, &mut sink, 5).unwrap();
    assert_eq!((summary.epochs, summary.stopped_early), (cfg.epochs, false));
    let seconds = sink.series("epoch_seconds");
    let per_epoch = seconds.iter().map(|s| s.1).sum::<f64>() / seconds.len() as f64;
    (
        last(&before, "recon_error"),
        last(&sink, "recon_error"),
        per_epoch,
        sink,
    )
}

#[test]
fn mnist_dae_reconstruction_error_falls_well_below_its_start() {
    let _serial = serial();
    let cfg = quick(Module::Dae, 100, 10);
    let (before, after, seconds, sink) = mnist_run(&cfg);
    eprintln!(
        "dae 784-100, 1000 MNIST images: recon_error {before:.2} → {after:.2}, {seconds:.3} s/epoch"
    );
    assert!(after < 0.35 * before, "recon_error {before} → {after}");
    let loss = sink.series("loss");
    assert!(loss.last().unwrap().1 < loss[0].1, "{loss:?}");
    assert!(sink.series("contractive_penalty").is_empty());
}

#[test]
fn mnist_cae_reconstruction_error_falls_well_below_its_start() {
    let _serial = serial();
    let cfg = quick(Module::Cae, 100, 10);
    let (before, after, seconds, sink) = mnist_run(&cfg);
    let penalty = last(&sink, "contractive_penalty");
    eprintln!(
        "cae 784-100 (λ = 0.1), 1000 MNIST images: recon_error {before:.2} → {after:.2}, \
         contractive_penalty {penalty:.3}, {seconds:.3} s/epoch"
    );
    assert!(after < 0.35 * before, "recon_error {before} → {after}");
    assert!(penalty > 0.0);
}

#[test]
fn the_loss_metric_is_the_mean_objective() {
    // With a learning rate too small to move anything, the epoch's mean objective is the
    // objective of the initial layer on the whole (uncorrupted, for a cae) training set, and
    // the clean-input metrics add up to it.
    let device = Device::flex();
    let data = tensor_from_rows(&random_unit_rows(60, 10, 3), &device);
    let cfg = AutoencoderLayerConfig {
        lr: 1e-12,
        epochs: 1,
        init_sigma: 0.5,
        contraction: Some(0.3),
        ..quick(Module::Cae, 6, 1)
    };
    let mut start = VecSink::default();
    let (initial, _) = AutoencoderLayer::fit(
        &data,
        None,
        &AutoencoderLayerConfig {
            epochs: 0,
            ..cfg.clone()
        },
        &mut start,
        9,
    )
    .unwrap();
    let mut sink = VecSink::default();
    AutoencoderLayer::fit(&data, None, &cfg, &mut sink, 9).unwrap();
    let exact = initial
        .objective(&data, &data, 0.3)
        .mean()
        .into_scalar::<f32>() as f64;
    let loss = last(&sink, "loss");
    assert!(
        (loss - exact).abs() < 1e-4 * exact,
        "loss {loss} against {exact}"
    );
    let parts = last(&sink, "recon_loss") + last(&sink, "contractive_penalty");
    assert!(
        (parts - exact).abs() < 1e-4 * exact,
        "{parts} against {exact}"
    );
    assert!(last(&sink, "contractive_penalty") > 1e-3 * exact);
}

#[test]
fn events_pictures_and_a_checkpoint_that_reads_back_as_an_rbm() {
    let _serial = serial();
    let device = Device::flex();
    let data = mnist_binary(300, &device);
    let (train, valid) = (data.clone().narrow(0, 0, 200), data.narrow(0, 200, 100));
    let mut cfg = quick(Module::Dae, 16, 2);
    cfg.eval.picture_shape = Some([28, 28]);
    cfg.eval.checkpoint = true;
    let mut sink = VecSink::default();
    let (layer, summary) = AutoencoderLayer::fit(&train, Some(&valid), &cfg, &mut sink, 1).unwrap();
    for key in [
        "epoch_seconds",
        "lr",
        "momentum",
        "loss",
        "recon_error",
        "recon_loss",
        "recon_error_valid",
        "recon_loss_valid",
    ] {
        let steps: Vec<u64> = sink.series(key).iter().map(|s| s.0).collect();
        assert_eq!(steps, vec![1, 2], "{key}");
    }
    assert_eq!(sink.series("momentum")[0].1, 0.5);
    let names: Vec<(String, String)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact {
                kind, name, bytes, ..
            } => {
                assert!(bytes.starts_with(b"\x89PNG") || kind == "checkpoint");
                Some((kind.clone(), name.clone()))
            }
            _ => None,
        })
        .collect();
    let expected = [
        ("filters", "dae_filters_epoch2.png"),
        ("reconstructions", "dae_reconstructions_epoch2.png"),
        ("checkpoint", "dae.safetensors"),
    ];
    assert_eq!(
        names,
        expected
            .map(|(k, n)| (k.to_string(), n.to_string()))
            .to_vec()
    );
    let progress: Vec<(String, u64, u64)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Progress { stage, done, total } => Some((stage.clone(), *done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(progress, vec![("dae".into(), 1, 2), ("dae".into(), 2, 2)]);
    let bytes = sink
        .0
        .iter()
        .find_map(|e| match e {
            Event::Artifact { kind, bytes, .. } if kind == "checkpoint" => Some(bytes.clone()),
            _ => None,
        })
        .unwrap();
    let rbm = Rbm::from_safetensors(&bytes, &device).unwrap();
    assert!(rbm.is_binary());
    assert_eq!(max_diff(rbm.weights, layer.weights.clone()), 0.0);
    assert_eq!(max_diff(rbm.hidden_bias, layer.hidden_bias.clone()), 0.0);
    let last_recon = summary
        .final_metrics
        .iter()
        .find(|(k, _)| k == "recon_error")
        .unwrap()
        .1;
    assert_eq!(last_recon, last(&sink, "recon_error"));
}

#[test]
fn seeded_runs_repeat_and_other_seeds_differ() {
    let device = Device::flex();
    let data = tensor_from_rows(&random_unit_rows(100, 12, 1), &device);
    for module in [Module::Dae, Module::Cae] {
        let mut cfg = quick(module, 5, 2);
        if module == Module::Cae {
            cfg.corruption = Some(Corruption::Gaussian(0.2));
        }
        let fit = |seed| {
            AutoencoderLayer::fit(&data, None, &cfg, &mut NullSink, seed)
                .unwrap()
                .0
        };
        let (a, b, c) = (fit(4), fit(4), fit(5));
        assert_eq!(max_diff(a.weights.clone(), b.weights), 0.0);
        assert_eq!(max_diff(a.visible_bias.clone(), b.visible_bias), 0.0);
        assert!(max_diff(a.weights, c.weights) > 0.0);
    }
}

/// Asks to stop once `limit` epochs have reported progress.
struct StopAfter {
    inner: VecSink,
    limit: usize,
}

impl EventSink for StopAfter {
    fn emit(&mut self, event: Event) {
        self.inner.emit(event);
    }
    fn keep_going(&self) -> bool {
        let done = self
            .inner
            .0
            .iter()
            .filter(|e| matches!(e, Event::Progress { .. }))
            .count();
        done < self.limit
    }
}

#[test]
fn a_stop_request_ends_training_at_the_next_epoch_boundary() {
    let device = Device::flex();
    let data = tensor_from_rows(&random_unit_rows(40, 6, 1), &device);
    let mut cfg = quick(Module::Dae, 3, 10);
    cfg.eval.checkpoint = true;
    let mut sink = StopAfter {
        inner: VecSink::default(),
        limit: 2,
    };
    let (_, summary) = AutoencoderLayer::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    assert_eq!((summary.epochs, summary.stopped_early), (2, true));
    assert_eq!(sink.inner.series("recon_error").len(), 2);
    assert!(
        !sink
            .inner
            .0
            .iter()
            .any(|e| matches!(e, Event::Artifact { .. })),
        "no checkpoint after a stop"
    );
}

#[test]
fn divergence_names_the_epoch() {
    let device = Device::flex();
    let data = HostRng::new(2).tensor2(50, 8, 10.0, &device);
    let cfg = AutoencoderLayerConfig {
        decoder: Decoder::Linear,
        lr: 50.0,
        init_sigma: 1.0,
        ..quick(Module::Dae, 4, 20)
    };
    match AutoencoderLayer::fit(&data, None, &cfg, &mut NullSink, 1) {
        Err(e @ AutoencoderError::Diverged { epoch, .. }) => {
            assert!(
                epoch >= 1 && e.to_string().contains(&format!("epoch {epoch}")),
                "{e}"
            );
        }
        other => panic!("expected divergence, got {other:?}"),
    }
}

fn err<T: std::fmt::Debug>(r: Result<T, AutoencoderError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let device = Device::flex();
    let data = tensor_from_rows(&random_unit_rows(20, 6, 1), &device);
    let cfg = quick(Module::Dae, 3, 1);
    // Validation data of the wrong width.
    let narrow = data.clone().narrow(1, 0, 5);
    let e = err(AutoencoderLayer::fit(
        &data,
        Some(&narrow),
        &cfg,
        &mut NullSink,
        1,
    ));
    assert!(
        e.contains("validation data") && e.contains("expected 6, got 5"),
        "{e}"
    );
    // Training data of the wrong width for a trained layer.
    let (mut layer, _) = AutoencoderLayer::fit(&data, None, &cfg, &mut NullSink, 1).unwrap();
    let e = err(layer.train(&narrow, None, &cfg, &mut NullSink, 1));
    assert!(e.contains("training data"), "{e}");
    let e = err(layer.train(&data, None, &quick(Module::Dae, 4, 1), &mut NullSink, 1));
    assert!(e.contains("hidden: 4 but the layer has 3"), "{e}");
    let linear = AutoencoderLayerConfig {
        decoder: Decoder::Linear,
        ..cfg.clone()
    };
    assert!(err(layer.train(&data, None, &linear, &mut NullSink, 1)).contains("decoder: linear"));
    // No examples.
    let empty = Tensor::<2>::zeros([0, 6], &device);
    assert!(matches!(
        AutoencoderLayer::fit(&empty, None, &cfg, &mut NullSink, 1),
        Err(AutoencoderError::EmptyData)
    ));
    // Real-valued data for a sigmoid decoder, which a linear decoder takes.
    let real = data.clone().mul_scalar(3.0).sub_scalar(1.0);
    let e = err(AutoencoderLayer::fit(&real, None, &cfg, &mut NullSink, 1));
    assert!(
        e.contains("decoder: a sigmoid decoder") && e.contains("training data"),
        "{e}"
    );
    assert!(AutoencoderLayer::fit(&real, None, &linear, &mut NullSink, 1).is_ok());
    // A bad configuration.
    let bad = AutoencoderLayerConfig {
        corruption: Some(Corruption::Masking(-0.5)),
        ..cfg
    };
    assert!(
        err(AutoencoderLayer::fit(&data, None, &bad, &mut NullSink, 1))
            .contains("corruption.masking")
    );
}
