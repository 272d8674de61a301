//! Alternate-layer Gibbs sampling reaches the exact marginals of every unit.

use burn::tensor::Device;

use super::{HostDbm, random_dbm};
use crate::eval::testing::{FixedDraws, rows, sigmoid, tensor_from_rows};
use crate::eval::to_vec;
use crate::rbm::HostDraws;

#[test]
fn alternate_layer_gibbs_sampling_reaches_the_exact_marginals() {
    let device = Device::flex();
    let dbm = random_dbm(&[8, 4, 3], 1.0, 41, &device);
    let host = HostDbm::of(&dbm);
    // Exact marginals p(unit = 1) of every layer.
    let joint = host.joint_states();
    let max = joint
        .iter()
        .map(|(_, e)| *e)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut z = 0.0;
    let mut marginals: Vec<Vec<f64>> = host.sizes.iter().map(|&n| vec![0.0; n]).collect();
    for (x, e) in &joint {
        let p = (e - max).exp();
        z += p;
        for (m, xl) in marginals.iter_mut().zip(x) {
            for (mi, xi) in m.iter_mut().zip(xl) {
                *mi += p * xi;
            }
        }
    }
    let chains = 1000;
    let mut draws = HostDraws::new(5);
    let mut layers = dbm.random_states(chains, &mut draws);
    dbm.gibbs(&mut layers, 50, &mut draws);
    let mut sums: Vec<Vec<f64>> = host.sizes.iter().map(|&n| vec![0.0; n]).collect();
    let steps = 300;
    for _ in 0..steps {
        dbm.gibbs_step(&mut layers, &mut draws);
        for (s, x) in sums.iter_mut().zip(&layers) {
            let means = to_vec(x.clone().sum_dim(0));
            for (si, m) in s.iter_mut().zip(means) {
                *si += m as f64;
            }
        }
    }
    for (l, (s, m)) in sums.iter().zip(&marginals).enumerate() {
        for (i, (si, mi)) in s.iter().zip(m).enumerate() {
            let got = si / (chains * steps) as f64;
            let want = mi / z;
            assert!(
                (got - want).abs() < 0.015,
                "layer {l} unit {i}: sampled {got}, exact {want}"
            );
        }
    }
}

#[test]
fn a_gibbs_step_samples_the_odd_layers_then_the_even_ones_from_their_conditionals() {
    let device = Device::flex();
    let dbm = random_dbm(&[3, 2, 2], 1.0, 42, &device);
    let host = HostDbm::of(&dbm);
    let v = vec![vec![1.0, 0.0, 1.0]];
    let h1 = vec![vec![0.0, 1.0]];
    let h2 = vec![vec![1.0, 0.0]];
    let (u1, u0, u2) = (
        vec![vec![0.4, 0.6]],
        vec![vec![0.5, 0.2, 0.7]],
        vec![vec![0.3, 0.9]],
    );
    let mut layers = vec![
        tensor_from_rows(&v, &device),
        tensor_from_rows(&h1, &device),
        tensor_from_rows(&h2, &device),
    ];
    let mut draws = FixedDraws::new(vec![
        tensor_from_rows(&u1, &device),
        tensor_from_rows(&u0, &device),
        tensor_from_rows(&u2, &device),
    ]);
    dbm.gibbs_step(&mut layers, &mut draws);
    assert!(draws.0.is_empty());
    // h¹ given v and h², then v given h¹, then h² given h¹.
    let p1: Vec<f64> = (0..2)
        .map(|j| {
            let up: f64 = (0..3).map(|i| v[0][i] * host.w[0][i][j]).sum();
            let down: f64 = (0..2).map(|k| host.w[1][j][k] * h2[0][k]).sum();
            sigmoid(host.bias[1][j] + up + down)
        })
        .collect();
    let new_h1: Vec<f64> = p1
        .iter()
        .zip(&u1[0])
        .map(|(p, u)| (p > u) as u8 as f64)
        .collect();
    let p0: Vec<f64> = (0..3)
        .map(|i| {
            sigmoid(host.bias[0][i] + (0..2).map(|j| host.w[0][i][j] * new_h1[j]).sum::<f64>())
        })
        .collect();
    let p2: Vec<f64> = (0..2)
        .map(|k| {
            sigmoid(host.bias[2][k] + (0..2).map(|j| new_h1[j] * host.w[1][j][k]).sum::<f64>())
        })
        .collect();
    let thr = |p: &[f64], u: &[f64]| -> Vec<f64> {
        p.iter().zip(u).map(|(p, u)| (p > u) as u8 as f64).collect()
    };
    assert_eq!(rows(layers[1].clone())[0], new_h1);
    assert_eq!(rows(layers[0].clone())[0], thr(&p0, &u0[0]));
    assert_eq!(rows(layers[2].clone())[0], thr(&p2, &u2[0]));
}
