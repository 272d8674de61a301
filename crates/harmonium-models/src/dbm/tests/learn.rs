//! The learning statistics: the persistent chains' data-independent statistics estimate the
//! exact model expectations, and the data-dependent ones are the mean-field moments.

use burn::tensor::Device;

use super::{HostDbm, random_dbm};
use crate::dbm::{DbmStatistics, MeanFieldConfig};
use crate::eval::testing::{bits, tensor_from_rows};
use crate::eval::to_vec;
use crate::rbm::HostDraws;

#[test]
fn persistent_chain_statistics_estimate_the_exact_model_expectations() {
    let device = Device::flex();
    let dbm = random_dbm(&[6, 4, 3], 1.0, 61, &device);
    let host = HostDbm::of(&dbm);
    let v = tensor_from_rows(&[bits(5, 6), bits(42, 6), bits(63, 6)], &device);
    let mf = MeanFieldConfig::default();

    // Exact ⟨x_{l−1} x_lᵀ⟩ and ⟨x_l⟩ under the model, by enumeration.
    let joint = host.joint_states();
    let max = joint
        .iter()
        .map(|(_, e)| *e)
        .fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = joint.iter().map(|(_, e)| (e - max).exp()).sum();
    let sizes = host.sizes.clone();
    let mut pair: Vec<Vec<f64>> = sizes.windows(2).map(|p| vec![0.0; p[0] * p[1]]).collect();
    let mut mean: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
    for (x, e) in &joint {
        let p = (e - max).exp() / z;
        for l in 0..sizes.len() {
            for i in 0..sizes[l] {
                mean[l][i] += p * x[l][i];
                if l + 1 < sizes.len() {
                    for j in 0..sizes[l + 1] {
                        pair[l][i * sizes[l + 1] + j] += p * x[l][i] * x[l + 1][j];
                    }
                }
            }
        }
    }

    // The chains' estimate: data moments minus S, averaged over updates without learning.
    let mut draws = HostDraws::new(62);
    let mut chains = dbm.random_states(2000, &mut draws);
    let q = dbm.mean_field(v.clone(), &mf);
    let data = DbmStatistics::moments(&q.layers(v.clone()));
    let _ = dbm.statistics(v.clone(), &mf, &mut chains, 100, &mut draws); // burn-in
    let updates = 20;
    let mut got_pair: Vec<Vec<f64>> = pair.iter().map(|p| vec![0.0; p.len()]).collect();
    let mut got_mean: Vec<Vec<f64>> = mean.iter().map(|m| vec![0.0; m.len()]).collect();
    for _ in 0..updates {
        let s = dbm.statistics(v.clone(), &mf, &mut chains, 5, &mut draws);
        let model = data.clone().minus(s);
        for (g, w) in got_pair.iter_mut().zip(model.weights) {
            for (a, b) in g.iter_mut().zip(to_vec(w)) {
                *a += b as f64 / updates as f64;
            }
        }
        for (g, b) in got_mean.iter_mut().zip(model.biases) {
            for (a, x) in g.iter_mut().zip(to_vec(b)) {
                *a += x as f64 / updates as f64;
            }
        }
    }
    for (l, (g, w)) in got_pair.iter().zip(&pair).enumerate() {
        for (k, (a, b)) in g.iter().zip(w).enumerate() {
            assert!(
                (a - b).abs() < 0.02,
                "⟨x{l} x{}⟩[{k}]: chains {a}, exact {b}",
                l + 1
            );
        }
    }
    for (l, (g, w)) in got_mean.iter().zip(&mean).enumerate() {
        for (k, (a, b)) in g.iter().zip(w).enumerate() {
            assert!((a - b).abs() < 0.02, "⟨x{l}⟩[{k}]: chains {a}, exact {b}");
        }
    }
}
