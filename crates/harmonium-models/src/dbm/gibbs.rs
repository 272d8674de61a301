//! Alternate-layer Gibbs sampling. Given the even layers (v, h², h⁴, …) the odd layers
//! (h¹, h³, …) are independent of each other and factorial, and vice versa, so one step is
//!
//! ```text
//! hˡ ~ σ(cˡ + hˡ⁻¹Wˡ + hˡ⁺¹(Wˡ⁺¹)ᵀ)   for every odd l, given the even layers
//! hˡ ~ σ(…)                            for every even l (v = h⁰ with bias b), given the odd
//! ```
//!
//! Each half-step samples exactly from a conditional of the joint, so the chain leaves p(v, h)
//! invariant; these are the persistent chains' moves in learning ([`super::learn`]). Gaussian
//! visible units are drawn from `N(b + h¹(W¹)ᵀ, I)`.

use burn::tensor::Tensor;

use super::Dbm;
use crate::rbm::Draws;
use crate::rbm::model::{bernoulli, row};

impl Dbm {
    /// Samples every layer of the given parity (1: odd, 0: even, the visible layer included)
    /// given the others; `layers = [v, h¹, …, hᴸ]` is updated in place.
    pub fn sample_parity(&self, parity: usize, layers: &mut [Tensor<2>], draws: &mut dyn Draws) {
        for l in (0..=self.hidden_layers()).filter(|l| l % 2 == parity) {
            layers[l] = self.sample_layer(l, layers, draws);
        }
    }

    /// One alternate-layer Gibbs step: the odd layers given the even, then the even given the odd.
    pub fn gibbs_step(&self, layers: &mut [Tensor<2>], draws: &mut dyn Draws) {
        self.sample_parity(1, layers, draws);
        self.sample_parity(0, layers, draws);
    }

    /// `steps` alternate-layer Gibbs steps from the states `layers = [v, h¹, …, hᴸ]` (updated in
    /// place), e.g. to draw samples from the model for pictures.
    pub fn gibbs(&self, layers: &mut [Tensor<2>], steps: usize, draws: &mut dyn Draws) {
        for _ in 0..steps {
            self.gibbs_step(layers, draws);
        }
    }

    /// `chains` states with every unit on with probability 1/2, `[v, h¹, …, hᴸ]` (Gaussian
    /// visible units: `b + N(0, I)`).
    pub fn random_states(&self, chains: usize, draws: &mut dyn Draws) -> Vec<Tensor<2>> {
        let device = self.device();
        let mut states: Vec<Tensor<2>> = self
            .sizes()
            .into_iter()
            .map(|n| {
                let half = Tensor::<2>::full([chains, n], 0.5, &device);
                let u = draws.uniform(&half);
                bernoulli(half, u)
            })
            .collect();
        if self.is_gaussian() {
            let mean = row(&self.visible_bias).repeat_dim(0, chains);
            let noise = draws.normal(&mean);
            states[0] = mean + noise;
        }
        states
    }
}
