//! Why pretraining, unrolling or fine-tuning a deep autoencoder failed.

use crate::rbm::RbmError;

/// Why pretraining, unrolling or fine-tuning a deep autoencoder failed.
#[derive(Debug, thiserror::Error)]
pub enum DeepAutoencoderError {
    /// A config value that makes training meaningless; the message names the key.
    #[error("invalid autoencoder config: {0}")]
    Config(String),
    /// Two things whose sizes must agree do not.
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: usize,
        got: usize,
    },
    #[error("the training data is empty")]
    EmptyData,
    /// A metric (or the loss) became NaN or infinite.
    #[error(
        "autoencoder training diverged at epoch {epoch}: {what} is not finite (try a smaller lr)"
    )]
    Diverged { epoch: usize, what: String },
    /// The sink asked to stop while the stack was being pretrained: there is no stack to unroll.
    #[error("the pretraining of the autoencoder's stack was stopped before it finished")]
    Interrupted,
    /// Pretraining one of the stack's binary RBMs failed.
    #[error(transparent)]
    Rbm(#[from] RbmError),
}

impl From<crate::events::NonFinite> for DeepAutoencoderError {
    fn from(n: crate::events::NonFinite) -> Self {
        DeepAutoencoderError::Diverged {
            epoch: n.step,
            what: n.what,
        }
    }
}
