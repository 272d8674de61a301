//! A deep belief net with label units, fine-tuned generatively by the up-down algorithm
//! (contrastive wake-sleep; paper §7; Hinton, Osindero & Teh 2006, "A fast learning algorithm
//! for deep belief nets").
//!
//! The net has visible units v = h⁰, directed layers up to the penultimate layer h^{L−1}, and a
//! top-level associative memory: an RBM between the penultimate layer concatenated with K
//! softmax label units y and the top layer h^L. Below the top every connection is split into a
//! recognition (up) weight and a generative (down) weight, untied (both start from the
//! pretrained RBM's W and Wᵀ with its biases):
//!
//! ```text
//! q(h^l = 1 | h^{l−1}) = σ(r_l + h^{l−1} R_l)             recognition weights R_l, biases r_l
//! p(h^{l−1} = 1 | h^l) = σ(g_l + h^l G_l)                 generative weights G_l, biases g_l
//! p(h^L = 1 | x, y)    = σ(c + x W_x + y W_y)             top-level associative memory
//! p(x = 1 | h^L) = σ(b_x + h^L W_xᵀ),   p(y = k | h^L) = softmax_k(b_k + Σ_j W_kj h^L_j)
//! ```
//!
//! **Up-down**, one mini-batch (every statistic with the parameters before the update, ⟨⟩ the
//! mean over the mini-batch):
//!
//! ```text
//! up-pass:   h^l ~ q(h^l | h^{l−1}), l = 1 … L−1 (binary states)
//!            ΔG_l ∝ ⟨(h^l)ᵀ (h^{l−1} − p(h^{l−1} | h^l))⟩,  Δg_l ∝ ⟨h^{l−1} − p(h^{l−1} | h^l)⟩
//! top level: CD-k with v⁺ = [h^{L−1}, y] (label clamped), k alternating Gibbs steps with
//!            softmax-sampled labels, ending in v⁻ = [x⁻, y⁻]
//!            ΔW ∝ ⟨v⁺ᵀ p(h^L | v⁺)⟩ − ⟨v⁻ᵀ p(h^L | v⁻)⟩, Δb ∝ ⟨v⁺ − v⁻⟩, Δc ∝ ⟨p(h^L|v⁺) − p(h^L|v⁻)⟩
//! down-pass: s^{L−1} = x⁻, s^{l−1} ~ p(h^{l−1} | s^l) (s⁰ = the visible probabilities)
//!            ΔR_l ∝ ⟨(s^{l−1})ᵀ (s^l − q(h^l | s^{l−1}))⟩,  Δr_l ∝ ⟨s^l − q(h^l | s^{l−1})⟩
//! update:    Δθ ← m·Δθ + lr·(S − wc·θ), θ ← θ + Δθ (weight cost on weight matrices only)
//! ```
//!
//! **Classification** without backprop: the up-pass to the penultimate recognition
//! probabilities x, then `argmin_k F(x, y = k)` with the free energy
//! `F(x, k) = −b_x·x − b_k − Σ_j softplus(c_j + (x W_x)_j + W_kj)`.
//!
//! **Fantasies**: the label clamped, the associative memory's alternating Gibbs chain, then one
//! down-pass with the generative weights to the visible probabilities.
//!
//! The files follow the procedure:
//!
//! * [`model`]: the [`UpDownDbn`] and its [`DirectedLayer`]s, built from a pretrained [`Dbn`].
//! * [`top`]: the associative memory with its softmax label units ([`TopRbm`]) and its CD-k.
//! * [`pretrain`]: greedy pretraining, the RBMs below then the associative memory with labels.
//! * [`up_down`]: the up-down statistics of a mini-batch and the [`UpDownLearner`].
//! * [`update`]: the momentum update with weight cost.
//! * [`classify`]: free-energy classification.
//! * [`fantasies`]: class-clamped fantasies and their picture.
//! * [`train`]: the training loop with its metrics and events.
//! * [`examples`]: labelled inputs ([`Examples`]) and their checks.
//! * [`config`]: [`UpDownConfig`] and its parts; [`error`]: [`UpDownError`].
//!
//! [`Dbn`]: crate::dbn::Dbn

pub mod classify;
pub mod config;
pub mod error;
pub mod examples;
pub mod fantasies;
pub mod model;
pub mod pretrain;
pub mod top;
pub mod train;
pub mod up_down;
pub mod update;

#[cfg(test)]
mod tests;

pub use config::{FantasyStart, TopConfig, UpDownConfig, UpDownEvalConfig};
pub use error::UpDownError;
pub use examples::Examples;
pub use fantasies::fantasies_png;
pub use model::{DirectedLayer, UpDownDbn};
pub use pretrain::{TopSummary, pretrain, pretrain_top};
pub use top::{TopRbm, TopStatistics, one_hot, sample_categorical};
pub use train::UpDownSummary;
pub use up_down::{UpDownLearner, UpDownStatistics};
pub use update::Rule;
