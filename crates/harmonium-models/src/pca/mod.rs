//! Principal component analysis and logistic PCA: the linear baselines of deep autoencoders
//! (paper §10; Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data with neural
//! networks", whose MNIST figures are PCA 13.87, logistic PCA 8.01 and a 784-1000-500-250-30
//! autoencoder 3.00 squared error per test image, with 30-number codes).
//!
//! **PCA.** For data X [n, d] with rows x_i, the mean, the covariance and its eigenvectors:
//!
//! ```text
//! μ = (1/n) Σ_i x_i,       C = (1/n) (X − 1μᵀ)ᵀ (X − 1μᵀ) = U Λ Uᵀ,   λ₁ ≥ λ₂ ≥ … ≥ λ_d
//! z = (x − μ) U_k                  (the code: k numbers, U_k the top k columns of U)
//! x̂ = μ + z U_kᵀ                   (the reconstruction)
//! E = (1/n) Σ_i ‖x_i − x̂_i‖² = Σ_{j>k} λ_j        (on the training data)
//! ```
//!
//! The codes of the training data are centred and uncorrelated, with variances λ₁ … λ_k. C is
//! formed on the device by one matmul (n·d² multiply-adds, the only part that grows with n), and
//! its eigendecomposition is done on the host in f64 with `nalgebra`: exact (no iterative or
//! randomized approximation), deterministic, and cheap, because d is at most a few thousand
//! (784 for MNIST: well under a second). An SVD of X itself would give the same U from the
//! right singular vectors, but costs more when n ≫ d (O(n d²) on the host with a larger constant,
//! and X moved to the host in f64) for nothing gained at these sizes. Eigenvectors are unique
//! only up to sign: each kept column is flipped so that its largest-magnitude entry is positive,
//! so the same data gives the same components.
//!
//! **Logistic PCA** (Collins, Dasgupta & Schapire 2001; Schein, Saul & Ungar 2003) models data in
//! [0, 1] as independent Bernoulli units whose natural parameters (logits) lie in a k-dimensional
//! affine subspace, with codes A [n, k], a basis V [d, k] and biases b [d]:
//!
//! ```text
//! Θ = A Vᵀ + 1 bᵀ,          x̂ = σ(Θ)                      (the reconstructions)
//! L(A, V, b) = −Σ_ij [x_ij log σ(θ_ij) + (1 − x_ij) log(1 − σ(θ_ij))]
//!            =  Σ_ij [softplus(θ_ij) − x_ij θ_ij]
//! ∂L/∂Θ = G = σ(Θ) − X,     ∂L/∂A = G V,    ∂L/∂V = Gᵀ A,    ∂L/∂b = Gᵀ 1
//! ```
//!
//! L is convex in A for fixed (V, b) and in (V, b) for fixed A, but not jointly, so the fit
//! **alternates** between the two blocks. Each step is a gradient step preconditioned by the
//! curvature of a quadratic upper bound of L: since σ'(θ) = σ(θ)(1 − σ(θ)) ≤ 1/4, for any step Δ
//! of one block L(· + Δ) ≤ L + ⟨∇L, Δ⟩ + ⅛ ‖ΔΘ‖², and the bound is minimised by
//!
//! ```text
//! A ← A − 4ε G V (VᵀV)⁻¹                        (the codes, V and b fixed)
//! [V b] ← [V b] − 4ε Gᵀ D (DᵀD)⁻¹,  D = [A 1]      (the basis and biases, A fixed)
//! ```
//!
//! with step size ε = `lr`. With ε = 1 these are majorization steps with the uniform bound of
//! de Leeuw (2006), where Schein et al. alternate least-squares fits of a tighter,
//! data-dependent (Jaakkola–Jordan) bound that needs a k×k system per example. Any ε in (0, 2)
//! lowers the bound, hence L, at every step, so the fit never goes uphill; the default 1.9 goes
//! further per step than 1 because the bound is loose where pixels saturate (σ' ≪ 1/4). A plain
//! gradient step would need a tuned learning rate per block: with Θ = A Vᵀ the gradients of the
//! two blocks scale inversely with each other's size, and the codes' share of a mean loss is n
//! times smaller than the basis'; the preconditioned steps do not depend on the scale of A or
//! V at all. (The k×k and (k+1)×(k+1) Gram matrices are inverted on the host in f64, with a
//! 10⁻⁶ relative ridge that keeps the bound a bound.)
//!
//! The fit starts from the top k components of linear PCA as V (`init: pca`, deterministic; or
//! small random numbers, `init: random`), b = logit of the pixel means (clamped to
//! [10⁻⁴, 1 − 10⁻⁴]) and A = 0, and each iteration makes one code step and one basis step. The
//! codes of **new data** (test images) are found with V and b fixed, a convex problem per
//! example, by `code_iterations` of the same code steps with ε = 1 (the step 1/L of a gradient
//! that is 1-Lipschitz in the bound's metric) from A = 0, with Nesterov's momentum (FISTA, Beck
//! & Teboulle 2009) and per-example adaptive restart (O'Donoghue & Candès 2015: an example's
//! momentum is dropped when its step turns against it). Plain steps converge slowly where many
//! pixels saturate: on MNIST 50 accelerated steps get closer to the optimal codes than 200 plain
//! ones. The reconstruction error of logistic PCA, like PCA's, is the mean over examples of
//! Σ_j (x_j − x̂_j)².
//!
//! The files:
//!
//! * [`linear`]: [`Pca`]: fit, project, reconstruct, reconstruction error, explained variance.
//! * [`logistic`]: [`LogisticPca`]: Θ, the loss and its gradients, the two steps, codes of new
//!   data; [`bernoulli_cross_entropy`] of any probabilities (PCA's reconstructions clamped).
//! * [`train`]: [`Pca::fit_with_events`] and [`LogisticPca::fit`], with their metrics.
//! * [`pictures`]: originals above reconstructions, and a 2-D code map coloured by class (RGB).
//! * [`config`]: [`PcaConfig`] and [`LogisticPcaConfig`]; [`error`]: [`PcaError`].

pub mod config;
pub mod error;
mod host;
pub mod linear;
pub mod logistic;
pub mod pictures;
pub mod train;

#[cfg(test)]
mod tests;

pub use config::{LogisticInit, LogisticPcaConfig, PcaConfig};
pub use error::PcaError;
pub use linear::Pca;
pub use logistic::{LogisticGradients, LogisticPca, bernoulli_cross_entropy};
pub use pictures::{code_map_png, comparison_png, reconstructions_png};
pub use train::PcaTrainSummary;

use burn::tensor::Tensor;

/// The mean over rows of the summed squared error Σ_j (x_j − r_j)² of reconstructions `r` of
/// `x` (both [n, d]): the measure of [`Pca::reconstruction_error`], for any model's
/// reconstructions (an autoencoder's).
pub fn squared_error_per_example(x: &Tensor<2>, r: &Tensor<2>) -> Result<f64, PcaError> {
    if x.dims() != r.dims() {
        return Err(PcaError::Shape {
            what: format!(
                "elements of the reconstructions ({:?}, as the data {:?})",
                r.dims(),
                x.dims()
            ),
            expected: x.dims().iter().product(),
            got: r.dims().iter().product(),
        });
    }
    if x.dims()[0] == 0 {
        return Err(PcaError::EmptyData("the data".into()));
    }
    Ok(logistic::mean_row_sum((x.clone() - r.clone()).square()))
}
