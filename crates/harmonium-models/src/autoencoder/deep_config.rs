//! How the deep autoencoder is pretrained and fine-tuned: [`CodeRbmConfig`] (the code layer's
//! RBM with linear hidden units) and [`DeepAutoencoderConfig`] (architecture, start and
//! backprop), with [`DeepEvalConfig`] (pictures). Plain data (serde); the YAML layer maps its
//! sections onto them.

use serde::{Deserialize, Serialize};

use super::DeepAutoencoderError;
use crate::rbm::Momentum;

/// The code layer's RBM: binary visible units, linear (unit-variance Gaussian) hidden units,
/// learned by CD-1 ([`super::CodeRbm`]). The defaults follow Hinton & Salakhutdinov's (2006)
/// `rbmhidlinear.m`: a learning rate 10× smaller than for binary hidden units, momentum 0.5 for
/// 5 epochs then 0.9, weight cost 0.0002 and initial weights N(0, 0.1²).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CodeRbmConfig {
    /// Number of linear hidden units: the code size (default 30).
    pub hidden: usize,
    /// Passes through the training data (default 10).
    pub epochs: usize,
    /// Examples per mini-batch (default 100).
    pub batch_size: usize,
    /// Learning rate of W, b and c (default 0.001).
    pub lr: f64,
    /// Momentum schedule (default 0.5 for 5 epochs, then 0.9).
    pub momentum: Momentum,
    /// L2 weight cost on W (not the biases); default 0.0002.
    pub weight_cost: f64,
    /// Standard deviation of the initial weights (default 0.1).
    pub init_sigma: f64,
    /// At most this many training (and validation) examples for the per-epoch `recon_error`
    /// (default 10,000).
    pub max_eval_examples: usize,
}

impl Default for CodeRbmConfig {
    fn default() -> Self {
        CodeRbmConfig {
            hidden: 30,
            epochs: 10,
            batch_size: 100,
            lr: 0.001,
            momentum: Momentum::default(),
            weight_cost: 0.0002,
            init_sigma: 0.1,
            max_eval_examples: 10_000,
        }
    }
}

fn positive(key: &str, x: f64) -> Result<(), DeepAutoencoderError> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(DeepAutoencoderError::Config(format!(
            "{key} must be a positive number, got {x}"
        )))
    }
}

fn non_negative(key: &str, x: f64) -> Result<(), DeepAutoencoderError> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(DeepAutoencoderError::Config(format!(
            "{key} must be a non-negative number, got {x}"
        )))
    }
}

fn momentum_in_range(key: &str, m: f64) -> Result<(), DeepAutoencoderError> {
    if (0.0..1.0).contains(&m) {
        Ok(())
    } else {
        Err(DeepAutoencoderError::Config(format!(
            "{key} must be in [0, 1), got {m}"
        )))
    }
}

impl CodeRbmConfig {
    /// Checks the values that would make training meaningless; each error names its key.
    pub fn validate(&self) -> Result<(), DeepAutoencoderError> {
        let bad = |m: &str| Err(DeepAutoencoderError::Config(m.to_string()));
        if self.hidden == 0 {
            return bad("hidden: the code layer needs at least 1 unit");
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        positive("lr", self.lr)?;
        non_negative("weight_cost", self.weight_cost)?;
        non_negative("init_sigma", self.init_sigma)?;
        momentum_in_range("momentum.start", self.momentum.start)?;
        momentum_in_range("momentum.final", self.momentum.r#final)?;
        Ok(())
    }
}

/// The reconstruction error that backprop descends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// `−Σ_i [x_i log x̂_i + (1 − x_i) log(1 − x̂_i)]` per image (the 2006 paper's choice for
    /// MNIST; computed from the logits as `Σ_i softplus(z_i) − x_i z_i`).
    #[default]
    CrossEntropy,
    /// `Σ_i (x_i − x̂_i)²` per image.
    Squared,
}

/// Where the unrolled net's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoencoderInit {
    /// The greedily pretrained stack, unrolled ([`super::DeepAutoencoder::unroll`]).
    #[default]
    Pretrained,
    /// The same shapes with weights N(0, init_std²) and zero biases
    /// ([`super::DeepAutoencoder::random`]): the baseline without pretraining.
    Random,
}

/// Pictures drawn while fine-tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeepEvalConfig {
    /// At most this many examples of each set for the per-epoch errors (default 10,000).
    pub max_examples: usize,
    /// `[rows, cols]` of an input vector as an image: a `reconstructions` picture before
    /// fine-tuning, every `pictures_every` epochs and after the last. Unset: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_shape: Option<[usize; 2]>,
    /// Also draw the pictures every this many epochs (0, the default: before and after only).
    pub pictures_every: usize,
    /// Test digits shown in the `reconstructions` picture (default 20).
    pub pictures: usize,
    /// Side in pixels of the `code_map` picture, drawn when the code has 2 units and the test
    /// set's labels are given (default 400).
    pub code_map_size: usize,
}

impl Default for DeepEvalConfig {
    fn default() -> Self {
        DeepEvalConfig {
            max_examples: 10_000,
            picture_shape: None,
            pictures_every: 0,
            pictures: 20,
            code_map_size: 400,
        }
    }
}

/// The deep autoencoder: encoder sizes, where the weights start, and backprop fine-tuning of
/// the reconstruction error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeepAutoencoderConfig {
    /// Encoder layer sizes above the input, bottom first; the last is the (linear) code layer.
    /// Default `[1000, 500, 250, 30]` (the 2006 paper's MNIST net 784-1000-500-250-30).
    pub layers: Vec<usize>,
    /// `pretrained` (the default) or `random`.
    pub init: AutoencoderInit,
    /// Standard deviation of the random arm's initial weights (default 0.01).
    pub init_std: f64,
    /// `cross_entropy` (the default) or `squared`.
    pub loss: Loss,
    /// Passes of backprop through the training data (default 50).
    pub epochs: usize,
    /// Examples per mini-batch (default 100).
    pub batch_size: usize,
    /// Learning rate ε of SGD on the loss per image averaged over the mini-batch (default 0.01:
    /// on 10,000 MNIST digits the 784-1000-500-250-30 net learns at 0.003–0.03; the
    /// 784-100-30 net is unstable at 0.1).
    pub lr: f64,
    /// Classic momentum μ (default 0.9).
    pub momentum: f64,
    /// L2 weight decay λ on the weights, not the biases (default 0).
    pub weight_decay: f64,
    /// Pictures and the size of the evaluation sets.
    pub eval: DeepEvalConfig,
}

impl Default for DeepAutoencoderConfig {
    fn default() -> Self {
        DeepAutoencoderConfig {
            layers: vec![1000, 500, 250, 30],
            init: AutoencoderInit::Pretrained,
            init_std: 0.01,
            loss: Loss::CrossEntropy,
            epochs: 50,
            batch_size: 100,
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 0.0,
            eval: DeepEvalConfig::default(),
        }
    }
}

impl DeepAutoencoderConfig {
    /// The code size: the last layer's.
    pub fn code_size(&self) -> Option<usize> {
        self.layers.last().copied()
    }

    /// Checks the values that would make training meaningless; each error names its key.
    pub fn validate(&self) -> Result<(), DeepAutoencoderError> {
        let bad = |m: String| Err(DeepAutoencoderError::Config(m));
        if self.layers.is_empty() {
            return bad(
                "layers: a deep autoencoder needs at least 1 layer (the code layer), but none \
                 were given"
                    .into(),
            );
        }
        if let Some(l) = self.layers.iter().position(|&n| n == 0) {
            return bad(format!(
                "layers: every layer needs at least 1 unit, but layer {} of {:?} has 0",
                l + 1,
                self.layers
            ));
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".into());
        }
        positive("lr", self.lr)?;
        momentum_in_range("momentum", self.momentum)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("init_std", self.init_std)?;
        if self.eval.code_map_size < 16 {
            return bad(format!(
                "eval.code_map_size must be at least 16 pixels, got {}",
                self.eval.code_map_size
            ));
        }
        Ok(())
    }

    /// [`DeepAutoencoderConfig::validate`], and the code no larger than the `input` it codes.
    pub fn validate_for(&self, input: usize) -> Result<(), DeepAutoencoderError> {
        self.validate()?;
        let code = self.layers[self.layers.len() - 1];
        if code > input {
            return Err(DeepAutoencoderError::Config(format!(
                "layers: the code size {code} is larger than the input {input}"
            )));
        }
        if let Some([rows, cols]) = self.eval.picture_shape
            && rows * cols != input
        {
            return Err(DeepAutoencoderError::Config(format!(
                "eval.picture_shape: {rows}×{cols} pixels is not the input size {input}"
            )));
        }
        Ok(())
    }
}
