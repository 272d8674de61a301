//! The `autoencoder:` stage: the data coded with `net.layers`' last size by one method
//! ([`AutoencoderMethod`]), and the squared reconstruction error per image of the training,
//! validation and test sets (`train_recon_error`, `valid_recon_error`, `test_recon_error`:
//! Σ_i (x_i − x̂_i)² averaged over images, Hinton & Salakhutdinov's figure).
//!
//! * `deep`: the binary RBMs and the code layer's linear RBM pretrained greedily (or taken from
//!   the stage cache, keyed by the data, the RBMs' and code RBM's settings without their `eval`
//!   blocks, and the seed; `autoencoder_stack_cached` says which), unrolled and fine-tuned by
//!   backprop; `net.init: random` starts the same net from random weights instead. With
//!   `pca_beside` (the default), PCA with the same code size is fitted too
//!   (`pca_train_recon_error`, `pca_valid_recon_error`, `pca_test_recon_error`) and the same
//!   test digits are drawn above the autoencoder's and PCA's reconstructions
//!   (`autoencoder_vs_pca.png`), with PCA's code map beside the autoencoder's for a 2-D code.
//! * `pca`, `logistic_pca`: the linear baselines, with their reconstructions and (2-D) code map.
//!
//! The data must lie in [0, 1] (pixel intensities): the decoders' outputs are logistic.

use burn::tensor::Tensor;
use harmonium_data::fingerprint::fingerprint;
use harmonium_models::autoencoder::{
    AutoencoderData, AutoencoderInit, DeepAutoencoder, DeepAutoencoderError, pretrain_code_stack,
};
use harmonium_models::data::{head, matrix_to_tensor};
use harmonium_models::eval::images::TileShape;
use harmonium_models::pca::{
    LogisticPca, Pca, PcaConfig, PcaError, code_map_png, comparison_png, squared_error_per_example,
};
use harmonium_models::{Event, EventSink};
use serde_json::Value;

use super::{Products, StageContext, TrialError, fail};
use crate::autoencoder::{AutoencoderMethod, AutoencoderSection};
use crate::cache::{CodeStack, stage_key};
use crate::sweep::Trial;
use std::path::Path;

/// The data of the trial on its device.
struct Sets {
    train: Tensor<2>,
    valid: Option<Tensor<2>>,
    test: Tensor<2>,
    test_labels: Vec<u32>,
}

/// Codes the trial's data by the section's method and reports its reconstruction errors.
pub fn run(
    section: &AutoencoderSection,
    ctx: &StageContext,
    _made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device) = (ctx.dataset(), ctx.device);
    let mut section = section.clone();
    let input = ds.train.x.cols;
    let code = section.code_size();
    if code > input {
        return Err(fail(format!(
            "autoencoder.net.layers: the code size {code} (the last layer) is larger than the \
             input ({input} columns of dataset '{}')",
            ds.name
        )));
    }
    if section.net.eval.picture_shape.is_none() {
        section.net.eval.picture_shape = ds.image_shape.map(|(r, c)| [r, c]);
    }
    if let Some(x) = ds.train.x.data.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return Err(fail(format!(
            "autoencoder: the codes' decoders are logistic, so the data must lie in [0, 1], but \
             the training data holds values such as {x} (dataset '{}')",
            ds.name
        )));
    }
    if ds.test.is_empty() {
        return Err(fail(
            "autoencoder: the test split is empty (dataset.test_size)",
        ));
    }
    let sets = Sets {
        train: matrix_to_tensor(&ds.train.x, device),
        valid: (!ds.valid.is_empty()).then(|| matrix_to_tensor(&ds.valid.x, device)),
        test: matrix_to_tensor(&ds.test.x, device),
        test_labels: ds.test.y.clone(),
    };
    match section.method {
        AutoencoderMethod::Deep => deep(&section, ctx, &sets, sink),
        AutoencoderMethod::Pca => pca(&section, &sets, sink),
        AutoencoderMethod::LogisticPca => logistic_pca(&section, ctx, &sets, sink),
    }
}

/// The stage-cache key of a trial's pretrained deep-autoencoder stack (the data and the
/// fingerprint of its files in `data_dir`, the RBMs' and code RBM's settings without their
/// `eval` blocks, the seed); `None` when the trial pretrains none.
pub fn autoencoder_stack_key(trial: &Trial, data_dir: &Path) -> Option<String> {
    let section = trial.config.autoencoder.as_ref()?;
    if section.method != AutoencoderMethod::Deep || section.net.init != AutoencoderInit::Pretrained
    {
        return None;
    }
    let data = &trial.config.dataset;
    let files = fingerprint(data, data_dir).unwrap_or_else(|e| format!("unlisted: {e}"));
    let without_eval = |mut v: Value| {
        if let Some(fields) = v.as_object_mut() {
            fields.remove("eval");
            fields.remove("max_eval_examples");
        }
        v
    };
    let rbms: Vec<Value> = section
        .rbm_configs(None)
        .ok()?
        .iter()
        .map(|c| without_eval(serde_json::to_value(c).expect("json")))
        .collect();
    let code = without_eval(serde_json::to_value(section.code_config().ok()?).expect("json"));
    let key = stage_key(&serde_json::json!({
        "stage": "deep_autoencoder", "data": data, "files": files, "rbm": rbms, "code": code,
        "seed": trial.seed,
    }));
    Some(crate::cache::on_device(key, &trial.config.device))
}

fn deep(
    section: &AutoencoderSection,
    ctx: &StageContext,
    sets: &Sets,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let (ds, device, seed) = (ctx.dataset(), ctx.device, ctx.seed());
    let net = &section.net;
    let stack = match net.init {
        AutoencoderInit::Random => None,
        AutoencoderInit::Pretrained => {
            let rbms = section.rbm_configs(ds.image_shape).map_err(fail)?;
            let code = section.code_config().map_err(fail)?;
            let key = autoencoder_stack_key(ctx.trial, &ctx.shared.data.data_dir)
                .ok_or_else(|| fail("autoencoder: the section's stack settings are invalid"))?;
            let (stack, cached) = ctx
                .shared
                .stages
                .stack(&key, device, sink, |sink| {
                    pretrain_code_stack(&sets.train, sets.valid.as_ref(), &rbms, &code, sink, seed)
                        .map(CodeStack)
                        .map_err(|e| format!("autoencoder pretraining: {e}"))
                })
                .map_err(|e| {
                    if sink.keep_going() {
                        fail(e)
                    } else {
                        TrialError::Interrupted
                    }
                })?;
            if !sink.keep_going() {
                return Err(TrialError::Interrupted);
            }
            sink.metric(
                "autoencoder_stack_cached",
                0,
                if cached { 1.0 } else { 0.0 },
            );
            Some(stack.0)
        }
    };
    let data = AutoencoderData {
        train: &sets.train,
        valid: sets.valid.as_ref(),
        test: Some(&sets.test),
        test_labels: Some(&sets.test_labels),
    };
    let (model, summary) =
        DeepAutoencoder::fit(stack.as_deref(), &data, net, sink, seed).map_err(deep_reason)?;
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    if !section.pca_beside {
        return Ok(());
    }
    let step = summary.epochs as u64;
    let k = model.code_size();
    let pca = Pca::fit(&sets.train, k).map_err(pca_reason)?;
    let errors = |x: &Tensor<2>| -> Result<f64, TrialError> {
        pca.reconstruction_error(x).map_err(pca_reason)
    };
    sink.metric(
        "pca_train_recon_error",
        step,
        errors(&head(&sets.train, 10_000))?,
    );
    if let Some(v) = &sets.valid {
        sink.metric("pca_valid_recon_error", step, errors(v)?);
    }
    sink.metric("pca_test_recon_error", step, errors(&sets.test)?);
    if let Some(tile) = tile(section) {
        let shown = head(&sets.test, net.eval.pictures.max(1));
        let by_net = model.reconstruct(shown.clone());
        let by_pca = pca.reconstruct_data(&shown).map_err(pca_reason)?;
        sink.emit(Event::Artifact {
            kind: "reconstructions".into(),
            name: "autoencoder_vs_pca.png".into(),
            step: Some(step),
            bytes: comparison_png(&shown, &[&by_net, &by_pca], tile).map_err(pca_reason)?,
        });
    }
    if k == 2 {
        let codes = pca.project(&sets.test).map_err(pca_reason)?;
        code_map(&codes, sets, section, "pca_code_map.png", step, sink)?;
    }
    Ok(())
}

fn pca(
    section: &AutoencoderSection,
    sets: &Sets,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let cfg = PcaConfig {
        components: section.code_size(),
    };
    let (pca, _) = Pca::fit_with_events(&sets.train, &cfg, sink).map_err(pca_reason)?;
    let step = cfg.components as u64;
    if let Some(v) = &sets.valid {
        sink.metric(
            "valid_recon_error",
            step,
            pca.reconstruction_error(v).map_err(pca_reason)?,
        );
    }
    let test_error = pca.reconstruction_error(&sets.test).map_err(pca_reason)?;
    sink.metric("test_recon_error", step, test_error);
    let shown = head(&sets.test, section.net.eval.pictures.max(1));
    let recon = pca.reconstruct_data(&shown).map_err(pca_reason)?;
    pictures(section, &shown, &recon, "pca", step, sink)?;
    if cfg.components == 2 {
        let codes = pca.project(&sets.test).map_err(pca_reason)?;
        code_map(&codes, sets, section, "pca_code_map.png", step, sink)?;
    }
    Ok(())
}

fn logistic_pca(
    section: &AutoencoderSection,
    ctx: &StageContext,
    sets: &Sets,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let cfg = section.logistic_pca_config().map_err(fail)?;
    let (model, _codes, summary) =
        LogisticPca::fit(&sets.train, &cfg, sink, ctx.seed()).map_err(pca_reason)?;
    if summary.stopped_early {
        return Err(TrialError::Interrupted);
    }
    let step = summary.iterations as u64;
    let error = |x: &Tensor<2>| -> Result<f64, TrialError> {
        let r = model.reconstruct_data(x).map_err(pca_reason)?;
        squared_error_per_example(x, &r).map_err(pca_reason)
    };
    if let Some(v) = &sets.valid {
        sink.metric("valid_recon_error", step, error(v)?);
    }
    if !sink.keep_going() {
        return Err(TrialError::Interrupted);
    }
    sink.metric("test_recon_error", step, error(&sets.test)?);
    let shown = head(&sets.test, section.net.eval.pictures.max(1));
    let recon = model.reconstruct_data(&shown).map_err(pca_reason)?;
    pictures(section, &shown, &recon, "logistic_pca", step, sink)?;
    if cfg.components == 2 {
        let codes = model.codes(&sets.test).map_err(pca_reason)?;
        code_map(
            &codes,
            sets,
            section,
            "logistic_pca_code_map.png",
            step,
            sink,
        )?;
    }
    Ok(())
}

/// The tile of one input as a picture, when the data are images.
fn tile(section: &AutoencoderSection) -> Option<TileShape> {
    section
        .net
        .eval
        .picture_shape
        .map(|[rows, cols]| TileShape { rows, cols })
}

/// The test digits above a baseline's reconstructions, as `{name}_reconstructions.png`.
fn pictures(
    section: &AutoencoderSection,
    shown: &Tensor<2>,
    recon: &Tensor<2>,
    name: &str,
    step: u64,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let Some(tile) = tile(section) else {
        return Ok(());
    };
    sink.emit(Event::Artifact {
        kind: "reconstructions".into(),
        name: format!("{name}_reconstructions.png"),
        step: Some(step),
        bytes: comparison_png(shown, &[recon], tile).map_err(pca_reason)?,
    });
    Ok(())
}

/// The 2-D codes of the test set coloured by class.
fn code_map(
    codes: &Tensor<2>,
    sets: &Sets,
    section: &AutoencoderSection,
    name: &str,
    step: u64,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    sink.emit(Event::Artifact {
        kind: "code_map".into(),
        name: name.into(),
        step: Some(step),
        bytes: code_map_png(codes, &sets.test_labels, section.net.eval.code_map_size)
            .map_err(pca_reason)?,
    });
    Ok(())
}

fn deep_reason(e: DeepAutoencoderError) -> TrialError {
    match e {
        DeepAutoencoderError::Interrupted => TrialError::Interrupted,
        e => fail(format!("autoencoder: {e}")),
    }
}

fn pca_reason(e: PcaError) -> TrialError {
    fail(format!("autoencoder: {e}"))
}
