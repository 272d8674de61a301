//! AIS estimates of log Z of 2-layer DBMs against the exact enumeration.

use burn::tensor::{Device, Distribution, Tensor};

use super::random_dbm;
use crate::eval::ais::BaseRateModel;
use crate::rbm::HostDraws;

#[test]
fn ais_log_z_agrees_with_enumeration_within_its_bounds() {
    let device = Device::flex();
    device.seed(51);
    for (sizes, scale, seed) in [(vec![8, 4, 3], 1.0, 52), (vec![20, 10, 6], 0.5, 53)] {
        let dbm = random_dbm(&sizes, scale, seed, &device);
        let data = Tensor::<2>::random([50, sizes[0]], Distribution::Bernoulli(0.4), &device);
        let base = BaseRateModel::fit(&data);
        let exact = dbm.exact_log_partition(20).unwrap();
        let est = dbm
            .ais_log_partition(&base, 100, 3000, &mut HostDraws::new(seed))
            .unwrap();
        assert!(
            est.log_z_lower - 0.02 <= exact && exact <= est.log_z_upper + 0.02,
            "{sizes:?}: exact {exact} outside [{}, {}] (estimate {})",
            est.log_z_lower,
            est.log_z_upper,
            est.log_z
        );
        assert!(
            (est.log_z - exact).abs() < 0.1,
            "{sizes:?}: {} vs {exact}",
            est.log_z
        );
        assert!(est.effective_runs > 20.0, "{}", est.effective_runs);
    }
}

#[test]
fn ais_needs_two_hidden_layers() {
    let device = Device::flex();
    let dbm = random_dbm(&[5, 3, 3, 2], 0.5, 54, &device);
    let base = BaseRateModel {
        visible_bias: Tensor::zeros([5], &device),
    };
    let err = dbm
        .ais_log_partition(&base, 10, 10, &mut HostDraws::new(1))
        .unwrap_err();
    assert!(err.to_string().contains("2 hidden layers"), "{err}");
}
