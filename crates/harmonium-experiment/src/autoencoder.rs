//! The `autoencoder:` section: codes of the data by a deep autoencoder, by PCA or by logistic
//! PCA with the same code size (paper §2; Hinton & Salakhutdinov 2006), one method per trial so
//! that `harmonium compare --group-by method` prints the reconstruction error of each.
//!
//! ```yaml
//! autoencoder:
//!   method: deep                 # deep (default), pca or logistic_pca
//!   net:                         # the deep autoencoder (any key of its configuration)
//!     layers: [1000, 500, 250, 30]   # the encoder above the input; the last is the code size
//!     init: pretrained           # or random
//!     epochs: 20
//!     lr: 0.01
//!   rbm: {epochs: 10, lr: 0.1}   # the binary RBMs below the code layer (any rbm key but hidden)
//!   code: {epochs: 10}           # the code layer's linear RBM (any key but hidden)
//!   logistic_pca: {iterations: 100}   # method logistic_pca (any key but components)
//!   pca_beside: true             # a deep trial also fits PCA and draws it beside (default)
//! ```
//!
//! Every method codes the data with `net.layers`' last size: PCA keeps that many components,
//! logistic PCA that many basis vectors.

use harmonium_models::autoencoder::{CodeRbmConfig, DeepAutoencoderConfig, DeepAutoencoderError};
use harmonium_models::pca::{LogisticPcaConfig, PcaError};
use harmonium_models::rbm::{RbmConfig, RbmInit, VisibleType};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pretrain::merge;

/// How a trial codes its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoencoderMethod {
    /// The deep autoencoder of `net`, pretrained from RBMs or from random weights.
    #[default]
    Deep,
    /// Principal component analysis.
    Pca,
    /// Logistic PCA: a linear code of the logits of Bernoulli pixels.
    LogisticPca,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderSection {
    #[serde(default)]
    pub method: AutoencoderMethod,
    /// The deep autoencoder; its last layer is every method's code size.
    #[serde(default)]
    pub net: DeepAutoencoderConfig,
    /// Settings of the binary RBMs pretrained below the code layer, shared by all of them.
    #[serde(default = "empty_map")]
    pub rbm: Value,
    /// Settings of the code layer's RBM (linear hidden units).
    #[serde(default = "empty_map")]
    pub code: Value,
    /// Settings of logistic PCA.
    #[serde(default = "empty_map")]
    pub logistic_pca: Value,
    /// Whether a deep trial also fits PCA with the same code size, reports its errors
    /// (`pca_test_recon_error`, …) and draws its reconstructions (and 2-D code map) beside the
    /// autoencoder's.
    #[serde(default = "yes")]
    pub pca_beside: bool,
}

/// A model's configuration error under its key: `layers: …` in `net` → `autoencoder.net.layers: …`.
fn keyed(name: &str, e: DeepAutoencoderError) -> String {
    match e {
        DeepAutoencoderError::Config(m) => format!("autoencoder.{name}.{m}"),
        e => format!("autoencoder.{name}: {e}"),
    }
}

fn empty_map() -> Value {
    Value::Object(Default::default())
}

fn yes() -> bool {
    true
}

impl AutoencoderSection {
    /// The code size of every method: the last of `net.layers`.
    pub fn code_size(&self) -> usize {
        self.net.layers.last().copied().unwrap_or(0)
    }

    /// Checks the section as far as it can be without the data; errors name the key.
    pub fn validate(&self) -> Result<(), String> {
        self.net.validate().map_err(|e| keyed("net", e))?;
        self.rbm_configs(None)?;
        self.code_config()?;
        self.logistic_pca_config()?;
        Ok(())
    }

    /// The RBM of each binary layer below the code layer: stacking defaults (no AIS, no
    /// checkpoint; filter pictures on the first layer of images) ⊕ `rbm`, with `hidden` from
    /// `net.layers`.
    pub fn rbm_configs(
        &self,
        image_shape: Option<(usize, usize)>,
    ) -> Result<Vec<RbmConfig>, String> {
        if !self.rbm.is_object() {
            return Err("autoencoder.rbm must be a mapping of rbm settings".into());
        }
        if self.rbm.get("hidden").is_some() {
            return Err(
                "autoencoder.rbm.hidden: layer sizes come from autoencoder.net.layers".into(),
            );
        }
        let lower = &self.net.layers[..self.net.layers.len().saturating_sub(1)];
        lower
            .iter()
            .enumerate()
            .map(|(i, &hidden)| {
                let mut v = serde_json::to_value(RbmConfig::default()).expect("json");
                v["eval"]["ais"] = Value::Null;
                v["eval"]["checkpoint"] = Value::Bool(false);
                if let (0, Some((r, c))) = (i, image_shape) {
                    v["eval"]["picture_shape"] = serde_json::json!([r, c]);
                }
                merge(&mut v, &self.rbm);
                v["hidden"] = hidden.into();
                let err = |e: &dyn std::fmt::Display| format!("autoencoder.rbm: {e}");
                let cfg: RbmConfig = serde_json::from_value(v).map_err(|e| err(&e))?;
                cfg.validate().map_err(|e| err(&e))?;
                if cfg.init != RbmInit::Data {
                    return Err(err(&"`init` is for the `rbm:` stage; the stack's layers \
                                     start from the data"));
                }
                if cfg.visible_type != VisibleType::Binary {
                    return Err(err(&"`visible_type`: the autoencoder's RBMs have binary \
                                     visible units (its decoder's outputs are logistic)"));
                }
                Ok(cfg)
            })
            .collect()
    }

    /// The code layer's RBM: its defaults ⊕ `code`, with `hidden` the code size.
    pub fn code_config(&self) -> Result<CodeRbmConfig, String> {
        self.with_size(&self.code, "code", "hidden", CodeRbmConfig::default())
            .and_then(|c: CodeRbmConfig| c.validate().map_err(|e| keyed("code", e)).map(|_| c))
    }

    /// Logistic PCA's settings: its defaults ⊕ `logistic_pca`, `components` the code size.
    pub fn logistic_pca_config(&self) -> Result<LogisticPcaConfig, String> {
        self.with_size(
            &self.logistic_pca,
            "logistic_pca",
            "components",
            LogisticPcaConfig::default(),
        )
        .and_then(|c: LogisticPcaConfig| {
            c.validate()
                .map_err(|e| match e {
                    PcaError::Config(m) => format!("autoencoder.logistic_pca.{m}"),
                    e => format!("autoencoder.logistic_pca: {e}"),
                })
                .map(|_| c)
        })
    }

    /// `defaults` ⊕ `over`, with `size_key` set to the code size (and refused in `over`).
    fn with_size<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        over: &Value,
        name: &str,
        size_key: &str,
        defaults: T,
    ) -> Result<T, String> {
        if !over.is_object() {
            return Err(format!("autoencoder.{name} must be a mapping of settings"));
        }
        if over.get(size_key).is_some() {
            return Err(format!(
                "autoencoder.{name}.{size_key}: the code size comes from the last of \
                 autoencoder.net.layers"
            ));
        }
        let mut v = serde_json::to_value(defaults).expect("json");
        merge(&mut v, over);
        v[size_key] = self.code_size().max(1).into();
        serde_json::from_value(v).map_err(|e| format!("autoencoder.{name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(yaml: &str) -> AutoencoderSection {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn the_code_size_is_the_last_layer_for_every_method() {
        let s = section("net: {layers: [20, 10, 2]}\nrbm: {lr: 0.05}\ncode: {epochs: 3}\n");
        assert_eq!(s.code_size(), 2);
        assert_eq!(s.code_config().unwrap().hidden, 2);
        assert_eq!(s.code_config().unwrap().epochs, 3);
        assert_eq!(s.logistic_pca_config().unwrap().components, 2);
        let rbms = s.rbm_configs(Some((28, 28))).unwrap();
        assert_eq!(rbms.iter().map(|r| r.hidden).collect::<Vec<_>>(), [20, 10]);
        assert!(rbms.iter().all(|r| r.lr == 0.05 && r.eval.ais.is_none()));
        assert_eq!(rbms[0].eval.picture_shape, Some([28, 28]));
        assert_eq!(rbms[1].eval.picture_shape, None);
        s.validate().unwrap();
    }

    #[test]
    fn sizes_set_elsewhere_and_unknown_keys_are_refused_by_name() {
        for (yaml, key) in [
            ("code: {hidden: 5}", "autoencoder.code.hidden"),
            (
                "logistic_pca: {components: 5}",
                "autoencoder.logistic_pca.components",
            ),
            ("rbm: {hidden: 5}", "autoencoder.rbm.hidden"),
            ("rbm: {lrr: 0.1}", "autoencoder.rbm"),
            ("code: {epochz: 1}", "autoencoder.code"),
            ("rbm: {visible_type: gaussian}", "visible_type"),
            (
                "net: {layers: []}",
                "autoencoder.net.layers: a deep autoencoder needs",
            ),
            (
                "code: {lr: -1}",
                "autoencoder.code.lr must be a positive number",
            ),
            (
                "logistic_pca: {iterations: 0}",
                "autoencoder.logistic_pca.iterations must be",
            ),
        ] {
            let e = section(yaml).validate().unwrap_err();
            assert!(e.contains(key), "{yaml}: {e}");
        }
        let e = serde_yaml::from_str::<AutoencoderSection>("methd: pca").unwrap_err();
        assert!(e.to_string().contains("methd"), "{e}");
    }
}
