//! How an RBM is built and trained: [`RbmConfig`] and its parts. Plain data (serde); the YAML layer
//! maps an `rbm:` section onto it.

use serde::{Deserialize, Serialize};

use super::RbmError;

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
    /// Number of Gibbs chains shown in the samples picture, started at the first training examples.
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

/// Where an RBM's parameters start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RbmInit {
    /// Small Gaussian weights (`init_sigma`), hidden biases 0, visible biases log(p/(1−p)) of the
    /// training data's means (practical guide §8).
    #[default]
    Data,
    /// The parameters in a SafeTensors checkpoint written by an earlier run (`W`, `b_visible`,
    /// `c_hidden`). Training continues from them with fresh momentum and the epoch count (and so
    /// the learning-rate and momentum schedules) starting again at 0; `epochs: 0` only evaluates.
    Checkpoint(std::path::PathBuf),
}

impl RbmInit {
    fn is_data(&self) -> bool {
        *self == RbmInit::Data
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
    /// Where the parameters start: `data` (the default) or `{checkpoint: PATH}`.
    #[serde(skip_serializing_if = "RbmInit::is_data")]
    pub init: RbmInit,
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
            init: RbmInit::Data,
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
