//! Greedy pretraining: the stack below is the DBN's, the top is trained on its up-pass with the
//! labels, and learns them.

use burn::tensor::{Device, Int, Tensor};

use super::{flat, labels};
use crate::dbn::{Dbn, PassUp};
use crate::eval::testing::{HostRng, serial, tensor_from_rows};
use crate::events::{NullSink, VecSink};
use crate::rbm::RbmConfig;
use crate::updown::{
    Examples, TopConfig, TopRbm, UpDownConfig, UpDownError, pretrain, pretrain_top,
};

/// Two classes of 12-pixel patterns: class c has pixels 6c … 6c+5 on with probability 0.9,
/// the others with 0.1.
pub(crate) fn two_blocks(n: usize, seed: u64, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let mut rng = HostRng::new(seed);
    let classes: Vec<i64> = (0..n).map(|i| (i % 2) as i64).collect();
    let rows: Vec<Vec<f64>> = classes
        .iter()
        .map(|&c| {
            (0..12)
                .map(|i| {
                    let p = if i / 6 == c as usize { 0.9 } else { 0.1 };
                    if rng.uniform() < p { 1.0 } else { 0.0 }
                })
                .collect()
        })
        .collect();
    (tensor_from_rows(&rows, device), labels(&classes, device))
}

pub(crate) fn small_config() -> UpDownConfig {
    let mut pretrain = RbmConfig {
        epochs: 10,
        batch_size: 20,
        lr: 0.1,
        ..Default::default()
    };
    pretrain.eval.pseudo_likelihood = false;
    pretrain.eval.exact_loglik = false;
    pretrain.eval.checkpoint = false;
    UpDownConfig {
        layers: vec![8, 6],
        classes: 2,
        epochs: 2,
        batch_size: 20,
        lr: 0.01,
        pretrain,
        top: TopConfig {
            epochs: 10,
            batch_size: 20,
            lr: 0.1,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn pretraining_stacks_the_rbms_then_trains_the_top_on_their_up_pass_with_labels() {
    let _serial = serial();
    let device = Device::flex();
    let (x, y) = two_blocks(200, 1, &device);
    let cfg = small_config();
    let mut sink = VecSink::default();
    let net = pretrain(Examples::labelled(&x, &y), None, &cfg, &mut sink, 9).unwrap();
    assert_eq!(net.sizes(), vec![12, 8, 6]);
    // The same stack and top, trained alone with the same seeds, give exactly this net.
    let stack = Dbn::pretrain(
        &x,
        None,
        &cfg.pretraining_layers(),
        PassUp::Probabilities,
        &mut NullSink,
        9,
    )
    .unwrap();
    let (top, _) =
        TopRbm::fit(&stack.up(x.clone()), &y, 2, 6, &cfg.top, &mut NullSink, 10).unwrap();
    assert_eq!(
        flat(net.layers[0].recognition.clone()),
        flat(stack.layers[0].weights.clone())
    );
    assert_eq!(
        flat(net.top.rbm.weights.clone()),
        flat(top.rbm.weights.clone())
    );
    // The top learned the labels: its free-energy classifier separates the two blocks.
    let errors = sink.series("top/train_error");
    assert_eq!(errors.len(), 10, "{errors:?}");
    assert!(errors.last().unwrap().1 < 0.1, "{errors:?}");
    assert!(!sink.series("top/recon_error").is_empty());
    assert!(!sink.series("layer1/recon_error").is_empty());
    assert!(net.error_rate(&x, &y) < 0.1);
}

#[test]
fn pretraining_refuses_missing_labels_and_a_stack_of_other_layers() {
    let device = Device::flex();
    let (x, y) = two_blocks(40, 2, &device);
    let cfg = small_config();
    let unlabelled = Examples {
        x: &x,
        labels: None,
    };
    let err = pretrain(unlabelled, None, &cfg, &mut NullSink, 1).unwrap_err();
    assert!(matches!(
        err,
        UpDownError::MissingLabels { split: "training" }
    ));
    assert!(err.to_string().starts_with("labels:"), "{err}");
    let other = Dbn {
        layers: vec![crate::eval::testing::random_rbm(12, 5, 1.0, 1, &device)],
    };
    let err = pretrain_top(&other, Examples::labelled(&x, &y), &cfg, &mut NullSink, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("layers:") && err.contains("[12, 5]"),
        "{err}"
    );
}
