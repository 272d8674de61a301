//! A trial's pipeline: loads its data and device, then runs the stages in order — single RBM,
//! general Boltzmann machine, deep Boltzmann machine, sigmoid belief net, up-down DBN, autoencoder (or PCA), pretrained stack, fine-tuning, speech scoring. Each stage is a module of [`crate::stages`]
//! with one entry function; a section absent from the trial skips its stage.

use harmonium_models::events::Prefixed;
use harmonium_models::{EventSink, parse_device};

use crate::stages::{
    Products, Stage, StageContext, autoencoder, boltzmann, dbm, fail, finetune, rbm, sbn, speech,
    stack, updown,
};
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
    // Each split goes onto the device whole: one that cannot is refused before any stage runs.
    for (name, split) in [
        ("training", &loaded.dataset.train),
        ("validation", &loaded.dataset.valid),
        ("test", &loaded.dataset.test),
    ] {
        harmonium_models::device::check_fits(
            &device,
            split.x.rows,
            split.x.cols,
            &format!("the {name} examples"),
        )
        .map_err(|e| fail(format!("device {}: {e}", cfg.device)))?;
    }
    device.seed(trial.seed);
    let ctx = StageContext {
        trial,
        shared,
        loaded: &loaded,
        device: &device,
    };
    let made = &mut Products::default();

    // The density models side by side in one trial report under their section's name
    // (`rbm/exact_loglik`, `sbn/exact_loglik`, …); alone, a stage's keys are its own.
    let side_by_side = [
        cfg.rbm.is_some(),
        cfg.boltzmann.is_some(),
        cfg.sbn.is_some(),
    ]
    .iter()
    .filter(|&&s| s)
    .count()
        > 1;
    let mut named =
        |name: &str, run: &mut dyn FnMut(&mut dyn EventSink) -> Result<(), TrialError>| {
            if side_by_side {
                run(&mut Prefixed {
                    inner: &mut *sink,
                    prefix: name.into(),
                })
            } else {
                run(&mut *sink)
            }
        };
    named("rbm", &mut |s| {
        stage(cfg.rbm.as_ref(), rbm::run, &ctx, made, s)
    })?;
    named("boltzmann", &mut |s| {
        stage(cfg.boltzmann.as_ref(), boltzmann::run, &ctx, made, s)
    })?;
    named("sbn", &mut |s| {
        stage(cfg.sbn.as_ref(), sbn::run, &ctx, made, s)
    })?;
    stage(cfg.dbm.as_ref(), dbm::run, &ctx, made, sink)?;
    stage(cfg.updown.as_ref(), updown::run, &ctx, made, sink)?;
    stage(cfg.autoencoder.as_ref(), autoencoder::run, &ctx, made, sink)?;
    stage(stack::section(cfg), stack::run, &ctx, made, sink)?;
    stage(cfg.mlp.as_ref(), finetune::run, &ctx, made, sink)?;
    stage(speech::section(&ctx), speech::run, &ctx, made, sink)?;
    // Each stage says itself when a stop cut its work short; a stop that comes after the last
    // stage's work is done leaves the trial finished.
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

#[cfg(test)]
mod tests {
    use harmonium_models::Event;
    use harmonium_models::events::VecSink;

    use super::*;
    use crate::cache::StageCache;

    /// Keeps every event and asks to stop from the first checkpoint artifact on.
    #[derive(Default)]
    struct StopAtCheckpoint {
        stopped: bool,
        events: VecSink,
    }

    impl EventSink for StopAtCheckpoint {
        fn emit(&mut self, event: Event) {
            self.stopped |= matches!(&event, Event::Artifact { kind, .. } if kind == "checkpoint");
            self.events.emit(event);
        }
        fn keep_going(&self) -> bool {
            !self.stopped
        }
    }

    /// A stop that arrives after the last piece of a trial's work (here the checkpoint of its
    /// `rbm:` stage, after the AIS estimate) does not make the trial interrupted: it finished.
    #[test]
    fn a_stop_after_the_last_piece_of_work_still_finishes_the_trial() {
        let text = "name: stop\n\
                    dataset: {name: mnist, train_size: 200, valid_size: 100, test_size: 100}\n\
                    seeds: [1]\n\
                    rbm: {hidden: 8, epochs: 1, eval: {ais: {runs: 10, betas: 200}}}\n";
        let exp = crate::parse_experiment(text, "stop.yaml").unwrap();
        let trial = crate::expand(&exp, text).unwrap().remove(0);
        let dir = tempfile::tempdir().unwrap();
        let shared = Shared {
            data: DataCache::new(dir.path().join("data")),
            stages: StageCache::new(dir.path().join("cache")),
        };
        let mut sink = StopAtCheckpoint::default();
        let result = run_trial(&trial, &shared, &mut sink);
        assert!(sink.stopped, "the stop was asked for");
        assert!(result.is_ok(), "{result:?}");
        assert!(!sink.events.series("test_logprob").is_empty());
    }
}
