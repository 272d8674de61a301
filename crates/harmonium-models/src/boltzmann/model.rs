//! The Boltzmann machine itself: n = visible + hidden binary units (visible first, the `inputs`
//! of a conditional machine first among them), symmetric weights W [n, n] that are zero wherever
//! the connectivity mask M is (the diagonal included), and biases b [n]:
//!
//! ```text
//! E(s) = −b·s − ½ sᵀWs
//! x_i  = b_i + Σ_j W_ij s_j          (the total input of unit i; W_ii = 0)
//! p(s_i = 1 | the rest) = σ(x_i)
//! ```

use burn::tensor::{Device, Tensor, TensorData};

use super::graph::check_mask;
use super::{BoltzmannConfig, BoltzmannError};
use crate::eval::to_vec;
use crate::rbm::Draws;
use crate::rbm::model::{row, sigmoid};

/// A Boltzmann machine with binary units and any symmetric connectivity, on one device.
#[derive(Debug, Clone)]
pub struct Boltzmann {
    /// W, [n, n]: symmetric, zero on the diagonal and wherever the mask is zero.
    pub weights: Tensor<2>,
    /// b, [n].
    pub bias: Tensor<1>,
    /// M as 0/1 floats, [n, n] (a constant: learning never changes it).
    pub mask: Tensor<2>,
    /// M on the host.
    connections: Vec<Vec<u8>>,
    visible: usize,
    inputs: usize,
}

/// `M` as a [n, n] tensor of 0/1 floats.
pub(crate) fn mask_tensor(mask: &[Vec<u8>], device: &Device) -> Tensor<2> {
    let n = mask.len();
    let values: Vec<f32> = mask.iter().flatten().map(|&m| m as f32).collect();
    Tensor::from_data(TensorData::new(values, [n, n]), device)
}

impl Boltzmann {
    /// A machine with `visible` visible units and `cfg.hidden` hidden units connected as
    /// `cfg.connectivity` says, the first `cfg.inputs` visible units inputs, weights
    /// `N(0, init_sigma²)` on the connections (from `draws`) and zero biases.
    pub fn new(
        visible: usize,
        cfg: &BoltzmannConfig,
        device: &Device,
        draws: &mut dyn Draws,
    ) -> Result<Boltzmann, BoltzmannError> {
        cfg.validate()?;
        let mask = cfg.connectivity.mask(visible, cfg.hidden)?;
        let n = visible + cfg.hidden;
        let m = mask_tensor(&mask, device);
        let weights = if cfg.init_sigma > 0.0 && n > 0 {
            // (A + Aᵀ)/√2 of standard normal A is symmetric with unit variance off the diagonal.
            let a = draws.normal(&Tensor::zeros([n, n], device));
            (a.clone() + a.transpose()).mul_scalar(cfg.init_sigma / std::f64::consts::SQRT_2)
                * m.clone()
        } else {
            Tensor::zeros([n, n], device)
        };
        Boltzmann::from_parts(
            visible,
            cfg.inputs,
            weights,
            Tensor::zeros([n], device),
            mask,
        )
    }

    /// A machine from its parameters. Checks the mask, the shapes, that W is symmetric, that it
    /// is zero wherever the mask is (the diagonal included), and that at least one visible unit
    /// is an output.
    pub fn from_parts(
        visible: usize,
        inputs: usize,
        weights: Tensor<2>,
        bias: Tensor<1>,
        mask: Vec<Vec<u8>>,
    ) -> Result<Boltzmann, BoltzmannError> {
        check_mask(&mask)?;
        let n = mask.len();
        let shape = |what: &str, expected: usize, got: usize| {
            if expected == got {
                Ok(())
            } else {
                Err(BoltzmannError::Shape {
                    what: what.into(),
                    expected,
                    got,
                })
            }
        };
        let [rows, cols] = weights.dims();
        shape("rows of W (units of the mask)", n, rows)?;
        shape("columns of W (units of the mask)", n, cols)?;
        shape("biases (units of the mask)", n, bias.dims()[0])?;
        if visible == 0 || visible > n {
            return Err(BoltzmannError::Config(format!(
                "a machine of {n} units cannot have {visible} visible units (at least 1, at most \
                 {n})"
            )));
        }
        if inputs >= visible {
            return Err(BoltzmannError::Config(format!(
                "inputs: {inputs} inputs leave no output among {visible} visible units"
            )));
        }
        let w = to_vec(weights.clone());
        for i in 0..n {
            for j in 0..n {
                let (a, b) = (w[i * n + j], w[j * n + i]);
                if mask[i][j] == 0 && a != 0.0 {
                    return Err(BoltzmannError::Config(format!(
                        "W({i},{j}) is {a} but units {i} and {j} are not connected"
                    )));
                }
                if (a - b).abs() > 1e-6 * a.abs().max(1.0) {
                    return Err(BoltzmannError::Config(format!(
                        "W is not symmetric: W({i},{j}) is {a} but W({j},{i}) is {b}"
                    )));
                }
            }
        }
        Ok(Boltzmann {
            mask: mask_tensor(&mask, &weights.device()),
            weights,
            bias,
            connections: mask,
            visible,
            inputs,
        })
    }

    /// Sets the visible biases to `log(p_i/(1−p_i))` of the data means p_i clamped to
    /// [1e-3, 1 − 1e-3] (the hidden biases stay).
    pub fn init_visible_bias_from_data(&mut self, data: &Tensor<2>) -> Result<(), BoltzmannError> {
        self.check_columns("the training data", data)?;
        if data.dims()[0] == 0 {
            return Err(BoltzmannError::EmptyData);
        }
        let p: Tensor<1> = data
            .clone()
            .mean_dim(0)
            .squeeze_dim(0)
            .clamp(1e-3, 1.0 - 1e-3);
        let logit = p.clone().log() - p.neg().add_scalar(1.0).log();
        self.bias = if self.hidden() == 0 {
            logit
        } else {
            let hidden = self.bias.clone().narrow(0, self.visible, self.hidden());
            Tensor::cat(vec![logit, hidden], 0)
        };
        Ok(())
    }

    /// Number of units n.
    pub fn units(&self) -> usize {
        self.connections.len()
    }

    /// Number of visible units (inputs and outputs).
    pub fn visible(&self) -> usize {
        self.visible
    }

    /// Number of hidden units.
    pub fn hidden(&self) -> usize {
        self.units() - self.visible
    }

    /// Number of input units (the first visible units; 0 for an unconditional machine).
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of output units (the visible units that are not inputs).
    pub fn outputs(&self) -> usize {
        self.visible - self.inputs
    }

    /// The connectivity mask on the host.
    pub fn connections(&self) -> &[Vec<u8>] {
        &self.connections
    }

    /// Number of connections (unordered pairs of connected units).
    pub fn connection_count(&self) -> usize {
        self.connections
            .iter()
            .flatten()
            .filter(|&&m| m == 1)
            .count()
            / 2
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.bias.device()
    }

    pub(crate) fn check_columns(&self, what: &str, v: &Tensor<2>) -> Result<(), BoltzmannError> {
        let got = v.dims()[1];
        if got != self.visible {
            return Err(BoltzmannError::Shape {
                what: format!("columns of {what} (visible units)"),
                expected: self.visible,
                got,
            });
        }
        Ok(())
    }

    /// The total input `x = sW + b` of every unit in each row of `states` ([chains, n]).
    pub fn total_input(&self, states: Tensor<2>) -> Tensor<2> {
        states.matmul(self.weights.clone()) + row(&self.bias)
    }

    /// `p(s_i = 1 | the other units)` of every unit in each row of `states`.
    pub fn unit_probs(&self, states: Tensor<2>) -> Tensor<2> {
        sigmoid(self.total_input(states))
    }

    /// `E(s) = −b·s − ½ sᵀWs` of each row of `states`, [chains].
    pub fn energy(&self, states: Tensor<2>) -> Tensor<1> {
        let pairs = (states.clone().matmul(self.weights.clone()) * states.clone()).sum_dim(1);
        let bias = (states * row(&self.bias)).sum_dim(1);
        (pairs.mul_scalar(0.5) + bias).squeeze_dim::<1>(1).neg()
    }

    /// The name of the first parameter that is not finite, if any.
    pub(crate) fn first_non_finite(&self) -> Option<String> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        if !finite(self.weights.clone().flatten(0, 1)) {
            return Some("the weights W".into());
        }
        if !finite(self.bias.clone()) {
            return Some("the biases b".into());
        }
        None
    }
}
