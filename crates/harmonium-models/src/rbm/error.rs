//! Why building or training an RBM failed.

use crate::eval::EvalError;

/// Why building or training an RBM failed.
#[derive(Debug, thiserror::Error)]
pub enum RbmError {
    #[error("invalid RBM configuration: {0}")]
    Config(String),
    #[error("{what} has {got} columns but the RBM has {expected} visible units")]
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("the training data is empty")]
    EmptyData,
    #[error(
        "RBM training diverged at epoch {epoch}: {what} is not finite (try a smaller lr, or a \
         larger weight_cost)"
    )]
    Diverged { epoch: usize, what: String },
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    State(#[from] crate::resume::StateError),
}
