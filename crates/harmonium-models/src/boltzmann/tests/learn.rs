//! The learning rule: its exact form is the gradient of the exact log-likelihood; its sampled
//! statistics approach the exact ones; the update applies lr, momentum and weight cost.

use burn::tensor::{Device, Tensor, TensorData};

use super::{full_mask, random_machine, tensor};
use crate::boltzmann::{Boltzmann, BoltzmannConfig, BoltzmannLearner, ExactMoments, Phase};
use crate::eval::testing::rows;
use crate::eval::to_vec;
use crate::rbm::HostDraws;

/// `model` with the connection (i, j) (both entries) or, for `i == j`, the bias of unit i moved
/// by `delta`.
fn nudged(model: &Boltzmann, i: usize, j: usize, delta: f64) -> Boltzmann {
    let n = model.units();
    let device = model.device();
    let mut w = to_vec(model.weights.clone());
    let mut b = to_vec(model.bias.clone());
    if i == j {
        b[i] += delta as f32;
    } else {
        w[i * n + j] += delta as f32;
        w[j * n + i] += delta as f32;
    }
    Boltzmann::from_parts(
        model.visible(),
        model.inputs(),
        Tensor::from_data(TensorData::new(w, [n, n]), &device),
        Tensor::from_data(TensorData::new(b, [n]), &device),
        model.connections().to_vec(),
    )
    .unwrap()
}

/// Checks `clamped − free` against central differences of the exact mean log-likelihood.
fn check_gradient(model: &Boltzmann, data: &Tensor<2>) {
    let clamped = model.exact_moments(Phase::Clamped, data, 20).unwrap();
    let free = model.exact_moments(Phase::Free, data, 20).unwrap();
    let eps = 1e-2;
    let n = model.units();
    for i in 0..n {
        for j in i..n {
            if i != j && model.connections()[i][j] == 0 {
                continue;
            }
            let up = nudged(model, i, j, eps)
                .exact_mean_loglik(data, 20)
                .unwrap();
            let down = nudged(model, i, j, -eps)
                .exact_mean_loglik(data, 20)
                .unwrap();
            let numeric = (up - down) / (2.0 * eps);
            let rule = clamped.pairs[i][j] - free.pairs[i][j];
            assert!(
                (numeric - rule).abs() < 2e-4,
                "({i},{j}): ⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free = {rule}, but the log-likelihood \
                 changes at {numeric}"
            );
        }
    }
}

#[test]
fn clamped_minus_free_statistics_are_the_exact_log_likelihood_gradient() {
    let device = Device::flex();
    let model = random_machine(3, 0, full_mask(5), 1.0, 41, &device);
    let data = tensor(
        &[
            vec![1.0, 0.0, 1.0],
            vec![0.0, 0.0, 1.0],
            vec![1.0, 1.0, 0.0],
        ],
        &device,
    );
    check_gradient(&model, &data);
}

#[test]
fn for_a_conditional_machine_they_are_the_conditional_log_likelihood_gradient() {
    let device = Device::flex();
    // 1 input, 2 outputs, 2 hidden units.
    let model = random_machine(3, 1, full_mask(5), 1.0, 42, &device);
    let data = tensor(
        &[
            vec![1.0, 0.0, 1.0],
            vec![0.0, 0.0, 1.0],
            vec![1.0, 1.0, 1.0],
        ],
        &device,
    );
    check_gradient(&model, &data);
    // The inputs are clamped in both phases, so their statistics cancel.
    let clamped = model.exact_moments(Phase::Clamped, &data, 20).unwrap();
    let free = model.exact_moments(Phase::Free, &data, 20).unwrap();
    assert!((clamped.units[0] - free.units[0]).abs() < 1e-12);
}

fn masked_difference(
    model: &Boltzmann,
    sampled: &crate::boltzmann::Moments,
    exact: &ExactMoments,
) -> f64 {
    let pairs = rows(sampled.pairs.clone());
    let units = to_vec(sampled.units.clone());
    let mut worst: f64 = 0.0;
    for (i, connected) in model.connections().iter().enumerate() {
        worst = worst.max((units[i] as f64 - exact.units[i]).abs());
        for (j, &c) in connected.iter().enumerate() {
            if c == 1 {
                worst = worst.max((pairs[i][j] - exact.pairs[i][j]).abs());
            }
        }
    }
    worst
}

fn repeated(rows: &[Vec<f64>], times: usize, device: &Device) -> Tensor<2> {
    let all: Vec<Vec<f64>> = (0..times).flat_map(|_| rows.iter().cloned()).collect();
    tensor(&all, device)
}

#[test]
fn sampled_clamped_and_free_phase_statistics_approach_the_exact_ones() {
    let device = Device::flex();
    let model = random_machine(4, 0, full_mask(7), 1.0, 43, &device);
    let patterns = vec![
        vec![1.0, 0.0, 1.0, 0.0],
        vec![0.0, 1.0, 1.0, 1.0],
        vec![1.0, 1.0, 0.0, 0.0],
        vec![0.0, 0.0, 0.0, 1.0],
    ];
    let data = tensor(&patterns, &device);
    let batch = repeated(&patterns, 500, &device);
    let cfg = BoltzmannConfig {
        hidden: 3,
        clamped_sweeps: 20,
        free_sweeps: 40,
        average_sweeps: 20,
        persistent: false,
        free_chains: 2000,
        ..Default::default()
    };
    let mut draws = HostDraws::new(3);
    let mut learner = BoltzmannLearner::new(&model, &cfg, &mut draws);
    let clamped = learner.clamped_phase(&model, batch.clone(), &cfg, &mut draws);
    let exact = model.exact_moments(Phase::Clamped, &data, 20).unwrap();
    let worst = masked_difference(&model, &clamped, &exact);
    assert!(worst < 0.015, "clamped phase: largest difference {worst}");
    let free = learner.free_phase(&model, batch, &cfg, &mut draws);
    let exact = model.exact_moments(Phase::Free, &data, 20).unwrap();
    let worst = masked_difference(&model, &free, &exact);
    assert!(worst < 0.015, "free phase: largest difference {worst}");
    assert_eq!(learner.last_free.unwrap().dims(), [2000, 7]);
}

#[test]
fn a_conditional_machines_sampled_free_phase_clamps_each_examples_inputs() {
    let device = Device::flex();
    // 2 inputs, 2 outputs, 2 hidden units.
    let model = random_machine(4, 2, full_mask(6), 1.0, 46, &device);
    let patterns = vec![
        vec![1.0, 0.0, 1.0, 1.0],
        vec![0.0, 1.0, 0.0, 1.0],
        vec![1.0, 1.0, 0.0, 0.0],
    ];
    let data = tensor(&patterns, &device);
    let cfg = BoltzmannConfig {
        hidden: 2,
        inputs: 2,
        free_sweeps: 40,
        average_sweeps: 20,
        persistent: false,
        ..Default::default()
    };
    let mut draws = HostDraws::new(6);
    let mut learner = BoltzmannLearner::new(&model, &cfg, &mut draws);
    let free = learner.free_phase(&model, repeated(&patterns, 700, &device), &cfg, &mut draws);
    let exact = model.exact_moments(Phase::Free, &data, 20).unwrap();
    let worst = masked_difference(&model, &free, &exact);
    assert!(
        worst < 0.015,
        "conditional free phase: largest difference {worst}"
    );
    // One chain per example, the inputs as in the example.
    let chains = rows(learner.last_free.unwrap());
    assert_eq!(chains.len(), 2100);
    for (k, c) in chains.iter().enumerate() {
        assert_eq!(c[..2], patterns[k % 3][..2], "chain {k}");
    }
}

#[test]
fn persistent_chains_average_to_the_exact_free_statistics_and_keep_their_count() {
    let device = Device::flex();
    let model = random_machine(4, 0, full_mask(7), 1.0, 44, &device);
    let data = tensor(&[vec![1.0, 0.0, 1.0, 0.0]], &device);
    let cfg = BoltzmannConfig {
        hidden: 3,
        free_sweeps: 2,
        average_sweeps: 2,
        persistent: true,
        free_chains: 200,
        ..Default::default()
    };
    let mut draws = HostDraws::new(4);
    let mut learner = BoltzmannLearner::new(&model, &cfg, &mut draws);
    let first = learner.persistent.clone().unwrap();
    let updates = 100;
    let mut sum: Option<crate::boltzmann::Moments> = None;
    for _ in 0..updates {
        let m = learner.free_phase(&model, data.clone(), &cfg, &mut draws);
        sum = Some(match sum {
            None => m,
            Some(s) => crate::boltzmann::Moments {
                pairs: s.pairs + m.pairs,
                units: s.units + m.units,
            },
        });
    }
    let sum = sum.unwrap();
    let mean = crate::boltzmann::Moments {
        pairs: sum.pairs.div_scalar(updates as f64),
        units: sum.units.div_scalar(updates as f64),
    };
    let exact = model.exact_moments(Phase::Free, &data, 20).unwrap();
    let worst = masked_difference(&model, &mean, &exact);
    assert!(
        worst < 0.02,
        "persistent chains: largest difference {worst}"
    );
    let chains = learner.persistent.unwrap();
    assert_eq!(chains.dims(), [200, 7]);
    assert!(to_vec(chains.clone()).iter().all(|&x| x == 0.0 || x == 1.0));
    assert_ne!(to_vec(chains), to_vec(first), "the chains moved");
}

#[test]
fn an_update_adds_lr_times_the_statistics_minus_weight_cost_plus_momentum() {
    let device = Device::flex();
    let mut model = random_machine(3, 0, full_mask(5), 1.0, 45, &device);
    let v = tensor(&[vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]], &device);
    let cfg = BoltzmannConfig {
        hidden: 2,
        weight_cost: 0.01,
        ..Default::default()
    };
    let (lr, momentum) = (0.1, 0.5);
    let mut draws = HostDraws::new(5);
    let mut learner = BoltzmannLearner::new(&model, &cfg, &mut draws);
    let mut previous_dw = [0.0f64; 25];
    let mut previous_db = [0.0f64; 5];
    for _ in 0..2 {
        // The same random numbers give the same statistics.
        let s = learner
            .clone()
            .statistics(&model, v.clone(), &cfg, &mut draws.clone());
        let (w0, b0) = (to_vec(model.weights.clone()), to_vec(model.bias.clone()));
        let (sw, sb) = (to_vec(s.pairs), to_vec(s.units));
        let mean_abs = learner.step(&mut model, v.clone(), &cfg, lr, momentum, &mut draws);
        let (w1, b1) = (to_vec(model.weights.clone()), to_vec(model.bias.clone()));
        let mut abs_sum = 0.0;
        for k in 0..25 {
            let dw =
                momentum * previous_dw[k] + lr * (sw[k] as f64 - cfg.weight_cost * w0[k] as f64);
            assert!(
                (w1[k] as f64 - w0[k] as f64 - dw).abs() < 1e-6,
                "weight {k}"
            );
            previous_dw[k] = dw;
            abs_sum += dw.abs();
        }
        for k in 0..5 {
            let db = momentum * previous_db[k] + lr * sb[k] as f64;
            assert!((b1[k] as f64 - b0[k] as f64 - db).abs() < 1e-6, "bias {k}");
            previous_db[k] = db;
        }
        assert!((mean_abs - abs_sum / 20.0).abs() < 1e-6, "{mean_abs}");
        // The weights stay symmetric with a zero diagonal.
        for i in 0..5 {
            assert_eq!(w1[i * 5 + i], 0.0);
            for j in 0..5 {
                assert_eq!(w1[i * 5 + j], w1[j * 5 + i]);
            }
        }
    }
}
