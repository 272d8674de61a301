//! The training loop of a DBM as a whole (§9): epochs of mini-batch updates ([`super::learn`]),
//! evaluation every few epochs, an AIS estimate of log Z after the last epoch, and progress
//! events. A stop request (`sink.keep_going()` false) is honoured at every epoch boundary (and
//! inside AIS and the enumeration); a non-finite parameter or metric is
//! [`DbmError::Diverged`] naming the epoch.
//!
//! Metrics, at step = epoch: `epoch_seconds`, `lr` (of the epoch's first update), `momentum`,
//! `mf_iterations` (mean-field sweeps on the evaluation examples), `mf_free_energy` (the mean
//! variational free energy `−⟨−E_q[E] + H(q)⟩`, the bound before log Z), and for models small
//! enough to enumerate `exact_log_z`, `exact_loglik`, `mf_bound` (and `_valid` versions). After
//! the last epoch, for 2 hidden layers: `ais_log_z`, `ais_log_z_lower`, `ais_log_z_upper`,
//! `ais_effective_runs`, `ais_mf_bound` (and `ais_mf_bound_valid`); then a `checkpoint` artifact
//! `dbm.safetensors` ([`super::checkpoint`]).

use std::time::Instant;

use burn::tensor::Tensor;

use super::{Dbm, DbmConfig, DbmError, DbmLearner};
use crate::data::{head, select_rows};
use crate::eval::EvalError;
use crate::eval::ais::BaseRateModel;
use crate::eval::images::{self, TileShape};
use crate::events::{Event, EventSink, Recorder};
use crate::rbm::sampling_draws;
use crate::rbm::{HostDraws, VisibleType};

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct DbmTrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the work was done.
    pub stopped_early: bool,
    /// Wall-clock seconds (evaluation included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

fn name_of(v: VisibleType) -> &'static str {
    match v {
        VisibleType::Binary => "binary",
        VisibleType::Gaussian => "gaussian",
    }
}

impl Dbm {
    /// Builds a DBM with `cfg.layers` hidden layers (`W ~ N(0, init_sigma²)`, zero hidden
    /// biases, visible biases from the data) and trains it with [`Dbm::train`].
    pub fn fit(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &DbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(Dbm, DbmTrainSummary), DbmError> {
        cfg.validate()?;
        let device = data.device();
        let mut dbm = Dbm::new(
            data.dims()[1],
            &cfg.layers,
            cfg.init_sigma,
            &device,
            &mut HostDraws::new(seed),
        )?
        .with_visible(cfg.visible);
        dbm.init_visible_bias_from_data(data)?;
        let summary = dbm.train(data, valid, cfg, sink, seed)?;
        Ok((dbm, summary))
    }

    /// Trains this DBM (e.g. one composed from pretrained RBMs) on `data` ([examples, visible],
    /// on its device) for `cfg.epochs` epochs. `cfg.layers` must match the DBM's hidden layers.
    /// Emits the metrics of the module doc and `Progress { stage: "dbm" }` per epoch.
    pub fn train(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &DbmConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<DbmTrainSummary, DbmError> {
        cfg.validate()?;
        self.check_columns("the training data", data)?;
        let valid = valid.filter(|v| v.dims()[0] > 0);
        if let Some(v) = valid {
            self.check_columns("the validation data", v)?;
        }
        if cfg.layers != self.sizes()[1..] {
            return Err(DbmError::Config(format!(
                "layers is {:?} but the DBM's hidden layers are {:?}",
                cfg.layers,
                &self.sizes()[1..]
            )));
        }
        if cfg.visible != self.visible_type {
            return Err(DbmError::Config(format!(
                "visible is {} but the DBM's visible units are {}",
                name_of(cfg.visible),
                name_of(self.visible_type)
            )));
        }
        let n = data.dims()[0];
        if n == 0 {
            return Err(DbmError::EmptyData);
        }
        if !self.is_gaussian() {
            let (lo, hi) = (
                data.clone().min().into_scalar::<f32>(),
                data.clone().max().into_scalar::<f32>(),
            );
            if lo < 0.0 || hi > 1.0 {
                return Err(DbmError::Config(format!(
                    "visible: the DBM's visible units are binary but the training data has \
                     values in [{lo}, {hi}], outside [0, 1]; set `visible: gaussian` for \
                     real-valued data standardised per dimension"
                )));
            }
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
        let mut learner = DbmLearner::new(self, cfg.chains, &mut *draws);
        let train_eval = head(data, cfg.eval.max_examples);
        let valid_eval = valid.map(|v| head(v, cfg.eval.max_examples));
        let batches = n.div_ceil(cfg.batch_size);
        let total_updates = batches * cfg.epochs;
        let mut epochs_done = 0;
        let mut stopped_early = false;

        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            let momentum = cfg.momentum.at(epoch);
            let perm = order.permutation(n);
            for (b, rows) in perm.chunks(cfg.batch_size).enumerate() {
                let v = select_rows(data, rows);
                let lr = cfg.lr_at(epoch * batches + b, total_updates);
                learner.step(
                    self,
                    v,
                    &cfg.mean_field,
                    cfg.gibbs_steps,
                    lr,
                    momentum,
                    cfg.weight_cost,
                    &mut *draws,
                );
            }
            let e = epoch + 1;
            epochs_done = e;
            if let Some(what) = self.first_non_finite() {
                return Err(DbmError::Diverged { epoch: e, what });
            }
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64())?;
            rec.metric("lr", e, cfg.lr_at(epoch * batches, total_updates))?;
            rec.metric("momentum", e, momentum)?;
            let last = e == cfg.epochs;
            if last || (cfg.eval.every > 0 && e % cfg.eval.every == 0) {
                match self.evaluate(e, &train_eval, valid_eval.as_ref(), cfg, &mut rec) {
                    Err(DbmError::Eval(EvalError::Interrupted)) => {
                        stopped_early = true;
                        break;
                    }
                    r => r?,
                }
            }
            if !last
                && cfg.eval.pictures_every > 0
                && e % cfg.eval.pictures_every == 0
                && let Some([rows, cols]) = cfg.eval.picture_shape
            {
                self.emit_pictures(e, TileShape { rows, cols }, &learner, rec.sink);
            }
            rec.sink.emit(Event::Progress {
                stage: "dbm".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }
        if cfg.epochs == 0 {
            self.evaluate(0, &train_eval, valid_eval.as_ref(), cfg, &mut rec)?;
        }
        if !stopped_early
            && let Some(ais) = &cfg.eval.ais
            && ais.at_end
            && self.hidden_layers() == 2
        {
            let base = BaseRateModel::fit(data);
            let mut ais_draws = sampling_draws(&device, seed.wrapping_add(0x94D0_49BB_1331_11EB));
            let keep_going = || rec.sink.keep_going();
            match self.ais_log_partition_while(
                &base,
                ais.runs,
                ais.betas,
                &mut *ais_draws,
                &keep_going,
            ) {
                Err(DbmError::Eval(EvalError::Interrupted)) => stopped_early = true,
                Err(e) => return Err(e),
                Ok(est) => {
                    let e = epochs_done;
                    rec.metric("ais_log_z", e, est.log_z)?;
                    if est.log_z_lower.is_finite() {
                        rec.metric("ais_log_z_lower", e, est.log_z_lower)?;
                    }
                    rec.metric("ais_log_z_upper", e, est.log_z_upper)?;
                    rec.metric("ais_effective_runs", e, est.effective_runs)?;
                    let bound = self.mean_unnormalized_bound(&train_eval, &cfg.mean_field);
                    rec.metric("ais_mf_bound", e, bound - est.log_z)?;
                    if let Some(v) = &valid_eval {
                        let bound = self.mean_unnormalized_bound(v, &cfg.mean_field);
                        rec.metric("ais_mf_bound_valid", e, bound - est.log_z)?;
                    }
                }
            }
        }
        if !stopped_early
            && epochs_done > 0
            && let Some([rows, cols]) = cfg.eval.picture_shape
        {
            self.emit_pictures(epochs_done, TileShape { rows, cols }, &learner, rec.sink);
        }
        if !stopped_early && cfg.eval.checkpoint && epochs_done > 0 {
            rec.sink.emit(Event::Artifact {
                kind: "checkpoint".into(),
                name: "dbm.safetensors".into(),
                step: Some(epochs_done as u64),
                bytes: self.to_safetensors(),
            });
        }
        Ok(DbmTrainSummary {
            epochs: epochs_done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    /// The first-layer filters (the incoming weights of up to 100 units of h¹, each stretched
    /// to its own range) and the persistent chains' visible probabilities `p(v | h¹)` (up to
    /// 100), as `filters` and `samples` pictures.
    fn emit_pictures(
        &self,
        epoch: usize,
        tile: TileShape,
        learner: &DbmLearner,
        sink: &mut dyn EventSink,
    ) {
        if tile.rows * tile.cols != self.visible() {
            return;
        }
        let filters = images::weights_png(&self.weights[0], tile, 100);
        let chains = learner.chains[0].dims()[0].min(100);
        let visible = self.layer_probs(0, &learner.chains).narrow(0, 0, chains);
        let samples = images::probabilities_png(&visible, tile);
        for (kind, bytes) in [("filters", filters), ("samples", samples)] {
            sink.emit(Event::Artifact {
                kind: kind.into(),
                name: format!("dbm_{kind}_epoch{epoch}.png"),
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
        cfg: &DbmConfig,
        rec: &mut Recorder<'_>,
    ) -> Result<(), DbmError> {
        let (bound, sweeps) = self.mean_unnormalized_bound_and_sweeps(train, &cfg.mean_field);
        rec.metric("mf_iterations", epoch, sweeps)?;
        rec.metric("mf_free_energy", epoch, -bound)?;
        let ec = &cfg.eval;
        if ec.exact && self.is_enumerable(ec.exact_max_units) {
            let keep_going = || rec.sink.keep_going();
            let log_z = self.exact_log_partition_while(ec.exact_max_units, &keep_going)?;
            rec.metric("exact_log_z", epoch, log_z)?;
            if let Ok(ll) = self.exact_mean_log_likelihood(train, log_z, ec.exact_max_units) {
                rec.metric("exact_loglik", epoch, ll)?;
            }
            rec.metric("mf_bound", epoch, bound - log_z)?;
            if let Some(v) = valid {
                if let Ok(ll) = self.exact_mean_log_likelihood(v, log_z, ec.exact_max_units) {
                    rec.metric("exact_loglik_valid", epoch, ll)?;
                }
                let bound = self.mean_unnormalized_bound(v, &cfg.mean_field);
                rec.metric("mf_bound_valid", epoch, bound - log_z)?;
            }
        }
        Ok(())
    }
}
