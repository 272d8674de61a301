//! The `boltzmann:` stage: a general Boltzmann machine (§2) with the connectivity of its
//! section, learned from the difference of clamped and free statistics, on the training inputs;
//! then its exact test log-likelihood when it is small enough to enumerate (`test_exact_loglik`:
//! log p(v), or log p(y | x) for a conditional machine, with `test_exact_kl` to the test set's
//! own distribution). The units are binary, so the data must be.

use harmonium_models::EventSink;
use harmonium_models::boltzmann::{Boltzmann, BoltzmannConfig, exact::empirical_entropy};
use harmonium_models::data::matrix_to_tensor;

use super::{Products, StageContext, TrialError, fail};

/// Trains the machine of the `boltzmann:` section and reports its exact test log-likelihood.
pub fn run(
    cfg: &BoltzmannConfig,
    ctx: &StageContext,
    _made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    if let Some(x) = ds.train.x.data.iter().find(|&&x| x != 0.0 && x != 1.0) {
        return Err(fail(format!(
            "boltzmann: a Boltzmann machine has binary units, but the training data holds values \
             such as {x}; binarize it (dataset.binarize: stochastic or threshold)"
        )));
    }
    if cfg.inputs >= ds.input_dim() {
        return Err(fail(format!(
            "boltzmann.inputs: {} of the data's {} visible units are inputs, which leaves no \
             output to model",
            cfg.inputs,
            ds.input_dim()
        )));
    }
    let mut cfg = cfg.clone();
    if cfg.eval.picture_shape.is_none() && cfg.inputs == 0 {
        cfg.eval.picture_shape = ds.image_shape.map(|(r, c)| [r, c]);
    }
    let train = matrix_to_tensor(&ds.train.x, device);
    let valid = matrix_to_tensor(&ds.valid.x, device);
    let (bm, summary) = Boltzmann::fit(&train, Some(&valid), &cfg, sink, seed)
        .map_err(|e| fail(format!("boltzmann: {e}")))?;
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    let max = cfg.eval.exact_max_units;
    if cfg.eval.exact && bm.loglik_is_enumerable(max) {
        let test = matrix_to_tensor(&ds.test.x, device);
        let ll = bm
            .exact_mean_loglik(&test, max)
            .map_err(|e| fail(format!("boltzmann: {e}")))?;
        let step = summary.epochs as u64;
        sink.metric("test_exact_loglik", step, ll);
        sink.metric(
            "test_exact_kl",
            step,
            -empirical_entropy(&test, cfg.inputs) - ll,
        );
    }
    Ok(())
}
