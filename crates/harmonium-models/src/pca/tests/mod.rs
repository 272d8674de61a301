//! Tests of PCA and logistic PCA, next to what they check: [`linear`] (a hand-computed example,
//! the principal subspace of Gaussian data of known covariance, exact full-rank reconstruction,
//! the training error as the discarded eigenvalues, centred uncorrelated codes, errors, events),
//! [`logistic`] (gradients against finite differences, steps that never go uphill, an exactly
//! representable model, codes of new data, MNIST against PCA, events, stopping, config) and
//! [`pictures`] (grid layout, code map colours); [`measure`] (ignored) prints the MNIST figures
//! of Hinton & Salakhutdinov (2006) as measured here.

use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::DMatrix;

use super::host::to_host;
use crate::eval::testing::HostRng;

mod linear;
mod logistic;
mod measure;
mod pictures;

/// A standard normal number (Box–Muller).
pub(crate) fn normal(rng: &mut HostRng) -> f64 {
    let (u, v) = (1.0 - rng.uniform(), rng.uniform());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A random d×d rotation: the Q of a Gaussian matrix's QR decomposition.
pub(crate) fn random_rotation(d: usize, rng: &mut HostRng) -> DMatrix<f64> {
    DMatrix::from_fn(d, d, |_, _| normal(rng)).qr().q()
}

/// `n` draws from N(mean, R diag(variances) Rᵀ) as [n, d] with a random rotation R (returned).
pub(crate) fn gaussian_data(
    n: usize,
    variances: &[f64],
    mean: &[f64],
    seed: u64,
    device: &Device,
) -> (Tensor<2>, DMatrix<f64>) {
    let d = variances.len();
    let mut rng = HostRng::new(seed);
    let r = random_rotation(d, &mut rng);
    let mut values = Vec::with_capacity(n * d);
    for _ in 0..n {
        let z: Vec<f64> = variances
            .iter()
            .map(|v| v.sqrt() * normal(&mut rng))
            .collect();
        for i in 0..d {
            let x: f64 = (0..d).map(|j| r[(i, j)] * z[j]).sum();
            values.push((x + mean[i]) as f32);
        }
    }
    (
        Tensor::from_data(TensorData::new(values, [n, d]), device),
        r,
    )
}

/// A tensor read back as an f64 matrix.
pub(crate) fn host(t: &Tensor<2>) -> DMatrix<f64> {
    to_host(t.clone())
}

/// Values uniform in [lo, hi) as [n, d].
pub(crate) fn uniform(
    n: usize,
    d: usize,
    lo: f64,
    hi: f64,
    seed: u64,
    device: &Device,
) -> Tensor<2> {
    let mut rng = HostRng::new(seed);
    let v: Vec<f32> = (0..n * d)
        .map(|_| (lo + (hi - lo) * rng.uniform()) as f32)
        .collect();
    Tensor::from_data(TensorData::new(v, [n, d]), device)
}

/// The largest absolute difference between two matrices.
pub(crate) fn max_abs_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    (a - b).abs().max()
}
