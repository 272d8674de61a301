//! The two delta rules are the exact gradients of log p(v, h) (wake) and log q(h | v) (sleep)
//! at the given states, checked against central differences of the brute-force f64
//! log-probabilities; the updates move every parameter by ε(S − λθ); the sleep phase alone
//! fits the recognition net to the true posterior.

use burn::tensor::{Device, Tensor};

use super::{HostSbn, random_bits, random_sbn};
use crate::eval::testing::rows;
use crate::eval::to_vec;
use crate::rbm::HostDraws;

const SIZES: [usize; 4] = [5, 4, 3, 2];
const BATCH: usize = 6;

fn states(device: &Device) -> (Vec<Tensor<2>>, Vec<Vec<Vec<f64>>>) {
    let states: Vec<Tensor<2>> = SIZES
        .iter()
        .enumerate()
        .map(|(l, &n)| random_bits(BATCH, n, 20 + l as u64, device))
        .collect();
    let examples = (0..BATCH)
        .map(|b| states.iter().map(|s| rows(s.clone())[b].clone()).collect())
        .collect();
    (states, examples)
}

/// Central difference of `f` at one parameter reached by `param`.
fn derivative(
    host: &HostSbn,
    param: impl Fn(&mut HostSbn) -> &mut f64,
    f: impl Fn(&HostSbn) -> f64,
) -> f64 {
    let eps = 1e-5;
    let (mut up, mut down) = (host.clone(), host.clone());
    *param(&mut up) += eps;
    *param(&mut down) -= eps;
    (f(&up) - f(&down)) / (2.0 * eps)
}

fn close(got: f32, want: f64, what: &str) {
    assert!(
        (got as f64 - want).abs() < 2e-4,
        "{what}: rule {got} vs gradient {want}"
    );
}

#[test]
fn the_wake_rule_is_the_gradient_of_log_p_v_h_at_the_sampled_states() {
    let device = Device::flex();
    let sbn = random_sbn(&SIZES, 1.0, 11, &device);
    let host = HostSbn::of(&sbn);
    let (states, examples) = states(&device);
    let mean_log_joint =
        |h: &HostSbn| examples.iter().map(|x| h.log_joint(x)).sum::<f64>() / BATCH as f64;
    let stats = sbn.wake_statistics(&states);
    assert_eq!(stats.generative.len(), 3);
    assert_eq!(stats.generative_biases.len(), 4);
    for l in 0..SIZES.len() {
        let got = to_vec(stats.generative_biases[l].clone());
        for (i, &g) in got.iter().enumerate() {
            let want = derivative(&host, |h| &mut h.gb[l][i], mean_log_joint);
            close(g, want, &format!("b{l}_{i}"));
        }
    }
    for l in 1..SIZES.len() {
        assert_eq!(stats.generative[l - 1].dims(), [SIZES[l], SIZES[l - 1]]);
        let got = rows(stats.generative[l - 1].clone());
        for (j, row) in got.iter().enumerate() {
            for (i, &g) in row.iter().enumerate() {
                let want = derivative(&host, |h| &mut h.g[l - 1][j][i], mean_log_joint);
                close(g as f32, want, &format!("G{l}_{j}{i}"));
            }
        }
    }
}

#[test]
fn the_sleep_rule_is_the_gradient_of_log_q_h_given_v_at_the_fantasies() {
    let device = Device::flex();
    let sbn = random_sbn(&SIZES, 1.0, 12, &device);
    let host = HostSbn::of(&sbn);
    let (states, examples) = states(&device);
    let mean_log_q = |h: &HostSbn| examples.iter().map(|x| h.log_q(x)).sum::<f64>() / BATCH as f64;
    let stats = sbn.sleep_statistics(&states);
    for l in 1..SIZES.len() {
        let got = to_vec(stats.recognition_biases[l - 1].clone());
        for (j, &g) in got.iter().enumerate() {
            let want = derivative(&host, |h| &mut h.rb[l - 1][j], mean_log_q);
            close(g, want, &format!("r{l}_{j}"));
        }
        assert_eq!(stats.recognition[l - 1].dims(), [SIZES[l - 1], SIZES[l]]);
        for (i, row) in rows(stats.recognition[l - 1].clone()).iter().enumerate() {
            for (j, &g) in row.iter().enumerate() {
                let want = derivative(&host, |h| &mut h.r[l - 1][i][j], mean_log_q);
                close(g as f32, want, &format!("R{l}_{i}{j}"));
            }
        }
    }
    // The generative weights do not enter log q.
    let want = derivative(&host, |h| &mut h.g[0][0][0], mean_log_q);
    assert_eq!(want, 0.0);
}

#[test]
fn updates_move_each_parameter_by_lr_times_its_statistic_less_the_weight_cost() {
    let device = Device::flex();
    let sbn = random_sbn(&SIZES, 1.0, 13, &device);
    let (states, _) = states(&device);
    let (lr, wc) = (0.3, 0.1);
    let flat = |t: &Tensor<2>| to_vec(t.clone());
    let check = |old: Vec<f32>, stat: Vec<f32>, new: Vec<f32>, decay: f64, what: &str| {
        for ((o, s), n) in old.iter().zip(stat).zip(new) {
            let want = *o as f64 * decay + lr * s as f64;
            assert!((n as f64 - want).abs() < 1e-6, "{what}: {n} vs {want}");
        }
    };

    let stats = sbn.wake_statistics(&states);
    let mut woke = sbn.clone();
    woke.apply_wake(&stats, lr, wc);
    for l in 0..3 {
        let (old, new) = (flat(&sbn.generative[l]), flat(&woke.generative[l]));
        check(old, flat(&stats.generative[l]), new, 1.0 - lr * wc, "G");
        assert_eq!(flat(&sbn.recognition[l]), flat(&woke.recognition[l]));
    }
    for l in 0..4 {
        let old = to_vec(sbn.generative_biases[l].clone());
        let new = to_vec(woke.generative_biases[l].clone());
        check(
            old,
            to_vec(stats.generative_biases[l].clone()),
            new,
            1.0,
            "b",
        );
    }

    let stats = sbn.sleep_statistics(&states);
    let mut slept = sbn.clone();
    slept.apply_sleep(&stats, lr, wc);
    for l in 0..3 {
        let (old, new) = (flat(&sbn.recognition[l]), flat(&slept.recognition[l]));
        check(old, flat(&stats.recognition[l]), new, 1.0 - lr * wc, "R");
        let old = to_vec(sbn.recognition_biases[l].clone());
        let new = to_vec(slept.recognition_biases[l].clone());
        check(
            old,
            to_vec(stats.recognition_biases[l].clone()),
            new,
            1.0,
            "r",
        );
        assert_eq!(flat(&sbn.generative[l]), flat(&slept.generative[l]));
    }
}

/// With the generative net held fixed, sleep phases alone drive the recognition net towards
/// the true posterior: E_{p(v)} KL(P(·|v) ‖ Q(·|v)), computed by enumeration, falls far below
/// its value for a recognition net that ignores its input.
#[test]
fn sleep_phases_alone_fit_the_recognition_net_to_the_true_posterior() {
    let device = Device::flex();
    let mut sbn = random_sbn(&[4, 3, 2], 2.5, 14, &device);
    for (r, b) in sbn.recognition.iter_mut().zip(&mut sbn.recognition_biases) {
        *r = r.zeros_like();
        *b = b.zeros_like();
    }
    let before = HostSbn::of(&sbn).expected_kl_p_q();
    let generative = sbn.generative.clone();
    let mut draws = HostDraws::new(15);
    for _ in 0..1500 {
        sbn.sleep_phase(50, 0.2, 0.0, &mut draws);
    }
    let after = HostSbn::of(&sbn).expected_kl_p_q();
    println!("E KL(P||Q): {before:.4} -> {after:.4}");
    assert!(before > 0.5, "the posterior is too easy: {before}");
    assert!(after < 0.25 * before, "{before} -> {after}");
    for (g, g0) in sbn.generative.iter().zip(&generative) {
        assert_eq!(to_vec(g.clone()), to_vec(g0.clone()));
    }
}
