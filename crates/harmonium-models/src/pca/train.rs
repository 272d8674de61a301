//! Fitting with events. Linear PCA is one step ([`Pca::fit_with_events`]); logistic PCA is a loop
//! of alternating steps ([`LogisticPca::fit`]) that honours a stop request (`sink.keep_going()`
//! false) at every iteration boundary and reports a non-finite parameter or metric as
//! [`PcaError::Diverged`] naming the iteration.
//!
//! Metrics of linear PCA: `eigenvalue` at step j = 1..k (λ_j), `explained_variance` at step j
//! (the fraction Σ_{i≤j} λ_i / tr C of the variance the first j components explain) and
//! `train_recon_error` at step k (the mean summed squared error per training example, measured);
//! then `Progress { stage: "pca", done: 1, total: 1 }`.
//!
//! Metrics of logistic PCA, at step = iteration (every `eval_every` iterations and the last):
//! `cross_entropy` (the mean Bernoulli cross-entropy per training example in nats, L / n) and
//! `train_recon_error` (the mean Σ_j (x_j − σ(θ_j))² per training example); after each iteration
//! `Progress { stage: "logistic_pca" }`.

use std::time::Instant;

use burn::tensor::Tensor;

use super::config::check_components;
use super::logistic::{check_unit_range, mean_row_sum};
use super::{LogisticInit, LogisticPca, LogisticPcaConfig, Pca, PcaConfig, PcaError};
use crate::events::{Event, EventSink, Recorder};
use crate::rbm::model::sigmoid;
use crate::rbm::{Draws, HostDraws};

/// What a fit did.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaTrainSummary {
    /// Iterations completed (1 for linear PCA).
    pub iterations: usize,
    /// True when the sink asked to stop before the work was done.
    pub stopped_early: bool,
    /// Wall-clock seconds (measurements included).
    pub seconds: f64,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

/// Standard deviation of a random initial basis; the steps depend only on its directions.
const RANDOM_INIT_SIGMA: f64 = 0.01;
/// Mean pixel values are clamped to [ε, 1 − ε] before their logits become the initial biases.
const BIAS_INIT_EPS: f64 = 1e-4;

impl Pca {
    /// [`Pca::fit`] with `cfg.components` components, reporting the eigenvalues, the explained
    /// variance and the training reconstruction error (module doc). One step: nothing to stop.
    pub fn fit_with_events(
        x: &Tensor<2>,
        cfg: &PcaConfig,
        sink: &mut dyn EventSink,
    ) -> Result<(Pca, PcaTrainSummary), PcaError> {
        cfg.validate()?;
        let started = Instant::now();
        let pca = Pca::fit(x, cfg.components)?;
        let mut rec = Recorder {
            sink,
            last: Vec::new(),
        };
        let k = pca.code_size();
        for j in 1..=k {
            rec.metric("eigenvalue", j, pca.eigenvalues[j - 1])?;
            rec.metric("explained_variance", j, pca.explained_variance_ratio(j))?;
        }
        rec.metric("train_recon_error", k, pca.reconstruction_error(x)?)?;
        rec.sink.emit(Event::Progress {
            stage: "pca".into(),
            done: 1,
            total: 1,
        });
        Ok((
            pca,
            PcaTrainSummary {
                iterations: 1,
                stopped_early: false,
                seconds: started.elapsed().as_secs_f64(),
                final_metrics: rec.last,
            },
        ))
    }
}

impl LogisticPca {
    /// Fits logistic PCA to the rows of `x` ([n, d], values in [0, 1], on its device): the
    /// initial basis from `cfg.init` (`random` draws it from `seed`), biases the logits of the
    /// pixel means, codes zero; then `cfg.iterations` alternating steps. Returns the model, the
    /// training codes A [n, k] and a summary.
    pub fn fit(
        x: &Tensor<2>,
        cfg: &LogisticPcaConfig,
        sink: &mut dyn EventSink,
        seed: u64,
    ) -> Result<(LogisticPca, Tensor<2>, PcaTrainSummary), PcaError> {
        cfg.validate()?;
        let [n, d] = x.dims();
        let k = cfg.components;
        check_components(k, Some(d))?;
        check_unit_range("the training data", x)?;
        let started = Instant::now();
        let device = x.device();
        let basis = match cfg.init {
            LogisticInit::Pca => Pca::fit(x, k)?.components,
            LogisticInit::Random => HostDraws::new(seed)
                .normal(&Tensor::zeros([d, k], &device))
                .mul_scalar(RANDOM_INIT_SIGMA),
        };
        let p = x
            .clone()
            .mean_dim(0)
            .squeeze_dim(0)
            .clamp(BIAS_INIT_EPS, 1.0 - BIAS_INIT_EPS);
        let bias = p.clone().log() - p.neg().add_scalar(1.0).log();
        let mut model = LogisticPca {
            basis,
            bias,
            code_iterations: cfg.code_iterations,
        };
        let mut codes = Tensor::zeros([n, k], &device);
        let mut rec = Recorder {
            sink,
            last: Vec::new(),
        };
        let mut done = 0;
        let mut stopped_early = false;
        for iteration in 1..=cfg.iterations {
            if !rec.sink.keep_going() {
                stopped_early = true;
                break;
            }
            let preconditioner = model.code_preconditioner();
            codes = model.code_step(x, codes, &preconditioner, cfg.lr);
            model.basis_step(x, &codes, cfg.lr);
            done = iteration;
            if let Some(what) = model.first_non_finite() {
                return Err(PcaError::Diverged {
                    iteration,
                    what: what.into(),
                });
            }
            let last = iteration == cfg.iterations;
            if last || (cfg.eval_every > 0 && iteration % cfg.eval_every == 0) {
                let theta = model.natural_params(codes.clone());
                let loss =
                    mean_row_sum(crate::rbm::softplus(theta.clone()) - x.clone() * theta.clone());
                rec.metric("cross_entropy", iteration, loss)?;
                let error = mean_row_sum((x.clone() - sigmoid(theta)).square());
                rec.metric("train_recon_error", iteration, error)?;
            }
            rec.sink.emit(Event::Progress {
                stage: "logistic_pca".into(),
                done: iteration as u64,
                total: cfg.iterations as u64,
            });
        }
        let summary = PcaTrainSummary {
            iterations: done,
            stopped_early,
            seconds: started.elapsed().as_secs_f64(),
            final_metrics: rec.last,
        };
        Ok((model, codes, summary))
    }
}
