//! The up-down algorithm (contrastive wake-sleep; Hinton, Osindero & Teh 2006, appendix B) for
//! one mini-batch of B examples v with one-hot labels y. Every statistic is computed with the
//! parameters as they were before the mini-batch; then every parameter is updated.
//!
//! ```text
//! up-pass (wake):  h⁰ = v,  h^l ~ q(h^l | h^{l−1}) = σ(r_l + h^{l−1} R_l)     l = 1 … L−1
//!   generative delta rule, p^{l−1} = σ(g_l + h^l G_l):
//!     ΔG_l ∝ ⟨(h^l)ᵀ (h^{l−1} − p^{l−1})⟩,   Δg_l ∝ ⟨h^{l−1} − p^{l−1}⟩
//! top level: CD-k on the associative memory with v⁺ = [h^{L−1}, y] (the label clamped), k
//!   alternating Gibbs steps with softmax-sampled labels, ending in x⁻ ([`super::top`])
//! down-pass (sleep), from the negative phase's states: s^{L−1} = x⁻,
//!   s^{l−1} ~ p(h^{l−1} | s^l) = σ(g_l + s^l G_l) for l = L−1 … 2,  s⁰ = p(v | s¹)
//!   recognition delta rule, q^l = σ(r_l + s^{l−1} R_l):
//!     ΔR_l ∝ ⟨(s^{l−1})ᵀ (s^l − q^l)⟩,   Δr_l ∝ ⟨s^l − q^l⟩
//! update: Δθ ← m·Δθ + lr·(S − wc·θ), θ ← θ + Δθ (wc on weight matrices only; ⟨⟩ = mean over B)
//! ```
//!
//! The random numbers a mini-batch consumes, in order: the up-pass (`[B, n_l]` for l = 1 …
//! L−1), the top level's (see [`super::top`]), then the down-pass (`[B, n_{l−1}]` for l = L−1
//! … 2; the visible layer takes probabilities).

use burn::tensor::Tensor;

use super::top::TopStatistics;
use super::update::Rule;
use super::{DirectedLayer, UpDownDbn};
use crate::rbm::Draws;

/// The statistics of one mini-batch.
#[derive(Debug, Clone)]
pub struct UpDownStatistics {
    /// `(ΔG_l, Δg_l)` of every directed layer, bottom first (the wake phase's delta rule).
    pub generative: Vec<(Tensor<2>, Tensor<1>)>,
    /// `(ΔR_l, Δr_l)` of every directed layer, bottom first (the sleep phase's delta rule).
    pub recognition: Vec<(Tensor<2>, Tensor<1>)>,
    /// The top level's CD-k statistics.
    pub top: TopStatistics,
}

/// The delta rule's statistics for a layer that predicts `target` from `cause`:
/// `⟨causeᵀ (target − prediction)⟩` and `⟨target − prediction⟩`.
fn delta_rule(
    cause: Tensor<2>,
    target: Tensor<2>,
    prediction: Tensor<2>,
) -> (Tensor<2>, Tensor<1>) {
    let n = cause.dims()[0] as f64;
    let err = target - prediction;
    let dw = cause.transpose().matmul(err.clone()).div_scalar(n);
    let db = err.sum_dim(0).squeeze_dim(0).div_scalar(n);
    (dw, db)
}

impl UpDownDbn {
    /// The up-down statistics of the mini-batch `v` (`[B, visible]`) with one-hot labels `y`
    /// (`[B, K]`), `cd_k` Gibbs steps at the top, random numbers from `draws`.
    pub fn up_down_statistics(
        &self,
        v: Tensor<2>,
        y: Tensor<2>,
        cd_k: usize,
        draws: &mut dyn Draws,
    ) -> UpDownStatistics {
        // Wake: binary states bottom-up with the recognition weights.
        let mut wake = vec![v];
        wake.extend(self.up_states(wake[0].clone(), draws));
        let generative = self
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                let (below, above) = (wake[l].clone(), wake[l + 1].clone());
                delta_rule(above.clone(), below, layer.down_probs(above))
            })
            .collect();
        // The top-level associative memory, its label clamped.
        let pen = wake.pop().expect("the up-pass has a penultimate layer");
        let top = self.top.cd_statistics(pen, y, cd_k, draws);
        // Sleep: from the negative phase's penultimate states down with the generative weights.
        let sleep = self.down_states(top.penultimate.clone(), draws);
        let recognition = self
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                let (below, above) = (sleep[l].clone(), sleep[l + 1].clone());
                delta_rule(below.clone(), above, layer.up_probs(below))
            })
            .collect();
        UpDownStatistics {
            generative,
            recognition,
            top,
        }
    }
}

/// The momentum increments Δθ of every parameter, carried across mini-batches.
#[derive(Debug, Clone)]
pub struct UpDownLearner {
    layers: Vec<DirectedLayer>,
    top_w: Tensor<2>,
    top_b: Tensor<1>,
    top_c: Tensor<1>,
}

impl UpDownLearner {
    /// Zero increments for the parameters of `model`.
    pub fn new(model: &UpDownDbn) -> UpDownLearner {
        UpDownLearner {
            layers: model
                .layers
                .iter()
                .map(|l| DirectedLayer {
                    recognition: l.recognition.zeros_like(),
                    recognition_bias: l.recognition_bias.zeros_like(),
                    generative: l.generative.zeros_like(),
                    generative_bias: l.generative_bias.zeros_like(),
                })
                .collect(),
            top_w: model.top.rbm.weights.zeros_like(),
            top_b: model.top.rbm.visible_bias.zeros_like(),
            top_c: model.top.rbm.hidden_bias.zeros_like(),
        }
    }

    /// One up-down update on the mini-batch `v` with one-hot labels `y`.
    pub fn step(
        &mut self,
        model: &mut UpDownDbn,
        v: Tensor<2>,
        y: Tensor<2>,
        cd_k: usize,
        rule: Rule,
        draws: &mut dyn Draws,
    ) {
        let s = model.up_down_statistics(v, y, cd_k, draws);
        self.apply(model, s, rule);
    }

    /// Applies the statistics of a mini-batch with [`Rule::apply`].
    pub fn apply(&mut self, model: &mut UpDownDbn, s: UpDownStatistics, rule: Rule) {
        let params = model.layers.iter_mut().zip(self.layers.iter_mut());
        for (((layer, inc), (dg, dgb)), (dr, drb)) in params.zip(s.generative).zip(s.recognition) {
            rule.apply(&mut layer.generative, &mut inc.generative, dg, true);
            rule.apply(
                &mut layer.generative_bias,
                &mut inc.generative_bias,
                dgb,
                false,
            );
            rule.apply(&mut layer.recognition, &mut inc.recognition, dr, true);
            rule.apply(
                &mut layer.recognition_bias,
                &mut inc.recognition_bias,
                drb,
                false,
            );
        }
        let top = &mut model.top.rbm;
        rule.apply(&mut top.weights, &mut self.top_w, s.top.delta_w, true);
        rule.apply(&mut top.visible_bias, &mut self.top_b, s.top.delta_b, false);
        rule.apply(&mut top.hidden_bias, &mut self.top_c, s.top.delta_c, false);
    }
}
