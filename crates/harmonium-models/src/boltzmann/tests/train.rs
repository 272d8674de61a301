//! Training: bars and stripes, events, stopping, divergence, mismatched configs, pictures.

use std::cell::Cell;

use burn::tensor::Device;

use crate::boltzmann::{
    Boltzmann, BoltzmannConfig, BoltzmannError, BoltzmannEvalConfig, Connectivity, GibbsOrder,
    LayerConnectivity, Phase, bars_and_stripes,
};
use crate::events::{Event, EventSink, VecSink};
use crate::rbm::HostDraws;

fn bas_config(hidden: usize, epochs: usize) -> BoltzmannConfig {
    BoltzmannConfig {
        hidden,
        epochs,
        batch_size: 14,
        eval: BoltzmannEvalConfig {
            every: 50,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn training_on_bars_and_stripes_raises_the_exact_log_likelihood_towards_its_ceiling() {
    let device = Device::flex();
    let data = bars_and_stripes(3, &device);
    let cfg = bas_config(4, 400);
    // The machine as `fit` starts it.
    let mut start = Boltzmann::new(9, &cfg, &device, &mut HostDraws::new(1)).unwrap();
    start.init_visible_bias_from_data(&data).unwrap();
    let before = start.exact_mean_loglik(&data, 20).unwrap();
    let mut sink = VecSink::default();
    let (model, summary) = Boltzmann::fit(&data, None, &cfg, &mut sink, 1).unwrap();
    assert_eq!((summary.epochs, summary.stopped_early), (400, false));
    let ll = sink.series("exact_loglik");
    assert_eq!(ll.len(), 8, "{ll:?}");
    let after = ll.last().unwrap().1;
    let ceiling = -(14f64.ln());
    assert!(
        after > before + 2.5 && after > -3.3 && after < ceiling,
        "from {before} to {after} (best possible {ceiling}): {ll:?}"
    );
    assert!((model.exact_mean_loglik(&data, 20).unwrap() - after).abs() < 1e-9);
    for ((_, kl), (_, l)) in sink.series("exact_kl").iter().zip(&ll) {
        assert!((kl - (ceiling - l)).abs() < 1e-9 && *kl > 0.0, "{kl} {l}");
    }
    for key in [
        "epoch_seconds",
        "lr",
        "momentum",
        "mean_abs_dw",
        "mean_abs_weight",
    ] {
        assert_eq!(sink.series(key).len(), 400, "{key}");
    }
    assert_eq!(sink.series("exact_log_z").len(), 8);
    let lr = sink.series("lr");
    assert!(
        (lr[0].1 - cfg.lr).abs() < 1e-12 && lr[399].1 == 0.0,
        "linear to zero"
    );
    let progress: Vec<(u64, u64)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Progress { stage, done, total } if stage == "boltzmann" => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(progress.len(), 400);
    assert_eq!(progress[399], (400, 400));
    let last: Vec<&str> = summary
        .final_metrics
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(last.contains(&"exact_loglik"), "{last:?}");
}

#[test]
fn fresh_free_chains_with_colour_parallel_sweeps_learn_too() {
    let device = Device::flex();
    let data = bars_and_stripes(2, &device);
    // No hidden–hidden connections: the hidden units form one colour class.
    let blocks = LayerConnectivity {
        visible_visible: true,
        visible_hidden: true,
        hidden_hidden: false,
    };
    let cfg = BoltzmannConfig {
        persistent: false,
        free_chains: 200,
        gibbs_order: GibbsOrder::Coloured,
        connectivity: Connectivity::Layers(blocks),
        batch_size: 2,
        lr: 0.1,
        init_sigma: 0.1,
        ..bas_config(4, 300)
    };
    let mut start = Boltzmann::new(4, &cfg, &device, &mut HostDraws::new(2)).unwrap();
    start.init_visible_bias_from_data(&data).unwrap();
    let plan = start.gibbs_plan(Phase::Free, GibbsOrder::Coloured);
    assert!(plan.groups.contains(&vec![4, 5, 6, 7]), "{:?}", plan.groups);
    let before = start.exact_mean_loglik(&data, 20).unwrap();
    let mut sink = VecSink::default();
    Boltzmann::fit(&data, Some(&data), &cfg, &mut sink, 2).unwrap();
    let ll = sink.series("exact_loglik");
    let last = ll.last().unwrap().1;
    // 6 patterns: the best is −log 6 = −1.79; a uniform model scores −4 log 2 = −2.77.
    assert!(last > -2.05 && last > before + 0.6, "from {before}: {ll:?}");
    assert_eq!(sink.series("exact_loglik_valid"), ll);
    assert_eq!(sink.series("exact_kl_valid").len(), ll.len());
}

struct StopAfter {
    events: VecSink,
    progress: Cell<usize>,
    limit: usize,
}

impl EventSink for StopAfter {
    fn emit(&mut self, event: Event) {
        if matches!(event, Event::Progress { .. }) {
            self.progress.set(self.progress.get() + 1);
        }
        self.events.emit(event);
    }
    fn keep_going(&self) -> bool {
        self.progress.get() < self.limit
    }
}

#[test]
fn a_stop_request_ends_training_at_the_next_epoch_boundary() {
    let data = bars_and_stripes(3, &Device::flex());
    let mut sink = StopAfter {
        events: VecSink::default(),
        progress: Cell::new(0),
        limit: 3,
    };
    let mut cfg = bas_config(2, 50);
    cfg.eval.picture_shape = Some([3, 3]);
    let (_, summary) = Boltzmann::fit(&data, None, &cfg, &mut sink, 4).unwrap();
    assert_eq!((summary.epochs, summary.stopped_early), (3, true));
    assert_eq!(sink.events.series("epoch_seconds").len(), 3);
    assert!(
        !sink
            .events
            .0
            .iter()
            .any(|e| matches!(e, Event::Artifact { .. })),
        "no pictures after a stop"
    );
}

#[test]
fn divergence_is_an_error_naming_the_epoch() {
    let data = bars_and_stripes(3, &Device::flex());
    let cfg = BoltzmannConfig {
        lr: 1e38,
        weight_cost: 0.0,
        lr_schedule: crate::rbm::LrSchedule::Constant,
        ..bas_config(2, 20)
    };
    let err = Boltzmann::fit(&data, None, &cfg, &mut VecSink::default(), 5).unwrap_err();
    let BoltzmannError::Diverged { epoch, .. } = &err else {
        panic!("expected Diverged, got {err:?}");
    };
    assert!((1..=cfg.epochs).contains(epoch), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("diverged at epoch {epoch}")),
        "{err}"
    );
}

#[test]
fn a_config_that_does_not_match_the_machine_or_data_is_an_error() {
    let device = Device::flex();
    let data = bars_and_stripes(3, &device);
    let cfg = bas_config(2, 1);
    let mut model = Boltzmann::new(9, &cfg, &device, &mut HostDraws::new(6)).unwrap();
    let other = bas_config(3, 1);
    let err = model
        .train(&data, None, &other, &mut VecSink::default(), 6)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("hidden: 3 and inputs: 0 do not match"),
        "{err}"
    );
    let wrong = bars_and_stripes(2, &device);
    let err = model
        .train(&wrong, None, &cfg, &mut VecSink::default(), 6)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            BoltzmannError::Shape {
                expected: 9,
                got: 4,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn with_a_picture_shape_the_last_epoch_draws_the_free_chains() {
    let data = bars_and_stripes(3, &Device::flex());
    let mut cfg = bas_config(2, 2);
    cfg.free_chains = 16;
    cfg.eval.picture_shape = Some([3, 3]);
    let mut sink = VecSink::default();
    Boltzmann::fit(&data, None, &cfg, &mut sink, 7).unwrap();
    let pngs: Vec<(&String, &Vec<u8>)> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact { name, bytes, .. } => Some((name, bytes)),
            _ => None,
        })
        .inspect(|(name, _)| assert_eq!(name.as_str(), "boltzmann_samples_epoch2.png"))
        .collect();
    assert_eq!(pngs.len(), 1);
    // 16 chains in a 4 × 4 grid of 3 × 3 tiles with 1-pixel borders.
    let width = u32::from_be_bytes(pngs[0].1[16..20].try_into().unwrap());
    assert_eq!(width, 4 * 4 + 1);
}
