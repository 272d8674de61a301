//! The network: affine layers with an activation between them, built from random or given
//! weights, and its evaluation (loss, error rate, log-probabilities).

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use super::Activation;
use crate::data::Labelled;

/// A stack of affine layers; every layer but the last is followed by the activation.
#[derive(Module, Debug)]
pub struct Mlp {
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// Random initial weights drawn on the host from `seed` (so that they do not depend on how
    /// trials share a device), zero biases.
    pub fn random(sizes: &[usize], init_std: Option<f64>, seed: u64, device: &Device) -> Mlp {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d6c_705f_696e_6974);
        let layers = sizes
            .windows(2)
            .map(|w| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let values: Vec<f32> = match init_std {
                    Some(std) => {
                        let d = Normal::new(0.0, std as f32).expect("finite std");
                        (0..fan_in * fan_out).map(|_| d.sample(&mut rng)).collect()
                    }
                    None => {
                        let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
                        let d = Uniform::new(-a, a).expect("a > 0");
                        (0..fan_in * fan_out).map(|_| d.sample(&mut rng)).collect()
                    }
                };
                let weight =
                    Tensor::<2>::from_data(TensorData::new(values, [fan_in, fan_out]), device);
                linear_from(weight, Tensor::zeros([fan_out], device), device)
            })
            .collect();
        Mlp { layers }
    }

    /// Builds the net from given hidden layers `(W [in, out], c [out])` and a new output layer
    /// with random weights (for fine-tuning a pretrained stack).
    pub fn from_layers(
        hidden: Vec<(Tensor<2>, Tensor<1>)>,
        classes: usize,
        init_std: Option<f64>,
        seed: u64,
        device: &Device,
    ) -> Mlp {
        let top = hidden
            .last()
            .map(|(w, _)| w.dims()[1])
            .expect("at least one layer");
        let mut layers: Vec<Linear> = hidden
            .into_iter()
            .map(|(w, c)| linear_from(w, c, device))
            .collect();
        let out = Mlp::random(&[top, classes], init_std, seed, device);
        layers.extend(out.layers);
        Mlp { layers }
    }

    /// The same net with every weight and bias a new autodiff leaf, tracked, holding the same
    /// values under the same ids: for a step whose gradients come from burn's backward pass.
    pub(crate) fn into_leaves(self) -> Mlp {
        struct Leaves;
        impl ModuleMapper for Leaves {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let id = param.id;
                let (_, tensor, _) = param.consume();
                Param::initialized(id, tensor.inner().autodiff().require_grad())
            }
        }
        self.map(&mut Leaves)
    }

    /// Activities of the last hidden layer (the features the output layer sees).
    pub fn hidden_features(&self, x: Tensor<2>, activation: Activation) -> Tensor<2> {
        let hidden = &self.layers[..self.layers.len() - 1];
        hidden
            .iter()
            .fold(x, |h, layer| activation.apply(layer.forward(h)))
    }

    /// Class scores (logits).
    pub fn forward(&self, x: Tensor<2>, activation: Activation) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let a = layer.forward(h);
            if i < last { activation.apply(a) } else { a }
        })
    }
}

pub(super) fn linear_from(weight: Tensor<2>, bias: Tensor<1>, device: &Device) -> Linear {
    let [i, o] = weight.dims();
    let mut layer = LinearConfig::new(i, o).init(device);
    layer.weight = Param::from_tensor(weight);
    layer.bias = Some(Param::from_tensor(bias));
    layer
}

/// Loss and error rate of a labelled set, computed in batches with no gradient graph.
pub fn evaluate(model: &Mlp, data: &Labelled, activation: Activation) -> (f64, f64) {
    let n = data.len();
    let device = data.x.device();
    let ce = CrossEntropyLossConfig::new().init(&device);
    let mut loss_sum = Tensor::<1>::zeros([1], &device);
    let mut wrong = Tensor::<1, Int>::zeros([1], &device);
    let chunk = 2000;
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let x = data.x.clone().narrow(0, start, len);
        let y = data.y.clone().narrow(0, start, len);
        let logits = model.forward(x, activation);
        loss_sum = loss_sum + ce.forward(logits.clone(), y.clone()).mul_scalar(len as f32);
        let pred = logits.argmax(1).squeeze_dim::<1>(1);
        wrong = wrong + pred.not_equal(y).int().sum();
        start += len;
    }
    let loss: f32 = loss_sum.into_scalar();
    let wrong: i64 = wrong.into_scalar();
    (loss as f64 / n as f64, wrong as f64 / n as f64)
}

/// log p(y | x) of every class for every row, read back to the host (rows × classes), e.g. to
/// sum frame log-probabilities over an utterance.
pub fn log_probabilities(model: &Mlp, data: &Labelled, activation: Activation) -> Vec<f32> {
    let n = data.len();
    let mut out = Vec::new();
    let chunk = 2000;
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let logits = model.forward(data.x.clone().narrow(0, start, len), activation);
        let logp = burn::tensor::activation::log_softmax(logits, 1);
        out.extend(logp.into_data().try_to_vec::<f32>().expect("f32 tensor"));
        start += len;
    }
    out
}
