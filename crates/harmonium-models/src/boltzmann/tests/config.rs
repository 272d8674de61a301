//! Validation names the key; serde defaults and unknown keys.

use crate::boltzmann::{BoltzmannConfig, BoltzmannError, Connectivity, GibbsOrder};

fn config_error(cfg: &BoltzmannConfig) -> String {
    match cfg.validate() {
        Err(BoltzmannError::Config(m)) => m,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn an_asymmetric_mask_is_an_error_naming_the_entry() {
    let mut mask = super::full_mask(6);
    mask[5][2] = 0;
    let cfg = BoltzmannConfig {
        connectivity: Connectivity::Mask(mask),
        ..Default::default()
    };
    assert_eq!(
        config_error(&cfg),
        "connectivity: the mask is not symmetric: (2,5) is 1 but (5,2) is 0"
    );
}

#[test]
fn self_connections_non_square_masks_and_values_other_than_0_1_are_errors() {
    let mut diagonal = super::full_mask(3);
    diagonal[1][1] = 1;
    let mut two = super::full_mask(3);
    two[0][2] = 2;
    two[2][0] = 2;
    let ragged = vec![vec![0, 1, 0], vec![1, 0], vec![0, 0, 0]];
    for (mask, wanted) in [
        (diagonal, "unit 1 is connected to itself: (1,1) is 1"),
        (two, "(0,2) is 2; entries must be 0 or 1"),
        (ragged, "row 1 has 2 entries but there are 3 rows"),
    ] {
        let cfg = BoltzmannConfig {
            connectivity: Connectivity::Mask(mask),
            ..Default::default()
        };
        let m = config_error(&cfg);
        assert!(
            m.starts_with("connectivity.mask: ") && m.contains(wanted),
            "{m}"
        );
    }
}

#[test]
fn a_mask_of_the_wrong_size_is_an_error_naming_both_sizes() {
    let cfg = BoltzmannConfig {
        hidden: 2,
        connectivity: Connectivity::Mask(super::full_mask(4)),
        ..Default::default()
    };
    cfg.validate().unwrap();
    let err = cfg.connectivity.mask(3, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid Boltzmann machine configuration: connectivity.mask: the mask is 4×4 but the \
         machine has 3 visible + 2 hidden = 5 units"
    );
}

#[test]
fn bad_values_are_errors_naming_their_key() {
    let d = BoltzmannConfig::default;
    let cases = [
        (
            BoltzmannConfig {
                batch_size: 0,
                ..d()
            },
            "batch_size",
        ),
        (BoltzmannConfig { lr: -1.0, ..d() }, "lr"),
        (
            BoltzmannConfig {
                lr_schedule: crate::rbm::LrSchedule::Exponential { gamma: 0.0 },
                ..d()
            },
            "lr_schedule.exponential.gamma",
        ),
        (
            BoltzmannConfig {
                momentum: crate::rbm::Momentum {
                    r#final: 1.0,
                    ..Default::default()
                },
                ..d()
            },
            "momentum.final",
        ),
        (
            BoltzmannConfig {
                weight_cost: f64::NAN,
                ..d()
            },
            "weight_cost",
        ),
        (
            BoltzmannConfig {
                free_sweeps: 0,
                ..d()
            },
            "free_sweeps",
        ),
        (
            BoltzmannConfig {
                clamped_sweeps: 2,
                average_sweeps: 3,
                ..d()
            },
            "average_sweeps (3) must be at most clamped_sweeps (2)",
        ),
        (
            BoltzmannConfig {
                inputs: 1,
                persistent: true,
                ..d()
            },
            "persistent: a conditional machine",
        ),
        (
            BoltzmannConfig {
                free_chains: 0,
                ..d()
            },
            "free_chains",
        ),
        (
            BoltzmannConfig {
                eval: crate::boltzmann::BoltzmannEvalConfig {
                    exact_max_units: 30,
                    ..Default::default()
                },
                ..d()
            },
            "eval.exact_max_units",
        ),
    ];
    for (cfg, key) in cases {
        let m = config_error(&cfg);
        assert!(m.contains(key), "{key}: {m}");
    }
    BoltzmannConfig {
        inputs: 1,
        persistent: false,
        ..d()
    }
    .validate()
    .unwrap();
}

#[test]
fn config_defaults_round_trip_and_unknown_keys_are_errors() {
    let cfg = BoltzmannConfig::default();
    cfg.validate().unwrap();
    assert_eq!((cfg.hidden, cfg.inputs, cfg.clamped_sweeps), (4, 0, 10));
    assert!(cfg.persistent);
    let json = serde_json::to_string(&cfg).unwrap();
    let back: BoltzmannConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let partial: BoltzmannConfig = serde_json::from_str(
        r#"{"hidden": 6, "gibbs_order": "colored",
            "connectivity": {"layers": {"hidden_hidden": false}}}"#,
    )
    .unwrap();
    assert_eq!(partial.hidden, 6);
    assert_eq!(partial.gibbs_order, GibbsOrder::Coloured);
    let Connectivity::Layers(blocks) = partial.connectivity else {
        panic!("layers expected");
    };
    assert!(blocks.visible_visible && blocks.visible_hidden && !blocks.hidden_hidden);
    let masked: BoltzmannConfig =
        serde_json::from_str(r#"{"connectivity": {"mask": [[0, 1], [1, 0]]}}"#).unwrap();
    assert_eq!(
        masked.connectivity,
        Connectivity::Mask(vec![vec![0, 1], vec![1, 0]])
    );
    for bad in [
        r#"{"hiden": 3}"#,
        r#"{"connectivity": {"layers": {"visible_hiden": true}}}"#,
        r#"{"connectivity": {"graph": []}}"#,
        r#"{"eval": {"exactly": true}}"#,
    ] {
        assert!(
            serde_json::from_str::<BoltzmannConfig>(bad).is_err(),
            "{bad}"
        );
    }
}
