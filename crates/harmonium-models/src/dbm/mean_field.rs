//! Mean-field inference of the posterior over the hidden layers and the variational lower bound
//! on log p(v) (§9; Salakhutdinov & Hinton 2009, §3).
//!
//! The posterior is approximated by a fully factorised `q(h | v) = Π_l Π_j q(hˡ_j)` with
//! `q(hˡ_j = 1) = μˡ_j`. The bound
//!
//! ```text
//! log p(v) ≥ −E_q[E(v, h)] + H(q) − log Z
//!          = b·v + Σ_l cˡ·μˡ + Σ_l (μˡ⁻¹)ᵀ Wˡ μˡ − Σ_l Σ_j [μˡ_j log μˡ_j + (1−μˡ_j) log(1−μˡ_j)] − log Z
//! ```
//!
//! (μ⁰ = v) is maximised by the fixed-point equations
//!
//! ```text
//! μˡ ← σ(cˡ + μˡ⁻¹ Wˡ + μˡ⁺¹ (Wˡ⁺¹)ᵀ)
//! ```
//!
//! One sweep updates the odd layers given the even ones, then the even layers given the odd.
//! Layers of one parity share no weights, so each half-sweep is the exact maximiser of the bound
//! over those layers given the rest: the bound never decreases from sweep to sweep.
//!
//! Initialisation is a bottom-up pass with doubled weights, `μ¹ = σ(c¹ + 2vW¹)`, …,
//! `μˡ = σ(cˡ + 2μˡ⁻¹Wˡ)`, except the top layer, which has no layer above and gets
//! `μᴸ = σ(cᴸ + μᴸ⁻¹Wᴸ)`: the doubled weights stand in for the missing top-down input.

use burn::tensor::Tensor;

use super::{Dbm, MeanFieldConfig};
use crate::rbm::model::{row, sigmoid};

/// The result of mean-field inference for a batch of visible vectors.
#[derive(Debug, Clone)]
pub struct MeanField {
    /// μ¹ … μᴸ, each [batch, n_l].
    pub hidden: Vec<Tensor<2>>,
    /// Sweeps run.
    pub iterations: usize,
    /// The largest change of any μ in the last sweep.
    pub max_change: f64,
}

impl MeanField {
    /// `[v, μ¹, …, μᴸ]`: the layers as [`Dbm::layer_input`] and [`Dbm::energy`] take them.
    pub fn layers(&self, v: Tensor<2>) -> Vec<Tensor<2>> {
        let mut layers = vec![v];
        layers.extend(self.hidden.iter().cloned());
        layers
    }
}

/// `x log x`, 0 at x = 0.
fn x_log_x(x: Tensor<2>) -> Tensor<2> {
    x.clone() * x.clamp_min(1e-30).log()
}

impl Dbm {
    /// The bottom-up initialisation `μˡ = σ(cˡ + 2μˡ⁻¹Wˡ)` (top layer: `σ(cᴸ + μᴸ⁻¹Wᴸ)`).
    pub fn mean_field_init(&self, v: Tensor<2>) -> Vec<Tensor<2>> {
        let top = self.hidden_layers();
        let mut below = v;
        let mut hidden = Vec::with_capacity(top);
        for l in 1..=top {
            let factor = if l < top { 2.0 } else { 1.0 };
            let input =
                below.matmul(self.weights[l - 1].clone()).mul_scalar(factor) + row(self.bias(l));
            below = sigmoid(input);
            hidden.push(below.clone());
        }
        hidden
    }

    /// One sweep of the fixed-point equations: the odd layers given the even, then the even
    /// hidden layers given the odd. `layers = [v, μ¹, …, μᴸ]` is updated in place; returns the
    /// largest change of any μ.
    pub fn mean_field_sweep(&self, layers: &mut [Tensor<2>]) -> f64 {
        let top = self.hidden_layers();
        let mut change: Option<Tensor<1>> = None;
        for parity in [1, 0] {
            for l in (1..=top).filter(|l| l % 2 == parity) {
                let next = self.layer_probs(l, layers);
                let d = (next.clone() - layers[l].clone()).abs().max().reshape([1]);
                change = Some(match change {
                    Some(c) => c.max_pair(d),
                    None => d,
                });
                layers[l] = next;
            }
        }
        change.map_or(0.0, |c| c.into_scalar::<f32>() as f64)
    }

    /// Mean-field inference of q(h | v): the bottom-up initialisation, then sweeps until the
    /// largest change is at most `cfg.tolerance` or `cfg.max_iterations` sweeps have run.
    pub fn mean_field(&self, v: Tensor<2>, cfg: &MeanFieldConfig) -> MeanField {
        let mut layers = vec![v];
        layers.extend(self.mean_field_init(layers[0].clone()));
        let mut iterations = 0;
        let mut max_change = f64::INFINITY;
        while iterations < cfg.max_iterations {
            max_change = self.mean_field_sweep(&mut layers);
            iterations += 1;
            if max_change <= cfg.tolerance {
                break;
            }
        }
        layers.remove(0);
        MeanField {
            hidden: layers,
            iterations,
            max_change,
        }
    }

    /// The bound on the unnormalised log-probability of each example, `−E_q[E(v, h)] + H(q)`
    /// (so `log p(v) ≥` this `− log Z`), for `layers = [v, μ¹, …, μᴸ]`; shape [batch].
    pub fn mean_field_bound(&self, layers: &[Tensor<2>]) -> Tensor<1> {
        let mut entropy: Option<Tensor<2>> = None;
        for mu in &layers[1..] {
            let h = (x_log_x(mu.clone()) + x_log_x(mu.clone().neg().add_scalar(1.0)))
                .sum_dim(1)
                .neg();
            entropy = Some(match entropy {
                Some(e) => e + h,
                None => h,
            });
        }
        let entropy: Tensor<1> = entropy.expect("a DBM has hidden layers").squeeze_dim(1);
        self.energy(layers).neg() + entropy
    }

    /// The mean variational lower bound on log p(v) over the rows of `v`, for a known log Z:
    /// `⟨−E_q[E] + H(q)⟩ − log Z`, q from [`Dbm::mean_field`].
    pub fn variational_lower_bound(&self, v: &Tensor<2>, cfg: &MeanFieldConfig, log_z: f64) -> f64 {
        self.mean_unnormalized_bound(v, cfg) - log_z
    }

    /// `⟨−E_q[E] + H(q)⟩` over the rows of `v` (in chunks), q from [`Dbm::mean_field`].
    pub fn mean_unnormalized_bound(&self, v: &Tensor<2>, cfg: &MeanFieldConfig) -> f64 {
        self.mean_unnormalized_bound_and_sweeps(v, cfg).0
    }

    /// [`Dbm::mean_unnormalized_bound`] and the mean number of mean-field sweeps per chunk of
    /// at most 10,000 rows.
    pub fn mean_unnormalized_bound_and_sweeps(
        &self,
        v: &Tensor<2>,
        cfg: &MeanFieldConfig,
    ) -> (f64, f64) {
        let (sweeps, chunks) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0usize));
        let bound = crate::eval::mean_over_rows(v, |chunk| {
            let q = self.mean_field(chunk.clone(), cfg);
            sweeps.set(sweeps.get() + q.iterations);
            chunks.set(chunks.get() + 1);
            self.mean_field_bound(&q.layers(chunk))
        });
        (bound, sweeps.get() as f64 / chunks.get().max(1) as f64)
    }
}
