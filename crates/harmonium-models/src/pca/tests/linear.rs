//! Linear PCA: a hand-computed example, the principal subspace of Gaussian data with a known
//! covariance, exact reconstruction with k = d, the training error as the sum of the discarded
//! eigenvalues, centred and uncorrelated codes, determinism, errors and events.

use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::DMatrix;

use super::{gaussian_data, host, max_abs_diff, uniform};
use crate::events::{Event, VecSink};
use crate::pca::{Pca, PcaConfig, PcaError};

const VARIANCES: [f64; 6] = [10.0, 5.0, 1.0, 0.1, 0.05, 0.01];
const MEAN: [f64; 6] = [1.0, -2.0, 3.0, 0.5, 0.0, -1.0];

#[test]
fn a_hand_computed_example() {
    // Four points in 3-D with mean (0, 0, 2): C = diag(2/4, 0.5/4, 0) = diag(0.5, 0.125, 0).
    let device = Device::flex();
    let x = Tensor::<2>::from_data(
        TensorData::new(
            vec![
                1.0f32, 0.0, 2.0, -1.0, 0.0, 2.0, 0.0, 0.5, 2.0, 0.0, -0.5, 2.0,
            ],
            [4, 3],
        ),
        &device,
    );
    let pca = Pca::fit(&x, 2).unwrap();
    assert_eq!(pca.eigenvalues, vec![0.5, 0.125, 0.0]);
    let u = host(&pca.components);
    let expected = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    assert!(max_abs_diff(&u, &expected) < 1e-7, "{u}");
    let codes = host(&pca.project(&x).unwrap());
    let expected = DMatrix::from_row_slice(4, 2, &[1.0, 0.0, -1.0, 0.0, 0.0, 0.5, 0.0, -0.5]);
    assert!(max_abs_diff(&codes, &expected) < 1e-7, "{codes}");
    // k = 1 loses the second coordinate: errors 0, 0, 0.25, 0.25, mean 0.125 = λ₂ + λ₃.
    let one = Pca::fit(&x, 1).unwrap();
    assert!((one.reconstruction_error(&x).unwrap() - 0.125).abs() < 1e-7);
    assert_eq!(one.discarded_variance(), 0.125);
    assert!((one.explained_variance_ratio(1) - 0.8).abs() < 1e-12);
    let r = host(&one.reconstruct_data(&x).unwrap());
    let expected = DMatrix::from_row_slice(
        4,
        3,
        &[1.0, 0.0, 2.0, -1.0, 0.0, 2.0, 0.0, 0.0, 2.0, 0.0, 0.0, 2.0],
    );
    assert!(max_abs_diff(&r, &expected) < 1e-7, "{r}");
}

#[test]
fn recovers_the_principal_subspace_and_variances_of_gaussian_data() {
    let device = Device::flex();
    let n = 20_000;
    let (x, rotation) = gaussian_data(n, &VARIANCES, &MEAN, 7, &device);
    let k = 3;
    let pca = Pca::fit(&x, k).unwrap();
    // Eigenvalues within sampling error: the standard error of a variance estimate is
    // λ √(2/n) (1% here); allow four of them.
    for (j, (&got, &want)) in pca.eigenvalues.iter().zip(&VARIANCES).enumerate() {
        let se = want * (2.0 / n as f64).sqrt();
        assert!((got - want).abs() < 4.0 * se, "λ{}: {got} vs {want}", j + 1);
    }
    let mean: Vec<f64> = crate::eval::to_vec(pca.mean.clone())
        .iter()
        .map(|&m| m as f64)
        .collect();
    for (i, (&got, &want)) in mean.iter().zip(&MEAN).enumerate() {
        // The standard error of a mean is at most √(λ₁ / n) ≈ 0.022.
        assert!((got - want).abs() < 0.1, "μ{i}: {got} vs {want}");
    }
    let u_hat = host(&pca.components);
    let u = rotation.columns(0, k).into_owned();
    // Projector distance ‖Û Ûᵀ − U Uᵀ‖_F: the sampling error of the subspace is about
    // √(Σ_{i≤k<j} λ_i λ_j / (n (λ_i − λ_j)²)) ≈ 0.004; allow 0.02.
    let distance = (&u_hat * u_hat.transpose() - &u * u.transpose()).norm();
    assert!(distance < 0.02, "projector distance {distance}");
    // The largest principal angle between the subspaces: its cosine is the smallest singular
    // value of Ûᵀ U.
    let cosines = (u_hat.transpose() * &u).svd(false, false).singular_values;
    assert!(cosines.min() > 0.9998, "principal angle cosines {cosines}");
    // The two best-separated components one by one (up to sign: the true ones have none).
    for j in 0..2 {
        let c = u_hat.column(j).dot(&rotation.column(j)).abs();
        assert!(c > 0.999, "component {}: |cos| = {c}", j + 1);
    }
    // A subspace that is not principal (components 2–4) is far away: the test can fail.
    let wrong = rotation.columns(1, k).into_owned();
    assert!((&u_hat * u_hat.transpose() - &wrong * wrong.transpose()).norm() > 1.0);
}

#[test]
fn reconstruction_with_all_components_is_exact() {
    let device = Device::flex();
    let x = uniform(50, 7, -3.0, 5.0, 11, &device);
    let pca = Pca::fit(&x, 7).unwrap();
    let r = pca.reconstruct_data(&x).unwrap();
    let err = max_abs_diff(&host(&r), &host(&x));
    assert!(err < 1e-5, "max |x − x̂| = {err}");
    assert!(pca.reconstruction_error(&x).unwrap() < 1e-9);
    assert!(pca.discarded_variance().abs() < 1e-9);
    // Orthonormal components: UᵀU = I.
    let u = host(&pca.components);
    assert!(max_abs_diff(&(u.transpose() * &u), &DMatrix::identity(7, 7)) < 1e-6);
}

#[test]
fn training_error_is_the_sum_of_the_discarded_eigenvalues() {
    let device = Device::flex();
    let (both, _) = gaussian_data(4_000, &VARIANCES, &MEAN, 13, &device);
    let (x, y) = (
        both.clone().narrow(0, 0, 2_000),
        both.narrow(0, 2_000, 2_000),
    );
    let full = Pca::fit(&x, 6).unwrap();
    for k in 1..=6 {
        let pca = Pca::fit(&x, k).unwrap();
        assert_eq!(pca.eigenvalues, full.eigenvalues);
        let discarded: f64 = full.eigenvalues[k..].iter().sum();
        let error = pca.reconstruction_error(&x).unwrap();
        assert!(
            (error - discarded).abs() < 1e-4 * full.total_variance(),
            "k = {k}: error {error} vs Σ discarded λ {discarded}"
        );
        // The total variance splits into the explained and the discarded parts.
        let explained: f64 = pca.explained_variance().iter().sum();
        assert!((explained + discarded - full.total_variance()).abs() < 1e-9);
    }
    // On a fresh sample the error is not the training closed form exactly, but close.
    let pca = Pca::fit(&x, 2).unwrap();
    let held_out = pca.reconstruction_error(&y).unwrap();
    assert!(
        (held_out - pca.discarded_variance()).abs() < 0.1,
        "{held_out}"
    );
}

#[test]
fn training_codes_are_centred_and_uncorrelated_with_the_eigenvalues_as_variances() {
    let device = Device::flex();
    let n = 3_000;
    let (x, _) = gaussian_data(n, &VARIANCES, &MEAN, 17, &device);
    let pca = Pca::fit(&x, 4).unwrap();
    let z = host(&pca.project(&x).unwrap());
    let mean = z.row_mean();
    assert!(mean.abs().max() < 1e-4, "code means {mean}");
    let centred = DMatrix::from_fn(n, 4, |i, j| z[(i, j)] - mean[j]);
    let cov = centred.transpose() * &centred / n as f64;
    for i in 0..4 {
        for j in 0..4 {
            if i == j {
                let want = pca.eigenvalues[i];
                assert!((cov[(i, i)] - want).abs() < 1e-4 * want, "var z{i}");
            } else {
                assert!(
                    cov[(i, j)].abs() < 1e-4,
                    "cov(z{i}, z{j}) = {}",
                    cov[(i, j)]
                );
            }
        }
    }
}

#[test]
fn components_are_sorted_sign_normalised_and_deterministic() {
    let device = Device::flex();
    let (x, _) = gaussian_data(500, &VARIANCES, &MEAN, 19, &device);
    let pca = Pca::fit(&x, 6).unwrap();
    assert!(pca.eigenvalues.windows(2).all(|w| w[0] >= w[1]));
    let u = host(&pca.components);
    for j in 0..6 {
        let column = u.column(j);
        let largest = column
            .iter()
            .fold(0.0f64, |m, &v| if v.abs() > m.abs() { v } else { m });
        assert!(largest > 0.0, "component {j}: largest entry {largest}");
    }
    // Negated data has the same covariance: the same components, not their negatives.
    let again = Pca::fit(&x.clone().neg(), 6).unwrap();
    assert_eq!(
        crate::eval::to_vec(again.components.clone()),
        crate::eval::to_vec(pca.components.clone())
    );
    assert_eq!(again.eigenvalues, pca.eigenvalues);
}

#[test]
fn bad_input_is_refused_with_errors_naming_the_key() {
    let device = Device::flex();
    let x = uniform(10, 4, 0.0, 1.0, 23, &device);
    let message = |e: PcaError| e.to_string();
    let e = message(Pca::fit(&x, 0).unwrap_err());
    assert!(e.contains("components") && e.contains("at least 1"), "{e}");
    let e = message(Pca::fit(&x, 5).unwrap_err());
    assert!(
        e.contains("components") && e.contains("larger than the input"),
        "{e}"
    );
    let empty = Tensor::<2>::zeros([0, 4], &device);
    assert!(matches!(Pca::fit(&empty, 2), Err(PcaError::EmptyData(_))));
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut v = crate::eval::to_vec(x.clone());
        v[13] = bad;
        let y = Tensor::<2>::from_data(TensorData::new(v, [10, 4]), &device);
        let e = Pca::fit(&y, 2).unwrap_err();
        assert!(matches!(e, PcaError::NonFinite(_)), "{e}");
        let pca = Pca::fit(&x, 2).unwrap();
        assert!(matches!(
            pca.reconstruction_error(&y),
            Err(PcaError::NonFinite(_))
        ));
    }
    // Huge finite values whose squares overflow f32.
    let huge = x.clone().mul_scalar(1e30);
    assert!(matches!(Pca::fit(&huge, 2), Err(PcaError::NonFinite(_))));
    let pca = Pca::fit(&x, 2).unwrap();
    let e = pca
        .project(&uniform(3, 5, 0.0, 1.0, 1, &device))
        .unwrap_err();
    assert!(
        matches!(
            &e,
            PcaError::Shape {
                expected: 4,
                got: 5,
                ..
            }
        ),
        "{e}"
    );
    let e = pca
        .reconstruct(&uniform(3, 3, 0.0, 1.0, 1, &device))
        .unwrap_err();
    assert!(
        matches!(
            &e,
            PcaError::Shape {
                expected: 2,
                got: 3,
                ..
            }
        ),
        "{e}"
    );
    assert!(PcaConfig { components: 0 }.validate().is_err());
    let e = serde_json::from_str::<PcaConfig>(r#"{"component": 3}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field"), "{e}");
    let cfg: PcaConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, PcaConfig::default());
}

#[test]
fn fit_with_events_reports_eigenvalues_explained_variance_and_error() {
    let device = Device::flex();
    let (x, _) = gaussian_data(1_000, &VARIANCES, &MEAN, 29, &device);
    let mut sink = VecSink::default();
    let cfg = PcaConfig { components: 3 };
    let (pca, summary) = Pca::fit_with_events(&x, &cfg, &mut sink).unwrap();
    let eigen = sink.series("eigenvalue");
    assert_eq!(eigen.len(), 3);
    for (j, &(step, value)) in eigen.iter().enumerate() {
        assert_eq!((step, value), ((j + 1) as u64, pca.eigenvalues[j]));
    }
    let explained = sink.series("explained_variance");
    assert_eq!(
        explained.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(explained.windows(2).all(|w| w[0].1 < w[1].1));
    let total: f64 = pca.eigenvalues.iter().sum();
    assert!((explained[2].1 - pca.eigenvalues[..3].iter().sum::<f64>() / total).abs() < 1e-12);
    let error = sink.series("train_recon_error");
    assert_eq!(error.len(), 1);
    assert_eq!(error[0].0, 3);
    assert!((error[0].1 - pca.discarded_variance()).abs() < 1e-3 * total);
    assert!(sink.0.iter().any(|e| matches!(
        e,
        Event::Progress { stage, done: 1, total: 1 } if stage == "pca"
    )));
    assert_eq!(summary.iterations, 1);
    assert!(!summary.stopped_early);
    let keys: Vec<&str> = summary
        .final_metrics
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        keys,
        vec!["eigenvalue", "explained_variance", "train_recon_error"]
    );
    let bad = PcaConfig { components: 7 };
    let e = Pca::fit_with_events(&x, &bad, &mut sink).unwrap_err();
    assert!(e.to_string().contains("larger than the input"), "{e}");
}
