//! The wake-sleep updates (Hinton, Dayan, Frey & Neal 1995): two delta rules, each the gradient
//! of a log-probability at sampled states, so no derivatives are propagated between layers.
//!
//! ```text
//! wake  (states h ~ Q(·|v) bottom-up from data, pˡ⁻¹ = σ(bˡ⁻¹ + hˡ Gˡ)):
//!   ∂ log p(v,h)/∂Gˡ   = (hˡ)ᵀ (hˡ⁻¹ − pˡ⁻¹)      ∂/∂bˡ⁻¹ = hˡ⁻¹ − pˡ⁻¹      ∂/∂bᴸ = hᴸ − σ(bᴸ)
//! sleep (fantasies (v, h) ~ P top-down from the prior, qˡ = σ(rˡ + hˡ⁻¹ Rˡ)):
//!   ∂ log q(h|v)/∂Rˡ   = (hˡ⁻¹)ᵀ (hˡ − qˡ)        ∂/∂rˡ  = hˡ − qˡ
//! update: θ ← θ + ε (⟨∂⟩ − λ θ)  (λ only on the weights; ⟨·⟩ the mean over a mini-batch)
//! ```

use burn::tensor::Tensor;

use super::Sbn;
use crate::rbm::Draws;
use crate::rbm::model::sigmoid;

/// The wake phase's statistics: the mini-batch mean of the gradient of log p(v, h) with
/// respect to the generative parameters, at the given states.
#[derive(Debug, Clone)]
pub struct WakeStatistics {
    /// `⟨(hˡ)ᵀ (hˡ⁻¹ − pˡ⁻¹)⟩`, shaped like Gˡ (index l − 1).
    pub generative: Vec<Tensor<2>>,
    /// `⟨hˡ − pˡ⟩` for l = 0 … L (the top with `pᴸ = σ(bᴸ)`).
    pub generative_biases: Vec<Tensor<1>>,
}

/// The sleep phase's statistics: the mini-batch mean of the gradient of log q(h | v) with
/// respect to the recognition parameters, at the given states.
#[derive(Debug, Clone)]
pub struct SleepStatistics {
    /// `⟨(hˡ⁻¹)ᵀ (hˡ − qˡ)⟩`, shaped like Rˡ (index l − 1).
    pub recognition: Vec<Tensor<2>>,
    /// `⟨hˡ − qˡ⟩` (index l − 1).
    pub recognition_biases: Vec<Tensor<1>>,
}

fn mean_rows(t: Tensor<2>) -> Tensor<1> {
    t.mean_dim(0).squeeze_dim(0)
}

/// `θ ← θ (1 − ε λ) + ε S`.
fn ascend(theta: &mut Tensor<2>, stat: &Tensor<2>, lr: f64, weight_cost: f64) {
    let decayed = if weight_cost > 0.0 {
        theta.clone().mul_scalar(1.0 - lr * weight_cost)
    } else {
        theta.clone()
    };
    *theta = decayed + stat.clone().mul_scalar(lr);
}

impl Sbn {
    /// The delta rule of the generative weights at the states `[v, h¹, …, hᴸ]`.
    pub fn wake_statistics(&self, states: &[Tensor<2>]) -> WakeStatistics {
        let top = self.hidden_layers();
        let n = states[0].dims()[0] as f64;
        let mut generative = Vec::with_capacity(top);
        let mut biases = Vec::with_capacity(top + 1);
        for l in 1..=top {
            let p = self.generative_probs(l - 1, states[l].clone());
            let delta = states[l - 1].clone() - p;
            let g = states[l].clone().transpose().matmul(delta.clone());
            generative.push(g.div_scalar(n));
            biases.push(mean_rows(delta));
        }
        let prior = sigmoid(self.top_input(1));
        biases.push(mean_rows(states[top].clone() - prior));
        WakeStatistics {
            generative,
            generative_biases: biases,
        }
    }

    /// The delta rule of the recognition weights at the states `[v, h¹, …, hᴸ]`.
    pub fn sleep_statistics(&self, states: &[Tensor<2>]) -> SleepStatistics {
        let n = states[0].dims()[0] as f64;
        let mut recognition = Vec::with_capacity(self.hidden_layers());
        let mut biases = Vec::with_capacity(self.hidden_layers());
        for l in 1..=self.hidden_layers() {
            let q = self.recognition_probs(l, states[l - 1].clone());
            let delta = states[l].clone() - q;
            let r = states[l - 1].clone().transpose().matmul(delta.clone());
            recognition.push(r.div_scalar(n));
            biases.push(mean_rows(delta));
        }
        SleepStatistics {
            recognition,
            recognition_biases: biases,
        }
    }

    /// Moves the generative parameters by `lr` along the wake statistics (weight cost on Gˡ).
    pub fn apply_wake(&mut self, s: &WakeStatistics, lr: f64, weight_cost: f64) {
        for (g, stat) in self.generative.iter_mut().zip(&s.generative) {
            ascend(g, stat, lr, weight_cost);
        }
        for (b, stat) in self.generative_biases.iter_mut().zip(&s.generative_biases) {
            *b = b.clone() + stat.clone().mul_scalar(lr);
        }
    }

    /// Moves the recognition parameters by `lr` along the sleep statistics (weight cost on Rˡ).
    pub fn apply_sleep(&mut self, s: &SleepStatistics, lr: f64, weight_cost: f64) {
        for (r, stat) in self.recognition.iter_mut().zip(&s.recognition) {
            ascend(r, stat, lr, weight_cost);
        }
        for (b, stat) in self
            .recognition_biases
            .iter_mut()
            .zip(&s.recognition_biases)
        {
            *b = b.clone() + stat.clone().mul_scalar(lr);
        }
    }

    /// Wake phase on the data vectors `v`: recognize them bottom-up, then the generative delta
    /// rule. Returns the sampled states.
    pub fn wake_phase(
        &mut self,
        v: Tensor<2>,
        lr: f64,
        weight_cost: f64,
        draws: &mut dyn Draws,
    ) -> Vec<Tensor<2>> {
        let states = self.recognize(v, draws);
        let stats = self.wake_statistics(&states);
        self.apply_wake(&stats, lr, weight_cost);
        states
    }

    /// Sleep phase: `n` fantasies top-down from the prior, then the recognition delta rule.
    /// Returns the fantasies.
    pub fn sleep_phase(
        &mut self,
        n: usize,
        lr: f64,
        weight_cost: f64,
        draws: &mut dyn Draws,
    ) -> Vec<Tensor<2>> {
        let fantasies = self.fantasize(n, draws);
        let stats = self.sleep_statistics(&fantasies);
        self.apply_sleep(&stats, lr, weight_cost);
        fantasies
    }

    /// One wake-sleep update on a mini-batch `v`: the wake phase with rate `lr`, then a sleep
    /// phase of as many fantasies as examples with rate `recognition_lr`.
    pub fn wake_sleep_step(
        &mut self,
        v: Tensor<2>,
        lr: f64,
        recognition_lr: f64,
        weight_cost: f64,
        draws: &mut dyn Draws,
    ) {
        let n = v.dims()[0];
        self.wake_phase(v, lr, weight_cost, draws);
        self.sleep_phase(n, recognition_lr, weight_cost, draws);
    }
}
