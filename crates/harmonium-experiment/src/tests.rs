//! Schema and sweep tests: errors with lines, expansion counts, determinism, hash stability.

use crate::config::parse_experiment;
use crate::sweep::expand;

const BASE: &str = "name: t
dataset: {name: mnist, train_size: 100}
seeds: [1, 2]
mlp:
  hidden: [16]
  epochs: 1
";

fn err(text: &str) -> String {
    parse_experiment(text, "exp.yaml").unwrap_err().to_string()
}

#[test]
fn unknown_key_is_reported_with_file_line_and_key() {
    let e = err(&format!("{BASE}  lrr: 0.1\n"));
    assert!(e.starts_with("exp.yaml: "), "{e}");
    assert!(
        e.contains("unknown field `lrr`") && e.contains("line 7"),
        "{e}"
    );
    let e = err(&format!("{BASE}colour: blue\n"));
    assert!(e.contains("colour") && e.contains("line 7"), "{e}");
}

#[test]
fn bad_type_is_reported_with_its_line() {
    let e = err(&BASE.replace("epochs: 1", "epochs: many"));
    assert!(e.contains("line 6") && e.contains("epochs"), "{e}");
}

#[test]
fn malformed_yaml_is_reported_with_its_line() {
    // The flow mapping opened on line 2 is not closed; the parser notices on line 3.
    let e = err("name: t\ndataset: {name: mnist\nseeds: [1]\n");
    assert!(e.starts_with("exp.yaml: "), "{e}");
    assert!(e.contains("at line 3 column 6"), "{e}");
    assert!(e.contains("flow mapping at line 2 column 10"), "{e}");
    // A bad indentation names its own line.
    let e = err("name: t\ndataset:\n  name: mnist\n bad: 1\nseeds: [1]\n");
    assert!(e.contains("at line 4 column 2"), "{e}");
}

#[test]
fn dotted_path_that_names_no_field_is_an_error_with_its_line() {
    let text = format!("{BASE}sweep:\n  parameters:\n    mlp.lrr: [0.1, 0.2]\n");
    let e = err(&text);
    assert!(
        e.contains("'mlp.lrr'") && e.contains("line 9") && e.contains("unknown field `lrr`"),
        "{e}"
    );
    let e = err(&format!(
        "{BASE}sweep:\n  parameters:\n    mlp.epochs.x: [1]\n"
    ));
    assert!(e.contains("not a section"), "{e}");
}

#[test]
fn impossible_values_are_errors_before_anything_runs() {
    let e = err(&format!(
        "{BASE}sweep:\n  parameters:\n    mlp.hidden: [[16], [0]]\n"
    ));
    assert!(e.contains("hidden layer sizes must be positive"), "{e}");
    let e = err(&format!(
        "{BASE}sweep:\n  parameters:\n    mlp.lr: {{distribution: log_uniform, min: 0, max: 1}}\n"
    ));
    assert!(e.contains("min > 0"), "{e}");
}

#[test]
fn grid_expansion_is_the_product_of_lists_times_seeds() {
    let text = format!(
        "{BASE}sweep:\n  parameters:\n    mlp.lr: [0.1, 0.2, 0.3]\n    mlp.hidden: [[8], [16, 16]]\n"
    );
    let exp = parse_experiment(&text, "x").unwrap();
    let trials = expand(&exp, &text).unwrap();
    assert_eq!(trials.len(), 3 * 2 * 2);
    let hashes: std::collections::HashSet<_> = trials.iter().map(|t| t.hash.clone()).collect();
    assert_eq!(hashes.len(), trials.len(), "every trial has its own hash");
    // Keys expand in sorted order, the first one outermost.
    assert_eq!(trials[0].config.mlp.as_ref().unwrap().hidden, vec![8]);
    assert_eq!(trials[2].config.mlp.as_ref().unwrap().lr, 0.2);
    assert!(
        trials
            .iter()
            .any(|t| t.config.mlp.as_ref().unwrap().lr == 0.3 && t.seed == 2)
    );
}

#[test]
fn random_expansion_is_deterministic_and_within_bounds() {
    let sweep = "sweep:\n  method: random\n  samples: 20\n  seed: 5\n  parameters:\n    \
                 mlp.lr: {distribution: log_uniform, min: 0.001, max: 0.1}\n    \
                 mlp.epochs: {distribution: int_uniform, min: 2, max: 4}\n    \
                 mlp.momentum: {distribution: uniform, min: 0.5, max: 0.9}\n    \
                 mlp.activation: {distribution: choice, values: [sigmoid, relu]}\n";
    let text = format!("{BASE}{sweep}");
    let exp = parse_experiment(&text, "x").unwrap();
    let a = expand(&exp, &text).unwrap();
    let b = expand(&exp, &text).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 40);
    for t in &a {
        let m = t.config.mlp.as_ref().unwrap();
        assert!((0.001..=0.1).contains(&m.lr), "{}", m.lr);
        assert!((2..=4).contains(&m.epochs));
        assert!((0.5..=0.9).contains(&m.momentum));
    }
    let distinct: std::collections::HashSet<u64> = a
        .iter()
        .map(|t| t.config.mlp.as_ref().unwrap().lr.to_bits())
        .collect();
    assert_eq!(distinct.len(), 20);
    let text2 = text.replace("seed: 5", "seed: 6");
    let c = expand(&parse_experiment(&text2, "x").unwrap(), &text2).unwrap();
    assert_ne!(a[0].config, c[0].config);
}

#[test]
fn excluded_grid_points_are_left_out_and_the_rest_keep_their_hashes() {
    let grid = "sweep:\n  parameters:\n    mlp.lr: [0.1, 0.2]\n    mlp.epochs: [1, 2, 3]\n";
    let full = format!("{BASE}{grid}");
    let all = expand(&parse_experiment(&full, "x").unwrap(), &full).unwrap();
    let text = format!(
        "{full}  exclude:\n    - {{mlp.lr: 0.2, mlp.epochs: 3}}\n    - {{mlp.epochs: 1}}\n"
    );
    let kept = expand(&parse_experiment(&text, "x").unwrap(), &text).unwrap();
    // 6 points less (0.2, 3) and both points with 1 epoch: 3 points × 2 seeds.
    assert_eq!(kept.len(), 3 * 2);
    assert_eq!(
        kept.iter().map(|t| t.index).collect::<Vec<_>>(),
        (0..6).collect::<Vec<_>>()
    );
    for t in &kept {
        let m = t.config.mlp.as_ref().unwrap();
        assert!(
            m.epochs != 1 && !(m.lr == 0.2 && m.epochs == 3),
            "{}",
            t.label()
        );
        let same = all
            .iter()
            .find(|a| a.config == t.config && a.seed == t.seed);
        assert_eq!(same.map(|a| &a.hash), Some(&t.hash));
    }
    // With a cap, the first trials that are not excluded.
    let capped = text.replace("sweep:\n", "sweep:\n  run_cap: 2\n");
    let first = expand(&parse_experiment(&capped, "x").unwrap(), &capped).unwrap();
    assert_eq!(first, kept[..2]);
    // Exclusion is for grids.
    let random = "sweep:\n  method: random\n  samples: 2\n  parameters:\n    \
                  mlp.lr: {distribution: uniform, min: 0.1, max: 0.2}\n  exclude:\n    \
                  - {mlp.lr: 0.1}\n";
    let e = err(&format!("{BASE}{random}"));
    assert!(
        e.contains("sweep.exclude") && e.contains("method: grid"),
        "{e}"
    );
}

#[test]
fn run_cap_limits_the_trials() {
    let text = format!("{BASE}sweep:\n  run_cap: 3\n  parameters:\n    mlp.lr: [0.1, 0.2, 0.3]\n");
    let exp = parse_experiment(&text, "x").unwrap();
    assert_eq!(expand(&exp, &text).unwrap().len(), 3);
}

#[test]
fn hash_ignores_formatting_and_changes_with_any_value() {
    let a = parse_experiment(BASE, "x").unwrap();
    let reformatted = "name: other-name\ndescription: same trial\nseeds: [1, 2]\nmlp: {epochs: 1, hidden: [16]}\ndataset:\n  train_size: 100\n  name: mnist\n";
    let b = parse_experiment(reformatted, "x").unwrap();
    let ha: Vec<String> = expand(&a, BASE)
        .unwrap()
        .into_iter()
        .map(|t| t.hash)
        .collect();
    let hb: Vec<String> = expand(&b, reformatted)
        .unwrap()
        .into_iter()
        .map(|t| t.hash)
        .collect();
    assert_eq!(ha, hb);
    let changed = BASE.replace("epochs: 1", "epochs: 2");
    let hc: Vec<String> = expand(&parse_experiment(&changed, "x").unwrap(), &changed)
        .unwrap()
        .into_iter()
        .map(|t| t.hash)
        .collect();
    assert_ne!(ha[0], hc[0]);
    // Pinned: a hash must not drift between versions for the same config and seed, or resuming
    // would rerun finished trials.
    assert_eq!(ha[0], "fd93c8529c45bb00");
}

#[test]
fn file_and_trial_keys_agree() {
    // Every key a trial config serializes must be accepted at the top of a file, and vice versa.
    let exp = parse_experiment(BASE, "x").unwrap();
    let json = crate::config::to_json(&exp.trial);
    let keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
    let mut text = String::from("name: t\n");
    for k in &keys {
        text.push_str(&format!("{k}: {}\n", json[k]));
    }
    let back = parse_experiment(&text, "x").unwrap();
    assert_eq!(back.trial, exp.trial);
}

const DBN: &str = "name: d
dataset: {name: mnist, train_size: 100}
seeds: [1]
mlp: {hidden: [16, 8], epochs: 1, init: pretrained}
pretrain:
  rbm: {epochs: 1, lr: 0.05}
";

fn stack_keys(text: &str) -> Vec<Option<String>> {
    let exp = parse_experiment(text, "x").unwrap();
    expand(&exp, text)
        .unwrap()
        .iter()
        .map(|t| crate::pipeline::stack_plan(t, std::path::Path::new("no-data-here")).map(|p| p.3))
        .collect()
}

#[test]
fn stage_cache_key_ignores_fine_tuning_and_follows_pretraining() {
    let keys = stack_keys(&format!(
        "{DBN}sweep:\n  parameters:\n    mlp.lr: [0.1, 0.2]\n    mlp.epochs: [1, 3]\n"
    ));
    assert!(
        keys.iter().all(|k| k.is_some() && *k == keys[0]),
        "{keys:?}"
    );
    let keys = stack_keys(&format!(
        "{DBN}sweep:\n  parameters:\n    pretrain.rbm.lr: [0.05, 0.01]\n"
    ));
    assert_ne!(keys[0], keys[1]);
    let keys = stack_keys(&format!(
        "{DBN}sweep:\n  parameters:\n    pretrain.pass_up: [probabilities, samples]\n"
    ));
    assert_ne!(keys[0], keys[1]);
    let keys = stack_keys(&format!(
        "{DBN}sweep:\n  parameters:\n    mlp.hidden: [[16, 8], [16, 9]]\n"
    ));
    assert_ne!(keys[0], keys[1]);
    let keys = stack_keys(&DBN.replace("seeds: [1]", "seeds: [1, 2]"));
    assert_ne!(keys[0], keys[1], "the seed is part of the key");
    // The labelled-set size does not change the stack when pretraining uses all images...
    let keys = stack_keys(&format!(
        "{DBN}sweep:\n  parameters:\n    dataset.train_size: [100, 1000]\n"
    ));
    assert_eq!(keys[0], keys[1]);
    // ...but does when it uses only the labelled ones.
    let labelled = DBN.replace(
        "rbm: {epochs: 1, lr: 0.05}",
        "rbm: {epochs: 1, lr: 0.05}\n  data: labelled",
    );
    let keys = stack_keys(&format!(
        "{labelled}sweep:\n  parameters:\n    dataset.train_size: [100, 1000]\n"
    ));
    assert_ne!(keys[0], keys[1]);
    // Random init needs no stack.
    let keys = stack_keys(&DBN.replace("init: pretrained", "init: random"));
    assert_eq!(keys, vec![None]);
}

#[test]
fn stage_cache_key_ignores_evaluation_settings_and_follows_the_learning_rate() {
    let key = |rbm: &str| {
        let text = DBN.replace("rbm: {epochs: 1, lr: 0.05}", rbm);
        stack_keys(&text)[0].clone().expect("a stack")
    };
    let base = key("rbm: {epochs: 1, lr: 0.05}");
    for eval in [
        "{picture_filters: 16, sample_chains: 4, sample_steps: 10, pictures_every: 1}",
        "{picture_shape: [4, 4]}",
        "{ais: {runs: 10, betas: 200}}",
        "{every: 0, max_examples: 100, pseudo_likelihood: false, exact_loglik: false}",
        "{checkpoint: true}",
    ] {
        assert_eq!(
            key(&format!("rbm: {{epochs: 1, lr: 0.05, eval: {eval}}}")),
            base,
            "eval {eval} changes no weight"
        );
    }
    let per_layer = "rbm: {epochs: 1, lr: 0.05}\n  layers: [{}, {eval: {pictures_every: 2}}]";
    assert_eq!(key(per_layer), base);
    assert_ne!(key("rbm: {epochs: 1, lr: 0.01}"), base);
    for training in [
        "rbm: {epochs: 2, lr: 0.05}",
        "rbm: {epochs: 1, lr: 0.05, cd_k: 3}",
        "rbm: {epochs: 1, lr: 0.05, batch_size: 10}",
        "rbm: {epochs: 1, lr: 0.05, weight_cost: 0.001}",
        "rbm: {epochs: 1, lr: 0.05, momentum: {final: 0.8}}",
        "rbm: {epochs: 1, lr: 0.05, sparsity: {target: 0.1}}",
        "rbm: {epochs: 1, lr: 0.05, init_sigma: 0.1}",
    ] {
        assert_ne!(key(training), base, "{training} changes the weights");
    }
}

#[test]
fn dbn_and_pretrained_name_the_same_init_and_hash_alike() {
    use harmonium_models::mlp::InitSource;
    let hashes = |text: &str| -> Vec<String> {
        let exp = parse_experiment(text, "x").unwrap();
        assert_eq!(exp.trial.mlp.as_ref().unwrap().init, InitSource::Dbn);
        expand(&exp, text)
            .unwrap()
            .into_iter()
            .map(|t| t.hash)
            .collect()
    };
    let old = hashes(DBN);
    assert_eq!(hashes(&DBN.replace("init: pretrained", "init: dbn")), old);
    // Stored (and hashed) under its older name, so files that wrote it keep their hashes.
    let exp = parse_experiment(DBN, "x").unwrap();
    assert_eq!(
        crate::config::to_json(&exp.trial)["mlp"]["init"],
        "pretrained"
    );
    assert_eq!(old, vec!["e255c92d6ba4f2ec".to_string()]);
    assert_eq!(
        stack_keys(&DBN.replace("init: pretrained", "init: dbn")),
        stack_keys(DBN)
    );
    let text = format!("{DBN}sweep:\n  parameters:\n    mlp.init: [random, dbn]\n");
    let exp = parse_experiment(&text, "x").unwrap();
    let inits: Vec<InitSource> = expand(&exp, &text)
        .unwrap()
        .iter()
        .map(|t| t.config.mlp.as_ref().unwrap().init)
        .collect();
    assert_eq!(inits, [InitSource::Random, InitSource::Dbn]);
    // Both names in one sweep are one configuration twice: refused as a repeat.
    let both = format!("{DBN}sweep:\n  parameters:\n    mlp.init: [dbn, pretrained]\n");
    let e = load_and_expand(&both).unwrap_err();
    assert!(e.contains("same configuration"), "{e}");
}

#[test]
fn pretrained_init_needs_a_pretrain_section_and_sigmoid_units() {
    let e = err(&DBN.replace("pretrain:\n  rbm: {epochs: 1, lr: 0.05}\n", ""));
    assert!(e.contains("needs a `pretrain:` section"), "{e}");
    let e = err(&DBN.replace("init: pretrained", "init: pretrained, activation: relu"));
    assert!(e.contains("sigmoid"), "{e}");
    let e = err(&DBN.replace("lr: 0.05}", "lrr: 0.05}"));
    assert!(e.contains("pretrain.rbm") && e.contains("lrr"), "{e}");
}

#[test]
fn enum_values_with_data_are_one_key_mappings_in_yaml_and_sweeps() {
    use harmonium_models::rbm::{GaussianSigma, RbmInit};
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("rbm.safetensors");
    std::fs::write(&ckpt, b"x").unwrap();
    let text = format!(
        "name: t\ndataset: {{name: mnist, train_size: 100}}\nrbm:\n  hidden: 4\n  \
         visible_type: gaussian\n  gaussian_sigma: {{fixed: [1.0, 2.0]}}\n  \
         init: {{checkpoint: {}}}\nsweep:\n  parameters:\n    rbm.gaussian_sigma: [unit, {{fixed: [3.0]}}]\n",
        ckpt.display()
    );
    let exp = parse_experiment(&text, "x").unwrap();
    let rbm = exp.trial.rbm.as_ref().unwrap();
    assert_eq!(rbm.gaussian_sigma, GaussianSigma::Fixed(vec![1.0, 2.0]));
    assert_eq!(rbm.init, RbmInit::Checkpoint(ckpt.clone()));
    let sigmas: Vec<GaussianSigma> = expand(&exp, &text)
        .unwrap()
        .iter()
        .map(|t| t.config.rbm.as_ref().unwrap().gaussian_sigma.clone())
        .collect();
    assert_eq!(
        sigmas,
        vec![GaussianSigma::Unit, GaussianSigma::Fixed(vec![3.0])]
    );
    // A missing checkpoint is named before anything runs.
    let e = err(&text.replace("rbm.safetensors", "missing.safetensors"));
    assert!(
        e.contains("rbm.init.checkpoint") && e.contains("missing.safetensors"),
        "{e}"
    );
}

fn load_and_expand(text: &str) -> Result<Vec<crate::Trial>, String> {
    let exp = parse_experiment(text, "x").map_err(|e| e.to_string())?;
    expand(&exp, text)
}

#[test]
fn a_repeated_seed_or_sweep_value_is_refused_with_its_line() {
    let seeds = "name: dup\ndataset: {name: mnist}\nseeds: [1, 1]\nmlp: {hidden: [8]}\n";
    let e = load_and_expand(seeds).unwrap_err();
    assert!(
        e.contains("trials 0 and 1") && e.contains("`seeds` (line 3)") && e.contains("seed 1"),
        "{e}"
    );
    let values = "name: dup\ndataset: {name: mnist}\nseeds: [1, 2]\nmlp: {hidden: [8]}\nsweep:\n  parameters:\n    mlp.lr: [0.1, 0.3, 0.1]\n";
    let e = load_and_expand(values).unwrap_err();
    assert!(e.contains("trials 0 and 4"), "{e}");
    let distinct = "name: ok\ndataset: {name: mnist}\nseeds: [1, 2]\nmlp: {hidden: [8]}\nsweep:\n  parameters:\n    mlp.lr: [0.1, 0.3]\n";
    assert_eq!(load_and_expand(distinct).unwrap().len(), 4);
}

#[test]
fn grid_points_come_first_parameter_slowest_and_run_cap_takes_the_first() {
    let text = format!(
        "{BASE}sweep:\n  run_cap: 5\n  parameters:\n    mlp.lr: [0.1, 0.2]\n    mlp.epochs: [1, 2, 3]\n"
    );
    let exp = parse_experiment(&text, "x").unwrap();
    let labels: Vec<String> = expand(&exp, &text)
        .unwrap()
        .iter()
        .map(|t| t.label())
        .collect();
    assert_eq!(
        labels,
        [
            "mlp.epochs=1 mlp.lr=0.1 seed=1",
            "mlp.epochs=1 mlp.lr=0.1 seed=2",
            "mlp.epochs=1 mlp.lr=0.2 seed=1",
            "mlp.epochs=1 mlp.lr=0.2 seed=2",
            "mlp.epochs=2 mlp.lr=0.1 seed=1",
        ]
    );
    let all = text.replace("  run_cap: 5\n", "");
    let exp = parse_experiment(&all, "x").unwrap();
    let trials = expand(&exp, &all).unwrap();
    assert_eq!(trials.len(), 12);
    assert_eq!(trials[11].label(), "mlp.epochs=3 mlp.lr=0.2 seed=2");
}

#[test]
fn a_grid_too_large_is_refused_with_its_count_and_a_missing_section_with_its_line() {
    let values = format!(
        "[{}]",
        (1..=100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let text = format!(
        "{BASE}sweep:\n  parameters:\n    mlp.epochs: {values}\n    mlp.batch_size: {values}\n    mlp.patience: {values}\n"
    );
    let e = err(&text);
    assert!(
        e.contains("sweep (line 7)") && e.contains("2,000,000 trials") && e.contains("run_cap"),
        "{e}"
    );
    let e = err(&format!(
        "{BASE}sweep:\n  parameters:\n    pretrain.rbm.lr: [0.1]\n"
    ));
    assert!(
        e.contains("line 9") && e.contains("no `pretrain:` section"),
        "{e}"
    );
    // A whole section may be swept in.
    let text = format!("{BASE}sweep:\n  parameters:\n    rbm: [{{hidden: 8, epochs: 1}}]\n");
    parse_experiment(&text, "x").unwrap();
}

const TUNED: &str = "sweep:
  parameters:
    mlp.hidden: [[8], [16]]
  tune:
    method: random
    samples: 3
    seed: 7
    parameters:
      mlp.lr: {distribution: log_uniform, min: 0.01, max: 1.0}
  metric: {name: best_valid_error, goal: minimize}
";

#[test]
fn every_cell_is_tuned_with_the_same_draws_and_its_choice_runs_over_the_seeds() {
    use crate::runner::choose;
    use crate::sweep::{Goal, expand_tuning, final_trials};
    let text = format!("{BASE}{TUNED}");
    let exp = parse_experiment(&text, "x").unwrap();
    let cells = expand_tuning(&exp, &text).unwrap().unwrap();
    assert_eq!(cells.len(), 2);
    let lrs = |c: &crate::sweep::TuneCell| -> Vec<f64> {
        c.trials
            .iter()
            .map(|t| t.config.mlp.as_ref().unwrap().lr)
            .collect()
    };
    // The same three learning rates in both cells, every trial with the first seed and its
    // cell's size; trials numbered across cells.
    assert_eq!(lrs(&cells[0]), lrs(&cells[1]));
    assert!(lrs(&cells[0]).iter().all(|lr| (0.01..=1.0).contains(lr)));
    for (c, hidden) in cells.iter().zip([vec![8], vec![16]]) {
        for t in &c.trials {
            assert_eq!(t.seed, 1);
            assert_eq!(t.config.mlp.as_ref().unwrap().hidden, hidden);
        }
    }
    let indices: Vec<usize> = cells
        .iter()
        .flat_map(|c| &c.trials)
        .map(|t| t.index)
        .collect();
    assert_eq!(indices, (0..6).collect::<Vec<_>>());
    // Choosing: the lowest finished number; NaN and unfinished trials are passed over.
    let mut values = std::collections::HashMap::new();
    for (t, v) in cells[0]
        .trials
        .iter()
        .zip([Some(0.3), Some(0.1), Some(0.2)])
    {
        values.insert(t.hash.clone(), v);
    }
    values.insert(cells[1].trials[0].hash.clone(), None);
    values.insert(cells[1].trials[1].hash.clone(), Some(f64::NAN));
    assert_eq!(choose(&cells, &values, Goal::Minimize), [Some(1), None]);
    assert_eq!(choose(&cells, &values, Goal::Maximize), [Some(0), None]);
    values.insert(cells[1].trials[2].hash.clone(), Some(0.5));
    let chosen = choose(&cells, &values, Goal::Minimize);
    assert_eq!(chosen, [Some(1), Some(2)]);
    // The final trials: each chosen configuration once per seed, its hash that of the same
    // configuration and seed.
    let finals = final_trials(&exp, &cells, &chosen);
    assert_eq!(finals.len(), 2 * 2);
    assert_eq!(finals[0].config, cells[0].trials[1].config);
    assert_eq!(
        finals[0].hash, cells[0].trials[1].hash,
        "seed 1 is the tuning seed"
    );
    assert_eq!(finals[1].seed, 2);
    assert_eq!(finals[3].config, cells[1].trials[2].config);
    assert_eq!(
        finals.iter().map(|t| t.index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    // Without `tune`, nothing to tune.
    assert!(
        expand_tuning(&parse_experiment(BASE, "x").unwrap(), BASE)
            .unwrap()
            .is_none()
    );
}

#[test]
fn tuning_by_a_test_metric_or_a_parameter_at_both_levels_is_refused() {
    let text = format!("{BASE}{TUNED}");
    let by_test = text.replace("best_valid_error", "best_test_error");
    let e = err(&by_test);
    assert!(
        e.contains("sweep.tune (line") && e.contains("test set"),
        "{e}"
    );
    let both = text.replace(
        "      mlp.lr: {distribution",
        "      mlp.hidden: [[4]]\n      mlp.lr: {distribution",
    );
    let e = err(&both);
    assert!(e.contains("'mlp.hidden' is both"), "{e}");
    let no_metric = text.replace("  metric: {name: best_valid_error, goal: minimize}\n", "");
    let e = err(&no_metric);
    assert!(e.contains("needs a metric"), "{e}");
    let typo = text.replace("    samples: 3", "    sample: 3");
    let e = err(&typo);
    assert!(e.contains("sample"), "{e}");
}
