//! Gibbs sampling of a batch of chains, each row of a [chains, n] state one chain. A sweep visits
//! every unclamped unit once and sets it from its conditional given the current state of all the
//! others:
//!
//! ```text
//! s_i ← 1 with probability σ(b_i + Σ_j W_ij s_j), else 0
//! ```
//!
//! * **Sequential:** one unit at a time in index order, each seeing the new states of the units
//!   updated before it (the original procedure).
//! * **Colour-parallel:** the unclamped units in the classes of a greedy colouring
//!   ([`super::greedy_colouring`]), one class at a time. Units of one class share no connection,
//!   so their conditionals do not involve each other and sampling them together is the same as
//!   sampling them one after another.
//!
//! Either way every update samples exactly from a conditional of p(s), so the chain leaves p(s)
//! (with the clamped units fixed: p of the rest given them) invariant.
//!
//! Which units are clamped depends on the [`Phase`]: in the clamped phase the visible units, in
//! the free phase the inputs of a conditional machine (none of an ordinary one).

use std::ops::Range;

use burn::tensor::{Tensor, TensorData};

use super::{Boltzmann, GibbsOrder, greedy_colouring};
use crate::rbm::Draws;
use crate::rbm::model::{bernoulli, sigmoid};

/// The two phases of learning, by what they clamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The visible units are clamped to data; only the hidden units are sampled.
    Clamped,
    /// Only the inputs (of a conditional machine) are clamped; every other unit is sampled.
    Free,
}

/// The groups of units a sweep updates, in order: single units (sequential) or colour classes.
#[derive(Debug, Clone)]
pub struct GibbsPlan {
    /// The units of each group.
    pub groups: Vec<Vec<usize>>,
    /// For groups of several units, their [1, n] 0/1 indicator.
    masks: Vec<Option<Tensor<2>>>,
}

impl Boltzmann {
    /// The units a phase samples: hidden units (clamped phase), or every unit after the inputs
    /// (free phase).
    pub fn free_units(&self, phase: Phase) -> Range<usize> {
        match phase {
            Phase::Clamped => self.visible()..self.units(),
            Phase::Free => self.inputs()..self.units(),
        }
    }

    /// The update order of a sweep in `phase`.
    pub fn gibbs_plan(&self, phase: Phase, order: GibbsOrder) -> GibbsPlan {
        let units: Vec<usize> = self.free_units(phase).collect();
        let groups = match order {
            GibbsOrder::Sequential => units.iter().map(|&i| vec![i]).collect(),
            GibbsOrder::Coloured => greedy_colouring(self.connections(), &units),
        };
        self.plan_from_groups(groups)
    }

    /// A sweep that updates the given groups of units in order, each group's units together
    /// (only right when no two units of a group are connected).
    pub fn plan_from_groups(&self, groups: Vec<Vec<usize>>) -> GibbsPlan {
        let groups: Vec<Vec<usize>> = groups.into_iter().filter(|g| !g.is_empty()).collect();
        let n = self.units();
        let device = self.device();
        let masks = groups
            .iter()
            .map(|g| {
                (g.len() > 1).then(|| {
                    let mut m = vec![0.0f32; n];
                    for &i in g {
                        m[i] = 1.0;
                    }
                    Tensor::from_data(TensorData::new(m, [1, n]), &device)
                })
            })
            .collect();
        GibbsPlan { groups, masks }
    }

    /// Samples the units of one group from their conditionals given the rest of `state`.
    fn update_group(
        &self,
        state: Tensor<2>,
        units: &[usize],
        mask: Option<&Tensor<2>>,
        draws: &mut dyn Draws,
    ) -> Tensor<2> {
        let chains = state.dims()[0];
        match mask {
            None => {
                let i = units[0];
                let input = state.clone().matmul(self.weights.clone().narrow(1, i, 1))
                    + self.bias.clone().narrow(0, i, 1).unsqueeze::<2>();
                let p = sigmoid(input);
                let u = draws.uniform(&p);
                state.slice_assign([0..chains, i..i + 1], bernoulli(p, u))
            }
            Some(m) => {
                let p = self.unit_probs(state.clone());
                let u = draws.uniform(&p);
                let new = bernoulli(p, u);
                let keep = m.clone().neg().add_scalar(1.0);
                state * keep + new * m.clone()
            }
        }
    }

    /// One sweep of `plan` over the chains in `state` ([chains, n]).
    pub fn sweep(&self, state: Tensor<2>, plan: &GibbsPlan, draws: &mut dyn Draws) -> Tensor<2> {
        plan.groups
            .iter()
            .zip(&plan.masks)
            .fold(state, |s, (g, m)| {
                self.update_group(s, g, m.as_ref(), draws)
            })
    }

    /// `sweeps` sweeps of `plan`.
    pub fn sweeps(
        &self,
        mut state: Tensor<2>,
        plan: &GibbsPlan,
        sweeps: usize,
        draws: &mut dyn Draws,
    ) -> Tensor<2> {
        for _ in 0..sweeps {
            state = self.sweep(state, plan, draws);
        }
        state
    }

    /// `chains` states with every unit on with probability 1/2.
    pub fn random_states(&self, chains: usize, draws: &mut dyn Draws) -> Tensor<2> {
        let half = Tensor::<2>::full([chains, self.units()], 0.5, &self.device());
        let u = draws.uniform(&half);
        bernoulli(half, u)
    }

    /// Random states (as [`Boltzmann::random_states`]) with the first units clamped to the
    /// columns of `clamped` ([chains, k]): one chain per row of `clamped`.
    pub fn clamped_states(&self, clamped: Tensor<2>, draws: &mut dyn Draws) -> Tensor<2> {
        let [chains, k] = clamped.dims();
        let rest = self.random_states(chains, draws);
        if k == 0 {
            return rest;
        }
        rest.slice_assign([0..chains, 0..k], clamped)
    }
}
