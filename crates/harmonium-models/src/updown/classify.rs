//! Classification without backprop: an up-pass with the recognition weights gives the
//! penultimate layer's probabilities x; then the top-level associative memory's free energy of
//! x with each label clamped,
//!
//! ```text
//! F(x, y = k) = −b_x·x − b_k − Σ_j softplus(c_j + (x W_x)_j + W_kj)
//! p(y = k | x) = e^{−F(x, k)} / Σ_k' e^{−F(x, k')} = softmax_k(b_k + Σ_j softplus(…))
//! ```
//!
//! (`−b_x·x` is the same for every k and drops out), and the prediction is `argmin_k F(x, k)`.

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor};

use super::{TopRbm, UpDownDbn};
use crate::rbm::model::row;
use crate::rbm::softplus;

/// At most this many elements in the `[rows, K, H]` block of one chunk of rows.
const BLOCK: usize = 1 << 23;

/// `f` applied to chunks of the rows of `x`, the results concatenated.
fn by_chunks<const D: usize, K: burn::tensor::kind::Basic>(
    x: Tensor<2>,
    rows_per_chunk: usize,
    f: impl Fn(Tensor<2>) -> Tensor<D, K>,
) -> Tensor<D, K> {
    let n = x.dims()[0];
    if n <= rows_per_chunk {
        return f(x);
    }
    let parts = (0..n)
        .step_by(rows_per_chunk)
        .map(|start| f(x.clone().narrow(0, start, rows_per_chunk.min(n - start))))
        .collect();
    Tensor::cat(parts, 0)
}

impl TopRbm {
    /// `−F(x, k) − b_x·x = b_k + Σ_j softplus(c_j + (x W_x)_j + W_kj)` for every label k,
    /// `[B, K]`: the label scores, whose softmax is `p(y | x)`.
    pub fn label_scores(&self, x: Tensor<2>) -> Tensor<2> {
        let (k, h) = (self.classes, self.top());
        let rows = (BLOCK / (k * h)).max(1);
        let w_x = self.penultimate_weights();
        let w_y = self.label_weights().unsqueeze_dim::<3>(0);
        let c = row(&self.rbm.hidden_bias);
        let b_y = row(&self.label_bias());
        by_chunks(x, rows, |x| {
            let b = x.dims()[0];
            let a = (x.matmul(w_x.clone()) + c.clone()).unsqueeze_dim::<3>(1);
            let input = a.expand([b, k, h]) + w_y.clone().expand([b, k, h]);
            let s: Tensor<2> = softplus(input).sum_dim(2).squeeze_dim(2);
            s + b_y.clone()
        })
    }

    /// `F(x, y = k)` for every label k, `[B, K]`.
    pub fn free_energies(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, k] = [x.dims()[0], self.classes];
        let visible_term = (x.clone() * row(&self.penultimate_bias())).sum_dim(1);
        (self.label_scores(x) + visible_term.expand([b, k])).neg()
    }

    /// `p(y = k | x)`, `[B, K]`.
    pub fn label_posterior(&self, x: Tensor<2>) -> Tensor<2> {
        softmax(self.label_scores(x), 1)
    }

    /// `argmin_k F(x, k)`, `[B]`.
    pub fn classify(&self, x: Tensor<2>) -> Tensor<1, Int> {
        self.label_scores(x).argmax(1).squeeze_dim(1)
    }
}

impl UpDownDbn {
    /// `p(y = k | x)` with x the penultimate recognition probabilities of `v`, `[B, K]`.
    pub fn label_posterior(&self, v: Tensor<2>) -> Tensor<2> {
        self.top.label_posterior(self.penultimate_probs(v))
    }

    /// The predicted label of every row of `v`: `argmin_k F(x, k)` after the up-pass.
    pub fn classify(&self, v: Tensor<2>) -> Tensor<1, Int> {
        by_chunks(v, 10_000, |v| self.top.classify(self.penultimate_probs(v)))
    }

    /// The fraction of the rows of `v` whose predicted label is not `labels`.
    pub fn error_rate(&self, v: &Tensor<2>, labels: &Tensor<1, Int>) -> f64 {
        let n = v.dims()[0];
        if n == 0 {
            return f64::NAN;
        }
        let wrong: i64 = self
            .classify(v.clone())
            .not_equal(labels.clone())
            .int()
            .sum()
            .into_scalar();
        wrong as f64 / n as f64
    }
}
