//! The `pretrain:` section: how the hidden layers of `mlp` are pretrained as a stack of RBMs
//! (or of denoising / contractive autoencoders, §10).
//!
//! ```yaml
//! mlp: {hidden: [500, 500], init: dbn}   # or `pretrained`, its older name
//! pretrain:
//!   module: rbm                      # rbm (default), dae or cae: how every layer is trained
//!   rbm: {epochs: 10, lr: 0.05}       # shared by the RBM layers (any rbm key but `hidden`)
//!   autoencoder: {epochs: 10, corruption: {masking: 0.25}}   # shared by the dae/cae layers
//!   layers: [{}, {lr: 0.01}, {module: cae, contraction: 0.2}]   # per-layer overrides
//!   pass_up: probabilities           # or samples
//!   data: all                        # pretrain on all training images, or `labelled` only
//! ```
//!
//! A layer's module is `layers[i].module`, else `module`. Its configuration is: stacking
//! defaults (no AIS, no checkpoint artifact, filter pictures on the first layer of image data)
//! ⊕ `rbm` (or `autoencoder`) ⊕ `layers[i]` without its `module`, with `hidden` set from
//! `mlp.hidden[i]`.

use harmonium_models::autoencoder::{AutoencoderLayerConfig, Module};
use harmonium_models::dbn::{PassUp, StackLayer};
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

/// How a layer of the stack is pretrained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PretrainModule {
    /// A restricted Boltzmann machine trained by contrastive divergence (§5–6).
    #[default]
    Rbm,
    /// A denoising autoencoder with tied weights (§10).
    Dae,
    /// A contractive autoencoder with tied weights (§10).
    Cae,
}

impl PretrainModule {
    fn is_rbm(&self) -> bool {
        *self == PretrainModule::Rbm
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    /// How every layer is pretrained (`layers[i].module` overrides it); left out of the
    /// serialized form when `rbm`, so the hashes of files without it do not change.
    #[serde(default, skip_serializing_if = "PretrainModule::is_rbm")]
    pub module: PretrainModule,
    /// RBM settings shared by every layer.
    #[serde(default = "empty_map")]
    pub rbm: Value,
    /// Autoencoder settings shared by every `dae`/`cae` layer (any key of an autoencoder layer
    /// but `hidden` and `module`).
    #[serde(default = "empty_map", skip_serializing_if = "is_empty_map")]
    pub autoencoder: Value,
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

fn is_empty_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.is_empty())
}

/// `base` with every key of `over` replaced, recursively for mappings.
pub(crate) fn merge(base: &mut Value, over: &Value) {
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
    /// The RBM configuration of each layer of a stack with these hidden sizes (every layer an
    /// RBM).
    pub fn layer_configs(
        &self,
        hidden: &[usize],
        image_shape: Option<(usize, usize)>,
    ) -> Result<Vec<RbmConfig>, String> {
        self.layer_plans(hidden, image_shape)?
            .into_iter()
            .enumerate()
            .map(|(i, l)| match l {
                StackLayer::Rbm(c) => Ok(c),
                StackLayer::Autoencoder(_) => Err(format!(
                    "pretrain.layers[{i}]: an autoencoder layer, not an RBM"
                )),
            })
            .collect()
    }

    /// The module of layer `i` and its override without the `module` key.
    fn layer_module(&self, i: usize) -> Result<(PretrainModule, Option<Value>), String> {
        let Some(over) = self.layers.get(i) else {
            return Ok((self.module, None));
        };
        if !over.is_object() && !over.is_null() {
            return Err(format!(
                "pretrain.layers[{i}] must be a mapping of layer settings"
            ));
        }
        let mut over = over.clone();
        let module = match over.as_object_mut().and_then(|m| m.remove("module")) {
            Some(m) => serde_json::from_value(m)
                .map_err(|e| format!("pretrain.layers[{i}].module: {e} (rbm, dae or cae)"))?,
            None => self.module,
        };
        Ok((module, Some(over)))
    }

    /// How each layer of a stack with these hidden sizes is pretrained: its module and its
    /// configuration.
    pub fn layer_plans(
        &self,
        hidden: &[usize],
        image_shape: Option<(usize, usize)>,
    ) -> Result<Vec<StackLayer>, String> {
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
        if !self.autoencoder.is_object() {
            return Err("pretrain.autoencoder must be a mapping of autoencoder settings".into());
        }
        if self.rbm.get("hidden").is_some() || self.layers.iter().any(|l| l.get("hidden").is_some())
        {
            return Err(
                "pretrain: layer sizes come from mlp.hidden; remove `hidden` from pretrain".into(),
            );
        }
        for key in ["hidden", "module"] {
            if self.autoencoder.get(key).is_some() {
                return Err(format!(
                    "pretrain.autoencoder.{key}: set it with mlp.hidden (sizes) or \
                     pretrain.module / pretrain.layers[i].module, not here"
                ));
            }
        }
        (0..hidden.len())
            .map(|i| {
                let (module, over) = self.layer_module(i)?;
                // Stacking defaults, then the shared block, then the layer's own settings.
                let (mut v, shared, name) = match module {
                    PretrainModule::Rbm => {
                        let mut v = serde_json::to_value(RbmConfig::default()).expect("json");
                        v["eval"]["ais"] = Value::Null;
                        (v, &self.rbm, "rbm")
                    }
                    PretrainModule::Dae | PretrainModule::Cae => {
                        let defaults = AutoencoderLayerConfig::default();
                        (
                            serde_json::to_value(defaults).expect("json"),
                            &self.autoencoder,
                            "autoencoder",
                        )
                    }
                };
                v["eval"]["checkpoint"] = Value::Bool(false);
                if i == 0
                    && let Some((r, c)) = image_shape
                {
                    v["eval"]["picture_shape"] = serde_json::json!([r, c]);
                }
                merge(&mut v, shared);
                let at = match &over {
                    Some(over) => {
                        merge(&mut v, over);
                        format!("pretrain.layers[{i}] over pretrain.{name}")
                    }
                    None => format!("pretrain.{name}"),
                };
                v["hidden"] = hidden[i].into();
                let err = |e: &dyn std::fmt::Display| format!("{at}: {e}");
                match module {
                    PretrainModule::Rbm => {
                        let cfg: RbmConfig = serde_json::from_value(v).map_err(|e| err(&e))?;
                        cfg.validate().map_err(|e| err(&e))?;
                        if cfg.init != RbmInit::Data {
                            return Err(err(&"`init` is for the `rbm:` stage; a stack's layers \
                                              start from the data"));
                        }
                        Ok(StackLayer::Rbm(cfg))
                    }
                    PretrainModule::Dae | PretrainModule::Cae => {
                        let m = if module == PretrainModule::Dae {
                            Module::Dae
                        } else {
                            Module::Cae
                        };
                        v["module"] = serde_json::to_value(m).expect("json");
                        let cfg: AutoencoderLayerConfig =
                            serde_json::from_value(v).map_err(|e| err(&e))?;
                        cfg.validate().map_err(|e| err(&e))?;
                        Ok(StackLayer::Autoencoder(cfg))
                    }
                }
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

    #[test]
    fn each_layer_takes_its_module_and_that_modules_shared_settings() {
        let p = cfg(
            "module: dae\nrbm: {epochs: 3}\nautoencoder: {epochs: 4, corruption: {masking: 0.3}}\n\
             layers: [{}, {module: cae, contraction: 0.2}, {module: rbm, lr: 0.01}]\n",
        );
        let plans = p.layer_plans(&[20, 10, 5], Some((28, 28))).unwrap();
        match &plans[..] {
            [
                StackLayer::Autoencoder(a),
                StackLayer::Autoencoder(b),
                StackLayer::Rbm(c),
            ] => {
                assert_eq!((a.module, a.hidden, a.epochs), (Module::Dae, 20, 4));
                assert_eq!(a.eval.picture_shape, Some([28, 28]));
                assert!(!a.eval.checkpoint, "no checkpoint while stacking");
                assert_eq!(
                    (b.module, b.hidden, b.contraction),
                    (Module::Cae, 10, Some(0.2))
                );
                assert_eq!((c.hidden, c.epochs, c.lr), (5, 3, 0.01));
            }
            other => panic!("{other:?}"),
        }
        // Without `module`, every layer is the RBM it always was.
        let plain = cfg("rbm: {epochs: 3}")
            .layer_plans(&[20, 10], None)
            .unwrap();
        assert!(plain.iter().all(|l| matches!(l, StackLayer::Rbm(_))));
        assert_eq!(
            serde_json::to_value(cfg("rbm: {epochs: 3}")).unwrap(),
            serde_json::json!({"rbm": {"epochs": 3}, "layers": [], "pass_up": "probabilities", "data": "all"}),
            "the serialized section (and so the config hash) of files without modules is unchanged"
        );
    }

    #[test]
    fn unknown_or_misplaced_module_settings_are_errors_naming_the_key() {
        let e = cfg("layers: [{}, {module: pca}]")
            .layer_plans(&[10, 5], None)
            .unwrap_err();
        assert!(e.contains("pretrain.layers[1].module"), "{e}");
        let e = serde_yaml::from_str::<PretrainConfig>("module: vae\n").unwrap_err();
        assert!(e.to_string().contains("vae"), "{e}");
        let e = cfg("module: dae\nautoencoder: {contraction: 0.1}")
            .layer_plans(&[10], None)
            .unwrap_err();
        assert!(
            e.contains("pretrain.autoencoder") && e.contains("contraction"),
            "{e}"
        );
        let e = cfg("module: cae\nautoencoder: {hidden: 5}")
            .layer_plans(&[10], None)
            .unwrap_err();
        assert!(e.contains("pretrain.autoencoder.hidden"), "{e}");
        // RBM settings on an autoencoder layer are unknown keys there.
        let e = cfg("module: dae\nlayers: [{cd_k: 3}]")
            .layer_plans(&[10], None)
            .unwrap_err();
        assert!(
            e.contains("pretrain.layers[0]") && e.contains("cd_k"),
            "{e}"
        );
    }
}
