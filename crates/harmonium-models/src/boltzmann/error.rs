//! Why building, sampling, evaluating or training a Boltzmann machine failed.

/// Why building, sampling, evaluating or training a Boltzmann machine failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BoltzmannError {
    /// A configuration value is wrong; the message names the key.
    #[error("invalid Boltzmann machine configuration: {0}")]
    Config(String),
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error("the training data is empty")]
    EmptyData,
    #[error(
        "exact enumeration would visit 2^{units} states, but at most 2^{max} are allowed (use \
         fewer units, or raise eval.exact_max_units up to 24)"
    )]
    TooManyUnits { units: usize, max: usize },
    #[error("{0}")]
    Unsupported(String),
    #[error(
        "Boltzmann machine training diverged at epoch {epoch}: {what} is not finite (try a \
         smaller lr, or a larger weight_cost)"
    )]
    Diverged { epoch: usize, what: String },
}

impl From<crate::events::NonFinite> for BoltzmannError {
    fn from(n: crate::events::NonFinite) -> Self {
        BoltzmannError::Diverged {
            epoch: n.step,
            what: n.what,
        }
    }
}
