//! Backprop on two Gaussian blobs, seeding, and exact evaluation.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::model::linear_from;
use super::*;
use crate::data::Labelled;
use crate::events::VecSink;
use crate::rbm::tests::assert_close;

/// Two Gaussian blobs: a net must separate them almost perfectly.
/// `n` examples of 6 inputs in [−1, 1] and 3 classes, the same every time.
pub(super) fn batch(n: usize, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let x: Vec<f32> = (0..n * 6)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let y: Vec<i64> = (0..n as i64).map(|i| i % 3).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 6]), device),
        Tensor::from_data(TensorData::new(y, [n]), device),
    )
}

/// Every weight and bias of `model`, layer by layer, in one list.
pub(super) fn parameters(model: &Mlp) -> Vec<f64> {
    let mut all = Vec::new();
    for layer in &model.layers {
        all.extend(crate::eval::to_vec(layer.weight.val()));
        all.extend(layer.bias.iter().flat_map(|b| crate::eval::to_vec(b.val())));
    }
    all.into_iter().map(f64::from).collect()
}

fn blobs(n: usize, seed: u64, device: &Device) -> Labelled {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = Normal::new(0.0f32, 0.5).unwrap();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let c = (i % 2) as u32;
        let centre = if c == 0 { -1.0 } else { 1.0 };
        x.extend([centre + d.sample(&mut rng), -centre + d.sample(&mut rng)]);
        y.push(c);
    }
    Labelled::from_host(&harmonium_data::Matrix::new(n, 2, x), &y, device)
}

#[test]
fn backprop_separates_two_blobs_and_reports_every_epoch() {
    let device = Device::flex();
    let (tr, va, te) = (
        blobs(400, 1, &device),
        blobs(200, 2, &device),
        blobs(200, 3, &device),
    );
    let cfg = MlpConfig {
        hidden: vec![8],
        epochs: 5,
        batch_size: 20,
        lr: 0.5,
        ..Default::default()
    };
    let mut sink = VecSink::default();
    let model = Mlp::random(&[2, 8, 2], None, 7, &device);
    let (before_loss, _) = evaluate(&model, &te, cfg.activation);
    let (_, s) = train(
        model,
        &Splits {
            train: &tr,
            valid: &va,
            test: &te,
        },
        &cfg,
        7,
        "mlp",
        &mut sink,
    )
    .unwrap();
    assert_eq!(sink.series("valid_error").len(), 5);
    assert!(s.best_test_error < 0.05, "test error {}", s.best_test_error);
    let after_loss = sink.series("test_loss").last().unwrap().1;
    assert!(
        after_loss < before_loss * 0.5,
        "{before_loss} -> {after_loss}"
    );
}

#[test]
fn same_seed_gives_the_same_curve() {
    let device = Device::flex();
    let (tr, va) = (blobs(200, 1, &device), blobs(100, 2, &device));
    let cfg = MlpConfig {
        hidden: vec![4],
        epochs: 2,
        batch_size: 10,
        ..Default::default()
    };
    let run = |seed| {
        let mut sink = VecSink::default();
        let model = Mlp::random(&[2, 4, 2], None, seed, &device);
        train(
            model,
            &Splits {
                train: &tr,
                valid: &va,
                test: &va,
            },
            &cfg,
            seed,
            "mlp",
            &mut sink,
        )
        .unwrap();
        sink.series("train_loss")
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn evaluate_counts_errors_exactly() {
    let device = Device::flex();
    // One layer 2 → 2 with identity weights: predicts the larger coordinate.
    let w = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0], [2, 2]),
        &device,
    );
    let model = Mlp {
        layers: vec![linear_from(w, Tensor::zeros([2], &device), &device)],
    };
    let x = harmonium_data::Matrix::new(4, 2, vec![1.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 3.0]);
    let data = Labelled::from_host(&x, &[0, 1, 1, 1], &device);
    let (loss, err) = evaluate(&model, &data, Activation::Sigmoid);
    assert!((err - 0.25).abs() < 1e-12);
    let expect = [
        (1.0f64, 0.0f64, 0usize),
        (0.0, 1.0, 1),
        (2.0, 0.0, 1),
        (0.0, 3.0, 1),
    ]
    .iter()
    .map(|&(a, b, c)| {
        let z = [a, b];
        (a.exp() + b.exp()).ln() - z[c]
    })
    .sum::<f64>()
        / 4.0;
    assert!((loss - expect).abs() < 1e-5, "{loss} vs {expect}");
}

/// Evaluation (no gradient) takes the vectorized logistic, training burn's `sigmoid`: the two
/// give the same outputs.
#[test]
fn the_evaluation_logistic_equals_the_training_sigmoid() {
    use burn::module::Module;
    let device = Device::flex();
    let model = Mlp::random(&[6, 5, 4, 3], Some(2.0), 9, &device);
    let x: Vec<f32> = (0..60)
        .map(|i| ((i * 31 % 89) as f32 / 9.0) - 5.0)
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(x, [10, 6]), &device);
    let plain = crate::eval::to_vec(model.forward(x.clone(), Activation::Sigmoid));
    let ad = device.autodiff();
    let trained = model.train().fork(&ad);
    let graded = crate::eval::to_vec(
        trained
            .forward(x.to_device(&ad), Activation::Sigmoid)
            .inner(),
    );
    for (p, g) in plain.iter().zip(&graded) {
        assert!((p - g).abs() < 1e-5 * g.abs().max(1.0), "{p} vs {g}");
    }
}

/// Fine-tuning stopped after 3 of 8 epochs and continued from the state it saved then (SGD
/// velocity, order, learning-rate decay, the best net so far) ends with the nets and figures of
/// one that never stopped.
#[test]
fn fine_tuning_continued_from_its_saved_state_equals_one_that_never_stopped() {
    continued_equals_uninterrupted(Optimizer::Sgd, 0.3);
}

/// The same with Adam, whose state (burn's optimizer record, moments and step count) is saved
/// with the parameter ids it is keyed by.
#[test]
fn fine_tuning_with_adam_continued_from_its_saved_state_equals_one_that_never_stopped() {
    continued_equals_uninterrupted(Optimizer::Adam, 0.01);
}

fn continued_equals_uninterrupted(optimizer: Optimizer, lr: f64) {
    use crate::resume::KeepingStates;
    let device = Device::flex();
    let (tr, va, te) = (
        blobs(400, 1, &device),
        blobs(200, 2, &device),
        blobs(200, 3, &device),
    );
    let splits = Splits {
        train: &tr,
        valid: &va,
        test: &te,
    };
    let cfg = MlpConfig {
        hidden: vec![8],
        epochs: 8,
        batch_size: 20,
        lr,
        lr_decay: 0.8,
        momentum: 0.9,
        optimizer,
        ..Default::default()
    };
    let start = || Mlp::random(&[2, 8, 2], None, 7, &device);
    let mut whole_sink = KeepingStates::default();
    let (whole, whole_summary) = train(start(), &splits, &cfg, 4, "mlp", &mut whole_sink).unwrap();
    let mut first = KeepingStates {
        stop_after: Some(3),
        ..Default::default()
    };
    let (_, s) = train(start(), &splits, &cfg, 4, "mlp", &mut first).unwrap();
    assert!(s.interrupted && s.epochs_run == 3, "{s:?}");
    let state = first
        .saved
        .remove("mlp")
        .expect("a state saved under `mlp`");
    let mut second = KeepingStates {
        given: [("mlp".to_string(), state)].into(),
        ..Default::default()
    };
    let (resumed, summary) = train(start(), &splits, &cfg, 4, "mlp", &mut second).unwrap();
    assert_eq!(second.epochs, 5, "only the five missing epochs ran");
    assert_eq!(summary, whole_summary);
    for (a, b) in resumed.layers.iter().zip(&whole.layers) {
        assert_eq!(a.weight.val().into_data(), b.weight.val().into_data());
    }
    let tail = |sink: &KeepingStates| sink.events.series("valid_loss")[3..].to_vec();
    assert_eq!(second.events.series("valid_loss"), tail(&whole_sink));
}

/// A training set of 401 copies of one example, in mini-batches of 400: the second mini-batch
/// has one row, the path that takes burn's backward pass (the parameters tracked again after
/// the fused update left them untracked). Every mini-batch's mean gradient is that example's,
/// so the epoch is two SGD steps on it, which burn's own optimizer gives.
#[test]
fn a_one_row_mini_batch_takes_the_same_sgd_step() {
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::momentum::MomentumConfig;
    use burn::optim::{GradientsParams, SgdConfig};
    let device = Device::flex();
    let (x, label) = ([0.3f32, -0.7], 1u32);
    let copies = Labelled::from_host(
        &harmonium_data::Matrix::new(401, 2, x.repeat(401)),
        &[label; 401],
        &device,
    );
    let va = blobs(50, 2, &device);
    let cfg = MlpConfig {
        hidden: vec![5],
        epochs: 1,
        batch_size: 400,
        lr: 0.5,
        momentum: 0.9,
        weight_decay: 0.01,
        ..Default::default()
    };
    let start = || Mlp::random(&[2, 5, 2], None, 3, &device);
    let splits = Splits {
        train: &copies,
        valid: &va,
        test: &va,
    };
    let (trained, _) = train(start(), &splits, &cfg, 1, "mlp", &mut VecSink::default()).unwrap();

    let ad = device.clone().autodiff();
    let ce = CrossEntropyLossConfig::new().init(&ad);
    let mut sgd = SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
        ))
        .with_weight_decay(Some(WeightDecayConfig::new(0.01)))
        .init();
    let xs = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [1, 2]), &ad);
    let ys = Tensor::<1, Int>::from_data(TensorData::new(vec![label as i64], [1]), &ad);
    let mut reference = start().train().fork(&ad);
    for _ in 0..2 {
        let loss = ce.forward(reference.forward(xs.clone(), cfg.activation), ys.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &reference);
        reference = sgd.step(0.5, reference, grads);
    }
    let start_w = crate::eval::to_vec(start().layers[0].weight.val());
    assert_close(
        &parameters(&trained),
        &parameters(&reference),
        1e-5,
        "parameters",
    );
    // The steps moved the weights (a test of a no-op would pass the comparison too).
    let moved = crate::eval::to_vec(trained.layers[0].weight.val());
    let shift: f32 = moved.iter().zip(&start_w).map(|(a, b)| (a - b).abs()).sum();
    assert!(shift > 1e-2, "the weights moved by {shift}");
}
