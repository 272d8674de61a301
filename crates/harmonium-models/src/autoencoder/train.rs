//! The training loop of one autoencoder layer: epochs of mini-batch SGD with momentum and weight
//! cost ([`super::learn`]) on corrupted inputs ([`super::corruption`]), the metrics of each epoch,
//! pictures, a checkpoint, and progress events. A stop request (`sink.keep_going()` false) is
//! honoured at every epoch boundary; a non-finite parameter or metric is
//! [`AutoencoderError::Diverged`] naming the epoch.
//!
//! Metrics, at step = epoch: `epoch_seconds` (the updates alone), `lr`, `momentum`, `loss` (the
//! mean objective per example over the epoch's mini-batches as trained: corrupted inputs, the
//! reconstruction loss against the clean ones, plus λ‖J‖²_F for `cae`); then on at most
//! `eval.max_examples` clean training examples, no corruption: `recon_error` (the mean summed
//! squared error `Σ_i (r_i − x_i)²` per example), `recon_loss` (the mean reconstruction loss
//! L(x, r(x)): cross-entropy, or ½ squared error) and for `cae` `contractive_penalty` (the mean
//! λ‖∂h/∂x‖²_F); with validation data `recon_error_valid` and `recon_loss_valid`. With
//! `epochs: 0` only these clean-input metrics are emitted, at step 0 (the untrained layer).
//!
//! Artifacts (with `eval.picture_shape`, after the last epoch and every `eval.pictures_every`
//! epochs): `filters` (`{module}_filters_epoch{E}.png`: the columns of W) and `reconstructions`
//! (`{module}_reconstructions_epoch{E}.png`: training examples, their corrupted versions when
//! there is a corruption, and the reconstructions of what the encoder saw). After the last
//! epoch (with `eval.checkpoint`): `checkpoint`, `{module}.safetensors`, the layer as an RBM
//! ([`AutoencoderLayer::to_rbm`], readable by [`crate::rbm::Rbm::from_safetensors`]).
//! Progress: `Progress { stage: "dae" | "cae" }` per epoch.

use std::time::Instant;

use burn::tensor::Tensor;

use super::{
    AutoencoderError, AutoencoderLayer, AutoencoderLayerConfig, Decoder, Increments, SgdStep,
};
use crate::data::{head, select_rows};
use crate::eval::images::{self, Scaling, TileShape};
use crate::eval::mean_over_rows;
use crate::events::{Event, EventSink, Recorder};
use crate::rbm::HostDraws;
use crate::rbm::sampling_draws;

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoencoderTrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the work was done.
    pub stopped_early: bool,
    /// Wall-clock seconds (evaluation included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

fn name_of(d: Decoder) -> &'static str {
    match d {
        Decoder::Sigmoid => "sigmoid",
        Decoder::Linear => "linear",
    }
}

/// A sigmoid decoder's cross-entropy needs targets in [0, 1].
fn check_unit_range(what: &str, x: &Tensor<2>) -> Result<(), AutoencoderError> {
    let (lo, hi) = (
        x.clone().min().into_scalar::<f32>(),
        x.clone().max().into_scalar::<f32>(),
    );
    if lo < 0.0 || hi > 1.0 {
        return Err(AutoencoderError::Config(format!(
            "decoder: a sigmoid decoder's cross-entropy needs inputs in [0, 1], but {what} has \
             values in [{lo}, {hi}]; set `decoder: linear` for real-valued data"
        )));
    }
    Ok(())
}

impl AutoencoderLayer {
    /// Builds a layer for `data` (`W ~ N(0, init_sigma²)` from a host generator seeded with
    /// `seed`, zero hidden biases, decoder biases from the data) and trains it with
    /// [`AutoencoderLayer::train`].
    pub fn fit(
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &AutoencoderLayerConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(AutoencoderLayer, AutoencoderTrainSummary), AutoencoderError> {
        cfg.validate()?;
        let device = data.device();
        let mut layer = AutoencoderLayer::new(
            data.dims()[1],
            cfg.hidden,
            cfg.init_sigma,
            cfg.decoder,
            &device,
            &mut HostDraws::new(seed),
        )?;
        layer.init_visible_bias_from_data(data)?;
        let summary = layer.train(data, valid, cfg, sink, seed)?;
        Ok((layer, summary))
    }

    /// Trains this layer on `data` ([examples, visible], on its device) for `cfg.epochs` epochs.
    /// The example order and (on the CPU) the corruption come from host generators seeded with
    /// `seed`; the device is seeded with `seed` too. Emits the metrics and artifacts of the
    /// module doc; stops at an epoch boundary when `sink.keep_going()` is false.
    pub fn train(
        &mut self,
        data: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        cfg: &AutoencoderLayerConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<AutoencoderTrainSummary, AutoencoderError> {
        cfg.validate()?;
        self.check_columns("the training data", data)?;
        let valid = valid.filter(|v| v.dims()[0] > 0);
        if let Some(v) = valid {
            self.check_columns("the validation data", v)?;
        }
        if cfg.hidden != self.hidden() {
            return Err(AutoencoderError::Config(format!(
                "hidden: {} but the layer has {} hidden units",
                cfg.hidden,
                self.hidden()
            )));
        }
        if cfg.decoder != self.decoder {
            return Err(AutoencoderError::Config(format!(
                "decoder: {} but the layer's decoder is {}",
                name_of(cfg.decoder),
                name_of(self.decoder)
            )));
        }
        let n = data.dims()[0];
        if n == 0 {
            return Err(AutoencoderError::EmptyData);
        }
        if self.decoder == Decoder::Sigmoid {
            check_unit_range("the training data", data)?;
            if let Some(v) = valid {
                check_unit_range("the validation data", v)?;
            }
        }
        let started = Instant::now();
        let device = self.device();
        device.seed(seed);
        let mut rec = Recorder {
            sink,
            last: Vec::new(),
        };
        let corruption = cfg.corruption();
        let contraction = cfg.contraction();
        let mut order = HostDraws::new(seed ^ 0x9E37_79B9_7F4A_7C15);
        let mut draws = sampling_draws(&device, seed.wrapping_add(0xD1B5_4A32_D192_ED03));
        let mut inc = Increments::zeros(self);
        let train_eval = head(data, cfg.eval.max_examples);
        let valid_eval = valid.map(|v| head(v, cfg.eval.max_examples));
        let mut epochs_done = 0;
        let mut stopped_early = false;

        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            let step = SgdStep {
                lr: cfg.lr,
                momentum: cfg.momentum.at(epoch),
                weight_cost: cfg.weight_cost,
            };
            let mut objective = Tensor::<1>::zeros([1], &device);
            for rows in order.permutation(n).chunks(cfg.batch_size) {
                let x = select_rows(data, rows);
                let input = corruption.apply(&x, &mut *draws);
                let g = self.gradients(&x, &input, contraction);
                objective = objective + g.objective_sum();
                step.apply(self, &mut inc, g);
            }
            let loss = objective.into_scalar::<f32>() as f64 / n as f64;
            let e = epoch + 1;
            epochs_done = e;
            if let Some(what) = self.first_non_finite() {
                return Err(AutoencoderError::Diverged { epoch: e, what });
            }
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64())?;
            rec.metric("lr", e, step.lr)?;
            rec.metric("momentum", e, step.momentum)?;
            rec.metric("loss", e, loss)?;
            self.evaluate(e, &train_eval, valid_eval.as_ref(), contraction, &mut rec)?;
            let last = e == cfg.epochs;
            if let Some([rows, cols]) = cfg.eval.picture_shape
                && (last || (cfg.eval.pictures_every > 0 && e % cfg.eval.pictures_every == 0))
            {
                self.emit_pictures(
                    e,
                    TileShape { rows, cols },
                    &train_eval,
                    cfg,
                    seed,
                    rec.sink,
                );
            }
            rec.sink.emit(Event::Progress {
                stage: cfg.module.name().into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }
        if cfg.epochs == 0 {
            self.evaluate(0, &train_eval, valid_eval.as_ref(), contraction, &mut rec)?;
        }
        if !stopped_early && cfg.eval.checkpoint && epochs_done > 0 {
            rec.sink.emit(Event::Artifact {
                kind: "checkpoint".into(),
                name: format!("{}.safetensors", cfg.module.name()),
                step: Some(epochs_done as u64),
                bytes: self.to_rbm().to_safetensors(),
            });
        }
        Ok(AutoencoderTrainSummary {
            epochs: epochs_done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    /// The clean-input metrics of `epoch` (see the module doc).
    fn evaluate(
        &self,
        epoch: usize,
        train: &Tensor<2>,
        valid: Option<&Tensor<2>>,
        contraction: f64,
        rec: &mut Recorder<'_>,
    ) -> Result<(), AutoencoderError> {
        let recon_loss =
            |x: Tensor<2>| self.reconstruction_loss(self.decoder_input(self.encode(x.clone())), x);
        rec.metric(
            "recon_error",
            epoch,
            mean_over_rows(train, |x| self.squared_error(x)),
        )?;
        rec.metric("recon_loss", epoch, mean_over_rows(train, recon_loss))?;
        if contraction > 0.0 {
            let penalty = mean_over_rows(train, |x| self.contraction(x)) * contraction;
            rec.metric("contractive_penalty", epoch, penalty)?;
        }
        if let Some(v) = valid {
            rec.metric(
                "recon_error_valid",
                epoch,
                mean_over_rows(v, |x| self.squared_error(x)),
            )?;
            rec.metric("recon_loss_valid", epoch, mean_over_rows(v, recon_loss))?;
        }
        Ok(())
    }

    /// The `filters` and `reconstructions` pictures of `epoch`. The pictures' corruption has its
    /// own generator, so drawing them changes nothing in training.
    fn emit_pictures(
        &self,
        epoch: usize,
        tile: TileShape,
        train: &Tensor<2>,
        cfg: &AutoencoderLayerConfig,
        seed: u64,
        sink: &mut dyn EventSink,
    ) {
        if tile.rows * tile.cols != self.visible() {
            return;
        }
        let filters = images::weights_png(&self.weights, tile, cfg.eval.picture_filters);
        let x = head(train, 30);
        let corruption = cfg.corruption();
        let mut draws = HostDraws::new(seed ^ (epoch as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        let input = corruption.apply(&x, &mut draws);
        let r = self.reconstruct(input.clone());
        let mut rows = vec![x];
        if !corruption.is_identity() {
            rows.push(input);
        }
        rows.push(r);
        let k = rows.len();
        let n = rows[0].dims()[0];
        // Interleaved: x_0, [x̃_0,] r_0, x_1, ...; five examples to a grid row.
        let grid = Tensor::stack::<3>(rows, 1).reshape([k * n, self.visible()]);
        let scaling = match self.decoder {
            Decoder::Sigmoid => Scaling::Unit,
            Decoder::Linear => Scaling::PerTile,
        };
        let reconstructions = images::encode_png(&images::tile_grid(
            &crate::eval::to_vec(grid),
            tile,
            5 * k,
            scaling,
        ));
        for (kind, bytes) in [("filters", filters), ("reconstructions", reconstructions)] {
            sink.emit(Event::Artifact {
                kind: kind.into(),
                name: format!("{}_{kind}_epoch{epoch}.png", cfg.module.name()),
                step: Some(epoch as u64),
                bytes,
            });
        }
    }
}
