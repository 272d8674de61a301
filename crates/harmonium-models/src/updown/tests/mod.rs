//! Tests of the up-down DBN, next to what they check: [`top`] (label sampling, CD-k by hand),
//! [`classify`] (free energies against enumeration), [`up_down`] (a mini-batch's statistics by
//! hand), [`model`] (building from a stack), [`pretrain`], [`fantasies`] and [`train`] (MNIST,
//! events, bad input).

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{DirectedLayer, TopRbm, UpDownDbn};
use crate::eval::testing::{HostRng, rows};
use crate::eval::to_vec;
use crate::rbm::{Rbm, VisibleUnits};

mod classify;
mod fantasies;
mod model;
mod pretrain;
mod top;
mod train;
mod up_down;

/// A random associative memory: `n_x` penultimate units, `classes` labels, `top` units,
/// parameters uniform in [−scale, scale).
pub(crate) fn random_top(
    n_x: usize,
    classes: usize,
    top: usize,
    scale: f64,
    rng: &mut HostRng,
    device: &Device,
) -> TopRbm {
    let v = n_x + classes;
    TopRbm::from_parts(
        Rbm {
            weights: rng.tensor2(v, top, scale, device),
            visible_bias: rng.tensor1(v, scale, device),
            hidden_bias: rng.tensor1(top, scale, device),
            visible_units: VisibleUnits::Binary,
        },
        classes,
    )
    .expect("a valid random top")
}

/// A random up-down DBN with layer sizes `sizes` (visible, …, penultimate, top) and untied
/// random recognition and generative weights.
pub(crate) fn random_net(
    sizes: &[usize],
    classes: usize,
    scale: f64,
    seed: u64,
    device: &Device,
) -> UpDownDbn {
    let mut rng = HostRng::new(seed);
    let n = sizes.len();
    let layers = sizes[..n - 1]
        .windows(2)
        .map(|p| DirectedLayer {
            recognition: rng.tensor2(p[0], p[1], scale, device),
            recognition_bias: rng.tensor1(p[1], scale, device),
            generative: rng.tensor2(p[1], p[0], scale, device),
            generative_bias: rng.tensor1(p[0], scale, device),
        })
        .collect();
    let top = random_top(sizes[n - 2], classes, sizes[n - 1], scale, &mut rng, device);
    UpDownDbn { layers, top }
}

/// Uniform numbers `[r, c]` as a tensor and as the same values on the host.
pub(crate) fn uniforms(
    rng: &mut HostRng,
    r: usize,
    c: usize,
    device: &Device,
) -> (Tensor<2>, Vec<Vec<f64>>) {
    let v: Vec<f32> = (0..r * c).map(|_| rng.uniform() as f32).collect();
    let host = v
        .chunks(c)
        .map(|row| row.iter().map(|&x| x as f64).collect())
        .collect();
    (Tensor::from_data(TensorData::new(v, [r, c]), device), host)
}

pub(crate) fn vec1(t: Tensor<1>) -> Vec<f64> {
    to_vec(t).into_iter().map(f64::from).collect()
}

pub(crate) fn sigm(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `bias_j + Σ_i x_i w[i][j]`.
pub(crate) fn affine(x: &[f64], w: &[Vec<f64>], bias: &[f64]) -> Vec<f64> {
    bias.iter()
        .enumerate()
        .map(|(j, b)| b + x.iter().zip(w).map(|(xi, wi)| xi * wi[j]).sum::<f64>())
        .collect()
}

/// `[w[j][i]]`.
pub(crate) fn transpose(w: &[Vec<f64>]) -> Vec<Vec<f64>> {
    (0..w[0].len())
        .map(|j| w.iter().map(|r| r[j]).collect())
        .collect()
}

pub(crate) fn bern(p: &[f64], u: &[f64]) -> Vec<f64> {
    p.iter()
        .zip(u)
        .map(|(p, u)| if p > u { 1.0 } else { 0.0 })
        .collect()
}

pub(crate) fn softmax(a: &[f64]) -> Vec<f64> {
    let m = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = a.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

/// One-hot of the first class whose cumulative probability exceeds u (else the last).
pub(crate) fn categorical(p: &[f64], u: f64) -> Vec<f64> {
    let mut cum = 0.0;
    let mut k = p.len() - 1;
    for (i, pi) in p.iter().enumerate() {
        cum += pi;
        if cum > u {
            k = i;
            break;
        }
    }
    (0..p.len())
        .map(|i| if i == k { 1.0 } else { 0.0 })
        .collect()
}

/// The associative memory on the host: W as rows of visible units, b, c.
pub(crate) struct HostTop {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
    pub n_x: usize,
}

impl HostTop {
    pub fn of(top: &TopRbm) -> HostTop {
        HostTop {
            w: rows(top.rbm.weights.clone()),
            b: vec1(top.rbm.visible_bias.clone()),
            c: vec1(top.rbm.hidden_bias.clone()),
            n_x: top.penultimate(),
        }
    }

    pub fn top_probs(&self, v: &[f64]) -> Vec<f64> {
        affine(v, &self.w, &self.c).into_iter().map(sigm).collect()
    }

    /// `(p(x | h), p(y | h))`.
    pub fn visible_probs(&self, h: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let a = affine(h, &transpose(&self.w), &self.b);
        let px = a[..self.n_x].iter().map(|&z| sigm(z)).collect();
        (px, softmax(&a[self.n_x..]))
    }

    /// −E(v, h).
    pub fn neg_energy(&self, v: &[f64], h: &[f64]) -> f64 {
        let mut e: f64 = v.iter().zip(&self.b).map(|(a, b)| a * b).sum();
        e += h.iter().zip(&self.c).map(|(a, c)| a * c).sum::<f64>();
        for (i, vi) in v.iter().enumerate() {
            for (j, hj) in h.iter().enumerate() {
                e += vi * self.w[i][j] * hj;
            }
        }
        e
    }
}

/// A directed layer on the host.
pub(crate) struct HostLayer {
    pub r: Vec<Vec<f64>>,
    pub rb: Vec<f64>,
    pub g: Vec<Vec<f64>>,
    pub gb: Vec<f64>,
}

impl HostLayer {
    pub fn of(l: &DirectedLayer) -> HostLayer {
        HostLayer {
            r: rows(l.recognition.clone()),
            rb: vec1(l.recognition_bias.clone()),
            g: rows(l.generative.clone()),
            gb: vec1(l.generative_bias.clone()),
        }
    }

    pub fn up(&self, below: &[f64]) -> Vec<f64> {
        affine(below, &self.r, &self.rb)
            .into_iter()
            .map(sigm)
            .collect()
    }

    pub fn down(&self, above: &[f64]) -> Vec<f64> {
        affine(above, &self.g, &self.gb)
            .into_iter()
            .map(sigm)
            .collect()
    }
}

pub(crate) fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{what}[{k}]: got {g}, expected {w} (tolerance {tol})"
        );
    }
}

pub(crate) fn flat(t: Tensor<2>) -> Vec<f64> {
    to_vec(t).into_iter().map(f64::from).collect()
}

/// Labels as an Int tensor.
pub(crate) fn labels(values: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// The first `n` MNIST training labels.
pub(crate) fn mnist_labels(n: usize, device: &Device) -> Tensor<1, Int> {
    let dir = harmonium_data::mirror_dir().expect(
        "these tests need MNIST: set HARMONIUM_DATA_MIRROR (e.g. HARMONIUM_DATA_MIRROR=/work/shared/data)",
    );
    let path = dir.join("mnist/train-labels-idx1-ubyte.gz");
    let bytes = harmonium_data::idx::read_maybe_gz(&path).expect("reading the MNIST labels");
    let all = harmonium_data::idx::parse_labels(&bytes, &path).expect("parsing the MNIST labels");
    let v: Vec<i64> = all[..n].iter().map(|&l| l as i64).collect();
    labels(&v, device)
}
