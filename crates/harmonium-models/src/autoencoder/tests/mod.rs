//! Tests of the autoencoder layers, next to what they check: [`layer`] (encoder, decoder and loss
//! against a host computation, `to_rbm`), [`corruption`] (the masking fraction and the Gaussian
//! variance over many draws), [`contractive`] (the penalty against a finite-difference
//! Jacobian), [`learn`] (the closed-form gradient against central differences, the momentum
//! update by hand), [`config`] (serde shapes, defaults, validation), [`train`] (MNIST, events,
//! stopping, divergence, bad input) and [`stack`] (the pretrained stack against layers trained
//! alone).
//!
//! The reference is [`HostLayer`]: the same layer read back as f64, every sum written out.

use burn::tensor::{Device, Tensor};

use super::{AutoencoderLayer, Decoder};
use crate::eval::testing::{HostRng, rows, sigmoid};
use crate::eval::to_vec;

mod code_rbm;
mod config;
mod contractive;
mod corruption;
mod deep;
mod deep_pictures;
mod deep_train;
mod layer;
mod learn;
mod stack;
mod train;

/// A layer whose weights and biases are uniform in [−scale, scale).
pub(crate) fn random_layer(
    visible: usize,
    hidden: usize,
    scale: f64,
    decoder: Decoder,
    seed: u64,
    device: &Device,
) -> AutoencoderLayer {
    let mut rng = HostRng::new(seed);
    AutoencoderLayer::from_parts(
        rng.tensor2(visible, hidden, scale, device),
        rng.tensor1(visible, scale, device),
        rng.tensor1(hidden, scale, device),
        decoder,
    )
    .expect("consistent shapes")
}

/// Rows [n, m] uniform in [0, 1) (fractional targets exercise the cross-entropy fully).
pub(crate) fn random_unit_rows(n: usize, m: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = HostRng::new(seed);
    (0..n)
        .map(|_| (0..m).map(|_| rng.uniform()).collect())
        .collect()
}

/// The parameters of a layer as f64, with its functions written out.
#[derive(Debug, Clone)]
pub(crate) struct HostLayer {
    /// `w[i][j]`: W from visible unit i to hidden unit j.
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
    pub decoder: Decoder,
}

impl HostLayer {
    pub fn of(layer: &AutoencoderLayer) -> HostLayer {
        let vec1 =
            |t: &Tensor<1>| -> Vec<f64> { to_vec(t.clone()).into_iter().map(f64::from).collect() };
        HostLayer {
            w: rows(layer.weights.clone()),
            b: vec1(&layer.visible_bias),
            c: vec1(&layer.hidden_bias),
            decoder: layer.decoder,
        }
    }

    pub fn visible(&self) -> usize {
        self.b.len()
    }

    pub fn hidden(&self) -> usize {
        self.c.len()
    }

    /// `h_j = σ(c_j + Σ_i x_i W_ij)`.
    pub fn encode(&self, x: &[f64]) -> Vec<f64> {
        (0..self.hidden())
            .map(|j| {
                sigmoid(
                    self.c[j]
                        + (0..self.visible())
                            .map(|i| x[i] * self.w[i][j])
                            .sum::<f64>(),
                )
            })
            .collect()
    }

    /// `r_i = σ(z_i)` or `z_i`, `z_i = b_i + Σ_j h_j W_ij`.
    pub fn decode(&self, h: &[f64]) -> Vec<f64> {
        (0..self.visible())
            .map(|i| {
                let z = self.b[i] + (0..self.hidden()).map(|j| h[j] * self.w[i][j]).sum::<f64>();
                match self.decoder {
                    Decoder::Sigmoid => sigmoid(z),
                    Decoder::Linear => z,
                }
            })
            .collect()
    }

    /// `−Σ_i [x_i log r_i + (1 − x_i) log(1 − r_i)]` or `½ Σ_i (r_i − x_i)²`.
    pub fn reconstruction_loss(&self, x: &[f64], r: &[f64]) -> f64 {
        x.iter()
            .zip(r)
            .map(|(&x, &r)| match self.decoder {
                Decoder::Sigmoid => -(x * r.ln() + (1.0 - x) * (1.0 - r).ln()),
                Decoder::Linear => 0.5 * (r - x) * (r - x),
            })
            .sum()
    }

    /// `Σ_j (h_j(1 − h_j))² Σ_i W_ij²` at the input x.
    pub fn jacobian_norm2(&self, x: &[f64]) -> f64 {
        self.encode(x)
            .iter()
            .enumerate()
            .map(|(j, &h)| {
                let s = h * (1.0 - h);
                s * s
                    * (0..self.visible())
                        .map(|i| self.w[i][j].powi(2))
                        .sum::<f64>()
            })
            .sum()
    }

    /// The mean over the rows of `L(x, r(x̃)) + λ‖J(x̃)‖²_F`.
    pub fn objective(&self, clean: &[Vec<f64>], input: &[Vec<f64>], lambda: f64) -> f64 {
        clean
            .iter()
            .zip(input)
            .map(|(x, xt)| {
                let r = self.decode(&self.encode(xt));
                self.reconstruction_loss(x, &r) + lambda * self.jacobian_norm2(xt)
            })
            .sum::<f64>()
            / clean.len() as f64
    }
}

/// Largest absolute difference between two tensors.
pub(crate) fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar()
}
