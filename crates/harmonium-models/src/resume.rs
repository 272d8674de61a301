//! The training state a learning procedure hands its sink at the end of every epoch
//! ([`crate::EventSink::save_state`]), so that a trial killed mid-epoch continues from its last
//! whole epoch instead of starting over: the parameters, the optimizer's (momentum) state, the
//! persistent chains, the host generators' states and the epoch.
//!
//! The bytes are SafeTensors: f32 tensors by name, and the scalars as one JSON object in the
//! metadata under `state`. Reading checks every name and shape, so a state that does not fit
//! the model being trained is an error, never a silent partial load.

use std::collections::HashMap;

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::checkpoint::{f32_tensor, le_bytes};
use crate::eval::to_vec;

/// Why a saved state could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the saved training state {0} (start the trial again with --restart)")]
pub struct StateError(String);

impl StateError {
    /// `what` is wrong with the state ("has no value 'epochs'").
    pub fn new(what: impl Into<String>) -> StateError {
        StateError(what.into())
    }
}

/// A training state being written or read.
#[derive(Debug, Default, Clone)]
pub struct SavedState {
    tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
    values: serde_json::Map<String, serde_json::Value>,
}

impl SavedState {
    pub fn new() -> SavedState {
        SavedState::default()
    }

    /// Adds a tensor's values under `name`.
    pub fn tensor<const D: usize>(&mut self, name: &str, t: &Tensor<D>) {
        self.floats(name, t.dims().to_vec(), to_vec(t.clone()));
    }

    /// Adds host values of `shape` under `name`.
    pub fn floats(&mut self, name: &str, shape: Vec<usize>, values: Vec<f32>) {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        self.tensors.push((name.to_string(), shape, values));
    }

    /// Adds a scalar (or any small serializable value) under `name`.
    pub fn value(&mut self, name: &str, v: impl Serialize) {
        let v = serde_json::to_value(v).expect("a serializable value");
        self.values.insert(name.to_string(), v);
    }

    /// The state as SafeTensors bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let bytes: Vec<(&str, Vec<usize>, Vec<u8>)> = self
            .tensors
            .iter()
            .map(|(n, s, v)| (n.as_str(), s.clone(), le_bytes(v)))
            .collect();
        let views = bytes.iter().map(|(name, shape, b)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), b).expect("consistent shape");
            (*name, view)
        });
        let metadata = HashMap::from([
            ("format".to_string(), "harmonium-state".to_string()),
            (
                "state".to_string(),
                serde_json::Value::Object(self.values.clone()).to_string(),
            ),
        ]);
        safetensors::serialize(views, Some(metadata)).expect("serialising in-memory tensors")
    }

    /// Reads the bytes of [`SavedState::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<SavedState, StateError> {
        let bad = |e: String| StateError(format!("is not readable: {e}"));
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some("harmonium-state") {
            return Err(bad("not a harmonium training state".into()));
        }
        let values: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(meta.get("state").map(String::as_str).unwrap_or("{}"))
                .map_err(|e| bad(e.to_string()))?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let mut tensors = Vec::new();
        for name in st.names() {
            match f32_tensor(&st, name) {
                Some(Ok((shape, v))) => tensors.push((name.to_string(), shape, v)),
                Some(Err(dtype)) => return Err(bad(format!("tensor '{name}' is {dtype:?}"))),
                None => {}
            }
        }
        Ok(SavedState { tensors, values })
    }

    /// Whether a tensor `name` is saved.
    pub fn has(&self, name: &str) -> bool {
        self.tensors.iter().any(|(n, _, _)| n == name)
    }

    /// The host values of tensor `name`, which must have `shape`.
    pub fn floats_of(&self, name: &str, shape: &[usize]) -> Result<&[f32], StateError> {
        let (_, got, v) = self
            .tensors
            .iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| StateError(format!("has no tensor '{name}'")))?;
        if got != shape {
            return Err(StateError(format!(
                "has '{name}' of shape {got:?}, but the model being trained needs {shape:?}"
            )));
        }
        Ok(v)
    }

    /// Tensor `name` on `like`'s device, shaped like `like`.
    pub fn tensor_like<const D: usize>(
        &self,
        name: &str,
        like: &Tensor<D>,
    ) -> Result<Tensor<D>, StateError> {
        self.tensor_of(name, like.dims(), &like.device())
    }

    /// Tensor `name` of `shape` on `device`.
    pub fn tensor_of<const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
        device: &Device,
    ) -> Result<Tensor<D>, StateError> {
        let v = self.floats_of(name, &shape)?;
        Ok(Tensor::from_data(
            TensorData::new(v.to_vec(), shape),
            device,
        ))
    }

    /// The value saved under `name`.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, StateError> {
        let v = self
            .values
            .get(name)
            .ok_or_else(|| StateError(format!("has no value '{name}'")))?;
        serde_json::from_value(v.clone()).map_err(|e| StateError(format!("'{name}': {e}")))
    }
}

/// A sink for tests of resumption: it keeps the states saved under each key, hands back those
/// it was given, and asks to stop after `stop_after` epochs (progress events).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct KeepingStates {
    pub saved: HashMap<String, Vec<u8>>,
    pub given: HashMap<String, Vec<u8>>,
    pub stop_after: Option<usize>,
    pub epochs: usize,
    pub events: crate::events::VecSink,
}

#[cfg(test)]
impl crate::EventSink for KeepingStates {
    fn emit(&mut self, event: crate::Event) {
        if matches!(event, crate::Event::Progress { .. }) {
            self.epochs += 1;
        }
        self.events.0.push(event);
    }
    fn keep_going(&self) -> bool {
        self.stop_after.is_none_or(|n| self.epochs < n)
    }
    fn keeps_state(&self) -> bool {
        true
    }
    fn resume_state(&mut self, key: &str) -> Option<Vec<u8>> {
        self.given.get(key).cloned()
    }
    fn save_state(&mut self, key: &str, state: Vec<u8>) {
        self.saved.insert(key.to_string(), state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_what_was_written_and_refuses_a_wrong_shape() {
        let device = Device::flex();
        let t = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]),
            &device,
        );
        let mut s = SavedState::new();
        s.tensor("w", &t);
        s.value("epoch", 7usize);
        s.value("rng", [u64::MAX, 1, 2, 3]);
        let back = SavedState::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.get::<usize>("epoch").unwrap(), 7);
        assert_eq!(back.get::<[u64; 4]>("rng").unwrap(), [u64::MAX, 1, 2, 3]);
        let w = back.tensor_like("w", &t).unwrap();
        assert_eq!(to_vec(w), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let e = back
            .tensor_of::<2>("w", [3, 2], &device)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[2, 3]") && e.contains("--restart"), "{e}");
        assert!(back.get::<usize>("missing").is_err());
        assert!(SavedState::from_bytes(b"not a state").is_err());
    }
}
