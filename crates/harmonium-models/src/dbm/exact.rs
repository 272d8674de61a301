//! Exact log Z and log p(v) of tiny DBMs by enumeration.
//!
//! Layers of one parity are conditionally independent given the other parity, so only one parity
//! needs enumerating; the other is summed out analytically. For a chain of layers x⁰ … x^M with
//! biases aᵐ and weights Vᵐ between x^{m−1} and xᵐ, enumerating the layers E of one parity and
//! summing out the others S:
//!
//! ```text
//! log Σ_x e^{−E(x)} = log Σ_{x_E} exp( Σ_{m∈E} aᵐ·xᵐ + Σ_{m∈S} Σ_j softplus(aᵐ_j + (x^{m−1}Vᵐ)_j + (x^{m+1}(V^{m+1})ᵀ)_j) )
//! ```
//!
//! * **log Z:** the chain v, h¹, …, hᴸ with biases b, c¹, …, cᴸ and weights W¹ … Wᴸ.
//! * **log p*(v) = log Σ_h e^{−E(v,h)}:** `b·v` plus the same sum for the chain h¹, …, hᴸ whose
//!   first bias is `c¹ + vW¹` (one chain per example), so `log p(v) = log p*(v) − log Z`.
//!
//! The parity with fewer units is enumerated; more than `max_units` (at most 30) is an error.
//!
//! **Gaussian visible units** are integrated out analytically instead: with m = b + h¹(W¹)ᵀ,
//!
//! ```text
//! ∫ exp(−½‖v − b‖² + v·(h¹(W¹)ᵀ)) dv = (2π)^{D/2} exp(½‖m‖² − ½‖b‖²)
//! ```
//!
//! so log Z enumerates the odd layers (h¹, h³, …), and log p*(v) has `−½‖v − b‖²` for `b·v`.

use burn::tensor::{Device, Tensor};

use super::Dbm;
use crate::eval::exact::binary_states;
use crate::eval::{EvalError, Interrupted, LogSumExp, check, never_stop, to_vec};
use crate::rbm::model::row;
use crate::rbm::softplus;

/// Largest number of elements of one [examples, states, units] block.
const BLOCK: usize = 1 << 22;

/// A chain of layers with per-example biases ([examples or 1, n_m]) and the weights between
/// neighbours.
struct Chain {
    biases: Vec<Tensor<2>>,
    weights: Vec<Tensor<2>>,
    /// The first layer is Gaussian with unit variance (integrated, never enumerated).
    gaussian_first: bool,
}

impl Chain {
    fn sizes(&self) -> Vec<usize> {
        self.biases.iter().map(|b| b.dims()[1]).collect()
    }

    /// Units in the layers of `parity`.
    fn units(&self, parity: usize) -> usize {
        self.sizes()
            .iter()
            .enumerate()
            .filter(|(m, _)| m % 2 == parity)
            .map(|(_, n)| n)
            .sum()
    }

    /// The parity with fewer units (the even one on a tie); the odd one when the first layer
    /// is Gaussian.
    fn smaller_parity(&self) -> usize {
        if self.gaussian_first || self.units(1) < self.units(0) {
            1
        } else {
            0
        }
    }

    /// `log Σ_x e^{−E(x)}` for each row of the biases, enumerating the layers of `parity`.
    fn log_sum(
        &self,
        parity: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Vec<f64>, Interrupted> {
        let sizes = self.sizes();
        let examples = self.biases.iter().map(|b| b.dims()[0]).max().unwrap_or(1);
        let device = self.biases[0].device();
        let bits = self.units(parity);
        let total = 1usize << bits;
        let widest = sizes.iter().copied().max().unwrap_or(1).max(1);
        let per_block = (BLOCK / (examples * widest)).clamp(1, 1 << 14);
        let mut acc = vec![LogSumExp::new(); examples];
        let mut start = 0;
        while start < total {
            check(keep_going)?;
            let count = per_block.min(total - start);
            let terms = self.block_terms(parity, &sizes, start, count, bits, &device);
            let values = to_vec(terms);
            for (b, acc) in acc.iter_mut().enumerate() {
                for &x in &values[b * count..(b + 1) * count] {
                    acc.add(x as f64);
                }
            }
            start += count;
        }
        Ok(acc.iter().map(LogSumExp::value).collect())
    }

    /// The log-terms of `count` enumerated states from `start`, [examples, count].
    fn block_terms(
        &self,
        parity: usize,
        sizes: &[usize],
        start: usize,
        count: usize,
        bits: usize,
        device: &Device,
    ) -> Tensor<2> {
        let states = if bits == 0 {
            Tensor::zeros([count, 0], device)
        } else {
            binary_states(bits, start, count, device)
        };
        // The enumerated layers' states, [count, n_m], at their chain positions.
        let mut x: Vec<Option<Tensor<2>>> = vec![None; sizes.len()];
        let mut offset = 0;
        for (m, &n) in sizes.iter().enumerate() {
            if m % 2 == parity {
                x[m] = Some(states.clone().narrow(1, offset, n));
                offset += n;
            }
        }
        let mut terms: Option<Tensor<2>> = None;
        let mut add = |t: Tensor<2>| {
            terms = Some(match terms.take() {
                Some(s) => s + t,
                None => t,
            })
        };
        for (m, _) in sizes.iter().enumerate() {
            let bias = self.biases[m].clone();
            match &x[m] {
                Some(xm) => add(bias.matmul(xm.clone().transpose())),
                None => {
                    let mut input: Option<Tensor<2>> = None;
                    if m > 0 {
                        let below = x[m - 1].clone().expect("a neighbour of the other parity");
                        input = Some(below.matmul(self.weights[m - 1].clone()));
                    }
                    if m + 1 < sizes.len() {
                        let above = x[m + 1].clone().expect("a neighbour of the other parity");
                        let down = above.matmul(self.weights[m].clone().transpose());
                        input = Some(match input {
                            Some(i) => i + down,
                            None => down,
                        });
                    }
                    let input = input.unwrap_or_else(|| Tensor::zeros([count, sizes[m]], device));
                    if m == 0 && self.gaussian_first {
                        // ½‖b + input‖² − ½‖b‖² + (D/2) log 2π, the joint chain's one row.
                        let b_sq = bias.clone().square().sum().into_scalar::<f32>() as f64;
                        let d = sizes[0] as f64;
                        let m_sq = (input + bias).square().sum_dim(1).mul_scalar(0.5);
                        let c = -0.5 * b_sq + 0.5 * d * (2.0 * std::f64::consts::PI).ln();
                        add(m_sq.transpose().add_scalar(c));
                        continue;
                    }
                    let full: Tensor<3> = bias.unsqueeze_dim::<3>(1) + input.unsqueeze_dim::<3>(0);
                    add(softplus(full).sum_dim(2).squeeze_dim(2));
                }
            }
        }
        terms.expect("a chain has layers")
    }
}

impl Dbm {
    fn joint_chain(&self) -> Chain {
        Chain {
            biases: (0..=self.hidden_layers())
                .map(|l| row(self.bias(l)))
                .collect(),
            weights: self.weights.clone(),
            gaussian_first: self.is_gaussian(),
        }
    }

    fn hidden_chain(&self, v: Tensor<2>) -> Chain {
        let first = v.matmul(self.weights[0].clone()) + row(&self.hidden_biases[0]);
        let mut biases = vec![first];
        biases.extend((2..=self.hidden_layers()).map(|l| row(self.bias(l))));
        Chain {
            biases,
            weights: self.weights[1..].to_vec(),
            gaussian_first: false,
        }
    }

    fn too_many(&self, max_units: usize) -> EvalError {
        EvalError::Unsupported(format!(
            "exact enumeration of a DBM needs one parity of layers with at most {} units, but \
             the DBM is {:?}",
            max_units.min(30),
            self.sizes()
        ))
    }

    /// Exact log Z, enumerating the parity of layers with fewer units (at most `max_units`).
    pub fn exact_log_partition(&self, max_units: usize) -> Result<f64, EvalError> {
        self.exact_log_partition_while(max_units, &never_stop)
    }

    /// [`Dbm::exact_log_partition`] asking `keep_going` before each block of states.
    pub fn exact_log_partition_while(
        &self,
        max_units: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<f64, EvalError> {
        let chain = self.joint_chain();
        let parity = chain.smaller_parity();
        if chain.units(parity) > max_units.min(30) {
            return Err(self.too_many(max_units));
        }
        Ok(chain.log_sum(parity, keep_going)?[0])
    }

    /// Exact log Z enumerating the layers of the given parity (0: v, h², …; 1: h¹, h³, …),
    /// whatever their size (for tests; Gaussian visible units need parity 1).
    pub fn exact_log_partition_by_parity(&self, parity: usize) -> f64 {
        self.joint_chain()
            .log_sum(parity % 2, &never_stop)
            .expect("never stops")[0]
    }

    /// Whether [`Dbm::exact_log_partition`] can enumerate this DBM within `max_units`.
    pub fn is_enumerable(&self, max_units: usize) -> bool {
        let chain = self.joint_chain();
        chain.units(chain.smaller_parity()) <= max_units.min(30)
    }

    /// Exact `log p*(v) = log Σ_h e^{−E(v,h)}` of each row of `v`, enumerating the hidden
    /// layers of the parity with fewer units (at most `max_units`).
    pub fn exact_log_unnormalized(
        &self,
        v: &Tensor<2>,
        max_units: usize,
    ) -> Result<Vec<f64>, EvalError> {
        let mut out = Vec::with_capacity(v.dims()[0]);
        let n = v.dims()[0];
        let chunk = 256;
        let mut start = 0;
        while start < n {
            let len = chunk.min(n - start);
            let part = v.clone().narrow(0, start, len);
            let chain = self.hidden_chain(part.clone());
            let parity = chain.smaller_parity();
            if chain.units(parity) > max_units.min(30) {
                return Err(self.too_many(max_units));
            }
            let sums = chain.log_sum(parity, &never_stop)?;
            let visible: Vec<f32> = to_vec(self.visible_neg_energy(&part));
            out.extend(sums.iter().zip(visible).map(|(s, bv)| s + bv as f64));
            start += len;
        }
        Ok(out)
    }

    /// Mean exact log-likelihood `⟨log p*(v)⟩ − log Z` over the rows of `v`, for a known log Z.
    pub fn exact_mean_log_likelihood(
        &self,
        v: &Tensor<2>,
        log_z: f64,
        max_units: usize,
    ) -> Result<f64, EvalError> {
        let values = self.exact_log_unnormalized(v, max_units)?;
        Ok(values.iter().sum::<f64>() / values.len() as f64 - log_z)
    }
}
