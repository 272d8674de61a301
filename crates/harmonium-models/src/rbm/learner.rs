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

use super::cd::Phases;
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
    /// Host-side draws for the Gibbs steps on the CPU device, one per half of each mini-batch
    /// (see [`split_phases`]); `None`: the device's generator.
    cpu_draws: Option<[HostDraws; 2]>,
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
            cpu_draws: (device == Device::flex()).then_some(gibbs_rngs),
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
        self.apply(rbm, stats, step, sparsity);
    }

    /// The update from one mini-batch's statistics.
    fn apply(
        &mut self,
        rbm: &mut Rbm,
        stats: CdStatistics,
        step: Step,
        sparsity: Option<&Sparsity>,
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
        if step.weight_cost > 0.0 {
            delta_w = delta_w - rbm.weights.clone().mul_scalar(lr * step.weight_cost);
        }

        let m = step.momentum;
        self.inc_w.inplace(|inc| {
            if m == 0.0 {
                delta_w
            } else {
                inc.mul_scalar(m) + delta_w
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
        match self.cpu_draws.take() {
            Some([mut a, mut b]) => {
                for v0 in batches {
                    let phases =
                        split_phases(&mut self.chains, rbm, v0.clone(), step.cd_k, &mut a, &mut b);
                    let stats = rbm.statistics_of(v0, phases, step.lr);
                    self.apply(rbm, stats, step, sparsity);
                }
                self.cpu_draws = Some([a, b]);
            }
            None => {
                for v0 in batches {
                    self.step(rbm, v0, step, sparsity, &mut DeviceDraws);
                }
            }
        }
    }
}

/// The phases of mini-batch `v0` computed as two halves on two threads, each with its own draws
/// (and its half of the persistent chains), then stacked: the same statistics as one pass over
/// the whole batch. On the CPU the element-wise kernels (logistic, Bernoulli draws) run on one
/// thread each, so the halves' element-wise work overlaps instead of leaving a core idle.
fn split_phases(
    chains: &mut Option<Tensor<2>>,
    rbm: &Rbm,
    v0: Tensor<2>,
    cd_k: usize,
    a: &mut HostDraws,
    b: &mut HostDraws,
) -> Phases {
    let n = v0.dims()[0];
    let half = n / 2;
    if half == 0 || chains.as_ref().is_some_and(|c| c.dims()[0] < 2) {
        return rbm.phases(v0, cd_k, NegativePhase::from_chains(chains.as_mut()), a);
    }
    let (va, vb) = (v0.clone().narrow(0, 0, half), v0.narrow(0, half, n - half));
    let mut halves = chains.as_ref().map(|c| {
        let m = c.dims()[0];
        (
            c.clone().narrow(0, 0, m / 2),
            c.clone().narrow(0, m / 2, m - m / 2),
        )
    });
    let (ca, cb) = match &mut halves {
        Some((ca, cb)) => (Some(ca), Some(cb)),
        None => (None, None),
    };
    let (pa, pb) = rayon::join(
        || rbm.phases(va, cd_k, NegativePhase::from_chains(ca), a),
        || rbm.phases(vb, cd_k, NegativePhase::from_chains(cb), b),
    );
    if let Some((ca, cb)) = halves {
        *chains = Some(Tensor::cat(vec![ca, cb], 0));
    }
    Phases::cat(pa, pb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{random_rbm, serial};
    use crate::eval::to_vec as to_rows;
    use burn::tensor::Distribution;

    #[test]
    fn split_phases_equal_the_two_halves_computed_one_after_the_other() {
        let _guard = serial();
        let device = Device::flex();
        let rbm = random_rbm(7, 5, 1.0, 3, &device);
        device.seed(4);
        let v0 = Tensor::<2>::random([9, 7], Distribution::Bernoulli(0.5), &device);
        for persistent in [false, true] {
            let start = Tensor::<2>::random([5, 7], Distribution::Bernoulli(0.5), &device);
            let (mut a, mut b) = (HostDraws::new(1), HostDraws::new(2));
            let (mut a2, mut b2) = (a.clone(), b.clone());
            let mut chains = persistent.then(|| start.clone());
            let split = split_phases(&mut chains, &rbm, v0.clone(), 2, &mut a, &mut b);

            // Rows 0..4 with generator a (chains 0..2), rows 4..9 with b (chains 2..5).
            let mut ca = start.clone().narrow(0, 0, 2);
            let mut cb = start.clone().narrow(0, 2, 3);
            let first = rbm.phases(
                v0.clone().narrow(0, 0, 4),
                2,
                NegativePhase::from_chains(persistent.then_some(&mut ca)),
                &mut a2,
            );
            let second = rbm.phases(
                v0.clone().narrow(0, 4, 5),
                2,
                NegativePhase::from_chains(persistent.then_some(&mut cb)),
                &mut b2,
            );
            let whole = Phases::cat(first, second);
            assert_eq!(to_rows(split.ph_data), to_rows(whole.ph_data));
            assert_eq!(to_rows(split.v_model), to_rows(whole.v_model));
            assert_eq!(to_rows(split.ph_model), to_rows(whole.ph_model));
            if persistent {
                let advanced = Tensor::cat(vec![ca, cb], 0);
                assert_eq!(to_rows(chains.unwrap()), to_rows(advanced));
            }
        }
    }
}
