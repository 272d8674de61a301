//! The `mlp:` section as plain data: architecture, initial weights and backprop settings.

use burn::tensor::Tensor;
use burn::tensor::activation::{relu, sigmoid};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Sigmoid,
    Tanh,
    Relu,
}

impl Activation {
    pub(super) fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            // Without a gradient to keep (evaluation), the vectorized logistic of the CPU.
            Activation::Sigmoid if !x.is_autodiff() => crate::fast_math::logistic(x),
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

/// Where the hidden layers' initial weights come from: a source of `(W, c)` per hidden layer that
/// the experiment pipeline provides (the model only builds the net from them).
///
/// Later sources are added here as new variants: `dbm` (the layers of a deep Boltzmann machine)
/// and `autoencoder` (the encoder of a deep autoencoder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitSource {
    /// Random weights ([`Mlp::random`](super::Mlp::random)): the baseline.
    #[default]
    Random,
    /// The recognition weights of a greedily pretrained stack of RBMs, a DBN
    /// ([`Mlp::from_layers`](super::Mlp::from_layers)); needs a `pretrain:` section. Written `dbn`
    /// or, as before, `pretrained`; it is stored as `pretrained`, so experiment files written
    /// before `dbn` existed keep their config hashes.
    #[serde(rename = "pretrained", alias = "dbn")]
    Dbn,
    /// The weights of a deep Boltzmann machine (a `dbm:` section), on the data augmented with
    /// the DBM's mean-field posterior of its top layer (Salakhutdinov & Hinton 2009).
    #[serde(rename = "dbm")]
    Dbm,
}

impl InitSource {
    /// The name used in messages (`random`, `dbn`).
    pub fn name(self) -> &'static str {
        match self {
            InitSource::Random => "random",
            InitSource::Dbn => "dbn",
            InitSource::Dbm => "dbm",
        }
    }
}

impl std::fmt::Display for InitSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The `mlp:` section: architecture and backprop training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpConfig {
    /// Hidden layer sizes, bottom to top, e.g. `[500, 500, 2000]`.
    pub hidden: Vec<usize>,
    /// Where the hidden layers start: `random`, or `dbn` (alias `pretrained`: a pretrained stack
    /// of RBMs; needs a `pretrain:` section and sigmoid units).
    pub init: InitSource,
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
            init: InitSource::Random,
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
        if self.init != InitSource::Random && self.activation != Activation::Sigmoid {
            return Err(format!(
                "init: {} needs activation: sigmoid (the units it was trained with)",
                self.init
            ));
        }
        if self.init != InitSource::Random && self.hidden.is_empty() {
            return Err(format!(
                "init: {} needs at least one hidden layer",
                self.init
            ));
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
