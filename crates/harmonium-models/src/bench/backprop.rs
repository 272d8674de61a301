//! Speed of one epoch of backprop fine-tuning, with the evaluation that follows it, against the
//! matmuls of the same shapes alone ([`backprop_bench`]).
//!
//! The epoch is [`crate::mlp::train`] for one epoch: SGD with momentum 0.9 and weight decay
//! over the training set in mini-batches, then the loss and error of the training, validation
//! and test sets (forward passes in chunks of 2,000), exactly as a fine-tuning trial runs it.
//!
//! Flop count, for layer sizes n_0 … n_L, B examples per mini-batch, N training and E evaluated
//! examples (a matmul of m×k by k×n counts 2mkn; P = Σ_l n_l n_{l+1}, Q = Σ_{l ≥ 1} n_l n_{l+1}):
//!
//! * each mini-batch: the forward pass `h_l W_l` (2BP), the weight gradients `h_lᵀ δ_{l+1}`
//!   (2BP) and the deltas passed down `δ_{l+1} W_lᵀ` for every layer above the first (2BQ);
//! * the evaluation: one forward pass of every evaluated example (2EP).
//!
//! For 784-500-500-2000-10, batch 100, N = 50,000 and E = 70,000: P = 1,662,000 and
//! Q = 1,270,000, so 459 GFLOP of backprop and 233 GFLOP of evaluation, ≈ 0.69 TFLOP an epoch.

use std::fmt;
use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

use super::cpu_seconds;
use crate::data::Labelled;
use crate::events::NullSink;
use crate::mlp::{Activation, Mlp, MlpConfig, Splits, train};

/// Timing of one fine-tuning epoch (with its evaluation) against the matmul bound.
#[derive(Debug, Clone, PartialEq)]
pub struct BackpropReport {
    pub sizes: Vec<usize>,
    pub batch: usize,
    pub train_examples: usize,
    pub eval_examples: usize,
    /// Wall-clock seconds of the epoch and its evaluation.
    pub seconds: f64,
    /// Processor seconds over wall seconds during the epoch (2.0: both cores of two busy).
    pub cores_busy: f64,
    pub flops: f64,
    pub gflops: f64,
    /// Seconds the same matmuls take alone.
    pub matmul_seconds: f64,
    pub matmul_gflops: f64,
    /// `seconds / matmul_seconds`.
    pub ratio: f64,
}

impl fmt::Display for BackpropReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.sizes.iter().map(|s| s.to_string()).collect();
        writeln!(
            f,
            "backprop {}, sigmoid, batch {}, {} training examples, then {} evaluated",
            sizes.join("-"),
            self.batch,
            self.train_examples,
            self.eval_examples
        )?;
        writeln!(
            f,
            "  epoch + evaluation: {:.3} s  ({:.1} GFLOP/s, {:.2} cores busy)",
            self.seconds, self.gflops, self.cores_busy
        )?;
        writeln!(
            f,
            "  matmuls only: {:.3} s  ({:.1} GFLOP/s)",
            self.matmul_seconds, self.matmul_gflops
        )?;
        write!(f, "  ratio epoch/matmul bound: {:.2}", self.ratio)
    }
}

/// Flops of one epoch by the count in the module docs.
pub fn epoch_flops(sizes: &[usize], batch: usize, train: usize, eval: usize) -> f64 {
    let p: f64 = sizes.windows(2).map(|w| (w[0] * w[1]) as f64).sum();
    let q: f64 = sizes.windows(2).skip(1).map(|w| (w[0] * w[1]) as f64).sum();
    let full = (train / batch) as f64;
    let rest = (train % batch) as f64;
    let b = batch as f64;
    (full * b + rest) * (4.0 * p + 2.0 * q) + 2.0 * eval as f64 * p
}

/// Times one epoch of backprop of a sigmoid net with `hidden` layers on `data.train` in
/// mini-batches of `batch`, with the evaluation of all three sets, then the same matmuls alone.
pub fn backprop_bench(
    device: &Device,
    data: &Splits,
    hidden: &[usize],
    classes: usize,
    batch: usize,
) -> BackpropReport {
    let inputs = data.train.x.dims()[1];
    let sizes: Vec<usize> = std::iter::once(inputs)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(classes))
        .collect();
    let cfg = MlpConfig {
        hidden: hidden.to_vec(),
        activation: Activation::Sigmoid,
        epochs: 1,
        batch_size: batch,
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 1e-5,
        ..Default::default()
    };
    let model = || Mlp::random(&sizes, None, 1, device);
    // Warm-up on a slice (thread pools, allocator).
    let head = |l: &Labelled, n: usize| Labelled {
        x: l.x.clone().narrow(0, 0, n.min(l.len())),
        y: l.y.clone().narrow(0, 0, n.min(l.len())),
    };
    let (wt, wv) = (head(data.train, 5 * batch), head(data.valid, 200));
    let warm = Splits {
        train: &wt,
        valid: &wv,
        test: &wv,
    };
    let _ = train(model(), &warm, &cfg, 1, "bench", &mut NullSink);

    let m = model();
    let (cpu0, started) = (cpu_seconds(), Instant::now());
    let _ = train(m, data, &cfg, 1, "bench", &mut NullSink).expect("one epoch");
    let seconds = started.elapsed().as_secs_f64();
    let cores_busy = (cpu_seconds() - cpu0) / seconds;

    let n = data.train.len();
    let eval = n + data.valid.len() + data.test.len();
    let matmul_seconds = matmul_bound(device, &sizes, batch, n, eval);
    let flops = epoch_flops(&sizes, batch, n, eval);
    BackpropReport {
        sizes,
        batch,
        train_examples: n,
        eval_examples: eval,
        seconds,
        cores_busy,
        flops,
        gflops: flops / seconds / 1e9,
        matmul_seconds,
        matmul_gflops: flops / matmul_seconds / 1e9,
        ratio: seconds / matmul_seconds,
    }
}

/// Seconds for the matmuls of one epoch and its evaluation alone, on random operands.
fn matmul_bound(device: &Device, sizes: &[usize], batch: usize, n: usize, eval: usize) -> f64 {
    let rand = |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Default, device);
    let weights: Vec<Tensor<2>> = sizes.windows(2).map(|w| rand([w[0], w[1]])).collect();
    let acts: Vec<Tensor<2>> = sizes.iter().map(|&s| rand([batch, s])).collect();
    let chunk = 2000;
    let eval_acts: Vec<Tensor<2>> = sizes.iter().map(|&s| rand([chunk, s])).collect();
    let one_batch = || {
        let mut last = None;
        for (l, w) in weights.iter().enumerate() {
            drop(acts[l].clone().matmul(w.clone()));
            last = Some(acts[l].clone().transpose().matmul(acts[l + 1].clone()));
            if l > 0 {
                drop(acts[l + 1].clone().matmul(w.clone().transpose()));
            }
        }
        last.expect("a layer")
    };
    for _ in 0..5 {
        drop(one_batch());
    }
    let started = Instant::now();
    let mut last = None;
    for _ in 0..n.div_ceil(batch) {
        last = Some(one_batch());
    }
    let mut left = eval;
    while left > 0 {
        let rows = left.min(chunk);
        for (l, w) in weights.iter().enumerate() {
            let x = if rows == chunk {
                eval_acts[l].clone()
            } else {
                eval_acts[l].clone().narrow(0, 0, rows)
            };
            last = Some(x.matmul(w.clone()));
        }
        left -= rows;
    }
    if let Some(t) = last {
        let _ = t.sum().into_scalar::<f32>();
    }
    started.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{mnist_binary, serial};

    #[test]
    fn flop_count_of_the_paper_net_is_about_0_7_tflop() {
        let sizes = [784, 500, 500, 2000, 10];
        let f = epoch_flops(&sizes, 100, 50_000, 70_000);
        let p = 1_662_000.0;
        let q = 1_270_000.0;
        assert_eq!(f, 50_000.0 * (4.0 * p + 2.0 * q) + 2.0 * 70_000.0 * p);
        assert!((f / 1e12 - 0.692).abs() < 0.01, "{f}");
        // A last, partial mini-batch counts its own examples.
        assert_eq!(
            epoch_flops(&[2, 3], 10, 15, 0),
            15.0 * 4.0 * 6.0,
            "one layer: no deltas passed down"
        );
    }

    #[test]
    fn backprop_report_is_consistent_on_a_small_problem() {
        let _guard = serial();
        let device = Device::flex();
        let x = mnist_binary(400, &device);
        let y = burn::tensor::Tensor::<1, burn::tensor::Int>::from_data(
            burn::tensor::TensorData::new((0..400).map(|i| i % 10).collect::<Vec<i64>>(), [400]),
            &device,
        );
        let l = Labelled { x, y };
        let splits = Splits {
            train: &l,
            valid: &l,
            test: &l,
        };
        let r = backprop_bench(&device, &splits, &[32], 10, 50);
        assert_eq!(r.sizes, vec![784, 32, 10]);
        assert_eq!((r.train_examples, r.eval_examples), (400, 1200));
        assert!(r.seconds > 0.0 && r.matmul_seconds > 0.0 && r.cores_busy > 0.0);
        assert!((r.ratio - r.seconds / r.matmul_seconds).abs() < 1e-12);
        assert!(r.to_string().contains("cores busy"));
    }
}
