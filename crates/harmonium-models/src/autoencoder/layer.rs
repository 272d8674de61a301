//! The tied-weights autoencoder layer: parameters, encoder, decoder, reconstruction loss, and the
//! RBM it becomes.
//!
//! ```text
//! h = σ(x̃W + c)                           encoder, W [visible, hidden]
//! z = hWᵀ + b                             decoder input
//! r = σ(z),  L = Σ_i softplus(z_i) − x_i z_i = −Σ_i [x_i log r_i + (1 − x_i) log(1 − r_i)]
//! r = z,     L = ½ Σ_i (z_i − x_i)²       (linear decoder)
//! ```
//!
//! The cross-entropy is computed from z (`softplus(z) − x z`), which stays finite where r
//! rounds to 0 or 1.

use burn::tensor::{Device, Tensor};

use super::{AutoencoderError, Decoder};
use crate::rbm::model::{row, sigmoid};
use crate::rbm::{Draws, Rbm, VisibleUnits, softplus};

/// A tied-weights autoencoder layer on one device.
#[derive(Debug, Clone)]
pub struct AutoencoderLayer {
    /// W, shape [visible, hidden]: the encoder's weights, and transposed the decoder's.
    pub weights: Tensor<2>,
    /// b, shape [visible]: the decoder's biases.
    pub visible_bias: Tensor<1>,
    /// c, shape [hidden]: the encoder's biases.
    pub hidden_bias: Tensor<1>,
    /// The decoder's units.
    pub decoder: Decoder,
}

impl AutoencoderLayer {
    /// A new layer with `W ~ N(0, init_sigma²)` from `draws` and zero biases.
    pub fn new(
        visible: usize,
        hidden: usize,
        init_sigma: f64,
        decoder: Decoder,
        device: &Device,
        draws: &mut dyn Draws,
    ) -> Result<AutoencoderLayer, AutoencoderError> {
        if visible == 0 || hidden == 0 {
            return Err(AutoencoderError::Config(format!(
                "hidden: an autoencoder layer needs at least 1 visible and 1 hidden unit, but it \
                 would be {visible}-{hidden}"
            )));
        }
        let weights = draws
            .normal(&Tensor::zeros([visible, hidden], device))
            .mul_scalar(init_sigma);
        Ok(AutoencoderLayer {
            weights,
            visible_bias: Tensor::zeros([visible], device),
            hidden_bias: Tensor::zeros([hidden], device),
            decoder,
        })
    }

    /// A layer from its parameters, checking that the shapes fit.
    pub fn from_parts(
        weights: Tensor<2>,
        visible_bias: Tensor<1>,
        hidden_bias: Tensor<1>,
        decoder: Decoder,
    ) -> Result<AutoencoderLayer, AutoencoderError> {
        let [v, h] = weights.dims();
        for (what, expected, got) in [
            ("visible_bias", v, visible_bias.dims()[0]),
            ("hidden_bias", h, hidden_bias.dims()[0]),
        ] {
            if expected != got {
                return Err(AutoencoderError::Shape {
                    what: what.into(),
                    expected,
                    got,
                });
            }
        }
        Ok(AutoencoderLayer {
            weights,
            visible_bias,
            hidden_bias,
            decoder,
        })
    }

    /// The layer that starts from an RBM's parameters: binary visible units give a sigmoid
    /// decoder, unit-variance Gaussian ones a linear decoder (Gaussian units with other σ have
    /// no tied autoencoder and are refused).
    pub fn from_rbm(rbm: &Rbm) -> Result<AutoencoderLayer, AutoencoderError> {
        let decoder = match &rbm.visible_units {
            VisibleUnits::Binary => Decoder::Sigmoid,
            VisibleUnits::Gaussian { sigma: None } => Decoder::Linear,
            VisibleUnits::Gaussian { sigma: Some(_) } => {
                return Err(AutoencoderError::Config(
                    "decoder: an RBM with Gaussian visible units of σ ≠ 1 has no tied-weights \
                     autoencoder"
                        .into(),
                ));
            }
        };
        AutoencoderLayer::from_parts(
            rbm.weights.clone(),
            rbm.visible_bias.clone(),
            rbm.hidden_bias.clone(),
            decoder,
        )
    }

    /// The same parameters as an RBM whose up-pass `p(h = 1 | x) = σ(xW + c)` is the encoder:
    /// binary visible units for a sigmoid decoder (whose `p(v = 1 | h)` is then the decoder),
    /// unit-variance Gaussian visible units for a linear decoder (whose mean is the decoder).
    pub fn to_rbm(&self) -> Rbm {
        Rbm {
            weights: self.weights.clone(),
            visible_bias: self.visible_bias.clone(),
            hidden_bias: self.hidden_bias.clone(),
            visible_units: match self.decoder {
                Decoder::Sigmoid => VisibleUnits::Binary,
                Decoder::Linear => VisibleUnits::Gaussian { sigma: None },
            },
        }
    }

    /// Sets the decoder's biases from the training data (as an RBM's, practical guide §8):
    /// `log(p_i/(1−p_i))` of the data means p_i clamped to [1e-3, 1−1e-3] for a sigmoid decoder,
    /// the data means for a linear one. With zero weights the reconstruction is then the mean
    /// input.
    pub fn init_visible_bias_from_data(
        &mut self,
        data: &Tensor<2>,
    ) -> Result<(), AutoencoderError> {
        self.check_columns("the training data", data)?;
        if data.dims()[0] == 0 {
            return Err(AutoencoderError::EmptyData);
        }
        let mean: Tensor<1> = data.clone().mean_dim(0).squeeze_dim(0);
        self.visible_bias = match self.decoder {
            Decoder::Sigmoid => {
                let p = mean.clamp(1e-3, 1.0 - 1e-3);
                p.clone().log() - p.neg().add_scalar(1.0).log()
            }
            Decoder::Linear => mean,
        };
        Ok(())
    }

    /// Number of visible (input) units.
    pub fn visible(&self) -> usize {
        self.weights.dims()[0]
    }

    /// Number of hidden units.
    pub fn hidden(&self) -> usize {
        self.weights.dims()[1]
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.weights.device()
    }

    pub(crate) fn check_columns(
        &self,
        what: &'static str,
        x: &Tensor<2>,
    ) -> Result<(), AutoencoderError> {
        let got = x.dims()[1];
        if got != self.visible() {
            return Err(AutoencoderError::Shape {
                what: format!("{what} (columns against the layer's visible units)"),
                expected: self.visible(),
                got,
            });
        }
        Ok(())
    }

    /// The encoder `h = σ(xW + c)`, shape [batch, hidden]: the features passed up a stack.
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        sigmoid(x.matmul(self.weights.clone()) + row(&self.hidden_bias))
    }

    /// The decoder's input `z = hWᵀ + b`, shape [batch, visible].
    pub fn decoder_input(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.weights.clone().transpose()) + row(&self.visible_bias)
    }

    /// The decoder's output r from its input z: σ(z) or z.
    pub fn output(&self, z: Tensor<2>) -> Tensor<2> {
        match self.decoder {
            Decoder::Sigmoid => sigmoid(z),
            Decoder::Linear => z,
        }
    }

    /// The decoder `r(h)`, shape [batch, visible].
    pub fn decode(&self, h: Tensor<2>) -> Tensor<2> {
        self.output(self.decoder_input(h))
    }

    /// The reconstruction `r(x) = decode(encode(x))`.
    pub fn reconstruct(&self, x: Tensor<2>) -> Tensor<2> {
        self.decode(self.encode(x))
    }

    /// The reconstruction loss per example against the target x, from the decoder input z:
    /// `Σ_i softplus(z_i) − x_i z_i` (sigmoid) or `½ Σ_i (z_i − x_i)²` (linear); shape [batch].
    pub fn reconstruction_loss(&self, z: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
        let per_unit = match self.decoder {
            Decoder::Sigmoid => softplus(z.clone()) - z * x,
            Decoder::Linear => (z - x).square().mul_scalar(0.5),
        };
        per_unit.sum_dim(1).squeeze_dim(1)
    }

    /// `Σ_i (r_i(x) − x_i)²` per example, the clean input's squared reconstruction error;
    /// shape [batch].
    pub fn squared_error(&self, x: Tensor<2>) -> Tensor<1> {
        (self.reconstruct(x.clone()) - x)
            .square()
            .sum_dim(1)
            .squeeze_dim(1)
    }

    /// The first parameter that holds a NaN or an infinity, by name.
    pub(crate) fn first_non_finite(&self) -> Option<String> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        let w: Tensor<1> = self.weights.clone().flatten(0, 1);
        [
            ("the weights W", w),
            ("the visible biases b", self.visible_bias.clone()),
            ("the hidden biases c", self.hidden_bias.clone()),
        ]
        .into_iter()
        .find(|(_, t)| !finite(t.clone()))
        .map(|(what, _)| what.to_string())
    }
}
