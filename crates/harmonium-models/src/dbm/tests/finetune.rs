//! The fine-tuned net's start: its input is the data with the top layer's mean-field posterior,
//! and (two hidden layers) its first hidden layer computes the mean-field update of h¹.

use burn::tensor::{Device, Tensor};

use super::random_dbm;
use crate::dbm::MeanFieldConfig;
use crate::eval::testing::{bits, tensor_from_rows};
use crate::eval::to_vec;
use crate::mlp::{Activation, Mlp};

fn visible(device: &Device) -> Tensor<2> {
    let rows: Vec<Vec<f64>> = [0usize, 5, 77, 200, 255]
        .iter()
        .map(|&s| bits(s, 8))
        .collect();
    tensor_from_rows(&rows, device)
}

#[test]
fn the_input_is_the_data_with_the_top_posterior() {
    let device = Device::flex();
    let dbm = random_dbm(&[8, 4, 3], 1.0, 5, &device);
    let cfg = MeanFieldConfig::default();
    let v = visible(&device);
    let x = dbm.augmented_input(&v, &cfg);
    assert_eq!(x.dims(), [5, 8 + 3]);
    let q = dbm.mean_field(v.clone(), &cfg);
    let want = to_vec(Tensor::cat(vec![v, q.hidden[1].clone()], 1));
    for (a, b) in to_vec(x).iter().zip(&want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn the_first_hidden_layer_computes_the_mean_field_update_of_h1() {
    let device = Device::flex();
    let dbm = random_dbm(&[8, 4, 3], 1.0, 9, &device);
    let cfg = MeanFieldConfig {
        max_iterations: 50,
        tolerance: 0.0,
    };
    let v = visible(&device);
    let q = dbm.mean_field(v.clone(), &cfg);
    let layers = dbm.fine_tuning_layers();
    assert_eq!(layers[0].0.dims(), [8 + 3, 4]);
    assert_eq!(layers[1].0.dims(), [4, 3]);
    let net = Mlp::from_layers(layers.clone(), 10, None, 1, &device);
    let x = dbm.augmented_input(&v, &cfg);
    // The hidden layer below the output of a net with only the first layer.
    let first = Mlp::from_layers(vec![layers[0].clone()], 10, None, 1, &device);
    let h1 = to_vec(first.hidden_features(x.clone(), Activation::Sigmoid));
    // At the fixed point μ¹ = σ(c¹ + v W¹ + μ² (W²)ᵀ).
    let mu1 = to_vec(q.hidden[0].clone());
    for (a, b) in h1.iter().zip(&mu1) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    assert_eq!(net.layers.len(), 3);
    // Three hidden layers: the top posterior reaches h¹ through zeros.
    let deep = random_dbm(&[8, 4, 3, 2], 1.0, 2, &device);
    let l = deep.fine_tuning_layers();
    assert_eq!(l[0].0.dims(), [8 + 2, 4]);
    let extra = to_vec(l[0].0.clone().narrow(0, 8, 2));
    assert!(extra.iter().all(|&w| w == 0.0));
}
