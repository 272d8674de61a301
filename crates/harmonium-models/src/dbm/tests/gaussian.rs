//! Gaussian visible units (unit variance): log Z against numerical integration over v, log p*(v)
//! and the bound against brute force, Gibbs sampling against the exact moments, AIS against
//! enumeration, constrained CD by hand, the checkpoint, and learning raising the exact
//! log-likelihood of real-valued data.

use burn::tensor::{Device, Tensor};

use super::{HostDbm, random_dbm};
use crate::dbm::{
    Constraint, Dbm, DbmConfig, DbmEvalConfig, MeanFieldConfig, constrained_cd_statistics,
};
use crate::eval::ais::BaseRateModel;
use crate::eval::testing::{FixedDraws, HostRng, bits, log_sum_exp, rows, tensor_from_rows};
use crate::eval::to_vec;
use crate::events::VecSink;
use crate::rbm::{HostDraws, Rbm, RbmConfig, VisibleType};

fn gaussian_dbm(sizes: &[usize], scale: f64, seed: u64, device: &Device) -> Dbm {
    random_dbm(sizes, scale, seed, device).with_visible(VisibleType::Gaussian)
}

/// Every hidden state (h¹, …, hᴸ) as per-layer 0/1 vectors.
fn hidden_states(host: &HostDbm) -> Vec<Vec<Vec<f64>>> {
    let total: usize = host.sizes[1..].iter().sum();
    (0..1usize << total)
        .map(|s| {
            let mut offset = 0;
            host.sizes[1..]
                .iter()
                .map(|&n| {
                    let x = bits(s >> offset, n);
                    offset += n;
                    x
                })
                .collect()
        })
        .collect()
}

/// −E(v, h) of a Gaussian-visible DBM on the host.
fn neg_energy(host: &HostDbm, v: &[f64], h: &[Vec<f64>]) -> f64 {
    let mut x = vec![v.to_vec()];
    x.extend(h.iter().cloned());
    // HostDbm's −E has b·v for the visible term; swap it for −½‖v − b‖².
    let bv: f64 = v.iter().zip(&host.bias[0]).map(|(a, b)| a * b).sum();
    let quad: f64 = v
        .iter()
        .zip(&host.bias[0])
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    host.neg_energy(&x) - bv - 0.5 * quad
}

/// log Σ_h e^{−E(v,h)} on the host.
fn host_log_unnormalized(host: &HostDbm, v: &[f64]) -> f64 {
    let terms: Vec<f64> = hidden_states(host)
        .iter()
        .map(|h| neg_energy(host, v, h))
        .collect();
    log_sum_exp(&terms)
}

#[test]
fn log_z_equals_numerical_integration_over_the_visible_units() {
    let device = Device::flex();
    for (sizes, seed) in [(vec![1, 3, 2], 61), (vec![2, 3, 2], 62)] {
        let dbm = gaussian_dbm(&sizes, 1.0, seed, &device);
        let host = HostDbm::of(&dbm);
        // A midpoint rule over [−12, 12]^D, far beyond where the density has mass.
        let (lo, step, n) = (-12.0, 0.02, 1200);
        let grid: Vec<f64> = (0..n).map(|k| lo + (k as f64 + 0.5) * step).collect();
        let points: Vec<Vec<f64>> = if sizes[0] == 1 {
            grid.iter().map(|&a| vec![a]).collect()
        } else {
            grid.iter()
                .flat_map(|&a| grid.iter().map(move |&b| vec![a, b]))
                .collect()
        };
        let terms: Vec<f64> = points
            .iter()
            .map(|v| host_log_unnormalized(&host, v))
            .collect();
        let integral = log_sum_exp(&terms) + sizes[0] as f64 * f64::ln(step);
        let exact = dbm.exact_log_partition(20).unwrap();
        assert!(
            (exact - integral).abs() < 1e-3,
            "{sizes:?}: enumeration {exact}, integration {integral}"
        );
    }
}

#[test]
fn log_p_star_and_the_bound_match_brute_force_and_the_bound_stays_below() {
    let device = Device::flex();
    let dbm = gaussian_dbm(&[4, 3, 2], 0.8, 63, &device);
    let host = HostDbm::of(&dbm);
    let mut rng = HostRng::new(64);
    let v: Vec<Vec<f64>> = (0..6)
        .map(|_| (0..4).map(|_| rng.symmetric(2.0)).collect())
        .collect();
    let vt = tensor_from_rows(&v, &device);
    let got = dbm.exact_log_unnormalized(&vt, 20).unwrap();
    for (g, row) in got.iter().zip(&v) {
        let want = host_log_unnormalized(&host, row);
        assert!((g - want).abs() < 1e-4, "log p*(v): {g} vs {want}");
    }
    let log_z = dbm.exact_log_partition(20).unwrap();
    let mf = MeanFieldConfig {
        max_iterations: 50,
        tolerance: 0.0,
    };
    let bound = dbm.variational_lower_bound(&vt, &mf, log_z);
    let exact = dbm.exact_mean_log_likelihood(&vt, log_z, 20).unwrap();
    assert!(bound <= exact + 1e-4, "bound {bound} above exact {exact}");
    assert!(exact - bound < 1.0, "bound {bound} far below {exact}");
}

#[test]
fn gibbs_sampling_reaches_the_exact_moments_of_gaussian_visible_units() {
    let device = Device::flex();
    let dbm = gaussian_dbm(&[3, 4, 3], 0.7, 65, &device);
    let host = HostDbm::of(&dbm);
    // Exact p(h) with v integrated out: ∝ exp(½‖b + W¹h¹‖² + c·h + h¹W²h²); E[v] = b + W¹E[h¹].
    let states = hidden_states(&host);
    let log_w: Vec<f64> = states
        .iter()
        .map(|h| {
            let m: Vec<f64> = (0..3)
                .map(|i| host.bias[0][i] + (0..4).map(|j| host.w[0][i][j] * h[0][j]).sum::<f64>())
                .collect();
            // −E at v = m plus ½‖m − b‖²... is simplest as the Gaussian integral's exponent:
            let quad: f64 = m.iter().map(|x| x * x).sum::<f64>() * 0.5;
            let mut x = vec![vec![0.0; 3]];
            x.extend(h.iter().cloned());
            quad + host.neg_energy(&x)
        })
        .collect();
    let log_z = log_sum_exp(&log_w);
    let mut means: Vec<Vec<f64>> = host.sizes[1..].iter().map(|&n| vec![0.0; n]).collect();
    for (h, lw) in states.iter().zip(&log_w) {
        let p = (lw - log_z).exp();
        for (m, hl) in means.iter_mut().zip(h) {
            for (mi, x) in m.iter_mut().zip(hl) {
                *mi += p * x;
            }
        }
    }
    let v_mean: Vec<f64> = (0..3)
        .map(|i| host.bias[0][i] + (0..4).map(|j| host.w[0][i][j] * means[0][j]).sum::<f64>())
        .collect();

    let chains = 1000;
    let mut draws = HostDraws::new(66);
    let mut layers = dbm.random_states(chains, &mut draws);
    dbm.gibbs(&mut layers, 50, &mut draws);
    let steps = 300;
    let mut sums: Vec<Vec<f64>> = host.sizes.iter().map(|&n| vec![0.0; n]).collect();
    let mut v_sq = [0.0f64; 3];
    for _ in 0..steps {
        dbm.gibbs_step(&mut layers, &mut draws);
        for (s, x) in sums.iter_mut().zip(&layers) {
            for (si, m) in s.iter_mut().zip(to_vec(x.clone().sum_dim(0))) {
                *si += m as f64;
            }
        }
        for (sq, m) in v_sq
            .iter_mut()
            .zip(to_vec(layers[0].clone().square().sum_dim(0)))
        {
            *sq += m as f64;
        }
    }
    let n = (chains * steps) as f64;
    for (i, want) in v_mean.iter().enumerate() {
        let got = sums[0][i] / n;
        assert!(
            (got - want).abs() < 0.03,
            "E[v{i}]: sampled {got}, exact {want}"
        );
    }
    for (l, m) in means.iter().enumerate() {
        for (j, want) in m.iter().enumerate() {
            let got = sums[l + 1][j] / n;
            assert!(
                (got - want).abs() < 0.015,
                "E[h{}_{j}]: sampled {got}, exact {want}",
                l + 1
            );
        }
    }
    // Var[v_i] = 1 + Var[(W¹h¹)_i] ≥ 1: the unit noise is there.
    for (i, sq) in v_sq.iter().enumerate() {
        let var = sq / n - (sums[0][i] / n).powi(2);
        assert!(var > 0.95, "Var[v{i}] = {var}");
    }
}

#[test]
fn ais_log_z_of_a_gaussian_dbm_agrees_with_enumeration() {
    let device = Device::flex();
    for (sizes, scale, seed) in [(vec![5, 6, 4], 0.7, 67), (vec![12, 10, 6], 0.4, 68)] {
        let dbm = gaussian_dbm(&sizes, scale, seed, &device);
        let data = Tensor::<2>::zeros([10, sizes[0]], &device);
        let base = BaseRateModel::fit(&data);
        let exact = dbm.exact_log_partition(20).unwrap();
        let est = dbm
            .ais_log_partition(&base, 100, 3000, &mut HostDraws::new(seed))
            .unwrap();
        assert!(
            est.log_z_lower - 0.02 <= exact && exact <= est.log_z_upper + 0.02,
            "{sizes:?}: exact {exact} outside [{}, {}] (estimate {})",
            est.log_z_lower,
            est.log_z_upper,
            est.log_z
        );
        assert!(
            (est.log_z - exact).abs() < 0.1,
            "{sizes:?}: {} vs {exact}",
            est.log_z
        );
    }
}

#[test]
fn constrained_cd_of_a_gaussian_first_rbm_reconstructs_with_the_mean() {
    let device = Device::flex();
    let cfg = RbmConfig {
        hidden: 2,
        visible_type: VisibleType::Gaussian,
        ..RbmConfig::default()
    };
    let mut rbm = Rbm::new_with(3, &cfg, &device, &mut HostDraws::new(69)).unwrap();
    rbm.weights = tensor_from_rows(&[vec![0.5, -0.3], vec![0.2, 0.4], vec![-0.6, 0.1]], &device);
    rbm.visible_bias = Tensor::from_floats([0.1, -0.2, 0.3], &device);
    rbm.hidden_bias = Tensor::from_floats([-0.1, 0.2], &device);
    let v0 = vec![vec![1.5, -0.5, 0.2], vec![-1.0, 0.7, 2.0]];
    let u0 = vec![vec![0.3, 0.8], vec![0.6, 0.1]];
    let w = rows(rbm.weights.clone());
    let (b, c) = ([0.1, -0.2, 0.3], [-0.1, 0.2]);
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let up = |v: &[f64]| -> Vec<f64> {
        (0..2)
            .map(|j| sig(c[j] + 2.0 * (0..3).map(|i| v[i] * w[i][j]).sum::<f64>()))
            .collect()
    };
    let mut dw = [[0.0f64; 2]; 3];
    let mut db = [0.0f64; 3];
    for (v, u) in v0.iter().zip(&u0) {
        let p0 = up(v);
        let h: Vec<f64> = p0
            .iter()
            .zip(u)
            .map(|(p, u)| (p > u) as u8 as f64)
            .collect();
        // The mean of v given h, no σ(·): b + hWᵀ.
        let v1: Vec<f64> = (0..3)
            .map(|i| b[i] + (0..2).map(|j| w[i][j] * h[j]).sum::<f64>())
            .collect();
        let p1 = up(&v1);
        for i in 0..3 {
            db[i] += (v[i] - v1[i]) / 2.0;
            for j in 0..2 {
                dw[i][j] += (v[i] * p0[j] - v1[i] * p1[j]) / 2.0;
            }
        }
    }
    let mut draws = FixedDraws::new(vec![tensor_from_rows(&u0, &device)]);
    let s = constrained_cd_statistics(
        &rbm,
        Constraint::BottomUpDoubled,
        tensor_from_rows(&v0, &device),
        1,
        &mut draws,
    );
    let got_w = rows(s.delta_w);
    let got_b = to_vec(s.delta_b);
    for i in 0..3 {
        assert!((got_b[i] as f64 - db[i]).abs() < 1e-5, "Δb{i}");
        for j in 0..2 {
            assert!((got_w[i][j] - dw[i][j]).abs() < 1e-5, "ΔW{i}{j}");
        }
    }
}

#[test]
fn a_gaussian_dbm_keeps_its_visible_units_through_a_checkpoint() {
    let device = Device::flex();
    let dbm = gaussian_dbm(&[4, 3, 2], 0.5, 70, &device);
    let back = Dbm::from_safetensors(&dbm.to_safetensors(), &device).unwrap();
    assert_eq!(back.visible_type, VisibleType::Gaussian);
    let binary = random_dbm(&[4, 3, 2], 0.5, 70, &device);
    let back = Dbm::from_safetensors(&binary.to_safetensors(), &device).unwrap();
    assert_eq!(back.visible_type, VisibleType::Binary);
}

/// Real-valued data: two clusters in 4-D with unit noise.
fn two_clusters(n: usize, device: &Device) -> Tensor<2> {
    let mut rng = HostRng::new(71);
    let centres = [[1.5, -1.0, 1.5, -1.0], [-1.5, 1.0, -1.5, 1.0]];
    let v: Vec<Vec<f64>> = (0..n)
        .map(|k| {
            centres[k % 2]
                .iter()
                .map(|c| {
                    // Box–Muller from two uniforms.
                    let (u1, u2) = (rng.uniform().max(1e-12), rng.uniform());
                    c + (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                })
                .collect()
        })
        .collect();
    tensor_from_rows(&v, device)
}

#[test]
fn pretraining_and_training_a_gaussian_dbm_raise_the_exact_log_likelihood() {
    let device = Device::flex();
    let data = two_clusters(400, &device);
    let pretrain = RbmConfig {
        epochs: 20,
        batch_size: 20,
        lr: 0.01,
        ..RbmConfig::default()
    };
    let cfg = DbmConfig {
        visible: VisibleType::Gaussian,
        layers: vec![6, 4],
        epochs: 20,
        batch_size: 20,
        lr: 0.005,
        chains: 50,
        eval: DbmEvalConfig {
            ais: None,
            checkpoint: false,
            ..DbmEvalConfig::default()
        },
        pretrain: Some(pretrain),
        ..DbmConfig::default()
    };
    cfg.validate().unwrap();
    let layers = cfg.pretraining_layers().unwrap();
    assert_eq!(layers[0].visible_type, VisibleType::Gaussian);
    assert_eq!(layers[1].visible_type, VisibleType::Binary);
    let (dbm, _) = crate::dbm::pretrain(&data, &layers, &mut VecSink::default(), 72).unwrap();
    let mut dbm = dbm.unwrap();
    assert!(dbm.is_gaussian());
    // The starting point: the composed DBM's log-likelihood against the data's Gaussian fit
    // with unit variance about the mean (what a DBM with zero weights would give).
    let untrained = Dbm::new(4, &[6, 4], 0.0, &device, &mut HostDraws::new(1))
        .unwrap()
        .with_visible(VisibleType::Gaussian);
    let mut untrained = untrained;
    untrained.init_visible_bias_from_data(&data).unwrap();
    let ll = |d: &Dbm| {
        let z = d.exact_log_partition(20).unwrap();
        d.exact_mean_log_likelihood(&data, z, 20).unwrap()
    };
    let before = ll(&untrained);
    let composed = ll(&dbm);
    let mut sink = VecSink::default();
    dbm.train(&data, None, &cfg, &mut sink, 73).unwrap();
    let after = ll(&dbm);
    let series = sink.series("exact_loglik");
    assert_eq!(series.len(), 20);
    assert!(
        composed > before + 0.3 && after > before + 0.3,
        "unit-variance fit {before}, composed {composed}, trained {after}"
    );
    let bound = sink.series("mf_bound").last().unwrap().1;
    assert!(bound <= series.last().unwrap().1 + 1e-3);
}

#[test]
fn visible_units_of_the_config_and_the_dbm_must_agree() {
    let device = Device::flex();
    let data = two_clusters(20, &device);
    let mut dbm = random_dbm(&[4, 3, 2], 0.1, 74, &device);
    let cfg = DbmConfig {
        visible: VisibleType::Gaussian,
        layers: vec![3, 2],
        epochs: 1,
        ..DbmConfig::default()
    };
    let err = dbm
        .train(&data, None, &cfg, &mut VecSink::default(), 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("visible is gaussian"), "{err}");
    // A shared pretraining block may not make every layer Gaussian.
    let mut bad = cfg.clone();
    bad.pretrain = Some(RbmConfig {
        visible_type: VisibleType::Gaussian,
        ..RbmConfig::default()
    });
    let err = bad.validate().unwrap_err().to_string();
    assert!(err.contains("pretrain.visible_type"), "{err}");
}
