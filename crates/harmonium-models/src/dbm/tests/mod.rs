//! Tests of the DBM, next to what they check: [`model`] (errors, energy), [`compose`]
//! (composition, constrained CD by hand), [`exact`] (enumeration against brute force),
//! [`mean_field`] (fixed point and bound), [`gibbs`] (marginals), [`ais`] and [`train`].

use burn::tensor::Device;

use super::Dbm;
use crate::eval::testing::{HostRng, bits, rows};
use crate::eval::to_vec;

mod ais;
mod compose;
mod exact;
mod finetune;
mod gaussian;
mod gibbs;
mod learn;
mod mean_field;
mod model;
mod train;

/// A DBM with the given layer sizes (visible first) and weights and biases uniform in
/// [−scale, scale).
pub(crate) fn random_dbm(sizes: &[usize], scale: f64, seed: u64, device: &Device) -> Dbm {
    let mut rng = HostRng::new(seed);
    let weights = sizes
        .windows(2)
        .map(|p| rng.tensor2(p[0], p[1], scale, device))
        .collect();
    let visible_bias = rng.tensor1(sizes[0], scale, device);
    let hidden_biases = sizes[1..]
        .iter()
        .map(|&n| rng.tensor1(n, scale, device))
        .collect();
    Dbm::from_parts(weights, visible_bias, hidden_biases).expect("a valid random DBM")
}

/// The parameters of a DBM read back as f64.
pub(crate) struct HostDbm {
    /// `w[l][i][j]`: weight between unit i of layer l and unit j of layer l+1.
    pub w: Vec<Vec<Vec<f64>>>,
    /// `bias[l]`: biases of layer l (0: visible).
    pub bias: Vec<Vec<f64>>,
    pub sizes: Vec<usize>,
}

impl HostDbm {
    pub fn of(dbm: &Dbm) -> HostDbm {
        let vec1 = |t: burn::tensor::Tensor<1>| -> Vec<f64> {
            to_vec(t).into_iter().map(f64::from).collect()
        };
        HostDbm {
            w: dbm.weights.iter().map(|w| rows(w.clone())).collect(),
            bias: (0..=dbm.hidden_layers())
                .map(|l| vec1(dbm.bias(l).clone()))
                .collect(),
            sizes: dbm.sizes(),
        }
    }

    /// −E(x) for the states of every layer.
    pub fn neg_energy(&self, x: &[Vec<f64>]) -> f64 {
        let mut e = 0.0;
        for (l, xl) in x.iter().enumerate() {
            e += xl
                .iter()
                .zip(&self.bias[l])
                .map(|(a, b)| a * b)
                .sum::<f64>();
            if l + 1 < x.len() {
                for (i, &xi) in xl.iter().enumerate() {
                    for (j, &xj) in x[l + 1].iter().enumerate() {
                        e += xi * self.w[l][i][j] * xj;
                    }
                }
            }
        }
        e
    }

    /// Every joint state of the layers as per-layer 0/1 vectors, with −E of each.
    pub fn joint_states(&self) -> Vec<(Vec<Vec<f64>>, f64)> {
        let total: usize = self.sizes.iter().sum();
        (0..1usize << total)
            .map(|s| {
                let mut x = Vec::new();
                let mut offset = 0;
                for &n in &self.sizes {
                    x.push(bits(s >> offset, n));
                    offset += n;
                }
                let e = self.neg_energy(&x);
                (x, e)
            })
            .collect()
    }
}
