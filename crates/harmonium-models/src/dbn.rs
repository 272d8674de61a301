//! Deep belief net by greedy stacking of RBMs (paper §6, Fig. 3).
//!
//! Layer 1 is an RBM trained on the data `v`. Layer `l+1` is an RBM trained on the hidden
//! activities of layer `l`, `h_l = p(h_l = 1 | h_{l−1}) = σ(c_l + h_{l−1} W_l)` (or binary
//! samples of them), so each layer models the features of the one below. The stack is then a
//! directed net with an RBM on top; for discriminative fine-tuning (procedure 7) the recognition
//! weights `(W_l, c_l)` become the hidden layers of an MLP ([`Dbn::mlp_layers`]).
//!
//! A layer can also be pretrained as a denoising or contractive autoencoder with tied weights
//! ([`Dbn::pretrain_modules`], §10): its encoder σ(c + xW) is the up-pass an RBM would give.

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::autoencoder::{AutoencoderLayer, AutoencoderLayerConfig};
use crate::checkpoint::CheckpointError;
use crate::events::{EventSink, Prefixed};
use crate::rbm::{Draws, HostDraws, Rbm, RbmConfig, RbmError};

/// What one layer passes up as the data of the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassUp {
    /// The probabilities p(h = 1 | v) (the usual choice).
    #[default]
    Probabilities,
    /// Binary states sampled from those probabilities, drawn once per layer.
    Samples,
}

/// How one layer of a stack is pretrained (`pretrain.module`): as an RBM, or as a denoising or
/// contractive autoencoder.
#[derive(Debug, Clone, PartialEq)]
pub enum StackLayer {
    Rbm(RbmConfig),
    Autoencoder(AutoencoderLayerConfig),
}

impl StackLayer {
    /// The layer's size.
    pub fn hidden(&self) -> usize {
        match self {
            StackLayer::Rbm(c) => c.hidden,
            StackLayer::Autoencoder(c) => c.hidden,
        }
    }
}

/// A stack of RBMs, bottom first.
#[derive(Debug, Clone)]
pub struct Dbn {
    pub layers: Vec<Rbm>,
}

impl Dbn {
    /// Greedy layer-wise pretraining. `layers[i]` configures RBM `i` (its `hidden` is the layer
    /// size). Layer `i`'s events reach `sink` prefixed `layer{i+1}`; layer `i` is seeded with
    /// `seed + i`. `valid`, when given, is passed up alongside for the overfitting metrics.
    pub fn pretrain(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        layers: &[RbmConfig],
        pass_up: PassUp,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<Dbn, RbmError> {
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
            let (rbm, _) = Rbm::fit(&x, vx.as_ref(), cfg, &mut layer_sink, seed + i as u64)?;
            if i + 1 < layers.len() {
                x = pass(&rbm, x, pass_up, seed + i as u64);
                vx = vx.map(|v| rbm.hidden_probs(v));
            }
            trained.push(rbm);
        }
        Ok(Dbn { layers: trained })
    }

    /// Greedy layer-wise pretraining where each layer is trained by its own module: an RBM
    /// ([`Rbm::fit`]) or a denoising / contractive autoencoder ([`AutoencoderLayer::fit`], kept
    /// as the RBM with its encoder's weights, [`AutoencoderLayer::to_rbm`]). Seeds, prefixes,
    /// the pass up and stopping are those of [`Dbn::pretrain`], which this equals when every
    /// layer is an RBM.
    pub fn pretrain_modules(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        layers: &[StackLayer],
        pass_up: PassUp,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<Dbn, String> {
        let mut x = data.clone();
        let mut vx = valid.cloned();
        let mut trained = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            if !sink.keep_going() {
                break;
            }
            let mut layer_sink = Prefixed {
                inner: &mut *sink,
                prefix: format!("layer{}", i + 1),
            };
            let layer_seed = seed + i as u64;
            let at = |e: &dyn std::fmt::Display| format!("layer {}: {e}", i + 1);
            let rbm = match layer {
                StackLayer::Rbm(cfg) => {
                    Rbm::fit(&x, vx.as_ref(), cfg, &mut layer_sink, layer_seed)
                        .map_err(|e| at(&e))?
                        .0
                }
                StackLayer::Autoencoder(cfg) => {
                    AutoencoderLayer::fit(&x, vx.as_ref(), cfg, &mut layer_sink, layer_seed)
                        .map_err(|e| at(&e))?
                        .0
                        .to_rbm()
                }
            };
            if i + 1 < layers.len() {
                x = pass(&rbm, x, pass_up, layer_seed);
                vx = vx.map(|v| rbm.hidden_probs(v));
            }
            trained.push(rbm);
        }
        Ok(Dbn { layers: trained })
    }

    /// The up-pass: hidden probabilities of the top layer given visible data.
    pub fn up(&self, v: Tensor<2>) -> Tensor<2> {
        self.layers.iter().fold(v, |x, rbm| rbm.hidden_probs(x))
    }

    /// The recognition weights `(W_l [in, out], c_l [out])` of every layer, for an MLP.
    pub fn mlp_layers(&self) -> Vec<(Tensor<2>, Tensor<1>)> {
        self.layers
            .iter()
            .map(|r| (r.weights.clone(), r.hidden_bias.clone()))
            .collect()
    }

    /// Layer sizes, visible first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s: Vec<usize> = self
            .layers
            .first()
            .map(|r| vec![r.visible()])
            .unwrap_or_default();
        s.extend(self.layers.iter().map(|r| r.hidden()));
        s
    }

    /// One SafeTensors file per layer.
    pub fn to_checkpoints(&self) -> Vec<Vec<u8>> {
        self.layers.iter().map(|r| r.to_safetensors()).collect()
    }

    /// Rebuilds a stack from [`Dbn::to_checkpoints`], checking that adjacent layers fit.
    pub fn from_checkpoints(files: &[Vec<u8>], device: &Device) -> Result<Dbn, CheckpointError> {
        let layers = files
            .iter()
            .map(|b| Rbm::from_safetensors(b, device))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, pair) in layers.windows(2).enumerate() {
            if pair[0].hidden() != pair[1].visible() {
                return Err(CheckpointError::Invalid(format!(
                    "layer {} has {} hidden units but layer {} has {} visible units",
                    i + 1,
                    pair[0].hidden(),
                    i + 2,
                    pair[1].visible()
                )));
            }
        }
        Ok(Dbn { layers })
    }
}

/// What layer `i + 1` is trained on; samples come from a host generator seeded with the layer's
/// seed (never the process-wide device generator), so a stack is the same beside other trials.
fn pass(rbm: &Rbm, x: Tensor<2>, how: PassUp, seed: u64) -> Tensor<2> {
    let p = rbm.hidden_probs(x);
    match how {
        PassUp::Probabilities => p,
        PassUp::Samples => {
            let u = HostDraws::new(seed ^ 0xA5A5_A5A5_A5A5_A5A5).uniform(&p);
            p.greater(u).float()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{NullSink, VecSink};
    use crate::mlp::{Activation, Mlp};
    use burn::tensor::Distribution;

    fn small(hidden: usize) -> RbmConfig {
        let mut c = RbmConfig {
            hidden,
            epochs: 2,
            batch_size: 20,
            ..Default::default()
        };
        c.eval.ais = None;
        c.eval.checkpoint = false;
        c.eval.pseudo_likelihood = false;
        c.eval.exact_loglik = false;
        c
    }

    fn data(device: &Device) -> Tensor<2> {
        device.seed(11);
        let p = Tensor::<2>::random([200, 12], Distribution::Default, device);
        p.clone()
            .greater(Tensor::random([200, 12], Distribution::Default, device))
            .float()
    }

    #[test]
    fn layer_two_is_trained_on_layer_one_features() {
        let _serial = crate::eval::testing::serial();
        let device = Device::flex();
        let v = data(&device);
        let mut sink = VecSink::default();
        let dbn = Dbn::pretrain(
            &v,
            None,
            &[small(8), small(5)],
            PassUp::Probabilities,
            &mut sink,
            3,
        )
        .unwrap();
        assert_eq!(dbn.sizes(), vec![12, 8, 5]);
        assert_eq!(dbn.layers[1].weights.dims(), [8, 5]);
        // Training an RBM alone on layer 1's hidden probabilities, with layer 2's seed, gives
        // exactly layer 2.
        let features = dbn.layers[0].hidden_probs(v);
        let (alone, _) = Rbm::fit(&features, None, &small(5), &mut NullSink, 4).unwrap();
        let diff: f32 = (alone.weights - dbn.layers[1].weights.clone())
            .abs()
            .max()
            .into_scalar();
        assert_eq!(diff, 0.0);
        assert!(
            !sink.series("layer1/recon_error").is_empty()
                && !sink.series("layer2/recon_error").is_empty()
        );
    }

    #[test]
    fn mlp_from_the_stack_computes_the_up_pass() {
        let _serial = crate::eval::testing::serial();
        let device = Device::flex();
        let v = data(&device);
        let dbn = Dbn::pretrain(
            &v,
            None,
            &[small(8), small(5)],
            PassUp::Samples,
            &mut NullSink,
            3,
        )
        .unwrap();
        let mlp = Mlp::from_layers(dbn.mlp_layers(), 10, None, 1, &device);
        let diff: f32 = (mlp.hidden_features(v.clone(), Activation::Sigmoid) - dbn.up(v))
            .abs()
            .max()
            .into_scalar();
        assert!(diff < 1e-6, "max difference {diff}");
    }

    #[test]
    fn checkpoints_round_trip_and_mismatched_layers_are_refused() {
        let _serial = crate::eval::testing::serial();
        let device = Device::flex();
        let v = data(&device);
        let dbn = Dbn::pretrain(
            &v,
            None,
            &[small(8), small(5)],
            PassUp::Probabilities,
            &mut NullSink,
            3,
        )
        .unwrap();
        let files = dbn.to_checkpoints();
        let back = Dbn::from_checkpoints(&files, &device).unwrap();
        assert_eq!(back.sizes(), dbn.sizes());
        let swapped = vec![files[1].clone(), files[0].clone()];
        assert!(
            Dbn::from_checkpoints(&swapped, &device)
                .unwrap_err()
                .to_string()
                .contains("layer 1 has 5 hidden")
        );
    }
}
