//! Why building, evaluating or training a sigmoid belief net failed.

use crate::eval::EvalError;

/// Why building, evaluating or training a sigmoid belief net failed.
#[derive(Debug, thiserror::Error)]
pub enum SbnError {
    /// A configuration value (or a layer size) that makes no sense; the message names the key.
    #[error("invalid sigmoid belief net configuration: {0}")]
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
        "sigmoid belief net training diverged at epoch {epoch}: {what} is not finite (try a \
         smaller lr, or a smaller weight_cost)"
    )]
    Diverged { epoch: usize, what: String },
    #[error(transparent)]
    Eval(#[from] EvalError),
}

impl From<crate::eval::Interrupted> for SbnError {
    fn from(_: crate::eval::Interrupted) -> Self {
        SbnError::Eval(EvalError::Interrupted)
    }
}

impl From<crate::events::NonFinite> for SbnError {
    fn from(n: crate::events::NonFinite) -> Self {
        SbnError::Diverged {
            epoch: n.step,
            what: n.what,
        }
    }
}
