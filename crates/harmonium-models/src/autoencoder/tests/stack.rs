//! The pretrained stack: its shapes, its layers against layers trained alone with the same
//! seeds, its up-pass, its events, its errors and its stop.

use burn::tensor::Device;

use super::{max_diff, random_unit_rows};
use crate::autoencoder::{
    AutoencoderError, AutoencoderLayer, AutoencoderLayerConfig, Corruption, Module, pretrain_stack,
};
use crate::eval::testing::{mnist_binary, serial, tensor_from_rows};
use crate::events::{Event, EventSink, NullSink, VecSink};

fn layer(module: Module, hidden: usize) -> AutoencoderLayerConfig {
    let mut c = AutoencoderLayerConfig {
        module,
        hidden,
        epochs: 2,
        batch_size: 20,
        ..Default::default()
    };
    c.eval.checkpoint = false;
    c
}

#[test]
fn the_stack_has_the_right_shapes_and_its_layers_are_layers_trained_alone() {
    let _serial = serial();
    let device = Device::flex();
    let data = mnist_binary(300, &device);
    let valid = mnist_binary(400, &device).narrow(0, 300, 100);
    let cfgs = [layer(Module::Dae, 40), layer(Module::Cae, 10)];
    let mut sink = VecSink::default();
    let dbn = pretrain_stack(&data, Some(&valid), &cfgs, &mut sink, 7).unwrap();
    assert_eq!(dbn.sizes(), vec![784, 40, 10]);
    assert_eq!(dbn.layers[0].weights.dims(), [784, 40]);
    assert_eq!(dbn.layers[1].weights.dims(), [40, 10]);
    assert!(dbn.layers.iter().all(|r| r.is_binary()));
    // Layer 1 is the layer trained alone with the stack's seed; layer 2 the one trained alone on
    // layer 1's encodings with the next seed.
    let (first, _) = AutoencoderLayer::fit(&data, None, &cfgs[0], &mut NullSink, 7).unwrap();
    assert_eq!(
        max_diff(first.weights.clone(), dbn.layers[0].weights.clone()),
        0.0
    );
    assert_eq!(
        max_diff(
            first.visible_bias.clone(),
            dbn.layers[0].visible_bias.clone()
        ),
        0.0
    );
    assert_eq!(
        max_diff(first.hidden_bias.clone(), dbn.layers[0].hidden_bias.clone()),
        0.0
    );
    let features = first.encode(data.clone());
    let (second, _) = AutoencoderLayer::fit(&features, None, &cfgs[1], &mut NullSink, 8).unwrap();
    assert_eq!(
        max_diff(second.weights.clone(), dbn.layers[1].weights.clone()),
        0.0
    );
    // The DBN's up-pass is the composition of the encoders.
    let up = second.encode(first.encode(data.clone()));
    assert!(max_diff(dbn.up(data), up) < 1e-6);
    // Events carry the layer's prefix.
    for key in [
        "layer1/recon_error",
        "layer1/recon_error_valid",
        "layer2/loss",
    ] {
        assert_eq!(sink.series(key).len(), 2, "{key}");
    }
    assert_eq!(sink.series("layer2/contractive_penalty").len(), 2);
    assert!(sink.series("layer1/contractive_penalty").is_empty());
    let stages: Vec<String> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Progress { stage, .. } => Some(stage.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        stages,
        ["layer1 dae", "layer1 dae", "layer2 cae", "layer2 cae"]
    );
}

/// Asks to stop once the first layer has finished.
struct StopAfterFirstLayer(VecSink);

impl EventSink for StopAfterFirstLayer {
    fn emit(&mut self, event: Event) {
        self.0.emit(event);
    }
    fn keep_going(&self) -> bool {
        self.0.series("layer1/recon_error").len() < 2
    }
}

#[test]
fn errors_name_their_layer_and_a_stop_keeps_the_layers_trained() {
    let device = Device::flex();
    let data = tensor_from_rows(&random_unit_rows(60, 8, 2), &device);
    let bad = AutoencoderLayerConfig {
        corruption: Some(Corruption::Masking(1.5)),
        ..layer(Module::Dae, 3)
    };
    let mut sink = VecSink::default();
    let e = pretrain_stack(&data, None, &[layer(Module::Dae, 5), bad], &mut sink, 1).unwrap_err();
    assert!(matches!(e, AutoencoderError::Layer { layer: 2, .. }));
    assert!(
        e.to_string().starts_with("layer 2: ") && e.to_string().contains("corruption.masking: 1.5"),
        "{e}"
    );
    assert!(
        sink.0.is_empty(),
        "a bad configuration is found before any training"
    );
    assert!(
        pretrain_stack(&data, None, &[], &mut NullSink, 1)
            .unwrap_err()
            .to_string()
            .contains("layers:")
    );
    let real = data.clone().mul_scalar(2.0);
    let e = pretrain_stack(&real, None, &[layer(Module::Dae, 5)], &mut NullSink, 1).unwrap_err();
    assert!(
        e.to_string().starts_with("layer 1: ") && e.to_string().contains("decoder"),
        "{e}"
    );

    let mut stop = StopAfterFirstLayer(VecSink::default());
    let cfgs = [layer(Module::Dae, 5), layer(Module::Dae, 3)];
    let dbn = pretrain_stack(&data, None, &cfgs, &mut stop, 1).unwrap();
    assert_eq!(dbn.sizes(), vec![8, 5]);
    assert!(stop.0.series("layer2/loss").is_empty());
}
