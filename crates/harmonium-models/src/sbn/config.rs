//! How a sigmoid belief net is trained by wake-sleep: [`SbnConfig`] and what to measure,
//! [`SbnEvalConfig`]. Plain data (serde); the YAML layer maps an `sbn:` section onto it.

use serde::{Deserialize, Serialize};

use super::SbnError;

/// What to measure while training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SbnEvalConfig {
    /// Evaluate every this many epochs (the last epoch is always evaluated); 0: only the last.
    pub every: usize,
    /// At most this many training (and validation) examples are used for the metrics.
    pub max_examples: usize,
    /// Samples k from the recognition net per example for `is_loglik` and `bound` (at least 2,
    /// for the standard error); default 100.
    pub importance_samples: usize,
    /// Emit `exact_loglik`, `exact_bound` and `exact_kl` when the hidden layers have at most
    /// `exact_max_units` units in all.
    pub exact: bool,
    /// Largest number of hidden units enumerated (2^n joint states; at most 30). Default 12.
    /// The cost grows as 2^n · examples · visible: 16 hidden units take seconds per 1000
    /// MNIST examples on two CPU cores.
    pub exact_max_units: usize,
    /// `[rows, cols]` of a visible vector as an image: pictures of fantasies (the visible
    /// probabilities p(v | h¹) of top-down samples from the prior) and of the generative
    /// weights G¹ after the last epoch. Unset: no pictures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_shape: Option<[usize; 2]>,
    /// Also draw the pictures every this many epochs (0: only after the last).
    pub pictures_every: usize,
    /// Fantasies in the `samples` picture (default 100).
    pub fantasies: usize,
}

impl Default for SbnEvalConfig {
    fn default() -> Self {
        SbnEvalConfig {
            every: 1,
            max_examples: 1000,
            importance_samples: 100,
            exact: true,
            exact_max_units: 12,
            picture_shape: None,
            pictures_every: 0,
            fantasies: 100,
        }
    }
}

/// Everything that defines how a sigmoid belief net is trained by wake-sleep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SbnConfig {
    /// Hidden layer sizes n_1 … n_L, bottom (next to the visible units) to top; at least one.
    pub layers: Vec<usize>,
    /// Passes through the training data.
    pub epochs: usize,
    /// Examples per mini-batch; the sleep phase dreams as many fantasies per update.
    pub batch_size: usize,
    /// Learning rate ε of the generative weights and biases (wake phase); default 0.05.
    pub lr: f64,
    /// Learning rate of the recognition weights and biases (sleep phase); unset: `lr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recognition_lr: Option<f64>,
    /// L2 weight cost λ on the generative and recognition weights (not the biases); default 0.
    pub weight_cost: f64,
    /// Standard deviation of the initial generative and recognition weights (default 0.01).
    pub init_sigma: f64,
    /// Evaluation.
    pub eval: SbnEvalConfig,
}

impl Default for SbnConfig {
    fn default() -> Self {
        SbnConfig {
            layers: vec![100, 20],
            epochs: 10,
            batch_size: 20,
            lr: 0.05,
            recognition_lr: None,
            weight_cost: 0.0,
            init_sigma: 0.01,
            eval: SbnEvalConfig::default(),
        }
    }
}

/// Checks hidden layer sizes: at least one layer, none empty.
pub(crate) fn check_layers(layers: &[usize]) -> Result<(), SbnError> {
    if layers.is_empty() {
        return Err(SbnError::Config(
            "layers: a sigmoid belief net needs at least 1 hidden layer, but none were given"
                .into(),
        ));
    }
    if let Some(l) = layers.iter().position(|&n| n == 0) {
        return Err(SbnError::Config(format!(
            "layers: every hidden layer needs at least 1 unit, but layer {} of {layers:?} has 0",
            l + 1
        )));
    }
    Ok(())
}

impl SbnConfig {
    /// The learning rate of the recognition weights.
    pub fn recognition_lr(&self) -> f64 {
        self.recognition_lr.unwrap_or(self.lr)
    }

    /// Checks the values that would make training meaningless; each error names its key.
    pub fn validate(&self) -> Result<(), SbnError> {
        let bad = |m: &str| Err(SbnError::Config(m.to_string()));
        check_layers(&self.layers)?;
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be a positive number");
        }
        if let Some(r) = self.recognition_lr
            && !(r.is_finite() && r > 0.0)
        {
            return bad("recognition_lr must be a positive number");
        }
        if !(self.weight_cost.is_finite() && self.weight_cost >= 0.0) {
            return bad("weight_cost must be a non-negative number");
        }
        if !(self.init_sigma.is_finite() && self.init_sigma >= 0.0) {
            return bad("init_sigma must be a non-negative number");
        }
        let e = &self.eval;
        if e.max_examples == 0 {
            return bad("eval.max_examples must be at least 1");
        }
        if e.importance_samples < 2 {
            return bad("eval.importance_samples must be at least 2 (for the standard error)");
        }
        if e.exact_max_units > 30 {
            return bad("eval.exact_max_units must be at most 30");
        }
        if e.fantasies == 0 {
            return bad("eval.fantasies must be at least 1");
        }
        if let Some([r, c]) = e.picture_shape
            && (r == 0 || c == 0)
        {
            return bad("eval.picture_shape needs at least 1 row and 1 column");
        }
        Ok(())
    }
}
