//! How a DBM is trained (§9): [`DbmConfig`] and its parts. Plain data (serde); the YAML layer maps
//! a `dbm:` section onto it.

use serde::{Deserialize, Serialize};

use super::DbmError;
use crate::rbm::{AisConfig, GaussianSigma, Momentum, RbmConfig, VisibleType};

/// Mean-field inference of q(h | v): fixed-point sweeps until no value moves by more than
/// `tolerance`, or `max_iterations` sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeanFieldConfig {
    /// Most sweeps (each updates every hidden layer once); default 10.
    pub max_iterations: usize,
    /// Stop once the largest change of any μ in a sweep is at most this; default 1e-6 (0: always
    /// run `max_iterations` sweeps).
    pub tolerance: f64,
}

impl Default for MeanFieldConfig {
    fn default() -> Self {
        MeanFieldConfig {
            max_iterations: 10,
            tolerance: 1e-6,
        }
    }
}

/// How the learning rate changes over the updates (t = 0 … T−1 over all mini-batches of all
/// epochs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DbmLrSchedule {
    /// `lr · (1 − t/T)`: linearly down to zero at the end of training (Salakhutdinov & Hinton
    /// 2009 decrease the rate gradually to zero; the stochastic-approximation argument for
    /// persistent chains needs a decreasing rate).
    #[default]
    LinearToZero,
    /// `lr` throughout.
    Constant,
}

/// What to measure while training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbmEvalConfig {
    /// Evaluate every this many epochs (the last epoch is always evaluated); 0: only the last.
    pub every: usize,
    /// At most this many training (and validation) examples are used for the metrics.
    pub max_examples: usize,
    /// Emit `exact_log_z`, `exact_loglik` and `mf_bound` (the variational bound with the exact
    /// log Z) when the smaller parity of layers has at most `exact_max_units` units.
    pub exact: bool,
    /// Largest number of units enumerated (2^n states).
    pub exact_max_units: usize,
    /// AIS estimate of log Z after the last epoch (2-layer DBMs), and `ais_mf_bound`; `null`
    /// turns it off.
    pub ais: Option<AisConfig>,
    /// Emit the trained DBM as a SafeTensors `checkpoint` artifact (`dbm.safetensors`) after the
    /// last epoch.
    pub checkpoint: bool,
    /// `[rows, cols]` of a visible vector as an image: after the last epoch (and every
    /// `pictures_every` epochs), pictures of the
    /// first-layer filters and of the persistent chains' visible probabilities. Unset: no
    /// pictures (the `dbm:` stage sets it for image datasets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_shape: Option<[usize; 2]>,
    /// Draw the pictures every this many epochs as well (0, the default: after the last only).
    #[serde(skip_serializing_if = "is_zero")]
    pub pictures_every: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Default for DbmEvalConfig {
    fn default() -> Self {
        DbmEvalConfig {
            every: 1,
            max_examples: 10_000,
            exact: true,
            exact_max_units: 20,
            ais: Some(AisConfig::default()),
            checkpoint: true,
            picture_shape: None,
            pictures_every: 0,
        }
    }
}

/// Where a DBM's parameters start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DbmInit {
    /// Small random weights, or the composed stack when `pretrain` is set.
    #[default]
    Random,
    /// The parameters in a DBM checkpoint (`dbm.safetensors`) written by an earlier run.
    Checkpoint(std::path::PathBuf),
}

impl DbmInit {
    fn is_random(&self) -> bool {
        *self == DbmInit::Random
    }
}

/// Everything that defines how a DBM is trained as a whole (§9). The defaults follow
/// Salakhutdinov & Hinton (2009): 100 persistent chains, a few Gibbs steps per update, mean-field
/// with at most 10 sweeps, a small learning rate decreasing to zero, weight cost 2·10⁻⁴ and
/// momentum 0.5 → 0.9.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbmConfig {
    /// Kind of visible unit: `binary` (default) or `gaussian` (unit variance: for real-valued
    /// data standardised per dimension, such as speech frames). The hidden units are binary.
    #[serde(skip_serializing_if = "is_binary")]
    pub visible: VisibleType,
    /// Hidden layer sizes n_1 … n_L (at least two); used by [`super::Dbm::fit`] to build a new
    /// DBM and checked against an existing one by `train`.
    pub layers: Vec<usize>,
    /// Passes through the training data.
    pub epochs: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// Initial learning rate (default 0.005).
    pub lr: f64,
    /// How the learning rate decays (default: linearly to zero).
    pub lr_schedule: DbmLrSchedule,
    /// Momentum schedule (default 0.5 for 5 epochs, then 0.9).
    pub momentum: Momentum,
    /// L2 weight cost on the weights (not the biases); default 0.0002.
    pub weight_cost: f64,
    /// Number of persistent chains for the data-independent statistics (default 100).
    pub chains: usize,
    /// Alternate-layer Gibbs steps that advance the chains per update (default 5).
    pub gibbs_steps: usize,
    /// Mean-field inference for the data-dependent statistics (and the bound).
    pub mean_field: MeanFieldConfig,
    /// Standard deviation of the initial weights of a new DBM (default 0.01).
    pub init_sigma: f64,
    /// Evaluation.
    pub eval: DbmEvalConfig,
    /// Where the parameters start: `random` (small random weights, or the composed stack with
    /// `pretrain`), or `{checkpoint: PATH}`, a `dbm.safetensors` an earlier run wrote (its
    /// layers must be `layers`; training continues from it, `epochs: 0` only evaluates).
    #[serde(skip_serializing_if = "DbmInit::is_random")]
    pub init: DbmInit,
    /// Greedy pretraining of the stack from RBMs before training the DBM as a whole (§8): the
    /// RBM settings shared by every layer (each takes its hidden size from `layers`; their AIS
    /// is left out). `null` (the default): the DBM starts from small random weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretrain: Option<RbmConfig>,
    /// The first pretraining RBM's learning rate, when it differs from `pretrain.lr` (Gaussian
    /// visible units usually need 10–100× less than binary ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretrain_first_lr: Option<f64>,
}

fn is_binary(v: &VisibleType) -> bool {
    *v == VisibleType::Binary
}

impl Default for DbmConfig {
    fn default() -> Self {
        DbmConfig {
            visible: VisibleType::Binary,
            layers: vec![500, 1000],
            epochs: 10,
            batch_size: 100,
            lr: 0.005,
            lr_schedule: DbmLrSchedule::LinearToZero,
            momentum: Momentum::default(),
            weight_cost: 0.0002,
            chains: 100,
            gibbs_steps: 5,
            mean_field: MeanFieldConfig::default(),
            init_sigma: 0.01,
            eval: DbmEvalConfig::default(),
            init: DbmInit::Random,
            pretrain: None,
            pretrain_first_lr: None,
        }
    }
}

impl DbmConfig {
    /// The configurations of the pretraining RBMs, bottom to top (`None` without `pretrain`):
    /// the first has the DBM's kind of visible unit (and `pretrain_first_lr`), the others
    /// binary ones.
    pub fn pretraining_layers(&self) -> Option<Vec<RbmConfig>> {
        let base = self.pretrain.as_ref()?;
        Some(
            self.layers
                .iter()
                .enumerate()
                .map(|(k, &hidden)| {
                    let mut c = base.clone();
                    c.hidden = hidden;
                    c.eval.ais = None;
                    if k == 0 {
                        c.visible_type = self.visible;
                        if let Some(lr) = self.pretrain_first_lr {
                            c.lr = lr;
                        }
                    } else {
                        c.visible_type = VisibleType::Binary;
                    }
                    c
                })
                .collect(),
        )
    }

    /// The learning rate of update `t` out of `total`.
    pub fn lr_at(&self, t: usize, total: usize) -> f64 {
        match self.lr_schedule {
            DbmLrSchedule::Constant => self.lr,
            DbmLrSchedule::LinearToZero => {
                self.lr * (1.0 - t as f64 / total.max(1) as f64).max(0.0)
            }
        }
    }

    /// Checks the values that would make training meaningless.
    pub fn validate(&self) -> Result<(), DbmError> {
        let bad = |m: &str| Err(DbmError::Config(m.to_string()));
        if self.layers.len() < 2 {
            return Err(DbmError::TooFewLayers {
                got: self.layers.len(),
            });
        }
        if self.layers.contains(&0) {
            return bad("every hidden layer needs at least 1 unit");
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        if self.chains == 0 {
            return bad("chains must be at least 1");
        }
        if self.gibbs_steps == 0 {
            return bad("gibbs_steps must be at least 1");
        }
        if self.mean_field.max_iterations == 0 {
            return bad("mean_field.max_iterations must be at least 1");
        }
        if !(self.mean_field.tolerance.is_finite() && self.mean_field.tolerance >= 0.0) {
            return bad("mean_field.tolerance must be a non-negative number");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be a positive number");
        }
        if !(self.weight_cost.is_finite() && self.weight_cost >= 0.0) {
            return bad("weight_cost must be a non-negative number");
        }
        if !(self.init_sigma.is_finite() && self.init_sigma >= 0.0) {
            return bad("init_sigma must be a non-negative number");
        }
        if let Some(ais) = &self.eval.ais
            && (ais.runs < 2 || ais.betas < 2)
        {
            return bad("eval.ais needs at least 2 runs and 2 betas");
        }
        if self.init != DbmInit::Random && self.pretrain.is_some() {
            return bad("init: {checkpoint: …} and pretrain exclude each other");
        }
        if let Some(p) = &self.pretrain {
            if p.visible_type != VisibleType::Binary {
                return bad(
                    "pretrain.visible_type: set the DBM's `visible: gaussian` instead (it applies \
                     to the first RBM; the layers above are binary)",
                );
            }
            if p.gaussian_sigma != GaussianSigma::Unit {
                return bad(
                    "pretrain.gaussian_sigma: the Gaussian visible units of a DBM have unit \
                     variance (standardise the data)",
                );
            }
        }
        if let Some(lr) = self.pretrain_first_lr {
            if self.pretrain.is_none() {
                return bad("pretrain_first_lr needs a `pretrain:` block");
            }
            if !(lr.is_finite() && lr > 0.0) {
                return bad("pretrain_first_lr must be a positive number");
            }
        }
        Ok(())
    }
}
