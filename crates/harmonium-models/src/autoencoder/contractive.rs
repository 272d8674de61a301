//! The contractive penalty (Rifai et al. 2011): the squared Frobenius norm of the encoder's
//! Jacobian. For `h_j = σ(a_j)`, `a = xW + c`, the Jacobian is `∂h_j/∂x_i = h_j(1 − h_j) W_ij`, so
//!
//! ```text
//! P(x) = λ ‖∂h/∂x‖²_F = λ Σ_j s_j² q_j,     s_j = h_j(1 − h_j),  q_j = Σ_i W_ij²
//! ```
//!
//! Its gradient, with `ds_j/da_j = (1 − 2h_j) s_j`, has a part through the hidden inputs a and a
//! direct part through q:
//!
//! ```text
//! ∂P/∂a_j  = 2λ q_j s_j² (1 − 2h_j)          (then ∂/∂W_ij += x_i ·, ∂/∂c_j += 1 ·)
//! ∂P/∂W_ij |_direct = 2λ W_ij s_j²
//! ```
//!
//! It is evaluated at the encoder's input (the clean x unless a corruption is configured too).

use burn::tensor::Tensor;

use super::AutoencoderLayer;
use crate::rbm::model::row;

/// `Σ_i W_ij²` of every hidden unit, as a [1, hidden] row.
fn column_norms2(weights: &Tensor<2>) -> Tensor<2> {
    weights.clone().square().sum_dim(0)
}

/// `s_j² = (h_j(1 − h_j))²`, shape [batch, hidden].
fn slopes2(h: &Tensor<2>) -> Tensor<2> {
    (h.clone() - h.clone().square()).square()
}

/// `‖∂h/∂x‖²_F = Σ_j (h_j(1 − h_j))² Σ_i W_ij²` per example from the hidden probabilities h;
/// shape [batch] (λ not applied).
pub fn jacobian_norm2(h: &Tensor<2>, weights: &Tensor<2>) -> Tensor<1> {
    (slopes2(h) * column_norms2(weights))
        .sum_dim(1)
        .squeeze_dim(1)
}

impl AutoencoderLayer {
    /// The encoder's Jacobian at one input `x` ([visible]): `J_ji = h_j(1 − h_j) W_ij`, shape
    /// [hidden, visible].
    pub fn jacobian(&self, x: Tensor<1>) -> Tensor<2> {
        let h = self.encode(x.unsqueeze());
        let s = h.clone() - h.square(); // [1, hidden]
        (self.weights.clone() * s).transpose()
    }

    /// `‖∂h/∂x‖²_F` per example at the inputs `x`; shape [batch].
    pub fn contraction(&self, x: Tensor<2>) -> Tensor<1> {
        jacobian_norm2(&self.encode(x), &self.weights)
    }
}

/// The penalty's gradient for a batch whose hidden probabilities are `h`: `∂P/∂a` per example
/// ([batch, hidden]) and the direct part of `∂P/∂W` summed over the batch ([visible, hidden]),
/// both with λ applied.
pub(crate) fn penalty_gradient(
    h: &Tensor<2>,
    weights: &Tensor<2>,
    lambda: f64,
) -> (Tensor<2>, Tensor<2>) {
    let s2 = slopes2(h);
    let through_a = s2.clone()
        * h.clone().mul_scalar(-2.0).add_scalar(1.0)
        * column_norms2(weights).mul_scalar(2.0 * lambda);
    let total_s2: Tensor<1> = s2.sum_dim(0).squeeze_dim(0);
    let direct = weights.clone() * row(&total_s2).mul_scalar(2.0 * lambda);
    (through_a, direct)
}
