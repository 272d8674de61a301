//! The `rbm:` stage: a single RBM on the training inputs, from the data or from a checkpoint, and
//! the test log-probability from its AIS estimate of log Z.

use std::path::Path;

use burn::tensor::Device;
use harmonium_models::EventSink;
use harmonium_models::data::matrix_to_tensor;
use harmonium_models::eval::metrics::mean_free_energy;
use harmonium_models::rbm::{Rbm, RbmConfig, RbmInit, VisibleType};

use super::{Products, StageContext, TrialError, fail};

/// Trains the RBM of the `rbm:` section and reports `test_logprob` (with its bounds) when AIS
/// estimated log Z.
pub fn run(
    cfg: &RbmConfig,
    ctx: &StageContext,
    _made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    let mut cfg = cfg.clone();
    if cfg.eval.picture_shape.is_none() {
        cfg.eval.picture_shape = ds.image_shape.map(|(r, c)| [r, c]);
    }
    let train = matrix_to_tensor(&ds.train.x, device);
    let valid = matrix_to_tensor(&ds.valid.x, device);
    let (rbm, summary) = match &cfg.init {
        RbmInit::Data => Rbm::fit(&train, Some(&valid), &cfg, sink, seed).map_err(fail)?,
        RbmInit::Checkpoint(path) => {
            let mut rbm = load_checkpoint(path, &cfg, device)?;
            let summary = rbm
                .train(&train, Some(&valid), &cfg, sink, seed)
                .map_err(fail)?;
            (rbm, summary)
        }
    };
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    let last = |k: &str| {
        summary
            .final_metrics
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| *v)
    };
    if let Some(log_z) = last("ais_log_z") {
        let test = matrix_to_tensor(&ds.test.x, device);
        let free_energy = mean_free_energy(&rbm, &test);
        let step = summary.epochs as u64;
        sink.metric("test_logprob", step, -free_energy - log_z);
        if let Some(upper) = last("ais_log_z_upper") {
            sink.metric("test_logprob_lower", step, -free_energy - upper);
        }
        if let Some(lower) = last("ais_log_z_lower") {
            sink.metric("test_logprob_upper", step, -free_energy - lower);
        }
    }
    Ok(())
}

/// The RBM saved at `path`, checked against the `rbm:` section that continues from it.
fn load_checkpoint(path: &Path, cfg: &RbmConfig, device: &Device) -> Result<Rbm, TrialError> {
    let at = format!("rbm.init.checkpoint {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| fail(format!("{at}: {e}")))?;
    let rbm = Rbm::from_safetensors(&bytes, device).map_err(|e| fail(format!("{at}: {e}")))?;
    let binary = cfg.visible_type == VisibleType::Binary;
    let units = |binary: bool| if binary { "binary" } else { "gaussian" };
    if rbm.hidden() != cfg.hidden || rbm.is_binary() != binary {
        return Err(fail(format!(
            "{at}: the checkpoint has {} hidden units and {} visible units; the `rbm:` section \
             asks for {} hidden and {} visible units",
            rbm.hidden(),
            units(rbm.is_binary()),
            cfg.hidden,
            units(binary)
        )));
    }
    Ok(rbm)
}
