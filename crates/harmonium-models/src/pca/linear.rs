//! Linear PCA: the mean and covariance on the device, the covariance's eigendecomposition on the
//! host in f64, projection, reconstruction and its squared error (module doc: the equations).

use burn::tensor::Tensor;
use nalgebra::linalg::SymmetricEigen;

use super::PcaError;
use super::config::check_components;
use super::host::{to_device, to_host};
use crate::eval::mean_over_rows;

/// A fitted principal component analysis: x ↦ z = (x − μ) U, z ↦ x̂ = μ + z Uᵀ.
#[derive(Debug, Clone)]
pub struct Pca {
    /// μ [d], the mean of the training data.
    pub mean: Tensor<1>,
    /// U [d, k]: the top k eigenvectors of the covariance as orthonormal columns, by decreasing
    /// eigenvalue, each with its largest-magnitude entry positive.
    pub components: Tensor<2>,
    /// All d eigenvalues λ₁ ≥ … ≥ λ_d of the covariance C = (X − 1μᵀ)ᵀ(X − 1μᵀ) / n (the
    /// variance of the data along each component; round-off can make the smallest ≈ −10⁻⁷).
    pub eigenvalues: Vec<f64>,
}

/// Checks that `x` has examples and only finite values; `what` names it in errors.
pub(crate) fn check_data(what: &str, x: &Tensor<2>) -> Result<(), PcaError> {
    if x.dims()[0] == 0 {
        return Err(PcaError::EmptyData(what.to_string()));
    }
    if !x.clone().is_finite().all().into_scalar::<bool>() {
        return Err(PcaError::NonFinite(format!(
            "{what} holds a NaN or an infinity"
        )));
    }
    Ok(())
}

/// The index of the largest |entry| (the first of equals) and the sign that makes it positive.
fn sign_of_largest(column: &[f64]) -> f64 {
    let mut best = 0;
    for (i, v) in column.iter().enumerate() {
        if v.abs() > column[best].abs() {
            best = i;
        }
    }
    if column.get(best).is_some_and(|&v| v < 0.0) {
        -1.0
    } else {
        1.0
    }
}

impl Pca {
    /// Fits PCA with `k` components to the rows of `x` ([n, d], on its device). Errors: k = 0 or
    /// k > d (naming `components`), no examples, a non-finite value.
    pub fn fit(x: &Tensor<2>, k: usize) -> Result<Pca, PcaError> {
        let [n, d] = x.dims();
        check_components(k, Some(d))?;
        check_data("the data", x)?;
        let device = x.device();
        let mean = x.clone().mean_dim(0); // [1, d]
        let centred = x.clone() - mean.clone();
        let covariance = centred
            .clone()
            .transpose()
            .matmul(centred)
            .div_scalar(n as f64);
        let c = to_host(covariance);
        if c.iter().any(|v| !v.is_finite()) {
            return Err(PcaError::NonFinite(
                "the covariance of the data is not finite (values too large to square)".into(),
            ));
        }
        let c = (&c + c.transpose()) * 0.5;
        let eigen =
            SymmetricEigen::try_new(c, f64::EPSILON, 100_000).ok_or(PcaError::NoConvergence(d))?;
        let mut order: Vec<usize> = (0..d).collect();
        // Decreasing eigenvalue; equal ones keep the solver's order (a stable sort).
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let eigenvalues: Vec<f64> = order.iter().map(|&i| eigen.eigenvalues[i]).collect();
        let mut u = nalgebra::DMatrix::<f64>::zeros(d, k);
        for (j, &i) in order.iter().take(k).enumerate() {
            let column: Vec<f64> = eigen.eigenvectors.column(i).iter().copied().collect();
            let sign = sign_of_largest(&column);
            for (r, v) in column.iter().enumerate() {
                u[(r, j)] = sign * v;
            }
        }
        Ok(Pca {
            mean: mean.squeeze_dim(0),
            components: to_device(&u, &device),
            eigenvalues,
        })
    }

    /// d, the input dimension.
    pub fn input_dim(&self) -> usize {
        self.components.dims()[0]
    }

    /// k, the code size.
    pub fn code_size(&self) -> usize {
        self.components.dims()[1]
    }

    /// λ₁ … λ_k: the variance of the data along each kept component.
    pub fn explained_variance(&self) -> &[f64] {
        &self.eigenvalues[..self.code_size()]
    }

    /// tr C = Σ_j λ_j, the total variance of the data.
    pub fn total_variance(&self) -> f64 {
        self.eigenvalues.iter().sum()
    }

    /// The fraction of the total variance the first `j` components explain, Σ_{i≤j} λ_i / tr C
    /// (1 for data without variance).
    pub fn explained_variance_ratio(&self, j: usize) -> f64 {
        let total = self.total_variance();
        if total > 0.0 {
            self.eigenvalues[..j.min(self.eigenvalues.len())]
                .iter()
                .sum::<f64>()
                / total
        } else {
            1.0
        }
    }

    /// Σ_{j>k} λ_j: the variance left out, which is the mean squared reconstruction error per
    /// example on the training data.
    pub fn discarded_variance(&self) -> f64 {
        self.eigenvalues[self.code_size()..].iter().sum()
    }

    fn check_columns(&self, what: &str, t: &Tensor<2>, expected: usize) -> Result<(), PcaError> {
        let got = t.dims()[1];
        if got != expected {
            return Err(PcaError::Shape {
                what: format!("columns of {what}"),
                expected,
                got,
            });
        }
        Ok(())
    }

    /// The codes z = (x − μ) U of the rows of `x` ([n, d]) as [n, k].
    pub fn project(&self, x: &Tensor<2>) -> Result<Tensor<2>, PcaError> {
        self.check_columns("the data (input dimension)", x, self.input_dim())?;
        Ok(self.project_unchecked(x.clone()))
    }

    fn project_unchecked(&self, x: Tensor<2>) -> Tensor<2> {
        (x - self.mean.clone().unsqueeze()).matmul(self.components.clone())
    }

    /// The reconstructions x̂ = μ + z Uᵀ of codes `z` ([n, k]) as [n, d].
    pub fn reconstruct(&self, codes: &Tensor<2>) -> Result<Tensor<2>, PcaError> {
        self.check_columns("the codes (code size)", codes, self.code_size())?;
        Ok(self.reconstruct_unchecked(codes.clone()))
    }

    fn reconstruct_unchecked(&self, codes: Tensor<2>) -> Tensor<2> {
        codes.matmul(self.components.clone().transpose()) + self.mean.clone().unsqueeze()
    }

    /// The reconstructions of the rows of `x` through the code: μ + (x − μ) U Uᵀ.
    pub fn reconstruct_data(&self, x: &Tensor<2>) -> Result<Tensor<2>, PcaError> {
        let codes = self.project(x)?;
        Ok(self.reconstruct_unchecked(codes))
    }

    /// The mean over the rows of `x` of the summed squared error Σ_i (x_i − x̂_i)² of their
    /// reconstructions (the "average squared error per image" of Hinton & Salakhutdinov 2006).
    /// On the training data it equals [`Pca::discarded_variance`].
    pub fn reconstruction_error(&self, x: &Tensor<2>) -> Result<f64, PcaError> {
        self.check_columns("the data (input dimension)", x, self.input_dim())?;
        check_data("the data", x)?;
        Ok(mean_over_rows(x, |chunk| {
            let r = self.reconstruct_unchecked(self.project_unchecked(chunk.clone()));
            (chunk - r).square().sum_dim(1).squeeze_dim(1)
        }))
    }
}
