//! Backprop training with early stopping on the validation error. On the CPU every mini-batch
//! and every evaluation runs as two halves side by side ([`super::halves`]); with SGD, each
//! half's gradients come from backprop written out ([`super::backprop`]) instead of autodiff,
//! and the weights are updated in one pass ([`super::update`]).

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::halves::Halves;
use super::resume::{self, STATE_KEY, Standing};
use super::update::FusedSgd;
use super::{Mlp, MlpConfig, Optimizer, evaluate};
use crate::data::Labelled;
use crate::events::{Event, EventSink};

/// Data for supervised training, on the plain (non-autodiff) device.
pub struct Splits<'a> {
    pub train: &'a Labelled,
    pub valid: &'a Labelled,
    pub test: &'a Labelled,
}

/// What training ended with: the parameters of the best validation epoch and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpSummary {
    pub best_epoch: usize,
    pub best_valid_error: f64,
    pub best_test_error: f64,
    pub epochs_run: usize,
    pub stopped_early: bool,
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MlpError {
    #[error("invalid mlp config: {0}")]
    Config(String),
    #[error("training diverged at epoch {epoch}: {what} is not finite (try a smaller lr)")]
    Diverged { epoch: usize, what: String },
    #[error(transparent)]
    State(#[from] crate::resume::StateError),
}

/// Trains `model` by backprop. Emits per-epoch `train_loss`, `train_error`, `valid_loss`,
/// `valid_error`, `test_loss`, `test_error`, `lr`, and at the end `best_epoch`,
/// `best_valid_error`, `best_test_error`. Returns the best-validation model.
pub fn train(
    model: Mlp,
    data: &Splits,
    cfg: &MlpConfig,
    seed: u64,
    stage: &str,
    sink: &mut dyn EventSink,
) -> Result<(Mlp, MlpSummary), MlpError> {
    cfg.validate().map_err(MlpError::Config)?;
    let plain = data.train.x.device();
    let ad = plain.clone().autodiff();
    let n = data.train.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7368_7566_666c_6521);
    // A killed attempt's last whole epoch, when this run continues one.
    let (saved, record) = match sink.resume_state(STATE_KEY) {
        Some(bytes) => {
            let (s, r) = resume::read(&bytes)?;
            (Some(s), r)
        }
        None => (None, None),
    };
    let (model, mut standing) = match &saved {
        Some(s) if record.is_some() => {
            let (net, standing) = resume::restore(s, &model, &mut rng)?;
            (resume::restore_ids(s, net)?, standing)
        }
        Some(s) => resume::restore(s, &model, &mut rng)?,
        None => (
            model,
            Standing {
                epochs: 0,
                lr: cfg.lr,
                since_best: 0,
                best: None,
                order: (0..n as i64).collect(),
            },
        ),
    };
    let mut model = model.train().fork(&ad);
    let mut optim = match cfg.optimizer {
        Optimizer::Sgd => SgdConfig::new()
            .with_momentum((cfg.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(cfg.momentum)
                    .with_dampening(0.0)
            }))
            .with_weight_decay(
                (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32)),
            )
            .init(),
        Optimizer::Adam => AdamConfig::new()
            .with_weight_decay(
                (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32)),
            )
            .init(),
    };
    let ce = CrossEntropyLossConfig::new().init(&ad);
    // On the CPU each mini-batch (and each evaluation) runs as two halves side by side.
    let halves = (plain == Device::flex()).then(Halves::new).flatten();
    // …and SGD updates the weights in one pass on both cores.
    let mut fused = (halves.is_some() && cfg.optimizer == Optimizer::Sgd)
        .then(|| FusedSgd::new(cfg.momentum, cfg.weight_decay));
    match (&saved, &mut fused, record) {
        (Some(s), Some(fused), None) => resume::restore_velocity(s, &model, fused)?,
        (Some(_), None, Some(record)) => optim = optim.load_record(record),
        (Some(_), Some(_), Some(_)) | (Some(_), None, None) => {
            return Err(crate::resume::StateError::new(
                "the saved fine-tuning state was written by the other update path (the CPU's \
                 fused SGD, or burn's optimizer on another device or with Adam): continue it \
                 with the same optimizer and device, or start over with --restart",
            )
            .into());
        }
        (None, _, _) => {}
    }
    let mut summary = MlpSummary {
        best_epoch: 0,
        best_valid_error: f64::NAN,
        best_test_error: f64::NAN,
        epochs_run: standing.epochs,
        stopped_early: false,
        interrupted: false,
    };
    // A resumed training that had already stopped early is done.
    let done = cfg
        .patience
        .is_some_and(|p| standing.epochs > 0 && standing.since_best >= p);
    summary.stopped_early = done;
    let first = if done {
        cfg.epochs + 1
    } else {
        standing.epochs + 1
    };
    for epoch in first..=cfg.epochs {
        if !sink.keep_going() {
            summary.interrupted = true;
            break;
        }
        let lr = standing.lr;
        standing.order.shuffle(&mut rng);
        // The mini-batches are taken on the plain device: burn's autodiff keeps a graph entry
        // for every operation on its tensors, tracked or not, until a backward pass, and the
        // fused path never runs one.
        let perm =
            Tensor::<1, Int>::from_data(TensorData::new(standing.order.clone(), [n]), &plain);
        let mut start = 0;
        while start < n {
            let len = cfg.batch_size.min(n - start);
            let idx = perm.clone().narrow(0, start, len);
            let x = data.train.x.clone().select(0, idx.clone());
            let y = data.train.y.clone().select(0, idx);
            model = match (&halves, &mut fused) {
                (Some(h), Some(fused)) if len >= 2 => {
                    let mut grads = h.written_out_halves(&model, x, y, cfg.activation);
                    fused.step(lr, model, &mut grads)
                }
                (Some(h), None) if len >= 2 => {
                    let (x, y) = (x.to_device(&ad), y.to_device(&ad));
                    let grads = h.gradients(&model, x, y, cfg.activation, &ce);
                    optim.step(lr, model, grads)
                }
                (_, fused) => {
                    let (x, y) = (x.to_device(&ad), y.to_device(&ad));
                    // The fused update leaves the parameters untracked (see `update`).
                    let model = match fused {
                        Some(_) => model.into_leaves(),
                        None => model,
                    };
                    let loss = ce.forward(model.forward(x, cfg.activation), y);
                    let grads = GradientsParams::from_grads(loss.backward(), &model);
                    match fused {
                        Some(fused) => fused.step(lr, model, &mut [grads]),
                        None => optim.step(lr, model, grads),
                    }
                }
            };
            start += len;
        }
        let valid_model = model.valid();
        let eval = |set: &Labelled| match &halves {
            Some(h) => h.evaluate(&valid_model, set, cfg.activation),
            None => evaluate(&valid_model, set, cfg.activation),
        };
        let (train_loss, train_error) = eval(data.train);
        let (valid_loss, valid_error) = eval(data.valid);
        let (test_loss, test_error) = eval(data.test);
        if !train_loss.is_finite() {
            return Err(MlpError::Diverged {
                epoch,
                what: "the training loss".into(),
            });
        }
        let step = epoch as u64;
        for (k, v) in [
            ("train_loss", train_loss),
            ("train_error", train_error),
            ("valid_loss", valid_loss),
            ("valid_error", valid_error),
            ("test_loss", test_loss),
            ("test_error", test_error),
            ("lr", lr),
        ] {
            sink.metric(k, step, v);
        }
        sink.emit(Event::Progress {
            stage: stage.into(),
            done: step,
            total: cfg.epochs as u64,
        });
        summary.epochs_run = epoch;
        standing.epochs = epoch;
        if standing.best.as_ref().is_none_or(|b| valid_error < b.1) {
            standing.best = Some((epoch, valid_error, test_error, valid_model.clone()));
            standing.since_best = 0;
        } else {
            standing.since_best += 1;
        }
        let stop = cfg.patience.is_some_and(|p| standing.since_best >= p);
        if !stop {
            standing.lr *= cfg.lr_decay;
        }
        if sink.keeps_state() {
            let state = match fused.as_ref() {
                Some(fused) => resume::save(&standing, &valid_model, fused, &rng).to_bytes(),
                None => {
                    resume::save_with_optimizer(&standing, &valid_model, optim.to_record(), &rng)?
                }
            };
            sink.save_state(STATE_KEY, state);
        }
        if stop {
            summary.stopped_early = true;
            break;
        }
    }
    let last = summary.epochs_run as u64;
    let model = match standing.best {
        Some((epoch, valid_error, test_error, m)) => {
            summary.best_epoch = epoch;
            summary.best_valid_error = valid_error;
            summary.best_test_error = test_error;
            sink.metric("best_epoch", last, epoch as f64);
            sink.metric("best_valid_error", last, valid_error);
            sink.metric("best_test_error", last, test_error);
            m
        }
        None => model.valid(),
    };
    Ok((model, summary))
}
