//! Mini-batch statistics on the CPU as two halves computed side by side.
//!
//! The statistics of a mini-batch are sums over its examples (and chains), so they can be
//! computed for two halves and added:
//!
//! ```text
//! ⟨v h⟩ over B examples = Σ_{halves} (1/B) Σ_{n ∈ half} v_n h_nᵀ
//! ```
//!
//! On the CPU backend the element-wise kernels (logistic, Bernoulli draws) run on one thread, and
//! a matmul of a 100-example batch spends part of its time handing work between threads. Each half
//! therefore runs on a thread pool of its own, with its own generator and its half of the
//! persistent chains, from the positive phase to its share of the statistics; a machine with two
//! cores runs each half on one thread with no hand-over at all. The random numbers do not depend
//! on the number of threads: always two halves, each with its own generator.

use std::sync::Arc;

use burn::tensor::kind::Basic;
use burn::tensor::{Int, Tensor};

use super::cd::{Counts, UnitStatistics};
use super::{HostDraws, NegativePhase, Rbm};

/// Two generators and two thread pools, one for each half of every mini-batch.
#[derive(Debug, Clone)]
pub(crate) struct Halves {
    draws: [HostDraws; 2],
    /// `None` when the pools could not be built: the halves then run one after the other (the
    /// same numbers, more slowly).
    pools: Option<Arc<[rayon::ThreadPool; 2]>>,
}

impl Halves {
    /// The two halves' generators.
    pub fn draws(&self) -> &[HostDraws; 2] {
        &self.draws
    }

    /// The two halves' generators, replaced (a resumed training's).
    pub fn set_draws(&mut self, draws: [HostDraws; 2]) {
        self.draws = draws;
    }

    /// `a` on the first half's pool while `b` runs on the second's.
    pub fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        join_on(self.pools.as_deref(), a, b);
    }

    /// Two halves drawing from `draws`, each on a pool of half the machine's threads (at least
    /// one).
    pub fn new(draws: [HostDraws; 2]) -> Halves {
        Halves {
            draws,
            pools: half_pools().map(Arc::new),
        }
    }

    /// The statistics of the mini-batch `rows` of `data` (each half gathers its rows in its own
    /// thread) with `cd_k` Gibbs steps (persistent CD when `chains` holds chains; each half
    /// advances its part of them in place). The weights' statistic `S_W = S_a + S_b` is handed
    /// over in its two parts, each in its half's thread: `S_a` to `first` (whose result is
    /// returned), `S_b` to `second`; the other statistics are the whole batch's. A batch too
    /// small to split (or too few chains) is one first part, and `second` gets `None`.
    #[allow(clippy::too_many_arguments)]
    pub fn statistics(
        &mut self,
        chains: &mut Option<ChainParts>,
        rbm: &Rbm,
        data: &Tensor<2>,
        rows: Tensor<1, Int>,
        cd_k: usize,
        first: impl FnOnce(Tensor<2>) -> Tensor<2> + Send,
        second: impl FnOnce(Option<Tensor<2>>) + Send,
    ) -> (Tensor<2>, UnitStatistics) {
        let n = rows.dims()[0];
        let Halves {
            draws: [a, b],
            pools,
        } = self;
        if n < 2 || matches!(chains, Some(ChainParts::Whole(_))) {
            let mut whole = chains.take().map(ChainParts::join);
            let v0 = data.clone().select(0, rows);
            let phases = rbm.phases(
                v0.clone(),
                cd_k,
                NegativePhase::from_chains(whole.as_mut()),
                a,
            );
            *chains = whole.map(ChainParts::split);
            let (w, units) = rbm.statistics_of(v0, phases).split();
            second(None);
            return (first(w), units);
        }
        let counts = Counts {
            examples: n,
            chains: chains.as_ref().map_or(n, ChainParts::rows),
        };
        let (ra, rb) = halves(rows);
        let (ca, cb) = match chains {
            Some(ChainParts::Halves(ca, cb)) => (Some(ca), Some(cb)),
            _ => (None, None),
        };
        let part = |rows: Tensor<1, Int>, chains: Option<&mut Tensor<2>>, draws: &mut HostDraws| {
            let v = data.clone().select(0, rows);
            let phases = rbm.phases(v.clone(), cd_k, NegativePhase::from_chains(chains), draws);
            rbm.part_statistics(v, phases, counts)
        };
        let (sa, sb) = join_on(
            pools.as_deref(),
            || {
                let (w, units) = part(ra, ca, a).split();
                (first(w), units)
            },
            || {
                let (w, units) = part(rb, cb, b).split();
                second(Some(w));
                units
            },
        );
        let ((w, units_a), units_b) = (sa, sb);
        (w, units_a.add(units_b))
    }
}

/// Persistent chains while an epoch is learned in halves: rows `0..C/2` and `C/2..C` as two
/// tensors of their own, each advanced by its half, so that no mini-batch joins them and splits
/// them again; [`ChainParts::join`] gives the chains back at the end of the epoch.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per epoch, moved once a mini-batch at most
pub(crate) enum ChainParts {
    /// Too few chains to split (C < 2).
    Whole(Tensor<2>),
    /// Rows `0..C/2` and `C/2..C`.
    Halves(Tensor<2>, Tensor<2>),
}

impl ChainParts {
    /// The chains in two parts (one when there are fewer than two).
    pub fn split(chains: Tensor<2>) -> ChainParts {
        if chains.dims()[0] < 2 {
            ChainParts::Whole(chains)
        } else {
            let (a, b) = halves(chains);
            ChainParts::Halves(a, b)
        }
    }

    /// The chains in one tensor, in their order.
    pub fn join(self) -> Tensor<2> {
        match self {
            ChainParts::Whole(c) => c,
            ChainParts::Halves(a, b) => Tensor::cat(vec![a, b], 0),
        }
    }

    /// How many chains.
    fn rows(&self) -> usize {
        match self {
            ChainParts::Whole(c) => c.dims()[0],
            ChainParts::Halves(a, b) => a.dims()[0] + b.dims()[0],
        }
    }
}

/// Two thread pools of half the machine's threads each (at least one); `None` when they cannot
/// be built.
pub(crate) fn half_pools() -> Option<[rayon::ThreadPool; 2]> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get() / 2)
        .max(1);
    let pool = |half: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("half{half}-{i}"))
            .build()
    };
    match (pool(0), pool(1)) {
        (Ok(a), Ok(b)) => Some([a, b]),
        _ => None,
    }
}

/// `f` on the first pool while `g` runs on the second; the calling thread waits.
fn join_on<A: Send, B: Send>(
    pools: Option<&[rayon::ThreadPool; 2]>,
    f: impl FnOnce() -> A + Send,
    g: impl FnOnce() -> B + Send,
) -> (A, B) {
    match pools {
        Some(pools) => {
            let mut b = None;
            let a = pools[1].in_place_scope(|s| {
                s.spawn(|_| b = Some(g()));
                pools[0].install(f)
            });
            (a, b.expect("the second closure ran"))
        }
        None => (f(), g()),
    }
}

/// Rows `0..n/2` and `n/2..n`.
fn halves<const D: usize, K: Basic>(t: Tensor<D, K>) -> (Tensor<D, K>, Tensor<D, K>) {
    let n = t.dims()[0];
    (t.clone().narrow(0, 0, n / 2), t.narrow(0, n / 2, n - n / 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{random_rbm, serial};
    use crate::eval::to_vec;
    use crate::rbm::cd::Phases;
    use crate::rbm::tests::{assert_close, flat, flat1};
    use burn::tensor::{Device, Distribution};

    /// The phases of two parts, stacked in order (what one pass over the whole batch would give,
    /// had it drawn the same numbers).
    fn stacked(a: Phases, b: Phases) -> Phases {
        Phases {
            ph_data: Tensor::cat(vec![a.ph_data, b.ph_data], 0),
            v_model: Tensor::cat(vec![a.v_model, b.v_model], 0),
            ph_model: Tensor::cat(vec![a.ph_model, b.ph_model], 0),
        }
    }

    /// The halves' summed statistics equal those of the whole batch computed in one piece from
    /// the same draws: rows 0..4 with the first generator (chains 0..2), rows 4..9 with the
    /// second (chains 2..5); the chains advance exactly as the two halves one after the other.
    #[test]
    fn halves_add_up_to_the_whole_batch() {
        let _guard = serial();
        let device = Device::flex();
        let rbm = random_rbm(7, 5, 1.0, 3, &device);
        device.seed(4);
        let v0 = Tensor::<2>::random([9, 7], Distribution::Bernoulli(0.5), &device);
        for persistent in [false, true] {
            let start = Tensor::<2>::random([5, 7], Distribution::Bernoulli(0.5), &device);
            let draws = [HostDraws::new(1), HostDraws::new(2)];
            let [mut a, mut b] = draws.clone();
            let mut split = Halves::new(draws);
            let mut chains = persistent.then(|| ChainParts::split(start.clone()));
            let mut second_w = None;
            let (first_w, got) = split.statistics(
                &mut chains,
                &rbm,
                &v0,
                Tensor::arange(0..9, &device),
                2,
                |w| w,
                |w| second_w = w,
            );

            let mut ca = start.clone().narrow(0, 0, 2);
            let mut cb = start.clone().narrow(0, 2, 3);
            let first = rbm.phases(
                v0.clone().narrow(0, 0, 4),
                2,
                NegativePhase::from_chains(persistent.then_some(&mut ca)),
                &mut a,
            );
            let second = rbm.phases(
                v0.clone().narrow(0, 4, 5),
                2,
                NegativePhase::from_chains(persistent.then_some(&mut cb)),
                &mut b,
            );
            let whole = rbm.statistics_of(v0.clone(), stacked(first, second));
            let close1 = |a, b, what| assert_close(&flat1(a), &flat1(b), 1e-6, what);
            let summed = first_w + second_w.expect("two halves");
            assert_close(&flat(summed), &flat(whole.delta_w), 1e-6, "delta_w");
            close1(got.delta_b, whole.delta_b, "delta_b");
            close1(got.delta_c, whole.delta_c, "delta_c");
            close1(got.hidden_data_mean, whole.hidden_data_mean, "hidden mean");
            close1(
                got.visible_data_mean,
                whole.visible_data_mean,
                "visible mean",
            );
            if persistent {
                let advanced = Tensor::cat(vec![ca, cb], 0);
                assert_eq!(to_vec(chains.unwrap().join()), to_vec(advanced));
            }
        }
    }

    /// A one-row mini-batch (an epoch's last, say) runs whole on the first generator, the
    /// chains joined for it and split again afterwards.
    #[test]
    fn a_one_row_batch_runs_whole_with_the_chains_joined() {
        let _guard = serial();
        let device = Device::flex();
        let rbm = random_rbm(7, 5, 1.0, 3, &device);
        device.seed(8);
        let v0 = Tensor::<2>::random([3, 7], Distribution::Bernoulli(0.5), &device);
        let start = Tensor::<2>::random([4, 7], Distribution::Bernoulli(0.5), &device);
        let mut split = Halves::new([HostDraws::new(1), HostDraws::new(2)]);
        let mut chains = Some(ChainParts::split(start.clone()));
        let mut second_w = Some(v0.clone());
        let rows = Tensor::arange(2..3, &device);
        let (got, _) = split.statistics(&mut chains, &rbm, &v0, rows, 1, |w| w, |w| second_w = w);

        let mut whole = start;
        let v = v0.narrow(0, 2, 1);
        let negative = NegativePhase::Persistent(&mut whole);
        let phases = rbm.phases(v.clone(), 1, negative, &mut HostDraws::new(1));
        let want = rbm.statistics_of(v, phases);
        assert_eq!(to_vec(got), to_vec(want.delta_w));
        assert!(second_w.is_none());
        let chains = chains.expect("chains kept");
        assert!(matches!(chains, ChainParts::Halves(..)));
        assert_eq!(to_vec(chains.join()), to_vec(whole));
    }

    /// Without pools the halves run one after the other and give the same numbers.
    #[test]
    fn halves_without_pools_give_the_same_statistics() {
        let _guard = serial();
        let device = Device::flex();
        let rbm = random_rbm(7, 5, 1.0, 3, &device);
        device.seed(5);
        let v0 = Tensor::<2>::random([8, 7], Distribution::Bernoulli(0.5), &device);
        let all = || Tensor::arange(0..8, &device);
        let draws = [HostDraws::new(3), HostDraws::new(4)];
        let mut pooled = Halves::new(draws.clone());
        let mut serial_halves = Halves { draws, pools: None };
        let (mut a_second, mut b_second) = (None, None);
        let (a, _) = pooled.statistics(&mut None, &rbm, &v0, all(), 1, |w| w, |w| a_second = w);
        let (b, _) =
            serial_halves.statistics(&mut None, &rbm, &v0, all(), 1, |w| w, |w| b_second = w);
        assert_eq!(to_vec(a), to_vec(b));
        assert_eq!(to_vec(a_second.unwrap()), to_vec(b_second.unwrap()));
        assert_eq!(join_on(pooled.pools.as_deref(), || 1, || 2), (1, 2));
    }
}
