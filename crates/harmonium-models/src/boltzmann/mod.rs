//! The general Boltzmann machine (paper §2; Ackley, Hinton & Sejnowski 1985), and its conditional
//! form.
//!
//! n binary stochastic units s = (v, h): visible units v, which can be clamped to a data vector,
//! and hidden units h, which learn to represent features of the data. Any unit may be connected to
//! any other: the connections are a fixed symmetric 0/1 mask M with a zero diagonal (no
//! self-connections), and the weights W are symmetric with `W_ij = W_ji` and `W_ij = 0` where
//! `M_ij = 0`. With biases b (paper eq. 1: the Hopfield energy is minus the "harmony"),
//!
//! ```text
//! E(s) = −Σ_i b_i s_i − Σ_{i<j} W_ij s_i s_j = −b·s − ½ sᵀWs
//! p(s) = e^{−E(s)} / Z,    Z = Σ_s e^{−E(s)},    p(v) = Σ_h p(v, h)                  (1)
//! p(s_i = 1 | all the other units) = σ(b_i + Σ_j W_ij s_j)
//! ```
//!
//! **Gibbs sampling** updates one unit at a time from that conditional ([`gibbs`]); units that
//! share no connection may be updated together, so a greedy colouring of the graph gives a
//! parallel sweep, one colour class at a time ([`graph`]).
//!
//! **Learning** follows the gradient of the mean log-likelihood of the data,
//!
//! ```text
//! ∂⟨log p(v)⟩_data / ∂W_ij = ⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free      (connected i ≠ j)
//! ∂⟨log p(v)⟩_data / ∂b_i  = ⟨s_i⟩_clamped − ⟨s_i⟩_free
//! ```
//!
//! * **Clamped phase** (inference): the visible units are clamped to a data vector and the hidden
//!   units Gibbs-sampled long enough to forget their start; the statistics are averaged over the
//!   last few sweeps and over the mini-batch.
//! * **Free phase** (generation): every unit is sampled, either in fresh chains run for a number
//!   of sweeps, or in persistent chains carried from one update to the next.
//! * **Update:** `Δθ ← m·Δθ + lr·(S − wc·θ)` (weight cost on the weights only, masked), `θ ← θ + Δθ`
//!   ([`learn`]).
//!
//! **Conditional Boltzmann machine:** the first `inputs` visible units are inputs x, clamped in
//! both phases; the other visible units are outputs y. The free phase clamps only the inputs, so
//! the machine learns p(y | x) = Σ_h e^{−E(x,y,h)} / Σ_{y',h} e^{−E(x,y',h)}, and through hidden
//! units or output–output connections it can model correlations between the outputs, which a
//! feedforward net with independent logistic outputs cannot ([`conditional`]).
//!
//! The files:
//!
//! * [`model`]: the [`Boltzmann`] machine itself: parameters, mask, energy, total inputs.
//! * [`graph`]: connectivity masks (explicit or by layer blocks) and the greedy colouring.
//! * [`gibbs`]: sequential and colour-parallel Gibbs sweeps over the unclamped units of a batch of
//!   chains.
//! * [`learn`]: the clamped and free phases' statistics and the update ([`BoltzmannLearner`]).
//! * [`train`]: the training loop with its per-epoch metrics and events.
//! * [`exact`]: log Z, log p(v), log p(y | x) and both phases' statistics by enumeration.
//! * [`conditional`]: the output distributions of a conditional machine against the best
//!   factorial (feedforward) model, with a bar picture.
//! * [`bars`]: the bars-and-stripes data set.
//! * [`config`]: [`BoltzmannConfig`] and its parts; [`error`]: [`BoltzmannError`].

pub mod bars;
pub mod conditional;
pub mod config;
pub mod error;
pub mod exact;
pub mod gibbs;
pub mod graph;
pub mod learn;
pub mod model;
pub mod train;

#[cfg(test)]
mod tests;

pub use bars::{bars_and_stripes, bars_and_stripes_patterns};
pub use conditional::{OutputDistributions, agreement_data};
pub use config::{
    BoltzmannConfig, BoltzmannEvalConfig, Connectivity, GibbsOrder, LayerConnectivity,
};
pub use error::BoltzmannError;
pub use exact::ExactMoments;
pub use gibbs::{GibbsPlan, Phase};
pub use graph::greedy_colouring;
pub use learn::{BoltzmannLearner, Moments};
pub use model::Boltzmann;
pub use train::BoltzmannTrainSummary;
