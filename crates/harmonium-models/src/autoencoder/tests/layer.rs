//! The encoder, decoder and reconstruction loss against the host's written-out sums; the RBM a
//! layer becomes; the shapes and the data a layer refuses.

use burn::tensor::Device;

use super::{HostLayer, max_diff, random_layer, random_unit_rows};
use crate::autoencoder::{AutoencoderError, AutoencoderLayer, Decoder};
use crate::eval::testing::{rows, tensor_from_rows};
use crate::eval::to_vec;
use crate::rbm::{Rbm, VisibleUnits};

#[test]
fn encoder_decoder_and_loss_match_the_host() {
    let device = Device::flex();
    for decoder in [Decoder::Sigmoid, Decoder::Linear] {
        let layer = random_layer(6, 3, 1.0, decoder, 2, &device);
        let host = HostLayer::of(&layer);
        let xs = random_unit_rows(4, 6, 5);
        let x = tensor_from_rows(&xs, &device);
        let h = rows(layer.encode(x.clone()));
        let r = rows(layer.reconstruct(x.clone()));
        let z = layer.decoder_input(layer.encode(x.clone()));
        let loss = to_vec(layer.reconstruction_loss(z, x.clone()));
        let sq = to_vec(layer.squared_error(x));
        for (n, xn) in xs.iter().enumerate() {
            let hh = host.encode(xn);
            let rr = host.decode(&hh);
            for j in 0..3 {
                assert!((h[n][j] - hh[j]).abs() < 1e-6);
            }
            for i in 0..6 {
                assert!((r[n][i] - rr[i]).abs() < 1e-6);
            }
            let l = host.reconstruction_loss(xn, &rr);
            assert!(
                (loss[n] as f64 - l).abs() < 1e-5 * l.max(1.0),
                "{decoder:?}: loss"
            );
            let e: f64 = xn.iter().zip(&rr).map(|(x, r)| (r - x).powi(2)).sum();
            assert!((sq[n] as f64 - e).abs() < 1e-5 * e.max(1.0));
        }
    }
}

#[test]
fn the_cross_entropy_stays_finite_where_the_output_saturates() {
    let device = Device::flex();
    let mut layer = random_layer(2, 1, 1.0, Decoder::Sigmoid, 1, &device);
    layer.visible_bias = layer.visible_bias.mul_scalar(0.0).add_scalar(200.0);
    let x = tensor_from_rows(&[vec![0.0, 1.0]], &device);
    let z = layer.decoder_input(layer.encode(x.clone()));
    let loss = to_vec(layer.reconstruction_loss(z.clone(), x))[0];
    // softplus(z₀) − 0 ≈ z₀ for the unit that should be off; ≈ 0 for the one that should be on.
    let z0 = to_vec(z)[0];
    assert!(
        loss.is_finite() && (loss - z0).abs() < 1e-3,
        "{loss} against {z0}"
    );
}

#[test]
fn to_rbm_up_pass_equals_the_encoder_and_its_down_pass_the_decoder() {
    let device = Device::flex();
    let x = tensor_from_rows(&random_unit_rows(5, 8, 1), &device);
    for (decoder, binary) in [(Decoder::Sigmoid, true), (Decoder::Linear, false)] {
        let layer = random_layer(8, 4, 1.0, decoder, 7, &device);
        let rbm = layer.to_rbm();
        assert_eq!(rbm.is_binary(), binary);
        assert!(rbm.sigma().is_none());
        assert_eq!(
            max_diff(rbm.hidden_probs(x.clone()), layer.encode(x.clone())),
            0.0
        );
        let h = layer.encode(x.clone());
        assert!(max_diff(rbm.visible_mean(h.clone()), layer.decode(h)) < 1e-6);
        let back = AutoencoderLayer::from_rbm(&rbm).unwrap();
        assert_eq!(back.decoder, decoder);
        assert_eq!(max_diff(back.weights, layer.weights.clone()), 0.0);
    }
}

#[test]
fn shapes_and_rbms_without_a_tied_autoencoder_are_refused() {
    let device = Device::flex();
    let layer = random_layer(4, 3, 1.0, Decoder::Sigmoid, 1, &device);
    let err = AutoencoderLayer::from_parts(
        layer.weights.clone(),
        layer.hidden_bias.clone(),
        layer.hidden_bias.clone(),
        Decoder::Sigmoid,
    )
    .unwrap_err();
    assert!(
        matches!(&err, AutoencoderError::Shape { what, expected: 4, got: 3 } if what == "visible_bias"),
        "{err}"
    );
    let mut rbm: Rbm = layer.to_rbm();
    rbm.visible_units = VisibleUnits::Gaussian {
        sigma: Some(layer.visible_bias.clone().abs().add_scalar(1.0)),
    };
    assert!(
        AutoencoderLayer::from_rbm(&rbm)
            .unwrap_err()
            .to_string()
            .contains("decoder")
    );
    let mut draws = crate::rbm::HostDraws::new(1);
    assert!(
        AutoencoderLayer::new(0, 3, 0.1, Decoder::Sigmoid, &device, &mut draws)
            .unwrap_err()
            .to_string()
            .contains("0-3")
    );
}

#[test]
fn decoder_biases_from_the_data_reconstruct_the_mean_with_zero_weights() {
    let device = Device::flex();
    let rows_ = vec![
        vec![1.0, 0.0, 0.5],
        vec![0.0, 0.0, 0.5],
        vec![1.0, 0.0, 1.0],
    ];
    let x = tensor_from_rows(&rows_, &device);
    for (decoder, expected) in [
        (Decoder::Sigmoid, [2.0 / 3.0, 1e-3, 2.0 / 3.0]),
        (Decoder::Linear, [2.0 / 3.0, 0.0, 2.0 / 3.0]),
    ] {
        let mut layer = random_layer(3, 2, 1.0, decoder, 1, &device);
        layer.weights = layer.weights.zeros_like();
        layer.init_visible_bias_from_data(&x).unwrap();
        let r = rows(layer.reconstruct(x.clone()));
        for i in 0..3 {
            assert!(
                (r[0][i] - expected[i]).abs() < 1e-5,
                "{decoder:?} {i}: {}",
                r[0][i]
            );
        }
        assert!(
            layer
                .init_visible_bias_from_data(&x.clone().narrow(1, 0, 2))
                .is_err()
        );
    }
}
