//! Speed of the DBM's mean-field inference ([`mean_field_bench`]): the bottom-up pass and the
//! fixed-point sweeps of [`crate::dbm::Dbm::mean_field`] over a batch of images, against the
//! same matmuls alone.
//!
//! Flop count for N examples and layers V-H₁-H₂ (a matmul of m×k by k×n counts 2mkn): the
//! bottom-up pass `2μ⁰W¹`, `μ¹W²` (2N(VH₁ + H₁H₂)); each sweep the odd layer h¹ from v and μ²
//! (`vW¹ + μ²(W²)ᵀ`, 2N(VH₁ + H₁H₂)) and the even layer h² from μ¹ (`μ¹W²`, 2NH₁H₂):
//! `2N(VH₁ + H₁H₂) + S·2N(VH₁ + 2H₁H₂)` for S sweeps; for 784-500-1000, N = 10,000 and ten
//! sweeps, 0.30 TFLOP.

use std::fmt;
use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

use super::cpu_seconds;
use crate::dbm::{Dbm, MeanFieldConfig};
use crate::rbm::HostDraws;

/// Timing of mean-field inference against the matmul bound.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanFieldReport {
    pub sizes: Vec<usize>,
    pub examples: usize,
    pub sweeps: usize,
    pub seconds: f64,
    pub cores_busy: f64,
    pub flops: f64,
    pub matmul_seconds: f64,
    pub ratio: f64,
}

impl fmt::Display for MeanFieldReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.sizes.iter().map(|s| s.to_string()).collect();
        writeln!(
            f,
            "DBM mean-field {}, {} examples, {} sweeps",
            sizes.join("-"),
            self.examples,
            self.sweeps
        )?;
        writeln!(
            f,
            "  inference:   {:.3} s  ({:.1} GFLOP/s, {:.2} cores busy)",
            self.seconds,
            self.flops / self.seconds / 1e9,
            self.cores_busy
        )?;
        writeln!(
            f,
            "  matmuls only: {:.3} s  ({:.1} GFLOP/s)",
            self.matmul_seconds,
            self.flops / self.matmul_seconds / 1e9
        )?;
        write!(f, "  ratio inference/matmul bound: {:.2}", self.ratio)
    }
}

/// Flops of mean-field on `n` examples of a 2-hidden-layer DBM (module docs).
pub fn mean_field_flops(sizes: [usize; 3], n: usize, sweeps: usize) -> f64 {
    let [v, h1, h2] = sizes.map(|s| s as f64);
    let n = n as f64;
    2.0 * n * (v * h1 + h1 * h2) + sweeps as f64 * 2.0 * n * (v * h1 + 2.0 * h1 * h2)
}

/// Times mean-field (exactly `sweeps` sweeps) of a DBM with random weights on `data` in chunks
/// of 10,000 rows, then the same matmuls alone.
pub fn mean_field_bench(
    device: &Device,
    data: Tensor<2>,
    hidden: [usize; 2],
    sweeps: usize,
) -> MeanFieldReport {
    let [n, visible] = data.dims();
    let dbm = Dbm::new(visible, &hidden, 0.01, device, &mut HostDraws::new(1))
        .expect("a valid benchmark DBM");
    let cfg = MeanFieldConfig {
        max_iterations: sweeps,
        tolerance: 0.0,
    };
    drop(dbm.mean_field(data.clone().narrow(0, 0, n.min(200)), &cfg));
    let (cpu0, started) = (cpu_seconds(), Instant::now());
    let chunk = 10_000;
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let q = dbm.mean_field(data.clone().narrow(0, start, len), &cfg);
        let _ = q.hidden[1].clone().sum().into_scalar::<f32>();
        start += len;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cores_busy = (cpu_seconds() - cpu0) / seconds;

    let rand = |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Default, device);
    let (w1, w2) = (rand([visible, hidden[0]]), rand([hidden[0], hidden[1]]));
    let w2t = rand([hidden[1], hidden[0]]);
    let started = Instant::now();
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let v = data.clone().narrow(0, start, len);
        let (m1, m2) = (rand([len, hidden[0]]), rand([len, hidden[1]]));
        drop(v.clone().matmul(w1.clone()));
        drop(m1.clone().matmul(w2.clone()));
        for _ in 0..sweeps {
            drop(v.clone().matmul(w1.clone()) + m2.clone().matmul(w2t.clone()));
            drop(m1.clone().matmul(w2.clone()));
        }
        let _ = m1.sum().into_scalar::<f32>();
        start += len;
    }
    let matmul_seconds = started.elapsed().as_secs_f64();
    MeanFieldReport {
        sizes: vec![visible, hidden[0], hidden[1]],
        examples: n,
        sweeps,
        seconds,
        cores_busy,
        flops: mean_field_flops([visible, hidden[0], hidden[1]], n, sweeps),
        matmul_seconds,
        ratio: seconds / matmul_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{mnist_binary, serial};

    #[test]
    fn flop_count_of_the_mnist_dbm_is_0_30_tflop() {
        let f = mean_field_flops([784, 500, 1000], 10_000, 10);
        assert!((f / 1e12 - 0.2962).abs() < 1e-3, "{f}");
        assert_eq!(mean_field_flops([1, 1, 1], 1, 0), 4.0);
    }

    #[test]
    fn mean_field_report_is_consistent_on_a_small_problem() {
        let _guard = serial();
        let device = Device::flex();
        let r = mean_field_bench(&device, mnist_binary(300, &device), [20, 10], 3);
        assert_eq!(
            (r.examples, r.sweeps, r.sizes.clone()),
            (300, 3, vec![784, 20, 10])
        );
        assert!(r.seconds > 0.0 && r.matmul_seconds > 0.0);
        assert!((r.ratio - r.seconds / r.matmul_seconds).abs() < 1e-12);
        assert!(r.to_string().contains("ratio inference/matmul bound"));
    }
}
