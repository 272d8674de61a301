//! Tests of the RBM, next to what they check: [`model`] (conditionals and free energy against
//! enumeration), [`cd`] (statistics by hand, persistent chains against the exact gradient),
//! [`train`] (learning, events, errors) and [`config`].

use burn::tensor::{Device, Tensor, TensorData};

use super::{Rbm, RbmEvalConfig, VisibleUnits};
use crate::eval::testing::HostRng;
use crate::eval::to_vec;

mod cd;
mod config;
mod model;
mod train;
mod update;

pub(crate) fn flat(t: Tensor<2>) -> Vec<f64> {
    to_vec(t).into_iter().map(f64::from).collect()
}

pub(crate) fn flat1(t: Tensor<1>) -> Vec<f64> {
    to_vec(t).into_iter().map(f64::from).collect()
}

pub(crate) fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{what}[{k}]: got {g}, expected {w} (tolerance {tol})"
        );
    }
}

fn quiet_eval() -> RbmEvalConfig {
    RbmEvalConfig {
        reconstruction: false,
        free_energy_gap: false,
        pseudo_likelihood: false,
        exact_loglik: false,
        ais: None,
        checkpoint: false,
        ..Default::default()
    }
}

pub(crate) fn gaussian_rbm(device: &Device) -> (Rbm, Vec<f64>) {
    let mut rng = HostRng::new(9);
    let sigma = vec![0.5, 2.0, 1.0];
    let s: Vec<f32> = sigma.iter().map(|&x| x as f32).collect();
    let rbm = Rbm {
        weights: rng.tensor2(3, 2, 1.0, device),
        visible_bias: rng.tensor1(3, 1.0, device),
        hidden_bias: rng.tensor1(2, 1.0, device),
        visible_units: VisibleUnits::Gaussian {
            sigma: Some(Tensor::from_data(TensorData::new(s, [3]), device)),
        },
    };
    (rbm, sigma)
}
