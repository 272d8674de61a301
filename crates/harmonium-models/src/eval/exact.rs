//! Exact log partition function and log-likelihood of a small RBM, by enumerating every state of
//! its smaller layer (at most 2^n states, n ≤ `max_units`).
//!
//! * Enumerating the visible layer (binary units): `log Z = log Σ_v e^{−F(v)}`.
//! * Enumerating the hidden layer: the visible units are summed (binary) or integrated (Gaussian)
//!   out analytically. With `a = W h` (a_i = Σ_j W_ij h_j):
//!   binary   `log Z = log Σ_h exp(c·h + Σ_i log(1 + e^{b_i + a_i}))`,
//!   Gaussian `log Z = log Σ_h exp(c·h + Σ_i (b_i a_i/σ_i + a_i²/2)) + Σ_i log(√(2π) σ_i)`.
//!
//! The states are processed in batches of tensor ops; the log-sum-exp is accumulated in f64 on
//! the host. The log-likelihood of data is then `⟨log p(v)⟩ = −⟨F(v)⟩ − log Z`.
//! [`log_partition_while`] asks its `keep_going` before each batch and stops when told.

use burn::tensor::{Device, Tensor, TensorData};

use super::{EvalError, Interrupted, LogSumExp, check, metrics, never_stop, to_vec};
use crate::rbm::{Rbm, VisibleUnits, softplus};

/// Largest number of states processed in one batch.
const STATES_PER_BATCH: usize = 1 << 14;

/// Every binary vector of length `n` numbered `start..start + count`, as rows (bit j of the
/// number is unit j).
pub fn binary_states(n: usize, start: usize, count: usize, device: &Device) -> Tensor<2> {
    let mut values = Vec::with_capacity(count * n);
    for s in start..start + count {
        values.extend((0..n).map(|j| ((s >> j) & 1) as f32));
    }
    Tensor::from_data(TensorData::new(values, [count, n]), device)
}

/// log Z by enumerating the smaller layer; an error when that layer has more than `max_units`
/// units (or, for Gaussian visible units, when the hidden layer does).
pub fn log_partition(rbm: &Rbm, max_units: usize) -> Result<f64, EvalError> {
    log_partition_while(rbm, max_units, &never_stop)
}

/// [`log_partition`] that stops when asked: `keep_going` is called before each batch of 2^14
/// states, and once it returns `false` the result is [`EvalError::Interrupted`].
pub fn log_partition_while(
    rbm: &Rbm,
    max_units: usize,
    keep_going: &dyn Fn() -> bool,
) -> Result<f64, EvalError> {
    let (visible, hidden) = (rbm.visible(), rbm.hidden());
    let too_many = EvalError::TooManyUnits {
        visible,
        hidden,
        max: max_units.min(30),
    };
    let enumerate_visible = rbm.is_binary() && visible <= hidden && visible <= max_units;
    if enumerate_visible {
        Ok(log_sum_exp_over_states(
            visible,
            &rbm.device(),
            |v| rbm.free_energy(v).neg(),
            keep_going,
        )?)
    } else if hidden <= max_units && hidden <= 30 {
        let constant = match &rbm.visible_units {
            VisibleUnits::Binary => 0.0,
            VisibleUnits::Gaussian { sigma } => {
                let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
                let log_sigma: f64 = match sigma {
                    Some(s) => to_vec(s.clone()).iter().map(|&x| (x as f64).ln()).sum(),
                    None => 0.0,
                };
                visible as f64 * half_log_2pi + log_sigma
            }
        };
        let sum = log_sum_exp_over_states(
            hidden,
            &rbm.device(),
            |h| hidden_state_term(rbm, h),
            keep_going,
        )?;
        Ok(sum + constant)
    } else {
        Err(too_many)
    }
}

/// `log Σ_v e^{−E(v,h)}` for each hidden state h (rows), less the Gaussian constant.
fn hidden_state_term(rbm: &Rbm, h: Tensor<2>) -> Tensor<1> {
    let bias_term: Tensor<1> = h
        .clone()
        .matmul(rbm.hidden_bias.clone().unsqueeze_dim(1))
        .squeeze_dim(1);
    let a = h.matmul(rbm.weights.clone().transpose()); // [states, visible]
    let b: Tensor<2> = rbm.visible_bias.clone().unsqueeze();
    let visible_term = match &rbm.visible_units {
        VisibleUnits::Binary => softplus(a + b),
        VisibleUnits::Gaussian { sigma } => {
            let ab = match sigma {
                Some(s) => a.clone() * b.div(s.clone().unsqueeze()),
                None => a.clone() * b,
            };
            ab + a.square().mul_scalar(0.5)
        }
    };
    bias_term + visible_term.sum_dim(1).squeeze_dim(1)
}

/// `log Σ_s exp(f(s))` over all 2^n binary states s, in batches; `keep_going` is asked before
/// each batch.
fn log_sum_exp_over_states(
    n: usize,
    device: &Device,
    f: impl Fn(Tensor<2>) -> Tensor<1>,
    keep_going: &dyn Fn() -> bool,
) -> Result<f64, Interrupted> {
    let total = 1usize << n;
    let mut acc = LogSumExp::new();
    let mut start = 0;
    while start < total {
        check(keep_going)?;
        let count = STATES_PER_BATCH.min(total - start);
        for x in to_vec(f(binary_states(n, start, count, device))) {
            acc.add(x as f64);
        }
        start += count;
    }
    Ok(acc.value())
}

/// Mean log-likelihood per example in nats, `−⟨F(v)⟩ − log Z`, for a known log Z.
pub fn mean_log_likelihood(rbm: &Rbm, v: &Tensor<2>, log_z: f64) -> f64 {
    -metrics::mean_free_energy(rbm, v) - log_z
}

/// Mean exact log-likelihood per example of `v` (log Z by enumeration).
pub fn log_likelihood(rbm: &Rbm, v: &Tensor<2>, max_units: usize) -> Result<f64, EvalError> {
    Ok(mean_log_likelihood(rbm, v, log_partition(rbm, max_units)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{HostParams, HostRng, bits, log_sum_exp, random_rbm};

    /// log Z by summing e^{−E} over every joint state (v, h), in f64 on the host.
    fn brute_force_log_z(rbm: &Rbm) -> f64 {
        let p = HostParams::of(rbm);
        let (nv, nh) = (rbm.visible(), rbm.hidden());
        let terms: Vec<f64> = (0..1usize << (nv + nh))
            .map(|s| p.neg_energy(&bits(s & ((1 << nv) - 1), nv), &bits(s >> nv, nh)))
            .collect();
        log_sum_exp(&terms)
    }

    #[test]
    fn log_z_by_enumerating_the_hidden_layer_equals_brute_force_over_both_layers() {
        let device = Device::flex();
        let rbm = random_rbm(7, 4, 1.5, 31, &device);
        let got = log_partition(&rbm, 20).unwrap();
        let want = brute_force_log_z(&rbm);
        assert!(
            (got - want).abs() < 1e-4,
            "log Z = {got}, brute force {want}"
        );
    }

    #[test]
    fn log_z_by_enumerating_the_visible_layer_equals_brute_force_over_both_layers() {
        let device = Device::flex();
        let rbm = random_rbm(4, 7, 1.5, 32, &device);
        let got = log_partition(&rbm, 20).unwrap();
        let want = brute_force_log_z(&rbm);
        assert!(
            (got - want).abs() < 1e-4,
            "log Z = {got}, brute force {want}"
        );
    }

    #[test]
    fn exact_log_likelihood_equals_brute_force_log_probabilities() {
        let device = Device::flex();
        let rbm = random_rbm(6, 4, 1.5, 33, &device);
        let p = HostParams::of(&rbm);
        let log_z = brute_force_log_z(&rbm);
        let data_states = [0usize, 5, 17, 63, 42];
        let want: f64 = data_states
            .iter()
            .map(|&s| {
                let joint: Vec<f64> = (0..16)
                    .map(|h| p.neg_energy(&bits(s, 6), &bits(h, 4)))
                    .collect();
                log_sum_exp(&joint) - log_z
            })
            .sum::<f64>()
            / data_states.len() as f64;
        let rows: Vec<f32> = data_states
            .iter()
            .flat_map(|&s| bits(s, 6))
            .map(|x| x as f32)
            .collect();
        let v = Tensor::<2>::from_data(TensorData::new(rows, [5, 6]), &device);
        let got = log_likelihood(&rbm, &v, 20).unwrap();
        assert!(
            (got - want).abs() < 1e-4,
            "⟨log p(v)⟩ = {got}, brute force {want}"
        );
    }

    #[test]
    fn gaussian_log_z_equals_numerical_integration_over_the_visible_plane() {
        let device = Device::flex();
        let mut rng = HostRng::new(34);
        let sigma = [0.7f64, 1.6];
        let rbm = Rbm {
            weights: rng.tensor2(2, 3, 1.0, &device),
            visible_bias: rng.tensor1(2, 1.0, &device),
            hidden_bias: rng.tensor1(3, 1.0, &device),
            visible_units: VisibleUnits::Gaussian {
                sigma: Some(Tensor::from_data(
                    TensorData::new(vec![0.7f32, 1.6], [2]),
                    &device,
                )),
            },
        };
        let p = HostParams::of(&rbm);
        // Z = Σ_h ∫ e^{−E(v,h)} dv on a grid wide enough for every mode (step 0.01).
        let step = 0.01;
        let mut terms = Vec::new();
        for h in 0..8 {
            let h = bits(h, 3);
            let mut sum = 0.0;
            for a in -1600..1600 {
                for b in -1600..1600 {
                    let v = [a as f64 * step, b as f64 * step];
                    let mut e = p.c.iter().zip(&h).map(|(c, h)| c * h).sum::<f64>();
                    for i in 0..2 {
                        e -= (v[i] - p.b[i]).powi(2) / (2.0 * sigma[i] * sigma[i]);
                        e += (0..3)
                            .map(|j| v[i] / sigma[i] * p.w[i][j] * h[j])
                            .sum::<f64>();
                    }
                    sum += e.exp();
                }
            }
            terms.push((sum * step * step).ln());
        }
        let want = log_sum_exp(&terms);
        let got = log_partition(&rbm, 20).unwrap();
        assert!(
            (got - want).abs() < 1e-4,
            "Gaussian log Z = {got}, numerical {want}"
        );
    }

    #[test]
    fn enumeration_asked_to_stop_returns_interrupted_after_the_batches_before() {
        let device = Device::flex();
        // 2^20 visible states: 64 batches.
        let rbm = random_rbm(20, 24, 0.1, 36, &device);
        let asked = std::cell::Cell::new(0usize);
        let keep_going = || {
            asked.set(asked.get() + 1);
            asked.get() <= 3
        };
        assert_eq!(
            log_partition_while(&rbm, 20, &keep_going),
            Err(EvalError::Interrupted)
        );
        assert_eq!(
            asked.get(),
            4,
            "one question per batch, none after the stop"
        );
        // Never stopped, it is the plain enumeration.
        let plain = log_partition(&rbm, 20).unwrap();
        assert_eq!(log_partition_while(&rbm, 20, &|| true), Ok(plain));
    }

    #[test]
    fn too_many_units_in_both_layers_is_an_error() {
        let device = Device::flex();
        let rbm = random_rbm(22, 21, 0.1, 35, &device);
        let err = log_partition(&rbm, 20).unwrap_err();
        assert_eq!(
            err,
            EvalError::TooManyUnits {
                visible: 22,
                hidden: 21,
                max: 20
            }
        );
    }
}
