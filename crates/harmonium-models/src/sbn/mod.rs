//! Sigmoid belief net learned by the wake-sleep algorithm (paper §3–4, Fig. 2; Hinton, Dayan,
//! Frey & Neal 1995, "The wake-sleep algorithm for unsupervised neural networks").
//!
//! A sigmoid belief net is a directed generative model of logistic binary units in layers
//! h⁰ = v (visible, at the bottom), h¹, …, hᴸ (L ≥ 1 hidden layers). The top layer has a
//! factorial prior given by its biases; every other layer is generated from the layer above by
//! the top-down **generative weights** Gˡ ([n_l, n_{l−1}]) and biases bˡ⁻¹:
//!
//! ```text
//! p(hᴸ_j = 1)            = σ(bᴸ_j)                                    (top prior)
//! p(hˡ⁻¹_i = 1 | hˡ)     = σ(bˡ⁻¹_i + Σ_j hˡ_j Gˡ_ji)                   (generative)
//! log p(v, h)           = Σ_{l=0..L} Σ_i [hˡ_i aˡ_i − log(1 + e^{aˡ_i})],  aˡ its input
//! ```
//!
//! The posterior p(h | v) is intractable; a separate bottom-up **recognition** net with weights
//! Rˡ ([n_{l−1}, n_l]) and biases rˡ proposes a simpler distribution Q(h | v), factorial within
//! each layer and sampled one layer at a time, so that only binary states travel upwards:
//!
//! ```text
//! q(hˡ_j = 1 | hˡ⁻¹)     = σ(rˡ_j + Σ_i hˡ⁻¹_i Rˡ_ij)                   (recognition)
//! log q(h | v)          = Σ_{l=1..L} Σ_j [hˡ_j cˡ_j − log(1 + e^{cˡ_j})],  cˡ its input
//! ```
//!
//! **Wake-sleep** alternates two phases, each a delta rule (with learning rate ε and an optional
//! weight cost λ on the weights, not the biases):
//!
//! * **Wake phase:** drive the recognition net bottom-up from a data vector, sampling binary
//!   states h¹ … hᴸ. Then each layer's generative prediction pˡ⁻¹ = σ(bˡ⁻¹ + hˡ Gˡ) is moved
//!   towards the sampled states of the layer below, and the top prior towards the top states:
//!
//!   ```text
//!   ΔGˡ   = ε (⟨(hˡ)ᵀ (hˡ⁻¹ − pˡ⁻¹)⟩ − λ Gˡ),   Δbˡ⁻¹ = ε ⟨hˡ⁻¹ − pˡ⁻¹⟩,   Δbᴸ = ε ⟨hᴸ − σ(bᴸ)⟩
//!   ```
//!
//!   (⟨·⟩: the mean over a mini-batch). This is the gradient of log p(v, h) at the sampled h.
//! * **Sleep phase:** generate **fantasies** top-down from the top prior with the generative
//!   weights (hᴸ ~ σ(bᴸ), then each layer from the one above, down to v). The net knows the
//!   causes it generated, so the recognition predictions qˡ = σ(rˡ + hˡ⁻¹ Rˡ) are moved towards
//!   them, with the roles of pre- and post-synaptic units reversed:
//!
//!   ```text
//!   ΔRˡ   = ε_r (⟨(hˡ⁻¹)ᵀ (hˡ − qˡ)⟩ − λ Rˡ),   Δrˡ = ε_r ⟨hˡ − qˡ⟩
//!   ```
//!
//!   the gradient of log q(h | v) at the fantasy: sleep descends KL(P ‖ Q) averaged over the
//!   model's own fantasies, where variational learning would descend KL(Q ‖ P) (§4).
//!
//! **Evaluation** (§4): for any Q,
//!
//! ```text
//! log p(v) = E_Q[log p(v, h) − log q(h | v)] + KL(Q(·|v) ‖ P(·|v))  ≥  the variational bound
//! log p(v) ≈ log (1/k) Σ_s p(v, h_s) / q(h_s | v),   h_s ~ Q(· | v)   (importance sampling)
//! ```
//!
//! The files follow the procedure:
//!
//! * [`model`]: the [`Sbn`]: parameters, generative and recognition conditionals, recognition
//!   (bottom-up) and fantasy (top-down) passes, log p(v, h) and log q(h | v).
//! * [`wake_sleep`]: the two delta rules and one wake-sleep update.
//! * [`likelihood`]: the importance-sampled log-likelihood and the sampled variational bound,
//!   with standard errors.
//! * [`exact`]: exact log p(v), bound and KL(Q ‖ P) by enumerating every hidden state.
//! * [`train`]: the training loop with its per-epoch metrics, pictures and progress events.
//! * [`config`]: [`SbnConfig`] and [`SbnEvalConfig`]; [`error`]: [`SbnError`].

pub mod config;
pub mod error;
pub mod exact;
pub mod likelihood;
pub mod model;
pub mod train;
pub mod wake_sleep;

#[cfg(test)]
mod tests;

pub use config::{SbnConfig, SbnEvalConfig};
pub use error::SbnError;
pub use exact::ExactEvaluation;
pub use likelihood::ImportanceEstimate;
pub use model::Sbn;
pub use train::SbnTrainSummary;
pub use wake_sleep::{SleepStatistics, WakeStatistics};
