//! Autoencoders (paper §2, §10): the deep autoencoder that, pretrained from RBMs, beats PCA,
//! and denoising and contractive autoencoder layers that replace RBMs in a pretraining stack.
//!
//! **The deep autoencoder** (Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data
//! with neural networks"): a stack of RBMs is pretrained greedily, the top one with linear
//! hidden units so that the code is real-valued; the stack is unrolled into an encoder (its
//! up-pass) and a mirrored decoder (its down-pass) with untied weights, and the whole net is
//! fine-tuned by backprop of the reconstruction error. On MNIST a 784-1000-500-250-30 net
//! reaches a squared error of 3.00 per test image, against 8.01 for logistic PCA and 13.87 for
//! PCA with 30 components.
//!
//! **Autoencoder layers as pretraining modules** (paper §10; Vincent, Larochelle, Bengio & Manzagol
//! 2008, "Extracting and composing robust features with denoising autoencoders"; Vincent et al.
//! 2010, "Stacked denoising autoencoders"; Rifai, Vincent, Muller, Glorot & Bengio 2011,
//! "Contractive auto-encoders").
//!
//! A layer has tied weights `W [visible, hidden]` (shaped like an RBM's), visible biases b and
//! hidden biases c. With x̃ the (possibly corrupted) input and x the clean input:
//!
//! ```text
//! h = σ(x̃W + c)                                   encoder (= an RBM's p(h = 1 | x̃))
//! r = σ(hWᵀ + b)     L(x, r) = −Σ_i [x_i log r_i + (1 − x_i) log(1 − r_i)]   (sigmoid decoder)
//! r = hWᵀ + b        L(x, r) = ½ Σ_i (r_i − x_i)²                            (linear decoder)
//! ```
//!
//! * **Denoising** (`dae`): x̃ is x corrupted at random, either by **masking** (each input set to
//!   0 with probability ν, independently) or by additive **Gaussian** noise N(0, σ²); the loss
//!   asks for the *clean* x back, so the features must capture the dependencies between inputs.
//! * **Contractive** (`cae`): no corruption (by default) but a penalty on the encoder's
//!   sensitivity, the squared Frobenius norm of its Jacobian, which for sigmoid units is
//!
//!   ```text
//!   λ ‖∂h/∂x̃‖²_F = λ Σ_j (h_j(1 − h_j))² Σ_i W_ij²
//!   ```
//!
//! The objective of a mini-batch is the mean over its examples of `L(x, r) [+ λ‖J‖²_F]`; its
//! gradient is in closed form ([`learn`]), and the update is the RBM's
//! `Δθ ← m·Δθ + lr·(−∂E/∂θ − wc·θ)` (wc on W only).
//!
//! A trained layer is an RBM's recognition half: [`AutoencoderLayer::to_rbm`] gives an
//! [`crate::rbm::Rbm`] with the same W, b, c (binary visible units for a sigmoid decoder,
//! unit-variance Gaussian ones for a linear decoder) whose up-pass `σ(xW + c)` is the encoder,
//! and [`pretrain_stack`] trains layer after layer on the hidden probabilities of the one below
//! into a [`crate::dbn::Dbn`], in place of RBMs.
//!
//! The files follow the procedure:
//!
//! * [`layer`]: the [`AutoencoderLayer`]: encoder, decoder, reconstruction loss, `to_rbm`.
//! * [`corruption`]: masking and Gaussian corruption of the input.
//! * [`contractive`]: the Jacobian penalty and its gradient.
//! * [`learn`]: the closed-form gradient of a mini-batch's objective and the momentum update.
//! * [`train`]: the training loop with its per-epoch metrics and events.
//! * [`stack`]: greedy layer-wise pretraining of a DBN-shaped stack.
//! * [`config`]: [`AutoencoderLayerConfig`] and its parts; [`error`]: [`AutoencoderError`].
//!
//! The deep autoencoder's files:
//!
//! * [`code_rbm`]: the code layer's RBM, binary visible and linear hidden units, by CD-1.
//! * [`deep_stack`]: the pretrained stack as layers `(W, b, c, linear)`, and its greedy
//!   pretraining (binary RBMs, then the code RBM).
//! * [`deep`]: the unrolled net ([`DeepAutoencoder`]): encoder, decoder, loss; the random arm.
//! * [`deep_train`]: fine-tuning by backprop with its per-epoch metrics and pictures.
//! * [`deep_pictures`]: reconstructions beside the originals, and the map of 2-D codes.
//! * [`deep_config`]: [`CodeRbmConfig`], [`DeepAutoencoderConfig`]; [`deep_error`]:
//!   [`DeepAutoencoderError`]; `deep_record`: the metrics recorder and [`DeepTrainSummary`].

pub mod code_rbm;
pub mod config;
pub mod contractive;
pub mod corruption;
pub mod deep;
pub mod deep_config;
pub mod deep_error;
pub mod deep_pictures;
mod deep_record;
pub mod deep_stack;
pub mod deep_train;
pub mod error;
pub mod layer;
pub mod learn;
pub mod stack;
pub mod train;

#[cfg(test)]
mod tests;

pub use code_rbm::CodeRbm;
pub use config::{AutoencoderEvalConfig, AutoencoderLayerConfig, Corruption, Decoder, Module};
pub use deep::DeepAutoencoder;
pub use deep_config::{
    AutoencoderInit, CodeRbmConfig, DeepAutoencoderConfig, DeepEvalConfig, Loss,
};
pub use deep_error::DeepAutoencoderError;
pub use deep_pictures::{CLASS_COLOURS, code_map_png, reconstructions_png};
pub use deep_record::DeepTrainSummary;
pub use deep_stack::{
    StackLayer as UnrolledLayer, pretrain_stack as pretrain_code_stack, stack_layers,
};
pub use deep_train::AutoencoderData;
pub use error::AutoencoderError;
pub use layer::AutoencoderLayer;
pub use learn::{Gradients, Increments, SgdStep};
pub use stack::pretrain_stack;
pub use train::AutoencoderTrainSummary;
