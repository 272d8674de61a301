//! A trial's pipeline of stages: load data → (pretraining, later issues) → fine-tuning →
//! evaluation. Each stage reports through the trial's event sink.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::tensor::Device;
use harmonium_data::timit_phones::fold_39;
use harmonium_data::utterance_decisions;
use harmonium_data::{Dataset, DatasetConfig, Loaded, Scoring};
use harmonium_models::data::{Labelled, matrix_to_tensor};
use harmonium_models::dbn::{Dbn, PassUp};
use harmonium_models::eval::metrics::mean_free_energy;
use harmonium_models::mlp::{self, Activation, Init, Mlp};
use harmonium_models::rbm::{Rbm, RbmConfig, RbmInit, VisibleType};
use harmonium_models::{EventSink, parse_device};

use crate::cache::{StageCache, stage_key};
use crate::stack::PretrainData;

use crate::sweep::Trial;

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

/// Why a trial did not finish.
#[derive(Debug)]
pub enum TrialError {
    Failed(String),
    Interrupted,
}

fn fail(e: impl std::fmt::Display) -> TrialError {
    TrialError::Failed(e.to_string())
}

/// The pretraining data and layer configurations of a trial that fine-tunes a pretrained stack,
/// and the stage-cache key they hash to. `None` for trials without pretraining.
pub fn stack_plan(trial: &Trial) -> Option<(DatasetConfig, Vec<RbmConfig>, PassUp, String)> {
    let cfg = &trial.config;
    let m = cfg.mlp.as_ref().filter(|m| m.init == Init::Pretrained)?;
    let p = cfg.pretrain.as_ref()?;
    let mut data = cfg.dataset.clone();
    if p.data == PretrainData::All {
        data.train_size = None;
    }
    let image = (data.name == "mnist").then_some((28, 28));
    let layers = p.layer_configs(&m.hidden, image).ok()?;
    let key = stage_key(
        &serde_json::json!({"data": data, "layers": layers, "pass_up": p.pass_up, "seed": trial.seed}),
    );
    Some((data, layers, p.pass_up, key))
}

/// Runs every stage of one trial.
pub fn run_trial(
    trial: &Trial,
    shared: &Shared,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let cfg = &trial.config;
    let device = parse_device(&cfg.device).map_err(|e| fail(format!("device: {e}")))?;
    let loaded = shared
        .data
        .get(&cfg.dataset)
        .map_err(|e| fail(format!("dataset: {e}")))?;
    let ds = &loaded.dataset;
    device.seed(trial.seed);

    if let Some(rcfg) = &cfg.rbm {
        rbm_stage(rcfg, ds, &device, trial.seed, sink)?;
    }
    if let Some(mcfg) = &cfg.mlp {
        let model = match mcfg.init {
            Init::Random => {
                let mut sizes = vec![ds.input_dim()];
                sizes.extend(&mcfg.hidden);
                sizes.push(ds.classes);
                Mlp::random(&sizes, mcfg.init_std, trial.seed, &device)
            }
            Init::Pretrained => {
                let dbn = pretrained_stack(trial, shared, &device, sink)?;
                Mlp::from_layers(
                    dbn.mlp_layers(),
                    ds.classes,
                    mcfg.init_std,
                    trial.seed,
                    &device,
                )
            }
        };
        let train = Labelled::from_split(&ds.train, &device);
        let valid = Labelled::from_split(&ds.valid, &device);
        let test = Labelled::from_split(&ds.test, &device);
        let splits = mlp::Splits {
            train: &train,
            valid: &valid,
            test: &test,
        };
        let (best, summary) =
            mlp::train(model, &splits, mcfg, trial.seed, "mlp", sink).map_err(fail)?;
        if summary.interrupted {
            return Err(TrialError::Interrupted);
        }
        speech_scores(
            &loaded,
            &best,
            mcfg.activation,
            &valid,
            &test,
            summary.epochs_run as u64,
            sink,
        );
    }
    if !sink.keep_going() {
        return Err(TrialError::Interrupted);
    }
    Ok(())
}

/// A single RBM on the training inputs; the test log-probability from its AIS estimate of log Z.
fn rbm_stage(
    cfg: &RbmConfig,
    ds: &Dataset,
    device: &Device,
    seed: u64,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let mut cfg = cfg.clone();
    if cfg.eval.picture_shape.is_none() {
        cfg.eval.picture_shape = ds.image_shape.map(|(r, c)| [r, c]);
    }
    let train = matrix_to_tensor(&ds.train.x, device);
    let valid = matrix_to_tensor(&ds.valid.x, device);
    let (rbm, summary) = match &cfg.init {
        RbmInit::Data => Rbm::fit(&train, Some(&valid), &cfg, sink, seed).map_err(fail)?,
        RbmInit::Checkpoint(path) => {
            let mut rbm = load_checkpoint(path, &cfg, device)?;
            let summary = rbm
                .train(&train, Some(&valid), &cfg, sink, seed)
                .map_err(fail)?;
            (rbm, summary)
        }
    };
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    let last = |k: &str| {
        summary
            .final_metrics
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| *v)
    };
    if let Some(log_z) = last("ais_log_z") {
        let test = matrix_to_tensor(&ds.test.x, device);
        let free_energy = mean_free_energy(&rbm, &test);
        let step = summary.epochs as u64;
        sink.metric("test_logprob", step, -free_energy - log_z);
        if let Some(upper) = last("ais_log_z_upper") {
            sink.metric("test_logprob_lower", step, -free_energy - upper);
        }
        if let Some(lower) = last("ais_log_z_lower") {
            sink.metric("test_logprob_upper", step, -free_energy - lower);
        }
    }
    Ok(())
}

/// The RBM saved at `path`, checked against the `rbm:` section that continues from it.
fn load_checkpoint(path: &Path, cfg: &RbmConfig, device: &Device) -> Result<Rbm, TrialError> {
    let at = format!("rbm.init.checkpoint {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| fail(format!("{at}: {e}")))?;
    let rbm = Rbm::from_safetensors(&bytes, device).map_err(|e| fail(format!("{at}: {e}")))?;
    let binary = cfg.visible_type == VisibleType::Binary;
    let units = |binary: bool| if binary { "binary" } else { "gaussian" };
    if rbm.hidden() != cfg.hidden || rbm.is_binary() != binary {
        return Err(fail(format!(
            "{at}: the checkpoint has {} hidden units and {} visible units; the `rbm:` section \
             asks for {} hidden and {} visible units",
            rbm.hidden(),
            units(rbm.is_binary()),
            cfg.hidden,
            units(binary)
        )));
    }
    Ok(rbm)
}

/// The trial's pretrained stack, from the stage cache or trained now (and cached).
fn pretrained_stack(
    trial: &Trial,
    shared: &Shared,
    device: &Device,
    sink: &mut dyn EventSink,
) -> Result<Dbn, TrialError> {
    let (data_cfg, layers, pass_up, key) = stack_plan(trial)
        .ok_or_else(|| fail("mlp.init: pretrained needs a valid `pretrain:` section"))?;
    let (dbn, cached) = shared
        .stages
        .stack(&key, device, sink, |sink| {
            let loaded = shared.data.get(&data_cfg)?;
            let x = matrix_to_tensor(&loaded.dataset.train.x, device);
            let valid = matrix_to_tensor(&loaded.dataset.valid.x, device);
            Dbn::pretrain(&x, Some(&valid), &layers, pass_up, sink, trial.seed)
                .map_err(|e| e.to_string())
        })
        .map_err(|e| fail(format!("pretraining: {e}")))?;
    if !sink.keep_going() {
        return Err(TrialError::Interrupted);
    }
    sink.metric("pretrain_cached", 0, if cached { 1.0 } else { 0.0 });
    Ok(dbn)
}

/// Speech: utterance error (frame log-probabilities summed over each utterance) and, for TIMIT,
/// frame error on the 39 folded phone classes, of the best-validation model.
fn speech_scores(
    loaded: &Loaded,
    model: &Mlp,
    activation: Activation,
    valid: &Labelled,
    test: &Labelled,
    step: u64,
    sink: &mut dyn EventSink,
) {
    let Some(utts) = &loaded.utterances else {
        return;
    };
    let classes = loaded.dataset.classes;
    for (name, data, split, utt) in [
        ("valid", valid, &loaded.dataset.valid, &utts[1]),
        ("test", test, &loaded.dataset.test, &utts[2]),
    ] {
        let logp = mlp::log_probabilities(model, data, activation);
        if loaded.scoring == Scoring::Timit39 {
            let (mut wrong, mut scored) = (0usize, 0usize);
            for (row, &label) in split.y.iter().enumerate() {
                let Some(truth) = fold_39(label) else {
                    continue;
                };
                let p = &logp[row * classes..(row + 1) * classes];
                let guess = p
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(i, _)| i as u32)
                    .unwrap_or(0);
                scored += 1;
                wrong += (fold_39(guess) != Some(truth)) as usize;
            }
            sink.metric(
                &format!("{name}_frame_error_39"),
                step,
                wrong as f64 / scored.max(1) as f64,
            );
        }
        if !utt.labels.is_empty() && utt.utterance_of_frame.len() == split.len() {
            let decisions = utterance_decisions(&logp, &utt.utterance_of_frame, classes);
            let present: std::collections::BTreeSet<u32> =
                utt.utterance_of_frame.iter().copied().collect();
            let wrong = present
                .iter()
                .filter(|&&u| decisions[u as usize] != utt.labels[u as usize])
                .count();
            sink.metric(
                &format!("{name}_utterance_error"),
                step,
                wrong as f64 / present.len().max(1) as f64,
            );
        }
    }
}
