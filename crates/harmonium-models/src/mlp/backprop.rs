//! Backprop written out: the gradients of a mini-batch's mean cross-entropy by the chain rule,
//! with no autodiff graph (the CPU fast path beside burn's autodiff, which stays the reference).
//!
//! For hidden layers `h_l = f(a_l)`, `a_l = h_{l−1} W_l + c_l` (`h_0 = x`), logits
//! `z = h_{L−1} W_L + c_L`, `p = softmax(z)`, and the loss `E = −(1/B) Σ_n log p_{n, y_n}` of a
//! mini-batch of B examples, of which these rows are some (a half, [`super::halves`]):
//!
//! ```text
//! δ_L = (p − onehot(y)) / B
//! ∂E/∂W_l = h_{l−1}ᵀ δ_l          ∂E/∂c_l = Σ_n δ_{l, n}
//! δ_{l−1} = (δ_l W_lᵀ) ⊙ f′(a_{l−1}),   f′ = h (1 − h) (logistic), 1 − h² (tanh), [h > 0] (ReLU)
//! ```
//!
//! The gradients of the rows of a part are that part's share of the mini-batch's gradient, so
//! the parts' gradients add up to it. What this saves against autodiff: the graph and its
//! bookkeeping, the logistic's scalar exponential (here [`crate::fast_math::logistic`]), and the
//! gradient with respect to the input, which autodiff does not need either but reaches through
//! the same machinery. The matmuls are the same.

use burn::optim::GradientsParams;
use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor};

use super::{Activation, Mlp};

/// The gradients of `E` (above) with respect to every weight and bias of `model`, from the
/// rows `(x, y)` of a mini-batch of `batch` examples, under the parameters' own ids. `model`
/// may hold autodiff tensors: their values are read without a graph.
pub(crate) fn gradients(
    model: &Mlp,
    x: Tensor<2>,
    y: Tensor<1, Int>,
    activation: Activation,
    batch: usize,
) -> GradientsParams {
    let weights: Vec<Tensor<2>> = model
        .layers
        .iter()
        .map(|l| l.weight.val().inner())
        .collect();
    let biases: Vec<Option<Tensor<1>>> = model
        .layers
        .iter()
        .map(|l| l.bias.as_ref().map(|b| b.val().inner()))
        .collect();
    let last = weights.len() - 1;
    // Forward: h_0 = x, …, h_{L−1}, and the logits.
    let mut h = vec![x.inner()];
    for l in 0..last {
        let a = affine(h[l].clone(), &weights[l], &biases[l]);
        h.push(activation.apply(a));
    }
    let z = affine(h[last].clone(), &weights[last], &biases[last]);
    let classes = z.dims()[1];
    let onehot: Tensor<2> = y.inner().one_hot(classes).float();
    let mut delta = (softmax(z, 1) - onehot).div_scalar(batch as f32);
    let mut grads = GradientsParams::new();
    for l in (0..=last).rev() {
        let layer = &model.layers[l];
        if let Some(bias) = &layer.bias {
            grads.register(bias.id, delta.clone().sum_dim(0).squeeze_dim::<1>(0));
        }
        let below = (l > 0).then(|| delta.clone().matmul(weights[l].clone().transpose()));
        grads.register(
            layer.weight.id,
            h[l].clone().transpose().matmul(delta.clone()),
        );
        if let Some(back) = below {
            delta = back * slope(activation, h[l].clone());
        }
    }
    grads
}

/// `a W + c`.
fn affine(h: Tensor<2>, w: &Tensor<2>, c: &Option<Tensor<1>>) -> Tensor<2> {
    let a = h.matmul(w.clone());
    match c {
        Some(c) => a + c.clone().unsqueeze_dim(0),
        None => a,
    }
}

/// `f′(a)` from the activity `h = f(a)`.
fn slope(activation: Activation, h: Tensor<2>) -> Tensor<2> {
    match activation {
        Activation::Sigmoid => h.clone() * (h.neg() + 1.0),
        Activation::Tanh => (h.clone() * h).neg() + 1.0,
        Activation::Relu => h.greater_elem(0.0).float(),
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::tensor::Device;

    use super::*;
    use crate::mlp::tests::batch;

    /// Every weight's and bias's gradient equals burn's autodiff gradient of the mean
    /// cross-entropy, for each activation; and two parts of a batch, each weighted by the
    /// batch's size, add up to the whole batch's.
    #[test]
    fn written_out_gradients_equal_autodiff() {
        let ad = Device::flex().autodiff();
        for activation in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
            let model = Mlp::random(&[6, 5, 4, 3], Some(0.8), 11, &Device::flex())
                .train()
                .fork(&ad);
            let ce = CrossEntropyLossConfig::new().init(&ad);
            let n = 9;
            let (x, y) = batch(n, &ad);
            let loss = ce.forward(model.forward(x.clone(), activation), y.clone());
            let mut reference = GradientsParams::from_grads(loss.backward(), &model);
            let mut whole = gradients(&model, x.clone(), y.clone(), activation, n);
            let mut parts = [(0, 4), (4, 5)].map(|(s, len)| {
                gradients(
                    &model,
                    x.clone().narrow(0, s, len),
                    y.clone().narrow(0, s, len),
                    activation,
                    n,
                )
            });
            let check = |a: Vec<f32>, b: Vec<f32>, what: &str| {
                assert_eq!(a.len(), b.len(), "{what}");
                for (p, q) in a.iter().zip(&b) {
                    assert!(
                        (p - q).abs() <= 1e-6 + 1e-5 * p.abs(),
                        "{activation:?} {what}: {p} vs {q}"
                    );
                }
            };
            for (l, layer) in model.layers.iter().enumerate() {
                let v2 = |g: &mut GradientsParams| {
                    crate::eval::to_vec(g.remove::<2>(layer.weight.id).expect("a gradient"))
                };
                let r = v2(&mut reference);
                let sum: Vec<f32> = v2(&mut parts[0])
                    .iter()
                    .zip(v2(&mut parts[1]))
                    .map(|(a, b)| a + b)
                    .collect();
                check(r.clone(), v2(&mut whole), &format!("W{l}"));
                check(r, sum, &format!("W{l} from two parts"));
                let bias = layer.bias.as_ref().expect("a bias").id;
                let v1 = |g: &mut GradientsParams| {
                    crate::eval::to_vec(g.remove::<1>(bias).expect("a gradient"))
                };
                let r = v1(&mut reference);
                check(r, v1(&mut whole), &format!("c{l}"));
            }
        }
    }
}
