//! Small dense linear algebra on the host in f64 (`nalgebra`): d×d and k×k matrices moved
//! between the device and the host, and the inverse of a symmetric positive semi-definite
//! matrix with a tiny ridge.

use burn::tensor::{Device, Tensor, TensorData};
use nalgebra::DMatrix;

use crate::eval::to_vec;

/// A [rows, cols] tensor read back as an f64 matrix.
pub(crate) fn to_host(t: Tensor<2>) -> DMatrix<f64> {
    let [rows, cols] = t.dims();
    let values: Vec<f64> = to_vec(t).into_iter().map(f64::from).collect();
    DMatrix::from_row_slice(rows, cols, &values)
}

/// An f64 matrix as a [rows, cols] f32 tensor on `device`.
pub(crate) fn to_device(m: &DMatrix<f64>, device: &Device) -> Tensor<2> {
    let (rows, cols) = m.shape();
    let values: Vec<f32> = (0..rows)
        .flat_map(|i| (0..cols).map(move |j| m[(i, j)] as f32))
        .collect();
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// Relative ridge added to the diagonal before inverting a Gram matrix: it keeps the inverse
/// finite when the matrix is singular (a code unit that never varies) and, being an addition to
/// a curvature, keeps a majorizing quadratic a majorizer.
const RIDGE: f64 = 1e-6;

/// `(M + δ I)⁻¹` for a symmetric positive semi-definite M (symmetrised first), with
/// δ = 10⁻⁶ · tr(M) / k (1 when M is zero). A matrix holding NaN or ∞ gives NaN everywhere.
pub(crate) fn gram_inverse(m: DMatrix<f64>) -> DMatrix<f64> {
    let k = m.nrows();
    let mut m = (&m + m.transpose()) * 0.5;
    let trace = m.trace();
    let delta = if trace > 0.0 {
        RIDGE * trace / k as f64
    } else {
        1.0
    };
    for i in 0..k {
        m[(i, i)] += delta;
    }
    match m.cholesky() {
        Some(c) => c.inverse(),
        None => DMatrix::from_element(k, k, f64::NAN),
    }
}
