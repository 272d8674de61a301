//! Greedy pretraining of a DBN with label units (Hinton, Osindero & Teh 2006, §4): the RBMs of
//! the directed layers are trained one after the other as a [`Dbn`] (each on the hidden
//! probabilities of the one below), then the top-level associative memory is trained on the
//! penultimate layer's probabilities `x` with the labels, by CD-k with the labels clamped
//! ([`super::top`]).
//!
//! The associative memory starts with `W ~ N(0, init_sigma²)`, zero top biases, penultimate
//! biases `log(p_i/(1−p_i))` of the mean activities p_i of x (clamped to [1e-3, 1−1e-3]) and
//! label biases `log f_k` of the class frequencies f_k (floored at 1e-3).
//!
//! Metrics of the associative memory's training at step = epoch (`top/` in front when run by
//! [`pretrain`]): `epoch_seconds`, `lr`, `momentum`, `recon_error` (of the penultimate units
//! after one step, [`TopRbm::reconstruction_error`]) and `train_error` (the free-energy
//! classifier's error on the first `max_examples` examples); `Progress { stage: "rbm" }` (`top rbm` when prefixed).

use std::time::Instant;

use burn::tensor::{Int, Tensor};

use super::top::one_hot;
use super::update::Rule;
use super::{Examples, TopConfig, TopRbm, UpDownConfig, UpDownDbn, UpDownError};
use crate::data::{head, select_rows};
use crate::dbn::{Dbn, PassUp};
use crate::events::Recorder;
use crate::events::{Event, EventSink, Prefixed};
use crate::rbm::HostDraws;
use crate::rbm::sampling_draws;

/// What greedy training of the associative memory did.
#[derive(Debug, Clone, PartialEq)]
pub struct TopSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the last epoch.
    pub stopped_early: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

impl TopRbm {
    /// A new associative memory for penultimate states `x` (`[examples, n_x]`) with their
    /// labels, biases set from them (module doc), trained with [`TopRbm::train`].
    pub fn fit(
        x: &Tensor<2>,
        labels: &Tensor<1, Int>,
        classes: usize,
        top: usize,
        cfg: &TopConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(TopRbm, TopSummary), UpDownError> {
        cfg.validate()?;
        if top == 0 {
            return Err(UpDownError::Layers(
                "the top layer needs at least 1 unit".into(),
            ));
        }
        let labels = Examples::labelled(x, labels).checked("training", x.dims()[1], classes)?;
        let device = x.device();
        let mut init = HostDraws::new(seed);
        let mut rbm = TopRbm::new(
            x.dims()[1],
            classes,
            top,
            cfg.init_sigma,
            &device,
            &mut init,
        );
        rbm.init_biases_from_data(x, labels);
        let summary = rbm.train(x, labels, cfg, sink, seed)?;
        Ok((rbm, summary))
    }

    /// Sets the penultimate biases to `log(p/(1−p))` of the data's mean activities and the
    /// label biases to the log class frequencies.
    pub fn init_biases_from_data(&mut self, x: &Tensor<2>, labels: &Tensor<1, Int>) {
        let n = x.dims()[0].max(1) as f64;
        let p: Tensor<1> = x.clone().sum_dim(0).squeeze_dim(0).div_scalar(n);
        let p = p.clamp(1e-3, 1.0 - 1e-3);
        let b_x = p.clone().log() - p.neg().add_scalar(1.0).log();
        let freq: Tensor<1> = one_hot(labels.clone(), self.classes)
            .sum_dim(0)
            .squeeze_dim(0)
            .div_scalar(n);
        let b_y = freq.clamp_min(1e-3).log();
        self.rbm.visible_bias = Tensor::cat(vec![b_x, b_y], 0);
    }

    /// Trains this associative memory by CD-k with the labels clamped on penultimate states
    /// `x` and their labels for `cfg.epochs` epochs (example order and Gibbs steps seeded with
    /// `seed` on the CPU). Emits the metrics of the module doc; stops at an epoch boundary when
    /// `sink.keep_going()` is false.
    pub fn train(
        &mut self,
        x: &Tensor<2>,
        labels: &Tensor<1, Int>,
        cfg: &TopConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<TopSummary, UpDownError> {
        cfg.validate()?;
        let labels =
            Examples::labelled(x, labels).checked("training", self.penultimate(), self.classes)?;
        let n = x.dims()[0];
        if n == 0 {
            return Err(UpDownError::EmptyData { split: "training" });
        }
        let started = Instant::now();
        let device = self.rbm.device();
        let mut order = HostDraws::new(seed ^ 0x9E37_79B9_7F4A_7C15);
        device.seed(seed);
        let mut draws = sampling_draws(&device, seed.wrapping_add(0xD1B5_4A32_D192_ED03));
        let mut eval_draws = sampling_draws(&device, seed.wrapping_add(0x94D0_49BB_1331_11EB));
        let y_all = one_hot(labels.clone(), self.classes);
        let (x_eval, y_eval) = (head(x, cfg.max_examples), head(&y_all, cfg.max_examples));
        let labels_eval = head(labels, cfg.max_examples);
        let mut inc_w = self.rbm.weights.zeros_like();
        let mut inc_b = self.rbm.visible_bias.zeros_like();
        let mut inc_c = self.rbm.hidden_bias.zeros_like();
        let mut rec = Recorder {
            sink,
            last: Vec::new(),
        };
        let mut epochs = 0;
        let mut stopped_early = false;
        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            let rule = Rule {
                lr: cfg.lr,
                momentum: cfg.momentum.at(epoch),
                weight_cost: cfg.weight_cost,
            };
            for rows in order.permutation(n).chunks(cfg.batch_size) {
                let (xb, yb) = (select_rows(x, rows), select_rows(&y_all, rows));
                let s = self.cd_statistics(xb, yb, cfg.cd_k, &mut *draws);
                rule.apply(&mut self.rbm.weights, &mut inc_w, s.delta_w, true);
                rule.apply(&mut self.rbm.visible_bias, &mut inc_b, s.delta_b, false);
                rule.apply(&mut self.rbm.hidden_bias, &mut inc_c, s.delta_c, false);
            }
            let e = epoch + 1;
            epochs = e;
            if let Some(what) = self.first_non_finite() {
                return Err(UpDownError::Diverged { epoch: e, what });
            }
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64())?;
            rec.metric("lr", e, rule.lr)?;
            rec.metric("momentum", e, rule.momentum)?;
            let recon = self.reconstruction_error(x_eval.clone(), y_eval.clone(), &mut *eval_draws);
            rec.metric("recon_error", e, recon)?;
            rec.metric("train_error", e, self.error_rate(&x_eval, &labels_eval))?;
            rec.sink.emit(Event::Progress {
                stage: "rbm".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }
        Ok(TopSummary {
            epochs,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    /// The fraction of the rows of `x` (penultimate states) whose `argmin_k F(x, k)` is not
    /// their label.
    pub fn error_rate(&self, x: &Tensor<2>, labels: &Tensor<1, Int>) -> f64 {
        let n = x.dims()[0];
        let wrong: i64 = self
            .classify(x.clone())
            .not_equal(labels.clone())
            .int()
            .sum()
            .into_scalar();
        wrong as f64 / n.max(1) as f64
    }
}

/// Greedy pretraining from scratch: the RBMs of `cfg.pretraining_layers()` as a [`Dbn`] (their
/// events prefixed `layer1`, `layer2`, …; layer i seeded with `seed + i`), then the
/// associative memory with [`pretrain_top`] (seed `seed + L−1`). `valid` is passed to the RBMs
/// for their overfitting metrics. [`UpDownError::Interrupted`] when the sink asks to stop.
pub fn pretrain(
    train: Examples<'_>,
    valid: Option<&Tensor<2>>,
    cfg: &UpDownConfig,
    sink: &mut dyn EventSink,
    seed: u64,
) -> Result<UpDownDbn, UpDownError> {
    cfg.validate()?;
    train.checked("training", train.x.dims()[1], cfg.classes)?;
    if train.is_empty() {
        return Err(UpDownError::EmptyData { split: "training" });
    }
    let lower = cfg.pretraining_layers();
    let stack = Dbn::pretrain(train.x, valid, &lower, PassUp::Probabilities, sink, seed)?;
    if stack.layers.len() < lower.len() || !sink.keep_going() {
        return Err(UpDownError::Interrupted);
    }
    pretrain_top(&stack, train, cfg, sink, seed + lower.len() as u64)
}

/// Trains the associative memory (`cfg.top`, `cfg.classes` label units, the last of
/// `cfg.layers` top units) on the up-pass `stack.up(x)` of the training examples with their
/// labels (events prefixed `top`), and builds the DBN on `stack`, e.g. a pretrained stack from
/// the stage cache. `stack` must be the directed layers of `cfg.layers`.
pub fn pretrain_top(
    stack: &Dbn,
    train: Examples<'_>,
    cfg: &UpDownConfig,
    sink: &mut dyn EventSink,
    seed: u64,
) -> Result<UpDownDbn, UpDownError> {
    cfg.validate()?;
    let sizes = stack.sizes();
    let below_top = &cfg.layers[..cfg.layers.len() - 1];
    if sizes.get(1..) != Some(below_top) {
        return Err(UpDownError::Layers(format!(
            "{:?} needs a pretrained stack with hidden layers {below_top:?} below the top, but \
             the stack's layers are {sizes:?} (visible first)",
            cfg.layers
        )));
    }
    let labels = train.checked("training", sizes[0], cfg.classes)?;
    let x = stack.up(train.x.clone());
    let mut top_sink = Prefixed {
        inner: &mut *sink,
        prefix: "top".into(),
    };
    let (top, summary) = TopRbm::fit(
        &x,
        labels,
        cfg.classes,
        cfg.top_size(),
        &cfg.top,
        &mut top_sink,
        seed,
    )?;
    if summary.stopped_early {
        return Err(UpDownError::Interrupted);
    }
    UpDownDbn::from_stack(stack, top)
}
