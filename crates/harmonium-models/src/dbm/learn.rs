//! One learning update of a DBM (§9; Salakhutdinov & Hinton 2009, §3.1). The log-likelihood
//! gradient is data-dependent minus data-independent expectations,
//!
//! ```text
//! ΔWˡ ∝ ⟨hˡ⁻¹ (hˡ)ᵀ⟩_data − ⟨hˡ⁻¹ (hˡ)ᵀ⟩_model,   Δcˡ ∝ ⟨hˡ⟩_data − ⟨hˡ⟩_model   (h⁰ = v, c⁰ = b)
//! ```
//!
//! * **Data-dependent statistics** use the mean-field posterior: `⟨μˡ⁻¹ (μˡ)ᵀ⟩` over the
//!   mini-batch, μ⁰ = v ([`super::mean_field`]). (A variational approximation is fine here: it
//!   makes learning tighten the bound.)
//! * **Data-independent statistics** use persistent chains (binary states of every layer, kept
//!   across updates) advanced `k` alternate-layer Gibbs steps per update with the current
//!   parameters ([`super::gibbs`]). The statistics use the even layers' sampled states and the
//!   odd layers' probabilities given them: every weight joins one even and one odd layer, and
//!   `E[x_even p(x_odd | x_even)ᵀ] = E[x_even x_oddᵀ]`, with less variance than the samples.
//! * **Update:** `Δθ ← m·Δθ + lr·(S − wc·θ)` (weight cost on the weights only), `θ ← θ + Δθ`,
//!   with the learning rate decaying over the updates ([`super::DbmConfig::lr_at`]).

use burn::tensor::Tensor;

use super::{Dbm, MeanFieldConfig};
use crate::rbm::Draws;

/// Statistics (or increments) of every parameter of a DBM.
#[derive(Debug, Clone)]
pub struct DbmStatistics {
    /// One per Wˡ, [n_{l−1}, n_l].
    pub weights: Vec<Tensor<2>>,
    /// One per layer bias, b first then c¹ … cᴸ.
    pub biases: Vec<Tensor<1>>,
}

/// Δθ carried from one mini-batch to the next (momentum).
pub type DbmIncrements = DbmStatistics;

impl DbmStatistics {
    /// Zeros shaped like the parameters of `dbm`.
    pub fn zeros(dbm: &Dbm) -> DbmStatistics {
        DbmStatistics {
            weights: dbm.weights.iter().map(|w| w.zeros_like()).collect(),
            biases: (0..=dbm.hidden_layers())
                .map(|l| dbm.bias(l).zeros_like())
                .collect(),
        }
    }

    /// `⟨hˡ⁻¹ (hˡ)ᵀ⟩` and `⟨hˡ⟩` over the rows of `layers = [h⁰, …, hᴸ]`.
    pub fn moments(layers: &[Tensor<2>]) -> DbmStatistics {
        let n = layers[0].dims()[0] as f64;
        DbmStatistics {
            weights: layers
                .windows(2)
                .map(|p| p[0].clone().transpose().matmul(p[1].clone()).div_scalar(n))
                .collect(),
            biases: layers
                .iter()
                .map(|x| x.clone().sum_dim(0).squeeze_dim(0).div_scalar(n))
                .collect(),
        }
    }

    /// `self − other`, parameter by parameter.
    pub fn minus(self, other: DbmStatistics) -> DbmStatistics {
        DbmStatistics {
            weights: self
                .weights
                .into_iter()
                .zip(other.weights)
                .map(|(a, b)| a - b)
                .collect(),
            biases: self
                .biases
                .into_iter()
                .zip(other.biases)
                .map(|(a, b)| a - b)
                .collect(),
        }
    }
}

/// The learner's state across mini-batches: the increments (momentum) and the persistent chains.
#[derive(Debug, Clone)]
pub struct DbmLearner {
    /// Δθ of every parameter.
    pub increments: DbmIncrements,
    /// The persistent chains' binary states `[v, h¹, …, hᴸ]`, each [chains, n_l].
    pub chains: Vec<Tensor<2>>,
}

impl DbmLearner {
    /// Zero increments and `chains` persistent chains started from random binary states.
    pub fn new(dbm: &Dbm, chains: usize, draws: &mut dyn Draws) -> DbmLearner {
        DbmLearner {
            increments: DbmStatistics::zeros(dbm),
            chains: dbm.random_states(chains, draws),
        }
    }

    /// One update from the mini-batch `v`: the statistics ([`Dbm::statistics`]), then
    /// `Δθ ← m·Δθ + lr·(S − wc·θ)` (wc on the weights only) and `θ ← θ + Δθ`.
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        dbm: &mut Dbm,
        v: Tensor<2>,
        mean_field: &MeanFieldConfig,
        gibbs_steps: usize,
        lr: f64,
        momentum: f64,
        weight_cost: f64,
        draws: &mut dyn Draws,
    ) {
        let s = dbm.statistics(v, mean_field, &mut self.chains, gibbs_steps, draws);
        let inc = &mut self.increments;
        for (l, s_w) in s.weights.into_iter().enumerate() {
            let w = dbm.weights[l].clone();
            let s_w = if weight_cost > 0.0 {
                s_w - w.clone().mul_scalar(weight_cost)
            } else {
                s_w
            };
            let dw = inc.weights[l].clone().mul_scalar(momentum) + s_w.mul_scalar(lr);
            inc.weights[l] = dw.clone();
            dbm.weights[l] = w + dw;
        }
        for (l, s_b) in s.biases.into_iter().enumerate() {
            let db = inc.biases[l].clone().mul_scalar(momentum) + s_b.mul_scalar(lr);
            inc.biases[l] = db.clone();
            if l == 0 {
                dbm.visible_bias = dbm.visible_bias.clone() + db;
            } else {
                dbm.hidden_biases[l - 1] = dbm.hidden_biases[l - 1].clone() + db;
            }
        }
    }
}

impl Dbm {
    /// The statistics S (data-dependent minus data-independent) of the mini-batch `v`: mean-field
    /// for the data, and the persistent `chains` advanced `gibbs_steps` alternate-layer Gibbs
    /// steps (written back) for the model, with the odd layers' probabilities given the final
    /// even states in the products.
    pub fn statistics(
        &self,
        v: Tensor<2>,
        mean_field: &MeanFieldConfig,
        chains: &mut [Tensor<2>],
        gibbs_steps: usize,
        draws: &mut dyn Draws,
    ) -> DbmStatistics {
        let q = self.mean_field(v.clone(), mean_field);
        let data = DbmStatistics::moments(&q.layers(v));
        for _ in 0..gibbs_steps {
            self.gibbs_step(chains, draws);
        }
        let mut model_layers = chains.to_vec();
        for l in (1..=self.hidden_layers()).step_by(2) {
            model_layers[l] = self.layer_probs(l, chains);
        }
        data.minus(DbmStatistics::moments(&model_layers))
    }
}
