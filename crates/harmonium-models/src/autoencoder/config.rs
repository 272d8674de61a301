//! How an autoencoder layer is built and trained: [`AutoencoderLayerConfig`] and its parts.
//! Plain data (serde); the YAML layer maps a layer's section onto it, e.g.
//!
//! ```yaml
//! {module: dae, hidden: 500, corruption: {masking: 0.25}, epochs: 10, lr: 0.1}
//! {module: cae, hidden: 500, contraction: 0.1}
//! {module: dae, hidden: 200, corruption: {gaussian: 0.1}, decoder: linear}
//! ```
//!
//! `corruption` is `none`, `{masking: ν}` or `{gaussian: σ}` (serde's externally tagged enum);
//! left out it is the module's default (`dae`: `{masking: 0.25}`, `cae`: `none`). `contraction`
//! (λ) is for `cae` only; left out it is 0.1.

use serde::{Deserialize, Serialize};

use super::AutoencoderError;
use crate::rbm::Momentum;

/// Which autoencoder a layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// Denoising autoencoder: corrupted input, clean target.
    #[default]
    Dae,
    /// Contractive autoencoder: the Jacobian penalty λ‖∂h/∂x‖²_F.
    Cae,
}

impl Module {
    /// `dae` or `cae`: the name of the training stage in progress events and pictures.
    pub fn name(self) -> &'static str {
        match self {
            Module::Dae => "dae",
            Module::Cae => "cae",
        }
    }
}

/// The decoder's units and the loss that goes with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoder {
    /// `r = σ(hWᵀ + b)` with the cross-entropy loss; the data must lie in [0, 1]. The trained
    /// layer is an RBM with binary visible units.
    #[default]
    Sigmoid,
    /// `r = hWᵀ + b` with the loss `½‖r − x‖²`, for real-valued data. The trained layer is an
    /// RBM with unit-variance Gaussian visible units.
    Linear,
}

/// How the input is corrupted before it is encoded: `none`, `{masking: ν}` or `{gaussian: σ}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    /// The clean input.
    None,
    /// Each input set to 0 with probability ν, independently.
    Masking(f64),
    /// Additive noise N(0, σ²) on each input, independently.
    Gaussian(f64),
}

/// What to measure and emit while training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoencoderEvalConfig {
    /// At most this many training (and validation) examples are used for the metrics.
    pub max_examples: usize,
    /// `[rows, cols]` of an input vector as an image: `filters` and `reconstructions` pictures
    /// after the last epoch (and every `pictures_every` epochs). Unset: no pictures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_shape: Option<[usize; 2]>,
    /// Also draw the pictures every this many epochs (0: only after the last).
    pub pictures_every: usize,
    /// Number of filters shown in the filters picture.
    pub picture_filters: usize,
    /// Emit the trained layer as an RBM's SafeTensors `checkpoint` artifact after the last epoch.
    pub checkpoint: bool,
}

impl Default for AutoencoderEvalConfig {
    fn default() -> Self {
        AutoencoderEvalConfig {
            max_examples: 10_000,
            picture_shape: None,
            pictures_every: 0,
            picture_filters: 100,
            checkpoint: true,
        }
    }
}

/// Everything that defines how one autoencoder layer is built and trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoencoderLayerConfig {
    /// `dae` (denoising, the default) or `cae` (contractive).
    pub module: Module,
    /// Number of hidden units.
    pub hidden: usize,
    /// Passes through the training data.
    pub epochs: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// Learning rate of the mean gradient per example (default 0.1).
    pub lr: f64,
    /// Momentum schedule (the RBM's: `{start: 0.5, final: 0.9, switch_epoch: 5}`).
    pub momentum: Momentum,
    /// L2 weight cost on W (not the biases); default 0.0002.
    pub weight_cost: f64,
    /// Corruption of the input; unset: the module's default (`dae`: `{masking: 0.25}`, `cae`:
    /// `none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corruption: Option<Corruption>,
    /// λ of the contractive penalty (`cae` only); unset: 0.1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contraction: Option<f64>,
    /// `sigmoid` (cross-entropy, data in [0, 1]) or `linear` (squared error).
    pub decoder: Decoder,
    /// Standard deviation of the initial Gaussian weights (default 0.01; must be positive, or
    /// every hidden unit would stay the same).
    pub init_sigma: f64,
    /// Metrics, pictures and checkpoint.
    pub eval: AutoencoderEvalConfig,
}

impl Default for AutoencoderLayerConfig {
    fn default() -> Self {
        AutoencoderLayerConfig {
            module: Module::Dae,
            hidden: 500,
            epochs: 10,
            batch_size: 100,
            lr: 0.1,
            momentum: Momentum::default(),
            weight_cost: 0.0002,
            corruption: None,
            contraction: None,
            decoder: Decoder::Sigmoid,
            init_sigma: 0.01,
            eval: AutoencoderEvalConfig::default(),
        }
    }
}

/// The masking rate of a denoising autoencoder left without a `corruption`.
pub const DEFAULT_MASKING: f64 = 0.25;
/// λ of a contractive autoencoder left without a `contraction`.
pub const DEFAULT_CONTRACTION: f64 = 0.1;

impl AutoencoderLayerConfig {
    /// The corruption in effect: the configured one, or the module's default.
    pub fn corruption(&self) -> Corruption {
        self.corruption.unwrap_or(match self.module {
            Module::Dae => Corruption::Masking(DEFAULT_MASKING),
            Module::Cae => Corruption::None,
        })
    }

    /// λ in effect: 0 for `dae`, the configured value (or 0.1) for `cae`.
    pub fn contraction(&self) -> f64 {
        match self.module {
            Module::Dae => 0.0,
            Module::Cae => self.contraction.unwrap_or(DEFAULT_CONTRACTION),
        }
    }

    /// Checks the values that would make training meaningless; each error names its key.
    pub fn validate(&self) -> Result<(), AutoencoderError> {
        let bad = |m: String| Err(AutoencoderError::Config(m));
        if self.hidden == 0 {
            return bad("hidden: must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size: must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("lr: {} must be a positive number", self.lr));
        }
        let m = &self.momentum;
        if !((0.0..1.0).contains(&m.start) && (0.0..1.0).contains(&m.r#final)) {
            return bad(format!(
                "momentum: start ({}) and final ({}) must lie in [0, 1)",
                m.start, m.r#final
            ));
        }
        if !(self.weight_cost.is_finite() && self.weight_cost >= 0.0) {
            return bad(format!(
                "weight_cost: {} must be a non-negative number",
                self.weight_cost
            ));
        }
        if !(self.init_sigma.is_finite() && self.init_sigma > 0.0) {
            return bad(format!(
                "init_sigma: {} must be a positive number (with zero weights every hidden unit \
                 would stay the same)",
                self.init_sigma
            ));
        }
        match self.corruption {
            Some(Corruption::Masking(nu)) => {
                if !(0.0..=1.0).contains(&nu) {
                    return bad(format!("corruption.masking: {nu} is not a probability"));
                }
                if nu == 1.0 {
                    return bad("corruption.masking: 1 would set every input to 0".into());
                }
            }
            Some(Corruption::Gaussian(s)) if !(s.is_finite() && s >= 0.0) => {
                return bad(format!(
                    "corruption.gaussian: {s} is not a standard deviation (a non-negative number)"
                ));
            }
            _ => {}
        }
        match (self.module, self.contraction) {
            (Module::Dae, Some(_)) => {
                return bad(
                    "contraction: needs module: cae (a dae has no contractive penalty)".into(),
                );
            }
            (Module::Cae, Some(l)) if !(l.is_finite() && l >= 0.0) => {
                return bad(format!("contraction: {l} must be a non-negative number"));
            }
            _ => {}
        }
        let e = &self.eval;
        if e.max_examples == 0 {
            return bad("eval.max_examples: must be at least 1".into());
        }
        if let Some([r, c]) = e.picture_shape
            && (r == 0 || c == 0)
        {
            return bad("eval.picture_shape: needs at least 1 row and 1 column".into());
        }
        Ok(())
    }
}
