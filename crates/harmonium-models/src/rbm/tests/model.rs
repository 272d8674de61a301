//! Conditionals, free energy and energy against brute-force enumeration of the joint.

use burn::tensor::Device;

use super::{assert_close, flat1, gaussian_rbm};
use crate::eval::testing::{HostParams, bits, log_sum_exp, random_rbm, rows, tensor_from_rows};

#[test]
fn hidden_conditionals_match_brute_force_marginals_of_the_joint() {
    let device = Device::flex();
    let rbm = random_rbm(6, 4, 1.5, 1, &device);
    let p = HostParams::of(&rbm);
    let all_v: Vec<Vec<f64>> = (0..64).map(|s| bits(s, 6)).collect();
    let got = rows(rbm.hidden_probs(tensor_from_rows(&all_v, &device)));
    for (v, got) in all_v.iter().zip(&got) {
        let joint: Vec<f64> = (0..16).map(|s| p.neg_energy(v, &bits(s, 4))).collect();
        let z = log_sum_exp(&joint);
        let want: Vec<f64> = (0..4)
            .map(|j| {
                (0..16)
                    .filter(|s| (s >> j) & 1 == 1)
                    .map(|s| (joint[s] - z).exp())
                    .sum()
            })
            .collect();
        assert_close(got, &want, 1e-5, "p(h_j=1|v)");
    }
}

#[test]
fn visible_conditionals_match_brute_force_marginals_of_the_joint() {
    let device = Device::flex();
    let rbm = random_rbm(6, 4, 1.5, 2, &device);
    let p = HostParams::of(&rbm);
    let all_h: Vec<Vec<f64>> = (0..16).map(|s| bits(s, 4)).collect();
    let got = rows(rbm.visible_mean(tensor_from_rows(&all_h, &device)));
    for (h, got) in all_h.iter().zip(&got) {
        let joint: Vec<f64> = (0..64).map(|s| p.neg_energy(&bits(s, 6), h)).collect();
        let z = log_sum_exp(&joint);
        let want: Vec<f64> = (0..6)
            .map(|i| {
                (0..64)
                    .filter(|s| (s >> i) & 1 == 1)
                    .map(|s| (joint[s] - z).exp())
                    .sum()
            })
            .collect();
        assert_close(got, &want, 1e-5, "p(v_i=1|h)");
    }
}

#[test]
fn free_energy_is_minus_log_sum_over_hidden_states_of_exp_minus_energy() {
    let device = Device::flex();
    let rbm = random_rbm(6, 4, 1.5, 3, &device);
    let p = HostParams::of(&rbm);
    let all_v: Vec<Vec<f64>> = (0..64).map(|s| bits(s, 6)).collect();
    let got = flat1(rbm.free_energy(tensor_from_rows(&all_v, &device)));
    let want: Vec<f64> = all_v
        .iter()
        .map(|v| {
            -log_sum_exp(
                &(0..16)
                    .map(|s| p.neg_energy(v, &bits(s, 4)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_close(&got, &want, 1e-4, "F(v)");
    // And E(v,h) itself.
    let v = tensor_from_rows(&all_v[..16], &device);
    let h = tensor_from_rows(&(0..16).map(|s| bits(s, 4)).collect::<Vec<_>>(), &device);
    let want: Vec<f64> = (0..16)
        .map(|s| -p.neg_energy(&all_v[s], &bits(s, 4)))
        .collect();
    assert_close(&flat1(rbm.energy(v, h)), &want, 1e-4, "E(v,h)");
}

#[test]
fn gaussian_free_energy_and_hidden_conditionals_match_brute_force() {
    let device = Device::flex();
    let (rbm, sigma) = gaussian_rbm(&device);
    let p = HostParams::of(&rbm);
    let neg_energy = |v: &[f64], h: &[f64]| {
        let mut e = 0.0;
        for i in 0..3 {
            e -= (v[i] - p.b[i]).powi(2) / (2.0 * sigma[i] * sigma[i]);
            for j in 0..2 {
                e += v[i] / sigma[i] * p.w[i][j] * h[j];
            }
        }
        e + p.c[0] * h[0] + p.c[1] * h[1]
    };
    let vs = vec![
        vec![0.3, -1.2, 2.0],
        vec![-0.7, 0.4, 0.0],
        vec![1.5, 2.5, -0.5],
    ];
    let f = flat1(rbm.free_energy(tensor_from_rows(&vs, &device)));
    let ph = rows(rbm.hidden_probs(tensor_from_rows(&vs, &device)));
    for (k, v) in vs.iter().enumerate() {
        let joint: Vec<f64> = (0..4).map(|s| neg_energy(v, &bits(s, 2))).collect();
        let z = log_sum_exp(&joint);
        assert!((f[k] + z).abs() < 1e-4, "F(v) = {}, expected {}", f[k], -z);
        for j in 0..2 {
            let want: f64 = (0..4)
                .filter(|s| (s >> j) & 1 == 1)
                .map(|s| (joint[s] - z).exp())
                .sum();
            assert!(
                (ph[k][j] - want).abs() < 1e-5,
                "p(h_{j}|v) = {}, expected {want}",
                ph[k][j]
            );
        }
    }
    // E[v|h] = b + σ∘(W h).
    let hs: Vec<Vec<f64>> = (0..4).map(|s| bits(s, 2)).collect();
    let mean = rows(rbm.visible_mean(tensor_from_rows(&hs, &device)));
    for (h, m) in hs.iter().zip(&mean) {
        let want: Vec<f64> = (0..3)
            .map(|i| p.b[i] + sigma[i] * (p.w[i][0] * h[0] + p.w[i][1] * h[1]))
            .collect();
        assert_close(m, &want, 1e-5, "E[v|h]");
    }
}
