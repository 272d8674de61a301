//! Fantasies: one row of the picture per class, and the clamped label decides what is drawn.

use burn::tensor::{Device, Tensor};

use super::{flat, random_net};
use crate::eval::Interrupted;
use crate::eval::images::TileShape;
use crate::eval::testing::tensor_from_rows;
use crate::rbm::{HostDraws, Rbm, VisibleUnits};
use crate::updown::{DirectedLayer, TopRbm, UpDownDbn, fantasies_png};

fn decode(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let info = reader.info();
    (info.width, info.height)
}

#[test]
fn the_fantasies_grid_has_one_row_per_class() {
    let device = Device::flex();
    let net = random_net(&[4, 3, 5], 3, 1.0, 2, &device);
    let f = net.fantasies(5, 10, None, &mut HostDraws::new(3));
    assert_eq!(f.dims(), [15, 4]);
    let values = flat(f.clone());
    assert!(
        values.iter().all(|p| (0.0..=1.0).contains(p)),
        "probabilities"
    );
    // 5 tiles of 2×2 per row (5·3 + 1 pixels wide), 3 rows (3·3 + 1 high).
    let png = fantasies_png(&f, TileShape { rows: 2, cols: 2 }, 5);
    assert_eq!(decode(&png), (16, 10));
    // A data-derived start: the same penultimate states start every class's chains.
    let start = tensor_from_rows(&[vec![1.0, 0.0, 1.0], vec![0.0, 1.0, 1.0]], &device);
    let f = net.fantasies(2, 0, Some(start.clone()), &mut HostDraws::new(3));
    assert_eq!(f.dims(), [6, 4]);
}

/// A net whose label k switches on top unit k, which switches on penultimate unit k, which the
/// generative weights copy to visible unit k.
fn label_copying_net(device: &Device) -> UpDownDbn {
    let eye = |scale: f64, shift: f64| {
        let rows: Vec<Vec<f64>> = (0..3)
            .map(|i| {
                (0..3)
                    .map(|j| if i == j { scale + shift } else { shift })
                    .collect()
            })
            .collect();
        tensor_from_rows(&rows, device)
    };
    let weights = Tensor::cat(vec![eye(40.0, -20.0), eye(120.0, -60.0)], 0);
    let top = TopRbm::from_parts(
        Rbm {
            weights,
            visible_bias: Tensor::zeros([6], device),
            hidden_bias: Tensor::zeros([3], device),
            visible_units: VisibleUnits::Binary,
        },
        3,
    )
    .unwrap();
    let layer = DirectedLayer {
        recognition: eye(20.0, -10.0),
        recognition_bias: Tensor::zeros([3], device),
        generative: eye(40.0, -20.0),
        generative_bias: Tensor::zeros([3], device),
    };
    UpDownDbn {
        layers: vec![layer],
        top,
    }
}

#[test]
fn each_fantasy_row_draws_the_clamped_class() {
    let device = Device::flex();
    let net = label_copying_net(&device);
    let f = super::rows(net.fantasies(4, 20, None, &mut HostDraws::new(5)));
    for (r, row) in f.iter().enumerate() {
        let class = r / 4;
        for (i, p) in row.iter().enumerate() {
            let want = if i == class { 1.0 } else { 0.0 };
            assert!(
                (p - want).abs() < 1e-3,
                "fantasy {r} (class {class}): {row:?}"
            );
        }
    }
}

#[test]
fn fantasies_asked_to_stop_make_nothing() {
    let device = Device::flex();
    let net = random_net(&[4, 3, 5], 3, 1.0, 2, &device);
    let asked = std::cell::Cell::new(0);
    let keep_going = || {
        asked.set(asked.get() + 1);
        asked.get() < 2
    };
    let r = net.fantasies_while(2, 1_000_000, None, &mut HostDraws::new(1), &keep_going);
    assert_eq!(r.err(), Some(Interrupted));
    assert_eq!(asked.get(), 2);
}
