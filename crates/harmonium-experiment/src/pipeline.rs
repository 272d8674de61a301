//! A trial's pipeline of stages: load data → (pretraining, later issues) → fine-tuning →
//! evaluation. Each stage reports through the trial's event sink.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use harmonium_data::{Dataset, fetch_dataset, mirror_dir, mnist};
use harmonium_models::data::Labelled;
use harmonium_models::mlp::{self, Mlp};
use harmonium_models::{EventSink, parse_device};

use crate::sweep::Trial;

/// Datasets loaded once per process and shared by every trial that asks for the same one.
#[derive(Default)]
pub struct DataCache {
    pub data_dir: PathBuf,
    loaded: Mutex<HashMap<String, Arc<Dataset>>>,
}

impl DataCache {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            loaded: Mutex::default(),
        }
    }

    /// Loads the dataset, fetching it first (from the mirror or upstream) when it is missing.
    pub fn get(&self, cfg: &harmonium_data::DatasetConfig) -> Result<Arc<Dataset>, String> {
        let key = serde_json::to_string(cfg).expect("json");
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = loaded.get(&key) {
            return Ok(d.clone());
        }
        let dir = self.data_dir.join(&cfg.name);
        let ds = match mnist::load(&dir, cfg) {
            Err(harmonium_data::DataError::Missing { .. }) => {
                fetch_dataset(
                    &cfg.name,
                    &self.data_dir,
                    mirror_dir().as_deref(),
                    &mut |_| {},
                )
                .map_err(|e| e.to_string())?;
                mnist::load(&dir, cfg)
            }
            other => other,
        }
        .map_err(|e| e.to_string())?;
        let ds = Arc::new(ds);
        loaded.insert(key, ds.clone());
        Ok(ds)
    }
}

/// Why a trial did not finish.
#[derive(Debug)]
pub enum TrialError {
    Failed(String),
    Interrupted,
}

/// Runs every stage of one trial.
pub fn run_trial(
    trial: &Trial,
    data: &DataCache,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let cfg = &trial.config;
    let fail = |e: String| TrialError::Failed(e);
    let device = parse_device(&cfg.device).map_err(|e| fail(format!("device: {e}")))?;
    let ds = data
        .get(&cfg.dataset)
        .map_err(|e| fail(format!("dataset: {e}")))?;
    device.seed(trial.seed);

    let train = Labelled::from_split(&ds.train, &device);
    let valid = Labelled::from_split(&ds.valid, &device);
    let test = Labelled::from_split(&ds.test, &device);

    if let Some(mcfg) = &cfg.mlp {
        let mut sizes = vec![ds.input_dim()];
        sizes.extend(&mcfg.hidden);
        sizes.push(ds.classes);
        let model = Mlp::random(&sizes, mcfg.init_std, trial.seed, &device);
        let splits = mlp::Splits {
            train: &train,
            valid: &valid,
            test: &test,
        };
        let (_, summary) = mlp::train(model, &splits, mcfg, trial.seed, "mlp", sink)
            .map_err(|e| fail(e.to_string()))?;
        if summary.interrupted {
            return Err(TrialError::Interrupted);
        }
    }
    if !sink.keep_going() {
        return Err(TrialError::Interrupted);
    }
    Ok(())
}
