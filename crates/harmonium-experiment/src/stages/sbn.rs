//! The `sbn:` stage: a sigmoid belief net learned by wake-sleep on the training inputs (§3–4),
//! then its test log-likelihood: importance-sampled with the recognition net as the proposal
//! (`test_is_loglik` with `test_is_loglik_se`), the variational bound beside it (`test_bound`),
//! and, on nets small enough to enumerate, the exact figures (`test_exact_loglik`,
//! `test_exact_bound`, `test_exact_kl`). The visible units are binary, so the data must be.

use harmonium_models::EventSink;
use harmonium_models::data::matrix_to_tensor;
use harmonium_models::eval::EvalError;
use harmonium_models::rbm::HostDraws;
use harmonium_models::sbn::{Sbn, SbnConfig, SbnError};

use super::{Products, StageContext, TrialError, fail};

/// Trains the SBN of the `sbn:` section and reports its test log-likelihood.
pub fn run(
    cfg: &SbnConfig,
    ctx: &StageContext,
    _made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    if let Some(x) = ds.train.x.data.iter().find(|&&x| x != 0.0 && x != 1.0) {
        return Err(fail(format!(
            "sbn: a sigmoid belief net has binary visible units, but the training data holds \
             values such as {x}; binarize it (dataset.binarize: stochastic or threshold)"
        )));
    }
    let mut cfg = cfg.clone();
    if cfg.eval.picture_shape.is_none() {
        cfg.eval.picture_shape = ds.image_shape.map(|(r, c)| [r, c]);
    }
    let train = matrix_to_tensor(&ds.train.x, device);
    let valid = matrix_to_tensor(&ds.valid.x, device);
    let (sbn, summary) = Sbn::fit(&train, Some(&valid), &cfg, sink, seed).map_err(reason)?;
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    let test = matrix_to_tensor(&ds.test.x, device);
    let step = summary.epochs as u64;
    let keep_going = || sink.keep_going();
    let mut draws = HostDraws::new(seed.wrapping_add(0x7E57));
    let is = sbn
        .importance_sampling_while(&test, cfg.eval.importance_samples, &mut draws, &keep_going)
        .map_err(reason)?;
    let exact = if cfg.eval.exact && sbn.is_enumerable(cfg.eval.exact_max_units) {
        Some(
            sbn.exact_evaluation_while(&test, cfg.eval.exact_max_units, &keep_going)
                .map_err(reason)?,
        )
    } else {
        None
    };
    sink.metric("test_is_loglik", step, is.mean_log_likelihood());
    sink.metric("test_is_loglik_se", step, is.mean_log_likelihood_se());
    sink.metric("test_bound", step, is.mean_bound());
    if let Some(e) = exact {
        sink.metric("test_exact_loglik", step, e.mean_log_likelihood());
        sink.metric("test_exact_bound", step, e.mean_bound());
        sink.metric("test_exact_kl", step, e.mean_kl());
    }
    Ok(())
}

/// A stop inside an evaluation is an interruption; anything else fails the trial, naming the
/// section.
fn reason(e: SbnError) -> TrialError {
    match e {
        SbnError::Eval(EvalError::Interrupted) => TrialError::Interrupted,
        e => fail(format!("sbn: {e}")),
    }
}
