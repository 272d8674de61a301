//! The serde shapes, the module defaults, and validation errors naming their keys.

use crate::autoencoder::{AutoencoderLayerConfig, Corruption, Decoder, Module};

fn parse(json: &str) -> AutoencoderLayerConfig {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn error_of(cfg: AutoencoderLayerConfig) -> String {
    cfg.validate().unwrap_err().to_string()
}

#[test]
fn serde_shapes_and_module_defaults() {
    let dae = parse(r#"{"module": "dae", "hidden": 20, "corruption": {"masking": 0.3}}"#);
    assert_eq!(dae.corruption(), Corruption::Masking(0.3));
    assert_eq!(dae.contraction(), 0.0);
    let g = parse(r#"{"corruption": {"gaussian": 0.1}, "decoder": "linear"}"#);
    assert_eq!((g.module, g.decoder), (Module::Dae, Decoder::Linear));
    assert_eq!(g.corruption(), Corruption::Gaussian(0.1));
    assert_eq!(
        parse(r#"{"corruption": "none"}"#).corruption(),
        Corruption::None
    );
    // Left out: dae masks a quarter of its inputs; cae has no corruption and λ = 0.1.
    assert_eq!(parse("{}").corruption(), Corruption::Masking(0.25));
    let cae = parse(r#"{"module": "cae"}"#);
    assert_eq!(
        (cae.corruption(), cae.contraction()),
        (Corruption::None, 0.1)
    );
    assert_eq!(
        parse(r#"{"module": "cae", "contraction": 0.5}"#).contraction(),
        0.5
    );
    assert!(
        serde_json::from_str::<AutoencoderLayerConfig>(r#"{"hiden": 3}"#)
            .unwrap_err()
            .to_string()
            .contains("hiden")
    );
    assert!(
        serde_json::from_str::<AutoencoderLayerConfig>(r#"{"corruption": {"salt": 0.1}}"#).is_err()
    );
    // Round trip.
    let back: AutoencoderLayerConfig =
        serde_json::from_str(&serde_json::to_string(&dae).unwrap()).unwrap();
    assert_eq!(back, dae);
    assert!(AutoencoderLayerConfig::default().validate().is_ok());
    assert!(cae.validate().is_ok());
}

#[test]
fn validation_errors_name_the_key() {
    let base = AutoencoderLayerConfig::default;
    let cases: Vec<(AutoencoderLayerConfig, &str)> = vec![
        (
            AutoencoderLayerConfig {
                corruption: Some(Corruption::Masking(1.5)),
                ..base()
            },
            "corruption.masking: 1.5 is not a probability",
        ),
        (
            AutoencoderLayerConfig {
                corruption: Some(Corruption::Masking(1.0)),
                ..base()
            },
            "corruption.masking: 1 would set every input to 0",
        ),
        (
            AutoencoderLayerConfig {
                corruption: Some(Corruption::Gaussian(-0.1)),
                ..base()
            },
            "corruption.gaussian: -0.1",
        ),
        (
            AutoencoderLayerConfig {
                contraction: Some(0.1),
                ..base()
            },
            "contraction: needs module: cae",
        ),
        (
            AutoencoderLayerConfig {
                module: Module::Cae,
                contraction: Some(-1.0),
                ..base()
            },
            "contraction: -1 must be a non-negative number",
        ),
        (
            AutoencoderLayerConfig {
                hidden: 0,
                ..base()
            },
            "hidden:",
        ),
        (
            AutoencoderLayerConfig {
                batch_size: 0,
                ..base()
            },
            "batch_size:",
        ),
        (AutoencoderLayerConfig { lr: 0.0, ..base() }, "lr:"),
        (
            AutoencoderLayerConfig {
                weight_cost: f64::NAN,
                ..base()
            },
            "weight_cost:",
        ),
        (
            AutoencoderLayerConfig {
                init_sigma: 0.0,
                ..base()
            },
            "init_sigma:",
        ),
        (
            AutoencoderLayerConfig {
                momentum: crate::rbm::Momentum {
                    r#final: 1.0,
                    ..Default::default()
                },
                ..base()
            },
            "momentum:",
        ),
    ];
    for (cfg, key) in cases {
        let e = error_of(cfg);
        assert!(e.contains(key), "{e:?} should contain {key:?}");
    }
    let mut cfg = base();
    cfg.eval.max_examples = 0;
    assert!(error_of(cfg).contains("eval.max_examples"));
    let mut cfg = base();
    cfg.eval.picture_shape = Some([28, 0]);
    assert!(error_of(cfg).contains("eval.picture_shape"));
}
