//! Building a net: errors for bad layers and shapes; log p(v, h) and log q(h | v) against brute
//! force; the bottom-up and top-down passes against the uniforms they are given and against
//! the model's exact distribution.

use burn::tensor::{Device, Tensor};

use super::{HostSbn, random_bits, random_sbn};
use crate::eval::testing::{FixedDraws, HostRng, bits, rows, sigmoid, tensor_from_rows};
use crate::eval::to_vec;
use crate::events::NullSink;
use crate::rbm::HostDraws;
use crate::sbn::{Sbn, SbnConfig, SbnError};

fn config_error(r: Result<impl std::fmt::Debug, SbnError>, needle: &str) {
    match r {
        Err(e @ SbnError::Config(_)) => {
            assert!(
                e.to_string().contains(needle),
                "{e} does not mention {needle}"
            )
        }
        other => panic!("expected a config error about {needle}, got {other:?}"),
    }
}

#[test]
fn empty_or_zero_size_layers_are_errors_naming_layers() {
    let device = Device::flex();
    let new = |hidden: &[usize]| Sbn::new(6, hidden, 0.1, &device, &mut HostDraws::new(1));
    config_error(
        new(&[]),
        "layers: a sigmoid belief net needs at least 1 hidden layer",
    );
    config_error(
        new(&[4, 0]),
        "layers: every hidden layer needs at least 1 unit",
    );
    config_error(new(&[0]), "layer 1 of [0] has 0");
    config_error(
        Sbn::new(0, &[3], 0.1, &device, &mut HostDraws::new(1)),
        "at least 1 visible unit",
    );
    for layers in [vec![], vec![5, 0, 2]] {
        let cfg = SbnConfig {
            layers,
            ..Default::default()
        };
        config_error(cfg.validate(), "layers: ");
        let data = random_bits(4, 6, 1, &device);
        config_error(Sbn::fit(&data, None, &cfg, &mut NullSink, 1), "layers: ");
    }
    config_error(Sbn::from_parts(vec![], vec![], vec![], vec![]), "layers: ");
    // One hidden layer is fine, and so are three.
    assert_eq!(new(&[3]).unwrap().sizes(), vec![6, 3]);
    assert_eq!(new(&[4, 3, 2]).unwrap().sizes(), vec![6, 4, 3, 2]);
}

#[test]
fn mismatched_parameter_shapes_are_errors() {
    let device = Device::flex();
    let good = random_sbn(&[5, 3, 2], 1.0, 1, &device);
    let shape_error = |sbn: Sbn, needle: &str| {
        let r = Sbn::from_parts(
            sbn.generative,
            sbn.generative_biases,
            sbn.recognition,
            sbn.recognition_biases,
        );
        match r {
            Err(e @ SbnError::Shape { .. }) => assert!(e.to_string().contains(needle), "{e}"),
            other => panic!("expected a shape error about {needle}, got {other:?}"),
        }
    };
    let mut rng = HostRng::new(2);
    let mut bad = good.clone();
    bad.generative[1] = rng.tensor2(2, 4, 1.0, &device);
    shape_error(bad, "columns of G2 (units of layer 1): expected 3, got 4");
    let mut bad = good.clone();
    bad.recognition[0] = rng.tensor2(3, 5, 1.0, &device);
    shape_error(bad, "rows of R1");
    let mut bad = good.clone();
    bad.recognition_biases[1] = rng.tensor1(3, 1.0, &device);
    shape_error(bad, "units of r2");
    let mut bad = good.clone();
    bad.generative_biases.pop();
    shape_error(bad, "generative bias vectors: expected 3, got 2");
    let mut bad = good;
    bad.recognition.pop();
    shape_error(bad, "recognition weight matrices");
}

#[test]
fn data_of_the_wrong_width_is_a_clear_error() {
    let device = Device::flex();
    let sbn = random_sbn(&[6, 3], 1.0, 1, &device);
    let narrow = random_bits(4, 5, 2, &device);
    let expect = |r: Result<(), SbnError>, what: &str| match r {
        Err(e @ SbnError::Shape { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(what) && msg.contains("expected 6, got 5"),
                "{msg}"
            );
        }
        other => panic!("expected a shape error, got {other:?}"),
    };
    let cfg = SbnConfig {
        layers: vec![3],
        epochs: 1,
        ..Default::default()
    };
    let good = random_bits(4, 6, 3, &device);
    expect(
        sbn.clone()
            .train(&narrow, None, &cfg, &mut NullSink, 1)
            .map(|_| ()),
        "columns of the training data (visible units)",
    );
    expect(
        sbn.clone()
            .train(&good, Some(&narrow), &cfg, &mut NullSink, 1)
            .map(|_| ()),
        "columns of the validation data",
    );
    expect(
        sbn.importance_sampling(&narrow, 10, &mut HostDraws::new(1))
            .map(|_| ()),
        "columns of the data to evaluate",
    );
    expect(
        sbn.exact_evaluation(&narrow, 10).map(|_| ()),
        "columns of the data to evaluate",
    );
    let empty = Tensor::<2>::zeros([0, 6], &device);
    assert!(matches!(
        Sbn::fit(&empty, None, &cfg, &mut NullSink, 1),
        Err(SbnError::EmptyData)
    ));
    // A config whose layers differ from the net's.
    let other = SbnConfig {
        layers: vec![4],
        ..cfg
    };
    config_error(
        sbn.clone().train(&good, None, &other, &mut NullSink, 1),
        "layers is [4] but the net's hidden layers are [3]",
    );
}

#[test]
fn log_joint_and_log_recognition_match_brute_force() {
    let device = Device::flex();
    let sizes = [5, 4, 3, 2];
    let sbn = random_sbn(&sizes, 1.5, 3, &device);
    let host = HostSbn::of(&sbn);
    let states: Vec<Tensor<2>> = sizes
        .iter()
        .enumerate()
        .map(|(l, &n)| random_bits(7, n, 10 + l as u64, &device))
        .collect();
    let per_layer: Vec<Vec<Vec<f64>>> = states.iter().map(|s| rows(s.clone())).collect();
    let joint = to_vec(sbn.log_joint(&states));
    let recognition = to_vec(sbn.log_recognition(&states));
    for b in 0..7 {
        let x: Vec<Vec<f64>> = per_layer.iter().map(|l| l[b].clone()).collect();
        let (lj, lq) = (host.log_joint(&x), host.log_q(&x));
        assert!(
            (joint[b] as f64 - lj).abs() < 1e-4 * (1.0 + lj.abs()),
            "{b}: {} vs {lj}",
            joint[b]
        );
        assert!(
            (recognition[b] as f64 - lq).abs() < 1e-4 * (1.0 + lq.abs()),
            "{b}"
        );
        assert!(lj < 0.0 && lq < 0.0);
    }
}

/// The passes turn unit i on exactly when its probability exceeds the i-th uniform, layer by
/// layer in the order of the pass.
#[test]
fn recognize_and_fantasize_threshold_the_given_uniforms_layer_by_layer() {
    let device = Device::flex();
    let sizes = [4, 3, 2];
    let sbn = random_sbn(&sizes, 2.0, 4, &device);
    let host = HostSbn::of(&sbn);
    let mut rng = HostRng::new(5);
    let batch = 6;
    let uniforms = |rng: &mut HostRng, n: usize| -> Vec<Vec<f64>> {
        (0..batch)
            .map(|_| (0..n).map(|_| rng.uniform()).collect())
            .collect()
    };
    let threshold = |p: Vec<f64>, u: &[f64]| -> Vec<f64> {
        p.iter()
            .zip(u)
            .map(|(p, u)| (*p > *u) as u8 as f64)
            .collect()
    };

    // Bottom-up: h¹ from v, then h² from h¹.
    let v = random_bits(batch, 4, 6, &device);
    let (u1, u2) = (uniforms(&mut rng, 3), uniforms(&mut rng, 2));
    let mut draws = FixedDraws::new(vec![
        tensor_from_rows(&u1, &device),
        tensor_from_rows(&u2, &device),
    ]);
    let states = sbn.recognize(v.clone(), &mut draws);
    let got: Vec<Vec<Vec<f64>>> = states.iter().map(|s| rows(s.clone())).collect();
    let v_rows = rows(v);
    for b in 0..batch {
        let p1: Vec<f64> = host
            .rec_input(1, &v_rows[b])
            .into_iter()
            .map(sigmoid)
            .collect();
        let h1 = threshold(p1, &u1[b]);
        let p2: Vec<f64> = host.rec_input(2, &h1).into_iter().map(sigmoid).collect();
        assert_eq!(got[1][b], h1);
        assert_eq!(got[2][b], threshold(p2, &u2[b]));
    }

    // Top-down: h² from the prior, then h¹, then v.
    let (u2, u1, u0) = (
        uniforms(&mut rng, 2),
        uniforms(&mut rng, 3),
        uniforms(&mut rng, 4),
    );
    let mut draws = FixedDraws::new(vec![
        tensor_from_rows(&u2, &device),
        tensor_from_rows(&u1, &device),
        tensor_from_rows(&u0, &device),
    ]);
    let fantasies = sbn.fantasize(batch, &mut draws);
    let got: Vec<Vec<Vec<f64>>> = fantasies.iter().map(|s| rows(s.clone())).collect();
    for b in 0..batch {
        let h2 = threshold(host.gb[2].iter().copied().map(sigmoid).collect(), &u2[b]);
        let h1 = threshold(
            host.gen_input(1, &h2).into_iter().map(sigmoid).collect(),
            &u1[b],
        );
        let v = threshold(
            host.gen_input(0, &h1).into_iter().map(sigmoid).collect(),
            &u0[b],
        );
        assert_eq!((&got[2][b], &got[1][b], &got[0][b]), (&h2, &h1, &v));
    }
}

/// The frequencies of the joint states of many fantasies agree with p(v, h) within 5 standard
/// errors (and their visible frequencies with p(v)).
#[test]
fn fantasies_follow_the_model_distribution() {
    let device = Device::flex();
    let sizes = [3, 2, 2];
    let sbn = random_sbn(&sizes, 1.5, 7, &device);
    let host = HostSbn::of(&sbn);
    let n = 40_000;
    let states = sbn.fantasize(n, &mut HostDraws::new(8));
    let per_layer: Vec<Vec<Vec<f64>>> = states.iter().map(|s| rows(s.clone())).collect();
    let index = |x: &[f64]| {
        x.iter()
            .enumerate()
            .map(|(i, &b)| (b as usize) << i)
            .sum::<usize>()
    };
    let mut counts = vec![0usize; 1 << 7];
    for ((v, h1), h2) in per_layer[0].iter().zip(&per_layer[1]).zip(&per_layer[2]) {
        counts[index(v) | (index(h1) << 3) | (index(h2) << 5)] += 1;
    }
    for (s, &c) in counts.iter().enumerate() {
        let x = vec![bits(s, 3), bits(s >> 3, 2), bits(s >> 5, 2)];
        let p = host.log_joint(&x).exp();
        let f = c as f64 / n as f64;
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (f - p).abs() < 5.0 * se + 1e-4,
            "state {s}: frequency {f} vs p {p}"
        );
    }
    let visible = host.visible_log_probs();
    let total: f64 = visible.iter().map(|l| l.exp()).sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
}
