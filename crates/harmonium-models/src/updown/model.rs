//! The DBN with label units: directed layers below, each with untied recognition (up) and
//! generative (down) weights, and the top-level associative memory ([`TopRbm`]) on top.
//!
//! With h⁰ = v and h^{L−1} the penultimate layer, directed layer l (1 ≤ l ≤ L−1) has
//! recognition weights `R_l [n_{l−1}, n_l]` with biases `r_l [n_l]` and generative weights
//! `G_l [n_l, n_{l−1}]` with biases `g_l [n_{l−1}]`:
//!
//! ```text
//! q(h^l_j = 1 | h^{l−1}) = σ(r_l + h^{l−1} R_l)_j      (up)
//! p(h^{l−1}_i = 1 | h^l) = σ(g_l + h^l G_l)_i          (down)
//! ```
//!
//! Built from a pretrained stack, layer l starts tied: `R_l = W_l`, `r_l = c_l`, `G_l = W_lᵀ`,
//! `g_l = b_l` of the l-th RBM.

use burn::tensor::{Device, Tensor};

use super::{TopRbm, UpDownError};
use crate::dbn::Dbn;
use crate::rbm::Draws;
use crate::rbm::model::{bernoulli, row, sigmoid};

/// One directed layer between h^{l−1} (below) and h^l (above).
#[derive(Debug, Clone)]
pub struct DirectedLayer {
    /// R, recognition weights `[below, above]`.
    pub recognition: Tensor<2>,
    /// r, recognition biases of the layer above, `[above]`.
    pub recognition_bias: Tensor<1>,
    /// G, generative weights `[above, below]`.
    pub generative: Tensor<2>,
    /// g, generative biases of the layer below, `[below]`.
    pub generative_bias: Tensor<1>,
}

impl DirectedLayer {
    /// Units of the layer below.
    pub fn below(&self) -> usize {
        self.recognition.dims()[0]
    }

    /// Units of the layer above.
    pub fn above(&self) -> usize {
        self.recognition.dims()[1]
    }

    /// `q(h^l = 1 | h^{l−1})`, the up-pass.
    pub fn up_probs(&self, below: Tensor<2>) -> Tensor<2> {
        sigmoid(below.matmul(self.recognition.clone()) + row(&self.recognition_bias))
    }

    /// `p(h^{l−1} = 1 | h^l)`, the down-pass.
    pub fn down_probs(&self, above: Tensor<2>) -> Tensor<2> {
        sigmoid(above.matmul(self.generative.clone()) + row(&self.generative_bias))
    }
}

/// A deep belief net with softmax label units beside its penultimate layer, fine-tuned by the
/// up-down algorithm.
#[derive(Debug, Clone)]
pub struct UpDownDbn {
    /// The directed layers, bottom first (at least one).
    pub layers: Vec<DirectedLayer>,
    /// The top-level associative memory.
    pub top: TopRbm,
}

impl UpDownDbn {
    /// The DBN of a pretrained stack of RBMs below the top (`stack`'s last hidden layer is the
    /// penultimate layer) and an associative memory trained on it with labels. The layers start
    /// tied (see the module doc); the stack's bottom RBM must have binary visible units.
    pub fn from_stack(stack: &Dbn, top: TopRbm) -> Result<UpDownDbn, UpDownError> {
        let sizes = stack.sizes();
        if stack.layers.is_empty() {
            return Err(UpDownError::Layers(
                "the pretrained stack has no layers: an up-down DBN needs at least one directed \
                 layer below the top-level associative memory"
                    .into(),
            ));
        }
        if !stack.layers[0].is_binary() {
            return Err(UpDownError::Layers(
                "the pretrained stack's first RBM has Gaussian visible units; up-down \
                 fine-tuning supports binary units only"
                    .into(),
            ));
        }
        let pen = *sizes.last().expect("a stack with layers has sizes");
        if top.penultimate() != pen {
            return Err(UpDownError::Layers(format!(
                "the pretrained stack {sizes:?} ends in {pen} units but the top-level \
                 associative memory has {} penultimate units",
                top.penultimate()
            )));
        }
        let layers = stack
            .layers
            .iter()
            .map(|rbm| DirectedLayer {
                recognition: rbm.weights.clone(),
                recognition_bias: rbm.hidden_bias.clone(),
                generative: rbm.weights.clone().transpose(),
                generative_bias: rbm.visible_bias.clone(),
            })
            .collect();
        Ok(UpDownDbn { layers, top })
    }

    /// Layer sizes: visible, the directed layers' upper sizes (the last the penultimate
    /// layer), then the top layer; the label units are not counted.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.visible()];
        s.extend(self.layers.iter().map(|l| l.above()));
        s.push(self.top.top());
        s
    }

    /// Number of visible units.
    pub fn visible(&self) -> usize {
        self.layers[0].below()
    }

    /// Number of label units.
    pub fn classes(&self) -> usize {
        self.top.classes
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.top.rbm.device()
    }

    /// The deterministic up-pass: recognition probabilities of the penultimate layer.
    pub fn penultimate_probs(&self, v: Tensor<2>) -> Tensor<2> {
        self.layers.iter().fold(v, |x, l| l.up_probs(x))
    }

    /// The stochastic up-pass: binary recognition states of every layer above the visible one
    /// (`h¹ … h^{L−1}`), each sampled from `q(h^l | h^{l−1})` (one `[B, n_l]` draw per layer).
    pub fn up_states(&self, v: Tensor<2>, draws: &mut dyn Draws) -> Vec<Tensor<2>> {
        let mut states: Vec<Tensor<2>> = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let below = states.last().cloned().unwrap_or_else(|| v.clone());
            let p = l.up_probs(below);
            let u = draws.uniform(&p);
            states.push(bernoulli(p, u));
        }
        states
    }

    /// The stochastic down-pass from penultimate states: binary states of `h^{L−2} … h¹`
    /// sampled from the generative model (one draw per layer, top first), then the visible
    /// probabilities `p(v | h¹)`. Returned bottom first: `[p(v|h¹), h¹, …, h^{L−1}]`.
    pub fn down_states(&self, penultimate: Tensor<2>, draws: &mut dyn Draws) -> Vec<Tensor<2>> {
        let mut states = vec![penultimate];
        for (i, l) in self.layers.iter().enumerate().rev() {
            let p = l.down_probs(states.last().cloned().expect("states start non-empty"));
            if i == 0 {
                states.push(p);
            } else {
                let u = draws.uniform(&p);
                states.push(bernoulli(p, u));
            }
        }
        states.reverse();
        states
    }

    /// Squared error per example of the visible reconstruction by a deterministic up-pass
    /// (recognition probabilities) then down-pass (generative probabilities), averaged.
    pub fn reconstruction_error(&self, v: Tensor<2>) -> f64 {
        let pen = self.penultimate_probs(v.clone());
        let r = self.layers.iter().rev().fold(pen, |h, l| l.down_probs(h));
        let n = v.dims()[0] as f64;
        (v - r).square().sum().into_scalar::<f32>() as f64 / n
    }

    /// The recognition weights `(R_l [in, out], r_l [out])` of every directed layer, for an MLP.
    pub fn recognition_layers(&self) -> Vec<(Tensor<2>, Tensor<1>)> {
        self.layers
            .iter()
            .map(|l| (l.recognition.clone(), l.recognition_bias.clone()))
            .collect()
    }

    /// The name of the first parameter that is NaN or infinite.
    pub fn first_non_finite(&self) -> Option<String> {
        let finite1 = |t: &Tensor<1>| t.clone().is_finite().all().into_scalar::<bool>();
        let finite2 = |t: &Tensor<2>| finite1(&t.clone().flatten(0, 1));
        for (i, l) in self.layers.iter().enumerate() {
            let n = i + 1;
            if !finite2(&l.recognition) {
                return Some(format!("the recognition weights of layer {n}"));
            }
            if !finite1(&l.recognition_bias) {
                return Some(format!("the recognition biases of layer {n}"));
            }
            if !finite2(&l.generative) {
                return Some(format!("the generative weights of layer {n}"));
            }
            if !finite1(&l.generative_bias) {
                return Some(format!("the generative biases of layer {n}"));
            }
        }
        self.top.first_non_finite()
    }
}
