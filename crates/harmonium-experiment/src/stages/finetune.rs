//! The `mlp:` stage: a classifier trained by backprop, from random weights or from the layers an
//! earlier stage made for its `init` source (fine-tuning), on the inputs that source's layers
//! expect (the data, or a DBM's augmented data). It leaves the best-validation net for the scores
//! that need its outputs.

use harmonium_models::EventSink;
use harmonium_models::data::Labelled;
use harmonium_models::mlp::{self, InitSource, Mlp, MlpConfig};

use super::{Classifier, Products, StageContext, TrialError, fail};

/// Builds the net `mlp.init` asks for and trains it.
pub fn run(
    cfg: &MlpConfig,
    ctx: &StageContext,
    made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    let model = match cfg.init {
        InitSource::Random => {
            let mut sizes = vec![ds.input_dim()];
            sizes.extend(&cfg.hidden);
            sizes.push(ds.classes);
            Mlp::random(&sizes, cfg.init_std, seed, device)
        }
        source => {
            let layers = made.take_layers(source).ok_or_else(|| {
                fail(format!(
                    "mlp.init: {source}: no stage of this trial made its layers"
                ))
            })?;
            Mlp::from_layers(layers, ds.classes, cfg.init_std, seed, device)
        }
    };
    let [train, valid, test] = made.take_inputs(cfg.init).unwrap_or_else(|| {
        [&ds.train, &ds.valid, &ds.test].map(|s| Labelled::from_split(s, device))
    });
    let splits = mlp::Splits {
        train: &train,
        valid: &valid,
        test: &test,
    };
    let (best, summary) = mlp::train(model, &splits, cfg, seed, "mlp", sink).map_err(fail)?;
    if summary.interrupted {
        return Err(TrialError::Interrupted);
    }
    made.classifier = Some(Classifier {
        model: best,
        activation: cfg.activation,
        valid,
        test,
        epochs: summary.epochs_run as u64,
    });
    Ok(())
}
