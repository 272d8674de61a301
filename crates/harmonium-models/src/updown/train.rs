//! The up-down training loop: epochs of mini-batch updates ([`super::up_down`]), evaluation
//! every few epochs, fantasies pictures, and progress events. A stop request
//! (`sink.keep_going()` false) is honoured at every epoch boundary and inside the fantasies'
//! Gibbs chains; a non-finite parameter or metric is [`UpDownError::Diverged`] naming the epoch.
//!
//! Metrics, at step = epoch: `epoch_seconds`, `lr`, `momentum`; on evaluation epochs
//! `train_error`, `valid_error` and `test_error` (free-energy classification error, fractions,
//! on at most `eval.max_examples` examples of each split given), `top_recon_error` (the
//! associative memory's reconstruction error of the penultimate recognition probabilities,
//! labels clamped) and `updown_recon_error` (squared error per example of the visible
//! reconstruction after a deterministic up-pass and down-pass). With `eval.picture_shape`: a PNG
//! artifact of kind `fantasies`, `fantasies_epoch{e}.png` at step e, one row per class, every
//! `eval.fantasy_every` epochs and after the last. `Progress { stage: "updown" }` per epoch.

use std::time::Instant;

use burn::tensor::{Int, Tensor};

use super::fantasies::fantasies_png;
use super::top::one_hot;
use super::update::Rule;
use super::{Examples, FantasyStart, UpDownConfig, UpDownDbn, UpDownError, UpDownLearner};
use crate::data::{head, select_rows};
use crate::eval::Interrupted;
use crate::eval::images::TileShape;
use crate::events::{Event, EventSink, Recorder};
use crate::rbm::sampling_draws;
use crate::rbm::{Draws, HostDraws};

/// What an up-down training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct UpDownSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the work was done.
    pub stopped_early: bool,
    /// Wall-clock seconds (evaluation included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

/// A split's evaluation examples with their labels.
struct EvalSet {
    key: &'static str,
    x: Tensor<2>,
    labels: Tensor<1, Int>,
}

impl UpDownDbn {
    /// Greedy pretraining from scratch ([`super::pretrain`]) then up-down fine-tuning
    /// ([`UpDownDbn::train`]) with `cfg`.
    pub fn fit(
        train: Examples<'_>,
        valid: Option<Examples<'_>>,
        test: Option<Examples<'_>>,
        cfg: &UpDownConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(UpDownDbn, UpDownSummary), UpDownError> {
        cfg.validate()?;
        let visible = train.x.dims()[1];
        for (split, s) in [("validation", valid), ("test", test)] {
            if let Some(s) = s {
                s.checked(split, visible, cfg.classes)?;
            }
        }
        let mut model = super::pretrain(train, valid.map(|v| v.x), cfg, sink, seed)?;
        let summary = model.train(train, valid, test, cfg, sink, seed)?;
        Ok((model, summary))
    }

    /// Fine-tunes this DBN by the up-down algorithm for `cfg.epochs` epochs on `train`
    /// (examples in a random order, Gibbs steps seeded with `seed` on the CPU). `cfg.layers`
    /// and `cfg.classes` must match the DBN; every split given needs labels. Emits the metrics
    /// and artifacts of the module doc.
    pub fn train(
        &mut self,
        train: Examples<'_>,
        valid: Option<Examples<'_>>,
        test: Option<Examples<'_>>,
        cfg: &UpDownConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<UpDownSummary, UpDownError> {
        cfg.validate()?;
        let sizes = self.sizes();
        if cfg.layers != sizes[1..] {
            return Err(UpDownError::Layers(format!(
                "{:?} but the DBN's layers are {:?} (visible first)",
                cfg.layers, sizes
            )));
        }
        if cfg.classes != self.classes() {
            return Err(UpDownError::Config(format!(
                "classes is {} but the DBN has {} label units",
                cfg.classes,
                self.classes()
            )));
        }
        let visible = self.visible();
        let labels = train.checked("training", visible, cfg.classes)?;
        let n = train.len();
        if n == 0 {
            return Err(UpDownError::EmptyData { split: "training" });
        }
        let tile = match cfg.eval.picture_shape {
            Some([rows, cols]) if rows * cols != visible => {
                return Err(UpDownError::Config(format!(
                    "eval.picture_shape [{rows}, {cols}] has {} pixels but the visible layer \
                     has {visible} units",
                    rows * cols
                )));
            }
            Some([rows, cols]) => Some(TileShape { rows, cols }),
            None => None,
        };
        let max = cfg.eval.max_examples;
        let mut sets = vec![EvalSet {
            key: "train_error",
            x: head(train.x, max),
            labels: head(labels, max),
        }];
        for (split, key, s) in [
            ("validation", "valid_error", valid),
            ("test", "test_error", test),
        ] {
            if let Some(s) = s.filter(|s| !s.is_empty()) {
                let l = s.checked(split, visible, cfg.classes)?;
                sets.push(EvalSet {
                    key,
                    x: head(s.x, max),
                    labels: head(l, max),
                });
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
        let mut eval_draws = sampling_draws(&device, seed.wrapping_add(0x94D0_49BB_1331_11EB));
        let mut learner = UpDownLearner::new(self);
        let y_all = one_hot(labels.clone(), cfg.classes);
        let mut epochs_done = 0;
        let mut stopped_early = false;

        for epoch in 0..cfg.epochs {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let epoch_start = Instant::now();
            let rule = Rule {
                lr: cfg.lr,
                momentum: cfg.momentum.at(epoch),
                weight_cost: cfg.weight_cost,
            };
            for rows in order.permutation(n).chunks(cfg.batch_size) {
                let (v, y) = (select_rows(train.x, rows), select_rows(&y_all, rows));
                learner.step(self, v, y, cfg.cd_k, rule, &mut *draws);
            }
            let e = epoch + 1;
            epochs_done = e;
            if let Some(what) = self.first_non_finite() {
                return Err(UpDownError::Diverged { epoch: e, what });
            }
            rec.metric("epoch_seconds", e, epoch_start.elapsed().as_secs_f64())?;
            rec.metric("lr", e, rule.lr)?;
            rec.metric("momentum", e, rule.momentum)?;
            let last = e == cfg.epochs;
            if last || (cfg.eval.every > 0 && e % cfg.eval.every == 0) {
                self.evaluate(e, &sets, &mut *eval_draws, &mut rec)?;
            }
            if let Some(tile) = tile
                && (last || (cfg.eval.fantasy_every > 0 && e % cfg.eval.fantasy_every == 0))
                && self
                    .emit_fantasies(e, tile, train.x, cfg, &mut *eval_draws, rec.sink)
                    .is_err()
            {
                stopped_early = true;
                break;
            }
            rec.sink.emit(Event::Progress {
                stage: "updown".into(),
                done: e as u64,
                total: cfg.epochs as u64,
            });
        }
        if cfg.epochs == 0 {
            // Evaluation only (e.g. of a pretrained DBN before fine-tuning).
            self.evaluate(0, &sets, &mut *eval_draws, &mut rec)?;
            if let Some(tile) = tile {
                stopped_early = self
                    .emit_fantasies(0, tile, train.x, cfg, &mut *eval_draws, rec.sink)
                    .is_err();
            }
        }
        Ok(UpDownSummary {
            epochs: epochs_done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        })
    }

    fn evaluate(
        &self,
        epoch: usize,
        sets: &[EvalSet],
        draws: &mut dyn Draws,
        rec: &mut Recorder<'_>,
    ) -> Result<(), UpDownError> {
        for s in sets {
            rec.metric(s.key, epoch, self.error_rate(&s.x, &s.labels))?;
        }
        let train = &sets[0];
        let x = self.penultimate_probs(train.x.clone());
        let y = one_hot(train.labels.clone(), self.classes());
        rec.metric(
            "top_recon_error",
            epoch,
            self.top.reconstruction_error(x, y, draws),
        )?;
        rec.metric(
            "updown_recon_error",
            epoch,
            self.reconstruction_error(train.x.clone()),
        )?;
        Ok(())
    }

    /// The fantasies picture of `epoch`; none when the sink asks to stop during the chains.
    fn emit_fantasies(
        &self,
        epoch: usize,
        tile: TileShape,
        train: &Tensor<2>,
        cfg: &UpDownConfig,
        draws: &mut dyn Draws,
        sink: &mut dyn EventSink,
    ) -> Result<(), Interrupted> {
        let ec = &cfg.eval;
        let (per_class, start) = match ec.fantasy_start {
            FantasyStart::Random => (ec.fantasies_per_class, None),
            FantasyStart::Data => {
                let v = head(train, ec.fantasies_per_class);
                let start = self.up_states(v, draws).pop();
                (start.as_ref().map_or(0, |s| s.dims()[0]), start)
            }
        };
        let keep_going = || sink.keep_going();
        let fantasies =
            self.fantasies_while(per_class, ec.fantasy_steps, start, draws, &keep_going)?;
        sink.emit(Event::Artifact {
            kind: "fantasies".into(),
            name: format!("fantasies_epoch{epoch}.png"),
            step: Some(epoch as u64),
            bytes: fantasies_png(&fantasies, tile, per_class),
        });
        Ok(())
    }
}
