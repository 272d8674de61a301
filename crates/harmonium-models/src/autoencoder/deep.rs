//! The unrolled deep autoencoder (Hinton & Salakhutdinov 2006; paper §2, §10).
//!
//! From a stack of pretrained layers bottom first (W_l, b_l, c_l), l = 1…L, the last with linear
//! hidden units, the **encoder** is the stack's up-pass and the **decoder** its down-pass:
//!
//! ```text
//! h_0 = x,   h_l = σ(c_l + h_{l−1} W_l)   (l < L),   code = h_L = c_L + h_{L−1} W_L   (linear)
//! g_L = code,   g_{l−1} = σ(b_l + g_l V_l)   (V_l = W_lᵀ at the start),   x̂ = g_0
//! ```
//!
//! Unrolled, the decoder's weights V_l are separate parameters (untied from W_l) and the whole
//! net is fine-tuned by backprop on the reconstruction error, per image (the loss averages it
//! over a mini-batch):
//!
//! ```text
//! cross-entropy:  E = −Σ_i [x_i log x̂_i + (1 − x_i) log(1 − x̂_i)] = Σ_i softplus(z_i) − x_i z_i
//! squared:        E = Σ_i (x_i − x̂_i)²                 (z: the output logits, x̂ = σ(z))
//! ```
//!
//! The random arm has the same shapes with every weight, encoder and decoder, drawn
//! independently from N(0, init_std²) and every bias 0. The reported error is always the 2006
//! paper's: `Σ_i (x_i − x̂_i)²`, the summed squared error per image.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::deep_stack::StackLayer;
use super::{DeepAutoencoderError, Loss};

/// Encoder and decoder as affine layers (burn `Linear`, `y = xW + bias`).
#[derive(Module, Debug)]
pub struct DeepAutoencoder {
    /// Bottom first: layer l maps h_{l−1} to h_l (weight W_l, bias c_l).
    pub encoder: Vec<Linear>,
    /// Top first: `decoder[0]` maps the code to g_{L−1}, the last maps g_1 to the logits of x̂
    /// (weight V_l = W_lᵀ at the start, bias b_l).
    pub decoder: Vec<Linear>,
    /// Per encoder layer: whether its units are linear (the code layer) rather than logistic.
    pub linear: Vec<bool>,
}

fn linear_from(weight: Tensor<2>, bias: Tensor<1>, device: &Device) -> Linear {
    let [i, o] = weight.dims();
    let mut layer = LinearConfig::new(i, o).init(device);
    layer.weight = Param::from_tensor(weight);
    layer.bias = Some(Param::from_tensor(bias));
    layer
}

/// The logistic: burn's on an autodiff graph, the vectorized CPU one otherwise.
fn logistic(x: Tensor<2>) -> Tensor<2> {
    if x.is_autodiff() {
        burn::tensor::activation::sigmoid(x)
    } else {
        crate::rbm::model::sigmoid(x)
    }
}

impl DeepAutoencoder {
    /// Unrolls a stack (bottom first): the encoder computes the stack's up-pass and the decoder
    /// its down-pass, with the transposed weights copied into separate parameters. Adjacent
    /// layers must fit; only the top layer may have linear hidden units.
    pub fn unroll(stack: &[StackLayer]) -> Result<DeepAutoencoder, DeepAutoencoderError> {
        let Some(first) = stack.first() else {
            return Err(DeepAutoencoderError::Config(
                "layers: a deep autoencoder needs at least 1 layer (the code layer), but the \
                 stack is empty"
                    .into(),
            ));
        };
        let device = first.weights.device();
        for (l, pair) in stack.windows(2).enumerate() {
            if pair[0].hidden() != pair[1].visible() {
                return Err(DeepAutoencoderError::Shape {
                    what: format!(
                        "layer {}'s visible units (layer {}'s hidden units)",
                        l + 2,
                        l + 1
                    ),
                    expected: pair[0].hidden(),
                    got: pair[1].visible(),
                });
            }
        }
        if let Some(l) = stack[..stack.len() - 1]
            .iter()
            .position(|s| s.linear_hidden)
        {
            return Err(DeepAutoencoderError::Config(format!(
                "layer {} of {} has linear hidden units: only the code layer (the top) may",
                l + 1,
                stack.len()
            )));
        }
        for (l, s) in stack.iter().enumerate() {
            let what = |p: &str| format!("layer {}'s {p}", l + 1);
            if s.visible_bias.dims()[0] != s.visible() {
                return Err(DeepAutoencoderError::Shape {
                    what: what("visible biases"),
                    expected: s.visible(),
                    got: s.visible_bias.dims()[0],
                });
            }
            if s.hidden_bias.dims()[0] != s.hidden() {
                return Err(DeepAutoencoderError::Shape {
                    what: what("hidden biases"),
                    expected: s.hidden(),
                    got: s.hidden_bias.dims()[0],
                });
            }
        }
        let encoder = stack
            .iter()
            .map(|s| linear_from(s.weights.clone(), s.hidden_bias.clone(), &device))
            .collect();
        // A copy, not a view: the decoder's weights are parameters of their own.
        let decoder = stack
            .iter()
            .rev()
            .map(|s| {
                let v = Tensor::from_data(s.weights.clone().transpose().into_data(), &device);
                linear_from(v, s.visible_bias.clone(), &device)
            })
            .collect();
        Ok(DeepAutoencoder {
            encoder,
            decoder,
            linear: stack.iter().map(|s| s.linear_hidden).collect(),
        })
    }

    /// The random arm: sizes `[input, layers…]`, the code layer linear, weights N(0,
    /// init_std²) drawn on the host from `seed` (encoder, then decoder), biases 0.
    pub fn random(
        input: usize,
        layers: &[usize],
        init_std: f64,
        seed: u64,
        device: &Device,
    ) -> Result<DeepAutoencoder, DeepAutoencoderError> {
        if layers.is_empty() || input == 0 || layers.contains(&0) {
            return Err(DeepAutoencoderError::Config(format!(
                "layers: a deep autoencoder needs at least 1 layer and every size positive, got \
                 input {input} and layers {layers:?}"
            )));
        }
        let normal = Normal::new(0.0, init_std as f32).map_err(|e| {
            DeepAutoencoderError::Config(format!("init_std: {init_std} is not usable ({e})"))
        })?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6465_6570_6165_5f69);
        let mut draw = |rows: usize, cols: usize| {
            let v: Vec<f32> = (0..rows * cols).map(|_| normal.sample(&mut rng)).collect();
            Tensor::<2>::from_data(TensorData::new(v, [rows, cols]), device)
        };
        let mut sizes = vec![input];
        sizes.extend_from_slice(layers);
        let encoder = sizes
            .windows(2)
            .map(|p| linear_from(draw(p[0], p[1]), Tensor::zeros([p[1]], device), device))
            .collect();
        let decoder = sizes
            .windows(2)
            .rev()
            .map(|p| linear_from(draw(p[1], p[0]), Tensor::zeros([p[0]], device), device))
            .collect();
        let mut linear = vec![false; layers.len()];
        linear[layers.len() - 1] = true;
        Ok(DeepAutoencoder {
            encoder,
            decoder,
            linear,
        })
    }

    /// Layer sizes, the input first and the code last.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.encoder[0].weight.dims()[0]];
        s.extend(self.encoder.iter().map(|l| l.weight.dims()[1]));
        s
    }

    /// The input size.
    pub fn input(&self) -> usize {
        self.encoder[0].weight.dims()[0]
    }

    /// The code size.
    pub fn code_size(&self) -> usize {
        self.encoder[self.encoder.len() - 1].weight.dims()[1]
    }

    /// The codes of the rows of `x`, [batch, code].
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        self.encoder
            .iter()
            .zip(&self.linear)
            .fold(x, |h, (layer, &linear)| {
                let a = layer.forward(h);
                if linear { a } else { logistic(a) }
            })
    }

    /// The logits z of x̂ = σ(z) given codes.
    pub fn decode_logits(&self, code: Tensor<2>) -> Tensor<2> {
        let last = self.decoder.len() - 1;
        self.decoder.iter().enumerate().fold(code, |g, (l, layer)| {
            let a = layer.forward(g);
            if l < last { logistic(a) } else { a }
        })
    }

    /// x̂ = σ(z) given codes.
    pub fn decode(&self, code: Tensor<2>) -> Tensor<2> {
        logistic(self.decode_logits(code))
    }

    /// The reconstructions x̂ of the rows of `x`.
    pub fn reconstruct(&self, x: Tensor<2>) -> Tensor<2> {
        self.decode(self.encode(x))
    }

    /// The loss of every row, [batch] (module doc), differentiable on an autodiff device.
    pub fn loss_per_image(&self, x: Tensor<2>, loss: Loss) -> Tensor<1> {
        let z = self.decode_logits(self.encode(x.clone()));
        let per_pixel = match loss {
            Loss::CrossEntropy => crate::rbm::softplus(z.clone()) - x * z,
            Loss::Squared => (x - logistic(z)).square(),
        };
        per_pixel.sum_dim(1).squeeze_dim(1)
    }

    /// The loss averaged over the rows of `x` (the mini-batch's objective), [1].
    pub fn loss(&self, x: Tensor<2>, loss: Loss) -> Tensor<1> {
        self.loss_per_image(x, loss).mean()
    }

    /// `Σ_i (x_i − x̂_i)²` averaged over the rows of `x` (no gradient graph on a plain device).
    pub fn recon_error(&self, x: &Tensor<2>) -> f64 {
        crate::eval::mean_over_rows(x, |x| self.loss_per_image(x, Loss::Squared))
    }

    /// The loss averaged over the rows of `x`, in chunks.
    pub fn mean_loss(&self, x: &Tensor<2>, loss: Loss) -> f64 {
        crate::eval::mean_over_rows(x, |x| self.loss_per_image(x, loss))
    }
}
