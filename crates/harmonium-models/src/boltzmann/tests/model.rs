//! Construction checks and the energy against the plain formula.

use burn::tensor::{Device, Tensor, TensorData};

use super::{BruteForce, edges_mask, full_mask, random_machine, tensor};
use crate::boltzmann::{Boltzmann, BoltzmannConfig, BoltzmannError, Connectivity};
use crate::eval::testing::rows;
use crate::eval::to_vec;
use crate::rbm::HostDraws;

#[test]
fn a_new_machine_has_symmetric_masked_weights_of_the_chosen_spread() {
    let device = Device::flex();
    // A ring of 40 units: 40 connections.
    let n = 40;
    let edges: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
    let cfg = BoltzmannConfig {
        hidden: 10,
        init_sigma: 0.5,
        connectivity: Connectivity::Mask(edges_mask(n, &edges)),
        ..Default::default()
    };
    let model = Boltzmann::new(30, &cfg, &device, &mut HostDraws::new(3)).unwrap();
    assert_eq!(
        (
            model.units(),
            model.visible(),
            model.hidden(),
            model.connection_count()
        ),
        (40, 30, 10, 40)
    );
    let w = rows(model.weights.clone());
    let mut squares = 0.0;
    for (i, row) in w.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            assert_eq!(x, w[j][i], "symmetric at ({i},{j})");
            let connected = j == (i + 1) % n || i == (j + 1) % n;
            if connected {
                squares += x * x;
            } else {
                assert_eq!(x, 0.0, "({i},{j}) is not connected");
            }
        }
    }
    let sd = (squares / 80.0).sqrt();
    assert!((0.35..0.65).contains(&sd), "weight spread {sd}");
    assert!(to_vec(model.bias.clone()).iter().all(|&b| b == 0.0));
}

#[test]
fn from_parts_rejects_asymmetric_or_unmasked_weights_and_machines_without_outputs() {
    let device = Device::flex();
    let mask = edges_mask(3, &[(0, 1), (1, 2)]);
    let build = |w: [[f64; 3]; 3], inputs: usize| {
        let w: Vec<Vec<f64>> = w.iter().map(|r| r.to_vec()).collect();
        Boltzmann::from_parts(
            2,
            inputs,
            tensor(&w, &device),
            Tensor::zeros([3], &device),
            mask.clone(),
        )
    };
    let ok = [[0.0, 1.0, 0.0], [1.0, 0.0, 2.0], [0.0, 2.0, 0.0]];
    build(ok, 0).unwrap();
    build(ok, 1).unwrap();
    let msg = |r: Result<Boltzmann, BoltzmannError>| r.unwrap_err().to_string();
    let asym = [[0.0, 1.0, 0.0], [1.5, 0.0, 2.0], [0.0, 2.0, 0.0]];
    assert!(msg(build(asym, 0)).contains("W is not symmetric: W(0,1) is 1 but W(1,0) is 1.5"));
    let unmasked = [[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]];
    assert!(msg(build(unmasked, 0)).contains("units 0 and 2 are not connected"));
    assert!(msg(build(ok, 2)).contains("inputs: 2 inputs leave no output"));
    let wrong = Boltzmann::from_parts(
        2,
        0,
        Tensor::zeros([3, 3], &device),
        Tensor::zeros([4], &device),
        mask.clone(),
    );
    assert!(matches!(
        wrong,
        Err(BoltzmannError::Shape {
            expected: 3,
            got: 4,
            ..
        })
    ));
}

#[test]
fn the_energy_is_minus_the_biases_and_the_pairwise_weights_of_active_units() {
    let device = Device::flex();
    let model = random_machine(3, 0, full_mask(5), 1.5, 11, &device);
    let brute = BruteForce::of(&model);
    let states: Vec<Vec<f64>> = brute.states.iter().map(|(s, _)| s.clone()).collect();
    let energy = to_vec(model.energy(tensor(&states, &device)));
    for ((s, neg), e) in brute.states.iter().zip(energy) {
        assert!((e as f64 + neg).abs() < 1e-5, "{s:?}: {e} vs {}", -neg);
    }
    // The total input is b + Ws, the change of −E when the unit is turned on.
    let s = vec![1.0, 0.0, 1.0, 1.0, 0.0];
    let input = rows(model.total_input(tensor(std::slice::from_ref(&s), &device)))[0].clone();
    for (i, x) in input.iter().enumerate() {
        let want = brute.b[i] + (0..5).map(|j| brute.w[i][j] * s[j]).sum::<f64>();
        assert!((x - want).abs() < 1e-5, "unit {i}: {x} vs {want}");
    }
}

#[test]
fn visible_biases_start_at_the_log_odds_of_the_data_and_hidden_biases_stay() {
    let device = Device::flex();
    let mut model = random_machine(2, 0, full_mask(3), 1.0, 12, &device);
    let hidden_bias = to_vec(model.bias.clone())[2];
    let data = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0], [4, 2]),
        &device,
    );
    model.init_visible_bias_from_data(&data).unwrap();
    let b = to_vec(model.bias.clone());
    assert!((b[0] as f64 - 3.0f64.ln()).abs() < 1e-5, "{b:?}");
    assert!((b[1] as f64 - 3.0f64.ln()).abs() < 1e-5, "{b:?}");
    assert_eq!(b[2], hidden_bias);
}
