//! Training: an MNIST subset is classified far better than chance, fantasies, events, stopping,
//! divergence and bad input.

use std::cell::Cell;

use burn::tensor::{Device, Tensor};

use super::labels;
use super::pretrain::{small_config, two_blocks};
use crate::eval::testing::{mnist_binary, serial};
use crate::events::{Event, EventSink, NullSink, VecSink};
use crate::rbm::{HostDraws, RbmConfig};
use crate::updown::{
    Examples, FantasyStart, TopConfig, UpDownConfig, UpDownDbn, UpDownError, UpDownEvalConfig,
    pretrain,
};

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    (reader.info().width, reader.info().height)
}

fn artifacts(sink: &VecSink) -> Vec<(String, Option<u64>, Vec<u8>)> {
    sink.0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact {
                kind,
                name,
                step,
                bytes,
            } if kind == "fantasies" => Some((name.clone(), *step, bytes.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn an_mnist_subset_is_classified_far_better_than_chance_and_dreamt_by_class() {
    let _serial = serial();
    let device = Device::flex();
    let all = mnist_binary(3000, &device);
    let all_labels = super::mnist_labels(3000, &device);
    let (x, y) = (
        all.clone().narrow(0, 0, 2000),
        all_labels.clone().narrow(0, 0, 2000),
    );
    let (tx, ty) = (all.narrow(0, 2000, 1000), all_labels.narrow(0, 2000, 1000));
    let mut rbm = RbmConfig {
        epochs: 5,
        batch_size: 20,
        lr: 0.05,
        ..Default::default()
    };
    rbm.eval.pseudo_likelihood = false;
    rbm.eval.free_energy_gap = false;
    rbm.eval.checkpoint = false;
    let cfg = UpDownConfig {
        layers: vec![100, 100, 200],
        epochs: 3,
        batch_size: 20,
        pretrain: rbm,
        top: TopConfig {
            epochs: 10,
            batch_size: 20,
            ..Default::default()
        },
        eval: UpDownEvalConfig {
            picture_shape: Some([28, 28]),
            fantasy_steps: 200,
            fantasy_every: 2,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut sink = VecSink::default();
    let started = std::time::Instant::now();
    let (net, summary) = UpDownDbn::fit(
        Examples::labelled(&x, &y),
        None,
        Some(Examples::labelled(&tx, &ty)),
        &cfg,
        &mut sink,
        1,
    )
    .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(summary.epochs, 3);
    assert!(!summary.stopped_early);
    let test = sink.series("test_error");
    let top = sink.series("top/train_error");
    let per_epoch = sink.series("epoch_seconds");
    eprintln!(
        "pretrained top train error {:?}; up-down test error {test:?}; train error {:?}; \
         up-down epoch seconds {per_epoch:?}; total {seconds:.1} s",
        top.last(),
        sink.series("train_error"),
    );
    assert_eq!(test.len(), 3);
    let last = test.last().unwrap().1;
    assert!(last < 0.3, "test error {last}: {test:?}");
    assert!((net.error_rate(&tx, &ty) - last).abs() < 1e-9);
    // Fine-tuning keeps what pretraining gave (the same seed pretrains the same net).
    let pretrained = pretrain(Examples::labelled(&x, &y), None, &cfg, &mut NullSink, 1).unwrap();
    let before = pretrained.error_rate(&tx, &ty);
    eprintln!("test error after pretraining {before}");
    assert!(
        last <= before + 0.02,
        "up-down took the test error from {before} to {last}"
    );
    for key in [
        "train_error",
        "top_recon_error",
        "updown_recon_error",
        "lr",
        "momentum",
    ] {
        assert_eq!(sink.series(key).len(), 3, "{key}");
    }
    // Fantasies after epochs 2 and 3 (the last), one row of 10 per class.
    let pictures = artifacts(&sink);
    let names: Vec<&str> = pictures.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["fantasies_epoch2.png", "fantasies_epoch3.png"]);
    assert_eq!(pictures[1].1, Some(3));
    assert_eq!(png_size(&pictures[1].2), (10 * 29 + 1, 10 * 29 + 1));
    // The fantasies look like their class to the net itself.
    let f = net.fantasies(10, 200, None, &mut HostDraws::new(4));
    let classes: Vec<i64> = (0..100).map(|r| r / 10).collect();
    let fantasy_error = net.error_rate(&f, &labels(&classes, &device));
    eprintln!("fantasies misclassified: {fantasy_error}");
    assert!(fantasy_error < 0.5, "fantasy error {fantasy_error}");
}

fn tiny(
    device: &Device,
) -> (
    Tensor<2>,
    burn::tensor::Tensor<1, burn::tensor::Int>,
    UpDownDbn,
) {
    let (x, y) = two_blocks(60, 3, device);
    let net = super::random_net(&[12, 8, 6], 2, 0.1, 3, device);
    (x, y, net)
}

#[test]
fn fantasies_follow_fantasy_every_and_progress_is_reported() {
    let device = Device::flex();
    let (x, y, mut net) = tiny(&device);
    let mut cfg = small_config();
    cfg.epochs = 3;
    cfg.eval.picture_shape = Some([3, 4]);
    cfg.eval.fantasy_steps = 5;
    cfg.eval.fantasies_per_class = 4;
    cfg.eval.fantasy_start = FantasyStart::Data;
    let mut sink = VecSink::default();
    net.train(Examples::labelled(&x, &y), None, None, &cfg, &mut sink, 1)
        .unwrap();
    let pictures = artifacts(&sink);
    assert_eq!(pictures.len(), 1, "only after the last epoch");
    assert_eq!(pictures[0].0, "fantasies_epoch3.png");
    assert_eq!(png_size(&pictures[0].2), (4 * 5 + 1, 2 * 4 + 1));
    let progress: Vec<(u64, u64)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Progress { stage, done, total } if stage == "updown" => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(progress, vec![(1, 3), (2, 3), (3, 3)]);
    assert!(sink.series("valid_error").is_empty() && sink.series("test_error").is_empty());
}

/// Stops once `limit` progress events have been seen.
struct StopAfter {
    inner: VecSink,
    limit: usize,
    seen: Cell<usize>,
}

impl EventSink for StopAfter {
    fn emit(&mut self, event: Event) {
        if matches!(event, Event::Progress { .. }) {
            self.seen.set(self.seen.get() + 1);
        }
        self.inner.emit(event);
    }
    fn keep_going(&self) -> bool {
        self.seen.get() < self.limit
    }
}

#[test]
fn a_stop_request_ends_training_at_the_next_epoch_boundary() {
    let device = Device::flex();
    let (x, y, mut net) = tiny(&device);
    let mut cfg = small_config();
    cfg.epochs = 5;
    let mut sink = StopAfter {
        inner: VecSink::default(),
        limit: 2,
        seen: Cell::new(0),
    };
    let summary = net
        .train(Examples::labelled(&x, &y), None, None, &cfg, &mut sink, 1)
        .unwrap();
    assert_eq!(summary.epochs, 2);
    assert!(summary.stopped_early);
    assert_eq!(sink.inner.series("train_error").len(), 2);
    // Stopped during greedy pretraining: no model at all.
    let mut sink = StopAfter {
        inner: VecSink::default(),
        limit: 1,
        seen: Cell::new(0),
    };
    let err =
        UpDownDbn::fit(Examples::labelled(&x, &y), None, None, &cfg, &mut sink, 1).unwrap_err();
    assert!(matches!(err, UpDownError::Interrupted), "{err}");
}

#[test]
fn a_non_finite_parameter_is_a_divergence_naming_the_epoch() {
    let device = Device::flex();
    let (x, y, mut net) = tiny(&device);
    net.layers[0].generative_bias = net.layers[0].generative_bias.clone().add_scalar(f32::NAN);
    let err = net
        .train(
            Examples::labelled(&x, &y),
            None,
            None,
            &small_config(),
            &mut NullSink,
            1,
        )
        .unwrap_err();
    match err {
        UpDownError::Diverged { epoch, what } => {
            assert_eq!(epoch, 1);
            assert!(what.contains("layer 1"), "{what}");
        }
        e => panic!("expected a divergence, got {e}"),
    }
}

#[test]
fn bad_input_is_refused_with_errors_naming_the_key() {
    let device = Device::flex();
    let (x, y, net) = tiny(&device);
    let cfg = small_config();
    let run =
        |net: &UpDownDbn, train: Examples<'_>, valid: Option<Examples<'_>>, cfg: &UpDownConfig| {
            net.clone()
                .train(train, valid, None, cfg, &mut NullSink, 1)
                .unwrap_err()
                .to_string()
        };
    let good = Examples::labelled(&x, &y);
    let msg = run(
        &net,
        Examples {
            x: &x,
            labels: None,
        },
        None,
        &cfg,
    );
    assert!(
        msg.starts_with("labels:") && msg.contains("training split has no labels"),
        "{msg}"
    );
    let msg = run(
        &net,
        good,
        Some(Examples {
            x: &x,
            labels: None,
        }),
        &cfg,
    );
    assert!(msg.contains("validation split has no labels"), "{msg}");
    let short = y.clone().narrow(0, 0, 59);
    let msg = run(&net, Examples::labelled(&x, &short), None, &cfg);
    assert!(
        msg.starts_with("labels:") && msg.contains("59 labels for 60"),
        "{msg}"
    );
    let big = labels(&[0, 1, 2, 1].repeat(15), &device);
    let msg = run(&net, Examples::labelled(&x, &big), None, &cfg);
    assert!(
        msg.contains("label 2") && msg.contains("classes is 2"),
        "{msg}"
    );
    let msg = run(
        &net,
        good,
        None,
        &UpDownConfig {
            classes: 3,
            ..cfg.clone()
        },
    );
    assert!(
        msg.contains("classes is 3 but the DBN has 2 label units"),
        "{msg}"
    );
    let msg = run(
        &net,
        good,
        None,
        &UpDownConfig {
            layers: vec![8, 7],
            ..cfg.clone()
        },
    );
    assert!(
        msg.starts_with("layers:") && msg.contains("[12, 8, 6]"),
        "{msg}"
    );
    let wide = Tensor::cat(vec![x.clone(), x.clone()], 1);
    let msg = run(&net, Examples::labelled(&wide, &y), None, &cfg);
    assert!(msg.contains("expected 12, got 24"), "{msg}");
    let mut pictures = cfg.clone();
    pictures.eval.picture_shape = Some([28, 28]);
    let msg = run(&net, good, None, &pictures);
    assert!(
        msg.contains("eval.picture_shape [28, 28] has 784 pixels"),
        "{msg}"
    );
    let checks: [(UpDownConfig, &str); 5] = [
        (
            UpDownConfig {
                layers: vec![8],
                ..cfg.clone()
            },
            "layers: [8] has 1 entries",
        ),
        (
            UpDownConfig {
                classes: 1,
                ..cfg.clone()
            },
            "classes must be at least 2",
        ),
        (
            UpDownConfig {
                lr: 0.0,
                ..cfg.clone()
            },
            "lr must be a positive number",
        ),
        (
            UpDownConfig {
                cd_k: 0,
                ..cfg.clone()
            },
            "cd_k must be at least 1",
        ),
        (
            UpDownConfig {
                top: TopConfig {
                    lr: -1.0,
                    ..cfg.top.clone()
                },
                ..cfg.clone()
            },
            "top.lr must be a positive number",
        ),
    ];
    for (bad, want) in checks {
        let msg = bad.validate().unwrap_err().to_string();
        assert!(msg.contains(want), "{msg} lacks {want}");
    }
}

#[test]
fn the_config_reads_from_json_with_defaults_and_refuses_unknown_keys() {
    let cfg: UpDownConfig =
        serde_json::from_str(r#"{"layers": [50, 60], "eval": {"fantasy_every": 2}}"#).unwrap();
    assert_eq!(cfg.layers, vec![50, 60]);
    assert_eq!(cfg.classes, 10);
    assert_eq!(cfg.eval.fantasy_every, 2);
    assert_eq!(cfg.eval.fantasy_steps, 1000);
    cfg.validate().unwrap();
    let err = serde_json::from_str::<UpDownConfig>(r#"{"layerz": [5]}"#).unwrap_err();
    assert!(err.to_string().contains("layerz"), "{err}");
}
