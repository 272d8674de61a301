//! Enumeration in Gray-code order against brute force over every joint state.

use burn::tensor::Device;

use super::{BruteForce, edges_mask, full_mask, random_machine, tensor};
use crate::boltzmann::exact::empirical_entropy;
use crate::boltzmann::{BoltzmannError, Phase, bars_and_stripes};
use crate::eval::testing::bits;

fn assert_near(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, expected {want}"
    );
}

#[test]
fn log_z_matches_brute_force_for_full_and_sparse_connectivity() {
    let device = Device::flex();
    let sparse = edges_mask(9, &[(0, 4), (1, 4), (2, 5), (4, 5), (5, 8), (3, 7), (6, 7)]);
    for mask in [full_mask(9), sparse] {
        let model = random_machine(5, 0, mask, 1.5, 21, &device);
        let brute = BruteForce::of(&model);
        assert_near(
            model.exact_log_partition(20).unwrap(),
            brute.log_z,
            1e-9,
            "log Z",
        );
    }
}

#[test]
fn log_p_of_every_visible_vector_is_the_brute_force_marginal_and_they_sum_to_one() {
    let device = Device::flex();
    let model = random_machine(4, 0, full_mask(7), 1.5, 22, &device);
    let brute = BruteForce::of(&model);
    let p = brute.probabilities();
    let all_v: Vec<Vec<f64>> = (0..16).map(|k| bits(k, 4)).collect();
    let log_z = model.exact_log_partition(20).unwrap();
    let log_p: Vec<f64> = model
        .exact_log_unnormalized(&tensor(&all_v, &device), 20)
        .unwrap()
        .iter()
        .map(|x| x - log_z)
        .collect();
    for (v, lp) in all_v.iter().zip(&log_p) {
        let want: f64 = brute
            .states
            .iter()
            .zip(&p)
            .filter(|((s, _), _)| s[..4] == v[..])
            .map(|(_, p)| p)
            .sum();
        assert_near(*lp, want.ln(), 1e-9, &format!("log p({v:?})"));
    }
    let total: f64 = log_p.iter().map(|x| x.exp()).sum();
    assert_near(total, 1.0, 1e-9, "Σ_v p(v)");
    let data = tensor(&all_v[3..7], &device);
    let mean = model.exact_mean_log_likelihood(&data, 20).unwrap();
    assert_near(mean, log_p[3..7].iter().sum::<f64>() / 4.0, 1e-9, "mean");
}

#[test]
fn phase_statistics_match_brute_force_moments() {
    let device = Device::flex();
    let model = random_machine(3, 0, full_mask(6), 1.5, 23, &device);
    let brute = BruteForce::of(&model);
    let data = vec![
        vec![1.0, 0.0, 1.0],
        vec![0.0, 1.0, 1.0],
        vec![1.0, 1.0, 1.0],
    ];
    let clamped = model
        .exact_moments(Phase::Clamped, &tensor(&data, &device), 20)
        .unwrap();
    let free = model
        .exact_moments(Phase::Free, &tensor(&data, &device), 20)
        .unwrap();
    let want_free = brute.moments_given(&[]);
    let per_example: Vec<Vec<Vec<f64>>> = data.iter().map(|v| brute.moments_given(v)).collect();
    for i in 0..6 {
        assert_near(free.units[i], want_free[i][i], 1e-9, "free ⟨s_i⟩");
        let c: f64 = per_example.iter().map(|m| m[i][i]).sum::<f64>() / 3.0;
        assert_near(clamped.units[i], c, 1e-9, "clamped ⟨s_i⟩");
        for j in 0..6 {
            assert_near(free.pairs[i][j], want_free[i][j], 1e-9, "free ⟨s_i s_j⟩");
            let c: f64 = per_example.iter().map(|m| m[i][j]).sum::<f64>() / 3.0;
            assert_near(clamped.pairs[i][j], c, 1e-9, "clamped ⟨s_i s_j⟩");
        }
    }
}

#[test]
fn a_conditional_machine_clamps_the_inputs_in_its_free_phase_and_log_likelihood() {
    let device = Device::flex();
    // 2 inputs, 2 outputs, 2 hidden units.
    let model = random_machine(4, 2, full_mask(6), 1.5, 24, &device);
    let brute = BruteForce::of(&model);
    let data = vec![vec![1.0, 0.0, 1.0, 1.0], vec![0.0, 1.0, 0.0, 1.0]];
    let free = model
        .exact_moments(Phase::Free, &tensor(&data, &device), 20)
        .unwrap();
    let cll = model
        .exact_conditional_log_likelihood(&tensor(&data, &device), 20)
        .unwrap();
    let p = brute.probabilities();
    for (k, v) in data.iter().enumerate() {
        let mass = |prefix: &[f64]| -> f64 {
            brute
                .states
                .iter()
                .zip(&p)
                .filter(|((s, _), _)| s[..prefix.len()] == *prefix)
                .map(|(_, p)| p)
                .sum()
        };
        assert_near(cll[k], (mass(v) / mass(&v[..2])).ln(), 1e-9, "log p(y|x)");
        // The output distribution given this input.
        let dist = model.exact_output_distribution(&v[..2], 20).unwrap();
        for (outcome, q) in dist.iter().enumerate() {
            let y = bits(outcome, 2);
            let full = [v[0], v[1], y[0], y[1]];
            assert_near(*q, mass(&full) / mass(&v[..2]), 1e-9, "p(y|x)");
        }
        assert_near(dist.iter().sum(), 1.0, 1e-9, "Σ_y p(y|x)");
    }
    let m0 = brute.moments_given(&data[0][..2]);
    let m1 = brute.moments_given(&data[1][..2]);
    for i in 0..6 {
        for j in 0..6 {
            let want = (m0[i][j] + m1[i][j]) / 2.0;
            assert_near(free.pairs[i][j], want, 1e-9, "free ⟨s_i s_j⟩ given x");
        }
    }
    let mean = model
        .exact_mean_loglik(&tensor(&data, &device), 20)
        .unwrap();
    assert_near(mean, (cll[0] + cll[1]) / 2.0, 1e-12, "mean conditional");
}

#[test]
fn enumeration_beyond_the_limit_is_an_error() {
    let device = Device::flex();
    let model = random_machine(5, 0, full_mask(9), 1.0, 25, &device);
    assert_eq!(
        model.exact_log_partition(8),
        Err(BoltzmannError::TooManyUnits { units: 9, max: 8 })
    );
    assert!(model.is_enumerable(9) && !model.is_enumerable(8));
    // log p*(v) only enumerates the 4 hidden units.
    let v = tensor(&[vec![1.0, 0.0, 1.0, 0.0, 1.0]], &device);
    assert!(model.exact_log_unnormalized(&v, 4).is_ok());
    assert!(model.exact_log_unnormalized(&v, 3).is_err());
}

#[test]
fn empirical_entropy_counts_distinct_rows_and_conditions_on_the_inputs() {
    let device = Device::flex();
    let bas = bars_and_stripes(3, &device);
    assert_near(empirical_entropy(&bas, 0), 14f64.ln(), 1e-12, "H(BAS 3×3)");
    // x = 1: y ∈ {11, 00} half each; x = 0: y = 10 always.
    let rows = vec![
        vec![1.0, 1.0, 1.0],
        vec![1.0, 0.0, 0.0],
        vec![0.0, 1.0, 0.0],
        vec![0.0, 1.0, 0.0],
    ];
    let data = tensor(&rows, &device);
    assert_near(
        empirical_entropy(&data, 1),
        0.5 * 2f64.ln(),
        1e-12,
        "H(Y|X)",
    );
    let joint = -(0.25f64 * 0.25f64.ln() * 2.0 + 0.5 * 0.5f64.ln());
    assert_near(empirical_entropy(&data, 0), joint, 1e-12, "H(X,Y)");
}
