//! The `rbm:` stage: a single RBM on the training inputs, from the data or from a checkpoint, and
//! the test log-probability from its AIS estimate of log Z (`test_logprob`), and from the exact
//! log Z on RBMs small enough to enumerate (`test_exact_loglik`).

use std::path::Path;

use burn::tensor::Device;
use harmonium_models::EventSink;
use harmonium_models::data::matrix_to_tensor;
use harmonium_models::eval::metrics::mean_free_energy;
use harmonium_models::rbm::{Rbm, RbmConfig, RbmInit, VisibleType};

use super::{Products, StageContext, TrialError, fail};

/// Trains the RBM of the `rbm:` section and reports `test_logprob` (with its bounds) when AIS
/// estimated log Z, and `test_exact_loglik` when the exact log Z was computed.
pub fn run(
    cfg: &RbmConfig,
    ctx: &StageContext,
    _made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
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
    if let Some(log_z) = last("exact_log_z") {
        let test = matrix_to_tensor(&ds.test.x, device);
        let ll = harmonium_models::eval::exact::mean_log_likelihood(&rbm, &test, log_z);
        sink.metric("test_exact_loglik", summary.epochs as u64, ll);
    }
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use harmonium_models::Event;
    use harmonium_models::events::VecSink;

    use super::*;
    use crate::cache::StageCache;
    use crate::shared::{DataCache, Shared};

    /// Asks to stop `delay` after the first `Progress` event (the one epoch), or from the first
    /// event matching `stop_on` on; keeps every event.
    struct Stopping {
        delay: Option<Duration>,
        stop_on: fn(&Event) -> bool,
        epoch_done: Option<Instant>,
        stopped: bool,
        events: VecSink,
    }

    impl Stopping {
        fn new(delay: Option<Duration>, stop_on: fn(&Event) -> bool) -> Self {
            Stopping {
                delay,
                stop_on,
                epoch_done: None,
                stopped: false,
                events: VecSink::default(),
            }
        }

        fn has(&self, key: &str) -> bool {
            !self.events.series(key).is_empty()
        }
    }

    impl EventSink for Stopping {
        fn emit(&mut self, event: Event) {
            if matches!(event, Event::Progress { .. }) && self.epoch_done.is_none() {
                self.epoch_done = Some(Instant::now());
            }
            self.stopped |= (self.stop_on)(&event);
            self.events.emit(event);
        }
        fn keep_going(&self) -> bool {
            let late =
                matches!((self.delay, self.epoch_done), (Some(d), Some(t)) if t.elapsed() >= d);
            !(self.stopped || late)
        }
    }

    /// Runs the `rbm:` stage of a one-epoch, 8-hidden-unit RBM on 200 MNIST digits whose
    /// end-of-training AIS has `betas` β steps.
    fn run_stage(betas: usize, sink: &mut dyn EventSink) -> Result<(), TrialError> {
        let text = format!(
            "name: stop\n\
             dataset: {{name: mnist, train_size: 200, valid_size: 100, test_size: 100}}\n\
             seeds: [1]\n\
             rbm: {{hidden: 8, epochs: 1, eval: {{reconstruction: false, free_energy_gap: false, \
             pseudo_likelihood: false, exact_loglik: false, ais: {{runs: 10, betas: {betas}}}}}}}\n"
        );
        let exp = crate::parse_experiment(&text, "stop.yaml").unwrap();
        let trial = crate::expand(&exp, &text).unwrap().remove(0);
        let dir = tempfile::tempdir().unwrap();
        let shared = Shared {
            data: DataCache::new(dir.path().join("data")),
            stages: StageCache::new(dir.path().join("cache")),
        };
        let loaded = shared.data.get(&trial.config.dataset).unwrap();
        let device = Device::flex();
        let ctx = StageContext {
            trial: &trial,
            shared: &shared,
            loaded: &loaded,
            device: &device,
        };
        let cfg = trial.config.rbm.clone().unwrap();
        run(&cfg, &ctx, &mut Products::default(), sink)
    }

    #[test]
    fn a_stop_during_the_final_ais_interrupts_the_stage_promptly_without_ais_metrics() {
        // A million β steps would take minutes; the stop comes 300 ms into them.
        let delay = Duration::from_millis(300);
        let mut sink = Stopping::new(Some(delay), |_| false);
        let result = run_stage(1_000_000, &mut sink);
        let after_stop = sink
            .epoch_done
            .expect("the epoch ran")
            .elapsed()
            .saturating_sub(delay);
        assert!(matches!(result, Err(TrialError::Interrupted)), "{result:?}");
        for key in ["ais_log_z", "ais_loglik", "test_logprob"] {
            assert!(
                !sink.has(key),
                "{key} is not recorded for an interrupted AIS"
            );
        }
        assert!(
            after_stop.as_secs_f64() < 5.0,
            "the stage returned {after_stop:?} after the stop request"
        );
    }

    #[test]
    fn a_stop_after_the_stage_s_work_is_done_still_finishes_it() {
        // The stop comes with the checkpoint, the last thing training emits.
        let mut sink = Stopping::new(
            None,
            |e| matches!(e, Event::Artifact { kind, .. } if kind == "checkpoint"),
        );
        let result = run_stage(200, &mut sink);
        assert!(!sink.keep_going(), "the stop was asked for");
        assert!(result.is_ok(), "{result:?}");
        assert!(sink.has("ais_log_z") && sink.has("test_logprob"));
    }
}
