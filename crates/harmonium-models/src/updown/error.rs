//! Why building, pretraining or fine-tuning a DBN with label units failed.

use crate::eval::EvalError;
use crate::rbm::RbmError;

/// Why building, pretraining or fine-tuning a DBN with label units failed.
#[derive(Debug, thiserror::Error)]
pub enum UpDownError {
    #[error("invalid up-down configuration: {0}")]
    Config(String),
    /// The layer sizes do not chain (with each other, the data, or a pretrained stack).
    #[error("layers: {0}")]
    Layers(String),
    #[error(
        "labels: the {split} split has no labels, but the top-level associative memory of an \
         up-down DBN learns with label units (give a labelled dataset)"
    )]
    MissingLabels { split: &'static str },
    #[error("labels: {0}")]
    Labels(String),
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error("the {split} split is empty")]
    EmptyData { split: &'static str },
    #[error(
        "up-down training diverged at epoch {epoch}: {what} is not finite (try a smaller lr, or a \
         larger weight_cost)"
    )]
    Diverged { epoch: usize, what: String },
    /// The sink asked to stop before a complete model existed (during greedy pretraining).
    #[error("stopped (Ctrl-C or a stop signal) before pretraining finished")]
    Interrupted,
    #[error(transparent)]
    Rbm(#[from] RbmError),
    #[error(transparent)]
    Eval(#[from] EvalError),
}

impl From<crate::events::NonFinite> for UpDownError {
    fn from(n: crate::events::NonFinite) -> Self {
        UpDownError::Diverged {
            epoch: n.step,
            what: n.what,
        }
    }
}
