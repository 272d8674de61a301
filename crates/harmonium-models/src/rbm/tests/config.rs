//! The configuration as the YAML layer reads it.

use crate::rbm::{GaussianSigma, LrSchedule, Momentum, RbmConfig};

#[test]
fn config_reads_a_partial_section_with_defaults_and_rejects_unknown_keys() {
    let cfg: RbmConfig = serde_json::from_str(
        r#"{"hidden": 20, "cd_k": 3, "persistent": true, "visible_type": "gaussian",
            "gaussian_sigma": {"fixed": [1.0, 2.0]}, "momentum": {"final": 0.95},
            "lr_schedule": {"exponential": {"gamma": 0.9}}, "sparsity": {"target": 0.1},
            "eval": {"ais": null, "picture_shape": [28, 28]}}"#,
    )
    .unwrap();
    assert_eq!(
        (cfg.hidden, cfg.cd_k, cfg.persistent, cfg.batch_size),
        (20, 3, true, 100)
    );
    assert_eq!(cfg.gaussian_sigma, GaussianSigma::Fixed(vec![1.0, 2.0]));
    assert_eq!(
        cfg.momentum,
        Momentum {
            start: 0.5,
            r#final: 0.95,
            switch_epoch: 5
        }
    );
    assert_eq!(cfg.momentum.at(4), 0.5);
    assert_eq!(cfg.momentum.at(5), 0.95);
    assert!((cfg.lr_at(2) - 0.05 * 0.81).abs() < 1e-12);
    assert_eq!(cfg.sparsity.as_ref().unwrap().decay, 0.95);
    assert_eq!(cfg.eval.ais, None);
    let err = serde_json::from_str::<RbmConfig>(r#"{"hiden": 20}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `hiden`"), "{err}");
    let linear = RbmConfig {
        lr: 0.1,
        epochs: 11,
        lr_schedule: LrSchedule::Linear { final_lr: 0.0 },
        ..Default::default()
    };
    assert!((linear.lr_at(5) - 0.05).abs() < 1e-12 && linear.lr_at(10).abs() < 1e-12);
}
