//! The `dbm:` stage: a deep Boltzmann machine on the training inputs (§8–9), its stack
//! pretrained from RBMs and composed when the section has `pretrain:`, then trained as a whole
//! with mean-field and persistent chains; and the variational bound on the test
//! log-probability from its AIS estimate of log Z. For `mlp.init: dbm` it leaves the DBM's
//! weights and the data augmented with its top layer's posterior for the fine-tuning stage.

use harmonium_models::EventSink;
use harmonium_models::data::{Labelled, matrix_to_tensor};
use harmonium_models::dbm::{self, Dbm, DbmConfig};
use harmonium_models::mlp::InitSource;

use super::{Products, StageContext, TrialError, fail};

/// Trains the DBM of the `dbm:` section and reports `test_mf_bound` (with its bounds from AIS's
/// interval) when AIS estimated log Z.
pub fn run(
    cfg: &DbmConfig,
    ctx: &StageContext,
    made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    let train = matrix_to_tensor(&ds.train.x, device);
    let valid = matrix_to_tensor(&ds.valid.x, device);
    let (dbm, summary) = match cfg.pretraining_layers() {
        Some(layers) => {
            let (composed, _) = dbm::pretrain(&train, &layers, sink, seed)
                .map_err(|e| fail(format!("dbm.pretrain: {e}")))?;
            let mut dbm = composed.ok_or(TrialError::Interrupted)?;
            let summary = dbm
                .train(&train, Some(&valid), cfg, sink, seed)
                .map_err(|e| fail(format!("dbm: {e}")))?;
            (dbm, summary)
        }
        None => Dbm::fit(&train, Some(&valid), cfg, sink, seed)
            .map_err(|e| fail(format!("dbm: {e}")))?,
    };
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    if ctx
        .trial
        .config
        .mlp
        .as_ref()
        .is_some_and(|m| m.init == InitSource::Dbm)
    {
        // The fine-tuned net's input: the data with the top layer's posterior, computed once.
        let inputs = [&ds.train, &ds.valid, &ds.test].map(|split| {
            let plain = Labelled::from_split(split, device);
            Labelled {
                x: dbm.augmented_input(&plain.x, &cfg.mean_field),
                y: plain.y,
            }
        });
        made.inputs.push((InitSource::Dbm, inputs));
        made.layers
            .push((InitSource::Dbm, dbm.fine_tuning_layers()));
    }
    let last = |k: &str| {
        summary
            .final_metrics
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| *v)
    };
    if let Some(log_z) = last("ais_log_z") {
        let test = matrix_to_tensor(&ds.test.x, device);
        let unnormalized = dbm.mean_unnormalized_bound(&test, &cfg.mean_field);
        let step = summary.epochs as u64;
        sink.metric("test_mf_bound", step, unnormalized - log_z);
        if let Some(upper) = last("ais_log_z_upper") {
            sink.metric("test_mf_bound_lower", step, unnormalized - upper);
        }
        if let Some(lower) = last("ais_log_z_lower") {
            sink.metric("test_mf_bound_upper", step, unnormalized - lower);
        }
    }
    Ok(())
}
