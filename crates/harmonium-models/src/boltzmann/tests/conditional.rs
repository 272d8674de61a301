//! The paper's point: trained on outputs that are (1,1) or (0,0) half the time each, a
//! conditional machine puts its mass on the agreeing outcomes; the best product of marginals
//! (independent logistic outputs) cannot do better than 1/4 on each outcome.

use burn::tensor::{Device, Tensor, TensorData};

use super::tensor;
use crate::boltzmann::{
    Boltzmann, BoltzmannConfig, Connectivity, OutputDistributions, agreement_data,
};
use crate::events::{Event, VecSink};
use crate::rbm::HostDraws;

fn agreeing(dist: &[f64]) -> f64 {
    // Outcomes in order 00, 10, 01, 11.
    dist[0] + dist[3]
}

fn trained(cfg: &BoltzmannConfig, seed: u64) -> (Boltzmann, OutputDistributions) {
    let data = agreement_data(10, &Device::flex());
    let (model, _) = Boltzmann::fit(&data, None, cfg, &mut VecSink::default(), seed).unwrap();
    let dists = OutputDistributions::of(&model, &data, 20).unwrap();
    (model, dists)
}

#[test]
fn output_output_connections_put_the_mass_on_agreeing_outputs_where_a_product_cannot() {
    let cfg = BoltzmannConfig {
        hidden: 0,
        inputs: 1,
        epochs: 300,
        lr: 0.1,
        persistent: false,
        ..Default::default()
    };
    let (_, d) = trained(&cfg, 1);
    assert_eq!(d.outcomes, ["00", "10", "01", "11"]);
    assert_eq!(d.data, [0.5, 0.0, 0.0, 0.5]);
    assert!(agreeing(&d.machine) > 0.95, "{d:?}");
    for q in &d.product {
        assert!((q - 0.25).abs() < 1e-12, "{d:?}");
    }
    assert!((d.product_kl - 2f64.ln()).abs() < 1e-12, "{d:?}");
    assert!(d.machine_kl < 0.1, "{d:?}");
}

#[test]
fn hidden_units_alone_can_correlate_two_unconnected_outputs() {
    // Units x, y1, y2, h1, h2, every pair connected but y1–y2.
    let mut mask = super::full_mask(5);
    mask[1][2] = 0;
    mask[2][1] = 0;
    let cfg = BoltzmannConfig {
        hidden: 2,
        inputs: 1,
        connectivity: Connectivity::Mask(mask),
        epochs: 300,
        lr: 0.1,
        persistent: false,
        ..Default::default()
    };
    let data = agreement_data(10, &Device::flex());
    let untrained = Boltzmann::new(3, &cfg, &Device::flex(), &mut HostDraws::new(2)).unwrap();
    let before = OutputDistributions::of(&untrained, &data, 20).unwrap();
    assert!((agreeing(&before.machine) - 0.5).abs() < 0.05, "{before:?}");
    let (model, d) = trained(&cfg, 2);
    assert!(agreeing(&d.machine) > 0.9, "{d:?}");
    assert!(d.machine_kl < 0.15 && d.product_kl > 0.69, "{d:?}");
    let w = crate::eval::to_vec(model.weights.clone());
    assert_eq!(
        (w[5 + 2], w[2 * 5 + 1]),
        (0.0, 0.0),
        "y1–y2 stays unconnected"
    );
}

#[test]
fn distributions_average_over_the_inputs_and_the_product_uses_each_inputs_marginals() {
    let device = Device::flex();
    // No weights: p(y | x) = Π_j σ(b_j)^{y_j} (1 − σ(b_j))^{1 − y_j}.
    let b = [0.0f32, 1.0, -2.0];
    let model = Boltzmann::from_parts(
        3,
        1,
        Tensor::zeros([3, 3], &device),
        Tensor::from_data(TensorData::new(b.to_vec(), [3]), &device),
        super::full_mask(3),
    )
    .unwrap();
    // x = 1: y ∈ {11, 00}; x = 0: y = 10 twice.
    let data = tensor(
        &[
            vec![1.0, 1.0, 1.0],
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 1.0, 0.0],
        ],
        &device,
    );
    let d = OutputDistributions::of(&model, &data, 20).unwrap();
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-6);
    assert!(close(&d.data, &[0.25, 0.5, 0.0, 0.25]), "{d:?}");
    assert!(close(&d.product, &[0.125, 0.625, 0.125, 0.125]), "{d:?}");
    let s = |x: f64| 1.0 / (1.0 + (-x).exp());
    let (p1, p2) = (s(1.0), s(-2.0));
    let want = [
        (1.0 - p1) * (1.0 - p2),
        p1 * (1.0 - p2),
        (1.0 - p1) * p2,
        p1 * p2,
    ];
    assert!(close(&d.machine, &want), "{d:?}");
    assert!((d.product_kl - 0.5 * 2f64.ln()).abs() < 1e-9, "{d:?}");
    let kl_x1 = 0.5 * (0.5 / want[0]).ln() + 0.5 * (0.5 / want[3]).ln();
    let kl_x0 = (1.0 / want[1]).ln();
    assert!((d.machine_kl - 0.5 * (kl_x1 + kl_x0)).abs() < 1e-6, "{d:?}");
    let keys: Vec<String> = d.metrics().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 14);
    for key in [
        "data_p_00",
        "bm_p_11",
        "product_p_10",
        "bm_p_01",
        "bm_kl",
        "product_kl",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
    }
}

#[test]
fn training_a_conditional_machine_emits_its_output_distributions_and_their_bar_picture() {
    let device = Device::flex();
    let data = agreement_data(5, &device);
    let cfg = BoltzmannConfig {
        hidden: 1,
        inputs: 1,
        epochs: 3,
        persistent: false,
        ..Default::default()
    };
    let mut sink = VecSink::default();
    Boltzmann::fit(&data, None, &cfg, &mut sink, 3).unwrap();
    assert_eq!(sink.series("bm_p_11").len(), 1);
    assert_eq!(sink.series("product_p_11"), vec![(3, 0.25)]);
    assert_eq!(sink.series("exact_loglik").len(), 3);
    assert!(
        sink.series("exact_log_z").is_empty(),
        "no joint log Z for a conditional machine"
    );
    let pngs: Vec<&Vec<u8>> = sink
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Artifact {
                kind, name, bytes, ..
            } if kind == "outputs" => {
                assert_eq!(name, "boltzmann_outputs_epoch3.png");
                Some(bytes)
            }
            _ => None,
        })
        .collect();
    assert_eq!(pngs.len(), 1);
    let png = pngs[0];
    assert_eq!(&png[1..4], b"PNG");
    // Three panels of 4 bars (8 wide, 4 apart): 52 × 40 pixels each, in 1-pixel borders.
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (3 * 53 + 1, 42));
}
