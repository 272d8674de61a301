//! Exact evaluation by enumeration against the brute-force f64 sums: log p(v), the bound and
//! KL(Q ‖ P), across several blocks of states; p(v) sums to one over all v; the bound is below
//! log p(v) by exactly KL(Q ‖ P).

use burn::tensor::Device;

use super::{HostSbn, random_bits, random_sbn};
use crate::eval::EvalError;
use crate::eval::exact::binary_states;
use crate::eval::testing::{log_sum_exp, rows};
use crate::sbn::SbnError;

fn near(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 2e-4 * (1.0 + want.abs()),
        "{what}: {got} vs brute force {want}"
    );
}

#[test]
fn exact_log_likelihood_and_bound_match_brute_force() {
    let device = Device::flex();
    for (sizes, seed) in [(vec![5, 3], 1), (vec![5, 3, 2], 2), (vec![4, 2, 2, 3], 3)] {
        let sbn = random_sbn(&sizes, 1.5, seed, &device);
        let host = HostSbn::of(&sbn);
        let v = random_bits(9, sizes[0], 30 + seed, &device);
        let exact = sbn.exact_evaluation(&v, 16).unwrap();
        for (b, x) in rows(v).iter().enumerate() {
            near(
                exact.log_likelihood[b],
                host.log_p(x),
                &format!("{sizes:?} log p({b})"),
            );
            near(
                exact.bound[b],
                host.bound(x),
                &format!("{sizes:?} bound({b})"),
            );
        }
    }
}

/// 2^15 joint hidden states are scored in two blocks of 2^14; the sums must not depend on the
/// split.
#[test]
fn exact_evaluation_adds_up_blocks_of_states() {
    let device = Device::flex();
    let sbn = random_sbn(&[3, 9, 6], 0.7, 4, &device);
    let host = HostSbn::of(&sbn);
    let v = random_bits(3, 3, 5, &device);
    let exact = sbn.exact_evaluation(&v, 15).unwrap();
    for (b, x) in rows(v).iter().enumerate() {
        near(exact.log_likelihood[b], host.log_p(x), "log p");
        near(exact.bound[b], host.bound(x), "bound");
    }
}

#[test]
fn the_bound_is_below_log_p_by_exactly_kl_q_p_and_p_v_sums_to_one() {
    let device = Device::flex();
    let sbn = random_sbn(&[5, 3, 2], 2.0, 6, &device);
    let host = HostSbn::of(&sbn);
    let all = binary_states(5, 0, 32, &device);
    let exact = sbn.exact_evaluation(&all, 16).unwrap();
    let total = log_sum_exp(&exact.log_likelihood);
    assert!(total.abs() < 1e-4, "log Σ_v p(v) = {total}");
    let kl = exact.kl();
    for (s, x) in rows(all).iter().enumerate() {
        let want = host.kl_q_p(x);
        assert!(kl[s] >= -1e-4, "KL(Q‖P) of {s} is {}", kl[s]);
        assert!(exact.bound[s] <= exact.log_likelihood[s] + 1e-4);
        assert!(
            (kl[s] - want).abs() < 2e-4,
            "{s}: log p − bound {} vs KL {want}",
            kl[s]
        );
    }
    // A random recognition net is a poor posterior: the gap is not negligible.
    assert!(exact.mean_kl() > 0.1, "{}", exact.mean_kl());
    assert!((exact.mean_kl() - (exact.mean_log_likelihood() - exact.mean_bound())).abs() < 1e-12);
}

#[test]
fn too_many_hidden_units_to_enumerate_is_an_error() {
    let device = Device::flex();
    let sbn = random_sbn(&[3, 10, 8], 1.0, 7, &device);
    assert!(!sbn.is_enumerable(16) && sbn.is_enumerable(18));
    let v = random_bits(2, 3, 8, &device);
    match sbn.exact_evaluation(&v, 16) {
        Err(SbnError::Eval(EvalError::Unsupported(m))) => {
            assert!(
                m.contains("at most 16 units") && m.contains("[3, 10, 8]"),
                "{m}"
            )
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
