//! The training loop of a sigmoid belief net by wake-sleep: epochs of mini-batch updates
//! ([`super::wake_sleep`]), evaluation every few epochs, pictures of fantasies, and progress
//! events. A stop request (`sink.keep_going()` false) is honoured at every epoch boundary (and
//! inside the evaluations); a non-finite parameter or metric is [`SbnError::Diverged`] naming
//! the epoch.
//!
//! Metrics, at step = epoch (evaluations on at most `eval.max_examples` examples):
//! `epoch_seconds` (the updates alone); `is_loglik` and `is_loglik_se` (the mean
//! importance-sampled log p(v) per example in nats, and its Monte Carlo standard error),
//! `bound` and `bound_se` (the sampled variational bound, from the same samples); for nets
//! whose hidden states can be enumerated, `exact_loglik`, `exact_bound` and `exact_kl` (the
//! mean KL(Q ‖ P) between the recognition distribution and the true posterior). With
//! validation data, each also as `…_valid`. Artifacts (with `eval.picture_shape`, after the
//! last epoch and every `eval.pictures_every` epochs): `samples` (`sbn_samples_epoch{E}.png`,
//! the visible probabilities p(v | h¹) of fantasies drawn top-down from the prior) and
//! `filters` (`sbn_filters_epoch{E}.png`, the generative weights from the units of h¹ to the
//! visible units).

use std::time::Instant;

use burn::tensor::Tensor;

use super::{Sbn, SbnConfig, SbnError};
use crate::data::{head, select_rows};
use crate::eval::EvalError;
use crate::eval::images::{self, TileShape};
use crate::events::{Event, EventSink, Recorder};
use crate::rbm::HostDraws;
use crate::rbm::sampling_draws;

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct SbnTrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the work was done.
    pub stopped_early: bool,
    /// Wall-clock seconds (evaluation included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

impl Sbn {
    /// Builds a net with `cfg.layers` hidden layers (weights `N(0, init_sigma²)`, zero biases,
    /// visible biases from the data) and trains it with [`Sbn::train`].
    pub fn fit(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &SbnConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(Sbn, SbnTrainSummary), SbnError> {
        cfg.validate()?;
        let device = data.device();
        let mut sbn = Sbn::new(
            data.dims()[1],
            &cfg.layers,
            cfg.init_sigma,
            &device,
            &mut HostDraws::new(seed),
        )?;
        sbn.init_visible_bias_from_data(data)?;
        let summary = sbn.train(data, valid, cfg, sink, seed)?;
        Ok((sbn, summary))
    }

    /// Trains this net on `data` ([examples, visible], on its device) by wake-sleep for
    /// `cfg.epochs` epochs. `cfg.layers` must match the net's hidden layers. Emits the metrics
    /// and artifacts of the module doc and `Progress { stage: "sbn" }` per epoch.
    pub fn train(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &SbnConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<SbnTrainSummary, SbnError> {
        cfg.validate()?;
        self.check_columns("the training data", data)?;
        let valid = valid.filter(|v| v.dims()[0] > 0);
        if let Some(v) = valid {
            self.check_columns("the validation data", v)?;
        }
        if cfg.layers != self.sizes()[1..] {
            return Err(SbnError::Config(format!(
                "layers is {:?} but the net's hidden layers are {:?}",
                cfg.layers,
                &self.sizes()[1..]
            )));
        }
        let n = data.dims()[0];
        if n == 0 {
            return Err(SbnError::EmptyData);
        }
        let started = Instant::now();
        let device = self.device();
        device.seed(seed);
        let mut rec = Recorder {
            sink,
            last: Vec::new(),
        };
        let mut order = HostDraws::new(seed ^ 0x9E37_79B9_7F4A_7C15);
        let mut draws = sampling_draws(&device, seed.wrapping_add(0xD1B5_4A32_D192_ED03));
        let train_eval = head(data, cfg.eval.max_examples);
        let valid_eval = valid.map(|v| head(v, cfg.eval.max_examples));
        let recognition_lr = cfg.recognition_lr();
        let mut epochs_done = 0;
        let mut stopped_early = false;

        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            for rows in order.permutation(n).chunks(cfg.batch_size) {
                let v = select_rows(data, rows);
                self.wake_sleep_step(v, cfg.lr, recognition_lr, cfg.weight_cost, &mut *draws);
            }
            let e = epoch + 1;
            epochs_done = e;
            if let Some(what) = self.first_non_finite() {
                return Err(SbnError::Diverged { epoch: e, what });
            }
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64())?;
            let last = e == cfg.epochs;
            if last || (cfg.eval.every > 0 && e % cfg.eval.every == 0) {
                let eval_seed = seed.wrapping_add(0x94D0_49BB_1331_11EB ^ e as u64);
                match self.evaluate(
                    e,
                    &train_eval,
                    valid_eval.as_ref(),
                    cfg,
                    eval_seed,
                    &mut rec,
                ) {
                    Err(SbnError::Eval(EvalError::Interrupted)) => {
                        stopped_early = true;
                        break;
                    }
                    r => r?,
                }
            }
            let every = cfg.eval.pictures_every;
            if let Some([rows, cols]) = cfg.eval.picture_shape
                && (last || (every > 0 && e % every == 0))
            {
                let pictures_seed = seed.wrapping_add(0xBF58_476D_1CE4_E5B9 ^ e as u64);
                let tile = TileShape { rows, cols };
                self.emit_pictures(e, tile, cfg.eval.fantasies, pictures_seed, rec.sink);
            }
            rec.sink.emit(Event::Progress {
                stage: "sbn".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }
        if cfg.epochs == 0 {
            let eval_seed = seed.wrapping_add(0x94D0_49BB_1331_11EB);
            self.evaluate(
                0,
                &train_eval,
                valid_eval.as_ref(),
                cfg,
                eval_seed,
                &mut rec,
            )?;
        }
        Ok(SbnTrainSummary {
            epochs: epochs_done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    /// Fantasies (up to `fantasies` top-down samples from the prior, drawn as their visible
    /// probabilities p(v | h¹)) and the generative weights of up to 100 units of h¹, as
    /// `samples` and `filters` pictures.
    fn emit_pictures(
        &self,
        epoch: usize,
        tile: TileShape,
        fantasies: usize,
        seed: u64,
        sink: &mut dyn EventSink,
    ) {
        if tile.rows * tile.cols != self.visible() {
            return;
        }
        let mut draws = sampling_draws(&self.device(), seed);
        let states = self.fantasize(fantasies, &mut *draws);
        let visible = self.generative_probs(0, states[1].clone());
        let samples = images::probabilities_png(&visible, tile);
        let filters = images::weights_png(&self.generative[0].clone().transpose(), tile, 100);
        for (kind, bytes) in [("samples", samples), ("filters", filters)] {
            sink.emit(Event::Artifact {
                kind: kind.into(),
                name: format!("sbn_{kind}_epoch{epoch}.png"),
                step: Some(epoch as u64),
                bytes,
            });
        }
    }

    fn evaluate(
        &self,
        epoch: usize,
        train: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &SbnConfig,
        seed: u64,
        rec: &mut Recorder<'_>,
    ) -> Result<(), SbnError> {
        let ec = &cfg.eval;
        let mut draws = sampling_draws(&self.device(), seed);
        let sets = [("", Some(train)), ("_valid", valid)];
        for (suffix, data) in sets {
            let Some(data) = data else { continue };
            let keep_going = || rec.sink.keep_going();
            let is = self.importance_sampling_while(
                data,
                ec.importance_samples,
                &mut *draws,
                &keep_going,
            )?;
            rec.metric(
                &format!("is_loglik{suffix}"),
                epoch,
                is.mean_log_likelihood(),
            )?;
            let se = is.mean_log_likelihood_se();
            rec.metric(&format!("is_loglik_se{suffix}"), epoch, se)?;
            rec.metric(&format!("bound{suffix}"), epoch, is.mean_bound())?;
            rec.metric(&format!("bound_se{suffix}"), epoch, is.mean_bound_se())?;
            if ec.exact && self.is_enumerable(ec.exact_max_units) {
                let keep_going = || rec.sink.keep_going();
                let exact = self.exact_evaluation_while(data, ec.exact_max_units, &keep_going)?;
                let ll = exact.mean_log_likelihood();
                rec.metric(&format!("exact_loglik{suffix}"), epoch, ll)?;
                rec.metric(&format!("exact_bound{suffix}"), epoch, exact.mean_bound())?;
                rec.metric(&format!("exact_kl{suffix}"), epoch, exact.mean_kl())?;
            }
        }
        Ok(())
    }
}
