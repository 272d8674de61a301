//! SafeTensors checkpoints of DBMs: tensors `W1` … `WL` ([n_{l−1}, n_l]), `b_visible` [n_0] and
//! `c1` … `cL` [n_l] (f32); the header metadata records `format: harmonium-dbm` and
//! `hidden_layers: L`, and `visible: gaussian` for Gaussian visible units (absent: binary).

use std::collections::HashMap;

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::Dbm;
use crate::checkpoint::{CheckpointError, f32_tensor, le_bytes};
use crate::eval::to_vec;
use crate::rbm::VisibleType;

/// The `visible` entry of a SafeTensors header's metadata.
fn st_visible(bytes: &[u8]) -> Result<Option<String>, CheckpointError> {
    let (_, meta) = SafeTensors::read_metadata(bytes)?;
    Ok(meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("visible").cloned()))
}

impl Dbm {
    /// The parameters as SafeTensors bytes.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let sizes = self.sizes();
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = vec![(
            "b_visible".into(),
            vec![sizes[0]],
            le_bytes(&to_vec(self.visible_bias.clone())),
        )];
        for l in 1..=self.hidden_layers() {
            tensors.push((
                format!("W{l}"),
                vec![sizes[l - 1], sizes[l]],
                le_bytes(&to_vec(self.weights[l - 1].clone())),
            ));
            tensors.push((
                format!("c{l}"),
                vec![sizes[l]],
                le_bytes(&to_vec(self.hidden_biases[l - 1].clone())),
            ));
        }
        let views = tensors.iter().map(|(name, shape, bytes)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("consistent shape");
            (name.clone(), view)
        });
        let mut metadata = HashMap::from([
            ("format".to_string(), "harmonium-dbm".to_string()),
            (
                "hidden_layers".to_string(),
                self.hidden_layers().to_string(),
            ),
        ]);
        if self.is_gaussian() {
            metadata.insert("visible".into(), "gaussian".into());
        }
        safetensors::serialize(views, Some(metadata)).expect("serialising in-memory tensors")
    }

    /// Reads a DBM from SafeTensors bytes onto `device`, checking names, dtypes and shapes.
    pub fn from_safetensors(bytes: &[u8], device: &Device) -> Result<Dbm, CheckpointError> {
        let st = SafeTensors::deserialize(bytes)?;
        let invalid = |m: String| CheckpointError::Invalid(m);
        let read = |name: &str| -> Result<(Vec<usize>, Vec<f32>), CheckpointError> {
            match f32_tensor(&st, name) {
                None => Err(invalid(format!(
                    "the DBM checkpoint has no tensor '{name}'"
                ))),
                Some(Err(got)) => Err(invalid(format!("tensor '{name}' is {got:?}, expected f32"))),
                Some(Ok(t)) => Ok(t),
            }
        };
        let layers = (1..)
            .take_while(|l| st.names().iter().any(|n| *n == format!("W{l}")))
            .count();
        let (b_shape, b) = read("b_visible")?;
        let [visible] = b_shape[..] else {
            return Err(invalid(format!("'b_visible' has shape {b_shape:?}")));
        };
        let visible_bias = Tensor::<1>::from_data(TensorData::new(b, [visible]), device);
        let mut weights = Vec::with_capacity(layers);
        let mut hidden_biases = Vec::with_capacity(layers);
        for l in 1..=layers {
            let (shape, w) = read(&format!("W{l}"))?;
            let [rows, cols] = shape[..] else {
                return Err(invalid(format!("'W{l}' has shape {shape:?}")));
            };
            weights.push(Tensor::<2>::from_data(
                TensorData::new(w, [rows, cols]),
                device,
            ));
            let (shape, c) = read(&format!("c{l}"))?;
            if shape != [cols] {
                return Err(invalid(format!(
                    "'c{l}' has shape {shape:?}, expected [{cols}]"
                )));
            }
            hidden_biases.push(Tensor::<1>::from_data(TensorData::new(c, [cols]), device));
        }
        let visible_type = match st_visible(bytes)?.as_deref() {
            None | Some("binary") => VisibleType::Binary,
            Some("gaussian") => VisibleType::Gaussian,
            Some(other) => {
                return Err(invalid(format!(
                    "the DBM checkpoint's visible units are '{other}' (binary or gaussian)"
                )));
            }
        };
        Dbm::from_parts(weights, visible_bias, hidden_biases)
            .map(|d| d.with_visible(visible_type))
            .map_err(|e| invalid(format!("not a valid DBM checkpoint: {e}")))
    }
}
