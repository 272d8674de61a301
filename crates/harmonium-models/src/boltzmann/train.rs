//! The training loop of a Boltzmann machine: epochs of mini-batch updates ([`super::learn`]),
//! evaluation every few epochs, and progress events. A stop request (`sink.keep_going()` false)
//! is honoured at every epoch boundary; a non-finite parameter or metric is
//! [`BoltzmannError::Diverged`] naming the epoch.
//!
//! Metrics, at step = epoch: `epoch_seconds`, `lr`, `momentum`, `mean_abs_dw` (the mean |ΔW| over
//! the connections and the epoch's updates), `mean_abs_weight`; on evaluated epochs, for machines
//! small enough to enumerate, `exact_loglik` (mean nats per example: log p(v), or log p(y | x) for
//! a conditional machine), `exact_kl` (the KL divergence of the model from the data's empirical
//! distribution, `−H(data) − exact_loglik`), `exact_log_z` (ordinary machines), and
//! `exact_loglik_valid`, `exact_kl_valid` with validation data. After the last epoch of a
//! conditional machine with at most 4 outputs: the [`super::OutputDistributions`] metrics
//! (`data_p_11`, `bm_p_11`, `product_p_11`, …, `bm_kl`, `product_kl`) and an `outputs` picture
//! `boltzmann_outputs_epoch{E}.png`; with `eval.picture_shape`, a `samples` picture
//! `boltzmann_samples_epoch{E}.png` of the free-phase chains' visible states.

use std::time::Instant;

use burn::tensor::Tensor;

use super::exact::empirical_entropy;
use super::{Boltzmann, BoltzmannConfig, BoltzmannError, BoltzmannLearner, OutputDistributions};
use crate::data::select_rows;
use crate::eval::images::{self, TileShape};
use crate::events::{Event, EventSink, Recorder};
use crate::rbm::HostDraws;
use crate::rbm::sampling_draws;

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct BoltzmannTrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the work was done.
    pub stopped_early: bool,
    /// Wall-clock seconds (evaluation included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

/// A picture of `epoch`, named after its kind.
fn artifact(sink: &mut dyn EventSink, kind: &str, epoch: usize, bytes: Vec<u8>) {
    sink.emit(Event::Artifact {
        kind: kind.into(),
        name: format!("boltzmann_{kind}_epoch{epoch}.png"),
        step: Some(epoch as u64),
        bytes,
    });
}

impl Boltzmann {
    /// Builds a machine for `data` ([examples, visible], inputs first) as `cfg` says (weights
    /// `N(0, init_sigma²)` on the connections, hidden biases 0, visible biases from the data) and
    /// trains it with [`Boltzmann::train`].
    pub fn fit(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &BoltzmannConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(Boltzmann, BoltzmannTrainSummary), BoltzmannError> {
        cfg.validate()?;
        let device = data.device();
        let mut model = Boltzmann::new(data.dims()[1], cfg, &device, &mut HostDraws::new(seed))?;
        model.init_visible_bias_from_data(data)?;
        let summary = model.train(data, valid, cfg, sink, seed)?;
        Ok((model, summary))
    }

    /// Trains this machine on `data` ([examples, visible], on its device) for `cfg.epochs`
    /// epochs; `cfg.hidden` and `cfg.inputs` must match the machine. Emits the metrics of the
    /// module doc and `Progress { stage: "boltzmann" }` per epoch.
    pub fn train(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &BoltzmannConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<BoltzmannTrainSummary, BoltzmannError> {
        cfg.validate()?;
        self.check_columns("the training data", data)?;
        let valid = valid.filter(|v| v.dims()[0] > 0);
        if let Some(v) = valid {
            self.check_columns("the validation data", v)?;
        }
        if (cfg.hidden, cfg.inputs) != (self.hidden(), self.inputs()) {
            return Err(BoltzmannError::Config(format!(
                "hidden: {} and inputs: {} do not match the machine's {} hidden units and {} \
                 inputs",
                cfg.hidden,
                cfg.inputs,
                self.hidden(),
                self.inputs()
            )));
        }
        let n = data.dims()[0];
        if n == 0 {
            return Err(BoltzmannError::EmptyData);
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
        let mut learner = BoltzmannLearner::new(self, cfg, &mut *draws);
        let mut epochs_done = 0;
        let mut stopped_early = false;

        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            let momentum = cfg.momentum.at(epoch);
            let lr = cfg.lr_at(epoch);
            let perm = order.permutation(n);
            let mut dw_sum = 0.0;
            let batches = perm.chunks(cfg.batch_size).len();
            for rows in perm.chunks(cfg.batch_size) {
                let v = select_rows(data, rows);
                dw_sum += learner.step(self, v, cfg, lr, momentum, &mut *draws);
            }
            let e = epoch + 1;
            epochs_done = e;
            if let Some(what) = self.first_non_finite() {
                return Err(BoltzmannError::Diverged { epoch: e, what });
            }
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64())?;
            rec.metric("lr", e, lr)?;
            rec.metric("momentum", e, momentum)?;
            rec.metric("mean_abs_dw", e, dw_sum / batches as f64)?;
            rec.metric("mean_abs_weight", e, self.mean_abs_weight())?;
            let last = e == cfg.epochs;
            if last || (cfg.eval.every > 0 && e % cfg.eval.every == 0) {
                self.evaluate(e, data, valid, cfg, &mut rec)?;
            }
            rec.sink.emit(Event::Progress {
                stage: "boltzmann".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }
        if cfg.epochs == 0 {
            self.evaluate(0, data, valid, cfg, &mut rec)?;
        }
        if !stopped_early && epochs_done > 0 {
            self.emit_pictures(epochs_done, data, cfg, &learner, &mut rec)?;
        }
        Ok(BoltzmannTrainSummary {
            epochs: epochs_done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    /// The mean |W_ij| over the connections.
    pub fn mean_abs_weight(&self) -> f64 {
        let connections = self.connection_count();
        if connections == 0 {
            return 0.0;
        }
        self.weights.clone().abs().sum().into_scalar::<f32>() as f64 / (2 * connections) as f64
    }

    fn evaluate(
        &self,
        epoch: usize,
        train: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &BoltzmannConfig,
        rec: &mut Recorder<'_>,
    ) -> Result<(), BoltzmannError> {
        let max = cfg.eval.exact_max_units;
        if !cfg.eval.exact || !self.loglik_is_enumerable(max) {
            return Ok(());
        }
        if self.inputs() == 0 {
            rec.metric("exact_log_z", epoch, self.exact_log_partition(max)?)?;
        }
        for (data, suffix) in [(Some(train), ""), (valid, "_valid")] {
            let Some(data) = data else { continue };
            let ll = self.exact_mean_loglik(data, max)?;
            rec.metric(&format!("exact_loglik{suffix}"), epoch, ll)?;
            let kl = -empirical_entropy(data, self.inputs()) - ll;
            rec.metric(&format!("exact_kl{suffix}"), epoch, kl)?;
        }
        Ok(())
    }

    fn emit_pictures(
        &self,
        epoch: usize,
        data: &Tensor<2>,
        cfg: &BoltzmannConfig,
        learner: &BoltzmannLearner,
        rec: &mut Recorder<'_>,
    ) -> Result<(), BoltzmannError> {
        let max = cfg.eval.exact_max_units;
        if cfg.eval.output_distributions
            && self.inputs() > 0
            && self.outputs() <= 4
            && self.loglik_is_enumerable(max)
        {
            let dists = OutputDistributions::of(self, data, max)?;
            for (key, value) in dists.metrics() {
                rec.metric(&key, epoch, value)?;
            }
            artifact(rec.sink, "outputs", epoch, dists.bars_png());
        }
        if let (Some([rows, cols]), Some(chains)) = (cfg.eval.picture_shape, &learner.last_free)
            && rows * cols == self.visible()
        {
            let shown = chains.dims()[0].min(100);
            let visible = chains
                .clone()
                .narrow(0, 0, shown)
                .narrow(1, 0, self.visible());
            artifact(
                rec.sink,
                "samples",
                epoch,
                images::probabilities_png(&visible, TileShape { rows, cols }),
            );
        }
        Ok(())
    }
}
