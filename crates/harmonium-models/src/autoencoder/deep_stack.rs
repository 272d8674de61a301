//! The greedily pretrained stack the deep autoencoder is unrolled from (Hinton & Salakhutdinov
//! 2006): binary RBMs bottom first, each trained on the hidden probabilities of the one below
//! (a [`Dbn`]), and on top the code layer's RBM with linear hidden units ([`CodeRbm`]).
//!
//! Each layer l is kept as its weights W_l [n_{l−1}, n_l], visible biases b_l, hidden biases c_l
//! and whether its hidden units are linear ([`StackLayer`]). Its up-pass is
//! `σ(c_l + x W_l)` (linear: `c_l + x W_l`) and its down-pass the visible probabilities
//! `σ(b_l + h W_lᵀ)`.

use burn::tensor::Tensor;

use super::{CodeRbm, CodeRbmConfig, DeepAutoencoderError};
use crate::dbn::{Dbn, PassUp};
use crate::events::{EventSink, Prefixed};
use crate::rbm::model::sigmoid;
use crate::rbm::{Rbm, RbmConfig, VisibleType};

/// One pretrained layer: `(W, b_visible, c_hidden, linear_hidden)`.
#[derive(Debug, Clone)]
pub struct StackLayer {
    /// W, [visible, hidden].
    pub weights: Tensor<2>,
    /// b, [visible].
    pub visible_bias: Tensor<1>,
    /// c, [hidden].
    pub hidden_bias: Tensor<1>,
    /// Whether the hidden units are linear (the code layer) rather than logistic.
    pub linear_hidden: bool,
}

impl StackLayer {
    /// A binary RBM's weights, its hidden units logistic. Gaussian visible units are refused:
    /// the decoder's outputs are logistic.
    pub fn from_rbm(rbm: &Rbm) -> Result<StackLayer, DeepAutoencoderError> {
        if !rbm.is_binary() {
            return Err(DeepAutoencoderError::Config(
                "the deep autoencoder unrolls RBMs with binary visible units only (its decoder's \
                 outputs are logistic), but a layer has Gaussian visible units"
                    .into(),
            ));
        }
        Ok(StackLayer {
            weights: rbm.weights.clone(),
            visible_bias: rbm.visible_bias.clone(),
            hidden_bias: rbm.hidden_bias.clone(),
            linear_hidden: false,
        })
    }

    pub fn visible(&self) -> usize {
        self.weights.dims()[0]
    }

    pub fn hidden(&self) -> usize {
        self.weights.dims()[1]
    }

    /// The up-pass: `σ(c + xW)`, or `c + xW` for linear hidden units.
    pub fn up(&self, x: Tensor<2>) -> Tensor<2> {
        let a = x.matmul(self.weights.clone()) + self.hidden_bias.clone().unsqueeze();
        if self.linear_hidden { a } else { sigmoid(a) }
    }

    /// The down-pass: the visible probabilities `σ(b + hWᵀ)`.
    pub fn down(&self, h: Tensor<2>) -> Tensor<2> {
        sigmoid(h.matmul(self.weights.clone().transpose()) + self.visible_bias.clone().unsqueeze())
    }
}

/// The layers of a pretrained stack of binary RBMs with the code RBM on top.
pub fn stack_layers(dbn: &Dbn, code: &CodeRbm) -> Result<Vec<StackLayer>, DeepAutoencoderError> {
    let mut layers = dbn
        .layers
        .iter()
        .map(StackLayer::from_rbm)
        .collect::<Result<Vec<_>, _>>()?;
    layers.push(code.layer());
    Ok(layers)
}

/// Greedy pretraining of the whole stack: the binary RBMs `lower` by [`Dbn::pretrain`] (each on
/// the hidden probabilities of the one below; layer i's events prefixed `layer{i+1}`, seeded
/// `seed + i`), then the code RBM on the top layer's probabilities (prefixed `layer{L+1}`,
/// seeded `seed + L`). `valid` is passed up alongside. A stop request during pretraining is
/// [`DeepAutoencoderError::Interrupted`].
pub fn pretrain_stack(
    data: &Tensor<2>,
    valid: Option<&Tensor<2>>,
    lower: &[RbmConfig],
    code: &CodeRbmConfig,
    sink: &mut dyn EventSink,
    seed: u64,
) -> Result<Vec<StackLayer>, DeepAutoencoderError> {
    code.validate()?;
    if let Some(i) = lower
        .iter()
        .position(|c| c.visible_type != VisibleType::Binary)
    {
        return Err(DeepAutoencoderError::Config(format!(
            "pretrain layer {}: the deep autoencoder's RBMs need binary visible units",
            i + 1
        )));
    }
    let dbn = Dbn::pretrain(data, valid, lower, PassUp::Probabilities, sink, seed)?;
    if dbn.layers.len() < lower.len() || !sink.keep_going() {
        return Err(DeepAutoencoderError::Interrupted);
    }
    let features = dbn.up(data.clone());
    let valid_features = valid.map(|v| dbn.up(v.clone()));
    let mut code_sink = Prefixed {
        inner: &mut *sink,
        prefix: format!("layer{}", lower.len() + 1),
    };
    let (rbm, summary) = CodeRbm::fit(
        &features,
        valid_features.as_ref(),
        code,
        &mut code_sink,
        seed + lower.len() as u64,
    )?;
    if summary.stopped_early {
        return Err(DeepAutoencoderError::Interrupted);
    }
    stack_layers(&dbn, &rbm)
}
