//! Corruption of the input of a denoising autoencoder (Vincent et al. 2008, 2010):
//!
//! ```text
//! masking:   x̃_i = x_i · 1[u_i ≥ ν],   u_i ~ U[0, 1)    (x_i set to 0 with probability ν)
//! gaussian:  x̃_i = x_i + σ ε_i,        ε_i ~ N(0, 1)
//! ```
//!
//! every unit and every example independently, fresh numbers from `draws` at each call.

use burn::tensor::Tensor;

use super::Corruption;
use crate::rbm::Draws;

impl Corruption {
    /// The corrupted input x̃ of `x` (`x` itself for `none`, ν = 0 or σ = 0, without drawing).
    pub fn apply(&self, x: &Tensor<2>, draws: &mut dyn Draws) -> Tensor<2> {
        match *self {
            Corruption::None => x.clone(),
            Corruption::Masking(nu) if nu > 0.0 => {
                let keep = draws.uniform(x).greater_equal_elem(nu).float();
                x.clone() * keep
            }
            Corruption::Gaussian(sigma) if sigma > 0.0 => {
                x.clone() + draws.normal(x).mul_scalar(sigma)
            }
            Corruption::Masking(_) | Corruption::Gaussian(_) => x.clone(),
        }
    }

    /// Whether the input is left as it is.
    pub fn is_identity(&self) -> bool {
        match *self {
            Corruption::None => true,
            Corruption::Masking(r) | Corruption::Gaussian(r) => r == 0.0,
        }
    }
}
