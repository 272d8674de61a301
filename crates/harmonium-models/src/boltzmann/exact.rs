//! Exact quantities of small Boltzmann machines by enumeration, on the host in f64.
//!
//! With some units fixed (clamped) and the others, F, enumerated,
//!
//! ```text
//! log Σ_{s_F} e^{−E(s)}                       (F = all units: log Z)
//! log p*(v)   = log Σ_h e^{−E(v,h)},            log p(v) = log p*(v) − log Z
//! log p(y|x)  = log Σ_h e^{−E(x,y,h)} − log Σ_{y',h} e^{−E(x,y',h)}
//! ⟨s_i s_j⟩   = Σ_{s_F} p(s_F | clamped) s_i s_j
//! ```
//!
//! The states of F are visited in Gray-code order: consecutive states differ in one unit u, and
//! flipping u from 0 to 1 changes −E by its total input `b_u + Σ_j W_uj s_j`, so each state costs
//! O(n). At most 2^24 states are visited; more is [`BoltzmannError::TooManyUnits`].

use std::collections::BTreeMap;

use burn::tensor::Tensor;

use super::config::MAX_EXACT_UNITS;
use super::{Boltzmann, BoltzmannError, Phase};
use crate::eval::to_vec;

/// Exact statistics of a phase: `pairs[i][j] = ⟨s_i s_j⟩` for every pair (unmasked; the diagonal
/// is ⟨s_i⟩) and `units[i] = ⟨s_i⟩`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactMoments {
    pub pairs: Vec<Vec<f64>>,
    pub units: Vec<f64>,
}

impl ExactMoments {
    fn zeros(n: usize) -> Self {
        ExactMoments {
            pairs: vec![vec![0.0; n]; n],
            units: vec![0.0; n],
        }
    }

    fn add_scaled(&mut self, other: &ExactMoments, factor: f64) {
        for (a, b) in self
            .pairs
            .iter_mut()
            .flatten()
            .zip(other.pairs.iter().flatten())
        {
            *a += factor * b;
        }
        for (a, b) in self.units.iter_mut().zip(&other.units) {
            *a += factor * b;
        }
    }
}

/// The parameters of a machine read back as f64.
#[derive(Debug, Clone)]
pub(crate) struct HostMachine {
    pub n: usize,
    /// W row-major, [n · n].
    pub w: Vec<f64>,
    pub b: Vec<f64>,
}

impl HostMachine {
    pub fn of(model: &Boltzmann) -> HostMachine {
        let f64s = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
        HostMachine {
            n: model.units(),
            w: f64s(to_vec(model.weights.clone())),
            b: f64s(to_vec(model.bias.clone())),
        }
    }

    /// −E(s) = b·s + ½ sᵀWs.
    pub fn neg_energy(&self, s: &[f64]) -> f64 {
        let mut e = 0.0;
        for i in 0..self.n {
            if s[i] != 0.0 {
                e += s[i] * (self.b[i] + 0.5 * self.input_from_others(s, i));
            }
        }
        e
    }

    /// `Σ_j W_ij s_j`.
    fn input_from_others(&self, s: &[f64], i: usize) -> f64 {
        let row = &self.w[i * self.n..(i + 1) * self.n];
        row.iter().zip(s).map(|(w, s)| w * s).sum()
    }

    /// Calls `visit(state, −E(state))` for every assignment of the units `free`, the others as
    /// in `base`, in Gray-code order.
    pub fn for_each_state(&self, free: &[usize], base: &[f64], mut visit: impl FnMut(&[f64], f64)) {
        let mut s = base.to_vec();
        for &u in free {
            s[u] = 0.0;
        }
        let mut e = self.neg_energy(&s);
        visit(&s, e);
        for k in 1..1usize << free.len() {
            let u = free[k.trailing_zeros() as usize];
            let field = self.b[u] + self.input_from_others(&s, u);
            if s[u] == 0.0 {
                s[u] = 1.0;
                e += field;
            } else {
                s[u] = 0.0;
                e -= field;
            }
            visit(&s, e);
        }
    }

    /// `log Σ_{s_free} e^{−E(s)}`.
    pub fn log_sum(&self, free: &[usize], base: &[f64]) -> f64 {
        let mut values = Vec::with_capacity(1 << free.len());
        self.for_each_state(free, base, |_, e| values.push(e));
        log_sum_exp(&values)
    }

    /// `log Σ_{s_free} e^{−E(s)}` and the moments under `p(s_free | the rest as in base)`.
    pub fn moments(&self, free: &[usize], base: &[f64]) -> (f64, ExactMoments) {
        let mut values = Vec::with_capacity(1 << free.len());
        self.for_each_state(free, base, |_, e| values.push(e));
        let log_sum = log_sum_exp(&values);
        let mut m = ExactMoments::zeros(self.n);
        let mut k = 0;
        let mut on = Vec::with_capacity(self.n);
        self.for_each_state(free, base, |s, e| {
            debug_assert_eq!(e.to_bits(), values[k].to_bits());
            let p = (values[k] - log_sum).exp();
            k += 1;
            on.clear();
            on.extend((0..self.n).filter(|&i| s[i] != 0.0));
            for &i in &on {
                m.units[i] += p;
                for &j in &on {
                    m.pairs[i][j] += p;
                }
            }
        });
        (log_sum, m)
    }
}

/// `log Σ exp(x)` in f64.
pub(crate) fn log_sum_exp(xs: &[f64]) -> f64 {
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + xs.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// The rows of a [examples, k] tensor as f64 vectors.
pub(crate) fn host_rows(t: &Tensor<2>) -> Vec<Vec<f64>> {
    let k = t.dims()[1];
    let values = to_vec(t.clone());
    if k == 0 {
        return vec![Vec::new(); t.dims()[0]];
    }
    values
        .chunks(k)
        .map(|r| r.iter().map(|&x| f64::from(x)).collect())
        .collect()
}

/// The entropy (nats) of the empirical distribution of the rows of `data`, of their columns after
/// the first `inputs` given those first ones: `−Σ_{x,y} p(x,y) log p(y|x)` (`inputs` = 0: the
/// entropy of the rows). The best mean log-likelihood any model can reach on `data` is minus it.
pub fn empirical_entropy(data: &Tensor<2>, inputs: usize) -> f64 {
    let rows = host_rows(data);
    let key = |r: &[f64]| r.iter().map(|&x| (x > 0.5) as u8).collect::<Vec<u8>>();
    let mut joint: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let mut given: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for r in &rows {
        *joint.entry(key(r)).or_default() += 1;
        *given.entry(key(&r[..inputs])).or_default() += 1;
    }
    let n = rows.len() as f64;
    joint
        .iter()
        .map(|(k, &c)| {
            let p_xy = c as f64 / n;
            let p_x = given[&k[..inputs]] as f64 / n;
            -p_xy * (p_xy / p_x).ln()
        })
        .sum()
}

fn check_units(units: usize, max_units: usize) -> Result<(), BoltzmannError> {
    let max = max_units.min(MAX_EXACT_UNITS);
    if units > max {
        Err(BoltzmannError::TooManyUnits { units, max })
    } else {
        Ok(())
    }
}

impl Boltzmann {
    /// Whether every state of this machine can be enumerated within `max_units`.
    pub fn is_enumerable(&self, max_units: usize) -> bool {
        self.units() <= max_units.min(MAX_EXACT_UNITS)
    }

    /// Exact log Z (every unit enumerated; at most `max_units`).
    pub fn exact_log_partition(&self, max_units: usize) -> Result<f64, BoltzmannError> {
        check_units(self.units(), max_units)?;
        let all: Vec<usize> = (0..self.units()).collect();
        Ok(HostMachine::of(self).log_sum(&all, &vec![0.0; self.units()]))
    }

    /// Exact `log p*(v) = log Σ_h e^{−E(v,h)}` of each row of `v` (hidden units enumerated).
    pub fn exact_log_unnormalized(
        &self,
        v: &Tensor<2>,
        max_units: usize,
    ) -> Result<Vec<f64>, BoltzmannError> {
        self.check_columns("the data", v)?;
        self.log_sums(v, self.visible(), max_units)
    }

    /// For each row, `log Σ e^{−E}` over the units after the first `clamp`, those clamped to the
    /// row's first `clamp` values.
    fn log_sums(
        &self,
        v: &Tensor<2>,
        clamp: usize,
        max_units: usize,
    ) -> Result<Vec<f64>, BoltzmannError> {
        check_units(self.units() - clamp, max_units)?;
        let host = HostMachine::of(self);
        let free: Vec<usize> = (clamp..self.units()).collect();
        Ok(host_rows(v)
            .iter()
            .map(|r| {
                let mut base = vec![0.0; self.units()];
                base[..clamp].copy_from_slice(&r[..clamp]);
                host.log_sum(&free, &base)
            })
            .collect())
    }

    /// Exact mean `log p(v)` over the rows of `v` (nats per example): the visible units jointly,
    /// inputs included.
    pub fn exact_mean_log_likelihood(
        &self,
        v: &Tensor<2>,
        max_units: usize,
    ) -> Result<f64, BoltzmannError> {
        let log_z = self.exact_log_partition(max_units)?;
        let values = self.exact_log_unnormalized(v, max_units)?;
        Ok(values.iter().sum::<f64>() / values.len() as f64 - log_z)
    }

    /// Exact `log p(y | x)` of each row of `v` = (x, y) for a conditional machine: the outputs
    /// given the inputs, hidden units summed out (needs outputs + hidden ≤ `max_units`).
    pub fn exact_conditional_log_likelihood(
        &self,
        v: &Tensor<2>,
        max_units: usize,
    ) -> Result<Vec<f64>, BoltzmannError> {
        self.check_columns("the data", v)?;
        let joint = self.log_sums(v, self.visible(), max_units)?;
        let given = self.log_sums(v, self.inputs(), max_units)?;
        Ok(joint.iter().zip(&given).map(|(a, b)| a - b).collect())
    }

    /// The mean exact log-likelihood the machine is trained for: `⟨log p(v)⟩` of an ordinary
    /// machine, `⟨log p(y | x)⟩` of a conditional one.
    pub fn exact_mean_loglik(
        &self,
        v: &Tensor<2>,
        max_units: usize,
    ) -> Result<f64, BoltzmannError> {
        if self.inputs() == 0 {
            self.exact_mean_log_likelihood(v, max_units)
        } else {
            let values = self.exact_conditional_log_likelihood(v, max_units)?;
            Ok(values.iter().sum::<f64>() / values.len() as f64)
        }
    }

    /// Whether [`Boltzmann::exact_mean_loglik`] can enumerate within `max_units`.
    pub fn loglik_is_enumerable(&self, max_units: usize) -> bool {
        let units = if self.inputs() == 0 {
            self.units()
        } else {
            self.units() - self.inputs()
        };
        units <= max_units.min(MAX_EXACT_UNITS)
    }

    /// The exact statistics of a phase on `data` ([examples, visible]): clamped, the mean over
    /// the examples of the moments under p(h | v); free, the moments under p(s) (or, for a
    /// conditional machine, their mean over the examples under p(y, h | x)).
    pub fn exact_moments(
        &self,
        phase: Phase,
        data: &Tensor<2>,
        max_units: usize,
    ) -> Result<ExactMoments, BoltzmannError> {
        self.check_columns("the data", data)?;
        let free: Vec<usize> = self.free_units(phase).collect();
        let clamp = self.free_units(phase).start;
        check_units(free.len(), max_units)?;
        let host = HostMachine::of(self);
        let n = self.units();
        if clamp == 0 {
            return Ok(host.moments(&free, &vec![0.0; n]).1);
        }
        let rows = host_rows(data);
        let mut mean = ExactMoments::zeros(n);
        for r in &rows {
            let mut base = vec![0.0; n];
            base[..clamp].copy_from_slice(&r[..clamp]);
            mean.add_scaled(&host.moments(&free, &base).1, 1.0 / rows.len() as f64);
        }
        Ok(mean)
    }

    /// The exact distribution `p(y | x)` of the outputs given the inputs `x` (one value per
    /// input unit), over the 2^outputs outcomes: outcome k has output unit j on when bit j of k
    /// is 1.
    pub fn exact_output_distribution(
        &self,
        x: &[f64],
        max_units: usize,
    ) -> Result<Vec<f64>, BoltzmannError> {
        if x.len() != self.inputs() {
            return Err(BoltzmannError::Shape {
                what: "values of the inputs".into(),
                expected: self.inputs(),
                got: x.len(),
            });
        }
        let free: Vec<usize> = self.free_units(Phase::Free).collect();
        check_units(free.len(), max_units)?;
        let host = HostMachine::of(self);
        let mut base = vec![0.0; self.units()];
        base[..x.len()].copy_from_slice(x);
        let log_sum = host.log_sum(&free, &base);
        let (inputs, outputs) = (self.inputs(), self.outputs());
        let mut dist = vec![0.0; 1 << outputs];
        host.for_each_state(&free, &base, |s, e| {
            let k = (0..outputs).fold(0, |k, j| k | ((s[inputs + j] != 0.0) as usize) << j);
            dist[k] += (e - log_sum).exp();
        });
        Ok(dist)
    }
}
