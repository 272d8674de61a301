//! The SGD update on the CPU in one pass over the parameters, on both cores.
//!
//! Classic momentum with coupled weight decay, the rule burn's `Sgd` applies (with dampening 0):
//!
//! ```text
//! Δθ ← μ Δθ + (g + λ θ)        θ ← θ − ε Δθ        (g: the summed gradients of the halves)
//! ```
//!
//! burn's optimizer computes it as seven element-wise tensor operations per parameter, each a
//! single-threaded pass over memory that allocates; for the 1.66 million weights of the paper's
//! net that is most of what a mini-batch costs outside its matmuls. Here the parameters and the
//! gradients are taken out of their tensors without a copy (a unique, contiguous CPU tensor
//! hands over its buffer), updated in one pass split across the threads, and put back. The
//! velocity Δθ is kept here, one buffer per parameter.
//!
//! The updated parameters come back *untracked* by autodiff: their gradients come from
//! backprop written out ([`super::backprop`]), never from a backward pass, and burn's autodiff
//! frees the graph a tracked tensor opens only in a backward pass. Tracked, every parameter of
//! every step kept a graph for the rest of the process (≈ 12 KB a mini-batch for the paper's
//! net, ≈ 600 MB for a 100-epoch training). [`Mlp::into_leaves`] marks them again for the
//! rare step that does run a backward pass (a one-row mini-batch).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;

use super::Mlp;

/// Momentum μ, weight decay λ and the velocity of every parameter.
pub(crate) struct FusedSgd {
    momentum: f32,
    weight_decay: f32,
    velocity: HashMap<ParamId, Vec<f32>>,
}

impl FusedSgd {
    pub fn new(momentum: f64, weight_decay: f64) -> FusedSgd {
        FusedSgd {
            momentum: momentum as f32,
            weight_decay: weight_decay as f32,
            velocity: HashMap::new(),
        }
    }

    /// The velocity of parameter `id` (none before its first step).
    pub fn velocity(&self, id: ParamId) -> Option<&[f32]> {
        self.velocity.get(&id).map(Vec::as_slice)
    }

    /// Sets the velocity of parameter `id` (a resumed training's).
    pub fn set_velocity(&mut self, id: ParamId, v: Vec<f32>) {
        self.velocity.insert(id, v);
    }

    /// One step of rate `lr` from the sum of `grads` (one set per half of the mini-batch).
    pub fn step(&mut self, lr: f64, model: Mlp, grads: &mut [GradientsParams]) -> Mlp {
        struct Step<'a> {
            sgd: &'a mut FusedSgd,
            lr: f32,
            grads: &'a mut [GradientsParams],
        }
        impl ModuleMapper for Step<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                self.sgd.update(self.lr, param, self.grads)
            }
        }
        model.map(&mut Step {
            sgd: self,
            lr: lr as f32,
            grads,
        })
    }

    fn update<const D: usize>(
        &mut self,
        lr: f32,
        param: Param<Tensor<D>>,
        grads: &mut [GradientsParams],
    ) -> Param<Tensor<D>> {
        let id = param.id;
        let parts: Vec<TensorData> = grads
            .iter_mut()
            .filter_map(|g| g.remove::<D>(id))
            .map(|g| g.into_data())
            .collect();
        if parts.is_empty() {
            return param;
        }
        let (_, tensor, _) = param.consume();
        let tensor = tensor.inner();
        let device: Device = tensor.device();
        let mut theta = tensor.into_data();
        {
            let values: &mut [f32] = theta.as_mut_slice().expect("f32 parameters");
            let velocity = self
                .velocity
                .entry(id)
                .or_insert_with(|| vec![0.0; values.len()]);
            let slices: Vec<&[f32]> = parts
                .iter()
                .map(|g| g.as_slice::<f32>().expect("f32 gradients"))
                .collect();
            let (mu, lambda) = (self.momentum, self.weight_decay);
            const CHUNK: usize = 1 << 14;
            values
                .par_chunks_mut(CHUNK)
                .zip(velocity.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(c, (theta, v))| {
                    let start = c * CHUNK;
                    for (i, (t, v)) in theta.iter_mut().zip(v.iter_mut()).enumerate() {
                        let g: f32 = slices.iter().map(|s| s[start + i]).sum();
                        *v = mu * *v + (g + lambda * *t);
                        *t -= lr * *v;
                    }
                });
        }
        let updated = Tensor::<D>::from_data(theta, &device);
        Param::initialized(id, updated.autodiff())
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::momentum::MomentumConfig;
    use burn::optim::{GradientsParams, SgdConfig};
    use burn::tensor::{Device, Int, Tensor, TensorData};

    use super::*;
    use crate::mlp::Activation;
    use crate::mlp::tests::parameters;
    use crate::rbm::tests::assert_close;

    /// Three steps of the fused update give the weights burn's `Sgd` (classic momentum,
    /// coupled weight decay) gives from the same gradients, and leave them untracked.
    #[test]
    fn the_fused_update_equals_burns_sgd() {
        let ad = Device::flex().autodiff();
        let start = Mlp::random(&[6, 5, 3], None, 5, &Device::flex())
            .train()
            .fork(&ad);
        let ce = CrossEntropyLossConfig::new().init(&ad);
        let x: Vec<f32> = (0..60)
            .map(|i| ((i * 29 % 97) as f32 / 48.0) - 1.0)
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [10, 6]), &ad);
        let y = Tensor::<1, Int>::from_data(
            TensorData::new((0..10).map(|i| i % 3).collect::<Vec<i64>>(), [10]),
            &ad,
        );
        let grads = |m: &Mlp| {
            let loss = ce.forward(m.forward(x.clone(), Activation::Sigmoid), y.clone());
            GradientsParams::from_grads(loss.backward(), m)
        };
        let mut burn_sgd = SgdConfig::new()
            .with_momentum(Some(
                MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
            ))
            .with_weight_decay(Some(WeightDecayConfig::new(0.01)))
            .init();
        let mut fused = FusedSgd::new(0.9, 0.01);
        let (mut a, mut b) = (start.clone(), start);
        for step in 0..3 {
            let lr = 0.5 / (step + 1) as f64;
            let ga = grads(&a);
            a = burn_sgd.step(lr, a, ga);
            // Untracked after a fused step: tracked again for burn's backward pass.
            let tb = b.into_leaves();
            let gb = grads(&tb);
            b = fused.step(lr, tb, &mut [gb]);
        }
        assert_close(&parameters(&b), &parameters(&a), 1e-5, "parameters");
        for lb in &b.layers {
            // Untracked: a tracked parameter would keep an autodiff graph for good.
            assert!(!lb.weight.val().is_require_grad());
            assert!(!lb.bias.as_ref().unwrap().val().is_require_grad());
        }
    }

    #[test]
    fn gradients_of_the_halves_are_summed() {
        let ad = Device::flex().autodiff();
        let m = Mlp::random(&[2, 2], None, 1, &Device::flex())
            .train()
            .fork(&ad);
        let id = m.layers[0].weight.id;
        let before = crate::eval::to_vec(m.layers[0].weight.val().inner());
        let mut parts = [GradientsParams::new(), GradientsParams::new()];
        parts[0].register(id, Tensor::<2>::ones([2, 2], &Device::flex()));
        parts[1].register(
            id,
            Tensor::<2>::ones([2, 2], &Device::flex()).mul_scalar(2.0),
        );
        let mut fused = FusedSgd::new(0.0, 0.0);
        let m = fused.step(0.1, m, &mut parts);
        let after = crate::eval::to_vec(m.layers[0].weight.val().inner());
        for (b, a) in before.iter().zip(&after) {
            assert!((b - 0.3 - a).abs() < 1e-6, "{b} → {a}");
        }
    }
}
