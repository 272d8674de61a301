//! The associative memory: categorical sampling, CD-k with the labels clamped by hand, and
//! label units added to an unlabelled RBM.

use burn::tensor::{Device, Tensor, TensorData};

use super::{
    HostTop, affine, assert_close, bern, categorical, flat, random_top, transpose, uniforms, vec1,
};
use crate::eval::testing::{FixedDraws, HostRng, random_rbm, tensor_from_rows};
use crate::updown::{TopRbm, sample_categorical};

#[test]
fn categorical_samples_pick_the_class_whose_cumulative_probability_first_exceeds_u() {
    let device = Device::flex();
    let p = [0.2, 0.5, 0.3];
    let us = [0.0, 0.1999, 0.2001, 0.5, 0.6999, 0.7001, 0.999_999_9];
    let want = [0, 0, 1, 1, 1, 2, 2];
    let probs = tensor_from_rows(&vec![p.to_vec(); us.len()], &device);
    let u = Tensor::<2>::from_data(
        TensorData::new(us.iter().map(|&x| x as f32).collect(), [us.len(), 1]),
        &device,
    );
    let got = super::rows(sample_categorical(probs, u));
    for (r, (row, k)) in got.iter().zip(want).enumerate() {
        let mut expected = vec![0.0; 3];
        expected[k] = 1.0;
        assert_eq!(row, &expected, "u = {}", us[r]);
    }
    // Rounding that leaves the cumulative sum below u still gives a one-hot row: the last class.
    let short = tensor_from_rows(&[vec![0.2, 0.3, 0.4999]], &device);
    let u = Tensor::<2>::from_data(TensorData::new(vec![0.99995f32], [1, 1]), &device);
    assert_eq!(
        super::rows(sample_categorical(short, u)),
        vec![vec![0.0, 0.0, 1.0]]
    );
}

#[test]
fn cd_statistics_with_labels_clamped_match_a_hand_computation() {
    let device = Device::flex();
    let mut rng = HostRng::new(5);
    let (n_x, k, h, b, cd_k) = (3, 3, 4, 2, 2);
    let top = random_top(n_x, k, h, 1.5, &mut rng, &device);
    let host = HostTop::of(&top);
    let x_rows = vec![vec![1.0, 0.0, 1.0], vec![0.25, 0.5, 0.75]];
    let y_rows = vec![vec![0.0, 0.0, 1.0], vec![1.0, 0.0, 0.0]];
    // The draws in the documented order: h⁺; x⁻, y⁻, h; x⁻, y⁻.
    let shapes = [h, n_x, 1, h, n_x, 1];
    let (tensors, hosts): (Vec<_>, Vec<_>) = shapes
        .iter()
        .map(|&c| uniforms(&mut rng, b, c, &device))
        .unzip();
    let mut draws = FixedDraws::new(tensors);
    let s = top.cd_statistics(
        tensor_from_rows(&x_rows, &device),
        tensor_from_rows(&y_rows, &device),
        cd_k,
        &mut draws,
    );
    assert!(draws.0.is_empty(), "every supplied draw is used");

    let v = n_x + k;
    let mut dw = vec![vec![0.0; h]; v];
    let mut db = vec![0.0; v];
    let mut dc = vec![0.0; h];
    let mut x_model = Vec::new();
    let mut y_model = Vec::new();
    for e in 0..b {
        let v_pos: Vec<f64> = [x_rows[e].clone(), y_rows[e].clone()].concat();
        let ph_pos = host.top_probs(&v_pos);
        let mut hs = bern(&ph_pos, &hosts[0][e]);
        let mut draw = 1;
        let (v_neg, ph_neg) = loop {
            let (px, py) = host.visible_probs(&hs);
            let xn = bern(&px, &hosts[draw][e]);
            let yn = categorical(&py, hosts[draw + 1][e][0]);
            let vn = [xn, yn].concat();
            let ph = host.top_probs(&vn);
            if draw + 2 >= hosts.len() {
                break (vn, ph);
            }
            hs = bern(&ph, &hosts[draw + 2][e]);
            draw += 3;
        };
        for i in 0..v {
            for j in 0..h {
                dw[i][j] += (v_pos[i] * ph_pos[j] - v_neg[i] * ph_neg[j]) / b as f64;
            }
            db[i] += (v_pos[i] - v_neg[i]) / b as f64;
        }
        for j in 0..h {
            dc[j] += (ph_pos[j] - ph_neg[j]) / b as f64;
        }
        x_model.extend_from_slice(&v_neg[..n_x]);
        y_model.extend_from_slice(&v_neg[n_x..]);
    }
    assert_close(&flat(s.delta_w), &dw.concat(), 1e-5, "ΔW");
    assert_close(&vec1(s.delta_b), &db, 1e-5, "Δb");
    assert_close(&vec1(s.delta_c), &dc, 1e-5, "Δc");
    assert_eq!(flat(s.penultimate), x_model, "x⁻");
    assert_eq!(flat(s.labels), y_model, "y⁻");
    // The helpers agree with the tensors' conditionals.
    let hs = vec![vec![1.0, 0.0, 1.0, 1.0]];
    let (px, py) = top.visible_probs(tensor_from_rows(&hs, &device));
    let a = affine(&hs[0], &transpose(&host.w), &host.b);
    assert!((flat(px)[0] - super::sigm(a[0])).abs() < 1e-6);
    assert_close(&flat(py), &super::softmax(&a[n_x..]), 1e-6, "p(y|h)");
}

#[test]
fn label_units_added_to_an_unlabelled_rbm_change_no_conditional_of_the_penultimate_units() {
    let device = Device::flex();
    let rbm = random_rbm(5, 4, 1.0, 3, &device);
    let top = TopRbm::from_unlabelled(&rbm, 3).unwrap();
    assert_eq!((top.penultimate(), top.classes, top.top()), (5, 3, 4));
    let x = tensor_from_rows(&[vec![1.0, 0.0, 1.0, 1.0, 0.0]], &device);
    let y = tensor_from_rows(&[vec![0.0, 1.0, 0.0]], &device);
    assert_close(
        &flat(top.top_probs(x.clone(), y)),
        &flat(rbm.hidden_probs(x)),
        1e-6,
        "p(h | x, y)",
    );
    let err = TopRbm::from_parts(rbm, 5).unwrap_err().to_string();
    assert!(err.contains("classes is 5"), "{err}");
}
