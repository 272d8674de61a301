//! The update (practical guide §9–11): for every parameter θ,
//!
//! ```text
//! Δθ(t) = momentum · Δθ(t−1) + lr · (statistics − weight_cost · W)     (W only for the cost)
//! θ     ← θ + Δθ(t)
//! ```
//!
//! with an optional sparsity penalty: a running estimate `q ← decay·q + (1−decay)·⟨p(h|v)⟩` of
//! each hidden unit's mean activity, and `cost·(target − q)` added to Δc (and, times the mean
//! visible state, to ΔW). An epoch is one pass through the data in a random order.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::halves::Halves;
use super::model::{bernoulli, row};
use super::{
    CdStatistics, DeviceDraws, Draws, HostDraws, NegativePhase, Rbm, RbmConfig, Sparsity,
    VisibleUnits,
};

/// Learner state carried across mini-batches: momentum increments, persistent chains and the
/// running hidden activity for the sparsity target.
#[derive(Debug, Clone)]
pub struct Learner {
    inc_w: Tensor<2>,
    inc_b: Tensor<1>,
    inc_c: Tensor<1>,
    /// Persistent chains (visible states), when learning by persistent CD.
    pub chains: Option<Tensor<2>>,
    /// On the CPU device, each mini-batch's statistics are computed as two halves side by side,
    /// each with a host generator of its own ([`Halves`]); `None`: the device's generator.
    halves: Option<Halves>,
    /// The generator of the example order (and of the chains' start).
    order_rng: HostDraws,
    /// Running estimate q of each hidden unit's mean activity (sparsity target).
    pub hidden_activity: Option<Tensor<1>>,
}

/// Hyper-parameters of one update.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub lr: f64,
    pub momentum: f64,
    pub weight_cost: f64,
    pub cd_k: usize,
}

impl Learner {
    /// Zero increments; `cfg.chains` persistent chains started from random binary states
    /// (Gaussian: from the visible biases plus unit noise) when `cfg.persistent`. Every random
    /// number it uses on the CPU comes from generators seeded with `seed`.
    pub fn new(rbm: &Rbm, cfg: &RbmConfig, seed: u64) -> Learner {
        let device = rbm.device();
        let (v, h) = (rbm.visible(), rbm.hidden());
        let mut order_rng = HostDraws::new(seed);
        let gibbs_rngs = [order_rng.split(), order_rng.split()];
        let chains = cfg.persistent.then(|| {
            let mut start_rng = order_rng.split();
            match &rbm.visible_units {
                VisibleUnits::Binary => bernoulli(
                    Tensor::<2>::full([cfg.chains, v], 0.5, &device),
                    start_rng.uniform(&Tensor::zeros([cfg.chains, v], &device)),
                ),
                VisibleUnits::Gaussian { .. } => {
                    rbm.sample_visible(Tensor::zeros([cfg.chains, h], &device), &mut start_rng)
                }
            }
        });
        Learner {
            inc_w: Tensor::zeros([v, h], &device),
            inc_b: Tensor::zeros([v], &device),
            inc_c: Tensor::zeros([h], &device),
            chains,
            hidden_activity: None,
            halves: (device == Device::flex()).then(|| Halves::new(gibbs_rngs)),
            order_rng,
        }
    }

    /// One learning step on mini-batch `v0`: statistics, then
    /// `Δθ ← momentum·Δθ + lr·(statistics − weight_cost·W)`, `θ ← θ + Δθ`.
    pub fn step(
        &mut self,
        rbm: &mut Rbm,
        v0: Tensor<2>,
        step: Step,
        sparsity: Option<&Sparsity>,
        draws: &mut dyn Draws,
    ) {
        let negative = NegativePhase::from_chains(self.chains.as_mut());
        let stats = rbm.scaled_statistics(v0, step.cd_k, negative, draws, step.lr);
        self.apply(rbm, stats, None, step, sparsity, None);
    }

    /// The update from one mini-batch's statistics. The weight statistics may come in two parts
    /// (`stats.delta_w` and `second_w`, from the two halves of the batch); the weights' increment
    /// is then summed as `(S_a − lr·weight_cost·W) + (momentum·ΔW + S_b)`, each side on one of
    /// the `halves`' threads.
    fn apply(
        &mut self,
        rbm: &mut Rbm,
        stats: CdStatistics,
        second_w: Option<Tensor<2>>,
        step: Step,
        sparsity: Option<&Sparsity>,
        halves: Option<&Halves>,
    ) {
        let CdStatistics {
            mut delta_w,
            delta_b,
            mut delta_c,
            hidden_data_mean,
            visible_data_mean,
        } = stats;
        let lr = step.lr;

        if let Some(sp) = sparsity {
            let q = match self.hidden_activity.take() {
                Some(q) => q.mul_scalar(sp.decay) + hidden_data_mean.mul_scalar(1.0 - sp.decay),
                None => hidden_data_mean,
            };
            let pull = q.clone().neg().add_scalar(sp.target).mul_scalar(sp.cost); // cost·(target − q)
            delta_c = delta_c + pull.clone();
            let outer = visible_data_mean.unsqueeze_dim::<2>(1).matmul(row(&pull));
            delta_w = delta_w + outer.mul_scalar(lr);
            self.hidden_activity = Some(q);
        }

        let (m, cost) = (step.momentum, lr * step.weight_cost);
        let weights = rbm.weights.clone();
        self.inc_w.inplace(|inc| {
            // S_a − lr·weight_cost·W
            let with_cost = move || {
                if cost > 0.0 {
                    delta_w - weights.mul_scalar(cost)
                } else {
                    delta_w
                }
            };
            // momentum·ΔW + S_b
            let carried = move || match (m == 0.0, second_w) {
                (true, second) => second,
                (false, None) => Some(inc.mul_scalar(m)),
                (false, Some(second)) => Some(inc.mul_scalar(m) + second),
            };
            let (with_cost, carried) = match halves {
                Some(h) => h.join(with_cost, carried),
                None => (with_cost(), carried()),
            };
            match carried {
                Some(c) => with_cost + c,
                None => with_cost,
            }
        });
        self.inc_b
            .inplace(|inc| inc.mul_scalar(m) + delta_b.mul_scalar(lr));
        self.inc_c
            .inplace(|inc| inc.mul_scalar(m) + delta_c.mul_scalar(lr));
        let (inc_w, inc_b, inc_c) = (self.inc_w.clone(), self.inc_b.clone(), self.inc_c.clone());
        rbm.weights.inplace(|w| w + inc_w);
        rbm.visible_bias.inplace(|b| b + inc_b);
        rbm.hidden_bias.inplace(|c| c + inc_c);
    }
}

impl Learner {
    /// One pass through `data` in a random order (a permutation drawn on the host and handed over
    /// once), in mini-batches of `batch_size` (the last one may be smaller).
    pub fn epoch(
        &mut self,
        rbm: &mut Rbm,
        data: &Tensor<2>,
        batch_size: usize,
        step: Step,
        sparsity: Option<&Sparsity>,
    ) {
        let n = data.dims()[0];
        let order: Tensor<1, Int> = Tensor::from_data(
            TensorData::new(self.order_rng.permutation(n), [n]),
            &data.device(),
        );
        let batches = (0..n).step_by(batch_size.max(1)).map(|start| {
            let len = batch_size.min(n - start);
            data.clone().select(0, order.clone().narrow(0, start, len))
        });
        match self.halves.take() {
            Some(mut halves) => {
                for v0 in batches {
                    let (stats, second_w) =
                        halves.statistics(&mut self.chains, rbm, v0, step.cd_k, step.lr);
                    self.apply(rbm, stats, second_w, step, sparsity, Some(&halves));
                }
                self.halves = Some(halves);
            }
            None => {
                for v0 in batches {
                    self.step(rbm, v0, step, sparsity, &mut DeviceDraws);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{random_rbm, serial};
    use crate::eval::to_vec;
    use burn::tensor::Distribution;

    fn close(a: Tensor<2>, b: Tensor<2>) {
        for (x, y) in to_vec(a).iter().zip(&to_vec(b)) {
            assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        }
    }

    /// With the weight statistics in two parts, summed on two threads as
    /// `(S_a − lr·wc·W) + (m·ΔW + S_b)`, three updates (momentum carried, weight cost, sparsity)
    /// give the parameters of the same updates from the summed statistics.
    #[test]
    fn update_from_two_parts_equals_the_update_from_their_sum() {
        let _guard = serial();
        let device = Device::flex();
        let rbm = random_rbm(7, 5, 0.5, 11, &device);
        let cfg = RbmConfig {
            hidden: 5,
            ..Default::default()
        };
        let (mut whole, mut parts) = (rbm.clone(), rbm);
        let mut learner_whole = Learner::new(&whole, &cfg, 1);
        let mut learner_parts = learner_whole.clone();
        let halves = Halves::new([HostDraws::new(1), HostDraws::new(2)]);
        let step = Step {
            lr: 0.1,
            momentum: 0.9,
            weight_cost: 0.01,
            cd_k: 1,
        };
        let sparsity = Sparsity {
            target: 0.1,
            decay: 0.9,
            cost: 0.5,
        };
        device.seed(6);
        for _ in 0..3 {
            let random2 = |shape| Tensor::<2>::random(shape, Distribution::Default, &device);
            let random1 = |n| Tensor::<1>::random([n], Distribution::Default, &device);
            let (first_w, second_w) = (random2([7, 5]), random2([7, 5]));
            let stats = CdStatistics {
                delta_w: first_w.clone(),
                delta_b: random1(7),
                delta_c: random1(5),
                hidden_data_mean: random1(5),
                visible_data_mean: random1(7),
            };
            let summed = CdStatistics {
                delta_w: first_w + second_w.clone(),
                ..stats.clone()
            };
            learner_whole.apply(&mut whole, summed, None, step, Some(&sparsity), None);
            learner_parts.apply(
                &mut parts,
                stats,
                Some(second_w),
                step,
                Some(&sparsity),
                Some(&halves),
            );
        }
        close(whole.weights, parts.weights);
        let row = |t: Tensor<1>| t.unsqueeze::<2>();
        close(row(whole.visible_bias), row(parts.visible_bias));
        close(row(whole.hidden_bias), row(parts.hidden_bias));
    }
}
