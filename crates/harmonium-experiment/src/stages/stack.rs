//! The pretrained-stack stage (`pretrain:` with `mlp.init: dbn`): greedy pretraining of the
//! hidden layers of `mlp`, each layer an RBM or a denoising / contractive autoencoder
//! (`pretrain.module`), from the stage cache when an earlier trial or run trained the same
//! stack. It leaves the recognition weights for fine-tuning under [`InitSource::Dbn`].
//!
//! The cache key ([`stack_key`]) hashes only what changes the stack's weights: the pretraining
//! data (its settings and the fingerprint of its files, so a corpus changed in place is
//! trained on again), each layer's training settings, how layers pass data up, and the seed. Each layer's
//! `eval` block (metric cadence, AIS, pictures, checkpoints) only observes training and is left
//! out, so changing a picture option reuses the cached stack (with the pictures it was cached
//! with).

use std::path::Path;

use harmonium_data::DatasetConfig;
use harmonium_data::fingerprint::fingerprint;
use harmonium_models::EventSink;
use harmonium_models::data::matrix_to_tensor;
use harmonium_models::dbn::{Dbn, PassUp, StackLayer};
use harmonium_models::mlp::InitSource;
use serde_json::Value;

use super::{Products, StageContext, TrialError, fail};
use crate::cache::stage_key;
use crate::config::TrialConfig;
use crate::pretrain::{PretrainConfig, PretrainData};
use crate::sweep::Trial;

/// The `pretrain:` section when the trial fine-tunes a pretrained stack (`mlp.init: dbn`).
pub fn section(cfg: &TrialConfig) -> Option<&PretrainConfig> {
    let m = cfg.mlp.as_ref()?;
    cfg.pretrain.as_ref().filter(|_| m.init == InitSource::Dbn)
}

/// The pretraining data and layer configurations of a trial that fine-tunes a pretrained stack,
/// and the stage-cache key they hash to, with the fingerprint of the data's files in
/// `data_dir`. `None` for trials without pretraining.
pub fn stack_plan(
    trial: &Trial,
    data_dir: &Path,
) -> Option<(DatasetConfig, Vec<StackLayer>, PassUp, String)> {
    let cfg = &trial.config;
    let p = section(cfg)?;
    let hidden = &cfg.mlp.as_ref()?.hidden;
    let mut data = cfg.dataset.clone();
    if p.data == PretrainData::All {
        data.train_size = None;
    }
    let image = (data.name == "mnist").then_some((28, 28));
    let layers = p.layer_plans(hidden, image).ok()?;
    let files = fingerprint(&data, data_dir).unwrap_or_else(|e| format!("unlisted: {e}"));
    let key = crate::cache::on_device(
        stack_key(&data, &files, &layers, p.pass_up, trial.seed),
        &cfg.device,
    );
    Some((data, layers, p.pass_up, key))
}

/// The stage-cache key of a stack: the data (its configuration and the fingerprint of its
/// files), every layer's configuration without its `eval` block, the pass-up rule and the seed.
/// An RBM layer is described by its configuration alone, as before autoencoder layers existed,
/// so the keys of RBM stacks are unchanged; an autoencoder layer's configuration names its
/// `module`.
pub fn stack_key(
    data: &DatasetConfig,
    files: &str,
    layers: &[StackLayer],
    pass_up: PassUp,
    seed: u64,
) -> String {
    let layers: Vec<Value> = layers
        .iter()
        .map(|layer| {
            let mut v = match layer {
                StackLayer::Rbm(c) => serde_json::to_value(c),
                StackLayer::Autoencoder(c) => serde_json::to_value(c),
            }
            .expect("json");
            if let Some(fields) = v.as_object_mut() {
                fields.remove("eval");
            }
            v
        })
        .collect();
    stage_key(&serde_json::json!({
        "data": data, "files": files, "layers": layers, "pass_up": pass_up, "seed": seed,
    }))
}

/// Pretrains (or loads) the trial's stack and leaves its layers for `mlp.init: dbn`; reports
/// `pretrain_cached` (1 when the stack came from the cache).
pub fn run(
    _section: &PretrainConfig,
    ctx: &StageContext,
    made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (data_cfg, layers, pass_up, key) = stack_plan(ctx.trial, &ctx.shared.data.data_dir)
        .ok_or_else(|| fail("mlp.init: dbn needs a valid `pretrain:` section"))?;
    let (shared, device) = (ctx.shared, ctx.device);
    let (dbn, cached) = shared
        .stages
        .stack(&key, device, sink, |sink| {
            let loaded = shared.data.get(&data_cfg)?;
            let rows = loaded.dataset.train.x.rows;
            harmonium_models::device::check_fits(
                device,
                rows,
                loaded.dataset.train.x.cols,
                "the pretraining images",
            )
            .map_err(|e| e.to_string())?;
            let x = matrix_to_tensor(&loaded.dataset.train.x, device);
            let valid = matrix_to_tensor(&loaded.dataset.valid.x, device);
            Dbn::pretrain_modules(&x, Some(&valid), &layers, pass_up, sink, ctx.seed())
        })
        .map_err(|e| fail(format!("pretraining: {e}")))?;
    if !sink.keep_going() {
        return Err(TrialError::Interrupted);
    }
    sink.metric("pretrain_cached", 0, if cached { 1.0 } else { 0.0 });
    made.layers.push((InitSource::Dbn, dbn.mlp_layers()));
    Ok(())
}
