//! CD-k and persistent-CD statistics against a hand computation with fixed draws, and the
//! persistent-chain estimate against the exact enumerated gradient.

use burn::tensor::Device;

use super::{assert_close, flat, flat1, gaussian_rbm};
use crate::eval::testing::{
    FixedDraws, HostParams, bits, log_sum_exp, random_rbm, rows, serial, sigmoid as sig,
    tensor_from_rows,
};
use crate::rbm::{CdStatistics, DeviceDraws, Learner, NegativePhase, RbmConfig};

// --- CD statistics by hand -------------------------------------------------------------

/// Host version of p(h|v), p(v|h) for a binary RBM.
fn host_hidden(p: &HostParams, v: &[f64]) -> Vec<f64> {
    (0..p.c.len())
        .map(|j| sig(p.c[j] + (0..v.len()).map(|i| v[i] * p.w[i][j]).sum::<f64>()))
        .collect()
}

fn host_visible(p: &HostParams, h: &[f64]) -> Vec<f64> {
    (0..p.b.len())
        .map(|i| sig(p.b[i] + (0..h.len()).map(|j| p.w[i][j] * h[j]).sum::<f64>()))
        .collect()
}

fn threshold(p: &[Vec<f64>], u: &[Vec<f64>]) -> Vec<Vec<f64>> {
    p.iter()
        .zip(u)
        .map(|(p, u)| p.iter().zip(u).map(|(p, u)| (p > u) as u8 as f64).collect())
        .collect()
}

/// (ΔW flattened, Δb, Δc) from data and model statistics, as means over rows.
fn host_stats(
    vd: &[Vec<f64>],
    hd: &[Vec<f64>],
    vm: &[Vec<f64>],
    hm: &[Vec<f64>],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (nv, nh) = (vd[0].len(), hd[0].len());
    let (bd, bm) = (vd.len() as f64, vm.len() as f64);
    let mut dw = vec![0.0; nv * nh];
    for i in 0..nv {
        for j in 0..nh {
            let pos: f64 = vd.iter().zip(hd).map(|(v, h)| v[i] * h[j]).sum::<f64>() / bd;
            let neg: f64 = vm.iter().zip(hm).map(|(v, h)| v[i] * h[j]).sum::<f64>() / bm;
            dw[i * nh + j] = pos - neg;
        }
    }
    let mean = |x: &[Vec<f64>], k: usize| x.iter().map(|r| r[k]).sum::<f64>() / x.len() as f64;
    let db = (0..nv).map(|i| mean(vd, i) - mean(vm, i)).collect();
    let dc = (0..nh).map(|j| mean(hd, j) - mean(hm, j)).collect();
    (dw, db, dc)
}

fn check_stats(s: CdStatistics, want: (Vec<f64>, Vec<f64>, Vec<f64>), what: &str) {
    assert_close(&flat(s.delta_w), &want.0, 1e-5, &format!("{what} ΔW"));
    assert_close(&flat1(s.delta_b), &want.1, 1e-5, &format!("{what} Δb"));
    assert_close(&flat1(s.delta_c), &want.2, 1e-5, &format!("{what} Δc"));
}

#[test]
fn cd1_and_cd2_statistics_equal_a_hand_computation_with_fixed_draws() {
    let device = Device::flex();
    let rbm = random_rbm(3, 2, 1.0, 4, &device);
    let p = HostParams::of(&rbm);
    let v0 = vec![vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]];
    let u0 = vec![vec![0.3, 0.8], vec![0.6, 0.1]];
    let u1 = vec![vec![0.45, 0.55], vec![0.2, 0.9]];

    let ph0: Vec<Vec<f64>> = v0.iter().map(|v| host_hidden(&p, v)).collect();
    let h0 = threshold(&ph0, &u0);
    let v1: Vec<Vec<f64>> = h0.iter().map(|h| host_visible(&p, h)).collect();
    let ph1: Vec<Vec<f64>> = v1.iter().map(|v| host_hidden(&p, v)).collect();
    let mut draws = FixedDraws::new(vec![tensor_from_rows(&u0, &device)]);
    let s = rbm.cd_statistics(
        tensor_from_rows(&v0, &device),
        1,
        NegativePhase::Reconstruction,
        &mut draws,
    );
    check_stats(s, host_stats(&v0, &ph0, &v1, &ph1), "CD-1");

    let h1 = threshold(&ph1, &u1);
    let v2: Vec<Vec<f64>> = h1.iter().map(|h| host_visible(&p, h)).collect();
    let ph2: Vec<Vec<f64>> = v2.iter().map(|v| host_hidden(&p, v)).collect();
    let mut draws = FixedDraws::new(vec![
        tensor_from_rows(&u0, &device),
        tensor_from_rows(&u1, &device),
    ]);
    let s = rbm.cd_statistics(
        tensor_from_rows(&v0, &device),
        2,
        NegativePhase::Reconstruction,
        &mut draws,
    );
    assert!(
        draws.0.is_empty(),
        "CD-2 uses exactly two sets of hidden draws"
    );
    check_stats(s, host_stats(&v0, &ph0, &v2, &ph2), "CD-2");
}

#[test]
fn persistent_cd_statistics_and_chain_update_equal_a_hand_computation() {
    let device = Device::flex();
    let rbm = random_rbm(3, 2, 1.0, 5, &device);
    let p = HostParams::of(&rbm);
    let v0 = vec![vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]];
    let chains = vec![
        vec![0.0, 1.0, 0.0],
        vec![1.0, 1.0, 0.0],
        vec![0.0, 0.0, 1.0],
    ];
    let uh = vec![vec![0.3, 0.8], vec![0.6, 0.1], vec![0.5, 0.5]];
    let uv = vec![
        vec![0.3, 0.8, 0.5],
        vec![0.6, 0.1, 0.9],
        vec![0.05, 0.5, 0.95],
    ];

    let ph0: Vec<Vec<f64>> = v0.iter().map(|v| host_hidden(&p, v)).collect();
    let phc: Vec<Vec<f64>> = chains.iter().map(|v| host_hidden(&p, v)).collect();
    let h = threshold(&phc, &uh);
    let pv: Vec<Vec<f64>> = h.iter().map(|h| host_visible(&p, h)).collect();
    let new_chains = threshold(&pv, &uv);

    let mut state = tensor_from_rows(&chains, &device);
    let mut draws = FixedDraws::new(vec![
        tensor_from_rows(&uh, &device),
        tensor_from_rows(&uv, &device),
    ]);
    let s = rbm.cd_statistics(
        tensor_from_rows(&v0, &device),
        1,
        NegativePhase::Persistent(&mut state),
        &mut draws,
    );
    check_stats(s, host_stats(&v0, &ph0, &chains, &phc), "PCD");
    assert_eq!(rows(state), new_chains, "the chains advance one Gibbs step");
}

#[test]
fn gaussian_cd1_statistics_scale_by_sigma_as_in_a_hand_computation() {
    let device = Device::flex();
    let (rbm, sigma) = gaussian_rbm(&device);
    let p = HostParams::of(&rbm);
    let v0 = vec![vec![0.3, -1.2, 2.0], vec![-0.7, 0.4, 0.0]];
    let u0 = vec![vec![0.3, 0.8], vec![0.6, 0.1]];
    let scaled = |v: &[f64]| -> Vec<f64> { v.iter().zip(&sigma).map(|(v, s)| v / s).collect() };
    let hidden = |v: &[f64]| -> Vec<f64> {
        let v = scaled(v);
        (0..2)
            .map(|j| sig(p.c[j] + (0..3).map(|i| v[i] * p.w[i][j]).sum::<f64>()))
            .collect()
    };
    let ph0: Vec<Vec<f64>> = v0.iter().map(|v| hidden(v)).collect();
    let h0 = threshold(&ph0, &u0);
    let v1: Vec<Vec<f64>> = h0
        .iter()
        .map(|h| {
            (0..3)
                .map(|i| p.b[i] + sigma[i] * (p.w[i][0] * h[0] + p.w[i][1] * h[1]))
                .collect()
        })
        .collect();
    let ph1: Vec<Vec<f64>> = v1.iter().map(|v| hidden(v)).collect();
    let vd: Vec<Vec<f64>> = v0.iter().map(|v| scaled(v)).collect();
    let vm: Vec<Vec<f64>> = v1.iter().map(|v| scaled(v)).collect();
    let (dw, db, dc) = host_stats(&vd, &ph0, &vm, &ph1);
    let db: Vec<f64> = db.iter().zip(&sigma).map(|(d, s)| d / s).collect(); // (⟨v⟩_d − ⟨v⟩_m)/σ²
    let mut draws = FixedDraws::new(vec![tensor_from_rows(&u0, &device)]);
    let s = rbm.cd_statistics(
        tensor_from_rows(&v0, &device),
        1,
        NegativePhase::Reconstruction,
        &mut draws,
    );
    check_stats(s, (dw, db, dc), "Gaussian CD-1");
}

// --- the persistent-chain estimate converges to the exact gradient ----------------------

#[test]
fn persistent_chain_gradient_matches_exact_enumerated_gradient_after_mixing() {
    let _guard = serial();
    let device = Device::flex();
    device.seed(11);
    let (nv, nh) = (6, 4);
    let rbm = random_rbm(nv, nh, 1.0, 6, &device);
    let p = HostParams::of(&rbm);
    let data: Vec<Vec<f64>> = [3usize, 17, 42, 63, 8, 21, 50, 33]
        .iter()
        .map(|&s| bits(s, nv))
        .collect();

    // Exact gradient: data term with p(h|v), model term by enumerating all 2^10 joint states.
    let hd: Vec<Vec<f64>> = data.iter().map(|v| host_hidden(&p, v)).collect();
    let states: Vec<(Vec<f64>, Vec<f64>)> = (0..1 << (nv + nh))
        .map(|s| (bits(s & 63, nv), bits(s >> nv, nh)))
        .collect();
    let log_p: Vec<f64> = states.iter().map(|(v, h)| p.neg_energy(v, h)).collect();
    let z = log_sum_exp(&log_p);
    let prob: Vec<f64> = log_p.iter().map(|l| (l - z).exp()).collect();
    let model_vh = |i: usize, j: usize| {
        states
            .iter()
            .zip(&prob)
            .map(|((v, h), q)| q * v[i] * h[j])
            .sum::<f64>()
    };
    let model_v = |i: usize| {
        states
            .iter()
            .zip(&prob)
            .map(|((v, _), q)| q * v[i])
            .sum::<f64>()
    };
    let model_h = |j: usize| {
        states
            .iter()
            .zip(&prob)
            .map(|((_, h), q)| q * h[j])
            .sum::<f64>()
    };
    let mean = |x: &[Vec<f64>], k: usize| x.iter().map(|r| r[k]).sum::<f64>() / x.len() as f64;
    let exact_w: Vec<f64> = (0..nv * nh)
        .map(|k| {
            let (i, j) = (k / nh, k % nh);
            data.iter().zip(&hd).map(|(v, h)| v[i] * h[j]).sum::<f64>() / data.len() as f64
                - model_vh(i, j)
        })
        .collect();
    let exact_b: Vec<f64> = (0..nv).map(|i| mean(&data, i) - model_v(i)).collect();
    let exact_c: Vec<f64> = (0..nh).map(|j| mean(&hd, j) - model_h(j)).collect();

    // Persistent chains: 2,000 chains, 100 burn-in updates, then the mean of 200 estimates.
    let cfg = RbmConfig {
        hidden: nh,
        persistent: true,
        chains: 2000,
        ..Default::default()
    };
    let mut chains = Learner::new(&rbm, &cfg, 5).chains.unwrap();
    let v0 = tensor_from_rows(&data, &device);
    for _ in 0..100 {
        rbm.cd_statistics(
            v0.clone(),
            1,
            NegativePhase::Persistent(&mut chains),
            &mut DeviceDraws,
        );
    }
    let sweeps = 200;
    let (mut w, mut b, mut c) = (vec![0.0; nv * nh], vec![0.0; nv], vec![0.0; nh]);
    for _ in 0..sweeps {
        let s = rbm.cd_statistics(
            v0.clone(),
            1,
            NegativePhase::Persistent(&mut chains),
            &mut DeviceDraws,
        );
        for (acc, x) in w.iter_mut().zip(flat(s.delta_w)) {
            *acc += x / sweeps as f64;
        }
        for (acc, x) in b.iter_mut().zip(flat1(s.delta_b)) {
            *acc += x / sweeps as f64;
        }
        for (acc, x) in c.iter_mut().zip(flat1(s.delta_c)) {
            *acc += x / sweeps as f64;
        }
    }
    // Each term of an estimate lies in [0, 1] (variance ≤ 1/4); 2,000 chains × 200 sweeps of a
    // fast-mixing 10-unit model give well over 20,000 effectively independent samples, so the
    // standard error is below 0.004 and 0.02 is a > 5σ tolerance.
    assert_close(&w, &exact_w, 0.02, "ΔW");
    assert_close(&b, &exact_b, 0.02, "Δb");
    assert_close(&c, &exact_c, 0.02, "Δc");
}
