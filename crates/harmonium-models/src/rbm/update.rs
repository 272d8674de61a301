//! The update (practical guide §9–11). For every parameter θ ∈ {W, b, c}, with S its statistic
//! of the mini-batch (data minus model, [`CdStatistics`]), learning rate lr, momentum m and
//! weight cost wc:
//!
//! ```text
//! Δθ ← m·Δθ + lr·(S − wc·θ)          (wc on W only: the biases have no cost)
//! θ  ← θ + Δθ
//! ```
//!
//! Sparsity target (§11): a running estimate of each hidden unit's mean activity
//! `q ← decay·q + (1−decay)·⟨p(h|v)⟩_data` (the first mini-batch's mean to start with), and the
//! penalty pulling q towards the target added to the statistics:
//!
//! ```text
//! S_c ← S_c + cost·(target − q)
//! S_W ← S_W + ⟨v⟩_data ⊗ cost·(target − q)
//! ```
//!
//! **The fast path** (the CPU's two halves of a mini-batch, `halves`): the weights' statistic
//! arrives in two parts, `S_W = S_a + S_b` (and the sparsity penalty's part), and W's rule runs
//! as one pass over memory ([`super::fused_update`]); the biases' rule is
//! [`MomentumUpdate::apply_to_biases`]. Together they are [`MomentumUpdate::apply`] (tested
//! equal to it).

use burn::tensor::Tensor;

use super::cd::{CdStatistics, UnitStatistics};
use super::model::row;
use super::{Rbm, Sparsity};

/// The learning rule's hyper-parameters for one mini-batch: `Δθ ← m·Δθ + lr·(S − wc·θ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentumUpdate {
    /// lr.
    pub lr: f64,
    /// m.
    pub momentum: f64,
    /// wc (W only).
    pub weight_cost: f64,
}

/// Δθ of every parameter, carried from one mini-batch to the next.
#[derive(Debug, Clone)]
pub struct Increments {
    /// ΔW, [visible, hidden].
    pub weights: Tensor<2>,
    /// Δb, [visible].
    pub visible_bias: Tensor<1>,
    /// Δc, [hidden].
    pub hidden_bias: Tensor<1>,
}

impl Increments {
    /// Δθ = 0 for the parameters of `rbm`.
    pub fn zeros(rbm: &Rbm) -> Increments {
        Increments {
            weights: rbm.weights.zeros_like(),
            visible_bias: rbm.visible_bias.zeros_like(),
            hidden_bias: rbm.hidden_bias.zeros_like(),
        }
    }
}

impl MomentumUpdate {
    /// `Δθ ← m·Δθ + lr·(S − wc·θ)` for θ = W, b, c (wc on W only), then `θ ← θ + Δθ`.
    pub fn apply(&self, rbm: &mut Rbm, inc: &mut Increments, s: CdStatistics) {
        let w = rbm.weights.clone();
        inc.weights
            .inplace(|dw| self.increment(dw, s.delta_w, Some(w)));
        inc.visible_bias
            .inplace(|db| self.increment(db, s.delta_b, None));
        inc.hidden_bias
            .inplace(|dc| self.increment(dc, s.delta_c, None));
        add_increments(rbm, inc);
    }

    /// `m·Δθ + lr·(S − wc·θ)`; without θ, no cost: `m·Δθ + lr·S`.
    pub(crate) fn increment<const D: usize>(
        &self,
        inc: Tensor<D>,
        s: Tensor<D>,
        theta: Option<Tensor<D>>,
    ) -> Tensor<D> {
        let s = match theta {
            Some(theta) if self.weight_cost > 0.0 => s - theta.mul_scalar(self.weight_cost),
            _ => s,
        };
        inc.mul_scalar(self.momentum) + s.mul_scalar(self.lr)
    }

    /// The fast path's rule for the biases (W's is [`super::fused_update`]): `Δb ← m·Δb +
    /// lr·S_b`, `Δc ← m·Δc + lr·S_c`, then `b ← b + Δb`, `c ← c + Δc`.
    pub(crate) fn apply_to_biases(
        &self,
        rbm: &mut Rbm,
        inc: &mut Increments,
        units: UnitStatistics,
    ) {
        inc.visible_bias
            .inplace(|db| self.increment(db, units.delta_b, None));
        inc.hidden_bias
            .inplace(|dc| self.increment(dc, units.delta_c, None));
        let (db, dc) = (inc.visible_bias.clone(), inc.hidden_bias.clone());
        rbm.visible_bias.inplace(|b| b + db);
        rbm.hidden_bias.inplace(|c| c + dc);
    }
}

/// `θ ← θ + Δθ`.
fn add_increments(rbm: &mut Rbm, inc: &Increments) {
    let (dw, db, dc) = (
        inc.weights.clone(),
        inc.visible_bias.clone(),
        inc.hidden_bias.clone(),
    );
    rbm.weights.inplace(|w| w + dw);
    rbm.visible_bias.inplace(|b| b + db);
    rbm.hidden_bias.inplace(|c| c + dc);
}

/// The sparsity penalty's statistics for one mini-batch.
#[derive(Debug, Clone)]
pub struct SparsityPenalty {
    /// `cost·(target − q)`, added to S_c.
    pub hidden_bias: Tensor<1>,
    /// `⟨v⟩_data ⊗ cost·(target − q)`, added to S_W.
    pub weights: Tensor<2>,
}

impl Sparsity {
    /// `q ← decay·q + (1−decay)·⟨p(h|v)⟩_data` (q = the mean itself when there is none yet), and
    /// the penalty's statistics `cost·(target − q)` and `⟨v⟩_data ⊗ cost·(target − q)`.
    pub fn penalty(
        &self,
        q: &mut Option<Tensor<1>>,
        hidden_data_mean: Tensor<1>,
        visible_data_mean: Tensor<1>,
    ) -> SparsityPenalty {
        let next = match q.take() {
            Some(q) => q.mul_scalar(self.decay) + hidden_data_mean.mul_scalar(1.0 - self.decay),
            None => hidden_data_mean,
        };
        let pull = next
            .clone()
            .neg()
            .add_scalar(self.target)
            .mul_scalar(self.cost);
        *q = Some(next);
        SparsityPenalty {
            weights: visible_data_mean.unsqueeze_dim::<2>(1).matmul(row(&pull)),
            hidden_bias: pull,
        }
    }

    /// The statistics with the penalty added (and q advanced): `S_c + cost·(target − q)`,
    /// `S_W + ⟨v⟩_data ⊗ cost·(target − q)`.
    pub fn penalize(&self, q: &mut Option<Tensor<1>>, s: CdStatistics) -> CdStatistics {
        let p = self.penalty(q, s.hidden_data_mean.clone(), s.visible_data_mean.clone());
        CdStatistics {
            delta_w: s.delta_w + p.weights,
            delta_c: s.delta_c + p.hidden_bias,
            ..s
        }
    }

    /// The fast path's [`Sparsity::penalize`], whose weights' statistic comes in parts: the
    /// statistics other than W's with the penalty added, and the penalty's part of S_W.
    pub(crate) fn penalize_units(
        &self,
        q: &mut Option<Tensor<1>>,
        s: UnitStatistics,
    ) -> (UnitStatistics, Tensor<2>) {
        let p = self.penalty(q, s.hidden_data_mean.clone(), s.visible_data_mean.clone());
        let units = UnitStatistics {
            delta_c: s.delta_c + p.hidden_bias,
            ..s
        };
        (units, p.weights)
    }
}
