//! Why building, pretraining or training a DBM failed.

use crate::eval::EvalError;
use crate::rbm::RbmError;

/// Why building, pretraining or training a DBM failed.
#[derive(Debug, thiserror::Error)]
pub enum DbmError {
    #[error(
        "a deep Boltzmann machine needs at least 2 hidden layers, but {got} were given (for one \
         hidden layer train an RBM)"
    )]
    TooFewLayers { got: usize },
    #[error("invalid DBM configuration: {0}")]
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
        "DBM training diverged at epoch {epoch}: {what} is not finite (try a smaller lr, or a \
         larger weight_cost)"
    )]
    Diverged { epoch: usize, what: String },
    #[error(transparent)]
    Rbm(#[from] RbmError),
    #[error(transparent)]
    Eval(#[from] EvalError),
}

impl From<crate::eval::Interrupted> for DbmError {
    fn from(_: crate::eval::Interrupted) -> Self {
        DbmError::Eval(EvalError::Interrupted)
    }
}

impl From<crate::events::NonFinite> for DbmError {
    fn from(n: crate::events::NonFinite) -> Self {
        DbmError::Diverged {
            epoch: n.step,
            what: n.what,
        }
    }
}
