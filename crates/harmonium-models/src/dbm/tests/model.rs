//! Building a DBM: the error for fewer than two hidden layers, shapes, and the energy.

use burn::tensor::Device;

use super::{HostDbm, random_dbm};
use crate::dbm::{Dbm, DbmConfig, DbmError, compose, pretrain};
use crate::eval::testing::{HostRng, bits, random_rbm, tensor_from_rows};
use crate::events::NullSink;
use crate::rbm::{HostDraws, RbmConfig};

#[test]
fn fewer_than_two_hidden_layers_is_a_clear_error() {
    let device = Device::flex();
    let too_few = |r: Result<Dbm, DbmError>, got: usize| match r {
        Err(e @ DbmError::TooFewLayers { .. }) => {
            assert!(e.to_string().contains("at least 2 hidden layers"), "{e}");
            assert!(matches!(e, DbmError::TooFewLayers { got: g } if g == got));
        }
        other => panic!("expected TooFewLayers, got {other:?}"),
    };
    too_few(Dbm::new(6, &[4], 0.1, &device, &mut HostDraws::new(1)), 1);
    too_few(Dbm::new(6, &[], 0.1, &device, &mut HostDraws::new(1)), 0);
    too_few(compose(&[random_rbm(6, 4, 0.5, 1, &device)]), 1);
    let data = tensor_from_rows(&[bits(5, 6), bits(9, 6)], &device);
    let one = [RbmConfig {
        hidden: 3,
        ..Default::default()
    }];
    assert!(matches!(
        pretrain(&data, &one, &mut NullSink, 1),
        Err(DbmError::TooFewLayers { got: 1 })
    ));
    let cfg = DbmConfig {
        layers: vec![10],
        ..Default::default()
    };
    assert!(matches!(
        cfg.validate(),
        Err(DbmError::TooFewLayers { got: 1 })
    ));
    assert!(matches!(
        Dbm::fit(&data, None, &cfg, &mut NullSink, 1),
        Err(DbmError::TooFewLayers { got: 1 })
    ));
    // Two layers are fine.
    let dbm = Dbm::new(6, &[4, 3], 0.1, &device, &mut HostDraws::new(1)).unwrap();
    assert_eq!(dbm.sizes(), vec![6, 4, 3]);
}

#[test]
fn mismatched_shapes_are_errors() {
    let device = Device::flex();
    let mut rng = HostRng::new(3);
    let r = Dbm::from_parts(
        vec![
            rng.tensor2(5, 4, 1.0, &device),
            rng.tensor2(3, 2, 1.0, &device),
        ],
        rng.tensor1(5, 1.0, &device),
        vec![rng.tensor1(4, 1.0, &device), rng.tensor1(2, 1.0, &device)],
    );
    assert!(
        matches!(
            r,
            Err(DbmError::Shape {
                expected: 4,
                got: 3,
                ..
            })
        ),
        "{r:?}"
    );
    let r = compose(&[
        random_rbm(6, 4, 0.5, 1, &device),
        random_rbm(5, 3, 0.5, 2, &device),
    ]);
    assert!(
        matches!(
            r,
            Err(DbmError::Shape {
                expected: 4,
                got: 5,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn energy_equals_the_host_energy_of_every_row() {
    let device = Device::flex();
    let dbm = random_dbm(&[4, 3, 2, 3], 1.0, 7, &device);
    let host = HostDbm::of(&dbm);
    let states: Vec<Vec<Vec<f64>>> = [3usize, 77, 1000, 4095]
        .iter()
        .map(|&s| {
            let mut offset = 0;
            host.sizes
                .iter()
                .map(|&n| {
                    let b = bits(s >> offset, n);
                    offset += n;
                    b
                })
                .collect()
        })
        .collect();
    let layers: Vec<_> = (0..4)
        .map(|l| {
            let r: Vec<Vec<f64>> = states.iter().map(|x| x[l].clone()).collect();
            tensor_from_rows(&r, &device)
        })
        .collect();
    let got = crate::eval::to_vec(dbm.energy(&layers));
    for (x, g) in states.iter().zip(got) {
        let want = -host.neg_energy(x);
        assert!((g as f64 - want).abs() < 1e-4, "E = {g}, host {want}");
    }
}

#[test]
fn a_checkpoint_round_trips_every_parameter() {
    let device = Device::flex();
    let dbm = random_dbm(&[5, 4, 3, 2], 1.0, 9, &device);
    let back = Dbm::from_safetensors(&dbm.to_safetensors(), &device).unwrap();
    assert_eq!(back.sizes(), dbm.sizes());
    let flat = |d: &Dbm| -> Vec<f32> {
        let mut x = crate::eval::to_vec(d.visible_bias.clone());
        for l in 0..d.hidden_layers() {
            x.extend(crate::eval::to_vec(d.weights[l].clone()));
            x.extend(crate::eval::to_vec(d.hidden_biases[l].clone()));
        }
        x
    };
    assert_eq!(flat(&back), flat(&dbm));
    assert!(Dbm::from_safetensors(b"not a checkpoint", &device).is_err());
    // An RBM checkpoint is not a DBM.
    let rbm = random_rbm(5, 4, 1.0, 2, &device);
    assert!(Dbm::from_safetensors(&rbm.to_safetensors(), &device).is_err());
}
