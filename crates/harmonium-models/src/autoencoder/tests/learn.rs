//! The closed-form gradient against central differences of the f64 objective, for both decoders,
//! with and without corruption and the contractive penalty; the momentum update by hand.

use burn::tensor::Device;

use super::{HostLayer, random_layer, random_unit_rows};
use crate::autoencoder::{AutoencoderLayer, Decoder, Gradients, Increments, SgdStep};
use crate::eval::testing::{HostRng, rows, tensor_from_rows};
use crate::eval::to_vec;

/// Compares `gradients` with `(E(θ + ε) − E(θ − ε)) / 2ε` for every parameter, and the
/// objective it reports with the host's.
fn check_gradient(decoder: Decoder, lambda: f64, corrupt: bool) {
    let device = Device::flex();
    let layer = random_layer(6, 4, 0.8, decoder, 5, &device);
    let clean_rows = random_unit_rows(5, 6, 9);
    // A fixed masking pattern: every third input of the flattened batch set to 0.
    let input_rows: Vec<Vec<f64>> = clean_rows
        .iter()
        .enumerate()
        .map(|(n, r)| {
            r.iter()
                .enumerate()
                .map(|(i, &x)| {
                    if corrupt && (n * 6 + i) % 3 == 0 {
                        0.0
                    } else {
                        x
                    }
                })
                .collect()
        })
        .collect();
    let clean = tensor_from_rows(&clean_rows, &device);
    let input = tensor_from_rows(&input_rows, &device);
    let g = layer.gradients(&clean, &input, lambda);
    let host = HostLayer::of(&layer);
    let objective = |h: &HostLayer| h.objective(&clean_rows, &input_rows, lambda);

    let reported = g.objective_sum().into_scalar::<f32>() as f64 / clean_rows.len() as f64;
    let exact = objective(&host);
    assert!(
        (reported - exact).abs() <= 1e-5 * exact.abs().max(1.0),
        "objective {reported} against {exact}"
    );
    let per_example: f64 = to_vec(layer.objective(&clean, &input, lambda))
        .iter()
        .map(|&x| x as f64)
        .sum::<f64>()
        / clean_rows.len() as f64;
    assert!((per_example - exact).abs() <= 1e-5 * exact.abs().max(1.0));
    if lambda > 0.0 {
        let p = g
            .penalty_sum
            .clone()
            .expect("a penalty")
            .into_scalar::<f32>() as f64;
        let host_p: f64 = input_rows
            .iter()
            .map(|x| lambda * host.jacobian_norm2(x))
            .sum();
        assert!(
            (p - host_p).abs() <= 1e-5 * host_p.max(1.0),
            "penalty {p} against {host_p}"
        );
        assert!(
            host_p > 1e-3,
            "the penalty is too small to be checked: {host_p}"
        );
    } else {
        assert!(g.penalty_sum.is_none());
    }

    let eps = 1e-5;
    let close = |analytic: f64, numeric: f64, what: String| {
        assert!(
            (analytic - numeric).abs() <= 2e-4 * numeric.abs().max(1.0),
            "{what}: closed form {analytic}, central difference {numeric}"
        );
    };
    assert_eq!(g.weights.dims(), [6, 4]);
    let central = |nudge: &dyn Fn(&mut HostLayer, f64)| {
        let (mut up, mut down) = (host.clone(), host.clone());
        nudge(&mut up, eps);
        nudge(&mut down, -eps);
        (objective(&up) - objective(&down)) / (2.0 * eps)
    };
    for (i, row) in rows(g.weights).iter().enumerate() {
        for (j, &analytic) in row.iter().enumerate() {
            let numeric = central(&|h, d| h.w[i][j] += d);
            close(analytic, numeric, format!("∂E/∂W[{i}][{j}]"));
        }
    }
    for (i, &analytic) in to_vec(g.visible_bias).iter().enumerate() {
        let numeric = central(&|h, d| h.b[i] += d);
        close(analytic as f64, numeric, format!("∂E/∂b[{i}]"));
    }
    for (j, &analytic) in to_vec(g.hidden_bias).iter().enumerate() {
        let numeric = central(&|h, d| h.c[j] += d);
        close(analytic as f64, numeric, format!("∂E/∂c[{j}]"));
    }
}

#[test]
fn dae_gradient_matches_central_differences() {
    check_gradient(Decoder::Sigmoid, 0.0, true);
    check_gradient(Decoder::Sigmoid, 0.0, false);
}

#[test]
fn dae_gradient_with_a_linear_decoder_matches_central_differences() {
    check_gradient(Decoder::Linear, 0.0, true);
}

#[test]
fn cae_gradient_matches_central_differences() {
    check_gradient(Decoder::Sigmoid, 0.7, false);
    check_gradient(Decoder::Linear, 0.7, false);
    // The penalty at a corrupted input, as when a cae is given a corruption too.
    check_gradient(Decoder::Sigmoid, 0.7, true);
}

#[test]
fn the_update_follows_the_momentum_rule_by_hand() {
    let device = Device::flex();
    let mut layer = random_layer(3, 2, 0.5, Decoder::Sigmoid, 1, &device);
    let host0 = HostLayer::of(&layer);
    let mut rng = HostRng::new(4);
    let grads: Vec<Gradients> = (0..2)
        .map(|_| Gradients {
            weights: rng.tensor2(3, 2, 1.0, &device),
            visible_bias: rng.tensor1(3, 1.0, &device),
            hidden_bias: rng.tensor1(2, 1.0, &device),
            reconstruction_loss_sum: burn::tensor::Tensor::zeros([1], &device),
            penalty_sum: None,
        })
        .collect();
    let (lr, m, wc) = (0.1, 0.5, 0.01);
    let step = SgdStep {
        lr,
        momentum: m,
        weight_cost: wc,
    };
    // The gradients read back as f64, in a host layer's fields.
    let host_g: Vec<HostLayer> = grads
        .iter()
        .map(|g| {
            HostLayer::of(
                &AutoencoderLayer::from_parts(
                    g.weights.clone(),
                    g.visible_bias.clone(),
                    g.hidden_bias.clone(),
                    Decoder::Sigmoid,
                )
                .unwrap(),
            )
        })
        .collect();
    let mut inc = Increments::zeros(&layer);
    for g in grads {
        step.apply(&mut layer, &mut inc, g);
    }
    // By hand: Δ₁ = −lr(g₁ + wc θ₀), θ₁ = θ₀ + Δ₁, Δ₂ = mΔ₁ − lr(g₂ + wc θ₁), θ₂ = θ₁ + Δ₂.
    let after = HostLayer::of(&layer);
    for i in 0..3 {
        for j in 0..2 {
            let w0 = host0.w[i][j];
            let d1 = -lr * (host_g[0].w[i][j] + wc * w0);
            let w1 = w0 + d1;
            let d2 = m * d1 - lr * (host_g[1].w[i][j] + wc * w1);
            assert!((after.w[i][j] - (w1 + d2)).abs() < 1e-6);
        }
        let d1 = -lr * host_g[0].b[i];
        let d2 = m * d1 - lr * host_g[1].b[i];
        assert!((after.b[i] - (host0.b[i] + d1 + d2)).abs() < 1e-6);
    }
    for j in 0..2 {
        let d1 = -lr * host_g[0].c[j];
        let d2 = m * d1 - lr * host_g[1].c[j];
        assert!((after.c[j] - (host0.c[j] + d1 + d2)).abs() < 1e-6);
    }
}
