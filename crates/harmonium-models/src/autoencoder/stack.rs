//! Greedy layer-wise pretraining with autoencoders (paper §10; Vincent et al. 2010, §3.5): layer
//! 1 is an autoencoder trained on the data; layer `k+1` is trained on the hidden probabilities
//! `h_k = σ(h_{k−1}W_k + c_k)` of the clean input of layer k, exactly where a DBN's RBMs would be
//! ([`crate::dbn::Dbn::pretrain`] with `pass_up: probabilities`). Each layer becomes an RBM
//! ([`AutoencoderLayer::to_rbm`]), so the result is a [`Dbn`] whose up-pass and MLP layers are
//! the encoders.

use burn::tensor::Tensor;

use super::{AutoencoderError, AutoencoderLayer, AutoencoderLayerConfig};
use crate::dbn::Dbn;
use crate::events::{EventSink, Prefixed};

/// Trains `layers.len()` autoencoder layers bottom-up: `layers[i]` configures layer `i + 1`
/// (its `hidden` is the layer size), which is trained on the encodings of the layer below and
/// seeded with `seed + i`; its events reach `sink` prefixed `layer{i+1}`. `valid`, when given,
/// is passed up alongside for the validation metrics. Every configuration is checked before any
/// training; an error names its layer ([`AutoencoderError::Layer`]). When the sink asks to stop,
/// no further layer is started: the stack holds the layers trained so far (the last of them
/// possibly stopped early).
pub fn pretrain_stack(
    data: &Tensor<2>,
    valid: Option<&Tensor<2>>,
    layers: &[AutoencoderLayerConfig],
    sink: &mut dyn EventSink,
    seed: u64,
) -> Result<Dbn, AutoencoderError> {
    if layers.is_empty() {
        return Err(AutoencoderError::Config(
            "layers: a stack needs at least 1 autoencoder layer, but none were given".into(),
        ));
    }
    let in_layer = |i: usize| {
        move |e: AutoencoderError| AutoencoderError::Layer {
            layer: i + 1,
            source: Box::new(e),
        }
    };
    for (i, cfg) in layers.iter().enumerate() {
        cfg.validate().map_err(in_layer(i))?;
    }
    let mut x = data.clone();
    let mut vx = valid.cloned();
    let mut trained = Vec::with_capacity(layers.len());
    for (i, cfg) in layers.iter().enumerate() {
        if !sink.keep_going() {
            break;
        }
        let mut layer_sink = Prefixed {
            inner: &mut *sink,
            prefix: format!("layer{}", i + 1),
        };
        let (layer, _) =
            AutoencoderLayer::fit(&x, vx.as_ref(), cfg, &mut layer_sink, seed + i as u64)
                .map_err(in_layer(i))?;
        if i + 1 < layers.len() {
            x = layer.encode(x);
            vx = vx.map(|v| layer.encode(v));
        }
        trained.push(layer.to_rbm());
    }
    Ok(Dbn { layers: trained })
}
