//! Exact log Z and log p*(v) by enumerating one parity, against brute force over every joint
//! state in f64.

use burn::tensor::Device;

use super::{HostDbm, random_dbm};
use crate::eval::testing::{bits, log_sum_exp, tensor_from_rows};

#[test]
fn exact_log_z_equals_brute_force_over_every_joint_state() {
    let device = Device::flex();
    for (sizes, seed) in [
        (vec![8, 4, 3], 11),
        (vec![5, 3, 4, 2], 12),
        (vec![3, 2, 3, 2, 2], 13),
    ] {
        let dbm = random_dbm(&sizes, 1.0, seed, &device);
        let host = HostDbm::of(&dbm);
        let terms: Vec<f64> = host.joint_states().into_iter().map(|(_, e)| e).collect();
        let want = log_sum_exp(&terms);
        for parity in [0, 1] {
            let got = dbm.exact_log_partition_by_parity(parity);
            assert!(
                (got - want).abs() < 1e-4,
                "{sizes:?} parity {parity}: log Z = {got}, brute force {want}"
            );
        }
        let got = dbm.exact_log_partition(20).unwrap();
        assert!((got - want).abs() < 1e-4, "{sizes:?}: {got} vs {want}");
    }
}

#[test]
fn exact_log_likelihood_equals_brute_force_sums_over_the_hidden_states() {
    let device = Device::flex();
    for (sizes, seed) in [(vec![8, 4, 3], 21), (vec![5, 3, 4, 2], 22)] {
        let dbm = random_dbm(&sizes, 1.0, seed, &device);
        let host = HostDbm::of(&dbm);
        let nv = sizes[0];
        let joint = host.joint_states();
        let log_z = log_sum_exp(&joint.iter().map(|(_, e)| *e).collect::<Vec<_>>());
        let data: Vec<usize> = vec![0, 5, 17, 31, (1 << nv) - 1];
        let want: Vec<f64> = data
            .iter()
            .map(|&s| {
                let v = bits(s, nv);
                let terms: Vec<f64> = joint
                    .iter()
                    .filter(|(x, _)| x[0] == v)
                    .map(|(_, e)| *e)
                    .collect();
                log_sum_exp(&terms)
            })
            .collect();
        let v = tensor_from_rows(
            &data.iter().map(|&s| bits(s, nv)).collect::<Vec<_>>(),
            &device,
        );
        let got = dbm.exact_log_unnormalized(&v, 20).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-4,
                "{sizes:?}: log p*(v) = {g}, brute force {w}"
            );
        }
        let mean_ll = dbm.exact_mean_log_likelihood(&v, log_z, 20).unwrap();
        let want_ll = want.iter().sum::<f64>() / want.len() as f64 - log_z;
        assert!((mean_ll - want_ll).abs() < 1e-4, "{mean_ll} vs {want_ll}");
    }
}

#[test]
fn enumeration_beyond_the_limit_is_an_error() {
    let device = Device::flex();
    let dbm = random_dbm(&[30, 25, 30], 0.1, 23, &device);
    assert!(!dbm.is_enumerable(20));
    let err = dbm.exact_log_partition(20).unwrap_err();
    assert!(err.to_string().contains("at most 20 units"), "{err}");
}
