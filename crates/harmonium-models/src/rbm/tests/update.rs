//! The update `Δθ ← m·Δθ + lr·(S − wc·θ)`, `θ ← θ + Δθ` and the sparsity target against numbers
//! computed by hand, and the sparsity target's effect on a trained RBM.

use burn::tensor::{Device, Tensor, TensorData};

use super::{assert_close, flat, flat1, quiet_eval};
use crate::eval::testing::{mnist_binary, serial};
use crate::events::NullSink;
use crate::rbm::update::SparsityPenalty;
use crate::rbm::{
    CdStatistics, Increments, MomentumUpdate, Rbm, RbmConfig, Sparsity, VisibleUnits,
};

fn t1(values: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

fn column(values: &[f32], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len(), 1]), device)
}

/// A 2-visible, 1-hidden RBM with W = (1, −2)ᵀ, b = (0.5, 0), c = 0.25, and increments
/// ΔW = (0.1, 0.2)ᵀ, Δb = (0, −0.1), Δc = 0.3 carried from an earlier mini-batch.
fn tiny(device: &Device) -> (Rbm, Increments) {
    let rbm = Rbm {
        weights: column(&[1.0, -2.0], device),
        visible_bias: t1(&[0.5, 0.0], device),
        hidden_bias: t1(&[0.25], device),
        visible_units: VisibleUnits::Binary,
    };
    let inc = Increments {
        weights: column(&[0.1, 0.2], device),
        visible_bias: t1(&[0.0, -0.1], device),
        hidden_bias: t1(&[0.3], device),
    };
    (rbm, inc)
}

/// Statistics S_W, S_b, S_c (the means are not used by the update itself).
fn statistics(w: &[f32], b: &[f32], c: &[f32], device: &Device) -> CdStatistics {
    CdStatistics {
        delta_w: column(w, device),
        delta_b: t1(b, device),
        delta_c: t1(c, device),
        hidden_data_mean: t1(&[0.0], device),
        visible_data_mean: t1(&[0.0, 0.0], device),
    }
}

const RULE: MomentumUpdate = MomentumUpdate {
    lr: 0.5,
    momentum: 0.9,
    weight_cost: 0.1,
};

fn check(rbm: &Rbm, inc: &Increments, want: [&[f64]; 6], what: &str) {
    let close = |got: Vec<f64>, want: &[f64], p: &str| {
        assert_close(&got, want, 1e-6, &format!("{what}: {p}"));
    };
    close(flat(inc.weights.clone()), want[0], "ΔW");
    close(flat(rbm.weights.clone()), want[1], "W");
    close(flat1(inc.visible_bias.clone()), want[2], "Δb");
    close(flat1(rbm.visible_bias.clone()), want[3], "b");
    close(flat1(inc.hidden_bias.clone()), want[4], "Δc");
    close(flat1(rbm.hidden_bias.clone()), want[5], "c");
}

/// lr = 0.5, m = 0.9, wc = 0.1 and S_W = (0.4, −0.6)ᵀ, S_b = (1, 2), S_c = −0.5:
///
/// ```text
/// ΔW = 0.9·(0.1, 0.2) + 0.5·((0.4, −0.6) − 0.1·(1, −2)) = (0.24, −0.02)    W = (1.24, −2.02)
/// Δb = 0.9·(0, −0.1) + 0.5·(1, 2)                     = (0.5, 0.91)       b = (1, 0.91)
/// Δc = 0.9·0.3 + 0.5·(−0.5)                           = 0.02              c = 0.27
/// ```
///
/// then S = 0: momentum carries the increments on, the weight cost shrinks W and not the biases:
///
/// ```text
/// ΔW = 0.9·(0.24, −0.02) − 0.5·0.1·(1.24, −2.02) = (0.154, 0.083)           W = (1.394, −1.937)
/// Δb = 0.9·(0.5, 0.91) = (0.45, 0.819)    b = (1.45, 1.729);    Δc = 0.018,  c = 0.288
/// ```
#[test]
fn momentum_and_weight_cost_follow_the_rule_by_hand() {
    let device = Device::flex();
    let (mut rbm, mut inc) = tiny(&device);
    let s = statistics(&[0.4, -0.6], &[1.0, 2.0], &[-0.5], &device);
    RULE.apply(&mut rbm, &mut inc, s);
    let first = [
        &[0.24, -0.02][..],
        &[1.24, -2.02],
        &[0.5, 0.91],
        &[1.0, 0.91],
        &[0.02],
        &[0.27],
    ];
    check(&rbm, &inc, first, "first mini-batch");

    let s = statistics(&[0.0, 0.0], &[0.0, 0.0], &[0.0], &device);
    RULE.apply(&mut rbm, &mut inc, s);
    let second = [
        &[0.154, 0.083][..],
        &[1.394, -1.937],
        &[0.45, 0.819],
        &[1.45, 1.729],
        &[0.018],
        &[0.288],
    ];
    check(&rbm, &inc, second, "second mini-batch");
}

/// The fast path on the same first mini-batch with S_W in two parts, S_a = (0.3, −0.1)ᵀ and
/// S_b = (0.1, −0.5)ᵀ: W's one pass gives the rule's ΔW = 0.9·(0.1, 0.2) + 0.5·((0.4, −0.6) −
/// 0.1·(1, −2)) = (0.24, −0.02), and the biases' rule the rest.
#[test]
fn the_fast_path_in_parts_gives_the_rule_by_hand() {
    let device = Device::flex();
    let (mut rbm, mut inc) = tiny(&device);
    let parts = vec![column(&[0.3, -0.1], &device), column(&[0.1, -0.5], &device)];
    let serial = |a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)| {
        a();
        b();
    };
    crate::rbm::fused_update::update_weights(&RULE, &mut inc, &mut rbm.weights, parts, serial);
    let (_, units) = statistics(&[0.0, 0.0], &[1.0, 2.0], &[-0.5], &device).split();
    RULE.apply_to_biases(&mut rbm, &mut inc, units);
    let want = [
        &[0.24, -0.02][..],
        &[1.24, -2.02],
        &[0.5, 0.91],
        &[1.0, 0.91],
        &[0.02],
        &[0.27],
    ];
    check(&rbm, &inc, want, "in parts");
}

/// target 0.1, decay 0.9, cost 0.5. First mini-batch ⟨p(h|v)⟩ = (0.3, 0.05), ⟨v⟩ = (1, 0.5):
/// q = (0.3, 0.05), the pull `0.5·(0.1 − q)` = (−0.1, 0.025), and ⟨v⟩ ⊗ pull =
/// ((−0.1, 0.025), (−0.05, 0.0125)). Second, ⟨p(h|v)⟩ = (0.2, 0.15), ⟨v⟩ = (0, 2):
/// q = 0.9·(0.3, 0.05) + 0.1·(0.2, 0.15) = (0.29, 0.06), pull = (−0.095, 0.02), ⟨v⟩ ⊗ pull =
/// ((0, 0), (−0.19, 0.04)). The penalty is added to the statistics: S_c = (0.01, 0.02) becomes
/// (−0.09, 0.045).
#[test]
fn sparsity_penalty_follows_the_running_estimate_by_hand() {
    let device = Device::flex();
    let sparsity = Sparsity {
        target: 0.1,
        decay: 0.9,
        cost: 0.5,
    };
    let mut q = None;
    let expect = |p: SparsityPenalty, q: &Option<Tensor<1>>, want: [&[f64]; 3], what: &str| {
        let q = flat1(q.clone().expect("q is set"));
        assert_close(&q, want[0], 1e-6, &format!("{what}: q"));
        assert_close(
            &flat1(p.hidden_bias),
            want[1],
            1e-6,
            &format!("{what}: pull"),
        );
        assert_close(
            &flat(p.weights),
            want[2],
            1e-6,
            &format!("{what}: ⟨v⟩ ⊗ pull"),
        );
    };
    let p = sparsity.penalty(&mut q, t1(&[0.3, 0.05], &device), t1(&[1.0, 0.5], &device));
    let first = [
        &[0.3, 0.05][..],
        &[-0.1, 0.025],
        &[-0.1, 0.025, -0.05, 0.0125],
    ];
    expect(p, &q, first, "first mini-batch");
    let p = sparsity.penalty(&mut q, t1(&[0.2, 0.15], &device), t1(&[0.0, 2.0], &device));
    let second = [&[0.29, 0.06][..], &[-0.095, 0.02], &[0.0, 0.0, -0.19, 0.04]];
    expect(p, &q, second, "second mini-batch");

    let s = CdStatistics {
        delta_w: Tensor::zeros([2, 2], &device),
        delta_b: t1(&[0.0, 0.0], &device),
        delta_c: t1(&[0.01, 0.02], &device),
        hidden_data_mean: t1(&[0.3, 0.05], &device),
        visible_data_mean: t1(&[1.0, 0.5], &device),
    };
    let s = sparsity.penalize(&mut None, s);
    assert_close(&flat1(s.delta_c), &[-0.09, 0.045], 1e-6, "S_c + pull");
    let pulled_w = [-0.1, 0.025, -0.05, 0.0125];
    assert_close(&flat(s.delta_w), &pulled_w, 1e-6, "S_W + ⟨v⟩ ⊗ pull");
}

/// The mean hidden activity ⟨p(h|v)⟩ over the training data after 3 epochs of CD-1 on 1,000
/// MNIST images, 784-50.
fn mean_hidden_activity(sparsity: Option<Sparsity>) -> f64 {
    let device = Device::flex();
    let data = mnist_binary(1000, &device);
    let cfg = RbmConfig {
        hidden: 50,
        epochs: 3,
        lr: 0.05,
        sparsity,
        eval: quiet_eval(),
        ..Default::default()
    };
    let (rbm, _) = Rbm::fit(&data, None, &cfg, &mut NullSink, 2).unwrap();
    rbm.hidden_probs(data).mean().into_scalar::<f32>() as f64
}

/// A sparsity target of 0.05 (cost 0.1) brings the mean hidden activity at least nine tenths of
/// the way to it from where the same training leaves it without one (about 0.45).
#[test]
fn sparsity_target_moves_mean_hidden_activity_toward_it() {
    let _guard = serial();
    let target = 0.05;
    let plain = mean_hidden_activity(None);
    let sparse = mean_hidden_activity(Some(Sparsity {
        target,
        decay: 0.9,
        cost: 0.1,
    }));
    eprintln!("mean hidden activity: {plain:.4} without a target, {sparse:.4} with {target}");
    assert!(
        (sparse - target).abs() < 0.1 * (plain - target).abs(),
        "mean hidden activity {sparse:.4} with target {target}, {plain:.4} without"
    );
}
