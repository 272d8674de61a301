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

use super::cd::UnitStatistics;
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
        self.apply(rbm, stats, step, sparsity);
    }

    /// The update from one mini-batch's statistics:
    /// `ΔW ← momentum·ΔW + lr·(S − weight_cost·W)` (`stats.delta_w` = lr·S), then [`Learner::finish`].
    fn apply(
        &mut self,
        rbm: &mut Rbm,
        stats: CdStatistics,
        step: Step,
        sparsity: Option<&Sparsity>,
    ) {
        let (s, units) = stats.split();
        let with_cost = weight_cost(s, rbm.weights.clone(), step);
        self.inc_w
            .inplace(|inc| carried(inc, step.momentum, Some(with_cost)));
        self.finish(rbm, None, units, step, sparsity);
    }

    /// The rest of the update once `ΔW` holds `momentum·ΔW` plus all of `lr·(S − weight_cost·W)`
    /// but `rest` (added here): the sparsity penalty, the biases' increments, and `θ ← θ + Δθ`.
    fn finish(
        &mut self,
        rbm: &mut Rbm,
        rest: Option<Tensor<2>>,
        units: UnitStatistics,
        step: Step,
        sparsity: Option<&Sparsity>,
    ) {
        let UnitStatistics {
            delta_b,
            mut delta_c,
            hidden_data_mean,
            visible_data_mean,
        } = units;
        let (lr, m) = (step.lr, step.momentum);
        let mut rest = rest;

        if let Some(sp) = sparsity {
            let q = match self.hidden_activity.take() {
                Some(q) => q.mul_scalar(sp.decay) + hidden_data_mean.mul_scalar(1.0 - sp.decay),
                None => hidden_data_mean,
            };
            let pull = q.clone().neg().add_scalar(sp.target).mul_scalar(sp.cost); // cost·(target − q)
            delta_c = delta_c + pull.clone();
            let outer = visible_data_mean
                .unsqueeze_dim::<2>(1)
                .matmul(row(&pull))
                .mul_scalar(lr);
            rest = Some(match rest {
                Some(r) => r + outer,
                None => outer,
            });
            self.hidden_activity = Some(q);
        }
        if let Some(r) = rest {
            self.inc_w.inplace(|inc| inc + r);
        }
        self.inc_b
            .inplace(|inc| inc.mul_scalar(m) + delta_b.mul_scalar(lr));
        self.inc_c
            .inplace(|inc| inc.mul_scalar(m) + delta_c.mul_scalar(lr));
        let (inc_w, inc_b, inc_c) = (self.inc_w.clone(), self.inc_b.clone(), self.inc_c.clone());
        rbm.weights.inplace(|w| w + inc_w);
        rbm.visible_bias.inplace(|b| b + inc_b);
        rbm.hidden_bias.inplace(|c| c + inc_c);
    }

    /// [`Learner::step`] on the CPU, with the statistics computed in two halves side by side
    /// ([`Halves`]). The weights' increment is formed where the statistics are: the first
    /// half's thread computes `lr·(S_a − weight_cost·W)`, the second's `ΔW ← momentum·ΔW +
    /// lr·S_b`, and [`Learner::finish`] adds the two.
    fn step_in_halves(
        &mut self,
        halves: &mut Halves,
        rbm: &mut Rbm,
        data: &Tensor<2>,
        rows: Tensor<1, Int>,
        step: Step,
        sparsity: Option<&Sparsity>,
    ) {
        let weights = rbm.weights.clone();
        let inc_w = &mut self.inc_w;
        let (rest, units) = halves.statistics(
            &mut self.chains,
            rbm,
            data,
            rows,
            step.cd_k,
            step.lr,
            move |s_a| weight_cost(s_a, weights, step),
            move |s_b| inc_w.inplace(|inc| carried(inc, step.momentum, s_b)),
        );
        self.finish(rbm, Some(rest), units, step, sparsity);
    }

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
            order.clone().narrow(0, start, len)
        });
        match self.halves.take() {
            Some(mut halves) => {
                for rows in batches {
                    self.step_in_halves(&mut halves, rbm, data, rows, step, sparsity);
                }
                self.halves = Some(halves);
            }
            None => {
                for rows in batches {
                    let v0 = data.clone().select(0, rows);
                    self.step(rbm, v0, step, sparsity, &mut DeviceDraws);
                }
            }
        }
    }
}

/// `S − lr·weight_cost·W` (S already times lr).
fn weight_cost(s: Tensor<2>, weights: Tensor<2>, step: Step) -> Tensor<2> {
    let cost = step.lr * step.weight_cost;
    if cost > 0.0 {
        s - weights.mul_scalar(cost)
    } else {
        s
    }
}

/// `momentum·ΔW + S` (without S: `momentum·ΔW`).
fn carried(inc: Tensor<2>, momentum: f64, s: Option<Tensor<2>>) -> Tensor<2> {
    match s {
        Some(s) if momentum == 0.0 => s,
        Some(s) => inc.mul_scalar(momentum) + s,
        None => inc.mul_scalar(momentum),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{random_rbm, serial};
    use crate::rbm::tests::{assert_close, flat, flat1};
    use burn::tensor::Distribution;

    /// The update with the increment formed in the halves' threads as
    /// `lr·(S_a − wc·W) + (m·ΔW + lr·S_b)` equals the update from the summed statistics, over
    /// three mini-batches (momentum carried, weight cost, sparsity), for CD and persistent CD.
    #[test]
    fn update_in_halves_equals_the_update_from_the_summed_statistics() {
        let _guard = serial();
        let device = Device::flex();
        for persistent in [false, true] {
            let rbm = random_rbm(7, 5, 0.5, 11, &device);
            let cfg = RbmConfig {
                hidden: 5,
                persistent,
                chains: 6,
                ..Default::default()
            };
            let (mut split, mut whole) = (rbm.clone(), rbm);
            let mut learner_split = Learner::new(&split, &cfg, 1);
            let mut learner_whole = learner_split.clone();
            let mut halves_split = Halves::new([HostDraws::new(1), HostDraws::new(2)]);
            let mut halves_whole = halves_split.clone();
            let step = Step {
                lr: 0.1,
                momentum: 0.9,
                weight_cost: 0.01,
                cd_k: 2,
            };
            let sparsity = Sparsity {
                target: 0.1,
                decay: 0.9,
                cost: 0.5,
            };
            device.seed(6);
            for _ in 0..3 {
                let v0 = Tensor::<2>::random([9, 7], Distribution::Bernoulli(0.5), &device);
                let all = || Tensor::<1, Int>::arange(0..9, &device);
                learner_split.step_in_halves(
                    &mut halves_split,
                    &mut split,
                    &v0,
                    all(),
                    step,
                    Some(&sparsity),
                );

                let mut second = None;
                let (first, units) = halves_whole.statistics(
                    &mut learner_whole.chains,
                    &whole,
                    &v0,
                    all(),
                    step.cd_k,
                    step.lr,
                    |w| w,
                    |w| second = w,
                );
                let stats = CdStatistics {
                    delta_w: first + second.expect("two halves"),
                    delta_b: units.delta_b,
                    delta_c: units.delta_c,
                    hidden_data_mean: units.hidden_data_mean,
                    visible_data_mean: units.visible_data_mean,
                };
                learner_whole.apply(&mut whole, stats, step, Some(&sparsity));
            }
            assert_close(&flat(split.weights), &flat(whole.weights), 1e-6, "W");
            let (b, b_whole) = (flat1(split.visible_bias), flat1(whole.visible_bias));
            assert_close(&b, &b_whole, 1e-6, "b");
            let (c, c_whole) = (flat1(split.hidden_bias), flat1(whole.hidden_bias));
            assert_close(&c, &c_whole, 1e-6, "c");
        }
    }
}
