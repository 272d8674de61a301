//! Restricted Boltzmann machine, learned by contrastive divergence (CD-k) or persistent CD.
//!
//! An RBM has a layer of visible units v and a layer of binary hidden units h, with weights
//! `W[visible, hidden]`, visible biases b and hidden biases c, and no connections within a layer.
//! For binary visible units the energy is `E(v,h) = −b·v − c·h − vᵀWh` and the conditionals
//! factorise (paper eq. 2 and 3):
//!
//! ```text
//! p(h_j = 1 | v) = σ(c_j + Σ_i v_i W_ij)                                   (2)
//! p(v_i = 1 | h) = σ(b_i + Σ_j h_j W_ij)                                   (3)
//! ```
//!
//! Gaussian visible units with standard deviations σ_i (real-valued features such as speech
//! frames) use `E(v,h) = Σ_i (v_i − b_i)²/2σ_i² − c·h − Σ_ij (v_i/σ_i) W_ij h_j`, so that
//! `p(h_j = 1 | v) = σ(c_j + Σ_i (v_i/σ_i) W_ij)` and `v_i | h ~ N(b_i + σ_i Σ_j W_ij h_j, σ_i²)`.
//!
//! The free energy `F(v) = −log Σ_h e^{−E(v,h)}` is, for binary visible units,
//! `F(v) = −b·v − Σ_j log(1 + e^{c_j + (vW)_j})`, and `p(v) = e^{−F(v)}/Z`.
//!
//! Learning follows the gradient of the log-likelihood approximately (paper eq. 4):
//!
//! ```text
//! ΔW_ij ∝ ⟨v_i h_j⟩_data − ⟨v_i h_j⟩_reconstruction                      (4)
//! Δb_i  ∝ ⟨v_i⟩_data − ⟨v_i⟩_reconstruction,   Δc_j ∝ ⟨h_j⟩_data − ⟨h_j⟩_reconstruction
//! ```
//!
//! * **Positive phase:** the data statistics use the probabilities `p(h|v_data)`; a sample of the
//!   hidden states drives the chain.
//! * **Negative phase, CD-k:** k steps of alternating Gibbs sampling started at the data. The
//!   reconstructions use visible probabilities (Gaussian: the mean, no noise), intermediate hidden
//!   states are sampled, and the final hidden statistics use probabilities.
//! * **Negative phase, persistent CD:** a fixed number of fantasy chains (persistent chains) is kept
//!   across updates. The statistics use the chains' current visible states and `p(h|v)`; the
//!   chains are then advanced k full Gibbs steps (sampled visible states), so the chains are proper
//!   Markov chains of the current model.
//! * **Update:** `Δθ(t) = momentum · Δθ(t−1) + lr · (statistics − weight_cost · W)`, with an
//!   optional sparsity penalty pulling the running mean activity q_j of each hidden unit towards a
//!   target (the practical guide, §11).
//!
//! No autodiff is involved: every statistic is a matmul on the plain device. The hyper-parameters
//! follow Hinton's "A Practical Guide to Training Restricted Boltzmann Machines" (2010).

//!
//! The files follow the equations:
//!
//! * [`config`]: [`RbmConfig`] and its parts (momentum, learning-rate schedule, sparsity, what to
//!   evaluate); [`error`]: [`RbmError`].
//! * [`model`]: the [`Rbm`] itself: conditionals (eq. 2, 3), sampling, free energy, energy, init.
//! * [`draws`]: the random numbers a Gibbs step consumes ([`DeviceDraws`], [`HostDraws`]).
//! * [`cd`]: the learning rule: positive phase, negative phase (CD-k or persistent), statistics
//!   (eq. 4).
//! * [`update`]: the update `Δθ ← m·Δθ + lr·(S − wc·θ)` with momentum, weight cost and sparsity.
//! * [`learner`]: epochs of mini-batches, each its statistics then the update; `halves` is the
//!   CPU's execution of a mini-batch, and `fused_update` W's update there in one pass.
//! * [`train`]: the training loop with evaluation, metrics, pictures and checkpoint events.

pub mod cd;
pub mod config;
pub mod draws;
pub mod error;
mod fused_update;
pub(crate) mod halves;
pub mod learner;
pub mod model;
mod resume;
pub mod train;
pub mod update;

#[cfg(test)]
pub(crate) mod tests;

pub use cd::{CdStatistics, NegativePhase};
pub use config::{
    AisConfig, GaussianSigma, LrSchedule, Momentum, RbmConfig, RbmEvalConfig, RbmInit, Sparsity,
    VisibleType,
};
pub use draws::{DeviceDraws, Draws, HostDraws, sampling_draws};
pub use error::RbmError;
pub use learner::{Learner, Step};
pub use model::{GibbsSample, Rbm, VisibleUnits, softplus};
pub use train::TrainSummary;
pub use update::{Increments, MomentumUpdate, SparsityPenalty};
