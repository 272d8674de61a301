//! Logistic PCA: natural parameters Θ = A Vᵀ + 1 bᵀ of independent Bernoulli pixels, the
//! cross-entropy loss and its gradients, and the two preconditioned block steps (module doc: the
//! equations and why these steps).

use burn::tensor::{Device, Tensor, TensorData};

use super::PcaError;
use super::host::{gram_inverse, to_device, to_host};
use super::linear::check_data;
use crate::eval::to_vec;
use crate::rbm::model::{sigmoid, softplus};

/// A fitted logistic PCA: a basis V [d, k] and biases b [d]; the codes A of any data are found
/// by [`LogisticPca::codes`] with V and b fixed.
#[derive(Debug, Clone)]
pub struct LogisticPca {
    /// V [d, k]: the natural parameters of an example with codes a are θ = V a + b.
    pub basis: Tensor<2>,
    /// b [d].
    pub bias: Tensor<1>,
    /// Accelerated code steps for new data, from zero codes ([`LogisticPca::codes`]).
    pub code_iterations: usize,
}

/// The gradients of the summed cross-entropy L(A, V, b) = Σ_ij [softplus(θ_ij) − x_ij θ_ij].
#[derive(Debug, Clone)]
pub struct LogisticGradients {
    /// ∂L/∂A = (σ(Θ) − X) V, [n, k].
    pub codes: Tensor<2>,
    /// ∂L/∂V = (σ(Θ) − X)ᵀ A, [d, k].
    pub basis: Tensor<2>,
    /// ∂L/∂b = (σ(Θ) − X)ᵀ 1, [d].
    pub bias: Tensor<1>,
}

/// Checks that `x` has examples, only finite values, and all of them in [0, 1].
pub(crate) fn check_unit_range(what: &str, x: &Tensor<2>) -> Result<(), PcaError> {
    check_data(what, x)?;
    let min = x.clone().min().into_scalar::<f32>() as f64;
    let max = x.clone().max().into_scalar::<f32>() as f64;
    if min < 0.0 || max > 1.0 {
        return Err(PcaError::OutOfRange {
            what: what.to_string(),
            min,
            max,
        });
    }
    Ok(())
}

/// The mean over rows of the row sums of `t` ([n, m]), the sums accumulated in f64.
pub(crate) fn mean_row_sum(t: Tensor<2>) -> f64 {
    let n = t.dims()[0];
    let sums = to_vec(t.sum_dim(1));
    sums.iter().map(|&s| s as f64).sum::<f64>() / n as f64
}

/// The mean cross-entropy per example, −Σ_j [x_j log p_j + (1 − x_j) log(1 − p_j)], of
/// probabilities `p` (clamped to [ε, 1 − ε], e.g. linear PCA's reconstructions) against `x`.
pub fn bernoulli_cross_entropy(x: &Tensor<2>, p: &Tensor<2>, eps: f64) -> f64 {
    let p = p.clone().clamp(eps, 1.0 - eps);
    let q = p.clone().neg().add_scalar(1.0);
    let ones = x.clone().neg().add_scalar(1.0);
    mean_row_sum((x.clone() * p.log() + ones * q.log()).neg())
}

impl LogisticPca {
    /// d, the input dimension.
    pub fn input_dim(&self) -> usize {
        self.basis.dims()[0]
    }

    /// k, the code size.
    pub fn code_size(&self) -> usize {
        self.basis.dims()[1]
    }

    pub fn device(&self) -> Device {
        self.basis.device()
    }

    pub(crate) fn check_data(&self, what: &str, x: &Tensor<2>) -> Result<(), PcaError> {
        let got = x.dims()[1];
        if got != self.input_dim() {
            return Err(PcaError::Shape {
                what: format!("columns of {what} (input dimension)"),
                expected: self.input_dim(),
                got,
            });
        }
        check_unit_range(what, x)
    }

    fn check_codes(&self, x: &Tensor<2>, codes: &Tensor<2>) -> Result<(), PcaError> {
        let (got, expected) = (codes.dims(), [x.dims()[0], self.code_size()]);
        if got[1] != expected[1] {
            return Err(PcaError::Shape {
                what: "columns of the codes (code size)".into(),
                expected: expected[1],
                got: got[1],
            });
        }
        if got[0] != expected[0] {
            return Err(PcaError::Shape {
                what: "rows of the codes (one per example)".into(),
                expected: expected[0],
                got: got[0],
            });
        }
        Ok(())
    }

    /// Θ = A Vᵀ + 1 bᵀ for codes A [n, k], as [n, d].
    pub fn natural_params(&self, codes: Tensor<2>) -> Tensor<2> {
        codes.matmul(self.basis.clone().transpose()) + self.bias.clone().unsqueeze()
    }

    /// The reconstructions σ(Θ) of codes A ([n, k]) as [n, d].
    pub fn reconstruct(&self, codes: &Tensor<2>) -> Result<Tensor<2>, PcaError> {
        if codes.dims()[1] != self.code_size() {
            return Err(PcaError::Shape {
                what: "columns of the codes (code size)".into(),
                expected: self.code_size(),
                got: codes.dims()[1],
            });
        }
        Ok(sigmoid(self.natural_params(codes.clone())))
    }

    /// The mean cross-entropy per example, L / n, of the data `x` under the codes `codes`.
    pub fn loss(&self, x: &Tensor<2>, codes: &Tensor<2>) -> Result<f64, PcaError> {
        self.check_data("the data", x)?;
        self.check_codes(x, codes)?;
        Ok(self.loss_unchecked(x, codes))
    }

    pub(crate) fn loss_unchecked(&self, x: &Tensor<2>, codes: &Tensor<2>) -> f64 {
        let theta = self.natural_params(codes.clone());
        mean_row_sum(softplus(theta.clone()) - x.clone() * theta)
    }

    /// The gradients of the summed loss L at codes `codes` (see [`LogisticGradients`]).
    pub fn gradients(
        &self,
        x: &Tensor<2>,
        codes: &Tensor<2>,
    ) -> Result<LogisticGradients, PcaError> {
        self.check_data("the data", x)?;
        self.check_codes(x, codes)?;
        let g = self.residual(x, codes);
        Ok(LogisticGradients {
            codes: g.clone().matmul(self.basis.clone()),
            basis: g.clone().transpose().matmul(codes.clone()),
            bias: g.sum_dim(0).squeeze_dim(0),
        })
    }

    /// G = σ(Θ) − X, the gradient of L with respect to Θ.
    fn residual(&self, x: &Tensor<2>, codes: &Tensor<2>) -> Tensor<2> {
        sigmoid(self.natural_params(codes.clone())) - x.clone()
    }

    /// (VᵀV + δI)⁻¹ [k, k], the inverse curvature of the codes' quadratic bound (up to the 1/4).
    pub(crate) fn code_preconditioner(&self) -> Tensor<2> {
        let gram = self.basis.clone().transpose().matmul(self.basis.clone());
        to_device(&gram_inverse(to_host(gram)), &self.device())
    }

    /// One code step with V and b fixed: A ← A − 4ε (σ(Θ) − X) V (VᵀV)⁻¹, given the
    /// preconditioner of [`Self::code_preconditioner`].
    pub(crate) fn code_step(
        &self,
        x: &Tensor<2>,
        codes: Tensor<2>,
        preconditioner: &Tensor<2>,
        lr: f64,
    ) -> Tensor<2> {
        let g = self.residual(x, &codes);
        let step = g
            .matmul(self.basis.clone())
            .matmul(preconditioner.clone())
            .mul_scalar(4.0 * lr);
        codes - step
    }

    /// One step of the basis and biases with the codes A fixed, on W = [V b] with the design
    /// D = [A 1]: W ← W − 4ε (σ(Θ) − X)ᵀ D (DᵀD)⁻¹.
    pub(crate) fn basis_step(&mut self, x: &Tensor<2>, codes: &Tensor<2>, lr: f64) {
        let [n, k] = codes.dims();
        let device = self.device();
        let g = self.residual(x, codes);
        let design = Tensor::cat(vec![codes.clone(), Tensor::ones([n, 1], &device)], 1);
        let gram = design.clone().transpose().matmul(design.clone());
        let inverse = to_device(&gram_inverse(to_host(gram)), &device);
        let step = g
            .transpose()
            .matmul(design)
            .matmul(inverse)
            .mul_scalar(4.0 * lr);
        let w = Tensor::cat(
            vec![self.basis.clone(), self.bias.clone().unsqueeze_dim(1)],
            1,
        ) - step;
        self.basis = w.clone().narrow(1, 0, k);
        self.bias = w.narrow(1, k, 1).squeeze_dim(1);
    }

    /// The codes of the rows of `x` ([n, d], values in [0, 1]) with V and b fixed:
    /// `code_iterations` accelerated code steps from A = 0 (module doc).
    pub fn codes(&self, x: &Tensor<2>) -> Result<Tensor<2>, PcaError> {
        self.codes_with(x, self.code_iterations)
    }

    /// [`Self::codes`] with a given number of steps: the code step with ε = 1 taken from the
    /// extrapolated point Y = A_t + β (A_t − A_{t−1}) with Nesterov's β = (s − 1) / s′,
    /// s′ = (1 + √(1 + 4 s²)) / 2 (FISTA), per example; an example's momentum is dropped
    /// (s = 1, so β = 0 next) when its step turns against it, ⟨Y − A_{t+1}, A_{t+1} − A_t⟩ > 0
    /// (adaptive restart).
    pub fn codes_with(&self, x: &Tensor<2>, iterations: usize) -> Result<Tensor<2>, PcaError> {
        self.check_data("the data", x)?;
        let device = self.device();
        let n = x.dims()[0];
        let preconditioner = self.code_preconditioner();
        let mut codes = Tensor::zeros([n, self.code_size()], &device);
        let mut previous = codes.clone();
        let mut s = vec![1.0f64; n];
        for t in 0..iterations {
            let s_next: Vec<f64> = s
                .iter()
                .map(|&s| (1.0 + (1.0 + 4.0 * s * s).sqrt()) / 2.0)
                .collect();
            let from = if t == 0 {
                codes.clone()
            } else {
                let beta: Vec<f32> = s
                    .iter()
                    .zip(&s_next)
                    .map(|(s, s_next)| ((s - 1.0) / s_next) as f32)
                    .collect();
                let beta = Tensor::<2>::from_data(TensorData::new(beta, [n, 1]), &device);
                codes.clone() + (codes.clone() - previous) * beta
            };
            let next = self.code_step(x, from.clone(), &preconditioner, 1.0);
            let against = to_vec(
                ((from - next.clone()) * (next.clone() - codes.clone()))
                    .sum_dim(1)
                    .squeeze_dim::<1>(1),
            );
            s = s_next;
            for (s, against) in s.iter_mut().zip(against) {
                if against > 0.0 {
                    *s = 1.0;
                }
            }
            previous = codes;
            codes = next;
        }
        Ok(codes)
    }

    /// σ(Θ) of the rows of `x` through their codes ([`Self::codes`]).
    pub fn reconstruct_data(&self, x: &Tensor<2>) -> Result<Tensor<2>, PcaError> {
        let codes = self.codes(x)?;
        Ok(sigmoid(self.natural_params(codes)))
    }

    /// The mean over the rows of `x` of the summed squared error Σ_j (x_j − σ(θ_j))² of their
    /// reconstructions (comparable to [`super::Pca::reconstruction_error`]).
    pub fn reconstruction_error(&self, x: &Tensor<2>) -> Result<f64, PcaError> {
        let r = self.reconstruct_data(x)?;
        Ok(mean_row_sum((x.clone() - r).square()))
    }

    /// The mean cross-entropy per example of the rows of `x` under their codes.
    pub fn cross_entropy(&self, x: &Tensor<2>) -> Result<f64, PcaError> {
        let codes = self.codes(x)?;
        Ok(self.loss_unchecked(x, &codes))
    }

    /// The first parameter that holds a NaN or an infinity, by name.
    pub(crate) fn first_non_finite(&self) -> Option<&'static str> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        if !finite(self.basis.clone().flatten(0, 1)) {
            Some("the basis V")
        } else if !finite(self.bias.clone()) {
            Some("the biases b")
        } else {
            None
        }
    }
}
