//! What the trials of one invocation share: datasets loaded once per process, and the stage cache.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use harmonium_data::{DatasetConfig, Loaded};

use crate::cache::StageCache;

/// Datasets loaded once per process and shared by every trial that asks for the same one.
#[derive(Default)]
pub struct DataCache {
    pub data_dir: PathBuf,
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
}

impl DataCache {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            loaded: Mutex::default(),
        }
    }

    /// Loads the dataset (fetching it first when it is missing), once per configuration.
    pub fn get(&self, cfg: &DatasetConfig) -> Result<Arc<Loaded>, String> {
        let key = serde_json::to_string(cfg).expect("json");
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = loaded.get(&key) {
            return Ok(d.clone());
        }
        let ds = Arc::new(cfg.load(&self.data_dir).map_err(|e| e.to_string())?);
        loaded.insert(key, ds.clone());
        Ok(ds)
    }
}

/// What the trials of one invocation share: loaded datasets and the stage cache.
pub struct Shared {
    pub data: DataCache,
    pub stages: StageCache,
}
