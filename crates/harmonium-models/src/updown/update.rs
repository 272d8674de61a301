//! The update of every parameter θ from its statistic S of a mini-batch (a delta rule's or
//! contrastive divergence's), with learning rate lr, momentum m and weight cost wc:
//!
//! ```text
//! Δθ ← m·Δθ + lr·(S − wc·θ)          (wc on weight matrices only: the biases have no cost)
//! θ  ← θ + Δθ
//! ```

use burn::tensor::Tensor;

/// The hyper-parameters of one mini-batch's update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// lr.
    pub lr: f64,
    /// m.
    pub momentum: f64,
    /// wc (weights only).
    pub weight_cost: f64,
}

impl Rule {
    /// `Δθ ← m·Δθ + lr·(S − wc·θ)` (no cost for a bias), then `θ ← θ + Δθ`.
    pub fn apply<const D: usize>(
        &self,
        theta: &mut Tensor<D>,
        increment: &mut Tensor<D>,
        s: Tensor<D>,
        is_weight: bool,
    ) {
        let s = if is_weight && self.weight_cost > 0.0 {
            s - theta.clone().mul_scalar(self.weight_cost)
        } else {
            s
        };
        increment.inplace(|inc| inc.mul_scalar(self.momentum) + s.mul_scalar(self.lr));
        let inc = increment.clone();
        theta.inplace(|t| t + inc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::to_vec;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn two_updates_follow_the_momentum_rule_by_hand() {
        let device = Device::flex();
        let t = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [2]), &device);
        let rule = Rule {
            lr: 0.5,
            momentum: 0.9,
            weight_cost: 0.1,
        };
        let (mut w, mut dw) = (t(vec![1.0, -2.0]), t(vec![0.0, 0.0]));
        rule.apply(&mut w, &mut dw, t(vec![2.0, 4.0]), true);
        // Δ = 0.5·(S − 0.1·w) = 0.5·(1.9, 4.2) = (0.95, 2.1); w = (1.95, 0.1).
        let (w1, d1) = (to_vec(w.clone()), to_vec(dw.clone()));
        assert!(
            (d1[0] - 0.95).abs() < 1e-6 && (d1[1] - 2.1).abs() < 1e-6,
            "{d1:?}"
        );
        assert!(
            (w1[0] - 1.95).abs() < 1e-6 && (w1[1] - 0.1).abs() < 1e-6,
            "{w1:?}"
        );
        rule.apply(&mut w, &mut dw, t(vec![0.0, 1.0]), true);
        // Δ = 0.9·(0.95, 2.1) + 0.5·((0, 1) − 0.1·(1.95, 0.1)) = (0.7575, 2.385).
        let d2 = to_vec(dw.clone());
        assert!(
            (d2[0] - 0.7575).abs() < 1e-6 && (d2[1] - 2.385).abs() < 1e-6,
            "{d2:?}"
        );
        // A bias has no cost: Δ = 0.5·S.
        let (mut b, mut db) = (t(vec![1.0, 1.0]), t(vec![0.0, 0.0]));
        rule.apply(&mut b, &mut db, t(vec![2.0, 0.0]), false);
        assert_eq!(to_vec(b), vec![2.0, 1.0]);
    }
}
