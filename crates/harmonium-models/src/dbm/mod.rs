//! Deep Boltzmann machine (paper §8–9; Salakhutdinov & Hinton 2009, "Deep Boltzmann machines").
//!
//! A DBM has a layer of binary visible units v and L ≥ 2 layers of binary hidden units
//! h¹…hᴸ, with symmetric weights Wˡ between adjacent layers only, visible biases b and hidden
//! biases cˡ. With h⁰ = v,
//!
//! ```text
//! E(v, h) = −b·v − Σ_l cˡ·hˡ − Σ_l (hˡ⁻¹)ᵀ Wˡ hˡ
//! p(hˡ_j = 1 | hˡ⁻¹, hˡ⁺¹) = σ(cˡ_j + Σ_i hˡ⁻¹_i Wˡ_ij + Σ_k Wˡ⁺¹_jk hˡ⁺¹_k)
//! p(v_i = 1 | h¹)         = σ(b_i + Σ_j W¹_ij h¹_j)
//! ```
//!
//! Layers of one parity are conditionally independent given the layers of the other, so the odd
//! layers (h¹, h³, …) can be sampled together given the even ones (v, h², …) and vice versa.
//!
//! The files follow the procedure:
//!
//! * [`model`]: the [`Dbm`] itself: parameters, layer inputs, conditionals, energy.
//! * [`compose`]: pretraining the stack from RBMs (§8) and composing them into a DBM, with the
//!   constrained CD of the first and last RBM.
//! * [`mean_field`]: mean-field inference of q(h¹…hᴸ | v) and the variational lower bound.
//! * [`gibbs`]: alternate-layer Gibbs sampling (the persistent chains' moves).
//! * [`learn`]: one update (§9): data-dependent statistics by mean-field, data-independent
//!   statistics by persistent chains, momentum, weight cost and a decaying learning rate.
//! * [`train`]: the training loop with its per-epoch metrics and events.
//! * [`exact`]: exact log Z and log p(v) by enumeration for tiny models.
//! * [`ais`]: annealed importance sampling estimate of log Z for a 2-layer DBM.
//! * [`checkpoint`]: SafeTensors checkpoints of a DBM.
//! * [`finetune`]: the input and the starting layers of a classifier fine-tuned from a DBM.
//! * [`config`]: [`DbmConfig`] and its parts; [`error`]: [`DbmError`].

pub mod ais;
pub mod checkpoint;
pub mod compose;
pub mod config;
pub mod error;
pub mod exact;
pub mod finetune;
pub mod gibbs;
pub mod learn;
pub mod mean_field;
pub mod model;
pub mod train;

#[cfg(test)]
mod tests;

pub use compose::{Constraint, compose, constrained_cd_statistics, pretrain, train_constrained};
pub use config::{DbmConfig, DbmEvalConfig, DbmInit, DbmLrSchedule, MeanFieldConfig};
pub use error::DbmError;
pub use learn::{DbmIncrements, DbmLearner, DbmStatistics};
pub use mean_field::MeanField;
pub use model::Dbm;
pub use train::DbmTrainSummary;
