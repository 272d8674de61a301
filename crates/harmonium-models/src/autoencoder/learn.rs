//! One update: the closed-form gradient of a mini-batch's objective and the momentum step.
//!
//! For a mini-batch of n clean inputs X and their encoder inputs X̃ (corrupted, or X itself), the
//! objective is `E = (1/n) Σ_examples [L(x, r) + λ‖∂h/∂x̃‖²_F]`. Backpropagation through the tied
//! weights (W is used twice, by the encoder and transposed by the decoder):
//!
//! ```text
//! A = X̃W + c,  H = σ(A),  Z = HWᵀ + b,  R = σ(Z) or Z
//! δ_Z = R − X                          (both decoders: cross-entropy after σ, ½‖·‖² after identity)
//! δ_A = (δ_Z W) ⊙ H ⊙ (1 − H)  [+ 2λ q ⊙ S² ⊙ (1 − 2H)]          S = H ⊙ (1 − H), q_j = Σ_i W_ij²
//! ∂E/∂W = (δ_Zᵀ H + X̃ᵀ δ_A [+ 2λ W ⊙ Σ_n S²]) / n               decoder + encoder [+ penalty]
//! ∂E/∂b = Σ_n δ_Z / n,   ∂E/∂c = Σ_n δ_A / n
//! ```
//!
//! The update is the RBM's (practical guide §9), descending E:
//!
//! ```text
//! Δθ ← m·Δθ − lr·(∂E/∂θ + wc·θ)      (wc on W only)
//! θ  ← θ + Δθ
//! ```

use burn::tensor::Tensor;

use super::AutoencoderLayer;
use super::contractive::{jacobian_norm2, penalty_gradient};
use crate::rbm::model::{row, sigmoid};

/// The gradient of a mini-batch's mean objective, and the objective's parts summed over it.
#[derive(Debug, Clone)]
pub struct Gradients {
    /// ∂E/∂W, [visible, hidden].
    pub weights: Tensor<2>,
    /// ∂E/∂b, [visible].
    pub visible_bias: Tensor<1>,
    /// ∂E/∂c, [hidden].
    pub hidden_bias: Tensor<1>,
    /// `Σ_examples L(x, r)`, shape [1] (left on the device, so that an epoch reads it once).
    pub reconstruction_loss_sum: Tensor<1>,
    /// `Σ_examples λ‖∂h/∂x̃‖²_F`, shape [1]; `None` without a penalty.
    pub penalty_sum: Option<Tensor<1>>,
}

impl Gradients {
    /// `Σ_examples [L(x, r) + λ‖J‖²_F]`, shape [1].
    pub fn objective_sum(&self) -> Tensor<1> {
        match &self.penalty_sum {
            Some(p) => self.reconstruction_loss_sum.clone() + p.clone(),
            None => self.reconstruction_loss_sum.clone(),
        }
    }
}

impl AutoencoderLayer {
    /// The objective per example, `L(x, r(x̃)) + λ‖∂h/∂x̃‖²_F`, for clean inputs `clean` and
    /// encoder inputs `input` (the same rows, corrupted or not); shape [batch].
    pub fn objective(&self, clean: &Tensor<2>, input: &Tensor<2>, contraction: f64) -> Tensor<1> {
        let h = self.encode(input.clone());
        let loss = self.reconstruction_loss(self.decoder_input(h.clone()), clean.clone());
        if contraction > 0.0 {
            loss + jacobian_norm2(&h, &self.weights).mul_scalar(contraction)
        } else {
            loss
        }
    }

    /// The gradient of the mean objective over the rows of `clean` (targets) and `input`
    /// (encoder inputs), with the contractive penalty's λ = `contraction` (0: none).
    pub fn gradients(&self, clean: &Tensor<2>, input: &Tensor<2>, contraction: f64) -> Gradients {
        let n = clean.dims()[0] as f64;
        let w = self.weights.clone();
        let h = sigmoid(input.clone().matmul(w.clone()) + row(&self.hidden_bias));
        let z = h.clone().matmul(w.clone().transpose()) + row(&self.visible_bias);
        let reconstruction_loss_sum = self.reconstruction_loss(z.clone(), clean.clone()).sum();
        let dz = self.output(z) - clean.clone();
        let slope = h.clone() - h.clone().square();
        let mut da = dz.clone().matmul(w.clone()) * slope;
        let mut penalty_sum = None;
        let mut direct = None;
        if contraction > 0.0 {
            let (through_a, on_w) = penalty_gradient(&h, &w, contraction);
            da = da + through_a;
            direct = Some(on_w);
            penalty_sum = Some(jacobian_norm2(&h, &w).sum().mul_scalar(contraction));
        }
        let mut dw =
            dz.clone().transpose().matmul(h) + input.clone().transpose().matmul(da.clone());
        if let Some(on_w) = direct {
            dw = dw + on_w;
        }
        let inv = 1.0 / n;
        Gradients {
            weights: dw.mul_scalar(inv),
            visible_bias: dz.sum_dim(0).squeeze_dim(0).mul_scalar(inv),
            hidden_bias: da.sum_dim(0).squeeze_dim(0).mul_scalar(inv),
            reconstruction_loss_sum,
            penalty_sum,
        }
    }
}

/// The update's hyper-parameters for one mini-batch: `Δθ ← m·Δθ − lr·(∂E/∂θ + wc·θ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdStep {
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
    /// Δθ = 0 for the parameters of `layer`.
    pub fn zeros(layer: &AutoencoderLayer) -> Increments {
        Increments {
            weights: layer.weights.zeros_like(),
            visible_bias: layer.visible_bias.zeros_like(),
            hidden_bias: layer.hidden_bias.zeros_like(),
        }
    }
}

impl SgdStep {
    /// `Δθ ← m·Δθ − lr·(∂E/∂θ + wc·θ)` for θ = W, b, c (wc on W only), then `θ ← θ + Δθ`.
    pub fn apply(&self, layer: &mut AutoencoderLayer, inc: &mut Increments, g: Gradients) {
        let dw = if self.weight_cost > 0.0 {
            g.weights + layer.weights.clone().mul_scalar(self.weight_cost)
        } else {
            g.weights
        };
        inc.weights
            .inplace(|d| d.mul_scalar(self.momentum) - dw.mul_scalar(self.lr));
        inc.visible_bias
            .inplace(|d| d.mul_scalar(self.momentum) - g.visible_bias.mul_scalar(self.lr));
        inc.hidden_bias
            .inplace(|d| d.mul_scalar(self.momentum) - g.hidden_bias.mul_scalar(self.lr));
        let (dw, db, dc) = (
            inc.weights.clone(),
            inc.visible_bias.clone(),
            inc.hidden_bias.clone(),
        );
        layer.weights.inplace(|w| w + dw);
        layer.visible_bias.inplace(|b| b + db);
        layer.hidden_bias.inplace(|c| c + dc);
    }
}
