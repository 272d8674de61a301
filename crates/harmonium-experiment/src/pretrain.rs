//! The `pretrain:` section: how the hidden layers of `mlp` are pretrained as a stack of RBMs.
//!
//! ```yaml
//! mlp: {hidden: [500, 500], init: dbn}   # or `pretrained`, its older name
//! pretrain:
//!   rbm: {epochs: 10, lr: 0.05}       # shared by every layer (any rbm key but `hidden`)
//!   layers: [{}, {lr: 0.01}]          # per-layer overrides, bottom first (optional)
//!   pass_up: probabilities           # or samples
//!   data: all                        # pretrain on all training images, or `labelled` only
//! ```
//!
//! A layer's configuration is: stacking defaults (no AIS, no checkpoint artifact, filter
//! pictures on the first layer of image data) ⊕ `rbm` ⊕ `layers[i]`, with `hidden` set from
//! `mlp.hidden[i]`.

use harmonium_models::dbn::PassUp;
use harmonium_models::rbm::{RbmConfig, RbmInit};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PretrainData {
    /// Every training image, labelled or not (the usual semi-supervised setting).
    #[default]
    All,
    /// Only the labelled training subset (`dataset.train_size`).
    Labelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    /// RBM settings shared by every layer.
    #[serde(default = "empty_map")]
    pub rbm: Value,
    /// Per-layer overrides, bottom first; may be shorter than the stack.
    #[serde(default)]
    pub layers: Vec<Value>,
    #[serde(default)]
    pub pass_up: PassUp,
    #[serde(default)]
    pub data: PretrainData,
}

fn empty_map() -> Value {
    Value::Object(Default::default())
}

/// `base` with every key of `over` replaced, recursively for mappings.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

impl PretrainConfig {
    /// The RBM configuration of each layer of a stack with these hidden sizes.
    pub fn layer_configs(
        &self,
        hidden: &[usize],
        image_shape: Option<(usize, usize)>,
    ) -> Result<Vec<RbmConfig>, String> {
        if self.layers.len() > hidden.len() {
            return Err(format!(
                "pretrain.layers has {} entries but mlp.hidden has {} layers",
                self.layers.len(),
                hidden.len()
            ));
        }
        if !self.rbm.is_object() {
            return Err("pretrain.rbm must be a mapping of rbm settings".into());
        }
        if self.rbm.get("hidden").is_some() || self.layers.iter().any(|l| l.get("hidden").is_some())
        {
            return Err(
                "pretrain: layer sizes come from mlp.hidden; remove `hidden` from pretrain".into(),
            );
        }
        let mut defaults = serde_json::to_value(RbmConfig::default()).expect("json");
        defaults["eval"]["ais"] = Value::Null;
        defaults["eval"]["checkpoint"] = Value::Bool(false);
        hidden
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                let mut v = defaults.clone();
                if i == 0
                    && let Some((r, c)) = image_shape
                {
                    v["eval"]["picture_shape"] = serde_json::json!([r, c]);
                }
                merge(&mut v, &self.rbm);
                let at = if let Some(over) = self.layers.get(i) {
                    if !over.is_object() && !over.is_null() {
                        return Err(format!(
                            "pretrain.layers[{i}] must be a mapping of rbm settings"
                        ));
                    }
                    merge(&mut v, over);
                    format!("pretrain.layers[{i}] over pretrain.rbm")
                } else {
                    "pretrain.rbm".to_string()
                };
                v["hidden"] = h.into();
                let cfg: RbmConfig = serde_json::from_value(v).map_err(|e| format!("{at}: {e}"))?;
                cfg.validate().map_err(|e| format!("{at}: {e}"))?;
                if cfg.init != RbmInit::Data {
                    return Err(format!(
                        "{at}: `init` is for the `rbm:` stage; a stack's layers start from the data"
                    ));
                }
                Ok(cfg)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> PretrainConfig {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn layers_take_the_shared_block_then_their_overrides() {
        let p =
            cfg("rbm: {epochs: 3, lr: 0.1, momentum: {final: 0.8}}\nlayers: [{}, {lr: 0.01}]\n");
        let layers = p.layer_configs(&[20, 10, 5], Some((28, 28))).unwrap();
        assert_eq!(
            layers.iter().map(|l| l.hidden).collect::<Vec<_>>(),
            vec![20, 10, 5]
        );
        assert_eq!(
            layers.iter().map(|l| l.lr).collect::<Vec<_>>(),
            vec![0.1, 0.01, 0.1]
        );
        assert!(
            layers
                .iter()
                .all(|l| l.epochs == 3 && l.momentum.r#final == 0.8 && l.momentum.start == 0.5)
        );
        assert!(
            layers.iter().all(|l| l.eval.ais.is_none()),
            "no AIS while stacking unless asked"
        );
        assert_eq!(layers[0].eval.picture_shape, Some([28, 28]));
        assert_eq!(layers[1].eval.picture_shape, None);
    }

    #[test]
    fn typos_and_sizes_in_pretrain_are_errors() {
        let e = cfg("rbm: {lrr: 0.1}")
            .layer_configs(&[10], None)
            .unwrap_err();
        assert!(e.contains("pretrain.rbm") && e.contains("lrr"), "{e}");
        let e = cfg("layers: [{}, {cd_k: x}]")
            .layer_configs(&[10, 5], None)
            .unwrap_err();
        assert!(e.contains("pretrain.layers[1]"), "{e}");
        let e = cfg("layers: [{}, {}, {}]")
            .layer_configs(&[10, 5], None)
            .unwrap_err();
        assert!(e.contains("3 entries"), "{e}");
        let e = cfg("rbm: {hidden: 3}")
            .layer_configs(&[10], None)
            .unwrap_err();
        assert!(e.contains("mlp.hidden"), "{e}");
    }
}
