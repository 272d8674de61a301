//! The `dbm:` stage: a deep Boltzmann machine on the training inputs (§8–9), its stack
//! pretrained from RBMs and composed when the section has `pretrain:`, then trained as a whole
//! with mean-field and persistent chains; and the variational bound on the test
//! log-probability from its AIS estimate of log Z. The DBM is kept in the stage cache
//! ([`dbm_key`]), so fine-tuning variants (and the random-init arm beside them) share it. For
//! `mlp.init: dbm` it leaves the DBM's
//! weights and the data augmented with its top layer's posterior for the fine-tuning stage.

use std::cell::Cell;
use std::path::Path;

use harmonium_data::fingerprint::fingerprint;
use harmonium_models::EventSink;
use harmonium_models::data::{Labelled, matrix_to_tensor};
use harmonium_models::dbm::{self, Dbm, DbmConfig, DbmInit};
use harmonium_models::mlp::InitSource;

use super::{Products, StageContext, TrialError, fail};
use crate::cache::stage_key;
use crate::sweep::Trial;

/// The stage-cache key of a trial's DBM: the data (its settings and the fingerprint of its
/// files in `data_dir`), the whole `dbm:` section (its evaluation too, whose metrics the cache
/// replays) and the seed. Fine-tuning variants of one DBM share it.
pub fn dbm_key(trial: &Trial, cfg: &DbmConfig, data_dir: &Path) -> String {
    let data = &trial.config.dataset;
    let files = fingerprint(data, data_dir).unwrap_or_else(|e| format!("unlisted: {e}"));
    // A checkpoint to start from is known by its size and modification time too.
    let start = match &cfg.init {
        DbmInit::Checkpoint(path) => std::fs::metadata(path)
            .map(|m| format!("{} {:?}", m.len(), m.modified().ok()))
            .unwrap_or_default(),
        DbmInit::Random => String::new(),
    };
    stage_key(&serde_json::json!({
        "stage": "dbm", "data": data, "files": files, "dbm": cfg, "start": start,
        "seed": trial.seed,
    }))
}

/// Trains (or takes from the stage cache) the DBM of the `dbm:` section and reports
/// `test_mf_bound` (with its bounds from AIS's interval) when AIS estimated log Z; reports
/// `dbm_cached` (1 when the DBM came from the cache).
pub fn run(
    cfg: &DbmConfig,
    ctx: &StageContext,
    made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device) = (ctx.dataset(), ctx.device);
    let key = dbm_key(ctx.trial, cfg, &ctx.shared.data.data_dir);
    let stopped = Cell::new(false);
    let trained = ctx.shared.stages.stack(&key, device, sink, |sink| {
        let (dbm, stopped_early) = train(cfg, ctx, sink)?;
        stopped.set(stopped_early);
        dbm.ok_or_else(|| "stopped during pretraining".to_string())
    });
    if stopped.get() {
        return Err(TrialError::Interrupted);
    }
    let (dbm, cached) = trained.map_err(fail)?;
    sink.metric("dbm_cached", 0, if cached { 1.0 } else { 0.0 });
    if ctx
        .trial
        .config
        .mlp
        .as_ref()
        .is_some_and(|m| m.init == InitSource::Dbm)
    {
        // The fine-tuned net's input: the data with the top layer's posterior, computed once.
        let inputs = [&ds.train, &ds.valid, &ds.test].map(|split| {
            let plain = Labelled::from_split(split, device);
            Labelled {
                x: dbm.augmented_input(&plain.x, &cfg.mean_field),
                y: plain.y,
            }
        });
        made.inputs.push((InitSource::Dbm, inputs));
        made.layers
            .push((InitSource::Dbm, dbm.fine_tuning_layers()));
    }
    Ok(())
}

/// Pretrains and composes (with `pretrain:`) or builds the DBM, trains it, and reports the test
/// bound; returns it (`None` when stopped before it was composed) and whether a stop cut the
/// work short.
fn train(
    cfg: &DbmConfig,
    ctx: &StageContext,
    sink: &mut dyn EventSink,
) -> Result<(Option<Dbm>, bool), String> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    let mut cfg = cfg.clone();
    if cfg.eval.picture_shape.is_none() {
        cfg.eval.picture_shape = ds.image_shape.map(|(r, c)| [r, c]);
    }
    let cfg = &cfg;
    let train = matrix_to_tensor(&ds.train.x, device);
    let valid = matrix_to_tensor(&ds.valid.x, device);
    let (dbm, summary) = match (&cfg.init, cfg.pretraining_layers()) {
        (DbmInit::Checkpoint(path), _) => {
            let mut dbm = load_checkpoint(path, cfg, ds.input_dim(), device)?;
            let summary = dbm
                .train(&train, Some(&valid), cfg, sink, seed)
                .map_err(|e| format!("dbm: {e}"))?;
            (dbm, summary)
        }
        (DbmInit::Random, Some(layers)) => {
            let (composed, _) = dbm::pretrain(&train, &layers, sink, seed)
                .map_err(|e| format!("dbm.pretrain: {e}"))?;
            let Some(mut dbm) = composed else {
                return Ok((None, true));
            };
            let summary = dbm
                .train(&train, Some(&valid), cfg, sink, seed)
                .map_err(|e| format!("dbm: {e}"))?;
            (dbm, summary)
        }
        (DbmInit::Random, None) => {
            Dbm::fit(&train, Some(&valid), cfg, sink, seed).map_err(|e| format!("dbm: {e}"))?
        }
    };
    if summary.stopped_early {
        return Ok((Some(dbm), true));
    }
    let last = |k: &str| {
        summary
            .final_metrics
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| *v)
    };
    if let Some(log_z) = last("ais_log_z") {
        let test = matrix_to_tensor(&ds.test.x, device);
        let unnormalized = dbm.mean_unnormalized_bound(&test, &cfg.mean_field);
        let step = summary.epochs as u64;
        sink.metric("test_mf_bound", step, unnormalized - log_z);
        if let Some(upper) = last("ais_log_z_upper") {
            sink.metric("test_mf_bound_lower", step, unnormalized - upper);
        }
        if let Some(lower) = last("ais_log_z_lower") {
            sink.metric("test_mf_bound_upper", step, unnormalized - lower);
        }
    }
    Ok((Some(dbm), false))
}

/// The DBM in `path`, which must have `visible` visible units and the section's `layers`.
fn load_checkpoint(
    path: &Path,
    cfg: &DbmConfig,
    visible: usize,
    device: &burn::tensor::Device,
) -> Result<Dbm, String> {
    let at = format!("dbm.init.checkpoint {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| format!("{at}: {e}"))?;
    let dbm = Dbm::from_safetensors(&bytes, device).map_err(|e| format!("{at}: {e}"))?;
    let mut want = vec![visible];
    want.extend(&cfg.layers);
    if dbm.sizes() != want {
        let shape = |s: &[usize]| {
            s.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("-")
        };
        return Err(format!(
            "{at}: the checkpoint is a {} DBM; the `dbm:` section and the data ask for {}",
            shape(&dbm.sizes()),
            shape(&want)
        ));
    }
    Ok(dbm)
}
