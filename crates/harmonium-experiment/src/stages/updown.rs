//! The `updown:` stage: a DBN whose top RBM also sees the labels, fine-tuned generatively by
//! the up-down algorithm (contrastive wake-sleep; §7, Hinton, Osindero & Teh 2006), classifying
//! by the top RBM's free energy for each label, and dreaming a fantasy per class.
//!
//! The stack below the top layer is pretrained greedily and kept in the stage cache under the
//! key of an ordinary pretrained stack ([`stack_key`]: the data, the layers' settings without
//! their `eval` block, passing probabilities up, the seed), so a `pretrain:` stack with the same
//! layers and settings is reused, and so is this one across runs. The top RBM with its label
//! units is trained on the stack's output, then the whole net by up-down. Reports
//! `updown_stack_cached` (1 when the stack came from the cache).

use harmonium_data::fingerprint::fingerprint;
use harmonium_models::EventSink;
use harmonium_models::data::Labelled;
use harmonium_models::dbn::{Dbn, PassUp, StackLayer};
use harmonium_models::updown::{self, Examples, UpDownConfig, UpDownError};

use super::stack::stack_key;
use super::{Products, StageContext, TrialError, fail};

/// Pretrains (or takes from the cache) the stack, trains the top with its label units, then
/// the whole net by up-down.
pub fn run(
    cfg: &UpDownConfig,
    ctx: &StageContext,
    _made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    if cfg.classes != ds.classes {
        return Err(fail(format!(
            "updown.classes: {} label units, but dataset '{}' has {} classes",
            cfg.classes, ds.name, ds.classes
        )));
    }
    let mut cfg = cfg.clone();
    if cfg.eval.picture_shape.is_none() {
        cfg.eval.picture_shape = ds.image_shape.map(|(r, c)| [r, c]);
    }
    let splits = [&ds.train, &ds.valid, &ds.test].map(|s| Labelled::from_split(s, device));
    let [train, valid, test] = &splits;
    let lower = cfg.pretraining_layers();
    let data = &ctx.trial.config.dataset;
    let files =
        fingerprint(data, &ctx.shared.data.data_dir).unwrap_or_else(|e| format!("unlisted: {e}"));
    let layers: Vec<StackLayer> = lower.iter().cloned().map(StackLayer::Rbm).collect();
    let key = crate::cache::on_device(
        stack_key(data, &files, &layers, PassUp::Probabilities, seed),
        &ctx.trial.config.device,
    );
    let (stack, cached) = ctx
        .shared
        .stages
        .stack(&key, device, sink, |sink| {
            Dbn::pretrain(
                &train.x,
                Some(&valid.x),
                &lower,
                PassUp::Probabilities,
                sink,
                seed,
            )
            .map_err(|e| format!("updown.pretrain: {e}"))
        })
        .map_err(fail)?;
    if !sink.keep_going() || stack.layers.len() < lower.len() {
        return Err(TrialError::Interrupted);
    }
    sink.metric("updown_stack_cached", 0, if cached { 1.0 } else { 0.0 });
    let top_seed = seed.wrapping_add(lower.len() as u64);
    let mut net = updown::pretrain_top(
        &stack,
        Examples::labelled(&train.x, &train.y),
        &cfg,
        sink,
        top_seed,
    )
    .map_err(reason)?;
    let summary = net
        .train(
            Examples::labelled(&train.x, &train.y),
            Some(Examples::labelled(&valid.x, &valid.y)).filter(|e| !e.is_empty()),
            Some(Examples::labelled(&test.x, &test.y)),
            &cfg,
            sink,
            seed,
        )
        .map_err(reason)?;
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    Ok(())
}

/// A stop is an interruption; anything else fails the trial, naming the section.
fn reason(e: UpDownError) -> TrialError {
    match e {
        UpDownError::Interrupted => TrialError::Interrupted,
        UpDownError::Eval(harmonium_models::eval::EvalError::Interrupted) => {
            TrialError::Interrupted
        }
        e => fail(format!("updown: {e}")),
    }
}
