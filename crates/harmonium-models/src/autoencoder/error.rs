//! Why building or training an autoencoder layer (or a stack of them) failed.

/// Why building or training an autoencoder layer (or a stack of them) failed.
#[derive(Debug, thiserror::Error)]
pub enum AutoencoderError {
    /// A configuration value that makes no sense; the message names the key.
    #[error("invalid autoencoder configuration: {0}")]
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
        "autoencoder training diverged at epoch {epoch}: {what} is not finite (try a smaller lr, \
         or a larger weight_cost)"
    )]
    Diverged { epoch: usize, what: String },
    /// A layer of a stack failed (1-based, as in its `layer{k}` events).
    #[error("layer {layer}: {source}")]
    Layer {
        layer: usize,
        #[source]
        source: Box<AutoencoderError>,
    },
}

impl From<crate::events::NonFinite> for AutoencoderError {
    fn from(n: crate::events::NonFinite) -> Self {
        AutoencoderError::Diverged {
            epoch: n.step,
            what: n.what,
        }
    }
}
