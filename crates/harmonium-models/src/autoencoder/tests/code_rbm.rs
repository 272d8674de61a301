//! The code RBM: its linear hidden units and CD-1 statistics against a hand computation with
//! fixed draws, training on MNIST, events, stopping and config errors.

use burn::tensor::{Device, Tensor};

use super::super::{CodeRbm, CodeRbmConfig, DeepAutoencoderError};
use crate::eval::testing::{FixedDraws, HostRng, mnist_binary, rows, serial, sigmoid};
use crate::eval::to_vec;
use crate::events::{Event, EventSink, NullSink, VecSink};

fn random_code_rbm(visible: usize, hidden: usize, seed: u64, device: &Device) -> CodeRbm {
    let mut rng = HostRng::new(seed);
    CodeRbm::from_parts(
        rng.tensor2(visible, hidden, 1.0, device),
        rng.tensor1(visible, 1.0, device),
        rng.tensor1(hidden, 1.0, device),
    )
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

/// CD-1 by hand in f64: m⁰ = c + v⁰W, h⁰ = m⁰ + ε, v¹ = σ(b + h⁰Wᵀ), m¹ = c + v¹W, and the
/// statistics ⟨v⁰ᵀm⁰⟩ − ⟨v¹ᵀm¹⟩, ⟨v⁰⟩ − ⟨v¹⟩, ⟨m⁰⟩ − ⟨m¹⟩; the sampled hidden state is the mean
/// plus the normal draw.
#[test]
fn cd1_statistics_equal_a_hand_computation_with_fixed_draws() {
    let device = Device::flex();
    let (nv, nh, n) = (5, 3, 4);
    let rbm = random_code_rbm(nv, nh, 7, &device);
    let mut rng = HostRng::new(8);
    let v0: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            (0..nv)
                .map(|_| (rng.uniform() < 0.5) as u8 as f64)
                .collect()
        })
        .collect();
    let eps: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..nh).map(|_| rng.symmetric(2.0)).collect())
        .collect();
    let t = |r: &[Vec<f64>]| crate::eval::testing::tensor_from_rows(r, &device);
    let w = rows(rbm.weights().clone());
    let b: Vec<f64> = to_vec(rbm.visible_bias().clone())
        .iter()
        .map(|&x| x as f64)
        .collect();
    let c: Vec<f64> = to_vec(rbm.hidden_bias().clone())
        .iter()
        .map(|&x| x as f64)
        .collect();
    let up = |v: &[f64]| -> Vec<f64> {
        (0..nh)
            .map(|j| c[j] + (0..nv).map(|i| v[i] * w[i][j]).sum::<f64>())
            .collect()
    };
    let down = |h: &[f64]| -> Vec<f64> {
        (0..nv)
            .map(|i| sigmoid(b[i] + (0..nh).map(|j| w[i][j] * h[j]).sum::<f64>()))
            .collect()
    };
    let m0: Vec<Vec<f64>> = v0.iter().map(|v| up(v)).collect();
    let h0: Vec<Vec<f64>> = m0
        .iter()
        .zip(&eps)
        .map(|(m, e)| m.iter().zip(e).map(|(m, e)| m + e).collect())
        .collect();
    let v1: Vec<Vec<f64>> = h0.iter().map(|h| down(h)).collect();
    let m1: Vec<Vec<f64>> = v1.iter().map(|v| up(v)).collect();

    // The linear hidden units: the mean is c + vW, a sample adds the draw.
    let got = rows(rbm.hidden_means(t(&v0)));
    let sampled = rows(rbm.sample_hidden(t(&v0), &mut FixedDraws::new(vec![t(&eps)])));
    for k in 0..n {
        for j in 0..nh {
            close(got[k][j], m0[k][j], 1e-5, "hidden mean");
            close(sampled[k][j], h0[k][j], 1e-5, "hidden sample");
        }
    }
    let s = rbm.cd1_statistics(t(&v0), &mut FixedDraws::new(vec![t(&eps)]));
    let dw = rows(s.delta_w);
    let db = to_vec(s.delta_b);
    let dc = to_vec(s.delta_c);
    let hm = to_vec(s.hidden_data_mean);
    let nf = n as f64;
    for i in 0..nv {
        for j in 0..nh {
            let want: f64 = (0..n)
                .map(|k| v0[k][i] * m0[k][j] - v1[k][i] * m1[k][j])
                .sum::<f64>()
                / nf;
            close(dw[i][j], want, 1e-5, "ΔW");
        }
        let want: f64 = (0..n).map(|k| v0[k][i] - v1[k][i]).sum::<f64>() / nf;
        close(db[i] as f64, want, 1e-5, "Δb");
    }
    for j in 0..nh {
        let want: f64 = (0..n).map(|k| m0[k][j] - m1[k][j]).sum::<f64>() / nf;
        close(dc[j] as f64, want, 1e-5, "Δc");
        let want: f64 = (0..n).map(|k| m0[k][j]).sum::<f64>() / nf;
        close(hm[j] as f64, want, 1e-5, "⟨m⁰⟩");
    }
    // The layer it contributes to a stack is marked linear and carries the same parameters.
    let layer = rbm.layer();
    assert!(layer.linear_hidden);
    assert_eq!(to_vec(layer.weights), to_vec(rbm.weights().clone()));
}

fn mnist_cfg() -> CodeRbmConfig {
    CodeRbmConfig {
        hidden: 30,
        epochs: 5,
        batch_size: 100,
        // 10× the 2006 rate: this short run makes 50 updates where the paper's made thousands.
        lr: 0.01,
        ..Default::default()
    }
}

/// Five epochs of CD-1 of a 784-30 code RBM on 1000 MNIST digits lower the squared
/// reconstruction error of the training and of 500 held-out digits well below their values at
/// the start (62.3 → 37.8 and 63.7 → 41.5 when written); every epoch reports its metrics and
/// its progress.
#[test]
fn a_short_mnist_run_lowers_the_reconstruction_error() {
    let _serial = serial();
    let device = Device::flex();
    let all = mnist_binary(1500, &device);
    let (train, valid) = (all.clone().narrow(0, 0, 1000), all.narrow(0, 1000, 500));
    let mut sink = VecSink::default();
    let (rbm, summary) = CodeRbm::fit(&train, Some(&valid), &mnist_cfg(), &mut sink, 3).unwrap();
    let train_err = sink.series("recon_error");
    let valid_err = sink.series("recon_error_valid");
    assert_eq!(train_err.len(), 6);
    assert_eq!(valid_err.len(), 6);
    let (start, end) = (train_err[0].1, train_err[5].1);
    let (vstart, vend) = (valid_err[0].1, valid_err[5].1);
    eprintln!(
        "code RBM 784-30: recon_error {start:.2} → {end:.2}, held-out {vstart:.2} → {vend:.2}"
    );
    assert!(end < 0.7 * start, "train {start} → {end}");
    assert!(vend < 0.7 * vstart, "held-out {vstart} → {vend}");
    assert!(
        (rbm.reconstruction_error(&valid) - vend).abs() < 1e-3,
        "the last metric is the returned RBM's"
    );
    assert_eq!(summary.epochs, 5);
    assert_eq!(summary.initial("recon_error"), Some(start));
    assert_eq!(summary.last("recon_error"), Some(end));
    let progress = sink
        .0
        .iter()
        .filter(|e| matches!(e, Event::Progress { stage, .. } if stage == "code_rbm"))
        .count();
    assert_eq!(progress, 5);
    // The first 5 epochs use the starting momentum.
    let momentum: Vec<f64> = sink.series("momentum").iter().map(|m| m.1).collect();
    assert_eq!(momentum, vec![0.5; 5]);
    assert_eq!(sink.series("lr")[0].1, 0.01);
    assert_eq!(sink.series("epoch_seconds").len(), 5);
}

/// A run is a function of its seed; a stop request ends it at the next epoch boundary.
#[test]
fn runs_are_seeded_and_stop_when_asked() {
    let _serial = serial();
    let device = Device::flex();
    let data = mnist_binary(200, &device);
    let cfg = CodeRbmConfig {
        hidden: 4,
        epochs: 2,
        batch_size: 50,
        ..Default::default()
    };
    let (a, _) = CodeRbm::fit(&data, None, &cfg, &mut NullSink, 9).unwrap();
    let (b, _) = CodeRbm::fit(&data, None, &cfg, &mut NullSink, 9).unwrap();
    let (c, _) = CodeRbm::fit(&data, None, &cfg, &mut NullSink, 10).unwrap();
    assert_eq!(to_vec(a.weights().clone()), to_vec(b.weights().clone()));
    assert_ne!(to_vec(a.weights().clone()), to_vec(c.weights().clone()));

    struct StopAfter(VecSink, usize);
    impl EventSink for StopAfter {
        fn emit(&mut self, e: Event) {
            self.0.emit(e)
        }
        fn keep_going(&self) -> bool {
            self.0.series("epoch_seconds").len() < self.1
        }
    }
    let mut sink = StopAfter(VecSink::default(), 1);
    let cfg = CodeRbmConfig { epochs: 10, ..cfg };
    let (_, summary) = CodeRbm::fit(&data, None, &cfg, &mut sink, 9).unwrap();
    assert!(summary.stopped_early);
    assert_eq!(summary.epochs, 1);
}

#[test]
fn config_and_data_errors_name_the_key() {
    let device = Device::flex();
    let msg = |cfg: CodeRbmConfig| cfg.validate().unwrap_err().to_string();
    assert!(
        msg(CodeRbmConfig {
            hidden: 0,
            ..Default::default()
        })
        .contains("hidden")
    );
    assert!(
        msg(CodeRbmConfig {
            lr: -1.0,
            ..Default::default()
        })
        .contains("lr must be a positive")
    );
    assert!(
        msg(CodeRbmConfig {
            batch_size: 0,
            ..Default::default()
        })
        .contains("batch_size")
    );
    let mut cfg = CodeRbmConfig::default();
    cfg.momentum.r#final = 1.0;
    assert!(msg(cfg).contains("momentum.final"));
    let data = Tensor::<2>::ones([4, 3], &device).mul_scalar(2.0);
    let err = CodeRbm::fit(&data, None, &CodeRbmConfig::default(), &mut NullSink, 1).unwrap_err();
    assert!(
        matches!(&err, DeepAutoencoderError::Config(m) if m.contains("outside [0, 1]")),
        "{err}"
    );
    let empty = Tensor::<2>::zeros([0, 3], &device);
    let err = CodeRbm::fit(&empty, None, &CodeRbmConfig::default(), &mut NullSink, 1).unwrap_err();
    assert!(matches!(err, DeepAutoencoderError::EmptyData), "{err}");
}
