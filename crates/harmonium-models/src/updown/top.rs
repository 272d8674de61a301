//! The top-level associative memory: an RBM whose visible layer is the penultimate layer x
//! (binary units) concatenated with K softmax label units y (one-hot), and whose hidden layer
//! is the top layer h. With `W = [W_x; W_y]`, `b = [b_x, b_y]` and c:
//!
//! ```text
//! E(x, y, h) = −b_x·x − b_y·y − c·h − xᵀW_x h − yᵀW_y h
//! p(h_j = 1 | x, y) = σ(c_j + (x W_x)_j + (y W_y)_j)
//! p(x_i = 1 | h)    = σ(b_x,i + (h W_xᵀ)_i)
//! p(y = k | h)      = softmax_k(b_y,k + Σ_j W_kj h_j)
//! ```
//!
//! **CD-k with the labels clamped** (greedy training of the top, and the top level of the
//! up-down algorithm): the positive phase is `v⁺ = [x, y]` with the true label y; the chain
//! starts from `h ~ p(h | v⁺)` and alternates k times: `x⁻ ~ p(x | h)` (binary samples),
//! `y⁻ ~ p(y | h)` (one-hot samples), then `p(h | x⁻, y⁻)`, sampling h again between steps.
//!
//! ```text
//! ΔW ∝ ⟨v⁺ᵀ p(h|v⁺)⟩ − ⟨v⁻ᵀ p(h|v⁻)⟩,  Δb ∝ ⟨v⁺⟩ − ⟨v⁻⟩,  Δc ∝ ⟨p(h|v⁺)⟩ − ⟨p(h|v⁻)⟩
//! ```
//!
//! The random numbers a step consumes, in order: `[B, H]` for the positive h; then per Gibbs
//! step `[B, n_x]` for x⁻, `[B, 1]` for y⁻ and (but after the last) `[B, H]` for h.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor};

use super::UpDownError;
use crate::rbm::model::{bernoulli, row, sigmoid};
use crate::rbm::{Draws, Rbm, VisibleUnits};

/// The top-level associative memory with its label units.
#[derive(Debug, Clone)]
pub struct TopRbm {
    /// The RBM over the visible vector `[x, y]` (penultimate units first, then the K label
    /// units) and the top units: `weights` is `[n_x + K, H]`.
    pub rbm: Rbm,
    /// K, the number of label units (the last K visible units).
    pub classes: usize,
}

/// CD-k statistics of one mini-batch of the top level, "data minus model", averaged over the
/// examples, and the negative phase's states (where the up-down algorithm's down-pass starts).
#[derive(Debug, Clone)]
pub struct TopStatistics {
    /// `⟨v⁺ᵀ p(h|v⁺)⟩ − ⟨v⁻ᵀ p(h|v⁻)⟩`, `[n_x + K, H]`.
    pub delta_w: Tensor<2>,
    /// `⟨v⁺⟩ − ⟨v⁻⟩`, `[n_x + K]`.
    pub delta_b: Tensor<1>,
    /// `⟨p(h|v⁺)⟩ − ⟨p(h|v⁻)⟩`, `[H]`.
    pub delta_c: Tensor<1>,
    /// x⁻, the negative phase's binary penultimate states, `[B, n_x]`.
    pub penultimate: Tensor<2>,
    /// y⁻, the negative phase's one-hot labels, `[B, K]`.
    pub labels: Tensor<2>,
}

/// Labels `[B]` as one-hot rows `[B, K]`.
pub fn one_hot(labels: Tensor<1, Int>, classes: usize) -> Tensor<2> {
    labels.one_hot::<2>(classes).float()
}

/// One sample per row of the categorical distributions `p` (`[B, K]`, rows summing to 1) as
/// one-hot rows, given one uniform number per row (`[B, 1]`): class k is chosen when
/// `Σ_{i<k} p_i ≤ u < Σ_{i≤k} p_i` (the last class takes what rounding leaves above the sum).
pub fn sample_categorical(p: Tensor<2>, uniform: Tensor<2>) -> Tensor<2> {
    let [b, k] = p.dims();
    // above[:, i] = 1 when the cumulative sum up to i exceeds u: a step from the chosen class on.
    let above = p
        .cumsum(1)
        .greater(uniform.expand([b, k]))
        .float()
        .slice_fill([0..b, k - 1..k], 1.0);
    let before = Tensor::cat(
        vec![
            Tensor::zeros([b, 1], &above.device()),
            above.clone().narrow(1, 0, k - 1),
        ],
        1,
    );
    above - before
}

impl TopRbm {
    /// A new associative memory between `penultimate` units with `classes` label units and
    /// `top` units: `W ~ N(0, init_sigma²)` from `draws`, zero biases.
    pub fn new(
        penultimate: usize,
        classes: usize,
        top: usize,
        init_sigma: f64,
        device: &Device,
        draws: &mut dyn Draws,
    ) -> TopRbm {
        let visible = penultimate + classes;
        let weights = draws
            .normal(&Tensor::zeros([visible, top], device))
            .mul_scalar(init_sigma);
        TopRbm {
            rbm: Rbm {
                weights,
                visible_bias: Tensor::zeros([visible], device),
                hidden_bias: Tensor::zeros([top], device),
                visible_units: VisibleUnits::Binary,
            },
            classes,
        }
    }

    /// An associative memory from an RBM whose last `classes` visible units are the labels.
    pub fn from_parts(rbm: Rbm, classes: usize) -> Result<TopRbm, UpDownError> {
        if !rbm.is_binary() {
            return Err(UpDownError::Config(
                "the top-level RBM must have binary visible units".into(),
            ));
        }
        if classes < 2 || rbm.visible() <= classes {
            return Err(UpDownError::Config(format!(
                "classes is {classes} but the top-level RBM has {} visible units: it needs at \
                 least 2 label units and at least 1 penultimate unit",
                rbm.visible()
            )));
        }
        Ok(TopRbm { rbm, classes })
    }

    /// The associative memory of an RBM trained without labels (e.g. the top of a pretrained
    /// stack) with `classes` label units added, their weights and biases zero: then
    /// `p(h | x, y) = p(h | x)` for every label.
    pub fn from_unlabelled(rbm: &Rbm, classes: usize) -> Result<TopRbm, UpDownError> {
        let device = rbm.device();
        let weights = Tensor::cat(
            vec![
                rbm.weights.clone(),
                Tensor::zeros([classes, rbm.hidden()], &device),
            ],
            0,
        );
        let visible_bias = Tensor::cat(
            vec![rbm.visible_bias.clone(), Tensor::zeros([classes], &device)],
            0,
        );
        TopRbm::from_parts(
            Rbm {
                weights,
                visible_bias,
                hidden_bias: rbm.hidden_bias.clone(),
                visible_units: rbm.visible_units.clone(),
            },
            classes,
        )
    }

    /// n_x, the number of penultimate units.
    pub fn penultimate(&self) -> usize {
        self.rbm.visible() - self.classes
    }

    /// H, the number of top units.
    pub fn top(&self) -> usize {
        self.rbm.hidden()
    }

    /// `W_x`, `[n_x, H]`.
    pub fn penultimate_weights(&self) -> Tensor<2> {
        self.rbm.weights.clone().narrow(0, 0, self.penultimate())
    }

    /// `W_y`, `[K, H]`: row k is what label k adds to the top units' input.
    pub fn label_weights(&self) -> Tensor<2> {
        self.rbm
            .weights
            .clone()
            .narrow(0, self.penultimate(), self.classes)
    }

    /// `b_x`, `[n_x]`.
    pub fn penultimate_bias(&self) -> Tensor<1> {
        self.rbm
            .visible_bias
            .clone()
            .narrow(0, 0, self.penultimate())
    }

    /// `b_y`, `[K]`.
    pub fn label_bias(&self) -> Tensor<1> {
        self.rbm
            .visible_bias
            .clone()
            .narrow(0, self.penultimate(), self.classes)
    }

    /// `p(h = 1 | x, y)`, `[B, H]`, for one-hot (or probability) label rows y.
    pub fn top_probs(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<2> {
        self.rbm.hidden_probs(Tensor::cat(vec![x, y], 1))
    }

    /// `p(x = 1 | h)` and `p(y | h)`, `[B, n_x]` and `[B, K]`.
    pub fn visible_probs(&self, h: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let input = h.matmul(self.rbm.weights.clone().transpose()) + row(&self.rbm.visible_bias);
        let n_x = self.penultimate();
        let px = sigmoid(input.clone().narrow(1, 0, n_x));
        let py = softmax(input.narrow(1, n_x, self.classes), 1);
        (px, py)
    }

    /// One step of the chain down from top states h: `x ~ p(x | h)`, `y ~ p(y | h)` (one-hot).
    pub fn sample_visible(&self, h: Tensor<2>, draws: &mut dyn Draws) -> (Tensor<2>, Tensor<2>) {
        let (px, py) = self.visible_probs(h);
        let ux = draws.uniform(&px);
        let x = bernoulli(px, ux);
        let b = py.dims()[0];
        let uy = draws.uniform(&Tensor::zeros([b, 1], &py.device()));
        (x, sample_categorical(py, uy))
    }

    /// CD-k statistics for the penultimate states `x` with their one-hot labels `y` clamped in
    /// the positive phase (see the module doc, which gives the order of the draws).
    pub fn cd_statistics(
        &self,
        x: Tensor<2>,
        y: Tensor<2>,
        cd_k: usize,
        draws: &mut dyn Draws,
    ) -> TopStatistics {
        let n = x.dims()[0] as f64;
        let v_data = Tensor::cat(vec![x, y], 1);
        let ph_data = self.rbm.hidden_probs(v_data.clone());
        let u = draws.uniform(&ph_data);
        let mut h = bernoulli(ph_data.clone(), u);
        let mut step = 1;
        let (x_model, y_model, ph_model) = loop {
            let (x, y) = self.sample_visible(h, draws);
            let ph = self.top_probs(x.clone(), y.clone());
            if step >= cd_k {
                break (x, y, ph);
            }
            let u = draws.uniform(&ph);
            h = bernoulli(ph, u);
            step += 1;
        };
        let v_model = Tensor::cat(vec![x_model.clone(), y_model.clone()], 1);
        let mean = |t: Tensor<2>| -> Tensor<1> { t.sum_dim(0).squeeze_dim(0).div_scalar(n) };
        let delta_w = Tensor::cat(vec![v_data.clone(), v_model.clone()], 0)
            .transpose()
            .matmul(Tensor::cat(
                vec![
                    ph_data.clone().div_scalar(n),
                    ph_model.clone().div_scalar(-n),
                ],
                0,
            ));
        TopStatistics {
            delta_w,
            delta_b: mean(v_data - v_model),
            delta_c: mean(ph_data - ph_model),
            penultimate: x_model,
            labels: y_model,
        }
    }

    /// Squared reconstruction error of the penultimate units per example,
    /// `Σ_i (x_i − p(x_i = 1 | h))²` with `h ~ p(h | x, y)`, averaged over the rows.
    pub fn reconstruction_error(&self, x: Tensor<2>, y: Tensor<2>, draws: &mut dyn Draws) -> f64 {
        let ph = self.top_probs(x.clone(), y);
        let u = draws.uniform(&ph);
        let (px, _) = self.visible_probs(bernoulli(ph, u));
        let n = x.dims()[0] as f64;
        (x - px).square().sum().into_scalar::<f32>() as f64 / n
    }

    /// The name of the first parameter that is NaN or infinite.
    pub fn first_non_finite(&self) -> Option<String> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        let w: Tensor<1> = self.rbm.weights.clone().flatten(0, 1);
        [
            ("the top-level weights", w),
            (
                "the top-level visible biases",
                self.rbm.visible_bias.clone(),
            ),
            ("the top-level hidden biases", self.rbm.hidden_bias.clone()),
        ]
        .into_iter()
        .find(|(_, t)| !finite(t.clone()))
        .map(|(what, _)| what.to_string())
    }
}
