//! Why fitting or applying (logistic) PCA failed.

/// Why fitting or applying (logistic) PCA failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PcaError {
    /// A configuration value (or a code size) that makes no sense; the message names the key.
    #[error("invalid PCA configuration: {0}")]
    Config(String),
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error("{0} is empty (no examples)")]
    EmptyData(String),
    /// The data holds a NaN or an infinity (or values so large that their squares overflow).
    #[error("{0}")]
    NonFinite(String),
    /// Logistic PCA models values in [0, 1] (probabilities, or binary pixels).
    #[error("{what}: logistic PCA needs values in [0, 1], but they range from {min} to {max}")]
    OutOfRange { what: String, min: f64, max: f64 },
    #[error("the eigendecomposition of the {0}×{0} covariance did not converge")]
    NoConvergence(usize),
    #[error(
        "logistic PCA diverged at iteration {iteration}: {what} is not finite (try a smaller lr)"
    )]
    Diverged { iteration: usize, what: String },
}

impl From<crate::events::NonFinite> for PcaError {
    fn from(n: crate::events::NonFinite) -> Self {
        PcaError::Diverged {
            iteration: n.step,
            what: n.what,
        }
    }
}
