//! Fine-tuning the unrolled autoencoder by backprop ([`super::deep`]'s loss): mini-batches in a
//! seeded random order each epoch, the gradient from burn's autodiff, and SGD with classic
//! momentum and an L2 weight decay on the weights (not the biases):
//!
//! ```text
//! g ← ∂E/∂θ + λ θ   (λ = 0 for biases)        Δθ ← μ Δθ + g        θ ← θ − ε Δθ
//! ```
//!
//! (burn's `Sgd` with undampened momentum, the decay added to the gradients beforehand).
//!
//! Metrics, at step = epoch, with step 0 before the first update: `train_loss` (the loss per
//! image), `train_recon_error`, `valid_recon_error`, `test_recon_error` (the mean summed squared
//! error per image, each on at most `eval.max_examples` examples of its set, the last two when
//! the set is given) and, from epoch 1, `epoch_seconds`; `Progress { stage: "autoencoder" }` per
//! epoch. A non-finite metric is [`DeepAutoencoderError::Diverged`] naming the epoch; a stop
//! request is honoured at every epoch boundary.
//!
//! Pictures, before fine-tuning (e = 0), every `eval.pictures_every` epochs and after the last:
//! with `eval.picture_shape`, `reconstructions` `autoencoder_reconstructions_epoch{e}.png` of the
//! test set (else the validation set, else the training set); for a 2-unit code with the test
//! labels given, `code_map` `autoencoder_code_map_epoch{e}.png` (every test code).

use std::time::Instant;

use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::Tensor;

use super::code_rbm::check_binary_range;
use super::deep_pictures::{code_map_png, reconstructions_png};
use super::deep_record::DeepTrainSummary;
use super::deep_stack::StackLayer;
use super::{AutoencoderInit, DeepAutoencoder, DeepAutoencoderConfig, DeepAutoencoderError};
use crate::data::head;
use crate::data::select_rows;
use crate::eval::images::TileShape;
use crate::events::Recorder;
use crate::events::{Event, EventSink};
use crate::rbm::HostDraws;

/// The data of a fine-tuning run, on the plain (non-autodiff) device, values in [0, 1].
#[derive(Debug, Clone, Copy)]
pub struct AutoencoderData<'a> {
    pub train: &'a Tensor<2>,
    pub valid: Option<&'a Tensor<2>>,
    pub test: Option<&'a Tensor<2>>,
    /// The test set's class labels, for the code map.
    pub test_labels: Option<&'a [u32]>,
}

impl DeepAutoencoder {
    /// Builds the net as `cfg.init` says (the unrolled `stack`, which `pretrained` needs, or
    /// random weights seeded with `seed`) and fine-tunes it ([`DeepAutoencoder::fine_tune`]).
    pub fn fit(
        stack: Option<&[StackLayer]>,
        data: &AutoencoderData,
        cfg: &DeepAutoencoderConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(DeepAutoencoder, DeepTrainSummary), DeepAutoencoderError> {
        let input = data.train.dims()[1];
        cfg.validate_for(input)?;
        let model = match (cfg.init, stack) {
            (AutoencoderInit::Pretrained, Some(stack)) => DeepAutoencoder::unroll(stack)?,
            (AutoencoderInit::Pretrained, None) => {
                return Err(DeepAutoencoderError::Config(
                    "init: pretrained needs a pretrained stack to unroll".into(),
                ));
            }
            (AutoencoderInit::Random, _) => DeepAutoencoder::random(
                input,
                &cfg.layers,
                cfg.init_std,
                seed,
                &data.train.device(),
            )?,
        };
        model.fine_tune(data, cfg, sink, seed)
    }

    /// Fine-tunes this net by backprop for `cfg.epochs` epochs (module doc); returns it on the
    /// plain device with the run's summary. `cfg.layers` must be the net's layers above the
    /// input.
    pub fn fine_tune(
        self,
        data: &AutoencoderData,
        cfg: &DeepAutoencoderConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(DeepAutoencoder, DeepTrainSummary), DeepAutoencoderError> {
        let input = self.input();
        cfg.validate_for(input)?;
        if cfg.layers != self.sizes()[1..] {
            return Err(DeepAutoencoderError::Config(format!(
                "layers is {:?} but the net's layers above the input are {:?}",
                cfg.layers,
                &self.sizes()[1..]
            )));
        }
        let sets = [
            ("the training data", Some(data.train)),
            ("the validation data", data.valid),
            ("the test data", data.test),
        ];
        for (what, set) in sets {
            if let Some(set) = set {
                if set.dims()[1] != input {
                    return Err(DeepAutoencoderError::Shape {
                        what: format!("{what}'s columns (the autoencoder's input)"),
                        expected: input,
                        got: set.dims()[1],
                    });
                }
                check_binary_range(what, set)?;
            }
        }
        if let (Some(test), Some(labels)) = (data.test, data.test_labels)
            && labels.len() != test.dims()[0]
        {
            return Err(DeepAutoencoderError::Shape {
                what: "test_labels (one per test example)".into(),
                expected: test.dims()[0],
                got: labels.len(),
            });
        }
        let n = data.train.dims()[0];
        if n == 0 {
            return Err(DeepAutoencoderError::EmptyData);
        }
        let started = Instant::now();
        let plain = data.train.device();
        let ad = plain.clone().autodiff();
        let mut rec = Recorder::new(sink);
        let evals = EvalSets::new(data, cfg.eval.max_examples);

        evals.record(&self, cfg, 0, &mut rec)?;
        let initial_metrics = rec.last.clone();
        emit_pictures(&self, data, cfg, 0, rec.sink)?;

        let mut model = self.train().fork(&ad);
        let mut optim = SgdConfig::new()
            .with_momentum((cfg.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(cfg.momentum)
                    .with_dampening(0.0)
            }))
            .init();
        let train_x = data.train.clone().to_device(&ad);
        let mut order = HostDraws::new(seed ^ 0x6465_6570_5f6f_7264);
        let mut epochs = 0;
        let mut stopped_early = false;
        for epoch in 1..=cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            for rows in order.permutation(n).chunks(cfg.batch_size) {
                let x = select_rows(&train_x, rows);
                let loss = model.loss(x, cfg.loss);
                let mut grads = GradientsParams::from_grads(loss.backward(), &model);
                if cfg.weight_decay > 0.0 {
                    decay_weights(&model, &mut grads, cfg.weight_decay);
                }
                model = optim.step(cfg.lr, model, grads);
            }
            let seconds = epoch_start.elapsed().as_secs_f64();
            epochs = epoch;
            let current = model.valid();
            evals.record(&current, cfg, epoch, &mut rec)?;
            rec.metric("epoch_seconds", epoch, seconds)?;
            let pictures_now = epoch == cfg.epochs
                || (cfg.eval.pictures_every > 0 && epoch % cfg.eval.pictures_every == 0);
            if pictures_now {
                emit_pictures(&current, data, cfg, epoch, rec.sink)?;
            }
            rec.sink.emit(Event::Progress {
                stage: "autoencoder".into(),
                done: epoch as u64,
                total: cfg.epochs as u64,
            });
        }
        Ok((
            model.valid(),
            DeepTrainSummary {
                epochs,
                stopped_early,
                seconds: started.elapsed().as_secs_f64(),
                initial_metrics,
                final_metrics: rec.last,
            },
        ))
    }
}

/// `g_W ← g_W + λ W` for every weight (encoder and decoder), the biases left alone.
fn decay_weights(model: &DeepAutoencoder, grads: &mut GradientsParams, lambda: f64) {
    for layer in model.encoder.iter().chain(&model.decoder) {
        let id = layer.weight.id;
        if let Some(g) = grads.remove::<2>(id) {
            grads.register(id, g + layer.weight.val().inner().mul_scalar(lambda));
        }
    }
}

/// The heads of the sets the per-epoch errors are measured on.
struct EvalSets {
    train: Tensor<2>,
    valid: Option<Tensor<2>>,
    test: Option<Tensor<2>>,
}

impl EvalSets {
    fn new(data: &AutoencoderData, max: usize) -> EvalSets {
        let some = |t: Option<&Tensor<2>>| t.filter(|t| t.dims()[0] > 0).map(|t| head(t, max));
        EvalSets {
            train: head(data.train, max),
            valid: some(data.valid),
            test: some(data.test),
        }
    }

    fn record(
        &self,
        model: &DeepAutoencoder,
        cfg: &DeepAutoencoderConfig,
        epoch: usize,
        rec: &mut Recorder<'_>,
    ) -> Result<(), DeepAutoencoderError> {
        rec.metric("train_loss", epoch, model.mean_loss(&self.train, cfg.loss))?;
        rec.metric("train_recon_error", epoch, model.recon_error(&self.train))?;
        if let Some(v) = &self.valid {
            rec.metric("valid_recon_error", epoch, model.recon_error(v))?;
        }
        if let Some(t) = &self.test {
            rec.metric("test_recon_error", epoch, model.recon_error(t))?;
        }
        Ok(())
    }
}

fn emit_pictures(
    model: &DeepAutoencoder,
    data: &AutoencoderData,
    cfg: &DeepAutoencoderConfig,
    epoch: usize,
    sink: &mut dyn EventSink,
) -> Result<(), DeepAutoencoderError> {
    if let Some([rows, cols]) = cfg.eval.picture_shape {
        let shown = data.test.or(data.valid).unwrap_or(data.train);
        let tile = TileShape { rows, cols };
        sink.emit(Event::Artifact {
            kind: "reconstructions".into(),
            name: format!("autoencoder_reconstructions_epoch{epoch}.png"),
            step: Some(epoch as u64),
            bytes: reconstructions_png(model, shown, tile, cfg.eval.pictures)?,
        });
    }
    if let (2, Some(test), Some(labels)) = (model.code_size(), data.test, data.test_labels) {
        let codes = model.encode(test.clone());
        sink.emit(Event::Artifact {
            kind: "code_map".into(),
            name: format!("autoencoder_code_map_epoch{epoch}.png"),
            step: Some(epoch as u64),
            bytes: code_map_png(&codes, labels, cfg.eval.code_map_size)?,
        });
    }
    Ok(())
}
