//! What is checked before a run writes anything: every device the trials name can compute, and
//! every dataset they read loads with the sizes asked for (a `train_size` larger than a speech
//! corpus's frames is only known once its features exist), and the label units of an `updown:`
//! section match the dataset's classes, an `autoencoder:` code is no larger than the input, and a `pretrain.module` is only set where some trial
//! pretrains. A failure here is one error naming
//! the key and its line, instead of one failed run per trial.
//!
//! The datasets loaded here stay in the [`DataCache`], so the trials do not load them again.

use std::collections::BTreeSet;

use crate::config::{line_of_key, with_line};
use crate::shared::DataCache;
use crate::sweep::Trial;

/// Checks the devices and datasets of `trials`; `say` reports what takes time.
pub fn check(
    trials: &[Trial],
    yaml: &str,
    data: &DataCache,
    say: &dyn Fn(String),
) -> Result<(), String> {
    let devices: BTreeSet<&str> = trials.iter().map(|t| t.config.device.as_str()).collect();
    for device in devices {
        harmonium_models::parse_device(device).map_err(|e| {
            let at = line_of_key(yaml, "device").map_or(String::new(), |l| format!("line {l}: "));
            format!("{at}device: {e}")
        })?;
    }
    let pretrains = trials
        .iter()
        .any(|t| crate::stages::stack::section(&t.config).is_some());
    let module = trials.iter().find_map(|t| {
        let p = t.config.pretrain.as_ref()?;
        (p.module != crate::pretrain::PretrainModule::Rbm).then_some(p.module)
    });
    if let Some(module) = module
        && !pretrains
    {
        let name = serde_json::to_value(module).expect("json");
        return Err(with_line(
            yaml,
            &format!(
                "pretrain.module: {} is set, but no trial pretrains a stack (that needs an `mlp:` \
                 section with init: dbn)",
                name.as_str().unwrap_or("?")
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for t in trials {
        let cfg = &t.config.dataset;
        if !seen.insert(serde_json::to_string(cfg).expect("json")) {
            continue;
        }
        say(format!("loading dataset {}", cfg.name));
        let loaded = data.get(cfg).map_err(|e| {
            let e = e.strip_prefix("invalid dataset option: ").unwrap_or(&e);
            if e.starts_with("dataset.") {
                with_line(yaml, e)
            } else {
                with_line(yaml, &format!("dataset: {e}"))
            }
        })?;
        let classes = loaded.dataset.classes;
        let input = loaded.dataset.train.x.cols;
        for u in trials.iter().filter(|u| u.config.dataset == *cfg) {
            if let Some(a) = &u.config.autoencoder
                && a.code_size() > input
            {
                return Err(with_line(
                    yaml,
                    &format!(
                        "autoencoder.net.layers: the code size {} (the last layer) is larger \
                         than the input ({input} columns of dataset '{}')",
                        a.code_size(),
                        cfg.name
                    ),
                ));
            }
            if let Some(up) = &u.config.updown
                && up.classes != classes
            {
                return Err(with_line(
                    yaml,
                    &format!(
                        "updown.classes: {} label units, but dataset '{}' has {classes} classes",
                        up.classes, cfg.name
                    ),
                ));
            }
        }
    }
    Ok(())
}
