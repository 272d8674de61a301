//! A trial's pipeline: loads its data and device, then runs the stages in order — single RBM,
//! pretrained stack, fine-tuning, speech scoring. Each stage is a module of [`crate::stages`]
//! with one entry function; a section absent from the trial skips its stage.

use harmonium_models::{EventSink, parse_device};

use crate::stages::{Products, Stage, StageContext, fail, finetune, rbm, speech, stack};
use crate::sweep::Trial;

pub use crate::shared::{DataCache, Shared};
pub use crate::stages::TrialError;
pub use crate::stages::stack::stack_plan;

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
    device.seed(trial.seed);
    let ctx = StageContext {
        trial,
        shared,
        loaded: &loaded,
        device: &device,
    };
    let made = &mut Products::default();

    stage(cfg.rbm.as_ref(), rbm::run, &ctx, made, sink)?;
    stage(stack::section(cfg), stack::run, &ctx, made, sink)?;
    stage(cfg.mlp.as_ref(), finetune::run, &ctx, made, sink)?;
    stage(speech::section(&ctx), speech::run, &ctx, made, sink)?;

    if !sink.keep_going() {
        return Err(TrialError::Interrupted);
    }
    Ok(())
}

/// Runs `run` on its section when the trial has one.
fn stage<C>(
    section: Option<&C>,
    run: Stage<C>,
    ctx: &StageContext,
    made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    match section {
        Some(section) => run(section, ctx, made, sink),
        None => Ok(()),
    }
}
