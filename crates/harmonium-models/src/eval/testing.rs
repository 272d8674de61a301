//! Helpers shared by the tests of the RBM and its evaluation: MNIST subsets, small random RBMs,
//! and brute-force enumeration of joint states in f64 on the host.

use std::sync::OnceLock;

use burn::tensor::{Device, Tensor, TensorData};
use harmonium_data::idx::IdxImages;

use super::to_vec;
use crate::rbm::{Rbm, VisibleUnits};

/// The MNIST training images, read once per test process from `$HARMONIUM_DATA_MIRROR/mnist`.
fn mnist_images() -> &'static IdxImages {
    static IMAGES: OnceLock<IdxImages> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let dir = harmonium_data::mirror_dir().expect(
            "these tests need MNIST: set HARMONIUM_DATA_MIRROR to a directory holding \
             mnist/train-images-idx3-ubyte.gz (e.g. HARMONIUM_DATA_MIRROR=/work/shared/data)",
        );
        let path = dir.join("mnist/train-images-idx3-ubyte.gz");
        harmonium_data::mnist::read_images(&path)
            .unwrap_or_else(|e| panic!("cannot read MNIST from {}: {e}", path.display()))
    })
}

/// The labels of the first `n` MNIST training images.
#[cfg_attr(not(feature = "wgpu"), allow(dead_code))]
pub fn mnist_labels(n: usize) -> Vec<u32> {
    let dir = harmonium_data::mirror_dir().expect("HARMONIUM_DATA_MIRROR holding mnist/");
    let path = dir.join("mnist/train-labels-idx1-ubyte.gz");
    let bytes = harmonium_data::idx::read_maybe_gz(&path).expect("MNIST training labels");
    let labels = harmonium_data::idx::parse_labels(&bytes, &path).expect("MNIST training labels");
    labels.iter().take(n).map(|&l| l as u32).collect()
}

/// The first `n` MNIST training images, pixels /255 and thresholded at 0.5, as [n, 784].
pub fn mnist_binary(n: usize, device: &Device) -> Tensor<2> {
    let img = mnist_images();
    let size = img.rows * img.cols;
    let n = n.min(img.count);
    let values: Vec<f32> = img.pixels[..n * size]
        .iter()
        .map(|&p| if p as f32 / 255.0 > 0.5 { 1.0 } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(values, [n, size]), device)
}

/// The first `n` MNIST training images binarized stochastically (each pixel on with probability
/// its intensity /255, from a host generator seeded with `seed`), as [n, 784].
pub fn mnist_stochastic(n: usize, seed: u64, device: &Device) -> Tensor<2> {
    let img = mnist_images();
    let size = img.rows * img.cols;
    let n = n.min(img.count);
    let mut rng = HostRng::new(seed);
    let values: Vec<f32> = img.pixels[..n * size]
        .iter()
        .map(|&p| {
            if rng.uniform() < p as f64 / 255.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [n, size]), device)
}

/// A deterministic stream of numbers (splitmix64), independent of the device's generator.
pub struct HostRng(u64);

impl HostRng {
    pub fn new(seed: u64) -> Self {
        HostRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [−scale, scale).
    pub fn symmetric(&mut self, scale: f64) -> f64 {
        (2.0 * self.uniform() - 1.0) * scale
    }

    pub fn tensor2(&mut self, rows: usize, cols: usize, scale: f64, device: &Device) -> Tensor<2> {
        let v: Vec<f32> = (0..rows * cols)
            .map(|_| self.symmetric(scale) as f32)
            .collect();
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }

    pub fn tensor1(&mut self, n: usize, scale: f64, device: &Device) -> Tensor<1> {
        let v: Vec<f32> = (0..n).map(|_| self.symmetric(scale) as f32).collect();
        Tensor::from_data(TensorData::new(v, [n]), device)
    }
}

/// A binary-visible RBM with weights and biases uniform in [−scale, scale).
pub fn random_rbm(visible: usize, hidden: usize, scale: f64, seed: u64, device: &Device) -> Rbm {
    let mut rng = HostRng::new(seed);
    Rbm {
        weights: rng.tensor2(visible, hidden, scale, device),
        visible_bias: rng.tensor1(visible, scale, device),
        hidden_bias: rng.tensor1(hidden, scale, device),
        visible_units: VisibleUnits::Binary,
    }
}

/// The parameters of an RBM read back as f64: (W as rows of visible units, b, c).
pub struct HostParams {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
}

impl HostParams {
    pub fn of(rbm: &Rbm) -> HostParams {
        let h = rbm.hidden();
        let w: Vec<f64> = to_vec(rbm.weights.clone())
            .into_iter()
            .map(f64::from)
            .collect();
        HostParams {
            w: w.chunks(h).map(|r| r.to_vec()).collect(),
            b: to_vec(rbm.visible_bias.clone())
                .into_iter()
                .map(f64::from)
                .collect(),
            c: to_vec(rbm.hidden_bias.clone())
                .into_iter()
                .map(f64::from)
                .collect(),
        }
    }

    /// −E(v, h) for binary visible units.
    pub fn neg_energy(&self, v: &[f64], h: &[f64]) -> f64 {
        let mut e = 0.0;
        for (i, &vi) in v.iter().enumerate() {
            e += self.b[i] * vi;
            for (j, &hj) in h.iter().enumerate() {
                e += vi * self.w[i][j] * hj;
            }
        }
        e + self.c.iter().zip(h).map(|(c, h)| c * h).sum::<f64>()
    }
}

/// The bits of `s` as a 0/1 vector of length n.
pub fn bits(s: usize, n: usize) -> Vec<f64> {
    (0..n).map(|j| ((s >> j) & 1) as f64).collect()
}

/// log Σ exp over a slice, in f64.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Rows of a [n, m] tensor as f64 vectors.
pub fn rows(t: Tensor<2>) -> Vec<Vec<f64>> {
    let m = t.dims()[1];
    to_vec(t)
        .chunks(m)
        .map(|r| r.iter().map(|&x| x as f64).collect())
        .collect()
}

/// Serialises the tests that draw from the device's global random generator, so that a seeded
/// run is reproducible even while other tests run.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Draws that hand out given uniform (or normal) numbers in order, checking their shapes.
pub struct FixedDraws(pub std::collections::VecDeque<Tensor<2>>);

impl FixedDraws {
    pub fn new(draws: Vec<Tensor<2>>) -> Self {
        FixedDraws(draws.into())
    }

    fn next(&mut self, like: &Tensor<2>) -> Tensor<2> {
        let t = self
            .0
            .pop_front()
            .expect("the test supplied too few random draws");
        assert_eq!(t.dims(), like.dims(), "a supplied draw has the wrong shape");
        t
    }
}

impl crate::rbm::Draws for FixedDraws {
    fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2> {
        self.next(like)
    }
    fn normal(&mut self, like: &Tensor<2>) -> Tensor<2> {
        self.next(like)
    }
}

/// A [rows, cols] tensor from nested host rows.
pub fn tensor_from_rows(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let cols = rows.first().map_or(0, |r| r.len());
    let v: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, [rows.len(), cols]), device)
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
