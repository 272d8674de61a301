//! Tests of the Boltzmann machine, next to what they check: [`config`] (validation, serde),
//! [`graph`] (masks, colouring), [`model`] (construction, energy), [`exact`] (enumeration
//! against brute force), [`gibbs`] (sweeps by hand, marginals), [`learn`] (the rule is the exact
//! gradient; sampled statistics against exact ones), [`train`], [`conditional`] and [`bars`].

use burn::tensor::{Device, Tensor, TensorData};

use super::Boltzmann;
use crate::eval::testing::{HostRng, bits, log_sum_exp, rows};
use crate::eval::to_vec;

mod bars;
mod conditional;
mod config;
mod exact;
mod gibbs;
mod graph;
mod learn;
mod model;
mod train;

/// Every pair of distinct units of `n` connected.
pub(crate) fn full_mask(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| (0..n).map(|j| (i != j) as u8).collect())
        .collect()
}

/// The mask with the given undirected edges.
pub(crate) fn edges_mask(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<u8>> {
    let mut m = vec![vec![0u8; n]; n];
    for &(i, j) in edges {
        m[i][j] = 1;
        m[j][i] = 1;
    }
    m
}

/// A machine on `mask` with `visible` visible units (the first `inputs` of them inputs), and
/// symmetric weights and biases uniform in [−scale, scale).
pub(crate) fn random_machine(
    visible: usize,
    inputs: usize,
    mask: Vec<Vec<u8>>,
    scale: f64,
    seed: u64,
    device: &Device,
) -> Boltzmann {
    let n = mask.len();
    let mut rng = HostRng::new(seed);
    let mut w = vec![0.0f32; n * n];
    for i in 0..n {
        for j in i + 1..n {
            if mask[i][j] == 1 {
                let x = rng.symmetric(scale) as f32;
                w[i * n + j] = x;
                w[j * n + i] = x;
            }
        }
    }
    let weights = Tensor::from_data(TensorData::new(w, [n, n]), device);
    let bias = rng.tensor1(n, scale, device);
    Boltzmann::from_parts(visible, inputs, weights, bias, mask).expect("a valid random machine")
}

/// The parameters read back, and every joint state with its probability, computed the plain way
/// (−E = Σ_i b_i s_i + Σ_{i<j} W_ij s_i s_j for each state on its own).
pub(crate) struct BruteForce {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    /// (state, −E) of the 2^n states; state k has unit j on when bit j of k is 1.
    pub states: Vec<(Vec<f64>, f64)>,
    pub log_z: f64,
}

impl BruteForce {
    pub fn of(model: &Boltzmann) -> BruteForce {
        let w = rows(model.weights.clone());
        let b: Vec<f64> = to_vec(model.bias.clone())
            .into_iter()
            .map(f64::from)
            .collect();
        let n = b.len();
        let states: Vec<(Vec<f64>, f64)> = (0..1usize << n)
            .map(|k| {
                let s = bits(k, n);
                let mut e: f64 = (0..n).map(|i| b[i] * s[i]).sum();
                for i in 0..n {
                    for j in i + 1..n {
                        e += w[i][j] * s[i] * s[j];
                    }
                }
                (s, e)
            })
            .collect();
        let energies: Vec<f64> = states.iter().map(|(_, e)| *e).collect();
        BruteForce {
            w,
            b,
            log_z: log_sum_exp(&energies),
            states,
        }
    }

    /// p(s) of every state.
    pub fn probabilities(&self) -> Vec<f64> {
        self.states
            .iter()
            .map(|(_, e)| (e - self.log_z).exp())
            .collect()
    }

    /// ⟨s_i s_j⟩ (diagonal: ⟨s_i⟩) under p restricted to the states whose first units equal
    /// `clamp` (renormalised).
    pub fn moments_given(&self, clamp: &[f64]) -> Vec<Vec<f64>> {
        let n = self.b.len();
        let mut m = vec![vec![0.0; n]; n];
        let mut total = 0.0;
        for ((s, _), p) in self.states.iter().zip(self.probabilities()) {
            if s[..clamp.len()] != *clamp {
                continue;
            }
            total += p;
            for i in 0..n {
                for j in 0..n {
                    m[i][j] += p * s[i] * s[j];
                }
            }
        }
        m.iter_mut().flatten().for_each(|x| *x /= total);
        m
    }
}

/// A [rows, cols] tensor from host rows.
pub(crate) fn tensor(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    crate::eval::testing::tensor_from_rows(rows, device)
}
