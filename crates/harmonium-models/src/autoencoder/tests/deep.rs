//! The unrolled net: before fine-tuning, the encoder is the stack's up-pass and the decoder its
//! down-pass; the loss's gradient against central finite differences of an f64 reference; the
//! random arm; and the config errors.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

use super::super::deep_stack::StackLayer;
use super::super::{
    CodeRbm, DeepAutoencoder, DeepAutoencoderConfig, DeepAutoencoderError, Loss, stack_layers,
};
use crate::dbn::Dbn;
use crate::eval::testing::{HostRng, random_rbm, rows, sigmoid, tensor_from_rows};
use crate::eval::to_vec;

fn code_rbm(visible: usize, hidden: usize, seed: u64, device: &Device) -> CodeRbm {
    let mut rng = HostRng::new(seed);
    CodeRbm::from_parts(
        rng.tensor2(visible, hidden, 1.0, device),
        rng.tensor1(visible, 1.0, device),
        rng.tensor1(hidden, 1.0, device),
    )
}

/// A 12-8-5-3 stack: two binary RBMs and the code RBM.
fn stack(device: &Device) -> (Dbn, CodeRbm) {
    let dbn = Dbn {
        layers: vec![
            random_rbm(12, 8, 1.0, 21, device),
            random_rbm(8, 5, 1.0, 22, device),
        ],
    };
    (dbn, code_rbm(5, 3, 23, device))
}

fn max_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    (a - b).abs().max().into_scalar()
}

fn inputs(n: usize, d: usize, seed: u64, device: &Device) -> Tensor<2> {
    let mut rng = HostRng::new(seed);
    let r: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..d).map(|_| rng.uniform()).collect())
        .collect();
    tensor_from_rows(&r, device)
}

#[test]
fn unrolled_encoder_and_decoder_are_the_stacks_up_and_down_passes() {
    let device = Device::flex();
    let (dbn, code) = stack(&device);
    let layers = stack_layers(&dbn, &code).unwrap();
    let net = DeepAutoencoder::unroll(&layers).unwrap();
    assert_eq!(net.sizes(), vec![12, 8, 5, 3]);
    assert_eq!(net.linear, vec![false, false, true]);
    let x = inputs(7, 12, 5, &device);

    // Encoder: probabilities through the sigmoid layers, then the linear code.
    let up = code.hidden_means(dbn.up(x.clone()));
    let codes = net.encode(x.clone());
    assert!(max_diff(codes.clone(), up) < 1e-5);
    // The code is linear: it takes values outside [0, 1].
    let c = to_vec(codes.clone());
    assert!(c.iter().any(|&v| !(0.0..=1.0).contains(&v)), "{c:?}");

    // Decoder: each layer's visible probabilities given the layer above.
    let down =
        dbn.layers[0].visible_mean(dbn.layers[1].visible_mean(code.visible_probs(codes.clone())));
    assert!(max_diff(net.decode(codes.clone()), down.clone()) < 1e-5);
    assert!(max_diff(net.reconstruct(x.clone()), down) < 1e-5);
    // StackLayer's own passes agree.
    let by_layers = layers.iter().fold(x.clone(), |h, l| l.up(h));
    assert!(max_diff(by_layers, codes.clone()) < 1e-5);
    let back = layers.iter().rev().fold(codes, |g, l| l.down(g));
    assert!(max_diff(back, net.reconstruct(x)) < 1e-5);

    // The decoder's weights are separate parameters holding the transposes.
    for (l, layer) in layers.iter().enumerate() {
        let dec = &net.decoder[layers.len() - 1 - l];
        assert_ne!(dec.weight.id, net.encoder[l].weight.id);
        assert_eq!(
            to_vec(dec.weight.val()),
            to_vec(layer.weights.clone().transpose())
        );
        assert_eq!(
            to_vec(dec.bias.as_ref().unwrap().val()),
            to_vec(layer.visible_bias.clone())
        );
    }
}

/// The net read back as f64, with its loss written out.
struct HostNet {
    /// (W [in][out], bias, linear) bottom first, then the decoder top first (never linear).
    layers: Vec<(Vec<Vec<f64>>, Vec<f64>, bool)>,
}

impl HostNet {
    fn of(net: &DeepAutoencoder) -> HostNet {
        let read = |l: &burn::nn::Linear, linear: bool| {
            (
                rows(l.weight.val()),
                to_vec(l.bias.as_ref().unwrap().val())
                    .into_iter()
                    .map(f64::from)
                    .collect(),
                linear,
            )
        };
        let mut layers: Vec<_> = net
            .encoder
            .iter()
            .zip(&net.linear)
            .map(|(l, &lin)| read(l, lin))
            .collect();
        layers.extend(net.decoder.iter().map(|l| read(l, false)));
        HostNet { layers }
    }

    fn loss(&self, x: &[Vec<f64>], loss: Loss) -> f64 {
        let last = self.layers.len() - 1;
        let mut total = 0.0;
        for row in x {
            let mut h = row.clone();
            for (l, (w, b, linear)) in self.layers.iter().enumerate() {
                let a: Vec<f64> = (0..b.len())
                    .map(|j| b[j] + h.iter().enumerate().map(|(i, v)| v * w[i][j]).sum::<f64>())
                    .collect();
                h = if *linear || l == last {
                    a
                } else {
                    a.into_iter().map(sigmoid).collect()
                };
            }
            total += row
                .iter()
                .zip(&h)
                .map(|(&x, &z)| match loss {
                    Loss::CrossEntropy => -(x * sigmoid(z).ln() + (1.0 - x) * sigmoid(-z).ln()),
                    Loss::Squared => (x - sigmoid(z)).powi(2),
                })
                .sum::<f64>();
        }
        total / x.len() as f64
    }
}

/// ∂E/∂θ from burn's autodiff against `(E(θ + h) − E(θ − h)) / 2h` of the f64 reference, for
/// weights and biases of the encoder (the code layer included) and the decoder, for both
/// losses; and the net's own loss equals the reference's.
#[test]
fn the_loss_gradient_matches_central_finite_differences() {
    let device = Device::flex();
    let ad = device.clone().autodiff();
    let (dbn, code) = stack(&device);
    let net = DeepAutoencoder::unroll(&stack_layers(&dbn, &code).unwrap()).unwrap();
    let x = inputs(6, 12, 31, &device);
    let host_x = rows(x.clone());
    let host = HostNet::of(&net);
    // (layer in HostNet order, is bias, row, column): encoder 0 and 2 (the code), decoder 0
    // (from the code) and 2 (to the output).
    let probes = [
        (0, false, 3, 1),
        (0, true, 0, 5),
        (2, false, 4, 2),
        (2, true, 0, 1),
        (3, false, 2, 4),
        (5, false, 7, 10),
        (5, true, 0, 9),
    ];
    for loss in [Loss::CrossEntropy, Loss::Squared] {
        let reference = host.loss(&host_x, loss);
        let plain: f32 = net.loss(x.clone(), loss).into_scalar();
        assert!(
            (plain as f64 - reference).abs() < 1e-4 * reference.abs().max(1.0),
            "{plain} vs {reference}"
        );
        let m = net.clone().train().fork(&ad);
        let grads =
            GradientsParams::from_grads(m.loss(x.clone().to_device(&ad), loss).backward(), &m);
        let layer = |k: usize| {
            if k < m.encoder.len() {
                &m.encoder[k]
            } else {
                &m.decoder[k - m.encoder.len()]
            }
        };
        for &(k, bias, i, j) in &probes {
            let got = if bias {
                to_vec(grads.get::<1>(layer(k).bias.as_ref().unwrap().id).unwrap())[j] as f64
            } else {
                rows(grads.get::<2>(layer(k).weight.id).unwrap())[i][j]
            };
            let h = 1e-5;
            let at = |delta: f64| {
                let mut p = HostNet {
                    layers: host.layers.clone(),
                };
                if bias {
                    p.layers[k].1[j] += delta;
                } else {
                    p.layers[k].0[i][j] += delta;
                }
                p.loss(&host_x, loss)
            };
            let want = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (got - want).abs() < 1e-3 * want.abs().max(0.05),
                "{loss:?} layer {k} bias {bias} ({i}, {j}): autodiff {got} vs finite difference {want}"
            );
        }
    }
}

#[test]
fn the_random_arm_has_the_shapes_small_gaussian_weights_and_zero_biases() {
    let device = Device::flex();
    let net = DeepAutoencoder::random(100, &[60, 40, 2], 0.01, 4, &device).unwrap();
    assert_eq!(net.sizes(), vec![100, 60, 40, 2]);
    assert_eq!(net.linear, vec![false, false, true]);
    let dec: Vec<[usize; 2]> = net.decoder.iter().map(|l| l.weight.dims()).collect();
    assert_eq!(dec, vec![[2, 40], [40, 60], [60, 100]]);
    let w = to_vec(net.encoder[0].weight.val());
    let mean = w.iter().map(|&x| x as f64).sum::<f64>() / w.len() as f64;
    let sd = (w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
    assert!(
        mean.abs() < 5e-4 && (sd - 0.01).abs() < 5e-4,
        "mean {mean}, sd {sd}"
    );
    assert!(net.encoder.iter().chain(&net.decoder).all(|l| {
        to_vec(l.bias.as_ref().unwrap().val())
            .iter()
            .all(|&b| b == 0.0)
    }));
    // The decoder is drawn independently of the encoder.
    assert_ne!(
        to_vec(net.decoder[2].weight.val()),
        to_vec(net.encoder[0].weight.val().transpose())
    );
    let again = DeepAutoencoder::random(100, &[60, 40, 2], 0.01, 4, &device).unwrap();
    assert_eq!(
        to_vec(again.decoder[1].weight.val()),
        to_vec(net.decoder[1].weight.val())
    );
}

#[test]
fn config_errors_name_the_key() {
    let msg = |layers: Vec<usize>, input: usize| {
        DeepAutoencoderConfig {
            layers,
            ..Default::default()
        }
        .validate_for(input)
        .unwrap_err()
        .to_string()
    };
    assert!(
        msg(vec![1000], 784).contains("layers: the code size 1000 is larger than the input 784"),
        "{}",
        msg(vec![1000], 784)
    );
    assert!(msg(vec![], 784).contains("layers: a deep autoencoder needs at least 1 layer"));
    assert!(msg(vec![500, 0, 30], 784).contains("layer 2 of [500, 0, 30] has 0"));
    DeepAutoencoderConfig::default().validate_for(784).unwrap();
    let bad = |cfg: DeepAutoencoderConfig| cfg.validate().unwrap_err().to_string();
    assert!(
        bad(DeepAutoencoderConfig {
            lr: 0.0,
            ..Default::default()
        })
        .contains("lr")
    );
    assert!(
        bad(DeepAutoencoderConfig {
            momentum: 1.0,
            ..Default::default()
        })
        .contains("momentum")
    );
    assert!(
        bad(DeepAutoencoderConfig {
            weight_decay: -1.0,
            ..Default::default()
        })
        .contains("weight_decay")
    );
    assert!(
        bad(DeepAutoencoderConfig {
            batch_size: 0,
            ..Default::default()
        })
        .contains("batch_size")
    );
    let mut cfg = DeepAutoencoderConfig::default();
    cfg.eval.picture_shape = Some([28, 27]);
    assert!(
        cfg.validate_for(784)
            .unwrap_err()
            .to_string()
            .contains("eval.picture_shape")
    );
    // Unknown keys are refused.
    let err = serde_json::from_str::<DeepAutoencoderConfig>(r#"{"layer": [30]}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
    let cfg: DeepAutoencoderConfig =
        serde_json::from_str(r#"{"layers": [100, 30], "loss": "squared", "init": "random"}"#)
            .unwrap();
    assert_eq!(cfg.loss, Loss::Squared);
}

#[test]
fn stacks_that_do_not_fit_are_refused() {
    let device = Device::flex();
    let (dbn, code) = stack(&device);
    let mut layers = stack_layers(&dbn, &code).unwrap();
    assert!(matches!(
        DeepAutoencoder::unroll(&[]),
        Err(DeepAutoencoderError::Config(m)) if m.contains("empty")
    ));
    let swapped: Vec<StackLayer> = vec![layers[1].clone(), layers[0].clone()];
    let err = DeepAutoencoder::unroll(&swapped).unwrap_err().to_string();
    assert!(err.contains("layer 2's visible units"), "{err}");
    layers[0].linear_hidden = true;
    let err = DeepAutoencoder::unroll(&layers).unwrap_err().to_string();
    assert!(
        err.contains("layer 1 of 3 has linear hidden units"),
        "{err}"
    );
    // Gaussian visible units cannot be unrolled into a logistic decoder.
    let mut gaussian = random_rbm(4, 3, 1.0, 1, &device);
    gaussian.visible_units = crate::rbm::VisibleUnits::Gaussian { sigma: None };
    assert!(StackLayer::from_rbm(&gaussian).is_err());
}
