//! Building the net from a pretrained stack, and the up- and down-passes.

use burn::tensor::Device;

use super::{assert_close, flat, random_top, vec1};
use crate::dbn::Dbn;
use crate::eval::testing::{FixedDraws, HostRng, random_rbm};
use crate::rbm::VisibleUnits;
use crate::updown::{UpDownDbn, UpDownError};

fn stack(device: &Device) -> Dbn {
    Dbn {
        layers: vec![
            random_rbm(6, 4, 1.0, 1, device),
            random_rbm(4, 3, 1.0, 2, device),
        ],
    }
}

#[test]
fn a_net_from_a_stack_starts_with_tied_weights_and_its_up_pass() {
    let device = Device::flex();
    let dbn = stack(&device);
    let top = random_top(3, 2, 5, 1.0, &mut HostRng::new(3), &device);
    let net = UpDownDbn::from_stack(&dbn, top).unwrap();
    assert_eq!(net.sizes(), vec![6, 4, 3, 5]);
    assert_eq!(net.classes(), 2);
    for (l, rbm) in net.layers.iter().zip(&dbn.layers) {
        assert_eq!(flat(l.recognition.clone()), flat(rbm.weights.clone()));
        assert_eq!(
            flat(l.generative.clone()),
            flat(rbm.weights.clone().transpose())
        );
        assert_eq!(
            vec1(l.recognition_bias.clone()),
            vec1(rbm.hidden_bias.clone())
        );
        assert_eq!(
            vec1(l.generative_bias.clone()),
            vec1(rbm.visible_bias.clone())
        );
    }
    let v = HostRng::new(4).tensor2(5, 6, 1.0, &device).abs();
    assert_close(
        &flat(net.penultimate_probs(v.clone())),
        &flat(dbn.up(v.clone())),
        1e-6,
        "up-pass",
    );
    // The down-pass: h¹ sampled from p(h¹ | h²) (one draw), then p(v | h¹).
    let pen = net
        .up_states(v, &mut crate::rbm::HostDraws::new(1))
        .pop()
        .unwrap();
    let u = HostRng::new(5).tensor2(5, 4, 1.0, &device).abs();
    let states = net.down_states(pen.clone(), &mut FixedDraws::new(vec![u.clone()]));
    assert_eq!(states.len(), 3);
    let h1 = net.layers[1].down_probs(pen.clone()).greater(u).float();
    assert_eq!(flat(states[1].clone()), flat(h1.clone()));
    assert_close(
        &flat(states[0].clone()),
        &flat(dbn.layers[0].visible_mean(h1)),
        1e-6,
        "p(v|h¹)",
    );
    assert_eq!(flat(states[2].clone()), flat(pen));
}

#[test]
fn a_stack_that_does_not_chain_with_the_top_or_has_gaussian_units_is_refused() {
    let device = Device::flex();
    let dbn = stack(&device);
    let top = random_top(4, 2, 5, 1.0, &mut HostRng::new(3), &device);
    let err = UpDownDbn::from_stack(&dbn, top.clone()).unwrap_err();
    assert!(matches!(err, UpDownError::Layers(_)));
    let msg = err.to_string();
    assert!(
        msg.starts_with("layers:") && msg.contains("[6, 4, 3]"),
        "{msg}"
    );
    let empty = UpDownDbn::from_stack(&Dbn { layers: vec![] }, top.clone()).unwrap_err();
    assert!(empty.to_string().contains("no layers"), "{empty}");
    let mut gaussian = stack(&device);
    gaussian.layers[0].visible_units = VisibleUnits::Gaussian { sigma: None };
    let top = random_top(3, 2, 5, 1.0, &mut HostRng::new(3), &device);
    let err = UpDownDbn::from_stack(&gaussian, top)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Gaussian"), "{err}");
}
