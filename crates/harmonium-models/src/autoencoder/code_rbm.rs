//! The code layer's RBM (Hinton & Salakhutdinov 2006): binary visible units v and **linear**
//! hidden units h, real-valued with unit-variance Gaussian noise, so that the top of the stack
//! can use the whole real line for its code rather than a binary one.
//!
//! ```text
//! E(v, h) = −b·v + Σ_j (h_j − c_j)²/2 − vᵀWh
//! h_j | v ~ N(c_j + Σ_i v_i W_ij, 1)          (mean c + vW; a sample adds N(0, 1) noise)
//! p(v_i = 1 | h) = σ(b_i + Σ_j W_ij h_j)
//! ```
//!
//! **CD-1** (as `rbmhidlinear.m`): from a mini-batch v⁰,
//!
//! ```text
//! m⁰ = c + v⁰W                 positive statistics with the hidden means
//! h⁰ = m⁰ + ε,  ε ~ N(0, I)    the sampled hidden state drives the reconstruction
//! v¹ = σ(b + h⁰Wᵀ)             the reconstruction's probabilities (not sampled)
//! m¹ = c + v¹W                 negative statistics with the reconstruction's hidden means
//! S_W = ⟨v⁰ᵀ m⁰⟩ − ⟨v¹ᵀ m¹⟩,   S_b = ⟨v⁰⟩ − ⟨v¹⟩,   S_c = ⟨m⁰⟩ − ⟨m¹⟩   (⟨·⟩: batch means)
//! ```
//!
//! and the update of the binary RBMs ([`crate::rbm::MomentumUpdate`]):
//! `Δθ ← m·Δθ + lr·(S − wc·θ)` (weight cost on W only), `θ ← θ + Δθ`, with a learning rate
//! typically 10× smaller than for binary hidden units (the linear units' inputs are unbounded).
//!
//! The weights start N(0, init_sigma²), the hidden biases at 0 and the visible biases at the log
//! odds of the data's means (practical guide §8). The reconstruction error reported per epoch is
//! that of the deterministic reconstruction `σ(b + (c + vW)Wᵀ)`, summed over the visible units
//! and averaged over the examples.

use std::time::Instant;

use burn::tensor::{Device, Tensor};

use super::deep_record::DeepTrainSummary;
use super::deep_stack::StackLayer;
use super::{CodeRbmConfig, DeepAutoencoderError};
use crate::data::{head, select_rows};
use crate::events::Recorder;
use crate::events::{Event, EventSink};
use crate::rbm::sampling_draws;
use crate::rbm::{CdStatistics, Draws, HostDraws, Increments, MomentumUpdate, Rbm, VisibleUnits};

/// An RBM with binary visible units and linear (unit-variance Gaussian) hidden units.
#[derive(Debug, Clone)]
pub struct CodeRbm {
    /// W, b and c, held as a binary-visible [`Rbm`] for its visible conditional and its update;
    /// its hidden conditional is this type's (linear), never the logistic one.
    params: Rbm,
}

impl CodeRbm {
    /// An RBM with the given parameters: W [visible, hidden], b [visible], c [hidden].
    pub fn from_parts(weights: Tensor<2>, visible_bias: Tensor<1>, hidden_bias: Tensor<1>) -> Self {
        CodeRbm {
            params: Rbm {
                weights,
                visible_bias,
                hidden_bias,
                visible_units: VisibleUnits::Binary,
            },
        }
    }

    /// A new RBM with `W ~ N(0, init_sigma²)` from `draws` and zero biases.
    pub fn new(
        visible: usize,
        cfg: &CodeRbmConfig,
        device: &Device,
        draws: &mut dyn Draws,
    ) -> Result<CodeRbm, DeepAutoencoderError> {
        cfg.validate()?;
        if visible == 0 {
            return Err(DeepAutoencoderError::Config(
                "the code RBM needs at least 1 visible unit".into(),
            ));
        }
        let weights = draws
            .normal(&Tensor::zeros([visible, cfg.hidden], device))
            .mul_scalar(cfg.init_sigma);
        Ok(CodeRbm::from_parts(
            weights,
            Tensor::zeros([visible], device),
            Tensor::zeros([cfg.hidden], device),
        ))
    }

    /// W, [visible, hidden].
    pub fn weights(&self) -> &Tensor<2> {
        &self.params.weights
    }

    /// b, [visible].
    pub fn visible_bias(&self) -> &Tensor<1> {
        &self.params.visible_bias
    }

    /// c, [hidden].
    pub fn hidden_bias(&self) -> &Tensor<1> {
        &self.params.hidden_bias
    }

    pub fn visible(&self) -> usize {
        self.params.visible()
    }

    pub fn hidden(&self) -> usize {
        self.params.hidden()
    }

    /// The weights as one layer of a stack to unroll, marked linear.
    pub fn layer(&self) -> StackLayer {
        StackLayer {
            weights: self.params.weights.clone(),
            visible_bias: self.params.visible_bias.clone(),
            hidden_bias: self.params.hidden_bias.clone(),
            linear_hidden: true,
        }
    }

    /// `E[h | v] = c + vW`, [batch, hidden]: the code.
    pub fn hidden_means(&self, v: Tensor<2>) -> Tensor<2> {
        self.params.hidden_input(v)
    }

    /// A sample `h = c + vW + ε`, `ε ~ N(0, I)` from `draws`.
    pub fn sample_hidden(&self, v: Tensor<2>, draws: &mut dyn Draws) -> Tensor<2> {
        let m = self.hidden_means(v);
        let noise = draws.normal(&m);
        m + noise
    }

    /// `p(v_i = 1 | h) = σ(b_i + Σ_j W_ij h_j)`, [batch, visible].
    pub fn visible_probs(&self, h: Tensor<2>) -> Tensor<2> {
        self.params.visible_mean(h)
    }

    /// The deterministic reconstruction `σ(b + (c + vW)Wᵀ)`.
    pub fn reconstruct(&self, v: Tensor<2>) -> Tensor<2> {
        self.visible_probs(self.hidden_means(v))
    }

    /// `Σ_i (v_i − v̂_i)²` of the deterministic reconstruction, averaged over the rows of `v`.
    pub fn reconstruction_error(&self, v: &Tensor<2>) -> f64 {
        crate::eval::mean_over_rows(v, |x| {
            let d = x.clone() - self.reconstruct(x);
            d.square().sum_dim(1).squeeze_dim(1)
        })
    }

    /// The CD-1 statistics of the mini-batch `v0` (module doc), the hidden noise from `draws`
    /// (one normal draw shaped [batch, hidden]).
    pub fn cd1_statistics(&self, v0: Tensor<2>, draws: &mut dyn Draws) -> CdStatistics {
        let m0 = self.hidden_means(v0.clone());
        let noise = draws.normal(&m0);
        let v1 = self.visible_probs(m0.clone() + noise);
        let m1 = self.hidden_means(v1.clone());
        let n = v0.dims()[0] as f64;
        let mean =
            |t: &Tensor<2>| -> Tensor<1> { t.clone().sum_dim(0).squeeze_dim(0).div_scalar(n) };
        let visible_data_mean = mean(&v0);
        let hidden_data_mean = mean(&m0);
        let delta_b = visible_data_mean.clone() - mean(&v1);
        let delta_c = hidden_data_mean.clone() - mean(&m1);
        let delta_w = (v0.transpose().matmul(m0) - v1.transpose().matmul(m1)).div_scalar(n);
        CdStatistics {
            delta_w,
            delta_b,
            delta_c,
            hidden_data_mean,
            visible_data_mean,
        }
    }

    /// Builds a code RBM for `data` (weights from a host generator seeded with `seed`, visible
    /// biases from the data's means) and trains it with [`CodeRbm::train`].
    pub fn fit(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &CodeRbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(CodeRbm, DeepTrainSummary), DeepAutoencoderError> {
        cfg.validate()?;
        let device = data.device();
        let mut rbm = CodeRbm::new(data.dims()[1], cfg, &device, &mut HostDraws::new(seed))?;
        check_binary_range("the training data", data)?;
        if data.dims()[0] == 0 {
            return Err(DeepAutoencoderError::EmptyData);
        }
        let p: Tensor<1> = data
            .clone()
            .mean_dim(0)
            .squeeze_dim(0)
            .clamp(1e-3, 1.0 - 1e-3);
        rbm.params.visible_bias = p.clone().log() - p.neg().add_scalar(1.0).log();
        let summary = rbm.train(data, valid, cfg, sink, seed)?;
        Ok((rbm, summary))
    }

    /// Trains this RBM on `data` ([examples, visible] in [0, 1]) by CD-1 for `cfg.epochs`
    /// epochs. Emits `recon_error` (and `recon_error_valid` with `valid`) at step 0, before the
    /// first update, and after every epoch, with `epoch_seconds`, `lr`, `momentum` and
    /// `Progress { stage: "code_rbm" }`; honours
    /// `sink.keep_going()` at every epoch boundary. On the CPU the noise comes from a host
    /// generator seeded with `seed` (elsewhere the device's, seeded with `seed`); the example
    /// order always from a host generator.
    pub fn train(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &CodeRbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<DeepTrainSummary, DeepAutoencoderError> {
        cfg.validate()?;
        if cfg.hidden != self.hidden() {
            return Err(DeepAutoencoderError::Config(format!(
                "hidden is {} but the code RBM has {} hidden units",
                cfg.hidden,
                self.hidden()
            )));
        }
        for (what, set) in [
            ("the training data", Some(data)),
            ("the validation data", valid),
        ] {
            if let Some(set) = set {
                if set.dims()[1] != self.visible() {
                    return Err(DeepAutoencoderError::Shape {
                        what: format!("{what}'s columns (the code RBM's visible units)"),
                        expected: self.visible(),
                        got: set.dims()[1],
                    });
                }
                check_binary_range(what, set)?;
            }
        }
        let n = data.dims()[0];
        if n == 0 {
            return Err(DeepAutoencoderError::EmptyData);
        }
        let started = Instant::now();
        let device = self.params.device();
        device.seed(seed);
        let mut order = HostDraws::new(seed ^ 0x636f_6465_5f72_626d);
        let mut noise = sampling_draws(&device, seed.wrapping_add(0xD1B5_4A32_D192_ED03));
        let train_eval = head(data, cfg.max_eval_examples);
        let valid_eval = valid
            .filter(|v| v.dims()[0] > 0)
            .map(|v| head(v, cfg.max_eval_examples));
        let mut inc = Increments::zeros(&self.params);
        let mut rec = Recorder::new(sink);
        rec.metric("recon_error", 0, self.reconstruction_error(&train_eval))?;
        if let Some(v) = &valid_eval {
            rec.metric("recon_error_valid", 0, self.reconstruction_error(v))?;
        }
        let initial_metrics = rec.last.clone();
        let mut epochs = 0;
        let mut stopped_early = false;
        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            let update = MomentumUpdate {
                lr: cfg.lr,
                momentum: cfg.momentum.at(epoch),
                weight_cost: cfg.weight_cost,
            };
            for rows in order.permutation(n).chunks(cfg.batch_size) {
                let s = self.cd1_statistics(select_rows(data, rows), &mut *noise);
                update.apply(&mut self.params, &mut inc, s);
            }
            let e = epoch + 1;
            epochs = e;
            let seconds = epoch_start.elapsed().as_secs_f64();
            rec.metric("recon_error", e, self.reconstruction_error(&train_eval))?;
            if let Some(v) = &valid_eval {
                rec.metric("recon_error_valid", e, self.reconstruction_error(v))?;
            }
            rec.metric("epoch_seconds", e, seconds)?;
            rec.metric("lr", e, update.lr)?;
            rec.metric("momentum", e, update.momentum)?;
            rec.sink.emit(Event::Progress {
                stage: "code_rbm".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }
        Ok(DeepTrainSummary {
            epochs,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            initial_metrics,
            final_metrics: rec.last,
        })
    }
}

/// Binary (or probability) inputs must lie in [0, 1].
pub(super) fn check_binary_range(what: &str, x: &Tensor<2>) -> Result<(), DeepAutoencoderError> {
    if x.dims()[0] == 0 || x.dims()[1] == 0 {
        return Ok(());
    }
    let (lo, hi) = (
        x.clone().min().into_scalar::<f32>(),
        x.clone().max().into_scalar::<f32>(),
    );
    if lo >= 0.0 && hi <= 1.0 {
        Ok(())
    } else {
        Err(DeepAutoencoderError::Config(format!(
            "{what} has values in [{lo}, {hi}], outside [0, 1]: the autoencoder's visible \
             units are logistic (binary data, or intensities scaled to [0, 1])"
        )))
    }
}
