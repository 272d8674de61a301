//! The contractive penalty against the squared Frobenius norm of a finite-difference Jacobian.

use burn::tensor::{Device, Tensor, TensorData};

use super::{HostLayer, random_layer, random_unit_rows};
use crate::autoencoder::Decoder;
use crate::autoencoder::contractive::jacobian_norm2;
use crate::eval::testing::{rows, tensor_from_rows};
use crate::eval::to_vec;

/// `∂h_j/∂x_i` by central differences of the f64 encoder, as `[hidden][visible]`.
fn finite_difference_jacobian(host: &HostLayer, x: &[f64]) -> Vec<Vec<f64>> {
    let eps = 1e-5;
    let mut jac = vec![vec![0.0; host.visible()]; host.hidden()];
    for i in 0..host.visible() {
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[i] += eps;
        down[i] -= eps;
        let (hu, hd) = (host.encode(&up), host.encode(&down));
        for j in 0..host.hidden() {
            jac[j][i] = (hu[j] - hd[j]) / (2.0 * eps);
        }
    }
    jac
}

#[test]
fn penalty_is_the_squared_frobenius_norm_of_a_finite_difference_jacobian() {
    let device = Device::flex();
    let layer = random_layer(7, 5, 1.0, Decoder::Sigmoid, 3, &device);
    let host = HostLayer::of(&layer);
    let xs = random_unit_rows(6, 7, 8);
    let x = tensor_from_rows(&xs, &device);
    let penalty = to_vec(layer.contraction(x.clone()));
    let from_h = to_vec(jacobian_norm2(&layer.encode(x), &layer.weights));
    for (n, xn) in xs.iter().enumerate() {
        let jac = finite_difference_jacobian(&host, xn);
        let frobenius2: f64 = jac.iter().flatten().map(|d| d * d).sum();
        assert!(frobenius2 > 0.05, "too small to tell: {frobenius2}");
        for got in [penalty[n] as f64, from_h[n] as f64] {
            assert!(
                (got - frobenius2).abs() <= 1e-5 * frobenius2,
                "example {n}: penalty {got}, ‖J‖²_F by finite differences {frobenius2}"
            );
        }
        // The Jacobian itself, element by element.
        let row: Vec<f32> = xn.iter().map(|&v| v as f32).collect();
        let exact = rows(layer.jacobian(Tensor::from_data(TensorData::new(row, [7]), &device)));
        for j in 0..5 {
            for i in 0..7 {
                assert!((exact[j][i] - jac[j][i]).abs() < 1e-6, "J[{j}][{i}]");
            }
        }
    }
}

#[test]
fn penalty_grows_with_the_weights_and_vanishes_without_them() {
    let device = Device::flex();
    let layer = random_layer(4, 3, 0.5, Decoder::Sigmoid, 1, &device);
    let x = tensor_from_rows(&random_unit_rows(3, 4, 2), &device);
    let mut zero = layer.clone();
    zero.weights = zero.weights.zeros_like();
    assert_eq!(to_vec(zero.contraction(x.clone())), vec![0.0; 3]);
    // With W doubled and c = 0, x = 0 (h = ½, s = ¼): ‖J‖² = Σ_j (1/16)·4 q_j, four times more.
    let mut centred = layer.clone();
    centred.hidden_bias = centred.hidden_bias.zeros_like();
    let mut doubled = centred.clone();
    doubled.weights = doubled.weights.mul_scalar(2.0);
    let origin = Tensor::<2>::zeros([1, 4], &device);
    let (a, b) = (
        to_vec(centred.contraction(origin.clone()))[0],
        to_vec(doubled.contraction(origin))[0],
    );
    let q: f32 = to_vec(layer.weights.clone().square().sum()).iter().sum();
    assert!(
        (a - q / 16.0).abs() < 1e-6 && (b - 4.0 * a).abs() < 1e-5,
        "{a} {b} {q}"
    );
}
