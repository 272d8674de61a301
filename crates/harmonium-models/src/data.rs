//! Moving datasets onto a device.

use burn::tensor::kind::Basic;
use burn::tensor::{Device, Int, Tensor, TensorData};
use harmonium_data::{Matrix, Split};

/// Inputs and class labels on a device.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub x: Tensor<2>,
    pub y: Tensor<1, Int>,
}

impl Labelled {
    pub fn from_host(x: &Matrix, y: &[u32], device: &Device) -> Labelled {
        assert_eq!(x.rows, y.len(), "one label per row");
        Labelled {
            x: matrix_to_tensor(x, device),
            y: Tensor::from_data(
                TensorData::new(y.iter().map(|&v| v as i64).collect::<Vec<_>>(), [y.len()]),
                device,
            ),
        }
    }

    pub fn from_split(split: &Split, device: &Device) -> Labelled {
        Labelled::from_host(&split.x, &split.y, device)
    }

    pub fn len(&self) -> usize {
        self.x.dims()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `m` on `device`. A matrix larger than the device's largest buffer is refused here with a
/// clear message (the stages check their data with [`crate::device::check_fits`] first).
pub fn matrix_to_tensor(m: &Matrix, device: &Device) -> Tensor<2> {
    if let Err(e) = crate::device::check_fits(device, m.rows, m.cols, "the data") {
        panic!("{e}");
    }
    Tensor::from_data(TensorData::new(m.data.clone(), [m.rows, m.cols]), device)
}

/// The first `n` rows of `t` (all of them when it has fewer): the examples an evaluation uses.
pub fn head<K: Basic, const D: usize>(t: &Tensor<D, K>, n: usize) -> Tensor<D, K> {
    if t.dims()[0] <= n {
        t.clone()
    } else {
        t.clone().narrow(0, 0, n)
    }
}

/// The rows `rows` of `t` (a mini-batch: a chunk of a permutation of the examples).
pub fn select_rows<K: Basic, const D: usize>(t: &Tensor<D, K>, rows: &[i64]) -> Tensor<D, K> {
    let idx =
        Tensor::<1, Int>::from_data(TensorData::new(rows.to_vec(), [rows.len()]), &t.device());
    t.clone().select(0, idx)
}
