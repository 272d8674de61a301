//! The DBM itself: parameters, the input to each layer from its neighbours, the factorial
//! conditionals and the energy. With h⁰ = v and layers indexed 0 (visible) … L (top):
//!
//! ```text
//! E(v, h) = −b·v − Σ_{l=1..L} cˡ·hˡ − Σ_{l=1..L} (hˡ⁻¹)ᵀ Wˡ hˡ
//! input_l = biasˡ + hˡ⁻¹ Wˡ + hˡ⁺¹ (Wˡ⁺¹)ᵀ     (the terms that exist: none below v, none above hᴸ)
//! p(hˡ = 1 | neighbours) = σ(input_l)
//! ```
//!
//! **Gaussian visible units** (real-valued data standardised to unit variance, e.g. speech
//! frames): the visible term of the energy is quadratic, the rest is unchanged,
//!
//! ```text
//! E(v, h) = ½‖v − b‖² − Σ_l cˡ·hˡ − Σ_l (hˡ⁻¹)ᵀ Wˡ hˡ
//! v | h¹ ~ N(b + h¹(W¹)ᵀ, I)          (input_0 is the mean)
//! ```
//!
//! so every hidden layer's conditional, and the learning rule's form, stay as they are.

use burn::tensor::{Device, Tensor};

use super::DbmError;
use crate::rbm::model::{bernoulli, row, sigmoid};
use crate::rbm::{Draws, VisibleType};

/// A deep Boltzmann machine with binary hidden units (and binary or unit-variance Gaussian
/// visible units) on one device.
#[derive(Debug, Clone)]
pub struct Dbm {
    /// W¹…Wᴸ: `weights[l − 1]` is Wˡ, shape [n_{l−1}, n_l] (n_0 = visible units).
    pub weights: Vec<Tensor<2>>,
    /// b, shape [visible].
    pub visible_bias: Tensor<1>,
    /// c¹…cᴸ: `hidden_biases[l − 1]` is cˡ, shape [n_l].
    pub hidden_biases: Vec<Tensor<1>>,
    /// Binary visible units, or Gaussian ones with unit variance.
    pub visible_type: VisibleType,
}

impl Dbm {
    /// A DBM with `W ~ N(0, init_sigma²)` (from `draws`), zero biases, `visible` visible units
    /// and the given hidden layer sizes (at least two layers).
    pub fn new(
        visible: usize,
        hidden: &[usize],
        init_sigma: f64,
        device: &Device,
        draws: &mut dyn Draws,
    ) -> Result<Dbm, DbmError> {
        if hidden.len() < 2 {
            return Err(DbmError::TooFewLayers { got: hidden.len() });
        }
        if visible == 0 || hidden.contains(&0) {
            return Err(DbmError::Config(
                "every layer of a DBM needs at least 1 unit".into(),
            ));
        }
        let mut sizes = vec![visible];
        sizes.extend_from_slice(hidden);
        let weights = sizes
            .windows(2)
            .map(|p| {
                let zeros = Tensor::zeros([p[0], p[1]], device);
                if init_sigma > 0.0 {
                    draws.normal(&zeros).mul_scalar(init_sigma)
                } else {
                    zeros
                }
            })
            .collect();
        Dbm::from_parts(
            weights,
            Tensor::zeros([visible], device),
            hidden.iter().map(|&n| Tensor::zeros([n], device)).collect(),
        )
    }

    /// A DBM from its parameters, checking that there are at least two hidden layers and that
    /// the shapes fit together.
    pub fn from_parts(
        weights: Vec<Tensor<2>>,
        visible_bias: Tensor<1>,
        hidden_biases: Vec<Tensor<1>>,
    ) -> Result<Dbm, DbmError> {
        if weights.len() < 2 {
            return Err(DbmError::TooFewLayers { got: weights.len() });
        }
        let shape = |what: String, expected: usize, got: usize| {
            if expected == got {
                Ok(())
            } else {
                Err(DbmError::Shape {
                    what,
                    expected,
                    got,
                })
            }
        };
        shape(
            "hidden bias vectors".into(),
            weights.len(),
            hidden_biases.len(),
        )?;
        shape(
            "rows of W¹ (visible units)".into(),
            visible_bias.dims()[0],
            weights[0].dims()[0],
        )?;
        for (l, w) in weights.iter().enumerate() {
            let [_, cols] = w.dims();
            shape(
                format!("units of c{} (columns of W{})", l + 1, l + 1),
                cols,
                hidden_biases[l].dims()[0],
            )?;
            if let Some(next) = weights.get(l + 1) {
                shape(
                    format!("rows of W{} (columns of W{})", l + 2, l + 1),
                    cols,
                    next.dims()[0],
                )?;
            }
        }
        Ok(Dbm {
            weights,
            visible_bias,
            hidden_biases,
            visible_type: VisibleType::Binary,
        })
    }

    /// The same DBM with the given kind of visible unit.
    pub fn with_visible(mut self, visible_type: VisibleType) -> Dbm {
        self.visible_type = visible_type;
        self
    }

    /// Whether the visible units are Gaussian (unit variance).
    pub fn is_gaussian(&self) -> bool {
        self.visible_type == VisibleType::Gaussian
    }

    /// Sets b to `log(p_i/(1−p_i))` of the data means p_i clamped to [1e-3, 1−1e-3] (Gaussian
    /// units: to the data means).
    pub fn init_visible_bias_from_data(&mut self, data: &Tensor<2>) -> Result<(), DbmError> {
        self.check_columns("the training data", data)?;
        if data.dims()[0] == 0 {
            return Err(DbmError::EmptyData);
        }
        if self.is_gaussian() {
            self.visible_bias = data.clone().mean_dim(0).squeeze_dim(0);
            return Ok(());
        }
        let p: Tensor<1> = data
            .clone()
            .mean_dim(0)
            .squeeze_dim(0)
            .clamp(1e-3, 1.0 - 1e-3);
        self.visible_bias = p.clone().log() - p.neg().add_scalar(1.0).log();
        Ok(())
    }

    /// Number of hidden layers L.
    pub fn hidden_layers(&self) -> usize {
        self.weights.len()
    }

    /// Layer sizes n_0 (visible) … n_L.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.visible()];
        s.extend(self.weights.iter().map(|w| w.dims()[1]));
        s
    }

    /// Number of visible units.
    pub fn visible(&self) -> usize {
        self.visible_bias.dims()[0]
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.visible_bias.device()
    }

    /// The bias of layer `l` (0: b, l ≥ 1: cˡ).
    pub fn bias(&self, l: usize) -> &Tensor<1> {
        if l == 0 {
            &self.visible_bias
        } else {
            &self.hidden_biases[l - 1]
        }
    }

    pub(crate) fn check_columns(&self, what: &str, v: &Tensor<2>) -> Result<(), DbmError> {
        let got = v.dims()[1];
        if got != self.visible() {
            return Err(DbmError::Shape {
                what: format!("columns of {what} (visible units)"),
                expected: self.visible(),
                got,
            });
        }
        Ok(())
    }

    /// Total input to layer `l` given the states (or mean-field values) of every layer,
    /// `layers[0] = v`, `layers[l] = hˡ`: `biasˡ + hˡ⁻¹ Wˡ + hˡ⁺¹ (Wˡ⁺¹)ᵀ`. Only the neighbours
    /// of `l` are read.
    pub fn layer_input(&self, l: usize, layers: &[Tensor<2>]) -> Tensor<2> {
        let mut input = None;
        if l > 0 {
            input = Some(layers[l - 1].clone().matmul(self.weights[l - 1].clone()));
        }
        if l < self.hidden_layers() {
            let down = layers[l + 1]
                .clone()
                .matmul(self.weights[l].clone().transpose());
            input = Some(match input {
                Some(x) => x + down,
                None => down,
            });
        }
        input.expect("a DBM layer has a neighbour") + row(self.bias(l))
    }

    /// `p(layer l = 1 | its neighbours)`, σ of [`Dbm::layer_input`]; for Gaussian visible
    /// units and `l = 0`, the mean of v given h¹ (the input itself).
    pub fn layer_probs(&self, l: usize, layers: &[Tensor<2>]) -> Tensor<2> {
        let input = self.layer_input(l, layers);
        if l == 0 && self.is_gaussian() {
            input
        } else {
            sigmoid(input)
        }
    }

    /// A sample of layer `l` given its neighbours (Gaussian visible units: mean plus unit
    /// normal noise).
    pub fn sample_layer(&self, l: usize, layers: &[Tensor<2>], draws: &mut dyn Draws) -> Tensor<2> {
        let p = self.layer_probs(l, layers);
        if l == 0 && self.is_gaussian() {
            let noise = draws.normal(&p);
            return p + noise;
        }
        let u = draws.uniform(&p);
        bernoulli(p, u)
    }

    /// `E(v, h)` of each row of the states `layers = [v, h¹, …, hᴸ]`, shape [batch]. The energy
    /// is multilinear, so at mean-field values μ it is the expected energy `E_q[E(v, h)]`.
    pub fn energy(&self, layers: &[Tensor<2>]) -> Tensor<1> {
        let mut neg = self.visible_neg_energy(&layers[0]).unsqueeze_dim(1);
        for l in 1..=self.hidden_layers() {
            let pair =
                layers[l - 1].clone().matmul(self.weights[l - 1].clone()) + row(self.bias(l));
            neg = neg + (pair * layers[l].clone()).sum_dim(1);
        }
        neg.squeeze_dim::<1>(1).neg()
    }

    /// The visible units' own term of −E for each row of `v`, shape [batch]: `b·v`, or
    /// `−½‖v − b‖²` for Gaussian units.
    pub fn visible_neg_energy(&self, v: &Tensor<2>) -> Tensor<1> {
        let term = if self.is_gaussian() {
            (v.clone() - row(&self.visible_bias))
                .square()
                .mul_scalar(-0.5)
        } else {
            v.clone() * row(&self.visible_bias)
        };
        term.sum_dim(1).squeeze_dim(1)
    }

    /// Whether every parameter is finite; the name of the first one that is not.
    pub(crate) fn first_non_finite(&self) -> Option<String> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        if !finite(self.visible_bias.clone()) {
            return Some("the visible biases b".into());
        }
        for l in 1..=self.hidden_layers() {
            if !finite(self.weights[l - 1].clone().flatten(0, 1)) {
                return Some(format!("the weights W{l}"));
            }
            if !finite(self.hidden_biases[l - 1].clone()) {
                return Some(format!("the hidden biases c{l}"));
            }
        }
        None
    }
}
