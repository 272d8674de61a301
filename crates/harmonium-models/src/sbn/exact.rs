//! Exact log p(v), the exact variational bound and KL(Q ‖ P) of tiny sigmoid belief nets, by
//! enumerating every joint state h = (h¹, …, hᴸ) of the hidden layers (2^{n_1+…+n_L} states):
//!
//! ```text
//! log p(v)  = log Σ_h p(v, h)
//! bound(v)  = Σ_h q(h|v) [log p(v, h) − log q(h|v)]
//! KL(Q‖P)   = Σ_h q(h|v) log (q(h|v) / p(h|v)) = log p(v) − bound(v)
//! ```
//!
//! Only the bottom layer couples a state to the example: with a⁰(h¹) = b⁰ + h¹G¹ and
//! c¹(v) = r¹ + vR¹,
//!
//! ```text
//! log p(v, h)  = v·a⁰(h¹) − Σ_i softplus(a⁰_i(h¹)) + log p(h¹, …, hᴸ)
//! log q(h | v) = h¹·c¹(v) − Σ_j softplus(c¹_j(v)) + Σ_{l≥2} log q(hˡ | hˡ⁻¹)
//! ```
//!
//! so a block of states is scored against a block of examples by two matmuls. The log-sum-exp
//! and the bound are accumulated across blocks in f64 on the host.

use burn::tensor::Tensor;

use super::model::softplus;
use super::{Sbn, SbnError};
use crate::eval::exact::binary_states;
use crate::eval::{EvalError, LogSumExp, check, never_stop, to_vec};

/// Largest number of elements of one block ([states, units] or [examples, states]).
const BLOCK: usize = 1 << 22;

/// Exact per-example log-likelihoods and variational bounds; their difference is KL(Q ‖ P).
#[derive(Debug, Clone, PartialEq)]
pub struct ExactEvaluation {
    /// log p(v) of each example.
    pub log_likelihood: Vec<f64>,
    /// `E_Q[log p(v, h) − log q(h | v)]` of each example.
    pub bound: Vec<f64>,
}

impl ExactEvaluation {
    /// KL(Q(·|v) ‖ P(·|v)) of each example.
    pub fn kl(&self) -> Vec<f64> {
        self.log_likelihood
            .iter()
            .zip(&self.bound)
            .map(|(l, b)| l - b)
            .collect()
    }

    /// Mean log p(v) over the examples.
    pub fn mean_log_likelihood(&self) -> f64 {
        self.log_likelihood.iter().sum::<f64>() / self.log_likelihood.len() as f64
    }

    /// Mean bound over the examples.
    pub fn mean_bound(&self) -> f64 {
        self.bound.iter().sum::<f64>() / self.bound.len() as f64
    }

    /// Mean KL(Q ‖ P) over the examples.
    pub fn mean_kl(&self) -> f64 {
        self.mean_log_likelihood() - self.mean_bound()
    }
}

/// The example-independent parts of a block of joint hidden states.
struct StateBlock {
    /// h¹ of each state, [count, n_1].
    h1: Tensor<2>,
    /// a⁰(h¹)ᵀ, [n_0, count].
    visible_input_t: Tensor<2>,
    /// `log p(h) − Σ_i softplus(a⁰_i)`, [1, count].
    joint_rest: Tensor<2>,
    /// `Σ_{l≥2} log q(hˡ | hˡ⁻¹)`, [1, count] (zeros for one hidden layer).
    recognition_rest: Tensor<2>,
}

impl Sbn {
    /// Whether [`Sbn::exact_evaluation`] can enumerate this net within `max_units` hidden
    /// units (at most 30).
    pub fn is_enumerable(&self, max_units: usize) -> bool {
        self.hidden_units() <= max_units.min(30)
    }

    fn state_block(&self, start: usize, count: usize) -> StateBlock {
        let device = self.device();
        let sizes = self.sizes();
        let all = binary_states(self.hidden_units(), start, count, &device);
        let mut hidden = Vec::with_capacity(sizes.len() - 1);
        let mut offset = 0;
        for &n in &sizes[1..] {
            hidden.push(all.clone().narrow(1, offset, n));
            offset += n;
        }
        let a0 = self.generative_input(0, hidden[0].clone());
        let prior = self.log_hidden_prior(&hidden);
        let softplus_sum: Tensor<1> = softplus(a0.clone()).sum_dim(1).squeeze_dim(1);
        let recognition_rest = self.log_recognition_above(&hidden);
        StateBlock {
            h1: hidden[0].clone(),
            visible_input_t: a0.transpose(),
            joint_rest: (prior - softplus_sum).unsqueeze_dim(0),
            recognition_rest: recognition_rest.unsqueeze_dim(0),
        }
    }

    /// Exact log p(v) and bound of each row of `v`, enumerating all hidden states; an error
    /// when the hidden layers have more than `max_units` units (at most 30) in all.
    pub fn exact_evaluation(
        &self,
        v: &Tensor<2>,
        max_units: usize,
    ) -> Result<ExactEvaluation, SbnError> {
        self.exact_evaluation_while(v, max_units, &never_stop)
    }

    /// [`Sbn::exact_evaluation`] asking `keep_going` before each block of states.
    pub fn exact_evaluation_while(
        &self,
        v: &Tensor<2>,
        max_units: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<ExactEvaluation, SbnError> {
        self.check_columns("the data to evaluate", v)?;
        if !self.is_enumerable(max_units) {
            return Err(SbnError::Eval(EvalError::Unsupported(format!(
                "exact evaluation of a sigmoid belief net enumerates its hidden states, at most \
                 {} units in all, but the net is {:?}",
                max_units.min(30),
                self.sizes()
            ))));
        }
        let n = v.dims()[0];
        if n == 0 {
            return Err(SbnError::EmptyData);
        }
        let total = 1usize << self.hidden_units();
        let widest = self.sizes().into_iter().max().unwrap_or(1);
        let states_per_block = (BLOCK / widest).clamp(1, 1 << 14).min(total);
        let examples_per_block = (BLOCK / states_per_block).clamp(1, n);
        let mut log_p = vec![LogSumExp::new(); n];
        let mut bound = vec![0.0f64; n];
        let mut start = 0;
        while start < total {
            check(keep_going)?;
            let count = states_per_block.min(total - start);
            let block = self.state_block(start, count);
            let mut first = 0;
            while first < n {
                let len = examples_per_block.min(n - first);
                let part = v.clone().narrow(0, first, len);
                let (lse, b) = self.score_block(part, &block);
                for (i, (l, b)) in lse.into_iter().zip(b).enumerate() {
                    log_p[first + i].add(l as f64);
                    bound[first + i] += b as f64;
                }
                first += len;
            }
            start += count;
        }
        Ok(ExactEvaluation {
            log_likelihood: log_p.iter().map(LogSumExp::value).collect(),
            bound,
        })
    }

    /// For each example of `v`: `log Σ_h p(v, h)` and `Σ_h q(h|v) [log p(v,h) − log q(h|v)]`
    /// over the states of one block.
    fn score_block(&self, v: Tensor<2>, block: &StateBlock) -> (Vec<f32>, Vec<f32>) {
        let log_joint = v.clone().matmul(block.visible_input_t.clone()) + block.joint_rest.clone();
        let c1 = self.recognition_input(1, v);
        let c1_softplus = softplus(c1.clone()).sum_dim(1);
        let log_q =
            c1.matmul(block.h1.clone().transpose()) - c1_softplus + block.recognition_rest.clone();
        let max = log_joint.clone().max_dim(1);
        let sum: Tensor<2> = crate::fast_math::exp(log_joint.clone() - max.clone()).sum_dim(1);
        let lse = sum.log() + max;
        let terms = crate::fast_math::exp(log_q.clone()) * (log_joint - log_q);
        (to_vec(lse), to_vec(terms.sum_dim(1)))
    }
}
