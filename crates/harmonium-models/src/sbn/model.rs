//! The sigmoid belief net itself (Fig. 2): top-down generative weights and biases with a
//! factorial top prior, bottom-up recognition weights and biases. With h⁰ = v and layers
//! 0 (visible) … L (top):
//!
//! ```text
//! generative input  aᴸ = bᴸ,   aˡ⁻¹ = bˡ⁻¹ + hˡ Gˡ        p(hˡ = 1 | hˡ⁺¹) = σ(aˡ)
//! recognition input cˡ = rˡ + hˡ⁻¹ Rˡ   (l ≥ 1)           q(hˡ = 1 | hˡ⁻¹) = σ(cˡ)
//! log p(v, h) = Σ_{l=0..L} Σ_i [hˡ_i aˡ_i − softplus(aˡ_i)]
//! log q(h | v) = Σ_{l=1..L} Σ_j [hˡ_j cˡ_j − softplus(cˡ_j)]
//! ```
//!
//! States are rows: `states[l]` is [batch, n_l], `states[0]` the visible vectors.

use burn::tensor::{Device, Tensor};

use super::SbnError;
use super::config::check_layers;
use crate::rbm::Draws;
use crate::rbm::model::{bernoulli, row, sigmoid};

/// A sigmoid belief net with its recognition net, on one device.
#[derive(Debug, Clone)]
pub struct Sbn {
    /// G¹…Gᴸ: `generative[l − 1]` is Gˡ, shape [n_l, n_{l−1}] (from layer l down to l − 1).
    pub generative: Vec<Tensor<2>>,
    /// b⁰…bᴸ: `generative_biases[l]` is the generative bias of layer l, shape [n_l]; bᴸ is the
    /// top prior's.
    pub generative_biases: Vec<Tensor<1>>,
    /// R¹…Rᴸ: `recognition[l − 1]` is Rˡ, shape [n_{l−1}, n_l] (from layer l − 1 up to l).
    pub recognition: Vec<Tensor<2>>,
    /// r¹…rᴸ: `recognition_biases[l − 1]` is rˡ, shape [n_l].
    pub recognition_biases: Vec<Tensor<1>>,
}

/// `log(1 + e^x) = max(x, 0) + log(1 + e^{−|x|})`, with the vectorized exponential of
/// [`crate::fast_math`] (on the CPU the backend's own is a scalar loop, and this is the
/// evaluation's most frequent operation). `log(1 + y)` rather than `log1p(y)` (three times
/// slower on the CPU): for y = e^{−|x|} ≤ 1 the two differ by less than 6·10⁻⁸.
pub(crate) fn softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let tail = crate::fast_math::exp(x.clone().abs().neg())
        .add_scalar(1.0)
        .log();
    x.clamp_min(0.0) + tail
}

/// Each row of `t` repeated `k` times in consecutive rows: [n, m] → [n·k, m].
pub(crate) fn repeat_rows(t: Tensor<2>, k: usize) -> Tensor<2> {
    let [n, m] = t.dims();
    t.unsqueeze_dim::<3>(1).repeat_dim(1, k).reshape([n * k, m])
}

/// `Σ_i [x_i a_i − softplus(a_i)]` per row: the log-probability of binary states `x` under
/// independent logistic units with inputs `a`, shape [batch].
pub(crate) fn log_bernoulli(x: Tensor<2>, a: Tensor<2>) -> Tensor<1> {
    (x * a.clone() - softplus(a)).sum_dim(1).squeeze_dim(1)
}

impl Sbn {
    /// A net with `visible` visible units and the given hidden layer sizes (bottom to top):
    /// generative and recognition weights `N(0, init_sigma²)` (from `draws`), zero biases.
    pub fn new(
        visible: usize,
        hidden: &[usize],
        init_sigma: f64,
        device: &Device,
        draws: &mut dyn Draws,
    ) -> Result<Sbn, SbnError> {
        check_layers(hidden)?;
        if visible == 0 {
            return Err(SbnError::Config(
                "a sigmoid belief net needs at least 1 visible unit".into(),
            ));
        }
        let mut sizes = vec![visible];
        sizes.extend_from_slice(hidden);
        let mut random = |rows: usize, cols: usize| {
            let zeros = Tensor::zeros([rows, cols], device);
            if init_sigma > 0.0 {
                draws.normal(&zeros).mul_scalar(init_sigma)
            } else {
                zeros
            }
        };
        let generative = sizes.windows(2).map(|p| random(p[1], p[0])).collect();
        let recognition = sizes.windows(2).map(|p| random(p[0], p[1])).collect();
        Sbn::from_parts(
            generative,
            sizes.iter().map(|&n| Tensor::zeros([n], device)).collect(),
            recognition,
            hidden.iter().map(|&n| Tensor::zeros([n], device)).collect(),
        )
    }

    /// A net from its parameters, checking that there is at least one hidden layer and that
    /// the shapes fit together.
    pub fn from_parts(
        generative: Vec<Tensor<2>>,
        generative_biases: Vec<Tensor<1>>,
        recognition: Vec<Tensor<2>>,
        recognition_biases: Vec<Tensor<1>>,
    ) -> Result<Sbn, SbnError> {
        if generative.is_empty() {
            return Err(SbnError::Config(
                "layers: a sigmoid belief net needs at least 1 hidden layer, but none were given"
                    .into(),
            ));
        }
        let shape = |what: String, expected: usize, got: usize| {
            if expected == got {
                Ok(())
            } else {
                Err(SbnError::Shape {
                    what,
                    expected,
                    got,
                })
            }
        };
        let layers = generative.len();
        shape(
            "generative bias vectors".into(),
            layers + 1,
            generative_biases.len(),
        )?;
        shape(
            "recognition weight matrices".into(),
            layers,
            recognition.len(),
        )?;
        shape(
            "recognition bias vectors".into(),
            layers,
            recognition_biases.len(),
        )?;
        let sizes: Vec<usize> = generative_biases.iter().map(|b| b.dims()[0]).collect();
        if let Some(l) = sizes.iter().position(|&n| n == 0) {
            return Err(SbnError::Config(format!(
                "layers: every layer needs at least 1 unit, but layer {l} of {sizes:?} has 0"
            )));
        }
        for l in 1..=layers {
            let [g_rows, g_cols] = generative[l - 1].dims();
            shape(
                format!("rows of G{l} (units of layer {l})"),
                sizes[l],
                g_rows,
            )?;
            let below = l - 1;
            shape(
                format!("columns of G{l} (units of layer {below})"),
                sizes[below],
                g_cols,
            )?;
            let [r_rows, r_cols] = recognition[l - 1].dims();
            shape(
                format!("rows of R{l} (units of layer {below})"),
                sizes[below],
                r_rows,
            )?;
            shape(
                format!("columns of R{l} (units of layer {l})"),
                sizes[l],
                r_cols,
            )?;
            let r = recognition_biases[l - 1].dims()[0];
            shape(format!("units of r{l} (layer {l})"), sizes[l], r)?;
        }
        Ok(Sbn {
            generative,
            generative_biases,
            recognition,
            recognition_biases,
        })
    }

    /// Sets the visible generative biases b⁰ to `log(p_i/(1−p_i))` of the data means p_i
    /// clamped to [1e-3, 1−1e-3].
    pub fn init_visible_bias_from_data(&mut self, data: &Tensor<2>) -> Result<(), SbnError> {
        self.check_columns("the training data", data)?;
        if data.dims()[0] == 0 {
            return Err(SbnError::EmptyData);
        }
        let p: Tensor<1> = data
            .clone()
            .mean_dim(0)
            .squeeze_dim(0)
            .clamp(1e-3, 1.0 - 1e-3);
        self.generative_biases[0] = p.clone().log() - p.neg().add_scalar(1.0).log();
        Ok(())
    }

    /// Number of hidden layers L.
    pub fn hidden_layers(&self) -> usize {
        self.generative.len()
    }

    /// Layer sizes n_0 (visible) … n_L.
    pub fn sizes(&self) -> Vec<usize> {
        self.generative_biases.iter().map(|b| b.dims()[0]).collect()
    }

    /// Number of visible units.
    pub fn visible(&self) -> usize {
        self.generative_biases[0].dims()[0]
    }

    /// Number of hidden units in all layers.
    pub fn hidden_units(&self) -> usize {
        self.sizes()[1..].iter().sum()
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.generative_biases[0].device()
    }

    pub(crate) fn check_columns(&self, what: &str, v: &Tensor<2>) -> Result<(), SbnError> {
        let got = v.dims()[1];
        if got != self.visible() {
            return Err(SbnError::Shape {
                what: format!("columns of {what} (visible units)"),
                expected: self.visible(),
                got,
            });
        }
        Ok(())
    }

    /// Generative input aˡ to layer `l < L` from the states of the layer above:
    /// `bˡ + hˡ⁺¹ Gˡ⁺¹`.
    pub fn generative_input(&self, l: usize, above: Tensor<2>) -> Tensor<2> {
        above.matmul(self.generative[l].clone()) + row(&self.generative_biases[l])
    }

    /// `p(hˡ = 1 | hˡ⁺¹)` for `l < L`: the generative prediction of layer `l`.
    pub fn generative_probs(&self, l: usize, above: Tensor<2>) -> Tensor<2> {
        sigmoid(self.generative_input(l, above))
    }

    /// The top prior's input `bᴸ` broadcast to `batch` rows.
    pub fn top_input(&self, batch: usize) -> Tensor<2> {
        let top = &self.generative_biases[self.hidden_layers()];
        row(top).repeat_dim(0, batch)
    }

    /// Recognition input cˡ to layer `l ≥ 1` from the states of the layer below:
    /// `rˡ + hˡ⁻¹ Rˡ`.
    pub fn recognition_input(&self, l: usize, below: Tensor<2>) -> Tensor<2> {
        below.matmul(self.recognition[l - 1].clone()) + row(&self.recognition_biases[l - 1])
    }

    /// `q(hˡ = 1 | hˡ⁻¹)` for `l ≥ 1`: the recognition prediction of layer `l`.
    pub fn recognition_probs(&self, l: usize, below: Tensor<2>) -> Tensor<2> {
        sigmoid(self.recognition_input(l, below))
    }

    /// The wake phase's bottom-up pass: binary states `[v, h¹, …, hᴸ]`, each hidden layer
    /// sampled from its recognition probabilities given the sampled layer below.
    pub fn recognize(&self, v: Tensor<2>, draws: &mut dyn Draws) -> Vec<Tensor<2>> {
        let mut states = vec![v];
        for l in 1..=self.hidden_layers() {
            let q = self.recognition_probs(l, states[l - 1].clone());
            let u = draws.uniform(&q);
            states.push(bernoulli(q, u));
        }
        states
    }

    /// The sleep phase's top-down pass: `n` fantasies `[v, h¹, …, hᴸ]`, hᴸ from the top prior
    /// and each layer below sampled from its generative probabilities given the layer above.
    pub fn fantasize(&self, n: usize, draws: &mut dyn Draws) -> Vec<Tensor<2>> {
        let top = self.hidden_layers();
        let p = sigmoid(self.top_input(n));
        let u = draws.uniform(&p);
        let mut states = vec![bernoulli(p, u)];
        for l in (0..top).rev() {
            let p = self.generative_probs(l, states.last().expect("a layer above").clone());
            let u = draws.uniform(&p);
            states.push(bernoulli(p, u));
        }
        states.reverse();
        states
    }

    /// `log p(v, h)` of each row of the states `[v, h¹, …, hᴸ]`, shape [batch].
    pub fn log_joint(&self, states: &[Tensor<2>]) -> Tensor<1> {
        let a = self.generative_input(0, states[1].clone());
        log_bernoulli(states[0].clone(), a) + self.log_hidden_prior(&states[1..])
    }

    /// `log p(h¹, …, hᴸ) = log p(hᴸ) + Σ_{l=1..L−1} log p(hˡ | hˡ⁺¹)` of each row of the hidden
    /// states `[h¹, …, hᴸ]`, shape [batch].
    pub fn log_hidden_prior(&self, hidden: &[Tensor<2>]) -> Tensor<1> {
        let top = self.hidden_layers();
        let batch = hidden[0].dims()[0];
        let mut sum = log_bernoulli(hidden[top - 1].clone(), self.top_input(batch));
        for l in 1..top {
            let a = self.generative_input(l, hidden[l].clone());
            sum = sum + log_bernoulli(hidden[l - 1].clone(), a);
        }
        sum
    }

    /// `log q(h | v)` of each row of the states `[v, h¹, …, hᴸ]`, shape [batch].
    pub fn log_recognition(&self, states: &[Tensor<2>]) -> Tensor<1> {
        let c = self.recognition_input(1, states[0].clone());
        log_bernoulli(states[1].clone(), c) + self.log_recognition_above(&states[1..])
    }

    /// `Σ_{l=2..L} log q(hˡ | hˡ⁻¹)` of each row of the hidden states `[h¹, …, hᴸ]` (zeros for
    /// one hidden layer), shape [batch].
    pub fn log_recognition_above(&self, hidden: &[Tensor<2>]) -> Tensor<1> {
        let mut sum = Tensor::zeros([hidden[0].dims()[0]], &hidden[0].device());
        for l in 2..=self.hidden_layers() {
            let c = self.recognition_input(l, hidden[l - 2].clone());
            sum = sum + log_bernoulli(hidden[l - 1].clone(), c);
        }
        sum
    }

    /// Whether every parameter is finite; the name of the first one that is not.
    pub(crate) fn first_non_finite(&self) -> Option<String> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        for (l, b) in self.generative_biases.iter().enumerate() {
            if !finite(b.clone()) {
                return Some(format!("the generative biases b{l}"));
            }
        }
        for l in 1..=self.hidden_layers() {
            if !finite(self.generative[l - 1].clone().flatten(0, 1)) {
                return Some(format!("the generative weights G{l}"));
            }
            if !finite(self.recognition[l - 1].clone().flatten(0, 1)) {
                return Some(format!("the recognition weights R{l}"));
            }
            if !finite(self.recognition_biases[l - 1].clone()) {
                return Some(format!("the recognition biases r{l}"));
            }
        }
        None
    }
}
