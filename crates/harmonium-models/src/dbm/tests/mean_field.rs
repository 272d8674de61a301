//! Mean-field inference: its initialisation by hand, its fixed point, and the bound, which stays
//! below the exact log-likelihood and never decreases from sweep to sweep.

use burn::tensor::{Device, Tensor};

use super::{HostDbm, random_dbm};
use crate::dbm::MeanFieldConfig;
use crate::eval::testing::{bits, rows, sigmoid, tensor_from_rows};
use crate::eval::to_vec;

fn some_visible(n: usize, device: &Device) -> Tensor<2> {
    let states = [0usize, 3, 77, 129, 200, 255];
    tensor_from_rows(
        &states.iter().map(|&s| bits(s, n)).collect::<Vec<_>>(),
        device,
    )
}

#[test]
fn mean_field_starts_from_a_bottom_up_pass_with_doubled_weights_except_the_top() {
    let device = Device::flex();
    let dbm = random_dbm(&[8, 4, 3, 2], 1.0, 31, &device);
    let host = HostDbm::of(&dbm);
    let v = some_visible(8, &device);
    let got: Vec<Vec<Vec<f64>>> = dbm
        .mean_field_init(v.clone())
        .into_iter()
        .map(rows)
        .collect();
    for (k, x) in rows(v).into_iter().enumerate() {
        let mut below = x;
        for l in 1..=3 {
            let factor = if l < 3 { 2.0 } else { 1.0 };
            let mu: Vec<f64> = (0..host.sizes[l])
                .map(|j| {
                    let input: f64 = (0..below.len())
                        .map(|i| below[i] * host.w[l - 1][i][j])
                        .sum();
                    sigmoid(host.bias[l][j] + factor * input)
                })
                .collect();
            for (j, m) in mu.iter().enumerate() {
                assert!((got[l - 1][k][j] - m).abs() < 1e-5, "μ{l}[{k}][{j}]");
            }
            below = mu;
        }
    }
}

#[test]
fn mean_field_reaches_a_fixed_point_whose_bound_is_below_the_exact_log_likelihood() {
    let device = Device::flex();
    let dbm = random_dbm(&[8, 4, 3], 1.0, 32, &device);
    let v = some_visible(8, &device);
    let cfg = MeanFieldConfig {
        max_iterations: 500,
        tolerance: 1e-6,
    };
    let q = dbm.mean_field(v.clone(), &cfg);
    assert!(
        q.iterations < 500 && q.max_change <= 1e-6,
        "not converged: {q:?}"
    );
    // A fixed point: μˡ = σ(input_l(μ)) for every layer.
    let layers = q.layers(v.clone());
    for l in 1..=2 {
        let again = to_vec(dbm.layer_probs(l, &layers));
        let mu = to_vec(layers[l].clone());
        for (a, m) in again.iter().zip(&mu) {
            assert!((a - m).abs() < 1e-5, "layer {l}: σ(input) = {a}, μ = {m}");
        }
    }
    // The bound on log p*(v) (log Z cancels) is below the exact value, example by example.
    let bound = to_vec(dbm.mean_field_bound(&layers));
    let exact = dbm.exact_log_unnormalized(&v, 20).unwrap();
    for (b, e) in bound.iter().zip(&exact) {
        assert!((*b as f64) <= e + 1e-4, "bound {b} > log p*(v) = {e}");
    }
    // And with log Z: the mean bound is below the mean exact log-likelihood.
    let log_z = dbm.exact_log_partition(20).unwrap();
    let mean_bound = dbm.variational_lower_bound(&v, &cfg, log_z);
    let mean_ll = dbm.exact_mean_log_likelihood(&v, log_z, 20).unwrap();
    assert!(mean_bound <= mean_ll + 1e-4, "{mean_bound} > {mean_ll}");
    assert!(
        mean_ll - mean_bound < 5.0,
        "a loose bound: {mean_bound} vs {mean_ll}"
    );
}

#[test]
fn the_bound_never_decreases_from_sweep_to_sweep() {
    let device = Device::flex();
    for (sizes, seed) in [(vec![8, 4, 3], 33), (vec![8, 5, 4, 3], 34)] {
        // Strong weights, so that the sweeps have work to do.
        let dbm = random_dbm(&sizes, 2.0, seed, &device);
        let v = some_visible(8, &device);
        let mut layers = vec![v.clone()];
        layers.extend(dbm.mean_field_init(v));
        let mut previous = to_vec(dbm.mean_field_bound(&layers));
        let mut first = previous.clone();
        for sweep in 0..30 {
            dbm.mean_field_sweep(&mut layers);
            let now = to_vec(dbm.mean_field_bound(&layers));
            for (k, (n, p)) in now.iter().zip(&previous).enumerate() {
                assert!(
                    n >= &(p - 1e-4),
                    "{sizes:?} sweep {sweep}, example {k}: {p} → {n}"
                );
            }
            if sweep == 0 {
                first = previous.clone();
            }
            previous = now;
        }
        let gained: f32 = previous.iter().zip(&first).map(|(a, b)| a - b).sum();
        assert!(
            gained > 1e-3,
            "{sizes:?}: the sweeps did not improve the bound ({gained})"
        );
    }
}
