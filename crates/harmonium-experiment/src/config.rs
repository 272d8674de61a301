//! The experiment file: a serde schema in which unknown keys are errors.
//!
//! ```yaml
//! name: quickstart
//! description: MLP learning rates on an MNIST subset
//! dataset: {name: mnist, train_size: 5000}
//! device: flex
//! seeds: [1, 2]
//! mlp: {hidden: [256], epochs: 5, lr: 0.1}
//! sweep:
//!   method: grid
//!   parameters:
//!     mlp.lr: [0.1, 0.03]
//!   metric: {name: best_valid_error, goal: minimize}
//! ```
//!
//! Everything except `name`, `description`, `seeds`, `sweep` and `reference` (published figures
//! to compare against: [`crate::references`]) is the trial configuration ([`TrialConfig`]);
//! sweep parameters are dotted paths into it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use harmonium_data::DatasetConfig;
use harmonium_models::boltzmann::BoltzmannConfig;
use harmonium_models::dbm::DbmConfig;
use harmonium_models::mlp::{InitSource, MlpConfig};
use harmonium_models::rbm::{RbmConfig, RbmInit};
use harmonium_models::sbn::SbnConfig;
use harmonium_models::updown::UpDownConfig;
use serde::{Deserialize, Serialize};

use crate::autoencoder::AutoencoderSection;
use crate::pretrain::PretrainConfig;
use crate::references::Reference;
use crate::sweep::SweepConfig;

/// Keys of the file that are not part of a trial's configuration.
pub const EXPERIMENT_ONLY_KEYS: [&str; 5] = ["name", "description", "seeds", "sweep", "reference"];

#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Unique name; runs are grouped under it in the store.
    pub name: String,
    pub description: String,
    /// One trial per seed for every sweep point.
    pub seeds: Vec<u64>,
    pub sweep: Option<SweepConfig>,
    /// Published figures to compare the results against (`reference:`); no part of any trial.
    pub references: Vec<Reference>,
    /// The base trial configuration, before sweep values are applied.
    pub trial: TrialConfig,
}

/// The file as written. Its trial keys repeat [`TrialConfig`]'s (serde's `flatten` would lose the
/// line numbers of errors); `file_and_trial_keys_agree` keeps the two lists in step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_seeds")]
    seeds: Vec<u64>,
    #[serde(default)]
    sweep: Option<SweepConfig>,
    #[serde(default)]
    reference: Vec<Reference>,
    dataset: DatasetConfig,
    #[serde(default = "default_device")]
    device: String,
    #[serde(default)]
    rbm: Option<RbmConfig>,
    #[serde(default)]
    dbm: Option<DbmConfig>,
    #[serde(default)]
    boltzmann: Option<BoltzmannConfig>,
    #[serde(default)]
    sbn: Option<SbnConfig>,
    #[serde(default)]
    updown: Option<UpDownConfig>,
    #[serde(default)]
    autoencoder: Option<AutoencoderSection>,
    #[serde(default)]
    pretrain: Option<PretrainConfig>,
    #[serde(default)]
    mlp: Option<MlpConfig>,
}

impl From<ExperimentFile> for Experiment {
    fn from(f: ExperimentFile) -> Self {
        Experiment {
            name: f.name,
            description: f.description,
            seeds: f.seeds,
            sweep: f.sweep,
            references: f.reference,
            trial: TrialConfig {
                dataset: f.dataset,
                device: f.device,
                rbm: f.rbm,
                dbm: f.dbm,
                boltzmann: f.boltzmann,
                sbn: f.sbn,
                updown: f.updown,
                autoencoder: f.autoencoder,
                pretrain: f.pretrain,
                mlp: f.mlp,
            },
        }
    }
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

/// Everything one trial needs; sweep parameters are dotted paths into this structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialConfig {
    pub dataset: DatasetConfig,
    /// Compute device: `flex` (CPU), `cuda`, `cuda:N` or `wgpu`.
    #[serde(default = "default_device")]
    pub device: String,
    /// A single restricted Boltzmann machine trained on the inputs (unsupervised).
    #[serde(default)]
    pub rbm: Option<RbmConfig>,
    /// A deep Boltzmann machine trained on the inputs (unsupervised). Left out of the
    /// serialized form when absent, so the hashes of files without it do not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbm: Option<DbmConfig>,
    /// A sigmoid belief net learned by wake-sleep on the inputs (unsupervised); left out of the
    /// serialized form when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbn: Option<SbnConfig>,
    /// A general Boltzmann machine (any symmetric connectivity) trained on the inputs; left
    /// out of the serialized form when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boltzmann: Option<BoltzmannConfig>,
    /// A DBN with label units fine-tuned by up-down (contrastive wake-sleep), classifying by
    /// free energy; left out of the serialized form when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updown: Option<UpDownConfig>,
    /// Codes of the inputs by a deep autoencoder, PCA or logistic PCA, and their
    /// reconstruction errors; left out of the serialized form when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoencoder: Option<AutoencoderSection>,
    /// Greedy RBM pretraining of `mlp`'s hidden layers (used when `mlp.init: dbn`, alias
    /// `pretrained`).
    #[serde(default)]
    pub pretrain: Option<PretrainConfig>,
    /// Classifier trained by backprop (random init, or fine-tuning a pretrained stack).
    #[serde(default)]
    pub mlp: Option<MlpConfig>,
}

fn default_device() -> String {
    "flex".into()
}

#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads and parses an experiment file.
pub fn load_experiment(path: &Path) -> Result<(Experiment, String), ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
        path: path.into(),
        source,
    })?;
    let exp = parse_experiment(&text, &path.display().to_string())?;
    Ok((exp, text))
}

/// Parses experiment YAML; `file` names the source in error messages. Errors carry the line and
/// column and the offending key; the sweep is checked too (every dotted path must name a field).
pub fn parse_experiment(text: &str, file: &str) -> Result<Experiment, ExperimentError> {
    crate::nesting::check_nesting(text).map_err(|message| ExperimentError::Parse {
        file: file.into(),
        message,
    })?;
    // Enum values with data are written as one-key mappings (`gaussian_sigma: {fixed: [..]}`,
    // `init: {checkpoint: PATH}`), not YAML tags.
    let exp: Experiment =
        serde_yaml::with::singleton_map_recursive::deserialize::<ExperimentFile, _>(
            serde_yaml::Deserializer::from_str(text),
        )
        .map(Experiment::from)
        .map_err(|e| ExperimentError::Parse {
            file: file.into(),
            message: describe_yaml_error(&e),
        })?;
    let invalid = |message: String| ExperimentError::Invalid {
        file: file.into(),
        message,
    };
    if exp.name.trim().is_empty() {
        return Err(invalid("`name` must not be empty".into()));
    }
    if exp.seeds.is_empty() {
        return Err(invalid(format!(
            "line {}: `seeds` must list at least one seed",
            line_of_key(text, "seeds").unwrap_or(0)
        )));
    }
    exp.trial
        .validate()
        .map_err(|m| invalid(with_line(text, &m)))?;
    // Expanding checks every sweep path and value against the schema before anything runs.
    let trials = crate::sweep::expand(&exp, text).map_err(invalid)?;
    crate::references::check(&exp.references, &trials, text).map_err(invalid)?;
    crate::sweep::expand_tuning(&exp, text).map_err(invalid)?;
    Ok(exp)
}

impl TrialConfig {
    /// Checks what serde cannot: that some stage exists and numbers are possible.
    pub fn validate(&self) -> Result<(), String> {
        let stages = [
            self.rbm.is_some(),
            self.boltzmann.is_some(),
            self.dbm.is_some(),
            self.sbn.is_some(),
            self.updown.is_some(),
            self.autoencoder.is_some(),
            self.mlp.is_some(),
        ];
        if !stages.contains(&true) {
            return Err(
                "the experiment has no stage: add an `rbm:`, `boltzmann:`, `dbm:`, \
                        `sbn:`, `updown:`, `autoencoder:` or `mlp:` section"
                    .into(),
            );
        }
        if let Some(a) = &self.autoencoder {
            a.validate()?;
        }
        if let Some(b) = &self.boltzmann {
            b.validate().map_err(|e| format!("boltzmann: {e}"))?;
        }
        if let Some(u) = &self.updown {
            u.validate().map_err(|e| format!("updown: {e}"))?;
        }
        if let Some(s) = &self.sbn {
            s.validate().map_err(|e| format!("sbn: {e}"))?;
        }
        if let Some(d) = &self.dbm {
            d.validate().map_err(|e| format!("dbm: {e}"))?;
            if let Some(p) = &d.pretrain {
                p.validate().map_err(|e| format!("dbm.pretrain: {e}"))?;
            }
            if let harmonium_models::dbm::DbmInit::Checkpoint(path) = &d.init
                && !path.is_file()
            {
                return Err(format!(
                    "dbm.init.checkpoint: no file at {} (relative paths start from the directory \
                     harmonium runs in)",
                    path.display()
                ));
            }
        }
        if let Some(r) = &self.rbm {
            r.validate().map_err(|e| format!("rbm: {e}"))?;
            if let RbmInit::Checkpoint(path) = &r.init
                && !path.is_file()
            {
                return Err(format!(
                    "rbm.init.checkpoint: no file at {} (relative paths start from the directory \
                     harmonium runs in)",
                    path.display()
                ));
            }
        }
        if let Some(m) = &self.mlp {
            m.validate().map_err(|e| format!("mlp: {e}"))?;
            if m.init == InitSource::Dbm {
                let d = self
                    .dbm
                    .as_ref()
                    .ok_or("mlp.init: dbm needs a `dbm:` section")?;
                if m.hidden != d.layers {
                    return Err(format!(
                        "mlp.hidden: {:?} must be the DBM's layers {:?} for init: dbm",
                        m.hidden, d.layers
                    ));
                }
            }
            if m.init == InitSource::Dbn {
                let p = self
                    .pretrain
                    .as_ref()
                    .ok_or("mlp.init: dbn (pretrained) needs a `pretrain:` section")?;
                p.layer_plans(&m.hidden, Some((28, 28)))?;
            }
        } else if self.pretrain.is_some() {
            return Err(
                "`pretrain:` pretrains the hidden layers of `mlp:`, which is missing".into(),
            );
        }
        self.dataset.validate()?;
        if self.mlp.is_some() && self.dataset.name == "mnist" && self.dataset.valid_size == 0 {
            return Err(
                "dataset.valid_size: 0 leaves `mlp:` no validation split, which early \
                 stopping and best_valid_error need; keep at least 1 example (an `rbm:` alone \
                 may use 0: its validation metrics are then left out)"
                    .into(),
            );
        }
        Ok(())
    }
}

/// serde_yaml's message, with its "at line L column C" kept, and the position spelled out when the
/// message lacks it.
pub fn describe_yaml_error(e: &serde_yaml::Error) -> String {
    let msg = e.to_string();
    match e.location() {
        Some(loc) if !msg.contains("line ") => {
            format!("line {} column {}: {msg}", loc.line(), loc.column())
        }
        _ => msg,
    }
}

/// The 1-based line on which `key:` first appears, for messages about keys serde cannot locate.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            let t = t.trim_start_matches(['"', '\'']);
            t.starts_with(key)
                && t[key.len()..]
                    .trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with(':')
        })
        .map(|i| i + 1)
}

/// `message` with the line of the key it starts with (`dataset.train_size: …`, `mlp: …`)
/// put in front, when the key is found in `text`.
pub fn with_line(text: &str, message: &str) -> String {
    let key: String = message
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    match line_of_path(text, &key) {
        Some(l) if !key.is_empty() => format!("line {l}: {message}"),
        _ => message.to_string(),
    }
}

/// The 1-based line of a dotted key: each part is looked for at or after the line of the part
/// before it, as a block key (`train_size:` starting a line) or inside a flow mapping
/// (`{name: mnist, train_size: 0}`).
pub fn line_of_path(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    for part in path.split('.') {
        let found = lines[from..].iter().position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            let key_at = |i: usize| {
                let rest = &t[i + part.len()..];
                rest.trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with(':')
            };
            t.match_indices(part).any(|(i, _)| {
                let before = t[..i].trim_end_matches(['"', '\'']);
                (before.is_empty() || before.ends_with(['{', ',', ' '])) && key_at(i)
            })
        })?;
        from += found;
    }
    Some(from + 1)
}

/// A resolved trial configuration as a JSON value (for hashing, params and storage).
pub fn to_json(cfg: &TrialConfig) -> serde_json::Value {
    serde_json::to_value(cfg).expect("config serializes")
}

/// Flattened `dotted.key → value` pairs of a JSON value.
pub fn flat_params(v: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    crate::flatten::flatten("", v, &mut out);
    out
}
