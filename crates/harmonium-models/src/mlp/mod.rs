//! Feedforward classifier trained by backpropagation (paper Fig. 1).
//!
//! Hidden layers `h_l = f(h_{l-1} W_l + c_l)` with `f` the logistic σ (or tanh, ReLU), a softmax
//! output `p(y|x) = softmax(h_L W_out + c_out)`, trained on the cross-entropy `−log p(y|x)` by
//! mini-batch gradient descent: `Δθ ← μ Δθ − ε (∂E/∂θ + λ θ)` (classic momentum μ, weight decay λ;
//! or Adam). Gradients come from burn's autodiff (on the CPU with SGD, from the chain rule
//! written out, [`backprop`], tested equal to it). This is both the random-init baseline and
//! the fine-tuning engine for pretrained stacks: [`Mlp::from_layers`] builds it from given
//! weights.
//!
//! Early stopping keeps the parameters of the epoch with the lowest validation error; the
//! `best_*` metrics report that epoch.
//!
//! `config` holds the `mlp:` section, `model` the network and its evaluation, `train` the
//! backprop loop, `halves`, `backprop` and `update` its CPU fast path (each mini-batch as two
//! halves side by side, their gradients by the chain rule written out, the SGD update in one
//! pass).

mod backprop;
mod config;
mod halves;
mod model;
mod resume;
mod train;
mod update;

pub use config::{Activation, InitSource, MlpConfig, Optimizer};
pub use model::{Mlp, evaluate, log_probabilities};
pub use train::{MlpError, MlpSummary, Splits, train};

#[cfg(test)]
mod tests;
