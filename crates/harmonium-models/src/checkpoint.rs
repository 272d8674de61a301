//! SafeTensors checkpoints of RBMs: tensors `W` [visible, hidden], `b_visible` [visible],
//! `c_hidden` [hidden] (f32), plus `sigma_visible` [visible] for Gaussian visible units with
//! σ ≠ 1. The header metadata records `visible_type` (`binary` or `gaussian`).

use std::collections::HashMap;

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::eval::to_vec;
use crate::rbm::{Rbm, VisibleUnits};

/// Why a checkpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a readable SafeTensors checkpoint: {0}")]
    Format(#[from] safetensors::SafeTensorError),
    #[error("the checkpoint has no tensor '{0}'")]
    Missing(&'static str),
    #[error("tensor '{name}' is {got:?}, expected f32")]
    Dtype { name: &'static str, got: Dtype },
    #[error("tensor '{name}' has shape {got:?}, expected {expected}")]
    Shape {
        name: &'static str,
        got: Vec<usize>,
        expected: String,
    },
    #[error("unknown visible_type '{0}' in the checkpoint metadata (expected binary or gaussian)")]
    VisibleType(String),
    #[error("'sigma_visible' is only meaningful for gaussian visible units")]
    SigmaWithoutGaussian,
    #[error("{0}")]
    Invalid(String),
}

/// The f32 tensor `name` of a checkpoint as (shape, values): `None` when there is none,
/// `Err(dtype)` when it is not f32.
pub(crate) fn f32_tensor(
    st: &SafeTensors,
    name: &str,
) -> Option<Result<(Vec<usize>, Vec<f32>), Dtype>> {
    let view = st.tensor(name).ok()?;
    if view.dtype() != Dtype::F32 {
        return Some(Err(view.dtype()));
    }
    let values = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Some(Ok((view.shape().to_vec(), values)))
}

/// f32 values as little-endian bytes (SafeTensors' layout).
pub(crate) fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Rbm {
    /// The parameters as SafeTensors bytes.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let (v, h) = (self.visible(), self.hidden());
        let mut tensors: Vec<(&str, Vec<usize>, Vec<u8>)> = vec![
            ("W", vec![v, h], le_bytes(&to_vec(self.weights.clone()))),
            (
                "b_visible",
                vec![v],
                le_bytes(&to_vec(self.visible_bias.clone())),
            ),
            (
                "c_hidden",
                vec![h],
                le_bytes(&to_vec(self.hidden_bias.clone())),
            ),
        ];
        if let Some(sigma) = self.sigma() {
            tensors.push(("sigma_visible", vec![v], le_bytes(&to_vec(sigma.clone()))));
        }
        let views = tensors.iter().map(|(name, shape, bytes)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("consistent shape");
            (*name, view)
        });
        let visible_type = if self.is_binary() {
            "binary"
        } else {
            "gaussian"
        };
        let metadata = HashMap::from([
            ("format".to_string(), "harmonium-rbm".to_string()),
            ("visible_type".to_string(), visible_type.to_string()),
        ]);
        safetensors::serialize(views, Some(metadata)).expect("serialising in-memory tensors")
    }

    /// Reads an RBM from SafeTensors bytes onto `device`, checking names, dtypes and shapes.
    pub fn from_safetensors(bytes: &[u8], device: &Device) -> Result<Rbm, CheckpointError> {
        let st = SafeTensors::deserialize(bytes)?;
        let (_, metadata) = SafeTensors::read_metadata(bytes)?;
        let visible_type = metadata
            .metadata()
            .as_ref()
            .and_then(|m| m.get("visible_type").cloned())
            .unwrap_or_else(|| "binary".to_string());

        let read = |name: &'static str| -> Result<(Vec<usize>, Vec<f32>), CheckpointError> {
            match f32_tensor(&st, name) {
                None => Err(CheckpointError::Missing(name)),
                Some(Err(got)) => Err(CheckpointError::Dtype { name, got }),
                Some(Ok(t)) => Ok(t),
            }
        };
        let (w_shape, w) = read("W")?;
        let [v, h] = w_shape[..] else {
            return Err(CheckpointError::Shape {
                name: "W",
                got: w_shape,
                expected: "[visible, hidden]".into(),
            });
        };
        let vector = |name: &'static str, len: usize, what: &str| {
            let (shape, values) = read(name)?;
            if shape != [len] {
                return Err(CheckpointError::Shape {
                    name,
                    got: shape,
                    expected: format!("[{len}] ({what})"),
                });
            }
            Ok(Tensor::<1>::from_data(
                TensorData::new(values, [len]),
                device,
            ))
        };
        let visible_bias = vector("b_visible", v, "one per visible unit of W")?;
        let hidden_bias = vector("c_hidden", h, "one per hidden unit of W")?;
        let has_sigma = st.names().contains(&"sigma_visible");
        let visible_units = match visible_type.as_str() {
            "binary" if has_sigma => return Err(CheckpointError::SigmaWithoutGaussian),
            "binary" => VisibleUnits::Binary,
            "gaussian" => VisibleUnits::Gaussian {
                sigma: if has_sigma {
                    Some(vector("sigma_visible", v, "one per visible unit")?)
                } else {
                    None
                },
            },
            other => return Err(CheckpointError::VisibleType(other.to_string())),
        };
        Ok(Rbm {
            weights: Tensor::from_data(TensorData::new(w, [v, h]), device),
            visible_bias,
            hidden_bias,
            visible_units,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{HostRng, random_rbm};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        to_vec(t)
    }

    #[test]
    fn binary_rbm_round_trips_through_safetensors() {
        let device = Device::flex();
        let rbm = random_rbm(7, 5, 1.0, 51, &device);
        let back = Rbm::from_safetensors(&rbm.to_safetensors(), &device).unwrap();
        assert!(back.is_binary());
        assert_eq!(values(back.weights), values(rbm.weights));
        assert_eq!(values(back.visible_bias), values(rbm.visible_bias));
        assert_eq!(values(back.hidden_bias), values(rbm.hidden_bias));
    }

    #[test]
    fn gaussian_rbm_with_sigma_round_trips_through_safetensors() {
        let device = Device::flex();
        let mut rbm = random_rbm(3, 2, 1.0, 52, &device);
        let sigma = HostRng::new(3)
            .tensor1(3, 1.0, &device)
            .abs()
            .add_scalar(0.5);
        rbm.visible_units = VisibleUnits::Gaussian {
            sigma: Some(sigma.clone()),
        };
        let back = Rbm::from_safetensors(&rbm.to_safetensors(), &device).unwrap();
        assert_eq!(values(back.sigma().unwrap().clone()), values(sigma));
        assert_eq!(values(back.weights), values(rbm.weights.clone()));

        rbm.visible_units = VisibleUnits::Gaussian { sigma: None };
        let back = Rbm::from_safetensors(&rbm.to_safetensors(), &device).unwrap();
        assert!(!back.is_binary() && back.sigma().is_none());
    }

    #[test]
    fn corrupt_bytes_are_an_error() {
        let device = Device::flex();
        let bytes = random_rbm(4, 3, 1.0, 53, &device).to_safetensors();
        let err = Rbm::from_safetensors(&bytes[..bytes.len() - 5], &device).unwrap_err();
        assert!(matches!(err, CheckpointError::Format(_)), "{err}");
        let err = Rbm::from_safetensors(b"not a checkpoint", &device).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a readable SafeTensors checkpoint"),
            "{err}"
        );
    }

    #[test]
    fn mismatched_or_missing_tensors_are_errors() {
        let bytes = |tensors: Vec<(&str, Vec<usize>)>| {
            let data: Vec<Vec<u8>> = tensors
                .iter()
                .map(|(_, s)| vec![0u8; 4 * s.iter().product::<usize>()])
                .collect();
            let views = tensors
                .iter()
                .zip(&data)
                .map(|((n, s), d)| (*n, TensorView::new(Dtype::F32, s.clone(), d).unwrap()));
            safetensors::serialize(views, None).unwrap()
        };
        let device = Device::flex();
        let err = Rbm::from_safetensors(
            &bytes(vec![
                ("W", vec![4, 3]),
                ("b_visible", vec![5]),
                ("c_hidden", vec![3]),
            ]),
            &device,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("'b_visible' has shape [5], expected [4]"),
            "{err}"
        );
        let err = Rbm::from_safetensors(
            &bytes(vec![("W", vec![4, 3]), ("b_visible", vec![4])]),
            &device,
        )
        .unwrap_err();
        assert!(matches!(err, CheckpointError::Missing("c_hidden")), "{err}");
        let err = Rbm::from_safetensors(
            &bytes(vec![
                ("W", vec![12]),
                ("b_visible", vec![4]),
                ("c_hidden", vec![3]),
            ]),
            &device,
        )
        .unwrap_err();
        assert!(
            matches!(err, CheckpointError::Shape { name: "W", .. }),
            "{err}"
        );
        let err = Rbm::from_safetensors(
            &bytes(vec![
                ("W", vec![4, 3]),
                ("b_visible", vec![4]),
                ("c_hidden", vec![3]),
                ("sigma_visible", vec![4]),
            ]),
            &device,
        )
        .unwrap_err();
        assert!(
            matches!(err, CheckpointError::SigmaWithoutGaussian),
            "{err}"
        );
    }
}
