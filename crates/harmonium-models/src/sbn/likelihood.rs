//! The log-likelihood of a sigmoid belief net by importance sampling, with the recognition net
//! as the proposal, and the variational bound from the same samples (§4).
//!
//! For each example v, k states are drawn bottom-up, `h_s ~ Q(· | v)`, each with the log
//! importance weight `ℓ_s = log p(v, h_s) − log q(h_s | v)`. Then
//!
//! ```text
//! log p̂(v) = log (1/k) Σ_s e^{ℓ_s}                 (importance sampling; E[p̂] = p(v))
//! B̂(v)     = (1/k) Σ_s ℓ_s                          (the bound; E[B̂] = log p(v) − KL(Q‖P))
//! ```
//!
//! and `B̂ ≤ log p̂` for every draw (Jensen). **Standard errors** are the Monte Carlo errors of
//! the k samples (not the spread over the data): for log p̂ by the delta method on the weights
//! `w_s = e^{ℓ_s}`, `se(log p̂) ≈ √(s_w²/k) / w̄` with `w̄` their mean and `s_w²` their sample
//! variance; for B̂ `s_ℓ/√k`. The mean over N examples has `se = √(Σ se_n²) / N` (the examples
//! are sampled independently). log p̂ is biased low by about `se²/2`, and its delta-method
//! error is itself an estimate, optimistic when the weights are heavy-tailed (when Q is far
//! from the posterior) — which is when the bound and the estimate are far apart.

use burn::tensor::Tensor;

use super::model::{log_bernoulli, repeat_rows, softplus};
use super::{Sbn, SbnError};
use crate::eval::{check, never_stop, to_vec};
use crate::rbm::Draws;
use crate::rbm::model::{bernoulli, row, sigmoid};

/// Largest number of elements of one [examples · k, units] block of samples.
const BLOCK: usize = 1 << 22;

/// Importance-sampled log-likelihoods and sampled bounds of a set of examples, each with its
/// Monte Carlo standard error (module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportanceEstimate {
    /// Samples per example k.
    pub samples: usize,
    /// log p̂(v) of each example.
    pub log_likelihood: Vec<f64>,
    /// Its delta-method standard error.
    pub log_likelihood_se: Vec<f64>,
    /// The sampled bound B̂(v) of each example.
    pub bound: Vec<f64>,
    /// Its standard error `s_ℓ/√k`.
    pub bound_se: Vec<f64>,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// `√(Σ se²) / N`: the standard error of a mean of independent estimates.
fn mean_se(se: &[f64]) -> f64 {
    se.iter().map(|s| s * s).sum::<f64>().sqrt() / se.len() as f64
}

impl ImportanceEstimate {
    /// The mean importance-sampled log-likelihood over the examples (nats).
    pub fn mean_log_likelihood(&self) -> f64 {
        mean(&self.log_likelihood)
    }

    /// The standard error of [`ImportanceEstimate::mean_log_likelihood`].
    pub fn mean_log_likelihood_se(&self) -> f64 {
        mean_se(&self.log_likelihood_se)
    }

    /// The mean sampled bound over the examples (nats).
    pub fn mean_bound(&self) -> f64 {
        mean(&self.bound)
    }

    /// The standard error of [`ImportanceEstimate::mean_bound`].
    pub fn mean_bound_se(&self) -> f64 {
        mean_se(&self.bound_se)
    }
}

/// `(log p̂, se(log p̂), B̂, se(B̂))` of one example from its k ≥ 2 log importance weights.
pub fn from_log_weights(log_w: &[f64]) -> (f64, f64, f64, f64) {
    let k = log_w.len() as f64;
    let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = log_w.iter().map(|l| (l - max).exp()).collect();
    let w_mean = mean(&w);
    let w_var = w.iter().map(|x| (x - w_mean).powi(2)).sum::<f64>() / (k - 1.0);
    let bound = mean(log_w);
    let l_var = log_w.iter().map(|x| (x - bound).powi(2)).sum::<f64>() / (k - 1.0);
    (
        max + w_mean.ln(),
        (w_var / k).sqrt() / w_mean,
        bound,
        (l_var / k).sqrt(),
    )
}

impl Sbn {
    /// Importance-sampled log p(v) and the sampled bound of each row of `v`, with `samples`
    /// (k ≥ 2) states per row from the recognition net drawn with `draws`.
    pub fn importance_sampling(
        &self,
        v: &Tensor<2>,
        samples: usize,
        draws: &mut dyn Draws,
    ) -> Result<ImportanceEstimate, SbnError> {
        self.importance_sampling_while(v, samples, draws, &never_stop)
    }

    /// [`Sbn::importance_sampling`] asking `keep_going` before each block of examples.
    pub fn importance_sampling_while(
        &self,
        v: &Tensor<2>,
        samples: usize,
        draws: &mut dyn Draws,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<ImportanceEstimate, SbnError> {
        self.check_columns("the data to evaluate", v)?;
        if samples < 2 {
            return Err(SbnError::Config(format!(
                "eval.importance_samples must be at least 2 (for the standard error), got \
                 {samples}"
            )));
        }
        let n = v.dims()[0];
        if n == 0 {
            return Err(SbnError::EmptyData);
        }
        let widest = self.sizes().into_iter().max().unwrap_or(1);
        let per_block = (BLOCK / (samples * widest)).clamp(1, n);
        let mut out = ImportanceEstimate {
            samples,
            log_likelihood: Vec::with_capacity(n),
            log_likelihood_se: Vec::with_capacity(n),
            bound: Vec::with_capacity(n),
            bound_se: Vec::with_capacity(n),
        };
        let mut start = 0;
        while start < n {
            check(keep_going)?;
            let len = per_block.min(n - start);
            let part = v.clone().narrow(0, start, len);
            let log_w = to_vec(self.log_weights(part, samples, draws));
            for example in log_w.chunks_exact(samples) {
                let log_w: Vec<f64> = example.iter().map(|&x| x as f64).collect();
                let (ll, ll_se, bound, bound_se) = from_log_weights(&log_w);
                out.log_likelihood.push(ll);
                out.log_likelihood_se.push(ll_se);
                out.bound.push(bound);
                out.bound_se.push(bound_se);
            }
            start += len;
        }
        Ok(out)
    }

    /// The log importance weights `log p(v, h_s) − log q(h_s | v)` of k samples per row of
    /// `v`, row by row ([rows · k]). Only what depends on a sample is computed per sample: with
    /// `u = v (G¹)ᵀ`, `v·a⁰(h¹) = v·b⁰ + h¹·u`, so v itself is never repeated.
    fn log_weights(&self, v: Tensor<2>, samples: usize, draws: &mut dyn Draws) -> Tensor<1> {
        let c1 = repeat_rows(self.recognition_input(1, v.clone()), samples);
        let q1 = sigmoid(c1.clone());
        let u = draws.uniform(&q1);
        let mut hidden = vec![bernoulli(q1, u)];
        for l in 2..=self.hidden_layers() {
            let q = self.recognition_probs(l, hidden[l - 2].clone());
            let u = draws.uniform(&q);
            hidden.push(bernoulli(q, u));
        }
        let h1 = hidden[0].clone();
        let log_q = log_bernoulli(h1.clone(), c1) + self.log_recognition_above(&hidden);
        let bias_term = v
            .clone()
            .matmul(row(&self.generative_biases[0]).transpose());
        let u = v.matmul(self.generative[0].clone().transpose());
        let a0 = self.generative_input(0, h1.clone());
        let softplus_sum: Tensor<2> = softplus(a0).sum_dim(1);
        let visible: Tensor<2> = repeat_rows(bias_term, samples)
            + (h1 * repeat_rows(u, samples)).sum_dim(1)
            - softplus_sum;
        visible.squeeze_dim::<1>(1) + self.log_hidden_prior(&hidden) - log_q
    }
}
