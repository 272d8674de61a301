//! How (logistic) PCA is fitted: [`PcaConfig`] and [`LogisticPcaConfig`]. Plain data (serde);
//! the YAML layer maps a `pca:` or `logistic_pca:` section onto them.

use serde::{Deserialize, Serialize};

use super::PcaError;

/// Linear PCA: only the code size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PcaConfig {
    /// k, the code size: principal components kept (1 ≤ k ≤ the input dimension); default 30.
    pub components: usize,
}

impl Default for PcaConfig {
    fn default() -> Self {
        PcaConfig { components: 30 }
    }
}

impl PcaConfig {
    /// Checks the values that would make fitting meaningless; each error names its key.
    pub fn validate(&self) -> Result<(), PcaError> {
        check_components(self.components, None)
    }
}

/// Where logistic PCA's basis starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogisticInit {
    /// The top k components of linear PCA on the same data (deterministic, and a good start).
    #[default]
    Pca,
    /// Small random numbers, N(0, 0.01²), from the seed (the steps do not depend on the scale
    /// of the basis, only on its directions).
    Random,
}

/// Logistic PCA fitted by alternating preconditioned gradient steps (see [`super::logistic`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticPcaConfig {
    /// k, the code size: the columns of the basis V (1 ≤ k ≤ the input dimension); default 30.
    pub components: usize,
    /// Alternating iterations on the training data (one step of the codes A, then one of the
    /// basis V and biases b, each); default 100.
    pub iterations: usize,
    /// Step size ε of both blocks in training, as a fraction of the step that minimises the
    /// quadratic upper bound of the loss: every ε in (0, 2) lowers the loss (or leaves it) at
    /// every step; 1 lowers the bound most, but the bound is loose where pixels saturate and
    /// longer steps go further in practice. Default 1.9.
    pub lr: f64,
    /// Accelerated code steps of new data (test images), with V and b fixed, from zero codes;
    /// default 100.
    pub code_iterations: usize,
    /// Where the basis starts: `pca` (default) or `random`.
    pub init: LogisticInit,
    /// Emit the metrics every this many iterations (the last is always measured; 0: only the
    /// last). Default 1.
    pub eval_every: usize,
}

impl Default for LogisticPcaConfig {
    fn default() -> Self {
        LogisticPcaConfig {
            components: 30,
            iterations: 100,
            lr: 1.9,
            code_iterations: 100,
            init: LogisticInit::Pca,
            eval_every: 1,
        }
    }
}

impl LogisticPcaConfig {
    /// Checks the values that would make fitting meaningless; each error names its key.
    pub fn validate(&self) -> Result<(), PcaError> {
        let bad = |m: &str| Err(PcaError::Config(m.to_string()));
        check_components(self.components, None)?;
        if self.iterations == 0 {
            return bad("iterations must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr must be a positive number (below 2 every step lowers the loss)");
        }
        if self.code_iterations == 0 {
            return bad("code_iterations must be at least 1");
        }
        Ok(())
    }
}

/// Checks a code size k: at least 1 and, once the input dimension d is known, at most d.
pub(crate) fn check_components(k: usize, input: Option<usize>) -> Result<(), PcaError> {
    if k == 0 {
        return Err(PcaError::Config(
            "components: k (code size) must be at least 1".into(),
        ));
    }
    if let Some(d) = input
        && k > d
    {
        return Err(PcaError::Config(format!(
            "components: k (code size) {k} larger than the input ({d} columns)"
        )));
    }
    Ok(())
}
