//! The stage cache: a pretrained stack (or a deep Boltzmann machine) is stored once, keyed by
//! the hash of what changes its weights (the data and the fingerprint of its files, the
//! training settings, the seed: [`crate::stages::stack::stack_key`],
//! [`crate::stages::dbm::dbm_key`]), and reused by every fine-tuning trial that shares it,
//! across runs of the CLI.
//!
//! An entry is a folder `stack-HASH/` with the model's SafeTensors files ([`Cached`]), the
//! training metrics (`metrics.json`) and pictures, replayed into each run that reuses it so
//! every run has the full curves. It is written under a temporary name and renamed when complete, so an
//! interrupted pretraining never leaves a half entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::tensor::Device;
use harmonium_models::autoencoder::UnrolledLayer as CodeLayer;
use harmonium_models::dbm::Dbm;
use harmonium_models::dbn::Dbn;
use harmonium_models::rbm::{Rbm, VisibleUnits};
use harmonium_models::{Event, EventSink};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hash of the inputs of a stage (any serializable description of them).
pub fn stage_key<T: Serialize>(what: &T) -> String {
    let digest = Sha256::digest(serde_json::to_vec(what).expect("json"));
    hex::encode(&digest[..8])
}

/// `key` for a stage trained on `device`: unchanged on `flex` (the keys of earlier builds), and
/// marked with the device elsewhere, so that a stack trained on a GPU (whose draws come from the
/// device's generator) is never reused by a CPU trial, nor the other way round.
pub fn on_device(key: String, device: &str) -> String {
    let device = device.trim().to_ascii_lowercase();
    if device == "flex" || device == "cpu" {
        return key;
    }
    let mark: String = device
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{key}-{mark}")
}

#[derive(Serialize, Deserialize)]
struct Recorded {
    metrics: Vec<(String, u64, f64)>,
    /// (kind, name, step); the bytes are in a file of that name beside it.
    artifacts: Vec<(String, String, Option<u64>)>,
}

/// Forwards events and keeps the metrics and pictures for the cache entry.
struct Recorder<'a> {
    inner: &'a mut dyn EventSink,
    rec: Recorded,
    pictures: Vec<(String, Vec<u8>)>,
    /// A training continued a killed run's: the events of its earlier epochs went by in that
    /// run, so the entry would be incomplete.
    resumed: bool,
}

impl EventSink for Recorder<'_> {
    fn emit(&mut self, event: Event) {
        match &event {
            Event::Metric { key, step, value } => {
                self.rec.metrics.push((key.clone(), *step, *value))
            }
            Event::Artifact {
                kind,
                name,
                step,
                bytes,
            } if kind != "checkpoint" => {
                self.rec.artifacts.push((kind.clone(), name.clone(), *step));
                self.pictures.push((name.clone(), bytes.clone()));
            }
            _ => {}
        }
        self.inner.emit(event);
    }

    fn keep_going(&self) -> bool {
        self.inner.keep_going()
    }

    fn keeps_state(&self) -> bool {
        self.inner.keeps_state()
    }

    fn resume_state(&mut self, key: &str) -> Option<Vec<u8>> {
        let state = self.inner.resume_state(key);
        self.resumed |= state.is_some();
        state
    }

    fn save_state(&mut self, key: &str, state: Vec<u8>) {
        self.inner.save_state(key, state)
    }
}

pub struct StageCache {
    dir: PathBuf,
    /// One lock per key, so parallel trials needing the same stack train it once.
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl StageCache {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            locks: Mutex::default(),
        }
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.dir.join(format!("stack-{key}"))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entry(key).join("metrics.json").exists()
    }

    /// The model for `key`: loaded and replayed into `sink` when cached (returns `true`), else
    /// trained by `train` and stored. Nothing is stored when training was interrupted, or
    /// when it continued a killed run's.
    pub fn stack<M: Cached>(
        &self,
        key: &str,
        device: &Device,
        sink: &mut dyn EventSink,
        train: impl FnOnce(&mut dyn EventSink) -> Result<M, String>,
    ) -> Result<(M, bool), String> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone();
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        let dir = self.entry(key);
        if self.contains(key) {
            match load(&dir, device, sink) {
                Ok(model) => return Ok((model, true)),
                Err(e) => {
                    // A damaged entry is said and rebuilt below, never used.
                    eprintln!(
                        "harmonium: stage cache entry {} is damaged ({e}); training it again",
                        dir.display()
                    );
                    sink.metric("stage_cache_error", 0, 1.0);
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
        }
        let mut rec = Recorder {
            inner: sink,
            rec: Recorded {
                metrics: Vec::new(),
                artifacts: Vec::new(),
            },
            pictures: Vec::new(),
            resumed: false,
        };
        let model = train(&mut rec)?;
        // A stack continued from a killed run's saved state is used but not stored: its
        // recorded events would lack the epochs before the kill.
        if rec.inner.keep_going() && !rec.resumed {
            store(&dir, &model, &rec.rec, &rec.pictures)
                .map_err(|e| format!("stage cache {}: {e}", dir.display()))?;
        }
        Ok((model, false))
    }
}

/// A model the stage cache can keep: written as named files, read back from a folder.
pub trait Cached: Sized {
    fn to_files(&self) -> Vec<(String, Vec<u8>)>;
    fn from_folder(dir: &Path, device: &Device) -> Result<Self, String>;
}

/// A stack: one SafeTensors file per layer, `layer1.safetensors`, ….
impl Cached for Dbn {
    fn to_files(&self) -> Vec<(String, Vec<u8>)> {
        self.to_checkpoints()
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| (format!("layer{}.safetensors", i + 1), bytes))
            .collect()
    }

    fn from_folder(dir: &Path, device: &Device) -> Result<Dbn, String> {
        let mut files = Vec::new();
        while let Ok(b) = std::fs::read(dir.join(format!("layer{}.safetensors", files.len() + 1))) {
            files.push(b);
        }
        Dbn::from_checkpoints(&files, device).map_err(|e| e.to_string())
    }
}

/// A deep Boltzmann machine: `dbm.safetensors`.
impl Cached for Dbm {
    fn to_files(&self) -> Vec<(String, Vec<u8>)> {
        vec![("dbm.safetensors".into(), self.to_safetensors())]
    }

    fn from_folder(dir: &Path, device: &Device) -> Result<Dbm, String> {
        let bytes = std::fs::read(dir.join("dbm.safetensors")).map_err(|e| e.to_string())?;
        Dbm::from_safetensors(&bytes, device).map_err(|e| e.to_string())
    }
}

/// A deep autoencoder's pretrained stack: its binary RBMs as `layer1.safetensors`, … and the
/// code layer's RBM (linear hidden units) as `code.safetensors`, each an RBM checkpoint.
pub struct CodeStack(pub Vec<CodeLayer>);

impl Cached for CodeStack {
    fn to_files(&self) -> Vec<(String, Vec<u8>)> {
        let n = self.0.len();
        self.0
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let rbm = Rbm {
                    weights: layer.weights.clone(),
                    visible_bias: layer.visible_bias.clone(),
                    hidden_bias: layer.hidden_bias.clone(),
                    visible_units: VisibleUnits::Binary,
                };
                let name = if i + 1 == n {
                    "code.safetensors".to_string()
                } else {
                    format!("layer{}.safetensors", i + 1)
                };
                (name, rbm.to_safetensors())
            })
            .collect()
    }

    fn from_folder(dir: &Path, device: &Device) -> Result<CodeStack, String> {
        let read = |name: &str, linear_hidden: bool| -> Result<CodeLayer, String> {
            let bytes = std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
            let rbm = Rbm::from_safetensors(&bytes, device).map_err(|e| format!("{name}: {e}"))?;
            Ok(CodeLayer {
                weights: rbm.weights,
                visible_bias: rbm.visible_bias,
                hidden_bias: rbm.hidden_bias,
                linear_hidden,
            })
        };
        let mut layers = Vec::new();
        while dir
            .join(format!("layer{}.safetensors", layers.len() + 1))
            .exists()
        {
            layers.push(read(
                &format!("layer{}.safetensors", layers.len() + 1),
                false,
            )?);
        }
        layers.push(read("code.safetensors", true)?);
        for pair in layers.windows(2) {
            if pair[0].hidden() != pair[1].visible() {
                return Err(format!(
                    "layers of {} and {} units do not stack",
                    pair[0].hidden(),
                    pair[1].visible()
                ));
            }
        }
        Ok(CodeStack(layers))
    }
}

fn store<M: Cached>(
    dir: &Path,
    model: &M,
    rec: &Recorded,
    pictures: &[(String, Vec<u8>)],
) -> std::io::Result<()> {
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    for (name, bytes) in model.to_files() {
        std::fs::write(tmp.join(name), bytes)?;
    }
    for (name, bytes) in pictures {
        std::fs::write(tmp.join(name), bytes)?;
    }
    std::fs::write(
        tmp.join("metrics.json"),
        serde_json::to_vec(rec).expect("json"),
    )?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&tmp, dir)
}

fn load<M: Cached>(dir: &Path, device: &Device, sink: &mut dyn EventSink) -> Result<M, String> {
    let rec: Recorded = serde_json::from_slice(
        &std::fs::read(dir.join("metrics.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let model = M::from_folder(dir, device)?;
    for (key, step, value) in rec.metrics {
        sink.emit(Event::Metric { key, step, value });
    }
    for (kind, name, step) in rec.artifacts {
        if let Ok(bytes) = std::fs::read(dir.join(&name)) {
            sink.emit(Event::Artifact {
                kind,
                name,
                step,
                bytes,
            });
        }
    }
    Ok(model)
}

#[cfg(test)]
mod device_keys {
    use super::on_device;

    #[test]
    fn a_stack_key_is_kept_on_flex_and_marked_with_any_other_device() {
        assert_eq!(
            on_device("ab12".into(), "flex"),
            "ab12",
            "earlier builds' keys"
        );
        assert_eq!(on_device("ab12".into(), " CPU "), "ab12");
        assert_eq!(on_device("ab12".into(), "wgpu"), "ab12-wgpu");
        assert_eq!(on_device("ab12".into(), "cuda:1"), "ab12-cuda_1");
        assert_ne!(
            on_device("ab12".into(), "cuda:0"),
            on_device("ab12".into(), "cuda:1")
        );
    }
}
