//! Feedforward classifier trained by backpropagation (paper Fig. 1).
//!
//! Hidden layers `h_l = f(h_{l-1} W_l + c_l)` with `f` the logistic σ (or tanh, ReLU), a softmax
//! output `p(y|x) = softmax(h_L W_out + c_out)`, trained on the cross-entropy `−log p(y|x)` by
//! mini-batch gradient descent: `Δθ ← μ Δθ − ε (∂E/∂θ + λ θ)` (classic momentum μ, weight decay λ;
//! or Adam). Gradients come from burn's autodiff. This is both the random-init baseline and the
//! fine-tuning engine for pretrained stacks: [`Mlp::from_layers`] builds it from given weights.
//!
//! Early stopping keeps the parameters of the epoch with the lowest validation error; the
//! `best_*` metrics report that epoch.

use burn::module::{Module, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};

use crate::data::Labelled;
use crate::events::{Event, EventSink};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Sigmoid,
    Tanh,
    Relu,
}

impl Activation {
    fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Sigmoid => sigmoid(x),
            Activation::Tanh => x.tanh(),
            Activation::Relu => relu(x),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// Stochastic gradient descent with classic (undampened) momentum.
    #[default]
    Sgd,
    Adam,
}

/// Where the hidden layers' initial weights come from (the runner acts on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Random weights ([`Mlp::random`]): the baseline.
    #[default]
    Random,
    /// The recognition weights of a greedily pretrained stack of RBMs ([`Mlp::from_layers`]).
    Pretrained,
}

/// The `mlp:` section: architecture and backprop training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpConfig {
    /// Hidden layer sizes, bottom to top, e.g. `[500, 500, 2000]`.
    pub hidden: Vec<usize>,
    /// `random` or `pretrained` (needs a `pretrain:` section and sigmoid units).
    pub init: Init,
    pub activation: Activation,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: Optimizer,
    /// Learning rate ε.
    pub lr: f64,
    /// Learning rate multiplier applied after every epoch (1 = constant).
    pub lr_decay: f64,
    /// Momentum μ (SGD only).
    pub momentum: f64,
    /// L2 weight decay λ (coupled: added to the gradient).
    pub weight_decay: f64,
    /// Standard deviation of Gaussian random initial weights; when absent, Glorot uniform.
    pub init_std: Option<f64>,
    /// Stop when the validation error has not improved for this many epochs.
    pub patience: Option<usize>,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: vec![500],
            init: Init::Random,
            activation: Activation::Sigmoid,
            epochs: 20,
            batch_size: 100,
            optimizer: Optimizer::Sgd,
            lr: 0.1,
            lr_decay: 1.0,
            momentum: 0.9,
            weight_decay: 0.0,
            init_std: None,
            patience: None,
        }
    }
}

impl MlpConfig {
    /// Checks the numbers a typo could make impossible.
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden.contains(&0) {
            return Err(format!(
                "hidden layer sizes must be positive, got {:?}",
                self.hidden
            ));
        }
        if self.init == Init::Pretrained && self.activation != Activation::Sigmoid {
            return Err(
                "init: pretrained needs activation: sigmoid (the units of the RBMs)".into(),
            );
        }
        if self.init == Init::Pretrained && self.hidden.is_empty() {
            return Err("init: pretrained needs at least one hidden layer".into());
        }
        if self.batch_size == 0 {
            return Err("batch_size must be positive".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!("lr must be a positive number, got {}", self.lr));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!("momentum must be in [0, 1), got {}", self.momentum));
        }
        if self.weight_decay < 0.0 || self.lr_decay <= 0.0 {
            return Err("weight_decay must be ≥ 0 and lr_decay > 0".into());
        }
        Ok(())
    }
}

/// A stack of affine layers; every layer but the last is followed by the activation.
#[derive(Module, Debug)]
pub struct Mlp {
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// Random initial weights drawn on the host from `seed` (so that they do not depend on how
    /// trials share a device), zero biases.
    pub fn random(sizes: &[usize], init_std: Option<f64>, seed: u64, device: &Device) -> Mlp {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d6c_705f_696e_6974);
        let layers = sizes
            .windows(2)
            .map(|w| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let values: Vec<f32> = match init_std {
                    Some(std) => {
                        let d = Normal::new(0.0, std as f32).expect("finite std");
                        (0..fan_in * fan_out).map(|_| d.sample(&mut rng)).collect()
                    }
                    None => {
                        let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
                        let d = Uniform::new(-a, a).expect("a > 0");
                        (0..fan_in * fan_out).map(|_| d.sample(&mut rng)).collect()
                    }
                };
                let weight =
                    Tensor::<2>::from_data(TensorData::new(values, [fan_in, fan_out]), device);
                linear_from(weight, Tensor::zeros([fan_out], device), device)
            })
            .collect();
        Mlp { layers }
    }

    /// Builds the net from given hidden layers `(W [in, out], c [out])` and a new output layer
    /// with random weights (for fine-tuning a pretrained stack).
    pub fn from_layers(
        hidden: Vec<(Tensor<2>, Tensor<1>)>,
        classes: usize,
        init_std: Option<f64>,
        seed: u64,
        device: &Device,
    ) -> Mlp {
        let top = hidden
            .last()
            .map(|(w, _)| w.dims()[1])
            .expect("at least one layer");
        let mut layers: Vec<Linear> = hidden
            .into_iter()
            .map(|(w, c)| linear_from(w, c, device))
            .collect();
        let out = Mlp::random(&[top, classes], init_std, seed, device);
        layers.extend(out.layers);
        Mlp { layers }
    }

    /// Activities of the last hidden layer (the features the output layer sees).
    pub fn hidden_features(&self, x: Tensor<2>, activation: Activation) -> Tensor<2> {
        let hidden = &self.layers[..self.layers.len() - 1];
        hidden
            .iter()
            .fold(x, |h, layer| activation.apply(layer.forward(h)))
    }

    /// Class scores (logits).
    pub fn forward(&self, x: Tensor<2>, activation: Activation) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let a = layer.forward(h);
            if i < last { activation.apply(a) } else { a }
        })
    }
}

fn linear_from(weight: Tensor<2>, bias: Tensor<1>, device: &Device) -> Linear {
    let [i, o] = weight.dims();
    let mut layer = LinearConfig::new(i, o).init(device);
    layer.weight = Param::from_tensor(weight);
    layer.bias = Some(Param::from_tensor(bias));
    layer
}

/// Loss and error rate of a labelled set, computed in batches with no gradient graph.
pub fn evaluate(model: &Mlp, data: &Labelled, activation: Activation) -> (f64, f64) {
    let n = data.len();
    let device = data.x.device();
    let ce = CrossEntropyLossConfig::new().init(&device);
    let mut loss_sum = Tensor::<1>::zeros([1], &device);
    let mut wrong = Tensor::<1, Int>::zeros([1], &device);
    let chunk = 2000;
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let x = data.x.clone().narrow(0, start, len);
        let y = data.y.clone().narrow(0, start, len);
        let logits = model.forward(x, activation);
        loss_sum = loss_sum + ce.forward(logits.clone(), y.clone()).mul_scalar(len as f32);
        let pred = logits.argmax(1).squeeze_dim::<1>(1);
        wrong = wrong + pred.not_equal(y).int().sum();
        start += len;
    }
    let loss: f32 = loss_sum.into_scalar();
    let wrong: i64 = wrong.into_scalar();
    (loss as f64 / n as f64, wrong as f64 / n as f64)
}

/// log p(y | x) of every class for every row, read back to the host (rows × classes), e.g. to
/// sum frame log-probabilities over an utterance.
pub fn log_probabilities(model: &Mlp, data: &Labelled, activation: Activation) -> Vec<f32> {
    let n = data.len();
    let mut out = Vec::new();
    let chunk = 2000;
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let logits = model.forward(data.x.clone().narrow(0, start, len), activation);
        let logp = burn::tensor::activation::log_softmax(logits, 1);
        out.extend(logp.into_data().try_to_vec::<f32>().expect("f32 tensor"));
        start += len;
    }
    out
}

/// Data for supervised training, on the plain (non-autodiff) device.
pub struct Splits<'a> {
    pub train: &'a Labelled,
    pub valid: &'a Labelled,
    pub test: &'a Labelled,
}

/// What training ended with: the parameters of the best validation epoch and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpSummary {
    pub best_epoch: usize,
    pub best_valid_error: f64,
    pub best_test_error: f64,
    pub epochs_run: usize,
    pub stopped_early: bool,
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MlpError {
    #[error("invalid mlp config: {0}")]
    Config(String),
    #[error("training diverged at epoch {epoch}: {what} is not finite (try a smaller lr)")]
    Diverged { epoch: usize, what: String },
}

/// Trains `model` by backprop. Emits per-epoch `train_loss`, `train_error`, `valid_loss`,
/// `valid_error`, `test_loss`, `test_error`, `lr`, and at the end `best_epoch`,
/// `best_valid_error`, `best_test_error`. Returns the best-validation model.
pub fn train(
    model: Mlp,
    data: &Splits,
    cfg: &MlpConfig,
    seed: u64,
    stage: &str,
    sink: &mut dyn EventSink,
) -> Result<(Mlp, MlpSummary), MlpError> {
    cfg.validate().map_err(MlpError::Config)?;
    let plain = data.train.x.device();
    let ad = plain.clone().autodiff();
    let mut model = model.train().fork(&ad);
    let mut optim = match cfg.optimizer {
        Optimizer::Sgd => SgdConfig::new()
            .with_momentum((cfg.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(cfg.momentum)
                    .with_dampening(0.0)
            }))
            .with_weight_decay(
                (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32)),
            )
            .init(),
        Optimizer::Adam => AdamConfig::new()
            .with_weight_decay(
                (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32)),
            )
            .init(),
    };
    let ce = CrossEntropyLossConfig::new().init(&ad);
    let train_x = data.train.x.clone().to_device(&ad);
    let train_y = data.train.y.clone().to_device(&ad);
    let n = data.train.len();
    let mut order: Vec<i64> = (0..n as i64).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7368_7566_666c_6521);
    let mut lr = cfg.lr;
    let mut best: Option<(usize, f64, f64, Mlp)> = None;
    let mut since_best = 0;
    let mut summary = MlpSummary {
        best_epoch: 0,
        best_valid_error: f64::NAN,
        best_test_error: f64::NAN,
        epochs_run: 0,
        stopped_early: false,
        interrupted: false,
    };
    for epoch in 1..=cfg.epochs {
        if !sink.keep_going() {
            summary.interrupted = true;
            break;
        }
        order.shuffle(&mut rng);
        let perm = Tensor::<1, Int>::from_data(TensorData::new(order.clone(), [n]), &ad);
        let mut start = 0;
        while start < n {
            let len = cfg.batch_size.min(n - start);
            let idx = perm.clone().narrow(0, start, len);
            let x = train_x.clone().select(0, idx.clone());
            let y = train_y.clone().select(0, idx);
            let loss = ce.forward(model.forward(x, cfg.activation), y);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            start += len;
        }
        let valid_model = model.valid();
        let (train_loss, train_error) = evaluate(&valid_model, data.train, cfg.activation);
        let (valid_loss, valid_error) = evaluate(&valid_model, data.valid, cfg.activation);
        let (test_loss, test_error) = evaluate(&valid_model, data.test, cfg.activation);
        if !train_loss.is_finite() {
            return Err(MlpError::Diverged {
                epoch,
                what: "the training loss".into(),
            });
        }
        let step = epoch as u64;
        for (k, v) in [
            ("train_loss", train_loss),
            ("train_error", train_error),
            ("valid_loss", valid_loss),
            ("valid_error", valid_error),
            ("test_loss", test_loss),
            ("test_error", test_error),
            ("lr", lr),
        ] {
            sink.metric(k, step, v);
        }
        sink.emit(Event::Progress {
            stage: stage.into(),
            done: step,
            total: cfg.epochs as u64,
        });
        summary.epochs_run = epoch;
        if best.as_ref().is_none_or(|b| valid_error < b.1) {
            best = Some((epoch, valid_error, test_error, valid_model));
            since_best = 0;
        } else {
            since_best += 1;
        }
        if cfg.patience.is_some_and(|p| since_best >= p) {
            summary.stopped_early = true;
            break;
        }
        lr *= cfg.lr_decay;
    }
    let last = summary.epochs_run as u64;
    let model = match best {
        Some((epoch, valid_error, test_error, m)) => {
            summary.best_epoch = epoch;
            summary.best_valid_error = valid_error;
            summary.best_test_error = test_error;
            sink.metric("best_epoch", last, epoch as f64);
            sink.metric("best_valid_error", last, valid_error);
            sink.metric("best_test_error", last, test_error);
            m
        }
        None => model.valid(),
    };
    Ok((model, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::VecSink;

    /// Two Gaussian blobs: a net must separate them almost perfectly.
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
}
