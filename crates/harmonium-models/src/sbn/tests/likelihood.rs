//! Importance sampling against the exact values: the estimate lies within a few of its standard
//! errors of log p(v), the sampled bound within a few of its own of the exact bound, and never
//! above the estimate; the delta-method standard error matches the spread over repeats; a
//! recognition net equal to the posterior gives exact answers with zero error.

use burn::tensor::{Device, Tensor};

use super::{random_bits, random_sbn};
use crate::eval::to_vec;
use crate::rbm::HostDraws;
use crate::sbn::likelihood::from_log_weights;
use crate::sbn::model::repeat_rows;
use crate::sbn::{Sbn, SbnError};

/// The estimator's own arithmetic (v never repeated, `v·a⁰ = v·b⁰ + h¹·v(G¹)ᵀ`) gives the same
/// weights as `log p(v, h) − log q(h | v)` of the states the bottom-up pass samples from the
/// same uniforms.
#[test]
fn the_importance_weights_are_log_p_minus_log_q_of_the_recognized_states() {
    let device = Device::flex();
    let sbn = random_sbn(&[7, 4, 3, 2], 1.5, 19, &device);
    let (n, k) = (5, 6);
    let v = random_bits(n, 7, 20, &device);
    let is = sbn
        .importance_sampling(&v, k, &mut HostDraws::new(33))
        .unwrap();
    let states = sbn.recognize(repeat_rows(v, k), &mut HostDraws::new(33));
    let log_w = to_vec(sbn.log_joint(&states) - sbn.log_recognition(&states));
    for (b, w) in log_w.chunks_exact(k).enumerate() {
        let w: Vec<f64> = w.iter().map(|&x| x as f64).collect();
        let (ll, ll_se, bound, bound_se) = from_log_weights(&w);
        assert!((is.log_likelihood[b] - ll).abs() < 1e-4, "{b}");
        assert!((is.bound[b] - bound).abs() < 1e-4, "{b}");
        assert!((is.log_likelihood_se[b] - ll_se).abs() < 1e-4, "{b}");
        assert!((is.bound_se[b] - bound_se).abs() < 1e-4, "{b}");
    }
    // The k samples of an example differ (the weights are not one value repeated).
    assert!(is.bound_se.iter().all(|&s| s > 0.0));
}

#[test]
fn importance_sampling_matches_the_exact_log_likelihood_within_its_standard_error() {
    let device = Device::flex();
    let sbn = random_sbn(&[6, 4, 3], 1.0, 21, &device);
    let v = random_bits(20, 6, 22, &device);
    let exact = sbn.exact_evaluation(&v, 16).unwrap();
    let is = sbn
        .importance_sampling(&v, 2000, &mut HostDraws::new(23))
        .unwrap();
    assert_eq!(is.samples, 2000);
    assert_eq!(is.log_likelihood.len(), 20);
    for b in 0..20 {
        let (ll, se) = (is.log_likelihood[b], is.log_likelihood_se[b]);
        let want = exact.log_likelihood[b];
        assert!(se > 0.0 && se < 0.1, "{b}: se {se}");
        assert!(
            (ll - want).abs() < 5.0 * se,
            "{b}: IS {ll} ± {se} vs exact {want}"
        );
        let (bound, bound_se) = (is.bound[b], is.bound_se[b]);
        assert!(
            (bound - exact.bound[b]).abs() < 5.0 * bound_se,
            "{b}: sampled bound {bound} ± {bound_se} vs exact {}",
            exact.bound[b]
        );
        assert!(
            bound <= ll,
            "{b}: the bound {bound} is above the estimate {ll}"
        );
    }
    let (mean, se) = (is.mean_log_likelihood(), is.mean_log_likelihood_se());
    let want = exact.mean_log_likelihood();
    println!(
        "IS {mean:.4} ± {se:.4}, exact {want:.4}; bound {:.4}",
        exact.mean_bound()
    );
    assert!((mean - want).abs() < 4.0 * se, "{mean} ± {se} vs {want}");
    assert!((is.mean_bound() - exact.mean_bound()).abs() < 4.0 * is.mean_bound_se());
    // The gap between the estimate and the bound is the KL, well resolved by the errors.
    assert!(mean - is.mean_bound() > 10.0 * se.max(is.mean_bound_se()));
}

/// Repeats of a small-k estimate on one example scatter by about the standard error each
/// reports.
#[test]
fn the_standard_errors_match_the_spread_over_repeats() {
    let device = Device::flex();
    let sbn = random_sbn(&[6, 4, 3], 0.6, 24, &device);
    let repeats = 400;
    // One example repeated: each row is an independent estimate of the same log p(v).
    let v = random_bits(1, 6, 25, &device).repeat_dim(0, repeats);
    let is = sbn
        .importance_sampling(&v, 40, &mut HostDraws::new(26))
        .unwrap();
    let spread = |xs: &[f64]| {
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
    };
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let ratio = spread(&is.log_likelihood) / mean(&is.log_likelihood_se);
    let bound_ratio = spread(&is.bound) / mean(&is.bound_se);
    println!("spread / se: log p̂ {ratio:.3}, bound {bound_ratio:.3}");
    assert!((0.8..1.25).contains(&ratio), "{ratio}");
    assert!((0.85..1.15).contains(&bound_ratio), "{bound_ratio}");
}

/// With G¹ = 0 the visible units ignore h¹, so the posterior is the prior σ(b¹); a recognition
/// net with R¹ = 0 and r¹ = b¹ is then exact: every weight equals p(v).
#[test]
fn an_exact_recognition_net_gives_the_exact_answer_with_zero_error() {
    let device = Device::flex();
    let mut sbn = random_sbn(&[5, 3], 1.0, 27, &device);
    sbn.generative[0] = sbn.generative[0].zeros_like();
    sbn.recognition[0] = sbn.recognition[0].zeros_like();
    sbn.recognition_biases[0] = sbn.generative_biases[1].clone();
    let v = random_bits(4, 5, 28, &device);
    let exact = sbn.exact_evaluation(&v, 16).unwrap();
    let is = sbn
        .importance_sampling(&v, 10, &mut HostDraws::new(29))
        .unwrap();
    for b in 0..4 {
        assert!(exact.kl()[b].abs() < 1e-5, "{:?}", exact.kl());
        assert!((is.log_likelihood[b] - exact.log_likelihood[b]).abs() < 1e-4);
        assert!((is.bound[b] - exact.log_likelihood[b]).abs() < 1e-4);
        assert!(is.log_likelihood_se[b] < 1e-3 && is.bound_se[b] < 1e-3);
    }
}

#[test]
fn fewer_than_two_samples_or_no_examples_are_errors() {
    let device = Device::flex();
    let sbn: Sbn = random_sbn(&[5, 3], 1.0, 30, &device);
    let v = random_bits(4, 5, 31, &device);
    match sbn.importance_sampling(&v, 1, &mut HostDraws::new(1)) {
        Err(e @ SbnError::Config(_)) => {
            assert!(e.to_string().contains("eval.importance_samples"), "{e}")
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let empty = Tensor::<2>::zeros([0, 5], &device);
    assert!(matches!(
        sbn.importance_sampling(&empty, 10, &mut HostDraws::new(1)),
        Err(SbnError::EmptyData)
    ));
}
