//! What a conditional Boltzmann machine can do that a feedforward net cannot (paper §2): for a
//! given input it can put high probability on the output vectors (1,1) and (0,0) and low
//! probability on (1,0) and (0,1).
//!
//! A feedforward net with independent logistic outputs models `q(y | x) = Π_j q_j(x)^{y_j}
//! (1 − q_j(x))^{1−y_j}`. Whatever its weights, the best such model of data with conditional
//! distribution `p(y | x)` (the one of least `KL(p ‖ q)`, i.e. of greatest likelihood) has
//! `q_j(x) = p(y_j = 1 | x)`: the product of the data's output marginals. For outputs that are
//! (1,1) or (0,0) half the time each that is 1/4 on every outcome, while the data put 1/2 on each
//! agreeing one. A conditional machine with output–output connections or hidden units is not a
//! product, and can match the data.
//!
//! [`OutputDistributions`] computes, over the data's inputs, the data's distribution of the
//! outputs, the machine's (exactly) and the best product's, their KL divergences from the data,
//! as metrics and as a bar picture.

use std::collections::BTreeMap;

use burn::tensor::{Device, Tensor, TensorData};

use super::exact::host_rows;
use super::{Boltzmann, BoltzmannError};
use crate::eval::images::{Scaling, TileShape, encode_png, tile_grid};

/// The toy data of the paper's example: one input unit, always on, and two outputs that are (1,1)
/// or (0,0), each half the time: `repeats` copies of each, alternating, as [2·repeats, 3].
pub fn agreement_data(repeats: usize, device: &Device) -> Tensor<2> {
    let rows: Vec<f32> = (0..2 * repeats)
        .flat_map(|k| {
            let y = (k % 2 == 0) as u8 as f32;
            [1.0, y, y]
        })
        .collect();
    Tensor::from_data(TensorData::new(rows, [2 * repeats, 3]), device)
}

/// Distributions of the outputs of a conditional machine, averaged over the inputs of the data
/// (each distinct input vector weighted by its share of the examples). Outcome k has output j on
/// when bit j of k is 1; [`OutputDistributions::outcomes`] names them by their output states,
/// first output first ("10": output 1 on, output 2 off).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputDistributions {
    /// The outcomes' names, e.g. `["00", "10", "01", "11"]`.
    pub outcomes: Vec<String>,
    /// The data's `p(y | x)`.
    pub data: Vec<f64>,
    /// The machine's exact `p(y | x)`.
    pub machine: Vec<f64>,
    /// The best factorial model's `Π_j p(y_j | x)` (independent logistic outputs).
    pub product: Vec<f64>,
    /// Mean over the inputs of `KL(data ‖ machine)` (nats).
    pub machine_kl: f64,
    /// Mean over the inputs of `KL(data ‖ product)` (nats).
    pub product_kl: f64,
}

/// `Σ_k p_k log(p_k / q_k)`, with `0 log 0 = 0`.
fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, q)| p * (p / q).ln())
        .sum()
}

impl OutputDistributions {
    /// The distributions for the inputs of `data` ([examples, visible]: inputs, then outputs),
    /// enumerating the outputs and hidden units of `model` (at most `max_units`).
    pub fn of(
        model: &Boltzmann,
        data: &Tensor<2>,
        max_units: usize,
    ) -> Result<OutputDistributions, BoltzmannError> {
        if model.inputs() == 0 {
            return Err(BoltzmannError::Unsupported(
                "output distributions need a conditional machine (inputs > 0)".into(),
            ));
        }
        model.check_columns("the data", data)?;
        let rows = host_rows(data);
        if rows.is_empty() {
            return Err(BoltzmannError::EmptyData);
        }
        let (inputs, outputs) = (model.inputs(), model.outputs());
        let outcomes = 1usize << outputs;
        // Counts of each outcome per distinct input vector.
        let mut groups: BTreeMap<Vec<u8>, Vec<f64>> = BTreeMap::new();
        for r in &rows {
            let x: Vec<u8> = r[..inputs].iter().map(|&a| (a > 0.5) as u8).collect();
            let k = (0..outputs).fold(0, |k, j| k | ((r[inputs + j] > 0.5) as usize) << j);
            groups.entry(x).or_insert_with(|| vec![0.0; outcomes])[k] += 1.0;
        }
        let mut out = OutputDistributions {
            outcomes: (0..outcomes)
                .map(|k| {
                    (0..outputs)
                        .map(|j| if k >> j & 1 == 1 { '1' } else { '0' })
                        .collect()
                })
                .collect(),
            data: vec![0.0; outcomes],
            machine: vec![0.0; outcomes],
            product: vec![0.0; outcomes],
            machine_kl: 0.0,
            product_kl: 0.0,
        };
        for (x, counts) in &groups {
            let total: f64 = counts.iter().sum();
            let weight = total / rows.len() as f64;
            let p: Vec<f64> = counts.iter().map(|c| c / total).collect();
            let marginal: Vec<f64> = (0..outputs)
                .map(|j| {
                    (0..outcomes)
                        .filter(|k| k >> j & 1 == 1)
                        .map(|k| p[k])
                        .sum()
                })
                .collect();
            let product: Vec<f64> = (0..outcomes)
                .map(|k| {
                    (0..outputs)
                        .map(|j| {
                            if k >> j & 1 == 1 {
                                marginal[j]
                            } else {
                                1.0 - marginal[j]
                            }
                        })
                        .product()
                })
                .collect();
            let x: Vec<f64> = x.iter().map(|&a| a as f64).collect();
            let machine = model.exact_output_distribution(&x, max_units)?;
            for k in 0..outcomes {
                out.data[k] += weight * p[k];
                out.machine[k] += weight * machine[k];
                out.product[k] += weight * product[k];
            }
            out.machine_kl += weight * kl(&p, &machine);
            out.product_kl += weight * kl(&p, &product);
        }
        Ok(out)
    }

    /// As metrics: `data_p_<outcome>`, `bm_p_<outcome>`, `product_p_<outcome>` for every
    /// outcome (e.g. `bm_p_11`), then `bm_kl` and `product_kl`.
    pub fn metrics(&self) -> Vec<(String, f64)> {
        let mut m = Vec::new();
        for (prefix, dist) in [
            ("data", &self.data),
            ("bm", &self.machine),
            ("product", &self.product),
        ] {
            for (name, p) in self.outcomes.iter().zip(dist.iter()) {
                m.push((format!("{prefix}_p_{name}"), *p));
            }
        }
        m.push(("bm_kl".into(), self.machine_kl));
        m.push(("product_kl".into(), self.product_kl));
        m
    }

    /// A bar picture: three panels side by side (the data, the machine, the best product), each
    /// a white bar per outcome in outcome order with height proportional to its probability on a
    /// black ground, with a gray line at probability 1/2.
    pub fn bars_png(&self) -> Vec<u8> {
        const HEIGHT: usize = 40;
        const BAR: usize = 8;
        const GAP: usize = 4;
        let width = self.outcomes.len() * (BAR + GAP) + GAP;
        let panel = |dist: &[f64]| {
            let mut px = vec![0.0f32; HEIGHT * width];
            for c in 0..width {
                px[(HEIGHT / 2) * width + c] = 0.35;
            }
            for (k, p) in dist.iter().enumerate() {
                let bar = (p.clamp(0.0, 1.0) * HEIGHT as f64).round() as usize;
                let x0 = GAP + k * (BAR + GAP);
                for r in HEIGHT - bar..HEIGHT {
                    for c in x0..x0 + BAR {
                        px[r * width + c] = 1.0;
                    }
                }
            }
            px
        };
        let mut values = panel(&self.data);
        values.extend(panel(&self.machine));
        values.extend(panel(&self.product));
        let tile = TileShape {
            rows: HEIGHT,
            cols: width,
        };
        encode_png(&tile_grid(&values, tile, 3, Scaling::Unit))
    }
}
