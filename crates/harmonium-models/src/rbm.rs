//! Restricted Boltzmann machine, learned by contrastive divergence (CD-k) or persistent CD.
//!
//! An RBM has a layer of visible units v and a layer of binary hidden units h, with weights
//! `W[visible, hidden]`, visible biases b and hidden biases c, and no connections within a layer.
//! For binary visible units the energy is `E(v,h) = −b·v − c·h − vᵀWh` and the conditionals
//! factorise (paper eq. 2 and 3):
//!
//! ```text
//! p(h_j = 1 | v) = σ(c_j + Σ_i v_i W_ij)                                   (2)
//! p(v_i = 1 | h) = σ(b_i + Σ_j h_j W_ij)                                   (3)
//! ```
//!
//! Gaussian visible units with standard deviations σ_i (real-valued features such as speech
//! frames) use `E(v,h) = Σ_i (v_i − b_i)²/2σ_i² − c·h − Σ_ij (v_i/σ_i) W_ij h_j`, so that
//! `p(h_j = 1 | v) = σ(c_j + Σ_i (v_i/σ_i) W_ij)` and `v_i | h ~ N(b_i + σ_i Σ_j W_ij h_j, σ_i²)`.
//!
//! The free energy `F(v) = −log Σ_h e^{−E(v,h)}` is, for binary visible units,
//! `F(v) = −b·v − Σ_j log(1 + e^{c_j + (vW)_j})`, and `p(v) = e^{−F(v)}/Z`.
//!
//! Learning follows the gradient of the log-likelihood approximately (paper eq. 4):
//!
//! ```text
//! ΔW_ij ∝ ⟨v_i h_j⟩_data − ⟨v_i h_j⟩_reconstruction                      (4)
//! Δb_i  ∝ ⟨v_i⟩_data − ⟨v_i⟩_reconstruction,   Δc_j ∝ ⟨h_j⟩_data − ⟨h_j⟩_reconstruction
//! ```
//!
//! * **Positive phase:** the data statistics use the probabilities `p(h|v_data)`; a sample of the
//!   hidden states drives the chain.
//! * **Negative phase, CD-k:** k steps of alternating Gibbs sampling started at the data. The
//!   reconstructions use visible probabilities (Gaussian: the mean, no noise), intermediate hidden
//!   states are sampled, and the final hidden statistics use probabilities.
//! * **Negative phase, persistent CD:** a fixed number of fantasy chains (persistent chains) is kept
//!   across updates. The statistics use the chains' current visible states and `p(h|v)`; the
//!   chains are then advanced k full Gibbs steps (sampled visible states), so the chains are proper
//!   Markov chains of the current model.
//! * **Update:** `Δθ(t) = momentum · Δθ(t−1) + lr · (statistics − weight_cost · W)`, with an
//!   optional sparsity penalty pulling the running mean activity q_j of each hidden unit towards a
//!   target (the practical guide, §11).
//!
//! No autodiff is involved: every statistic is a matmul on the plain device. The hyper-parameters
//! follow Hinton's "A Practical Guide to Training Restricted Boltzmann Machines" (2010).

use std::time::Instant;

use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::eval::{self, EvalError};
use crate::events::{Event, EventSink};

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// Kind of visible unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VisibleType {
    /// Binary (Bernoulli) visible units, e.g. MNIST pixels scaled to [0, 1].
    #[default]
    Binary,
    /// Gaussian visible units with standard deviations set by `gaussian_sigma`.
    Gaussian,
}

/// Standard deviations σ_i of Gaussian visible units (they are not learned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GaussianSigma {
    /// σ_i = 1 for every unit (the usual choice for data standardised per dimension).
    #[default]
    Unit,
    /// σ_i = the standard deviation of dimension i in the training data (floored at 1e-3).
    Data,
    /// Given σ_i, one per visible unit.
    Fixed(Vec<f64>),
}

/// Momentum schedule: `start` for the first `switch_epoch` epochs, then `final`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Momentum {
    /// Momentum during the first `switch_epoch` epochs.
    pub start: f64,
    /// Momentum from epoch `switch_epoch` on (0-based epochs).
    pub r#final: f64,
    /// Number of epochs that use `start`.
    pub switch_epoch: usize,
}

impl Default for Momentum {
    fn default() -> Self {
        Momentum {
            start: 0.5,
            r#final: 0.9,
            switch_epoch: 5,
        }
    }
}

impl Momentum {
    /// The momentum used during 0-based `epoch`.
    pub fn at(&self, epoch: usize) -> f64 {
        if epoch < self.switch_epoch {
            self.start
        } else {
            self.r#final
        }
    }
}

/// How the learning rate changes from epoch to epoch (0-based epoch e).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// `lr` throughout.
    #[default]
    Constant,
    /// `lr · gamma^e`.
    Exponential { gamma: f64 },
    /// Linear from `lr` at the first epoch to `final_lr` at the last.
    Linear { final_lr: f64 },
}

/// Sparsity target (practical guide §11): a running estimate `q ← decay·q + (1−decay)·⟨p(h|v)⟩`
/// of each hidden unit's mean activity, and a penalty `cost·(target − q)` added to the hidden
/// bias update (and, times the mean visible state, to the weight update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sparsity {
    /// Desired mean probability of each hidden unit being on.
    pub target: f64,
    /// Decay of the running estimate q (0.9–0.99).
    pub decay: f64,
    /// Strength of the penalty.
    pub cost: f64,
}

impl Default for Sparsity {
    fn default() -> Self {
        Sparsity {
            target: 0.05,
            decay: 0.95,
            cost: 0.01,
        }
    }
}

/// Annealed importance sampling settings (Salakhutdinov & Murray 2008).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AisConfig {
    /// Number of independent AIS runs (run together as one batch of chains).
    pub runs: usize,
    /// Number of intermediate distributions β; spaced like the standard schedule (0–0.5 step
    /// 1e-3, 0.5–0.9 step 1e-4, 0.9–1 step 1e-5 for the default 14,500).
    pub betas: usize,
    /// Estimate log Z after the last epoch and report the test log-probability.
    pub at_end: bool,
}

impl Default for AisConfig {
    fn default() -> Self {
        AisConfig {
            runs: 100,
            betas: 14_500,
            at_end: true,
        }
    }
}

/// What to measure while training, and which pictures and checkpoints to emit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RbmEvalConfig {
    /// Evaluate every this many epochs (the last epoch is always evaluated); 0: only the last.
    pub every: usize,
    /// At most this many training (and validation) examples are used for the metrics.
    pub max_examples: usize,
    /// Emit `recon_error`: squared error of one Gibbs step's reconstruction, per example.
    pub reconstruction: bool,
    /// Emit `free_energy_train`, `free_energy_valid` and `free_energy_gap` (valid − train): a
    /// growing gap signals overfitting.
    pub free_energy_gap: bool,
    /// Emit `pseudo_loglik` (binary visible units only): stochastic pseudo-likelihood, one random
    /// flipped bit per example.
    pub pseudo_likelihood: bool,
    /// Emit `exact_log_z`, `exact_loglik` and `exact_loglik_valid` when the smaller layer has at
    /// most `exact_max_units` units (log Z by enumerating its states).
    pub exact_loglik: bool,
    /// Largest layer size enumerated for the exact log-likelihood (2^n states).
    pub exact_max_units: usize,
    /// AIS estimate of log Z after the last epoch (binary visible units only); `null` turns it off.
    pub ais: Option<AisConfig>,
    /// Tile shape (rows, cols) of one visible vector as a picture; no pictures when absent.
    pub picture_shape: Option<[usize; 2]>,
    /// Emit pictures every this many epochs (and after the last); 0: only after the last.
    pub pictures_every: usize,
    /// Number of filters shown in the filter picture.
    pub picture_filters: usize,
    /// Number of Gibbs chains shown in the samples picture.
    pub sample_chains: usize,
    /// Gibbs steps run by each chain before its p(v|h) is drawn.
    pub sample_steps: usize,
    /// Emit the trained model as a SafeTensors `checkpoint` artifact after the last epoch.
    pub checkpoint: bool,
}

impl Default for RbmEvalConfig {
    fn default() -> Self {
        RbmEvalConfig {
            every: 1,
            max_examples: 10_000,
            reconstruction: true,
            free_energy_gap: true,
            pseudo_likelihood: true,
            exact_loglik: true,
            exact_max_units: 20,
            ais: Some(AisConfig::default()),
            picture_shape: None,
            pictures_every: 0,
            picture_filters: 100,
            sample_chains: 100,
            sample_steps: 1000,
            checkpoint: true,
        }
    }
}

/// Everything that defines how an RBM is built and trained. Plain data: the YAML layer maps an
/// `rbm:` section onto it, e.g. `{hidden: 500, cd_k: 1, epochs: 10, batch_size: 100, lr: 0.05}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RbmConfig {
    /// Number of hidden units.
    pub hidden: usize,
    /// Kind of visible unit: `binary` or `gaussian`.
    pub visible_type: VisibleType,
    /// Standard deviations of Gaussian visible units: `unit`, `data` or `{fixed: [..]}`.
    pub gaussian_sigma: GaussianSigma,
    /// Number of Gibbs steps in the negative phase (CD-k, or per update of the persistent chains).
    pub cd_k: usize,
    /// Persistent CD: keep fantasy chains across updates instead of restarting at the data.
    pub persistent: bool,
    /// Number of persistent chains (persistent CD only).
    pub chains: usize,
    /// Passes through the training data.
    pub epochs: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// Learning rate (Gaussian visible units usually need 10–100× less than binary ones).
    pub lr: f64,
    /// How the learning rate changes over epochs.
    pub lr_schedule: LrSchedule,
    /// Momentum schedule.
    pub momentum: Momentum,
    /// L2 weight cost (applied to W only, not to the biases).
    pub weight_cost: f64,
    /// Optional sparsity target for the hidden units.
    pub sparsity: Option<Sparsity>,
    /// Standard deviation of the initial Gaussian weights.
    pub init_sigma: f64,
    /// Evaluation, pictures and checkpoints.
    pub eval: RbmEvalConfig,
}

impl Default for RbmConfig {
    fn default() -> Self {
        RbmConfig {
            hidden: 500,
            visible_type: VisibleType::Binary,
            gaussian_sigma: GaussianSigma::Unit,
            cd_k: 1,
            persistent: false,
            chains: 100,
            epochs: 10,
            batch_size: 100,
            lr: 0.05,
            lr_schedule: LrSchedule::Constant,
            momentum: Momentum::default(),
            weight_cost: 0.0002,
            sparsity: None,
            init_sigma: 0.01,
            eval: RbmEvalConfig::default(),
        }
    }
}

impl RbmConfig {
    /// The learning rate during 0-based `epoch`.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        match &self.lr_schedule {
            LrSchedule::Constant => self.lr,
            LrSchedule::Exponential { gamma } => self.lr * gamma.powi(epoch as i32),
            LrSchedule::Linear { final_lr } => {
                let span = self.epochs.saturating_sub(1).max(1) as f64;
                self.lr + (final_lr - self.lr) * (epoch as f64 / span).min(1.0)
            }
        }
    }

    /// Checks the values that would make training meaningless.
    pub fn validate(&self) -> Result<(), RbmError> {
        let bad = |m: &str| Err(RbmError::Config(m.to_string()));
        if self.hidden == 0 {
            return bad("hidden must be at least 1");
        }
        if self.cd_k == 0 {
            return bad("cd_k must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        if self.persistent && self.chains == 0 {
            return bad("chains must be at least 1 for persistent CD");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be a positive number");
        }
        if !(self.init_sigma.is_finite() && self.init_sigma >= 0.0) {
            return bad("init_sigma must be a non-negative number");
        }
        if !(self.weight_cost.is_finite() && self.weight_cost >= 0.0) {
            return bad("weight_cost must be a non-negative number");
        }
        if let Some(s) = &self.sparsity
            && !((0.0..=1.0).contains(&s.target) && (0.0..1.0).contains(&s.decay) && s.cost >= 0.0)
        {
            return bad("sparsity needs 0 ≤ target ≤ 1, 0 ≤ decay < 1 and cost ≥ 0");
        }
        if let Some(ais) = &self.eval.ais
            && (ais.runs < 2 || ais.betas < 2)
        {
            return bad("eval.ais needs at least 2 runs and 2 betas");
        }
        if let GaussianSigma::Fixed(s) = &self.gaussian_sigma
            && s.iter().any(|x| !(x.is_finite() && *x > 0.0))
        {
            return bad("gaussian_sigma.fixed values must be positive numbers");
        }
        Ok(())
    }
}

/// Why building or training an RBM failed.
#[derive(Debug, thiserror::Error)]
pub enum RbmError {
    #[error("invalid RBM configuration: {0}")]
    Config(String),
    #[error("{what} has {got} columns but the RBM has {expected} visible units")]
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("the training data is empty")]
    EmptyData,
    #[error(
        "RBM training diverged at epoch {epoch}: {what} is not finite (try a smaller lr, or a \
         larger weight_cost)"
    )]
    Diverged { epoch: usize, what: String },
    #[error(transparent)]
    Eval(#[from] EvalError),
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

/// Visible unit type with its parameters.
#[derive(Debug, Clone)]
pub enum VisibleUnits {
    Binary,
    /// Gaussian units; `sigma` holds σ_i, `None` means σ_i = 1.
    Gaussian {
        sigma: Option<Tensor<1>>,
    },
}

/// A restricted Boltzmann machine on one device.
#[derive(Debug, Clone)]
pub struct Rbm {
    /// W, shape [visible, hidden].
    pub weights: Tensor<2>,
    /// b, shape [visible].
    pub visible_bias: Tensor<1>,
    /// c, shape [hidden].
    pub hidden_bias: Tensor<1>,
    /// Visible unit type (and σ for Gaussian units).
    pub visible_units: VisibleUnits,
}

/// The visible states of a Gibbs chain after its last step.
#[derive(Debug, Clone)]
pub struct GibbsSample {
    /// Sampled visible states.
    pub visible: Tensor<2>,
    /// p(v|h) (Gaussian: the mean) at the last step: what pictures show.
    pub visible_mean: Tensor<2>,
}

/// A bias vector as a [1, n] row that broadcasts over a batch.
fn row(t: &Tensor<1>) -> Tensor<2> {
    t.clone().unsqueeze()
}

/// `log(1 + e^x)`, computed stably as `max(x, 0) + log(1 + e^{−|x|})`.
pub fn softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone().clamp_min(0.0) + x.abs().neg().exp().log1p()
}

/// Binary states that are on with the given probabilities: `p > u` for uniform u.
fn bernoulli(p: Tensor<2>, uniform: Tensor<2>) -> Tensor<2> {
    p.greater(uniform).float()
}

/// The random numbers a Gibbs step consumes. Training uses the device's generator; tests supply
/// fixed numbers so that a step can be checked by hand.
pub trait Draws {
    /// Uniform numbers in [0, 1) shaped like `like`.
    fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2>;
    /// Standard normal numbers shaped like `like`.
    fn normal(&mut self, like: &Tensor<2>) -> Tensor<2>;
}

/// Draws from the device's random generator (seed it with `device.seed`).
#[derive(Debug, Default, Clone, Copy)]
pub struct DeviceDraws;

impl Draws for DeviceDraws {
    fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2> {
        like.random_like(Distribution::Default)
    }
    fn normal(&mut self, like: &Tensor<2>) -> Tensor<2> {
        like.random_like(Distribution::Normal(0.0, 1.0))
    }
}

/// Draws made on the host by a small fast generator (xoshiro256+) and handed over as data. On the
/// CPU (`flex`) device that is a plain copy, and several times faster than the device's
/// per-element generator; training uses it there. Seeded from the device's generator, so a run
/// seeded with `device.seed` stays reproducible.
#[derive(Debug, Clone)]
pub struct HostDraws {
    state: [u64; 4],
}

impl HostDraws {
    /// A generator whose state is expanded from `seed` by splitmix64.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        HostDraws {
            state: [next(), next(), next(), next()],
        }
    }

    /// A generator seeded by two draws from the device's generator.
    pub fn from_device(device: &Device) -> Self {
        let bits = crate::eval::to_vec(Tensor::<1>::random([2], Distribution::Default, device));
        HostDraws::new(((bits[0].to_bits() as u64) << 32) | bits[1].to_bits() as u64)
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// `n` uniform numbers in [0, 1) with 24 random bits each (two per 64-bit draw).
    fn uniforms(&mut self, n: usize) -> Vec<f32> {
        const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            let x = self.next_u64();
            out.push((x >> 40) as f32 * SCALE);
            out.push(((x >> 8) & 0xFF_FFFF) as f32 * SCALE);
        }
        out.truncate(n);
        out
    }
}

impl Draws for HostDraws {
    fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2> {
        let dims = like.dims();
        let values = self.uniforms(dims[0] * dims[1]);
        Tensor::from_data(TensorData::new(values, dims), &like.device())
    }

    fn normal(&mut self, like: &Tensor<2>) -> Tensor<2> {
        let dims = like.dims();
        let n = dims[0] * dims[1];
        let u = self.uniforms(n + n % 2);
        let mut values = Vec::with_capacity(n + 1);
        for pair in u.chunks_exact(2) {
            // Box–Muller; 1 − u avoids log(0).
            let r = (-2.0 * (1.0 - pair[0]).ln()).sqrt();
            let (sin, cos) = (std::f32::consts::TAU * pair[1]).sin_cos();
            values.push(r * cos);
            values.push(r * sin);
        }
        values.truncate(n);
        Tensor::from_data(TensorData::new(values, dims), &like.device())
    }
}

impl Rbm {
    /// A new RBM with `W ~ N(0, init_sigma²)`, zero biases and σ from the config (`data` σ is
    /// set to 1 until [`Rbm::init_from_data`]). Seed the device first for reproducible weights.
    pub fn new(visible: usize, cfg: &RbmConfig, device: &Device) -> Result<Rbm, RbmError> {
        cfg.validate()?;
        if visible == 0 {
            return Err(RbmError::Config(
                "the RBM needs at least 1 visible unit".into(),
            ));
        }
        let weights = if cfg.init_sigma > 0.0 {
            Tensor::random(
                [visible, cfg.hidden],
                Distribution::Normal(0.0, cfg.init_sigma),
                device,
            )
        } else {
            Tensor::zeros([visible, cfg.hidden], device)
        };
        let visible_units = match (cfg.visible_type, &cfg.gaussian_sigma) {
            (VisibleType::Binary, _) => VisibleUnits::Binary,
            (VisibleType::Gaussian, GaussianSigma::Unit | GaussianSigma::Data) => {
                VisibleUnits::Gaussian { sigma: None }
            }
            (VisibleType::Gaussian, GaussianSigma::Fixed(s)) => {
                if s.len() != visible {
                    return Err(RbmError::Shape {
                        what: "gaussian_sigma.fixed",
                        expected: visible,
                        got: s.len(),
                    });
                }
                let s: Vec<f32> = s.iter().map(|&x| x as f32).collect();
                VisibleUnits::Gaussian {
                    sigma: Some(Tensor::from_data(TensorData::new(s, [visible]), device)),
                }
            }
        };
        Ok(Rbm {
            weights,
            visible_bias: Tensor::zeros([visible], device),
            hidden_bias: Tensor::zeros([cfg.hidden], device),
            visible_units,
        })
    }

    /// Sets the visible biases from the training data (practical guide §8): binary units get
    /// `log(p_i/(1−p_i))` of the data means p_i clamped to [1e-3, 1−1e-3]; Gaussian units get the
    /// data mean, and with `gaussian_sigma: data` σ_i becomes the data's standard deviation.
    pub fn init_from_data(&mut self, data: &Tensor<2>, cfg: &RbmConfig) -> Result<(), RbmError> {
        self.check_columns("the training data", data)?;
        if data.dims()[0] == 0 {
            return Err(RbmError::EmptyData);
        }
        let mean: Tensor<1> = data.clone().mean_dim(0).squeeze_dim(0);
        match &mut self.visible_units {
            VisibleUnits::Binary => {
                let p = mean.clamp(1e-3, 1.0 - 1e-3);
                self.visible_bias = p.clone().log() - p.neg().add_scalar(1.0).log();
            }
            VisibleUnits::Gaussian { sigma } => {
                if cfg.gaussian_sigma == GaussianSigma::Data {
                    let var: Tensor<1> = data.clone().var_bias(0).squeeze_dim(0);
                    *sigma = Some(var.sqrt().clamp_min(1e-3));
                }
                self.visible_bias = mean;
            }
        }
        Ok(())
    }

    /// Number of visible units.
    pub fn visible(&self) -> usize {
        self.weights.dims()[0]
    }

    /// Number of hidden units.
    pub fn hidden(&self) -> usize {
        self.weights.dims()[1]
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.weights.device()
    }

    /// σ_i of Gaussian visible units (`None` for binary or unit-variance units).
    pub fn sigma(&self) -> Option<&Tensor<1>> {
        match &self.visible_units {
            VisibleUnits::Gaussian { sigma } => sigma.as_ref(),
            VisibleUnits::Binary => None,
        }
    }

    /// Whether the visible units are binary.
    pub fn is_binary(&self) -> bool {
        matches!(self.visible_units, VisibleUnits::Binary)
    }

    pub(crate) fn check_columns(&self, what: &'static str, v: &Tensor<2>) -> Result<(), RbmError> {
        let got = v.dims()[1];
        if got != self.visible() {
            return Err(RbmError::Shape {
                what,
                expected: self.visible(),
                got,
            });
        }
        Ok(())
    }

    /// v/σ for Gaussian units with σ ≠ 1, v otherwise: what the weights see.
    pub(crate) fn scale_visible(&self, v: Tensor<2>) -> Tensor<2> {
        match self.sigma() {
            Some(sigma) => v.div(row(sigma)),
            None => v,
        }
    }

    /// Total input to the hidden units, `c_j + Σ_i (v_i/σ_i) W_ij`.
    pub fn hidden_input(&self, v: Tensor<2>) -> Tensor<2> {
        self.scale_visible(v).matmul(self.weights.clone()) + row(&self.hidden_bias)
    }

    /// `p(h_j = 1 | v)` (eq. 2), shape [batch, hidden]; also the features passed up a DBN.
    pub fn hidden_probs(&self, v: Tensor<2>) -> Tensor<2> {
        sigmoid(self.hidden_input(v))
    }

    /// `p(v_i = 1 | h)` (eq. 3) for binary units, `E[v_i | h] = b_i + σ_i Σ_j W_ij h_j` for
    /// Gaussian units; shape [batch, visible].
    pub fn visible_mean(&self, h: Tensor<2>) -> Tensor<2> {
        let top_down = h.matmul(self.weights.clone().transpose());
        match &self.visible_units {
            VisibleUnits::Binary => sigmoid(top_down + row(&self.visible_bias)),
            VisibleUnits::Gaussian { sigma } => {
                let top_down = match sigma {
                    Some(s) => top_down * row(s),
                    None => top_down,
                };
                top_down + row(&self.visible_bias)
            }
        }
    }

    /// A sample of h given v.
    pub fn sample_hidden(&self, v: Tensor<2>, draws: &mut dyn Draws) -> Tensor<2> {
        let p = self.hidden_probs(v);
        let u = draws.uniform(&p);
        bernoulli(p, u)
    }

    /// A sample of v given h: Bernoulli for binary units, `mean + σ·ε` for Gaussian units.
    pub fn sample_visible(&self, h: Tensor<2>, draws: &mut dyn Draws) -> Tensor<2> {
        let mean = self.visible_mean(h);
        match &self.visible_units {
            VisibleUnits::Binary => {
                let u = draws.uniform(&mean);
                bernoulli(mean, u)
            }
            VisibleUnits::Gaussian { sigma } => {
                let noise = draws.normal(&mean);
                match sigma {
                    Some(s) => mean + noise * row(s),
                    None => mean + noise,
                }
            }
        }
    }

    /// Runs `steps` steps of alternating Gibbs sampling (v → h → v) from `v` with the device's
    /// generator.
    pub fn sample_gibbs(&self, v: Tensor<2>, steps: usize) -> GibbsSample {
        let mut draws = DeviceDraws;
        let mut visible = v.clone();
        let mut visible_mean = v;
        for _ in 0..steps {
            let h = self.sample_hidden(visible, &mut draws);
            visible_mean = self.visible_mean(h);
            visible = match &self.visible_units {
                VisibleUnits::Binary => {
                    let u = draws.uniform(&visible_mean);
                    bernoulli(visible_mean.clone(), u)
                }
                VisibleUnits::Gaussian { sigma } => {
                    let noise = draws.normal(&visible_mean);
                    let noise = match sigma {
                        Some(s) => noise * row(s),
                        None => noise,
                    };
                    visible_mean.clone() + noise
                }
            };
        }
        GibbsSample {
            visible,
            visible_mean,
        }
    }

    /// The part of −F(v) that comes from the visible units alone: `b·v` (binary) or
    /// `−Σ_i (v_i − b_i)²/2σ_i²` (Gaussian); shape [batch].
    pub(crate) fn visible_term(&self, v: Tensor<2>) -> Tensor<1> {
        let t = match &self.visible_units {
            VisibleUnits::Binary => (v * row(&self.visible_bias)).sum_dim(1),
            VisibleUnits::Gaussian { sigma } => {
                let d = v - row(&self.visible_bias);
                let d = match sigma {
                    Some(s) => d.div(row(s)),
                    None => d,
                };
                d.square().sum_dim(1).mul_scalar(-0.5)
            }
        };
        t.squeeze_dim(1)
    }

    /// Free energy `F(v) = −log Σ_h e^{−E(v,h)}`, one value per row of `v`.
    pub fn free_energy(&self, v: Tensor<2>) -> Tensor<1> {
        let hidden_term: Tensor<1> = softplus(self.hidden_input(v.clone()))
            .sum_dim(1)
            .squeeze_dim(1);
        (self.visible_term(v) + hidden_term).neg()
    }

    /// Energy `E(v, h)` of joint configurations, one per row.
    pub fn energy(&self, v: Tensor<2>, h: Tensor<2>) -> Tensor<1> {
        let interaction = self.scale_visible(v.clone()).matmul(self.weights.clone()) * h.clone();
        let hidden_term = h * row(&self.hidden_bias);
        let t: Tensor<1> = (interaction + hidden_term).sum_dim(1).squeeze_dim(1);
        (self.visible_term(v) + t).neg()
    }
}

// ---------------------------------------------------------------------------------------------
// Learning
// ---------------------------------------------------------------------------------------------

/// Where the negative phase starts.
#[derive(Debug)]
pub enum NegativePhase<'a> {
    /// CD-k: from the sampled hidden states of the data.
    Reconstruction,
    /// Persistent CD: from these fantasy chains (visible states, [chains, visible]); they are
    /// advanced k Gibbs steps and written back.
    Persistent(&'a mut Tensor<2>),
}

/// Learning statistics of one mini-batch, each "data minus model" and averaged over examples
/// (and chains): the approximate log-likelihood gradient.
#[derive(Debug, Clone)]
pub struct CdStatistics {
    /// `⟨v h⟩_data − ⟨v h⟩_model`, [visible, hidden] (Gaussian: v/σ).
    pub delta_w: Tensor<2>,
    /// `⟨v⟩_data − ⟨v⟩_model`, [visible] (Gaussian: divided by σ²).
    pub delta_b: Tensor<1>,
    /// `⟨h⟩_data − ⟨h⟩_model`, [hidden].
    pub delta_c: Tensor<1>,
    /// `⟨p(h|v)⟩_data`, [hidden] (for the sparsity target).
    pub hidden_data_mean: Tensor<1>,
    /// `⟨v⟩_data` (Gaussian: v/σ), [visible] (for the sparsity target).
    pub visible_data_mean: Tensor<1>,
}

impl Rbm {
    /// CD-k or persistent-CD statistics for the mini-batch `v0`, using the random numbers from
    /// `draws` (the device's generator in training, fixed numbers in tests).
    pub fn cd_statistics(
        &self,
        v0: Tensor<2>,
        cd_k: usize,
        negative: NegativePhase<'_>,
        draws: &mut dyn Draws,
    ) -> CdStatistics {
        self.scaled_statistics(v0, cd_k, negative, draws, 1.0)
    }

    /// [`Rbm::cd_statistics`] with `delta_w` multiplied by `scale` (the learning rate, folded into
    /// the small hidden matrices instead of a pass over W).
    fn scaled_statistics(
        &self,
        v0: Tensor<2>,
        cd_k: usize,
        negative: NegativePhase<'_>,
        draws: &mut dyn Draws,
        scale: f64,
    ) -> CdStatistics {
        // Positive phase: statistics with p(h|v_data).
        let ph_data = self.hidden_probs(v0.clone());

        // Negative phase.
        let (v_model, ph_model) = match negative {
            NegativePhase::Reconstruction => {
                let u = draws.uniform(&ph_data);
                let mut h = bernoulli(ph_data.clone(), u);
                let mut step = 1;
                loop {
                    let v = self.visible_mean(h);
                    let ph = self.hidden_probs(v.clone());
                    if step == cd_k {
                        break (v, ph);
                    }
                    let u = draws.uniform(&ph);
                    h = bernoulli(ph, u);
                    step += 1;
                }
            }
            NegativePhase::Persistent(chains) => {
                let v = chains.clone();
                let ph = self.hidden_probs(v.clone());
                let mut ph_step = ph.clone();
                let mut v_step = v.clone();
                for step in 0..cd_k {
                    if step > 0 {
                        ph_step = self.hidden_probs(v_step);
                    }
                    let u = draws.uniform(&ph_step);
                    v_step = self.sample_visible(bernoulli(ph_step.clone(), u), draws);
                }
                *chains = v_step;
                (v, ph)
            }
        };

        self.statistics(v0, ph_data, v_model, ph_model, scale)
    }

    /// `⟨v h⟩_data − ⟨v h⟩_model` as one matmul `[v_data; v_model]ᵀ · [ph_data/B; −ph_model/C]`,
    /// and the bias statistics from the same matrices.
    fn statistics(
        &self,
        v_data: Tensor<2>,
        ph_data: Tensor<2>,
        v_model: Tensor<2>,
        ph_model: Tensor<2>,
        scale: f64,
    ) -> CdStatistics {
        let n_data = v_data.dims()[0] as f64;
        let n_model = v_model.dims()[0] as f64;
        let v_data = self.scale_visible(v_data);
        let v_model = self.scale_visible(v_model);

        let visible_data_mean: Tensor<1> =
            v_data.clone().sum_dim(0).squeeze_dim(0).div_scalar(n_data);
        let visible_model_mean: Tensor<1> = v_model
            .clone()
            .sum_dim(0)
            .squeeze_dim(0)
            .div_scalar(n_model);
        let hidden_data_mean: Tensor<1> =
            ph_data.clone().sum_dim(0).squeeze_dim(0).div_scalar(n_data);
        let hidden_model_mean: Tensor<1> = ph_model
            .clone()
            .sum_dim(0)
            .squeeze_dim(0)
            .div_scalar(n_model);

        let visible = Tensor::cat(vec![v_data, v_model], 0);
        let hidden = Tensor::cat(
            vec![
                ph_data.mul_scalar(scale / n_data),
                ph_model.mul_scalar(-scale / n_model),
            ],
            0,
        );
        let delta_w = visible.transpose().matmul(hidden);

        let delta_b = visible_data_mean.clone() - visible_model_mean;
        let delta_b = match self.sigma() {
            Some(s) => delta_b.div(s.clone()),
            None => delta_b,
        };
        CdStatistics {
            delta_w,
            delta_b,
            delta_c: hidden_data_mean.clone() - hidden_model_mean,
            hidden_data_mean,
            visible_data_mean,
        }
    }
}

/// Learner state carried across mini-batches: momentum increments, persistent chains and the
/// running hidden activity for the sparsity target.
#[derive(Debug, Clone)]
pub struct Learner {
    inc_w: Tensor<2>,
    inc_b: Tensor<1>,
    inc_c: Tensor<1>,
    /// Persistent chains (visible states), when learning by persistent CD.
    pub chains: Option<Tensor<2>>,
    /// Host-side draws on the CPU device; `None`: the device's generator.
    host_draws: Option<HostDraws>,
    /// Running estimate q of each hidden unit's mean activity (sparsity target).
    pub hidden_activity: Option<Tensor<1>>,
}

/// Hyper-parameters of one update.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub lr: f64,
    pub momentum: f64,
    pub weight_cost: f64,
    pub cd_k: usize,
}

impl Learner {
    /// Zero increments; `cfg.chains` persistent chains started from random binary states
    /// (Gaussian: from the visible biases plus unit noise) when `cfg.persistent`.
    pub fn new(rbm: &Rbm, cfg: &RbmConfig) -> Learner {
        let device = rbm.device();
        let (v, h) = (rbm.visible(), rbm.hidden());
        let chains = cfg.persistent.then(|| {
            let shape = [cfg.chains, v];
            match &rbm.visible_units {
                VisibleUnits::Binary => {
                    Tensor::<2>::random(shape, Distribution::Bernoulli(0.5), &device)
                }
                VisibleUnits::Gaussian { .. } => {
                    rbm.sample_visible(Tensor::zeros([cfg.chains, h], &device), &mut DeviceDraws)
                }
            }
        });
        Learner {
            inc_w: Tensor::zeros([v, h], &device),
            inc_b: Tensor::zeros([v], &device),
            inc_c: Tensor::zeros([h], &device),
            chains,
            hidden_activity: None,
            host_draws: (device == Device::flex()).then(|| HostDraws::from_device(&device)),
        }
    }

    /// One learning step on mini-batch `v0`: statistics, then
    /// `Δθ ← momentum·Δθ + lr·(statistics − weight_cost·W)`, `θ ← θ + Δθ`.
    pub fn step(
        &mut self,
        rbm: &mut Rbm,
        v0: Tensor<2>,
        step: Step,
        sparsity: Option<&Sparsity>,
        draws: &mut dyn Draws,
    ) {
        let negative = match &mut self.chains {
            Some(chains) => NegativePhase::Persistent(chains),
            None => NegativePhase::Reconstruction,
        };
        let stats = rbm.scaled_statistics(v0, step.cd_k, negative, draws, step.lr);
        let CdStatistics {
            mut delta_w,
            delta_b,
            mut delta_c,
            hidden_data_mean,
            visible_data_mean,
        } = stats;
        let lr = step.lr;

        if let Some(sp) = sparsity {
            let q = match self.hidden_activity.take() {
                Some(q) => q.mul_scalar(sp.decay) + hidden_data_mean.mul_scalar(1.0 - sp.decay),
                None => hidden_data_mean,
            };
            let pull = q.clone().neg().add_scalar(sp.target).mul_scalar(sp.cost); // cost·(target − q)
            delta_c = delta_c + pull.clone();
            let outer = visible_data_mean.unsqueeze_dim::<2>(1).matmul(row(&pull));
            delta_w = delta_w + outer.mul_scalar(lr);
            self.hidden_activity = Some(q);
        }
        if step.weight_cost > 0.0 {
            delta_w = delta_w - rbm.weights.clone().mul_scalar(lr * step.weight_cost);
        }

        let m = step.momentum;
        self.inc_w.inplace(|inc| {
            if m == 0.0 {
                delta_w
            } else {
                inc.mul_scalar(m) + delta_w
            }
        });
        self.inc_b
            .inplace(|inc| inc.mul_scalar(m) + delta_b.mul_scalar(lr));
        self.inc_c
            .inplace(|inc| inc.mul_scalar(m) + delta_c.mul_scalar(lr));
        let (inc_w, inc_b, inc_c) = (self.inc_w.clone(), self.inc_b.clone(), self.inc_c.clone());
        rbm.weights.inplace(|w| w + inc_w);
        rbm.visible_bias.inplace(|b| b + inc_b);
        rbm.hidden_bias.inplace(|c| c + inc_c);
    }
}

impl Learner {
    /// One pass through `data` in a random order (a permutation drawn on the device), in
    /// mini-batches of `batch_size` (the last one may be smaller).
    pub fn epoch(
        &mut self,
        rbm: &mut Rbm,
        data: &Tensor<2>,
        batch_size: usize,
        step: Step,
        sparsity: Option<&Sparsity>,
    ) {
        let n = data.dims()[0];
        let order: Tensor<1, Int> =
            Tensor::<1>::random([n], Distribution::Default, &data.device()).argsort(0);
        let mut host_draws = self.host_draws.take();
        let mut device_draws = DeviceDraws;
        let draws: &mut dyn Draws = match &mut host_draws {
            Some(h) => h,
            None => &mut device_draws,
        };
        let mut start = 0;
        while start < n {
            let len = batch_size.min(n - start);
            let v0 = data.clone().select(0, order.clone().narrow(0, start, len));
            self.step(rbm, v0, step, sparsity, draws);
            start += len;
        }
        self.host_draws = host_draws;
    }
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the last epoch.
    pub stopped_early: bool,
    /// Wall-clock seconds spent training (evaluation included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

/// Forwards events to the caller's sink and remembers the last value of each metric.
struct Recorder<'a> {
    sink: &'a mut dyn EventSink,
    last: Vec<(String, f64)>,
}

impl Recorder<'_> {
    fn metric(&mut self, key: &str, step: usize, value: f64) {
        self.sink.metric(key, step as u64, value);
        match self.last.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.last.push((key.to_string(), value)),
        }
    }
}

/// The first `n` rows (all when fewer).
fn head(data: &Tensor<2>, n: usize) -> Tensor<2> {
    let rows = data.dims()[0];
    if rows <= n {
        data.clone()
    } else {
        data.clone().narrow(0, 0, n)
    }
}

impl Rbm {
    /// Builds an RBM for `data`, sets its visible biases from the data, and trains it. The device
    /// is seeded once with `seed`, so a run on the CPU is reproducible.
    pub fn fit(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(Rbm, TrainSummary), RbmError> {
        let device = data.device();
        device.seed(seed);
        let mut rbm = Rbm::new(data.dims()[1], cfg, &device)?;
        rbm.init_from_data(data, cfg)?;
        let summary = rbm.train_seeded(data, valid, cfg, sink)?;
        Ok((rbm, summary))
    }

    /// Trains this RBM on `data` ([examples, visible], on the RBM's device) for `cfg.epochs`
    /// epochs after seeding the device with `seed`. Emits per-epoch metrics, pictures, a final
    /// checkpoint and `Progress { stage: "rbm" }`; stops early when `sink.keep_going()` is false.
    pub fn train(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<TrainSummary, RbmError> {
        self.device().seed(seed);
        self.train_seeded(data, valid, cfg, sink)
    }

    fn train_seeded(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        sink: &mut dyn EventSink,
    ) -> Result<TrainSummary, RbmError> {
        cfg.validate()?;
        self.check_columns("the training data", data)?;
        if let Some(v) = valid {
            self.check_columns("the validation data", v)?;
        }
        if cfg.hidden != self.hidden() {
            return Err(RbmError::Config(format!(
                "hidden is {} but the RBM has {} hidden units",
                cfg.hidden,
                self.hidden()
            )));
        }
        let n = data.dims()[0];
        if n == 0 {
            return Err(RbmError::EmptyData);
        }
        let started = Instant::now();
        let mut rec = Recorder {
            sink,
            last: Vec::new(),
        };
        let mut learner = Learner::new(self, cfg);
        let base_rate = eval::ais::BaseRateModel::fit(data);
        let train_eval = head(data, cfg.eval.max_examples);
        let valid_eval = valid.map(|v| head(v, cfg.eval.max_examples));
        let mut epochs_done = 0;
        let mut stopped_early = false;

        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            let step = Step {
                lr: cfg.lr_at(epoch),
                momentum: cfg.momentum.at(epoch),
                weight_cost: cfg.weight_cost,
                cd_k: cfg.cd_k,
            };
            learner.epoch(self, data, cfg.batch_size, step, cfg.sparsity.as_ref());
            epochs_done = epoch + 1;
            let last = epochs_done == cfg.epochs;
            let e = epochs_done;
            self.check_finite(e)?;
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64());
            rec.metric("lr", e, step.lr);
            rec.metric("momentum", e, step.momentum);
            if last || (cfg.eval.every > 0 && e % cfg.eval.every == 0) {
                self.evaluate(e, &train_eval, valid_eval.as_ref(), cfg, &mut rec)?;
            }
            if let Some(shape) = cfg.eval.picture_shape
                && (last || (cfg.eval.pictures_every > 0 && e % cfg.eval.pictures_every == 0))
            {
                self.emit_pictures(e, shape, &train_eval, &cfg.eval, rec.sink);
            }
            rec.sink.emit(Event::Progress {
                stage: "rbm".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }

        if epochs_done > 0 && !stopped_early {
            if let Some(ais) = &cfg.eval.ais
                && ais.at_end
                && self.is_binary()
            {
                let estimate = eval::ais::estimate_log_z(self, &base_rate, ais.runs, ais.betas);
                let e = epochs_done;
                rec.metric("ais_log_z", e, estimate.log_z);
                if estimate.log_z_lower.is_finite() {
                    rec.metric("ais_log_z_lower", e, estimate.log_z_lower);
                }
                rec.metric("ais_log_z_upper", e, estimate.log_z_upper);
                let train_ll = -eval::metrics::mean_free_energy(self, &train_eval) - estimate.log_z;
                rec.metric("ais_loglik", e, train_ll);
                if let Some(v) = &valid_eval {
                    let ll = -eval::metrics::mean_free_energy(self, v) - estimate.log_z;
                    rec.metric("ais_loglik_valid", e, ll);
                }
            }
            if cfg.eval.checkpoint {
                rec.sink.emit(Event::Artifact {
                    kind: "checkpoint".into(),
                    name: "rbm.safetensors".into(),
                    step: Some(epochs_done as u64),
                    bytes: self.to_safetensors(),
                });
            }
        }
        Ok(TrainSummary {
            epochs: epochs_done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    /// Errors with [`RbmError::Diverged`] when a parameter is NaN or infinite.
    fn check_finite(&self, epoch: usize) -> Result<(), RbmError> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        let w: Tensor<1> = self.weights.clone().flatten(0, 1);
        for (what, t) in [
            ("the weights W", w),
            ("the visible biases b", self.visible_bias.clone()),
            ("the hidden biases c", self.hidden_bias.clone()),
        ] {
            if !finite(t) {
                return Err(RbmError::Diverged {
                    epoch,
                    what: what.into(),
                });
            }
        }
        Ok(())
    }

    fn evaluate(
        &self,
        epoch: usize,
        train: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        rec: &mut Recorder<'_>,
    ) -> Result<(), RbmError> {
        let ec = &cfg.eval;
        let checked = |key: &str, value: f64, rec: &mut Recorder<'_>| {
            if value.is_finite() {
                rec.metric(key, epoch, value);
                Ok(())
            } else {
                Err(RbmError::Diverged {
                    epoch,
                    what: key.to_string(),
                })
            }
        };
        if ec.reconstruction {
            checked(
                "recon_error",
                eval::metrics::reconstruction_error(self, train),
                rec,
            )?;
        }
        if ec.free_energy_gap {
            let f_train = eval::metrics::mean_free_energy(self, train);
            checked("free_energy_train", f_train, rec)?;
            if let Some(v) = valid {
                let f_valid = eval::metrics::mean_free_energy(self, v);
                checked("free_energy_valid", f_valid, rec)?;
                checked("free_energy_gap", f_valid - f_train, rec)?;
            }
        }
        if ec.pseudo_likelihood && self.is_binary() {
            checked(
                "pseudo_loglik",
                eval::metrics::pseudo_log_likelihood(self, train),
                rec,
            )?;
        }
        if ec.exact_loglik && self.visible().min(self.hidden()) <= ec.exact_max_units {
            let log_z = eval::exact::log_partition(self, ec.exact_max_units)?;
            checked("exact_log_z", log_z, rec)?;
            checked(
                "exact_loglik",
                eval::exact::mean_log_likelihood(self, train, log_z),
                rec,
            )?;
            if let Some(v) = valid {
                checked(
                    "exact_loglik_valid",
                    eval::exact::mean_log_likelihood(self, v, log_z),
                    rec,
                )?;
            }
        }
        Ok(())
    }

    fn emit_pictures(
        &self,
        epoch: usize,
        [rows, cols]: [usize; 2],
        train: &Tensor<2>,
        ec: &RbmEvalConfig,
        sink: &mut dyn EventSink,
    ) {
        if rows * cols != self.visible() {
            return;
        }
        let tile = eval::images::TileShape { rows, cols };
        let mut emit = |kind: &str, bytes: Vec<u8>| {
            sink.emit(Event::Artifact {
                kind: kind.into(),
                name: format!("{kind}_epoch{epoch}.png"),
                step: Some(epoch as u64),
                bytes,
            })
        };
        emit(
            "filters",
            eval::images::filters_png(self, tile, ec.picture_filters),
        );
        emit(
            "reconstructions",
            eval::images::reconstructions_png(self, &head(train, 50), tile),
        );
        emit(
            "samples",
            eval::images::samples_png(self, tile, ec.sample_chains, ec.sample_steps),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{
        FixedDraws, HostParams, HostRng, bits, log_sum_exp, mnist_binary, random_rbm, rows, serial,
        sigmoid as sig, tensor_from_rows,
    };
    use crate::eval::{exact, to_vec};
    use crate::events::{NullSink, VecSink};

    fn flat(t: Tensor<2>) -> Vec<f64> {
        to_vec(t).into_iter().map(f64::from).collect()
    }

    fn flat1(t: Tensor<1>) -> Vec<f64> {
        to_vec(t).into_iter().map(f64::from).collect()
    }

    fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: lengths differ");
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol,
                "{what}[{k}]: got {g}, expected {w} (tolerance {tol})"
            );
        }
    }

    fn quiet_eval() -> RbmEvalConfig {
        RbmEvalConfig {
            reconstruction: false,
            free_energy_gap: false,
            pseudo_likelihood: false,
            exact_loglik: false,
            ais: None,
            checkpoint: false,
            ..Default::default()
        }
    }

    // --- conditionals and free energy against brute-force enumeration -----------------------

    #[test]
    fn hidden_conditionals_match_brute_force_marginals_of_the_joint() {
        let device = Device::flex();
        let rbm = random_rbm(6, 4, 1.5, 1, &device);
        let p = HostParams::of(&rbm);
        let all_v: Vec<Vec<f64>> = (0..64).map(|s| bits(s, 6)).collect();
        let got = rows(rbm.hidden_probs(tensor_from_rows(&all_v, &device)));
        for (v, got) in all_v.iter().zip(&got) {
            let joint: Vec<f64> = (0..16).map(|s| p.neg_energy(v, &bits(s, 4))).collect();
            let z = log_sum_exp(&joint);
            let want: Vec<f64> = (0..4)
                .map(|j| {
                    (0..16)
                        .filter(|s| (s >> j) & 1 == 1)
                        .map(|s| (joint[s] - z).exp())
                        .sum()
                })
                .collect();
            assert_close(got, &want, 1e-5, "p(h_j=1|v)");
        }
    }

    #[test]
    fn visible_conditionals_match_brute_force_marginals_of_the_joint() {
        let device = Device::flex();
        let rbm = random_rbm(6, 4, 1.5, 2, &device);
        let p = HostParams::of(&rbm);
        let all_h: Vec<Vec<f64>> = (0..16).map(|s| bits(s, 4)).collect();
        let got = rows(rbm.visible_mean(tensor_from_rows(&all_h, &device)));
        for (h, got) in all_h.iter().zip(&got) {
            let joint: Vec<f64> = (0..64).map(|s| p.neg_energy(&bits(s, 6), h)).collect();
            let z = log_sum_exp(&joint);
            let want: Vec<f64> = (0..6)
                .map(|i| {
                    (0..64)
                        .filter(|s| (s >> i) & 1 == 1)
                        .map(|s| (joint[s] - z).exp())
                        .sum()
                })
                .collect();
            assert_close(got, &want, 1e-5, "p(v_i=1|h)");
        }
    }

    #[test]
    fn free_energy_is_minus_log_sum_over_hidden_states_of_exp_minus_energy() {
        let device = Device::flex();
        let rbm = random_rbm(6, 4, 1.5, 3, &device);
        let p = HostParams::of(&rbm);
        let all_v: Vec<Vec<f64>> = (0..64).map(|s| bits(s, 6)).collect();
        let got = flat1(rbm.free_energy(tensor_from_rows(&all_v, &device)));
        let want: Vec<f64> = all_v
            .iter()
            .map(|v| {
                -log_sum_exp(
                    &(0..16)
                        .map(|s| p.neg_energy(v, &bits(s, 4)))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_close(&got, &want, 1e-4, "F(v)");
        // And E(v,h) itself.
        let v = tensor_from_rows(&all_v[..16], &device);
        let h = tensor_from_rows(&(0..16).map(|s| bits(s, 4)).collect::<Vec<_>>(), &device);
        let want: Vec<f64> = (0..16)
            .map(|s| -p.neg_energy(&all_v[s], &bits(s, 4)))
            .collect();
        assert_close(&flat1(rbm.energy(v, h)), &want, 1e-4, "E(v,h)");
    }

    fn gaussian_rbm(device: &Device) -> (Rbm, Vec<f64>) {
        let mut rng = HostRng::new(9);
        let sigma = vec![0.5, 2.0, 1.0];
        let s: Vec<f32> = sigma.iter().map(|&x| x as f32).collect();
        let rbm = Rbm {
            weights: rng.tensor2(3, 2, 1.0, device),
            visible_bias: rng.tensor1(3, 1.0, device),
            hidden_bias: rng.tensor1(2, 1.0, device),
            visible_units: VisibleUnits::Gaussian {
                sigma: Some(Tensor::from_data(TensorData::new(s, [3]), device)),
            },
        };
        (rbm, sigma)
    }

    #[test]
    fn gaussian_free_energy_and_hidden_conditionals_match_brute_force() {
        let device = Device::flex();
        let (rbm, sigma) = gaussian_rbm(&device);
        let p = HostParams::of(&rbm);
        let neg_energy = |v: &[f64], h: &[f64]| {
            let mut e = 0.0;
            for i in 0..3 {
                e -= (v[i] - p.b[i]).powi(2) / (2.0 * sigma[i] * sigma[i]);
                for j in 0..2 {
                    e += v[i] / sigma[i] * p.w[i][j] * h[j];
                }
            }
            e + p.c[0] * h[0] + p.c[1] * h[1]
        };
        let vs = vec![
            vec![0.3, -1.2, 2.0],
            vec![-0.7, 0.4, 0.0],
            vec![1.5, 2.5, -0.5],
        ];
        let f = flat1(rbm.free_energy(tensor_from_rows(&vs, &device)));
        let ph = rows(rbm.hidden_probs(tensor_from_rows(&vs, &device)));
        for (k, v) in vs.iter().enumerate() {
            let joint: Vec<f64> = (0..4).map(|s| neg_energy(v, &bits(s, 2))).collect();
            let z = log_sum_exp(&joint);
            assert!((f[k] + z).abs() < 1e-4, "F(v) = {}, expected {}", f[k], -z);
            for j in 0..2 {
                let want: f64 = (0..4)
                    .filter(|s| (s >> j) & 1 == 1)
                    .map(|s| (joint[s] - z).exp())
                    .sum();
                assert!(
                    (ph[k][j] - want).abs() < 1e-5,
                    "p(h_{j}|v) = {}, expected {want}",
                    ph[k][j]
                );
            }
        }
        // E[v|h] = b + σ∘(W h).
        let hs: Vec<Vec<f64>> = (0..4).map(|s| bits(s, 2)).collect();
        let mean = rows(rbm.visible_mean(tensor_from_rows(&hs, &device)));
        for (h, m) in hs.iter().zip(&mean) {
            let want: Vec<f64> = (0..3)
                .map(|i| p.b[i] + sigma[i] * (p.w[i][0] * h[0] + p.w[i][1] * h[1]))
                .collect();
            assert_close(m, &want, 1e-5, "E[v|h]");
        }
    }

    // --- CD statistics by hand -------------------------------------------------------------

    /// Host version of p(h|v), p(v|h) for a binary RBM.
    fn host_hidden(p: &HostParams, v: &[f64]) -> Vec<f64> {
        (0..p.c.len())
            .map(|j| sig(p.c[j] + (0..v.len()).map(|i| v[i] * p.w[i][j]).sum::<f64>()))
            .collect()
    }

    fn host_visible(p: &HostParams, h: &[f64]) -> Vec<f64> {
        (0..p.b.len())
            .map(|i| sig(p.b[i] + (0..h.len()).map(|j| p.w[i][j] * h[j]).sum::<f64>()))
            .collect()
    }

    fn threshold(p: &[Vec<f64>], u: &[Vec<f64>]) -> Vec<Vec<f64>> {
        p.iter()
            .zip(u)
            .map(|(p, u)| p.iter().zip(u).map(|(p, u)| (p > u) as u8 as f64).collect())
            .collect()
    }

    /// (ΔW flattened, Δb, Δc) from data and model statistics, as means over rows.
    fn host_stats(
        vd: &[Vec<f64>],
        hd: &[Vec<f64>],
        vm: &[Vec<f64>],
        hm: &[Vec<f64>],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (nv, nh) = (vd[0].len(), hd[0].len());
        let (bd, bm) = (vd.len() as f64, vm.len() as f64);
        let mut dw = vec![0.0; nv * nh];
        for i in 0..nv {
            for j in 0..nh {
                let pos: f64 = vd.iter().zip(hd).map(|(v, h)| v[i] * h[j]).sum::<f64>() / bd;
                let neg: f64 = vm.iter().zip(hm).map(|(v, h)| v[i] * h[j]).sum::<f64>() / bm;
                dw[i * nh + j] = pos - neg;
            }
        }
        let mean = |x: &[Vec<f64>], k: usize| x.iter().map(|r| r[k]).sum::<f64>() / x.len() as f64;
        let db = (0..nv).map(|i| mean(vd, i) - mean(vm, i)).collect();
        let dc = (0..nh).map(|j| mean(hd, j) - mean(hm, j)).collect();
        (dw, db, dc)
    }

    fn check_stats(s: CdStatistics, want: (Vec<f64>, Vec<f64>, Vec<f64>), what: &str) {
        assert_close(&flat(s.delta_w), &want.0, 1e-5, &format!("{what} ΔW"));
        assert_close(&flat1(s.delta_b), &want.1, 1e-5, &format!("{what} Δb"));
        assert_close(&flat1(s.delta_c), &want.2, 1e-5, &format!("{what} Δc"));
    }

    #[test]
    fn cd1_and_cd2_statistics_equal_a_hand_computation_with_fixed_draws() {
        let device = Device::flex();
        let rbm = random_rbm(3, 2, 1.0, 4, &device);
        let p = HostParams::of(&rbm);
        let v0 = vec![vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]];
        let u0 = vec![vec![0.3, 0.8], vec![0.6, 0.1]];
        let u1 = vec![vec![0.45, 0.55], vec![0.2, 0.9]];

        let ph0: Vec<Vec<f64>> = v0.iter().map(|v| host_hidden(&p, v)).collect();
        let h0 = threshold(&ph0, &u0);
        let v1: Vec<Vec<f64>> = h0.iter().map(|h| host_visible(&p, h)).collect();
        let ph1: Vec<Vec<f64>> = v1.iter().map(|v| host_hidden(&p, v)).collect();
        let mut draws = FixedDraws::new(vec![tensor_from_rows(&u0, &device)]);
        let s = rbm.cd_statistics(
            tensor_from_rows(&v0, &device),
            1,
            NegativePhase::Reconstruction,
            &mut draws,
        );
        check_stats(s, host_stats(&v0, &ph0, &v1, &ph1), "CD-1");

        let h1 = threshold(&ph1, &u1);
        let v2: Vec<Vec<f64>> = h1.iter().map(|h| host_visible(&p, h)).collect();
        let ph2: Vec<Vec<f64>> = v2.iter().map(|v| host_hidden(&p, v)).collect();
        let mut draws = FixedDraws::new(vec![
            tensor_from_rows(&u0, &device),
            tensor_from_rows(&u1, &device),
        ]);
        let s = rbm.cd_statistics(
            tensor_from_rows(&v0, &device),
            2,
            NegativePhase::Reconstruction,
            &mut draws,
        );
        assert!(
            draws.0.is_empty(),
            "CD-2 uses exactly two sets of hidden draws"
        );
        check_stats(s, host_stats(&v0, &ph0, &v2, &ph2), "CD-2");
    }

    #[test]
    fn persistent_cd_statistics_and_chain_update_equal_a_hand_computation() {
        let device = Device::flex();
        let rbm = random_rbm(3, 2, 1.0, 5, &device);
        let p = HostParams::of(&rbm);
        let v0 = vec![vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]];
        let chains = vec![
            vec![0.0, 1.0, 0.0],
            vec![1.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let uh = vec![vec![0.3, 0.8], vec![0.6, 0.1], vec![0.5, 0.5]];
        let uv = vec![
            vec![0.3, 0.8, 0.5],
            vec![0.6, 0.1, 0.9],
            vec![0.05, 0.5, 0.95],
        ];

        let ph0: Vec<Vec<f64>> = v0.iter().map(|v| host_hidden(&p, v)).collect();
        let phc: Vec<Vec<f64>> = chains.iter().map(|v| host_hidden(&p, v)).collect();
        let h = threshold(&phc, &uh);
        let pv: Vec<Vec<f64>> = h.iter().map(|h| host_visible(&p, h)).collect();
        let new_chains = threshold(&pv, &uv);

        let mut state = tensor_from_rows(&chains, &device);
        let mut draws = FixedDraws::new(vec![
            tensor_from_rows(&uh, &device),
            tensor_from_rows(&uv, &device),
        ]);
        let s = rbm.cd_statistics(
            tensor_from_rows(&v0, &device),
            1,
            NegativePhase::Persistent(&mut state),
            &mut draws,
        );
        check_stats(s, host_stats(&v0, &ph0, &chains, &phc), "PCD");
        assert_eq!(rows(state), new_chains, "the chains advance one Gibbs step");
    }

    #[test]
    fn gaussian_cd1_statistics_scale_by_sigma_as_in_a_hand_computation() {
        let device = Device::flex();
        let (rbm, sigma) = gaussian_rbm(&device);
        let p = HostParams::of(&rbm);
        let v0 = vec![vec![0.3, -1.2, 2.0], vec![-0.7, 0.4, 0.0]];
        let u0 = vec![vec![0.3, 0.8], vec![0.6, 0.1]];
        let scaled = |v: &[f64]| -> Vec<f64> { v.iter().zip(&sigma).map(|(v, s)| v / s).collect() };
        let hidden = |v: &[f64]| -> Vec<f64> {
            let v = scaled(v);
            (0..2)
                .map(|j| sig(p.c[j] + (0..3).map(|i| v[i] * p.w[i][j]).sum::<f64>()))
                .collect()
        };
        let ph0: Vec<Vec<f64>> = v0.iter().map(|v| hidden(v)).collect();
        let h0 = threshold(&ph0, &u0);
        let v1: Vec<Vec<f64>> = h0
            .iter()
            .map(|h| {
                (0..3)
                    .map(|i| p.b[i] + sigma[i] * (p.w[i][0] * h[0] + p.w[i][1] * h[1]))
                    .collect()
            })
            .collect();
        let ph1: Vec<Vec<f64>> = v1.iter().map(|v| hidden(v)).collect();
        let vd: Vec<Vec<f64>> = v0.iter().map(|v| scaled(v)).collect();
        let vm: Vec<Vec<f64>> = v1.iter().map(|v| scaled(v)).collect();
        let (dw, db, dc) = host_stats(&vd, &ph0, &vm, &ph1);
        let db: Vec<f64> = db.iter().zip(&sigma).map(|(d, s)| d / s).collect(); // (⟨v⟩_d − ⟨v⟩_m)/σ²
        let mut draws = FixedDraws::new(vec![tensor_from_rows(&u0, &device)]);
        let s = rbm.cd_statistics(
            tensor_from_rows(&v0, &device),
            1,
            NegativePhase::Reconstruction,
            &mut draws,
        );
        check_stats(s, (dw, db, dc), "Gaussian CD-1");
    }

    // --- the persistent-chain estimate converges to the exact gradient ----------------------

    #[test]
    fn persistent_chain_gradient_matches_exact_enumerated_gradient_after_mixing() {
        let _guard = serial();
        let device = Device::flex();
        device.seed(11);
        let (nv, nh) = (6, 4);
        let rbm = random_rbm(nv, nh, 1.0, 6, &device);
        let p = HostParams::of(&rbm);
        let data: Vec<Vec<f64>> = [3usize, 17, 42, 63, 8, 21, 50, 33]
            .iter()
            .map(|&s| bits(s, nv))
            .collect();

        // Exact gradient: data term with p(h|v), model term by enumerating all 2^10 joint states.
        let hd: Vec<Vec<f64>> = data.iter().map(|v| host_hidden(&p, v)).collect();
        let states: Vec<(Vec<f64>, Vec<f64>)> = (0..1 << (nv + nh))
            .map(|s| (bits(s & 63, nv), bits(s >> nv, nh)))
            .collect();
        let log_p: Vec<f64> = states.iter().map(|(v, h)| p.neg_energy(v, h)).collect();
        let z = log_sum_exp(&log_p);
        let prob: Vec<f64> = log_p.iter().map(|l| (l - z).exp()).collect();
        let model_vh = |i: usize, j: usize| {
            states
                .iter()
                .zip(&prob)
                .map(|((v, h), q)| q * v[i] * h[j])
                .sum::<f64>()
        };
        let model_v = |i: usize| {
            states
                .iter()
                .zip(&prob)
                .map(|((v, _), q)| q * v[i])
                .sum::<f64>()
        };
        let model_h = |j: usize| {
            states
                .iter()
                .zip(&prob)
                .map(|((_, h), q)| q * h[j])
                .sum::<f64>()
        };
        let mean = |x: &[Vec<f64>], k: usize| x.iter().map(|r| r[k]).sum::<f64>() / x.len() as f64;
        let exact_w: Vec<f64> = (0..nv * nh)
            .map(|k| {
                let (i, j) = (k / nh, k % nh);
                data.iter().zip(&hd).map(|(v, h)| v[i] * h[j]).sum::<f64>() / data.len() as f64
                    - model_vh(i, j)
            })
            .collect();
        let exact_b: Vec<f64> = (0..nv).map(|i| mean(&data, i) - model_v(i)).collect();
        let exact_c: Vec<f64> = (0..nh).map(|j| mean(&hd, j) - model_h(j)).collect();

        // Persistent chains: 2,000 chains, 100 burn-in updates, then the mean of 200 estimates.
        let cfg = RbmConfig {
            hidden: nh,
            persistent: true,
            chains: 2000,
            ..Default::default()
        };
        let mut chains = Learner::new(&rbm, &cfg).chains.unwrap();
        let v0 = tensor_from_rows(&data, &device);
        for _ in 0..100 {
            rbm.cd_statistics(
                v0.clone(),
                1,
                NegativePhase::Persistent(&mut chains),
                &mut DeviceDraws,
            );
        }
        let sweeps = 200;
        let (mut w, mut b, mut c) = (vec![0.0; nv * nh], vec![0.0; nv], vec![0.0; nh]);
        for _ in 0..sweeps {
            let s = rbm.cd_statistics(
                v0.clone(),
                1,
                NegativePhase::Persistent(&mut chains),
                &mut DeviceDraws,
            );
            for (acc, x) in w.iter_mut().zip(flat(s.delta_w)) {
                *acc += x / sweeps as f64;
            }
            for (acc, x) in b.iter_mut().zip(flat1(s.delta_b)) {
                *acc += x / sweeps as f64;
            }
            for (acc, x) in c.iter_mut().zip(flat1(s.delta_c)) {
                *acc += x / sweeps as f64;
            }
        }
        // Each term of an estimate lies in [0, 1] (variance ≤ 1/4); 2,000 chains × 200 sweeps of a
        // fast-mixing 10-unit model give well over 20,000 effectively independent samples, so the
        // standard error is below 0.004 and 0.02 is a > 5σ tolerance.
        assert_close(&w, &exact_w, 0.02, "ΔW");
        assert_close(&b, &exact_b, 0.02, "Δb");
        assert_close(&c, &exact_c, 0.02, "Δc");
    }

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

    #[test]
    fn config_reads_a_partial_section_with_defaults_and_rejects_unknown_keys() {
        let cfg: RbmConfig = serde_json::from_str(
            r#"{"hidden": 20, "cd_k": 3, "persistent": true, "visible_type": "gaussian",
                "gaussian_sigma": {"fixed": [1.0, 2.0]}, "momentum": {"final": 0.95},
                "lr_schedule": {"exponential": {"gamma": 0.9}}, "sparsity": {"target": 0.1},
                "eval": {"ais": null, "picture_shape": [28, 28]}}"#,
        )
        .unwrap();
        assert_eq!(
            (cfg.hidden, cfg.cd_k, cfg.persistent, cfg.batch_size),
            (20, 3, true, 100)
        );
        assert_eq!(cfg.gaussian_sigma, GaussianSigma::Fixed(vec![1.0, 2.0]));
        assert_eq!(
            cfg.momentum,
            Momentum {
                start: 0.5,
                r#final: 0.95,
                switch_epoch: 5
            }
        );
        assert_eq!(cfg.momentum.at(4), 0.5);
        assert_eq!(cfg.momentum.at(5), 0.95);
        assert!((cfg.lr_at(2) - 0.05 * 0.81).abs() < 1e-12);
        assert_eq!(cfg.sparsity.as_ref().unwrap().decay, 0.95);
        assert_eq!(cfg.eval.ais, None);
        let err = serde_json::from_str::<RbmConfig>(r#"{"hiden": 20}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `hiden`"), "{err}");
        let linear = RbmConfig {
            lr: 0.1,
            epochs: 11,
            lr_schedule: LrSchedule::Linear { final_lr: 0.0 },
            ..Default::default()
        };
        assert!((linear.lr_at(5) - 0.05).abs() < 1e-12 && linear.lr_at(10).abs() < 1e-12);
    }
}
