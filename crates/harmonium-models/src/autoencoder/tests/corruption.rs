//! Masking zeroes the configured fraction and leaves the rest alone; Gaussian corruption adds
//! noise of mean 0 and the configured variance; both over many draws, within a few standard
//! errors; fresh numbers at each call.

use burn::tensor::{Device, Tensor};

use crate::autoencoder::Corruption;
use crate::eval::testing::HostRng;
use crate::eval::to_vec;
use crate::rbm::{DeviceDraws, HostDraws};

/// Values in [0.5, 1.5): none is 0 before masking.
fn positive(n: usize, m: usize, device: &Device) -> Tensor<2> {
    HostRng::new(12).tensor2(n, m, 0.5, device).add_scalar(1.0)
}

#[test]
fn masking_zeroes_the_configured_fraction_and_keeps_the_rest() {
    let device = Device::flex();
    let x = positive(200, 500, &device);
    let before = to_vec(x.clone());
    let mut draws = HostDraws::new(7);
    for nu in [0.1, 0.25, 0.5] {
        let after = to_vec(Corruption::Masking(nu).apply(&x, &mut draws));
        let zeros = after.iter().filter(|&&v| v == 0.0).count();
        let n = after.len() as f64;
        let fraction = zeros as f64 / n;
        let se = (nu * (1.0 - nu) / n).sqrt();
        assert!(
            (fraction - nu).abs() < 4.0 * se,
            "ν = {nu}: {fraction} of the inputs are 0 (standard error {se})"
        );
        assert!(
            before.iter().zip(&after).all(|(&b, &a)| a == 0.0 || a == b),
            "a kept input changed"
        );
    }
    // Fresh numbers at each call, on the device's generator too.
    let c = Corruption::Masking(0.5);
    let (a, b) = (c.apply(&x, &mut draws), c.apply(&x, &mut draws));
    assert!(to_vec(a) != to_vec(b));
    let on_device = to_vec(c.apply(&x, &mut DeviceDraws));
    let fraction = on_device.iter().filter(|&&v| v == 0.0).count() as f64 / on_device.len() as f64;
    assert!((fraction - 0.5).abs() < 4.0 * (0.25 / on_device.len() as f64).sqrt());
}

#[test]
fn gaussian_corruption_has_the_configured_variance() {
    let device = Device::flex();
    let x = positive(200, 500, &device);
    let mut draws = HostDraws::new(3);
    for sigma in [0.1, 0.5] {
        let noise: Vec<f64> = to_vec(Corruption::Gaussian(sigma).apply(&x, &mut draws) - x.clone())
            .into_iter()
            .map(f64::from)
            .collect();
        let n = noise.len() as f64;
        let mean = noise.iter().sum::<f64>() / n;
        let var = noise.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let s2 = sigma * sigma;
        assert!(
            mean.abs() < 4.0 * sigma / n.sqrt(),
            "σ = {sigma}: mean {mean}"
        );
        // The sample variance of normal noise has standard error σ²·√(2/(n−1)).
        assert!(
            (var - s2).abs() < 4.0 * s2 * (2.0 / (n - 1.0)).sqrt(),
            "σ = {sigma}: variance {var} against {s2}"
        );
    }
}

#[test]
fn no_corruption_leaves_the_input_alone() {
    let device = Device::flex();
    let x = positive(10, 20, &device);
    let mut draws = HostDraws::new(1);
    for c in [
        Corruption::None,
        Corruption::Masking(0.0),
        Corruption::Gaussian(0.0),
    ] {
        assert!(c.is_identity());
        assert_eq!(to_vec(c.apply(&x, &mut draws)), to_vec(x.clone()));
    }
    assert!(!Corruption::Masking(0.1).is_identity());
}
