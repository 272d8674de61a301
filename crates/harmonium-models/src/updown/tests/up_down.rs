//! One mini-batch of the up-down algorithm against a hand computation with the same draws.

use burn::tensor::Device;

use super::{
    HostLayer, HostTop, assert_close, bern, categorical, flat, random_net, uniforms, vec1,
};
use crate::eval::testing::{FixedDraws, HostRng, tensor_from_rows};
use crate::updown::{Rule, UpDownLearner};

/// Sizes v = 4, h¹ = 3, penultimate h² = 2, top = 3; K = 2 labels; B = 2; CD-2.
const SIZES: [usize; 4] = [4, 3, 2, 3];
const K: usize = 2;
const B: usize = 2;
const CD_K: usize = 2;

/// The draws of one mini-batch in the documented order, as tensors and host rows.
fn draws(seed: u64, device: &Device) -> (Vec<burn::tensor::Tensor<2>>, Vec<Vec<Vec<f64>>>) {
    let mut rng = HostRng::new(seed);
    let [_, n1, n2, h] = SIZES;
    // Up-pass h¹, h²; top: h⁺, then (x⁻, y⁻, h), (x⁻, y⁻); down-pass: s¹.
    let shapes = [n1, n2, h, n2, 1, h, n2, 1, n1];
    shapes
        .iter()
        .map(|&c| uniforms(&mut rng, B, c, device))
        .unzip()
}

struct Expected {
    dg: Vec<Vec<f64>>,
    dgb: Vec<Vec<f64>>,
    dr: Vec<Vec<f64>>,
    drb: Vec<Vec<f64>>,
    dw: Vec<f64>,
    db: Vec<f64>,
    dc: Vec<f64>,
}

/// `Σ_e causeᵀ(target − prediction)/B` accumulated into `dw`, `db`.
fn accumulate(dw: &mut [f64], db: &mut [f64], cause: &[f64], err: &[f64]) {
    for (i, c) in cause.iter().enumerate() {
        for (j, e) in err.iter().enumerate() {
            dw[i * err.len() + j] += c * e / B as f64;
        }
    }
    for (j, e) in err.iter().enumerate() {
        db[j] += e / B as f64;
    }
}

fn by_hand(
    layers: &[HostLayer],
    top: &HostTop,
    v: &[Vec<f64>],
    y: &[Vec<f64>],
    u: &[Vec<Vec<f64>>],
) -> Expected {
    let sizes = SIZES;
    let mut dg: Vec<Vec<f64>> = (0..2).map(|l| vec![0.0; sizes[l] * sizes[l + 1]]).collect();
    let mut dgb: Vec<Vec<f64>> = (0..2).map(|l| vec![0.0; sizes[l]]).collect();
    let mut dr = dg.clone();
    let mut drb: Vec<Vec<f64>> = (0..2).map(|l| vec![0.0; sizes[l + 1]]).collect();
    let nv = sizes[2] + K;
    let mut dw = vec![0.0; nv * sizes[3]];
    let mut db = vec![0.0; nv];
    let mut dc = vec![0.0; sizes[3]];
    for e in 0..B {
        // Wake.
        let h1 = bern(&layers[0].up(&v[e]), &u[0][e]);
        let h2 = bern(&layers[1].up(&h1), &u[1][e]);
        let err0: Vec<f64> = v[e]
            .iter()
            .zip(layers[0].down(&h1))
            .map(|(a, p)| a - p)
            .collect();
        accumulate(&mut dg[0], &mut dgb[0], &h1, &err0);
        let err1: Vec<f64> = h1
            .iter()
            .zip(layers[1].down(&h2))
            .map(|(a, p)| a - p)
            .collect();
        accumulate(&mut dg[1], &mut dgb[1], &h2, &err1);
        // Top: CD-2 with the label clamped.
        let v_pos = [h2.clone(), y[e].clone()].concat();
        let ph_pos = top.top_probs(&v_pos);
        let hs = bern(&ph_pos, &u[2][e]);
        let (px, py) = top.visible_probs(&hs);
        let v1 = [bern(&px, &u[3][e]), categorical(&py, u[4][e][0])].concat();
        let hs = bern(&top.top_probs(&v1), &u[5][e]);
        let (px, py) = top.visible_probs(&hs);
        let v_neg = [bern(&px, &u[6][e]), categorical(&py, u[7][e][0])].concat();
        let ph_neg = top.top_probs(&v_neg);
        for i in 0..nv {
            for j in 0..sizes[3] {
                dw[i * sizes[3] + j] += (v_pos[i] * ph_pos[j] - v_neg[i] * ph_neg[j]) / B as f64;
            }
            db[i] += (v_pos[i] - v_neg[i]) / B as f64;
        }
        for j in 0..sizes[3] {
            dc[j] += (ph_pos[j] - ph_neg[j]) / B as f64;
        }
        // Sleep from x⁻.
        let s2 = v_neg[..sizes[2]].to_vec();
        let s1 = bern(&layers[1].down(&s2), &u[8][e]);
        let s0 = layers[0].down(&s1);
        let err: Vec<f64> = s1
            .iter()
            .zip(layers[0].up(&s0))
            .map(|(a, q)| a - q)
            .collect();
        accumulate(&mut dr[0], &mut drb[0], &s0, &err);
        let err: Vec<f64> = s2
            .iter()
            .zip(layers[1].up(&s1))
            .map(|(a, q)| a - q)
            .collect();
        accumulate(&mut dr[1], &mut drb[1], &s1, &err);
    }
    Expected {
        dg,
        dgb,
        dr,
        drb,
        dw,
        db,
        dc,
    }
}

fn batch() -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let v = vec![vec![1.0, 0.0, 1.0, 1.0], vec![0.0, 0.5, 0.25, 1.0]];
    let y = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
    (v, y)
}

#[test]
fn a_mini_batch_s_statistics_match_the_wake_top_and_sleep_rules_by_hand() {
    let device = Device::flex();
    let net = random_net(&SIZES, K, 1.5, 31, &device);
    let (tensors, u) = draws(32, &device);
    let (v, y) = batch();
    let mut fixed = FixedDraws::new(tensors);
    let s = net.up_down_statistics(
        tensor_from_rows(&v, &device),
        tensor_from_rows(&y, &device),
        CD_K,
        &mut fixed,
    );
    assert!(fixed.0.is_empty(), "every supplied draw is used");
    let layers: Vec<HostLayer> = net.layers.iter().map(HostLayer::of).collect();
    let want = by_hand(&layers, &HostTop::of(&net.top), &v, &y, &u);
    for l in 0..2 {
        let (dg, dgb) = &s.generative[l];
        assert_close(
            &flat(dg.clone()),
            &want.dg[l],
            1e-5,
            &format!("ΔG_{}", l + 1),
        );
        assert_close(
            &vec1(dgb.clone()),
            &want.dgb[l],
            1e-5,
            &format!("Δg_{}", l + 1),
        );
        let (dr, drb) = &s.recognition[l];
        assert_close(
            &flat(dr.clone()),
            &want.dr[l],
            1e-5,
            &format!("ΔR_{}", l + 1),
        );
        assert_close(
            &vec1(drb.clone()),
            &want.drb[l],
            1e-5,
            &format!("Δr_{}", l + 1),
        );
    }
    assert_close(&flat(s.top.delta_w), &want.dw, 1e-5, "top ΔW");
    assert_close(&vec1(s.top.delta_b), &want.db, 1e-5, "top Δb");
    assert_close(&vec1(s.top.delta_c), &want.dc, 1e-5, "top Δc");
    let nonzero = |x: &[f64]| x.iter().any(|v| v.abs() > 1e-3);
    assert!(
        nonzero(&want.dr[0]) && nonzero(&want.dg[1]) && nonzero(&want.dw),
        "a hand computation of zeros checks little"
    );
}

#[test]
fn a_learner_step_adds_lr_times_the_statistics_and_unties_the_weights() {
    let device = Device::flex();
    let net = random_net(&SIZES, K, 1.5, 31, &device);
    let (v, y) = batch();
    let (v, y) = (tensor_from_rows(&v, &device), tensor_from_rows(&y, &device));
    let s = net.up_down_statistics(
        v.clone(),
        y.clone(),
        CD_K,
        &mut FixedDraws::new(draws(32, &device).0),
    );
    let mut stepped = net.clone();
    let rule = Rule {
        lr: 0.5,
        momentum: 0.9,
        weight_cost: 0.0,
    };
    let mut learner = UpDownLearner::new(&stepped);
    let mut fixed = FixedDraws::new(draws(32, &device).0);
    learner.step(&mut stepped, v, y, CD_K, rule, &mut fixed);
    let change =
        |a: &burn::tensor::Tensor<2>, b: &burn::tensor::Tensor<2>| flat(a.clone() - b.clone());
    let half = |t: burn::tensor::Tensor<2>| flat(t.mul_scalar(0.5));
    for l in 0..2 {
        assert_close(
            &change(&stepped.layers[l].generative, &net.layers[l].generative),
            &half(s.generative[l].0.clone()),
            1e-6,
            "ΔG",
        );
        assert_close(
            &change(&stepped.layers[l].recognition, &net.layers[l].recognition),
            &half(s.recognition[l].0.clone()),
            1e-6,
            "ΔR",
        );
    }
    assert_close(
        &change(&stepped.top.rbm.weights, &net.top.rbm.weights),
        &half(s.top.delta_w.clone()),
        1e-6,
        "top ΔW",
    );
    // Tied weights (G = Rᵀ) move apart: the wake and sleep rules differ.
    let mut tied = net.clone();
    for l in &mut tied.layers {
        l.generative = l.recognition.clone().transpose();
    }
    let mut learner = UpDownLearner::new(&tied);
    let (v, y) = batch();
    learner.step(
        &mut tied,
        tensor_from_rows(&v, &device),
        tensor_from_rows(&y, &device),
        CD_K,
        rule,
        &mut FixedDraws::new(draws(32, &device).0),
    );
    let l = &tied.layers[0];
    let gap: f64 = change(&l.generative, &l.recognition.clone().transpose())
        .iter()
        .map(|d| d.abs())
        .sum();
    assert!(
        gap > 1e-3,
        "the generative weights are still Rᵀ (gap {gap})"
    );
}
