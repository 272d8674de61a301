//! One learning update of a Boltzmann machine (paper §2):
//!
//! ```text
//! ΔW_ij ← m·ΔW_ij + lr·(⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free − wc·W_ij)     (connected i ≠ j)
//! Δb_i  ← m·Δb_i  + lr·(⟨s_i⟩_clamped − ⟨s_i⟩_free)
//! W ← W + ΔW,   b ← b + Δb
//! ```
//!
//! * **Clamped phase:** one chain per example of the mini-batch, its visible units clamped to the
//!   example and its hidden units started at random and Gibbs-sampled for `clamped_sweeps` sweeps;
//!   the statistics are the binary states' products averaged over the last `average_sweeps`
//!   sweeps and the chains.
//! * **Free phase:** an ordinary machine samples every unit, in `free_chains` fresh chains from
//!   random states or in persistent chains kept across updates (`persistent`), for `free_sweeps`
//!   sweeps per update; a conditional machine runs one chain per example with its inputs clamped
//!   to the example's. Statistics as in the clamped phase.
//!
//! The products are masked, so unconnected pairs (and the diagonal) never get a weight. The
//! inputs of a conditional machine are clamped to the same values in both phases, so their
//! biases and the input–input weights get no gradient (only the weight cost).

use burn::tensor::Tensor;

use super::{Boltzmann, BoltzmannConfig, GibbsPlan, Phase};
use crate::rbm::Draws;

/// The statistics of one phase: `⟨s sᵀ⟩ ⊙ M` [n, n] and `⟨s⟩` [n] (also used for their
/// differences and the increments).
#[derive(Debug, Clone)]
pub struct Moments {
    pub pairs: Tensor<2>,
    pub units: Tensor<1>,
}

impl Moments {
    /// The masked second moments and the means of the rows of `states` ([chains, n]).
    pub fn of_states(states: &Tensor<2>, mask: &Tensor<2>) -> Moments {
        let chains = states.dims()[0] as f64;
        Moments {
            pairs: states
                .clone()
                .transpose()
                .matmul(states.clone())
                .div_scalar(chains)
                * mask.clone(),
            units: states.clone().mean_dim(0).squeeze_dim(0),
        }
    }

    /// Zeros for a machine of `n` units like `model`.
    pub fn zeros(model: &Boltzmann) -> Moments {
        Moments {
            pairs: model.weights.zeros_like(),
            units: model.bias.zeros_like(),
        }
    }

    fn plus(self, other: Moments) -> Moments {
        Moments {
            pairs: self.pairs + other.pairs,
            units: self.units + other.units,
        }
    }

    fn scaled(self, factor: f64) -> Moments {
        Moments {
            pairs: self.pairs.mul_scalar(factor),
            units: self.units.mul_scalar(factor),
        }
    }

    /// `self − other`.
    pub fn minus(self, other: Moments) -> Moments {
        self.plus(other.scaled(-1.0))
    }
}

impl Boltzmann {
    /// Runs `sweeps` sweeps of `plan` from `state` and returns the final state and the moments
    /// averaged over the last `average` sweeps.
    pub fn sample_moments(
        &self,
        mut state: Tensor<2>,
        plan: &GibbsPlan,
        sweeps: usize,
        average: usize,
        draws: &mut dyn Draws,
    ) -> (Tensor<2>, Moments) {
        let average = average.clamp(1, sweeps.max(1));
        state = self.sweeps(state, plan, sweeps.saturating_sub(average), draws);
        let mut sum = Moments::zeros(self);
        for _ in 0..average {
            state = self.sweep(state, plan, draws);
            sum = sum.plus(Moments::of_states(&state, &self.mask));
        }
        (state, sum.scaled(1.0 / average as f64))
    }
}

/// The learner's state across mini-batches: the increments (momentum), the persistent chains and
/// the sweep orders of both phases.
#[derive(Debug, Clone)]
pub struct BoltzmannLearner {
    /// ΔW and Δb.
    pub increments: Moments,
    /// The persistent free chains [free_chains, n] (`persistent: true`).
    pub persistent: Option<Tensor<2>>,
    /// The free-phase chains after the last update.
    pub last_free: Option<Tensor<2>>,
    clamped_plan: GibbsPlan,
    free_plan: GibbsPlan,
}

impl BoltzmannLearner {
    /// Zero increments, the sweep orders of `cfg.gibbs_order`, and (persistent) `free_chains`
    /// chains started from random states.
    pub fn new(model: &Boltzmann, cfg: &BoltzmannConfig, draws: &mut dyn Draws) -> Self {
        BoltzmannLearner {
            increments: Moments::zeros(model),
            persistent: (cfg.persistent && model.inputs() == 0)
                .then(|| model.random_states(cfg.free_chains, draws)),
            last_free: None,
            clamped_plan: model.gibbs_plan(Phase::Clamped, cfg.gibbs_order),
            free_plan: model.gibbs_plan(Phase::Free, cfg.gibbs_order),
        }
    }

    /// The clamped phase's statistics for the mini-batch `v` ([examples, visible]).
    pub fn clamped_phase(
        &self,
        model: &Boltzmann,
        v: Tensor<2>,
        cfg: &BoltzmannConfig,
        draws: &mut dyn Draws,
    ) -> Moments {
        let start = model.clamped_states(v, draws);
        let sweeps = if model.hidden() == 0 {
            1
        } else {
            cfg.clamped_sweeps
        };
        let average = cfg.average_sweeps.min(sweeps);
        model
            .sample_moments(start, &self.clamped_plan, sweeps, average, draws)
            .1
    }

    /// The free phase's statistics: persistent or fresh chains of an ordinary machine, or one
    /// chain per example of `v` with its inputs clamped for a conditional one.
    pub fn free_phase(
        &mut self,
        model: &Boltzmann,
        v: Tensor<2>,
        cfg: &BoltzmannConfig,
        draws: &mut dyn Draws,
    ) -> Moments {
        let start = if model.inputs() > 0 {
            model.clamped_states(v.narrow(1, 0, model.inputs()), draws)
        } else {
            match self.persistent.take() {
                Some(chains) => chains,
                None => model.random_states(cfg.free_chains, draws),
            }
        };
        let (end, moments) = model.sample_moments(
            start,
            &self.free_plan,
            cfg.free_sweeps,
            cfg.average_sweeps,
            draws,
        );
        if cfg.persistent && model.inputs() == 0 {
            self.persistent = Some(end.clone());
        }
        self.last_free = Some(end);
        moments
    }

    /// The statistics S = clamped − free of the mini-batch `v`.
    pub fn statistics(
        &mut self,
        model: &Boltzmann,
        v: Tensor<2>,
        cfg: &BoltzmannConfig,
        draws: &mut dyn Draws,
    ) -> Moments {
        let clamped = self.clamped_phase(model, v.clone(), cfg, draws);
        let free = self.free_phase(model, v, cfg, draws);
        clamped.minus(free)
    }

    /// One update from the mini-batch `v`: the statistics, then `Δθ ← m·Δθ + lr·(S − wc·W)` and
    /// `θ ← θ + Δθ`. Returns the mean |ΔW| over the connections.
    pub fn step(
        &mut self,
        model: &mut Boltzmann,
        v: Tensor<2>,
        cfg: &BoltzmannConfig,
        lr: f64,
        momentum: f64,
        draws: &mut dyn Draws,
    ) -> f64 {
        let s = self.statistics(model, v, cfg, draws);
        let pairs = if cfg.weight_cost > 0.0 {
            s.pairs - model.weights.clone().mul_scalar(cfg.weight_cost)
        } else {
            s.pairs
        };
        let dw = self.increments.pairs.clone().mul_scalar(momentum) + pairs.mul_scalar(lr);
        let db = self.increments.units.clone().mul_scalar(momentum) + s.units.mul_scalar(lr);
        model.weights = model.weights.clone() + dw.clone();
        model.bias = model.bias.clone() + db.clone();
        self.increments = Moments {
            pairs: dw.clone(),
            units: db,
        };
        let connections = model.connection_count();
        if connections == 0 {
            0.0
        } else {
            dw.abs().sum().into_scalar::<f32>() as f64 / (2 * connections) as f64
        }
    }
}
