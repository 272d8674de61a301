//! The training loop: epochs of [`Learner`] updates, evaluation every few epochs (reconstruction
//! error, free-energy gap, pseudo-likelihood, exact log-likelihood of small models), pictures, an
//! AIS estimate of log Z after the last epoch, a checkpoint, and progress events.
//!
//! A stop request (`sink.keep_going()` false, for Ctrl-C) is honoured at every epoch boundary and
//! inside the long evaluations (AIS, exact enumeration, the Gibbs chains of the samples picture,
//! between the per-epoch metrics): the run then ends at once with `stopped_early`, and what the
//! interrupted evaluation would have reported (AIS metrics, that epoch's pictures, the checkpoint)
//! is not emitted. A stop that comes after the last piece of work changes nothing.

use std::time::Instant;

use burn::tensor::Tensor;

use super::resume::STATE_KEY;
use super::{
    HostDraws, Learner, MomentumUpdate, Rbm, RbmConfig, RbmError, RbmEvalConfig, RbmInit, Step,
};
use crate::data::head;
use crate::eval::{self, EvalError, Interrupted};
use crate::events::{Event, EventSink};
use crate::resume::SavedState;

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the work was done: before an epoch, or during an
    /// evaluation (the end-of-training AIS estimate included, whose metrics are then missing).
    /// False when everything was done, even if a stop was asked for after the last piece of it.
    pub stopped_early: bool,
    /// Wall-clock seconds spent training (evaluation included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

/// Forwards events to the caller's sink and remembers the last value of each metric.
struct Recorder<'a> {
    sink: &'a mut dyn EventSink,
    last: Vec<(String, f64)>,
}

/// Why the work of a training run ended before its end.
enum Halt {
    /// The sink asked to stop: not an error; the summary says `stopped_early`.
    Interrupted,
    Failed(RbmError),
}

impl From<RbmError> for Halt {
    fn from(e: RbmError) -> Self {
        match e {
            RbmError::Eval(EvalError::Interrupted) => Halt::Interrupted,
            e => Halt::Failed(e),
        }
    }
}

impl From<EvalError> for Halt {
    fn from(e: EvalError) -> Self {
        RbmError::from(e).into()
    }
}

impl From<Interrupted> for Halt {
    fn from(_: Interrupted) -> Self {
        Halt::Interrupted
    }
}

impl Recorder<'_> {
    /// `Err(Interrupted)` once the sink asks to stop.
    fn keep_going(&self) -> Result<(), Interrupted> {
        eval::check(&|| self.sink.keep_going())
    }

    fn metric(&mut self, key: &str, step: usize, value: f64) {
        self.sink.metric(key, step as u64, value);
        match self.last.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.last.push((key.to_string(), value)),
        }
    }
}

impl Rbm {
    /// Builds an RBM for `data`, sets its visible biases from the data, and trains it. The initial
    /// weights, the example order, the chains' start and (on the CPU) the Gibbs steps come from
    /// host generators seeded with `seed`, so a run on the CPU is reproducible even beside other
    /// trials; the device is seeded with `seed` too (evaluation draws).
    pub fn fit(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(Rbm, TrainSummary), RbmError> {
        if let RbmInit::Checkpoint(path) = &cfg.init {
            return Err(RbmError::Config(format!(
                "init: {{checkpoint: {}}}: load the checkpoint and call `train` on it \
                 (`Rbm::fit` builds a new RBM)",
                path.display()
            )));
        }
        let device = data.device();
        device.seed(seed);
        let mut rbm = Rbm::new_with(data.dims()[1], cfg, &device, &mut HostDraws::new(seed))?;
        rbm.init_from_data(data, cfg)?;
        let summary = rbm.train_seeded(data, valid, cfg, sink, seed)?;
        Ok((rbm, summary))
    }

    /// Trains this RBM on `data` ([examples, visible], on the RBM's device) for `cfg.epochs`
    /// epochs after seeding the device with `seed`. Emits per-epoch metrics, pictures, a final
    /// checkpoint and `Progress { stage: "rbm" }`; stops early when `sink.keep_going()` is false.
    pub fn train(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<TrainSummary, RbmError> {
        self.device().seed(seed);
        self.train_seeded(data, valid, cfg, sink, seed)
    }

    fn train_seeded(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<TrainSummary, RbmError> {
        cfg.validate()?;
        self.check_columns("the training data", data)?;
        // An empty validation split is no validation split: its metrics are left out.
        let valid = valid.filter(|v| v.dims()[0] > 0);
        if let Some(v) = valid {
            self.check_columns("the validation data", v)?;
        }
        if cfg.hidden != self.hidden() {
            return Err(RbmError::Config(format!(
                "hidden is {} but the RBM has {} hidden units",
                cfg.hidden,
                self.hidden()
            )));
        }
        let n = data.dims()[0];
        if n == 0 {
            return Err(RbmError::EmptyData);
        }
        let started = Instant::now();
        let mut rec = Recorder {
            sink,
            last: Vec::new(),
        };
        let mut epochs_done = 0;
        let stopped_early =
            match self.run_training(data, valid, cfg, seed, &mut rec, &mut epochs_done) {
                Ok(()) => false,
                Err(Halt::Interrupted) => true,
                Err(Halt::Failed(e)) => return Err(e),
            };
        Ok(TrainSummary {
            epochs: epochs_done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    /// The work of a training run in order: the epochs with their evaluations and pictures, then
    /// (when every epoch ran) the AIS estimate and the checkpoint. `Err(Halt::Interrupted)` as
    /// soon as the sink asks to stop, at an epoch boundary or inside an evaluation;
    /// `epochs_done` counts the epochs trained.
    fn run_training(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        seed: u64,
        rec: &mut Recorder<'_>,
        epochs_done: &mut usize,
    ) -> Result<(), Halt> {
        let mut learner = Learner::new(self, cfg, seed.wrapping_add(0x9E37_79B9_7F4A_7C15));
        let base_rate = eval::ais::BaseRateModel::fit(data);
        let train_eval = head(data, cfg.eval.max_examples);
        let valid_eval = valid.map(|v| head(v, cfg.eval.max_examples));
        // A killed attempt's last whole epoch, when this run continues one.
        let start = match rec.sink.resume_state(STATE_KEY) {
            Some(bytes) => {
                let state = SavedState::from_bytes(&bytes).map_err(RbmError::from)?;
                let start = self.restore(&state, &mut learner)?;
                start.min(cfg.epochs)
            }
            None => 0,
        };
        *epochs_done = start;

        for epoch in start..cfg.epochs {
            rec.keep_going()?;
            let epoch_start = Instant::now();
            let step = Step {
                update: MomentumUpdate {
                    lr: cfg.lr_at(epoch),
                    momentum: cfg.momentum.at(epoch),
                    weight_cost: cfg.weight_cost,
                },
                cd_k: cfg.cd_k,
            };
            learner.epoch(self, data, cfg.batch_size, step, cfg.sparsity.as_ref());
            *epochs_done = epoch + 1;
            let e = epoch + 1;
            let last = e == cfg.epochs;
            self.check_finite(e)?;
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64());
            rec.metric("lr", e, step.update.lr);
            rec.metric("momentum", e, step.update.momentum);
            // Evaluation draws from the device's generator, seeded here from the epoch, so that
            // they do not depend on whether earlier epochs ran in this process (a training
            // continued from a saved state evaluates as one that never stopped).
            self.device()
                .seed(seed ^ (e as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            if last || (cfg.eval.every > 0 && e % cfg.eval.every == 0) {
                self.evaluate(e, &train_eval, valid_eval.as_ref(), cfg, rec)?;
            }
            if let Some(shape) = cfg.eval.picture_shape
                && (last || (cfg.eval.pictures_every > 0 && e % cfg.eval.pictures_every == 0))
            {
                self.emit_pictures(e, shape, &train_eval, &cfg.eval, rec.sink)?;
            }
            rec.sink.emit(Event::Progress {
                stage: "rbm".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
            if rec.sink.keeps_state() {
                let state = self.saved_state(e, &learner).to_bytes();
                rec.sink.save_state(STATE_KEY, state);
            }
        }

        if cfg.epochs == 0 {
            // Evaluation only (e.g. a model loaded from a checkpoint).
            self.evaluate(0, &train_eval, valid_eval.as_ref(), cfg, rec)?;
            if let Some(shape) = cfg.eval.picture_shape {
                self.emit_pictures(0, shape, &train_eval, &cfg.eval, rec.sink)?;
            }
        }
        let e = *epochs_done;
        if let Some(ais) = &cfg.eval.ais
            && ais.at_end
            && self.is_binary()
        {
            // Asked every few hundred β steps: a stop leaves no AIS metric at all.
            let keep_going = || rec.sink.keep_going();
            let estimate = eval::ais::estimate_log_z_while(
                self,
                &base_rate,
                ais.runs,
                ais.betas,
                &keep_going,
            )?;
            rec.metric("ais_log_z", e, estimate.log_z);
            if estimate.log_z_lower.is_finite() {
                rec.metric("ais_log_z_lower", e, estimate.log_z_lower);
            }
            rec.metric("ais_log_z_upper", e, estimate.log_z_upper);
            rec.metric("ais_effective_runs", e, estimate.effective_runs);
            let train_ll = -eval::metrics::mean_free_energy(self, &train_eval) - estimate.log_z;
            rec.metric("ais_loglik", e, train_ll);
            if let Some(v) = &valid_eval {
                let ll = -eval::metrics::mean_free_energy(self, v) - estimate.log_z;
                rec.metric("ais_loglik_valid", e, ll);
            }
        }
        if cfg.eval.checkpoint && e > 0 {
            rec.sink.emit(Event::Artifact {
                kind: "checkpoint".into(),
                name: "rbm.safetensors".into(),
                step: Some(e as u64),
                bytes: self.to_safetensors(),
            });
        }
        // Everything is done: a stop asked for from here on does not make this run interrupted.
        Ok(())
    }

    /// Errors with [`RbmError::Diverged`] when a parameter is NaN or infinite.
    fn check_finite(&self, epoch: usize) -> Result<(), RbmError> {
        let finite = |t: Tensor<1>| t.is_finite().all().into_scalar::<bool>();
        let w: Tensor<1> = self.weights.clone().flatten(0, 1);
        for (what, t) in [
            ("the weights W", w),
            ("the visible biases b", self.visible_bias.clone()),
            ("the hidden biases c", self.hidden_bias.clone()),
        ] {
            if !finite(t) {
                return Err(RbmError::Diverged {
                    epoch,
                    what: what.into(),
                });
            }
        }
        Ok(())
    }

    fn evaluate(
        &self,
        epoch: usize,
        train: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &RbmConfig,
        rec: &mut Recorder<'_>,
    ) -> Result<(), Halt> {
        let ec = &cfg.eval;
        let checked = |key: &str, value: f64, rec: &mut Recorder<'_>| {
            if value.is_finite() {
                rec.metric(key, epoch, value);
                Ok(())
            } else {
                Err(RbmError::Diverged {
                    epoch,
                    what: key.to_string(),
                })
            }
        };
        // The sink is asked before each measurement, and by the enumeration between its batches.
        if ec.reconstruction {
            rec.keep_going()?;
            checked(
                "recon_error",
                eval::metrics::reconstruction_error(self, train),
                rec,
            )?;
        }
        if ec.free_energy_gap {
            rec.keep_going()?;
            let f_train = eval::metrics::mean_free_energy(self, train);
            checked("free_energy_train", f_train, rec)?;
            if let Some(v) = valid {
                let f_valid = eval::metrics::mean_free_energy(self, v);
                checked("free_energy_valid", f_valid, rec)?;
                checked("free_energy_gap", f_valid - f_train, rec)?;
            }
        }
        if ec.pseudo_likelihood && self.is_binary() {
            rec.keep_going()?;
            checked(
                "pseudo_loglik",
                eval::metrics::pseudo_log_likelihood(self, train),
                rec,
            )?;
        }
        if ec.exact_loglik && self.visible().min(self.hidden()) <= ec.exact_max_units {
            let keep_going = || rec.sink.keep_going();
            let log_z = eval::exact::log_partition_while(self, ec.exact_max_units, &keep_going)?;
            rec.keep_going()?;
            checked("exact_log_z", log_z, rec)?;
            checked(
                "exact_loglik",
                eval::exact::mean_log_likelihood(self, train, log_z),
                rec,
            )?;
            if let Some(v) = valid {
                checked(
                    "exact_loglik_valid",
                    eval::exact::mean_log_likelihood(self, v, log_z),
                    rec,
                )?;
            }
        }
        Ok(())
    }

    /// The filters, reconstructions and samples pictures of `epoch`; none of them when the sink
    /// asks to stop while the samples' Gibbs chains run.
    fn emit_pictures(
        &self,
        epoch: usize,
        [rows, cols]: [usize; 2],
        train: &Tensor<2>,
        ec: &RbmEvalConfig,
        sink: &mut dyn EventSink,
    ) -> Result<(), Interrupted> {
        if rows * cols != self.visible() {
            return Ok(());
        }
        let tile = eval::images::TileShape { rows, cols };
        let filters = eval::images::filters_png(self, tile, ec.picture_filters);
        let reconstructions = eval::images::reconstructions_png(self, &head(train, 50), tile);
        let keep_going = || sink.keep_going();
        let samples = eval::images::samples_png_while(
            self,
            tile,
            head(train, ec.sample_chains),
            ec.sample_steps,
            &keep_going,
        )?;
        let pictures = [
            ("filters", filters),
            ("reconstructions", reconstructions),
            ("samples", samples),
        ];
        for (kind, bytes) in pictures {
            sink.emit(Event::Artifact {
                kind: kind.into(),
                name: format!("{kind}_epoch{epoch}.png"),
                step: Some(epoch as u64),
                bytes,
            });
        }
        Ok(())
    }
}
