//! The GPU path checked against the CPU: the same statistics and the same training on `wgpu`
//! (in CI a software Vulkan driver, Mesa's lavapipe) as on `flex`, within float tolerance.
//!
//! - RBM inference (`p(h|v)`, `p(v|h)`, free energies) and the CD-1 and PCD statistics of eq. 4
//!   from the same random numbers (host draws, so both devices see the same uniforms);
//! - the exact log partition function of a small RBM by enumeration;
//! - the deterministic CD-1 training of an RBM (host draws), epoch by epoch;
//! - backprop fine-tuning: the same net, data order and SGD with momentum give the same curves
//!   (on `flex` through its fused two-core update, on `wgpu` through burn's optimizer);
//! - fine-tuning stopped after an epoch and continued from its saved state (burn's optimizer
//!   record) ends as one that never stopped;
//! - a dataset larger than the device's largest buffer is refused with a clear error.
//!
//! Where no Vulkan device is found the tests are skipped, except in CI (`CI` set).

use burn::tensor::{Device, Tensor};

use crate::data::Labelled;
use crate::eval::exact;
use crate::eval::testing::{mnist_binary, random_rbm};
use crate::events::VecSink;
use crate::mlp::{self, Mlp, MlpConfig, Splits};
use crate::rbm::{HostDraws, NegativePhase, Rbm};

fn wgpu() -> Option<Device> {
    match crate::device::parse_device("wgpu") {
        Ok(d) => Some(d),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "no wgpu device (apt-get install mesa-vulkan-drivers for lavapipe); CI cannot skip this: {e}"
            );
            eprintln!("SKIPPED: {e}");
            None
        }
    }
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    crate::eval::to_vec(t)
}

/// The largest |a − b| over two tensors of one shape (on any devices).
fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    host(a)
        .iter()
        .zip(host(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The RBM of `rbm` on `device` (the same parameters).
fn moved(rbm: &Rbm, device: &Device) -> Rbm {
    let mut r = rbm.clone();
    r.weights = rbm.weights.clone().to_device(device);
    r.visible_bias = rbm.visible_bias.clone().to_device(device);
    r.hidden_bias = rbm.hidden_bias.clone().to_device(device);
    r
}

#[test]
fn rbm_inference_and_cd_statistics_agree_with_flex() {
    let Some(gpu) = wgpu() else { return };
    let cpu = Device::flex();
    let a = random_rbm(784, 64, 0.05, 7, &cpu);
    let b = moved(&a, &gpu);
    let (va, vb) = (mnist_binary(200, &cpu), mnist_binary(200, &gpu));
    let ph = max_diff(a.hidden_probs(va.clone()), b.hidden_probs(vb.clone()));
    assert!(ph < 1e-5, "p(h|v) differs by {ph}");
    let h = a.hidden_probs(va.clone());
    let pv = max_diff(a.visible_mean(h.clone()), b.visible_mean(h.to_device(&gpu)));
    assert!(pv < 1e-5, "p(v|h) differs by {pv}");
    let fe = max_diff(a.free_energy(va.clone()), b.free_energy(vb.clone()));
    assert!(fe < 1e-2, "free energies (about 10² nats) differ by {fe}");
    // CD-1 and persistent CD from the same uniforms.
    for k in [1, 3] {
        let sa = a.cd_statistics(
            va.clone(),
            k,
            NegativePhase::Reconstruction,
            &mut HostDraws::new(11),
        );
        let sb = b.cd_statistics(
            vb.clone(),
            k,
            NegativePhase::Reconstruction,
            &mut HostDraws::new(11),
        );
        for (what, d) in [
            ("ΔW", max_diff(sa.delta_w, sb.delta_w)),
            ("Δb", max_diff(sa.delta_b, sb.delta_b)),
            ("Δc", max_diff(sa.delta_c, sb.delta_c)),
        ] {
            assert!(d < 1e-4, "CD-{k} {what} differs by {d}");
        }
    }
    let mut ca = mnist_binary(50, &cpu);
    let mut cb = ca.clone().to_device(&gpu);
    let sa = a.cd_statistics(
        va,
        1,
        NegativePhase::Persistent(&mut ca),
        &mut HostDraws::new(5),
    );
    let sb = b.cd_statistics(
        vb,
        1,
        NegativePhase::Persistent(&mut cb),
        &mut HostDraws::new(5),
    );
    assert!(max_diff(sa.delta_w, sb.delta_w) < 1e-4, "PCD ΔW");
    assert_eq!(
        max_diff(ca, cb),
        0.0,
        "the advanced chains are the same states"
    );
}

#[test]
fn the_exact_log_partition_function_agrees_with_flex() {
    let Some(gpu) = wgpu() else { return };
    let cpu = Device::flex();
    let a = random_rbm(16, 12, 0.5, 3, &cpu);
    let b = moved(&a, &gpu);
    let (za, zb) = (
        exact::log_partition(&a, 20).unwrap(),
        exact::log_partition(&b, 20).unwrap(),
    );
    assert!((za - zb).abs() < 1e-3 * za.abs().max(1.0), "{za} vs {zb}");
}

#[test]
fn cd1_epochs_from_the_same_draws_agree_with_flex() {
    let Some(gpu) = wgpu() else { return };
    let cpu = Device::flex();
    let mut a = random_rbm(784, 16, 0.01, 9, &cpu);
    let mut b = moved(&a, &gpu);
    let (da, db) = (mnist_binary(500, &cpu), mnist_binary(500, &gpu));
    let (mut ra, mut rb) = (HostDraws::new(21), HostDraws::new(21));
    let lr = 0.05;
    // Plain CD-1 steps (eq. 4) over mini-batches of 50, three epochs.
    for _ in 0..3 {
        for i in (0..500).step_by(50) {
            for (rbm, data, draws) in [(&mut a, &da, &mut ra), (&mut b, &db, &mut rb)] {
                let v = data.clone().slice([i..i + 50, 0..784]);
                let s = rbm.cd_statistics(v, 1, NegativePhase::Reconstruction, draws);
                rbm.weights = rbm.weights.clone() + s.delta_w * lr;
                rbm.visible_bias = rbm.visible_bias.clone() + s.delta_b * lr;
                rbm.hidden_bias = rbm.hidden_bias.clone() + s.delta_c * lr;
            }
        }
    }
    let dw = max_diff(a.weights.clone(), b.weights.clone());
    assert!(dw < 1e-3, "weights after 30 CD-1 steps differ by {dw}");
    let (la, lb) = (
        exact::log_likelihood(&a, &da, 20).unwrap(),
        exact::log_likelihood(&b, &db, 20).unwrap(),
    );
    assert!((la - lb).abs() < 0.05, "exact log-likelihood {la} vs {lb}");
}

/// A two-class problem on MNIST: zeros against ones.
fn zeros_and_ones(n: usize, device: &Device) -> Labelled {
    let x = mnist_binary(4 * n, &Device::flex());
    let labels = crate::eval::testing::mnist_labels(4 * n);
    let keep: Vec<usize> = (0..4 * n).filter(|&i| labels[i] < 2).take(n).collect();
    let rows: Vec<f32> = {
        let all = host(x);
        keep.iter()
            .flat_map(|&i| all[i * 784..(i + 1) * 784].to_vec())
            .collect()
    };
    let y: Vec<u32> = keep.iter().map(|&i| labels[i]).collect();
    Labelled::from_host(
        &harmonium_data::Matrix::new(keep.len(), 784, rows),
        &y,
        device,
    )
}

#[test]
fn backprop_fine_tuning_agrees_with_flex() {
    let Some(gpu) = wgpu() else { return };
    let cpu = Device::flex();
    let cfg = MlpConfig {
        hidden: vec![32],
        epochs: 3,
        batch_size: 25,
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 1e-4,
        ..Default::default()
    };
    let run = |device: &Device| {
        let (tr, va) = (zeros_and_ones(300, device), zeros_and_ones(100, device));
        let mut sink = VecSink::default();
        let model = Mlp::random(&[784, 32, 10], None, 5, device);
        let splits = Splits {
            train: &tr,
            valid: &va,
            test: &va,
        };
        let (_, summary) = mlp::train(model, &splits, &cfg, 5, "mlp", &mut sink).unwrap();
        (sink.series("train_loss"), summary.best_valid_error)
    };
    let (la, ea) = run(&cpu);
    let (lb, eb) = run(&gpu);
    assert_eq!(la.len(), 3);
    for ((_, a), (_, b)) in la.iter().zip(&lb) {
        assert!(
            (a - b).abs() < 1e-3 * a.abs().max(1e-2),
            "train loss {a} vs {b}"
        );
    }
    assert!(
        (ea - eb).abs() < 0.011,
        "best validation error {ea} vs {eb}"
    );
}

#[test]
fn data_larger_than_the_devices_largest_buffer_is_a_clear_error() {
    let Some(gpu) = wgpu() else { return };
    let limit = crate::device::largest_buffer(&gpu).expect("wgpu states its largest buffer");
    let rows = (limit / (784 * 4)) as usize + 1;
    let e = crate::device::check_fits(&gpu, rows, 784, "the training images").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("the training images"), "{msg}");
    assert!(msg.contains("flex"), "says what to do: {msg}");
    assert!(crate::device::check_fits(&gpu, rows - 2, 784, "x").is_ok());
    assert!(crate::device::check_fits(&Device::flex(), rows * 10, 784, "x").is_ok());
}

#[test]
fn fine_tuning_on_wgpu_continues_from_its_saved_state_as_if_never_stopped() {
    use crate::resume::KeepingStates;
    let Some(gpu) = wgpu() else { return };
    let (tr, va) = (zeros_and_ones(200, &gpu), zeros_and_ones(100, &gpu));
    let splits = Splits {
        train: &tr,
        valid: &va,
        test: &va,
    };
    let cfg = MlpConfig {
        hidden: vec![16],
        epochs: 4,
        batch_size: 25,
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let start = || Mlp::random(&[784, 16, 10], None, 3, &gpu);
    let mut whole_sink = KeepingStates::default();
    let (whole, _) = mlp::train(start(), &splits, &cfg, 2, "mlp", &mut whole_sink).unwrap();
    let mut first = KeepingStates {
        stop_after: Some(2),
        ..Default::default()
    };
    mlp::train(start(), &splits, &cfg, 2, "mlp", &mut first).unwrap();
    let state = first.saved.remove("mlp").expect("a state saved on wgpu");
    let mut second = KeepingStates {
        given: [("mlp".to_string(), state)].into(),
        ..Default::default()
    };
    let (resumed, _) = mlp::train(start(), &splits, &cfg, 2, "mlp", &mut second).unwrap();
    assert_eq!(second.epochs, 2, "only the two missing epochs ran");
    for (a, b) in resumed.layers.iter().zip(&whole.layers) {
        let d = max_diff(a.weight.val(), b.weight.val());
        assert!(d < 1e-5, "weights differ by {d}");
    }
}
