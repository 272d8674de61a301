//! Learning an RBM by mini-batches: the statistics S of each mini-batch ([`super::cd`]), then the
//! update `Δθ ← m·Δθ + lr·(S − wc·θ)`, `θ ← θ + Δθ`, with an optional sparsity target
//! ([`super::update`]). An epoch is one pass through the data in a random order.
//!
//! A mini-batch is learned from in one of two ways, tested equal:
//!
//! * **whole** (every device; cuda and wgpu always): the statistics of the whole mini-batch, then
//!   [`MomentumUpdate::apply`] ([`Learner::step`]);
//! * **in halves** (the CPU, `flex`): the statistics of two halves side by side (`Halves`), each
//!   then W's update as one pass over memory on both threads ([`super::fused_update`]).

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::fused_update;
use super::halves::{ChainParts, Halves};
use super::model::bernoulli;
use super::update::{Increments, MomentumUpdate};
use super::{DeviceDraws, Draws, HostDraws, NegativePhase, Rbm, RbmConfig, Sparsity, VisibleUnits};
use crate::resume::{SavedState, StateError};

/// Learner state carried across mini-batches: momentum increments, persistent chains and the
/// running hidden activity for the sparsity target.
#[derive(Debug, Clone)]
pub struct Learner {
    /// Δθ of W, b and c.
    increments: Increments,
    /// Persistent chains (visible states), when learning by persistent CD.
    pub chains: Option<Tensor<2>>,
    /// Mini-batches learned from in two halves side by side, each with a host generator of its
    /// own ([`Halves`]); `None`: whole, with the device's generator.
    halves: Option<Halves>,
    /// The generator of the example order (and of the chains' start).
    order_rng: HostDraws,
    /// Running estimate q of each hidden unit's mean activity (sparsity target).
    pub hidden_activity: Option<Tensor<1>>,
}

/// Hyper-parameters of one mini-batch: the update's and the number of Gibbs steps.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub update: MomentumUpdate,
    pub cd_k: usize,
}

impl Learner {
    /// Zero increments; `cfg.chains` persistent chains started from random binary states
    /// (Gaussian: from the visible biases plus unit noise) when `cfg.persistent`. On the CPU
    /// device mini-batches are learned from in halves. Every random number it uses on the CPU
    /// comes from generators seeded with `seed`.
    pub fn new(rbm: &Rbm, cfg: &RbmConfig, seed: u64) -> Learner {
        Learner::build(rbm, cfg, seed, rbm.device() == Device::flex())
    }

    /// [`Learner::new`] learning from whole mini-batches with the device's generator, as on cuda
    /// and wgpu, whatever the device (the CPU too).
    pub fn whole_batches(rbm: &Rbm, cfg: &RbmConfig, seed: u64) -> Learner {
        Learner::build(rbm, cfg, seed, false)
    }

    fn build(rbm: &Rbm, cfg: &RbmConfig, seed: u64, in_halves: bool) -> Learner {
        let device = rbm.device();
        let (v, h) = (rbm.visible(), rbm.hidden());
        let (mut order_rng, gibbs_rngs) = generators(seed);
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
            increments: Increments::zeros(rbm),
            chains,
            hidden_activity: None,
            halves: in_halves.then(|| Halves::new(gibbs_rngs)),
            order_rng,
        }
    }

    /// Adds what this learner carries to the next epoch to `s`: the increments Δθ, the
    /// persistent chains, the running hidden activity and the host generators' states.
    pub fn save(&self, s: &mut SavedState) {
        s.tensor("increment_W", &self.increments.weights);
        s.tensor("increment_b_visible", &self.increments.visible_bias);
        s.tensor("increment_c_hidden", &self.increments.hidden_bias);
        if let Some(c) = &self.chains {
            s.tensor("chains", c);
        }
        if let Some(q) = &self.hidden_activity {
            s.tensor("hidden_activity", q);
        }
        s.value("order_rng", self.order_rng.state());
        if let Some(h) = &self.halves {
            s.value("halves_rng", h.draws().each_ref().map(HostDraws::state));
        }
    }

    /// Takes back what [`Learner::save`] wrote, checking every shape against this learner's.
    pub fn restore(&mut self, s: &SavedState) -> Result<(), StateError> {
        let inc = &mut self.increments;
        inc.weights = s.tensor_like("increment_W", &inc.weights)?;
        inc.visible_bias = s.tensor_like("increment_b_visible", &inc.visible_bias)?;
        inc.hidden_bias = s.tensor_like("increment_c_hidden", &inc.hidden_bias)?;
        if let Some(c) = &mut self.chains {
            *c = s.tensor_like("chains", c)?;
        }
        if s.has("hidden_activity") {
            let h = inc.hidden_bias.dims()[0];
            let device = inc.hidden_bias.device();
            self.hidden_activity = Some(s.tensor_of("hidden_activity", [h], &device)?);
        }
        self.order_rng = HostDraws::from_state(s.get("order_rng")?);
        if let Some(h) = &mut self.halves {
            let [a, b]: [[u64; 4]; 2] = s.get("halves_rng")?;
            h.set_draws([HostDraws::from_state(a), HostDraws::from_state(b)]);
        }
        Ok(())
    }

    /// One learning step on the whole mini-batch `v0`: its statistics S (the sparsity penalty
    /// added), then `Δθ ← m·Δθ + lr·(S − wc·θ)`, `θ ← θ + Δθ`.
    pub fn step(
        &mut self,
        rbm: &mut Rbm,
        v0: Tensor<2>,
        step: Step,
        sparsity: Option<&Sparsity>,
        draws: &mut dyn Draws,
    ) {
        let negative = NegativePhase::from_chains(self.chains.as_mut());
        let s = rbm.cd_statistics(v0, step.cd_k, negative, draws);
        let s = match sparsity {
            Some(sp) => sp.penalize(&mut self.hidden_activity, s),
            None => s,
        };
        step.update.apply(rbm, &mut self.increments, s);
    }

    /// [`Learner::step`] on the mini-batch `rows` of `data` in two halves side by side
    /// ([`Halves`]), W's rule as one pass over memory on the halves' threads
    /// ([`fused_update`]), the biases' by [`MomentumUpdate::apply_to_biases`]. The persistent
    /// chains are `chains`, in the halves' parts, for the whole epoch.
    #[allow(clippy::too_many_arguments)]
    fn step_in_halves(
        &mut self,
        halves: &mut Halves,
        chains: &mut Option<ChainParts>,
        rbm: &mut Rbm,
        data: &Tensor<2>,
        rows: Tensor<1, Int>,
        step: Step,
        sparsity: Option<&Sparsity>,
    ) {
        let mut s_b = None;
        let (s_a, units) =
            halves.statistics(chains, rbm, data, rows, step.cd_k, |s| s, |s| s_b = s);
        let mut parts: Vec<Tensor<2>> = std::iter::once(s_a).chain(s_b).collect();
        let units = match sparsity {
            Some(sp) => {
                let (units, w) = sp.penalize_units(&mut self.hidden_activity, units);
                parts.push(w);
                units
            }
            None => units,
        };
        let join = |a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)| halves.join(a, b);
        fused_update::update_weights(
            &step.update,
            &mut self.increments,
            &mut rbm.weights,
            parts,
            join,
        );
        step.update
            .apply_to_biases(rbm, &mut self.increments, units);
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
        self.epoch_with(rbm, data, batch_size, step, sparsity, &mut DeviceDraws);
    }

    /// [`Learner::epoch`] with whole mini-batches drawing from `draws` (halves draw from their
    /// own generators).
    fn epoch_with(
        &mut self,
        rbm: &mut Rbm,
        data: &Tensor<2>,
        batch_size: usize,
        step: Step,
        sparsity: Option<&Sparsity>,
        draws: &mut dyn Draws,
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
                let mut chains = self.chains.take().map(ChainParts::split);
                for rows in batches {
                    let c = &mut chains;
                    self.step_in_halves(&mut halves, c, rbm, data, rows, step, sparsity);
                }
                self.chains = chains.map(ChainParts::join);
                self.halves = Some(halves);
            }
            None => {
                for rows in batches {
                    let v0 = data.clone().select(0, rows);
                    self.step(rbm, v0, step, sparsity, draws);
                }
            }
        }
    }
}

/// The generators seeded with `seed`: the example order's (and the chains' start), and the two
/// halves' Gibbs steps.
fn generators(seed: u64) -> (HostDraws, [HostDraws; 2]) {
    let mut order_rng = HostDraws::new(seed);
    let gibbs_rngs = [order_rng.split(), order_rng.split()];
    (order_rng, gibbs_rngs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{random_rbm, serial};
    use crate::rbm::CdStatistics;
    use crate::rbm::tests::{assert_close, flat, flat1, gaussian_rbm};
    use burn::tensor::Distribution;

    fn a_step() -> Step {
        Step {
            update: MomentumUpdate {
                lr: 0.1,
                momentum: 0.9,
                weight_cost: 0.01,
            },
            cd_k: 2,
        }
    }

    fn a_sparsity() -> Sparsity {
        Sparsity {
            target: 0.1,
            decay: 0.9,
            cost: 0.5,
        }
    }

    fn assert_same_parameters(a: &Rbm, b: &Rbm, what: &str) {
        let close = |x: Vec<f64>, y: Vec<f64>, p: &str| {
            assert_close(&x, &y, 1e-5, &format!("{what}: {p}"));
        };
        close(flat(a.weights.clone()), flat(b.weights.clone()), "W");
        let (ba, bb) = (a.visible_bias.clone(), b.visible_bias.clone());
        close(flat1(ba), flat1(bb), "b");
        let (ca, cb) = (a.hidden_bias.clone(), b.hidden_bias.clone());
        close(flat1(ca), flat1(cb), "c");
    }

    /// The fast path (the halves' statistics, W's rule in one pass on their threads) equals [`MomentumUpdate::apply`] on the summed statistics `S_a + S_b`, over three
    /// mini-batches (momentum carried, weight cost, sparsity), for CD and persistent CD.
    #[test]
    fn fast_path_in_halves_equals_the_rule_on_the_summed_statistics() {
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
            let (mut fast, mut plain) = (rbm.clone(), rbm);
            let mut learner_fast = Learner::new(&fast, &cfg, 1);
            let mut learner_plain = learner_fast.clone();
            let mut halves_fast = Halves::new([HostDraws::new(1), HostDraws::new(2)]);
            let mut halves_plain = halves_fast.clone();
            let (step, sparsity) = (a_step(), a_sparsity());
            let mut chains_fast = learner_fast.chains.take().map(ChainParts::split);
            let mut chains_plain = learner_plain.chains.take().map(ChainParts::split);
            device.seed(6);
            for _ in 0..3 {
                let v0 = Tensor::<2>::random([9, 7], Distribution::Bernoulli(0.5), &device);
                let all = || Tensor::<1, Int>::arange(0..9, &device);
                learner_fast.step_in_halves(
                    &mut halves_fast,
                    &mut chains_fast,
                    &mut fast,
                    &v0,
                    all(),
                    step,
                    Some(&sparsity),
                );

                let mut s_b = None;
                let (s_a, units) = halves_plain.statistics(
                    &mut chains_plain,
                    &plain,
                    &v0,
                    all(),
                    step.cd_k,
                    |s_a| s_a,
                    |s| s_b = s,
                );
                let s = CdStatistics {
                    delta_w: s_a + s_b.expect("two halves"),
                    delta_b: units.delta_b,
                    delta_c: units.delta_c,
                    hidden_data_mean: units.hidden_data_mean,
                    visible_data_mean: units.visible_data_mean,
                };
                let s = sparsity.penalize(&mut learner_plain.hidden_activity, s);
                step.update
                    .apply(&mut plain, &mut learner_plain.increments, s);
            }
            assert_same_parameters(&fast, &plain, &format!("persistent {persistent}"));
            let (a, b) = (
                chains_fast.map(ChainParts::join),
                chains_plain.map(ChainParts::join),
            );
            assert_eq!(a.map(flat), b.map(flat), "persistent {persistent}: chains");
        }
    }

    /// Draws for a whole mini-batch that are the halves' draws stacked: the first r/2 rows of
    /// each request from the first generator, the other rows from the second (what [`Halves`]
    /// draws for rows `0..r/2` and `r/2..r` of the batch, or of the persistent chains).
    struct StackedDraws([HostDraws; 2]);

    impl StackedDraws {
        fn stack(
            &mut self,
            like: &Tensor<2>,
            draw: impl Fn(&mut HostDraws, &Tensor<2>) -> Tensor<2>,
        ) -> Tensor<2> {
            let [r, k] = like.dims();
            let device = like.device();
            let [a, b] = &mut self.0;
            let top = draw(a, &Tensor::zeros([r / 2, k], &device));
            let bottom = draw(b, &Tensor::zeros([r - r / 2, k], &device));
            Tensor::cat(vec![top, bottom], 0)
        }
    }

    impl Draws for StackedDraws {
        fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2> {
            self.stack(like, |d, t| d.uniform(t))
        }
        fn normal(&mut self, like: &Tensor<2>) -> Tensor<2> {
            self.stack(like, |d, t| d.normal(t))
        }
    }

    /// The whole-batch path of cuda and wgpu ([`Learner::whole_batches`], [`Learner::step`]),
    /// run here on the CPU, learns exactly what the CPU's halves learn when it is given the
    /// halves' random numbers: two epochs of mini-batches of 4 (momentum, weight cost,
    /// sparsity), for binary CD, binary persistent CD and Gaussian visible units.
    #[test]
    fn whole_batches_learn_what_the_halves_learn_from_the_same_draws() {
        let _guard = serial();
        let device = Device::flex();
        let binary = random_rbm(7, 5, 0.5, 11, &device);
        let (gaussian, _) = gaussian_rbm(&device);
        for (rbm, persistent, what) in [
            (binary.clone(), false, "binary CD"),
            (binary, true, "binary PCD"),
            (gaussian, false, "Gaussian CD"),
        ] {
            let cfg = RbmConfig {
                hidden: rbm.hidden(),
                persistent,
                chains: 6,
                ..Default::default()
            };
            let visible = rbm.visible();
            let (mut in_halves, mut whole) = (rbm.clone(), rbm);
            let mut learner_halves = Learner::new(&in_halves, &cfg, 3);
            let mut learner_whole = Learner::whole_batches(&whole, &cfg, 3);
            assert!(learner_halves.halves.is_some() && learner_whole.halves.is_none());
            let mut draws = StackedDraws(generators(3).1);
            device.seed(7);
            let data = Tensor::<2>::random([12, visible], Distribution::Bernoulli(0.5), &device);
            let (step, sparsity) = (a_step(), a_sparsity());
            for _ in 0..2 {
                learner_halves.epoch(&mut in_halves, &data, 4, step, Some(&sparsity));
                learner_whole.epoch_with(&mut whole, &data, 4, step, Some(&sparsity), &mut draws);
            }
            assert_same_parameters(&in_halves, &whole, what);
            if persistent {
                let (a, b) = (learner_halves.chains, learner_whole.chains);
                assert_eq!(flat(a.unwrap()), flat(b.unwrap()), "{what}: chains");
            }
        }
    }
}
