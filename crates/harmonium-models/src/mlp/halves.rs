//! Backprop on the CPU as two halves of every mini-batch computed side by side.
//!
//! The loss of a mini-batch of B examples is a mean, so its gradient is the sum of the gradients
//! of the two halves' losses, each weighted by its share of the batch:
//!
//! ```text
//! ∂/∂θ (1/B) Σ_{n ≤ B} E_n = Σ_{halves h} (B_h / B) ∂/∂θ (1/B_h) Σ_{n ∈ h} E_n
//! ```
//!
//! and an evaluation's loss sum and error count are sums over its examples. On the CPU backend
//! the element-wise kernels (the logistic and its derivative, the softmax) run on one thread,
//! and a matmul of a 100-example batch spends part of its time handing work between threads. Each
//! half therefore runs its forward and backward pass (or its share of the evaluation) on a
//! thread pool of its own, so both cores are busy; the weights are then updated once, by the
//! optimizer, from the summed gradients, as in the plain loop.

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor};

use super::{Activation, Mlp};
use crate::data::Labelled;
use crate::rbm::halves::half_pools;

/// The two pools the halves run on.
pub(crate) struct Halves {
    pools: [rayon::ThreadPool; 2],
}

impl Halves {
    /// `None` when the pools cannot be built (then the plain loop runs).
    pub fn new() -> Option<Halves> {
        half_pools().map(|pools| Halves { pools })
    }

    /// `f(0)` on the first pool while `f(1)` runs on the second.
    fn both<T: Send>(&self, f: impl Fn(usize) -> T + Sync) -> [T; 2] {
        let mut second = None;
        let first = self.pools[1].in_place_scope(|s| {
            s.spawn(|_| second = Some(f(1)));
            self.pools[0].install(|| f(0))
        });
        [first, second.expect("the second half ran")]
    }

    /// The gradients of the mean cross-entropy of the mini-batch `(x, y)`, a batch of at least
    /// two examples: the two halves' weighted gradients, summed.
    pub fn gradients(
        &self,
        model: &Mlp,
        x: Tensor<2>,
        y: Tensor<1, Int>,
        activation: Activation,
        ce: &CrossEntropyLoss,
    ) -> GradientsParams {
        let [mut a, mut b] = self.gradient_halves(model, x, y, activation, ce);
        for layer in &model.layers {
            let id = layer.weight.id;
            if let (Some(ga), Some(gb)) = (a.remove::<2>(id), b.remove::<2>(id)) {
                a.register(id, ga + gb);
            }
            if let Some(bias) = &layer.bias
                && let (Some(ga), Some(gb)) = (a.remove::<1>(bias.id), b.remove::<1>(bias.id))
            {
                a.register(bias.id, ga + gb);
            }
        }
        a
    }

    /// The two halves' weighted gradients by autodiff, whose sum is the mini-batch's gradient.
    fn gradient_halves(
        &self,
        model: &Mlp,
        x: Tensor<2>,
        y: Tensor<1, Int>,
        activation: Activation,
        ce: &CrossEntropyLoss,
    ) -> [GradientsParams; 2] {
        let n = x.dims()[0];
        let rows = [(0, n / 2), (n / 2, n - n / 2)];
        // Each half differentiates its own leaf copy of the parameters (same ids, same values):
        // halves sharing leaves would share one autodiff graph, whose backward pass is serial.
        let copies = [model.clone().into_leaves(), model.clone().into_leaves()];
        self.both(|h| {
            let (start, len) = rows[h];
            let model = &copies[h];
            let loss = ce.forward(
                model.forward(x.clone().narrow(0, start, len), activation),
                y.clone().narrow(0, start, len),
            );
            GradientsParams::from_grads(loss.mul_scalar(len as f32 / n as f32).backward(), model)
        })
    }

    /// The two halves' gradients by backprop written out ([`super::backprop`]), whose sum is
    /// the mini-batch's gradient: what the SGD fast path steps from.
    pub fn written_out_halves(
        &self,
        model: &Mlp,
        x: Tensor<2>,
        y: Tensor<1, Int>,
        activation: Activation,
    ) -> [GradientsParams; 2] {
        let n = x.dims()[0];
        let rows = [(0, n / 2), (n / 2, n - n / 2)];
        self.both(|h| {
            let (start, len) = rows[h];
            super::backprop::gradients(
                model,
                x.clone().narrow(0, start, len),
                y.clone().narrow(0, start, len),
                activation,
                n,
            )
        })
    }

    /// [`super::evaluate`] of `data` as two halves: the loss sums and error counts added.
    pub fn evaluate(&self, model: &Mlp, data: &Labelled, activation: Activation) -> (f64, f64) {
        let n = data.len();
        if n < 2 {
            return super::evaluate(model, data, activation);
        }
        let rows = [(0, n / 2), (n / 2, n - n / 2)];
        let parts = self.both(|h| {
            let (start, len) = rows[h];
            let part = Labelled {
                x: data.x.clone().narrow(0, start, len),
                y: data.y.clone().narrow(0, start, len),
            };
            let (loss, error) = super::evaluate(model, &part, activation);
            (loss * len as f64, error * len as f64)
        });
        let (loss, wrong) = (parts[0].0 + parts[1].0, parts[0].1 + parts[1].1);
        (loss / n as f64, wrong.round() / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::optim::GradientsParams;
    use burn::tensor::Device;

    use super::*;
    use crate::mlp::tests::batch;

    /// The two halves' summed gradients equal the gradient of the whole mini-batch, for an
    /// even and an odd batch, for every weight and bias.
    #[test]
    fn summed_halves_give_the_whole_batch_gradient() {
        let device = Device::flex().autodiff();
        let model = Mlp::random(&[6, 5, 4, 3], None, 7, &Device::flex())
            .train()
            .fork(&device);
        let ce = CrossEntropyLossConfig::new().init(&device);
        let halves = Halves::new().expect("pools");
        for n in [10, 7] {
            let (x, y) = batch(n, &device);
            let loss = ce.forward(model.forward(x.clone(), Activation::Sigmoid), y.clone());
            let mut whole = GradientsParams::from_grads(loss.backward(), &model);
            let mut split = halves.gradients(&model, x, y, Activation::Sigmoid, &ce);
            for layer in &model.layers {
                let w = |g: &mut GradientsParams| {
                    crate::eval::to_vec(g.remove::<2>(layer.weight.id).expect("a gradient"))
                };
                let bias = layer.bias.as_ref().unwrap().id;
                let c = |g: &mut GradientsParams| {
                    crate::eval::to_vec(g.remove::<1>(bias).expect("a gradient"))
                };
                for (a, b) in [
                    (w(&mut whole), w(&mut split)),
                    (c(&mut whole), c(&mut split)),
                ] {
                    assert_eq!(a.len(), b.len());
                    for (p, q) in a.iter().zip(&b) {
                        assert!((p - q).abs() <= 1e-6 + 1e-5 * p.abs(), "n {n}: {p} vs {q}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_evaluation_in_halves_equals_the_plain_one() {
        let device = Device::flex();
        let model = Mlp::random(&[6, 5, 3], None, 3, &device);
        let halves = Halves::new().expect("pools");
        for n in [1, 2, 9, 4001] {
            let (x, y) = batch(n, &device);
            let data = Labelled { x, y };
            let (l1, e1) = super::super::evaluate(&model, &data, Activation::Sigmoid);
            let (l2, e2) = halves.evaluate(&model, &data, Activation::Sigmoid);
            assert!(
                (l1 - l2).abs() < 1e-5 * l1.abs().max(1.0),
                "n {n}: {l1} vs {l2}"
            );
            assert_eq!(e1, e2, "n {n}");
        }
    }
}
