//! Composition (halved middle RBMs, first and last kept) and the constrained RBMs' CD statistics
//! against a hand computation with fixed draws.

use burn::tensor::{Device, Distribution, Tensor};

use crate::dbm::{Constraint, compose, constrained_cd_statistics, pretrain};
use crate::eval::testing::{
    FixedDraws, HostParams, random_rbm, rows, sigmoid as sig, tensor_from_rows,
};
use crate::eval::to_vec;
use crate::events::{Event, VecSink};
use crate::rbm::{CdStatistics, RbmConfig, RbmEvalConfig};

fn flat2(t: Tensor<2>) -> Vec<f64> {
    to_vec(t).into_iter().map(f64::from).collect()
}

fn flat1(t: Tensor<1>) -> Vec<f64> {
    to_vec(t).into_iter().map(f64::from).collect()
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-5, "{what}[{k}]: got {g}, expected {w}");
    }
}

#[test]
fn composition_halves_the_middle_rbms_and_keeps_the_first_and_last() {
    let device = Device::flex();
    let r1 = random_rbm(6, 4, 1.0, 1, &device);
    let r2 = random_rbm(4, 3, 1.0, 2, &device);
    let r3 = random_rbm(3, 2, 1.0, 3, &device);
    let dbm = compose(&[r1.clone(), r2.clone(), r3.clone()]).unwrap();
    assert_eq!(dbm.sizes(), vec![6, 4, 3, 2]);
    let half = |x: Vec<f64>| x.into_iter().map(|a| a / 2.0).collect::<Vec<_>>();
    let sum_half = |a: Vec<f64>, b: Vec<f64>| {
        a.iter()
            .zip(&b)
            .map(|(a, b)| (a + b) / 2.0)
            .collect::<Vec<_>>()
    };
    assert_close(
        &flat2(dbm.weights[0].clone()),
        &flat2(r1.weights.clone()),
        "W¹ = W_1",
    );
    assert_close(
        &flat2(dbm.weights[1].clone()),
        &half(flat2(r2.weights.clone())),
        "W² = W_2/2",
    );
    assert_close(
        &flat2(dbm.weights[2].clone()),
        &flat2(r3.weights.clone()),
        "W³ = W_3",
    );
    assert_close(
        &flat1(dbm.visible_bias.clone()),
        &flat1(r1.visible_bias.clone()),
        "b = b_1",
    );
    let c1 = sum_half(
        flat1(r1.hidden_bias.clone()),
        flat1(r2.visible_bias.clone()),
    );
    assert_close(
        &flat1(dbm.hidden_biases[0].clone()),
        &c1,
        "c¹ = (c_1 + b_2)/2",
    );
    let c2 = sum_half(
        flat1(r2.hidden_bias.clone()),
        flat1(r3.visible_bias.clone()),
    );
    assert_close(
        &flat1(dbm.hidden_biases[1].clone()),
        &c2,
        "c² = (c_2 + b_3)/2",
    );
    assert_close(
        &flat1(dbm.hidden_biases[2].clone()),
        &flat1(r3.hidden_bias.clone()),
        "c³ = c_3",
    );

    // Two hidden layers: no middle RBM, both weight matrices kept.
    let dbm = compose(&[r1.clone(), r2.clone()]).unwrap();
    assert_close(
        &flat2(dbm.weights[1].clone()),
        &flat2(r2.weights.clone()),
        "2 layers: W² = W_2",
    );
    assert_close(
        &flat1(dbm.hidden_biases[1].clone()),
        &flat1(r2.hidden_bias.clone()),
        "c² = c_2",
    );
}

fn threshold(p: &[Vec<f64>], u: &[Vec<f64>]) -> Vec<Vec<f64>> {
    p.iter()
        .zip(u)
        .map(|(p, u)| p.iter().zip(u).map(|(p, u)| (p > u) as u8 as f64).collect())
        .collect()
}

/// Host p(h|v) = σ(c + α vW) and p(v|h) = σ(b + β hWᵀ).
fn host_up(p: &HostParams, alpha: f64, v: &[Vec<f64>]) -> Vec<Vec<f64>> {
    v.iter()
        .map(|v| {
            (0..p.c.len())
                .map(|j| sig(p.c[j] + alpha * (0..v.len()).map(|i| v[i] * p.w[i][j]).sum::<f64>()))
                .collect()
        })
        .collect()
}

fn host_down(p: &HostParams, beta: f64, h: &[Vec<f64>]) -> Vec<Vec<f64>> {
    h.iter()
        .map(|h| {
            (0..p.b.len())
                .map(|i| sig(p.b[i] + beta * (0..h.len()).map(|j| p.w[i][j] * h[j]).sum::<f64>()))
                .collect()
        })
        .collect()
}

fn check(
    s: CdStatistics,
    vd: &[Vec<f64>],
    hd: &[Vec<f64>],
    vm: &[Vec<f64>],
    hm: &[Vec<f64>],
    what: &str,
) {
    let (nv, nh, n) = (vd[0].len(), hd[0].len(), vd.len() as f64);
    let mut dw = vec![0.0; nv * nh];
    for i in 0..nv {
        for j in 0..nh {
            let pos: f64 = vd.iter().zip(hd).map(|(v, h)| v[i] * h[j]).sum();
            let neg: f64 = vm.iter().zip(hm).map(|(v, h)| v[i] * h[j]).sum();
            dw[i * nh + j] = (pos - neg) / n;
        }
    }
    let mean = |x: &[Vec<f64>], k: usize| x.iter().map(|r| r[k]).sum::<f64>() / n;
    let db: Vec<f64> = (0..nv).map(|i| mean(vd, i) - mean(vm, i)).collect();
    let dc: Vec<f64> = (0..nh).map(|j| mean(hd, j) - mean(hm, j)).collect();
    assert_close(&flat2(s.delta_w), &dw, &format!("{what} ΔW"));
    assert_close(&flat1(s.delta_b), &db, &format!("{what} Δb"));
    assert_close(&flat1(s.delta_c), &dc, &format!("{what} Δc"));
}

#[test]
fn constrained_cd_statistics_equal_a_hand_computation_with_fixed_draws() {
    let device = Device::flex();
    let rbm = random_rbm(3, 2, 1.0, 4, &device);
    let p = HostParams::of(&rbm);
    let v0 = vec![vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]];
    let u0 = vec![vec![0.3, 0.8], vec![0.6, 0.1]];
    let u1 = vec![vec![0.45, 0.55], vec![0.2, 0.9]];
    for (constraint, alpha, beta) in [
        (Constraint::BottomUpDoubled, 2.0, 1.0),
        (Constraint::TopDownDoubled, 1.0, 2.0),
    ] {
        let what = format!("{constraint:?}");
        let ph0 = host_up(&p, alpha, &v0);
        let v1 = host_down(&p, beta, &threshold(&ph0, &u0));
        let ph1 = host_up(&p, alpha, &v1);
        let mut draws = FixedDraws::new(vec![tensor_from_rows(&u0, &device)]);
        let s = constrained_cd_statistics(
            &rbm,
            constraint,
            tensor_from_rows(&v0, &device),
            1,
            &mut draws,
        );
        check(s, &v0, &ph0, &v1, &ph1, &format!("{what} CD-1"));

        let v2 = host_down(&p, beta, &threshold(&ph1, &u1));
        let ph2 = host_up(&p, alpha, &v2);
        let mut draws = FixedDraws::new(vec![
            tensor_from_rows(&u0, &device),
            tensor_from_rows(&u1, &device),
        ]);
        let s = constrained_cd_statistics(
            &rbm,
            constraint,
            tensor_from_rows(&v0, &device),
            2,
            &mut draws,
        );
        assert!(draws.0.is_empty(), "CD-2 uses two sets of hidden draws");
        check(s, &v0, &ph0, &v2, &ph2, &format!("{what} CD-2"));
    }
    // The doubled direction really is doubled: σ(c + 2vW) differs from the plain RBM's p(h|v).
    let v = tensor_from_rows(&v0, &device);
    let doubled = rows(Constraint::BottomUpDoubled.hidden_probs(&rbm, v.clone()));
    assert_ne!(doubled, rows(rbm.hidden_probs(v)));
}

#[test]
fn pretraining_trains_each_rbm_on_the_one_below_and_composes_them() {
    let device = Device::flex();
    device.seed(3);
    let data = Tensor::<2>::random([40, 8], Distribution::Bernoulli(0.3), &device);
    let quiet = RbmEvalConfig {
        reconstruction: true,
        free_energy_gap: false,
        pseudo_likelihood: false,
        exact_loglik: false,
        ais: None,
        checkpoint: false,
        ..Default::default()
    };
    let layer = |hidden| RbmConfig {
        hidden,
        epochs: 3,
        batch_size: 10,
        lr: 0.1,
        eval: quiet.clone(),
        ..Default::default()
    };
    let mut sink = VecSink::default();
    let (dbm, rbms) = pretrain(&data, &[layer(5), layer(4), layer(3)], &mut sink, 9).unwrap();
    let dbm = dbm.expect("not stopped");
    assert_eq!(dbm.sizes(), vec![8, 5, 4, 3]);
    assert_eq!(rbms.len(), 3);
    let again = compose(&rbms).unwrap();
    assert_eq!(
        flat2(again.weights[1].clone()),
        flat2(dbm.weights[1].clone())
    );
    for k in 1..=3 {
        let series = sink.series(&format!("layer{k}/recon_error"));
        assert_eq!(series.len(), 3, "layer {k}: {series:?}");
    }
    assert!(
        sink.0
            .iter()
            .any(|e| matches!(e, Event::Progress { stage, .. } if stage == "layer3 rbm"))
    );
    // Every RBM learned: its weights moved from where they started.
    for (k, (rbm, cfg)) in rbms.iter().zip([layer(5), layer(4), layer(3)]).enumerate() {
        let visible = rbm.visible();
        let start = crate::rbm::Rbm::new_with(
            visible,
            &cfg,
            &device,
            &mut crate::rbm::HostDraws::new(9 + k as u64),
        )
        .unwrap();
        let moved: f64 = flat2(rbm.weights.clone())
            .iter()
            .zip(flat2(start.weights))
            .map(|(a, b)| (a - b).abs())
            .sum();
        assert!(moved > 0.01, "RBM {}: weights moved by {moved}", k + 1);
    }
}
