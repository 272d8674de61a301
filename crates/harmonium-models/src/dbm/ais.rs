//! Annealed importance sampling estimate of log Z for a 2-layer DBM (Salakhutdinov &
//! Hinton 2009, §4; Salakhutdinov & Murray 2008). The odd layer h¹ is summed out analytically,
//! so AIS runs on the states (v, h²) with
//!
//! ```text
//! log p*(v, h²) = b·v + c²·h² + Σ_j softplus(c¹_j + (vW¹)_j + (h²(W²)ᵀ)_j)
//! ```
//!
//! The base model A has zero weights, zero hidden biases and visible biases b_A fitted to the
//! data ([`BaseRateModel`]), so `log Z_A = Σ_i softplus(b_A,i) + (n₁ + n₂) log 2`, and its
//! exact samples are v ~ σ(b_A) pixel by pixel and h² uniform. For `0 = β_0 < … < β_K = 1`,
//!
//! ```text
//! log p*_β(v, h²) = (1−β) b_A·v + β (b·v + c²·h²) + Σ_j softplus(β x_j),   x = c¹ + vW¹ + h²(W²)ᵀ
//! ```
//!
//! Each run adds `log p*_{β_k} − log p*_{β_{k−1}}` at its current state to its log-weight, then
//! moves by one Gibbs step that leaves p_{β_k}(v, h¹, h²) invariant: `h¹ ~ σ(β x)`, then
//! `v ~ σ((1−β) b_A + β (b + h¹(W¹)ᵀ))` and `h² ~ σ(β (c² + h¹W²))`. `Z/Z_A ≈ mean(w)`, with
//! ±3σ bounds and the effective number of runs from [`crate::eval::ais`]. The softplus difference
//! is computed without cancellation as `(β−β') max(x, 0) + log[(1 + e^{−β|x|}) / (1 + e^{−β'|x|})]`.
//!
//! **Gaussian visible units** (unit variance) keep their own term in every intermediate
//! distribution instead of annealing it from a base model:
//!
//! ```text
//! log p*_β(v, h²) = −½‖v − b‖² + β c²·h² + Σ_j softplus(β x_j)
//! ```
//!
//! so the base (β = 0) is v ~ N(b, I) and h² uniform, `log Z_A = (D/2) log 2π + (n₁ + n₂) log 2`,
//! and the move draws `v ~ N(b + β h¹(W¹)ᵀ, I)`.

use burn::tensor::Tensor;

use super::{Dbm, DbmError};
use crate::eval::ais::{AisEstimate, BaseRateModel, beta_schedule, softplus_increment, summarise};
use crate::eval::{CHECK_EVERY, Interrupted, check, never_stop, to_vec};
use crate::rbm::Draws;
use crate::rbm::model::{bernoulli, row, sigmoid};

/// Steps whose log-weight increments are summed on the device before the f64 sum.
const SEGMENT: usize = 100;

impl Dbm {
    /// AIS estimate of log Z with `runs` runs through `betas` intermediate distributions
    /// ([`beta_schedule`]), random numbers from `draws`. Only for 2 hidden layers.
    pub fn ais_log_partition(
        &self,
        base: &BaseRateModel,
        runs: usize,
        betas: usize,
        draws: &mut dyn Draws,
    ) -> Result<AisEstimate, DbmError> {
        self.ais_log_partition_while(base, runs, betas, draws, &never_stop)
    }

    /// [`Dbm::ais_log_partition`] asking `keep_going` every [`CHECK_EVERY`] β steps; a stop gives
    /// `Err(DbmError::Eval(EvalError::Interrupted))`.
    pub fn ais_log_partition_while(
        &self,
        base: &BaseRateModel,
        runs: usize,
        betas: usize,
        draws: &mut dyn Draws,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<AisEstimate, DbmError> {
        if self.hidden_layers() != 2 {
            return Err(DbmError::Config(format!(
                "AIS is implemented for DBMs with 2 hidden layers, not {}",
                self.hidden_layers()
            )));
        }
        if runs < 2 {
            return Err(DbmError::Config("AIS needs at least 2 runs".into()));
        }
        let log_weights = self.ais_log_weights(base, runs, betas, draws, keep_going)?;
        let [d, n1, n2] = [self.sizes()[0], self.sizes()[1], self.sizes()[2]];
        let visible_log_z = if self.is_gaussian() {
            0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
        } else {
            to_vec(crate::rbm::softplus(base.visible_bias.clone()))
                .iter()
                .map(|&x| x as f64)
                .sum::<f64>()
        };
        let log_z_a = visible_log_z + (n1 + n2) as f64 * std::f64::consts::LN_2;
        Ok(summarise(log_weights, log_z_a))
    }

    fn ais_log_weights(
        &self,
        base: &BaseRateModel,
        runs: usize,
        betas: usize,
        draws: &mut dyn Draws,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Vec<f64>, Interrupted> {
        let device = self.device();
        let schedule = beta_schedule(betas);
        let (w1, w2) = (self.weights[0].clone(), self.weights[1].clone());
        let (w1_t, w2_t) = (w1.clone().transpose(), w2.clone().transpose());
        let gaussian = self.is_gaussian();
        let b = row(&self.visible_bias);
        // Gaussian units keep their term at every β: the base's visible biases are b itself.
        let b_a = if gaussian {
            b.clone()
        } else {
            row(&base.visible_bias)
        };
        let (c1, c2) = (row(&self.hidden_biases[0]), row(&self.hidden_biases[1]));
        let n2 = self.sizes()[2];
        let bias_diff = (b.clone() - b_a.clone()).transpose(); // [visible, 1]
        let c2_col = c2.clone().transpose(); // [n2, 1]

        let mut v = if gaussian {
            let mean = b.clone().repeat_dim(0, runs);
            let noise = draws.normal(&mean);
            mean + noise
        } else {
            let p_v = sigmoid(b_a.clone().repeat_dim(0, runs));
            bernoulli(p_v.clone(), draws.uniform(&p_v))
        };
        let half = Tensor::<2>::full([runs, n2], 0.5, &device);
        let mut h2 = bernoulli(half.clone(), draws.uniform(&half));

        let mut segments = Vec::new();
        let mut segment: Tensor<2> = Tensor::zeros([runs, 1], &device);
        for k in 1..schedule.len() {
            if (k - 1) % CHECK_EVERY == 0 {
                check(keep_going)?;
            }
            let (beta_prev, beta) = (schedule[k - 1], schedule[k]);
            let x = v.clone().matmul(w1.clone()) + h2.clone().matmul(w2_t.clone()) + c1.clone();
            let linear = v.clone().matmul(bias_diff.clone()) + h2.clone().matmul(c2_col.clone());
            let (softplus, _) = softplus_increment(&x, beta, beta_prev);
            segment = segment + linear.mul_scalar(beta - beta_prev) + softplus;
            if k % SEGMENT == 0 {
                segments.push(std::mem::replace(
                    &mut segment,
                    Tensor::zeros([runs, 1], &device),
                ));
            }
            if k + 1 < schedule.len() {
                let p1 = sigmoid(x.mul_scalar(beta));
                let h1 = bernoulli(p1.clone(), draws.uniform(&p1));
                let top_down = h1.clone().matmul(w1_t.clone());
                v = if gaussian {
                    let mean = top_down.mul_scalar(beta) + b.clone();
                    let noise = draws.normal(&mean);
                    mean + noise
                } else {
                    let pv = sigmoid(
                        (top_down + b.clone()).mul_scalar(beta)
                            + b_a.clone().mul_scalar(1.0 - beta),
                    );
                    bernoulli(pv.clone(), draws.uniform(&pv))
                };
                let p2 = sigmoid((h1.matmul(w2.clone()) + c2.clone()).mul_scalar(beta));
                h2 = bernoulli(p2.clone(), draws.uniform(&p2));
            }
        }
        segments.push(segment);
        let sums = to_vec(Tensor::cat(segments, 1));
        let per_run = sums.len() / runs;
        Ok(sums
            .chunks(per_run)
            .map(|r| r.iter().map(|&x| x as f64).sum())
            .collect())
    }
}
