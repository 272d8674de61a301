//! What a classifier fine-tuned from a DBM starts from (Salakhutdinov & Hinton 2009, §4).
//!
//! The classifier's input is the data augmented with the mean-field posterior of the top layer,
//! `[v, μᴸ]` with μ = q(h | v) computed once with the DBM frozen ([`Dbm::augmented_input`]).
//! Its hidden layers start from the DBM's weights ([`Dbm::fine_tuning_layers`]): the first sees
//! v through W¹ and μᴸ through (W²)ᵀ when L = 2, as h¹ hears from h² in mean-field (through zeros
//! when L > 2, where the top layer is not next to h¹); layer l > 1 sees layer l − 1 through Wˡ;
//! the biases are cˡ. So with L = 2 the first hidden layer computes the mean-field update of h¹,
//!
//! ```text
//! σ(c¹ + v W¹ + μ² (W²)ᵀ)
//! ```

use burn::tensor::Tensor;

use super::{Dbm, MeanFieldConfig};

impl Dbm {
    /// `[v, μᴸ]` for every row of `v` (mean-field in chunks of 10,000 rows).
    pub fn augmented_input(&self, v: &Tensor<2>, cfg: &MeanFieldConfig) -> Tensor<2> {
        const CHUNK: usize = 10_000;
        let n = v.dims()[0];
        let top = self.hidden_layers() - 1;
        let mut parts = Vec::new();
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let chunk = v.clone().narrow(0, start, len);
            let q = self.mean_field(chunk.clone(), cfg);
            parts.push(Tensor::cat(vec![chunk, q.hidden[top].clone()], 1));
            start += len;
        }
        if parts.is_empty() {
            let width = self.visible() + self.sizes()[top + 1];
            return Tensor::zeros([0, width], &v.device());
        }
        Tensor::cat(parts, 0)
    }

    /// The hidden layers `(W [in, out], c [out])` of the fine-tuned net, bottom first, for the
    /// input [`Dbm::augmented_input`] makes.
    pub fn fine_tuning_layers(&self) -> Vec<(Tensor<2>, Tensor<1>)> {
        let l_top = self.hidden_layers();
        let device = self.device();
        let top_size = self.sizes()[l_top];
        let first_extra = if l_top == 2 {
            self.weights[1].clone().transpose()
        } else {
            Tensor::zeros([top_size, self.sizes()[1]], &device)
        };
        let mut layers = vec![(
            Tensor::cat(vec![self.weights[0].clone(), first_extra], 0),
            self.hidden_biases[0].clone(),
        )];
        for l in 1..l_top {
            layers.push((self.weights[l].clone(), self.hidden_biases[l].clone()));
        }
        layers
    }
}
