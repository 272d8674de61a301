//! Speed of the hot loops against the matmul bound of the same device, measured in the same
//! process: RBM learning ([`rbm_epoch_bench`]), an AIS estimate of log Z ([`ais_bench`]) and a
//! backprop fine-tuning epoch with its evaluation ([`backprop::backprop_bench`]);
//! `harmonium bench` prints them.
//!
//! One epoch of CD-k (or persistent CD with as many chains as the batch size) is timed, and the
//! same sequence of matmuls alone, on random matrices of the same shapes, in the same process.
//! The epoch is timed in ten slices of the data, each followed by the matmuls of as many
//! mini-batches, so that both sides see the same moments of a shared machine; the whole is done
//! three times and the fastest total of each side is reported. (Each slice is shuffled on its
//! own: the work per mini-batch is that of one epoch over all the data.)
//!
//! Flop count per mini-batch of B examples, V visible and H hidden units (a matmul of m×k by k×n
//! counts 2mkn):
//!
//! * CD-k: positive phase `v W` (2BVH); each of the k Gibbs steps one `h Wᵀ` and one `v W`
//!   (2·2BVH); the gradient `[v_data; v_model]ᵀ [h_data; h_model]` (4BVH):
//!   `(4k + 6)·BVH`, i.e. 10·BVH for CD-1.
//! * Persistent CD with C chains: positive phase 2BVH; `p(h|v)` of the chains 2CVH; k steps of
//!   `h Wᵀ` and k−1 further `v W` ((4k − 2)·CVH); the gradient 2(B + C)VH:
//!   `4BVH + (4k + 2)·CVH`, again 10·BVH for k = 1 and C = B.

pub mod backprop;
pub mod mean_field;
pub mod ops;

use std::fmt;
use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

use crate::eval::ais::{BaseRateModel, estimate_log_z};
use crate::eval::metrics::mean_free_energy;
use crate::events::NullSink;
use crate::rbm::{Learner, Momentum, MomentumUpdate, Rbm, RbmConfig, RbmEvalConfig, Step};

/// Timing of one RBM epoch against the matmul bound.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub examples: usize,
    pub visible: usize,
    pub hidden: usize,
    pub batch: usize,
    pub cd_k: usize,
    pub persistent: bool,
    /// Wall-clock seconds of one training epoch.
    pub seconds_per_epoch: f64,
    /// Training examples per second.
    pub images_per_second: f64,
    /// Flops of one epoch by the count in the module docs.
    pub flops_per_epoch: f64,
    /// Achieved GFLOP/s of the epoch.
    pub gflops: f64,
    /// Seconds the epoch's matmuls take alone.
    pub matmul_seconds: f64,
    /// GFLOP/s of the matmuls alone.
    pub matmul_gflops: f64,
    /// `seconds_per_epoch / matmul_seconds` (1.0 is the bound).
    pub ratio: f64,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = if self.persistent { "PCD" } else { "CD" };
        writeln!(
            f,
            "RBM {}-{}, {}-{}, batch {}, {} examples",
            self.visible, self.hidden, method, self.cd_k, self.batch, self.examples
        )?;
        writeln!(
            f,
            "  epoch:       {:.3} s  ({:.0} images/s, {:.1} GFLOP/s)",
            self.seconds_per_epoch, self.images_per_second, self.gflops
        )?;
        writeln!(
            f,
            "  matmuls only: {:.3} s  ({:.1} GFLOP/s)",
            self.matmul_seconds, self.matmul_gflops
        )?;
        write!(f, "  ratio epoch/matmul bound: {:.2}", self.ratio)
    }
}

/// Flops of one mini-batch (see the module docs); `chains` is used for persistent CD.
pub fn batch_flops(
    batch: usize,
    visible: usize,
    hidden: usize,
    cd_k: usize,
    persistent: bool,
    chains: usize,
) -> f64 {
    let (b, c, vh, k) = (
        batch as f64,
        chains as f64,
        (visible * hidden) as f64,
        cd_k as f64,
    );
    if persistent {
        (4.0 * b + (4.0 * k + 2.0) * c) * vh
    } else {
        (4.0 * k + 6.0) * b * vh
    }
}

/// Times the interleaved epoch and matmul-only measurement is made; the fastest of each side
/// is reported.
pub const REPEATS: usize = 3;

/// Slices of the epoch, each timed and followed by its matmuls alone.
pub const SLICES: usize = 10;

/// Times one epoch of CD-`cd_k` (or persistent CD with `batch` chains) on `data` with `hidden`
/// hidden units and the same matmuls alone, in [`SLICES`] interleaved slices, [`REPEATS`] times
/// (the fastest of each side is reported).
pub fn rbm_epoch_bench(
    device: &Device,
    data: Tensor<2>,
    hidden: usize,
    batch: usize,
    cd_k: usize,
    persistent: bool,
) -> BenchReport {
    let data = data.to_device(device);
    let [n, visible] = data.dims();
    let cfg = RbmConfig {
        hidden,
        cd_k: cd_k.max(1),
        persistent,
        chains: batch,
        epochs: 1,
        batch_size: batch,
        momentum: Momentum {
            start: 0.9,
            r#final: 0.9,
            switch_epoch: 0,
        },
        eval: RbmEvalConfig {
            ais: None,
            ..Default::default()
        },
        ..Default::default()
    };
    device.seed(0);
    let mut rbm = Rbm::new(visible, &cfg, device).expect("a valid benchmark configuration");
    rbm.init_from_data(&data, &cfg).expect("matching data");
    let mut learner = Learner::new(&rbm, &cfg, 1);
    let step = Step {
        update: MomentumUpdate {
            lr: 0.01,
            momentum: 0.9,
            weight_cost: cfg.weight_cost,
        },
        cd_k: cfg.cd_k,
    };

    // Warm-up: a few batches (thread pools, allocator).
    let warm = data.clone().narrow(0, 0, n.min(5 * batch));
    learner.epoch(&mut rbm, &warm, batch, step, None);
    sync(&rbm.weights);

    // The epoch and the matmuls alone, interleaved slice by slice (so that both see the same
    // moments of a shared machine), REPEATS times; the fastest total of each is kept.
    let slices = SLICES.min(n.div_ceil(batch)).max(1);
    let per_slice = n.div_ceil(slices).div_ceil(batch) * batch;
    // Each slice is a tensor of its own (a batch selected from a view would copy the view).
    let slices: Vec<Tensor<2>> = (0..n)
        .step_by(per_slice)
        .map(|start| {
            let slice = data.clone().narrow(0, start, per_slice.min(n - start));
            Tensor::from_data(slice.into_data(), device)
        })
        .collect();
    let (mut seconds_per_epoch, mut matmul_seconds) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..REPEATS {
        let (mut epoch, mut matmuls) = (0.0, 0.0);
        for slice in &slices {
            let len = slice.dims()[0];
            let started = Instant::now();
            learner.epoch(&mut rbm, slice, batch, step, None);
            sync(&rbm.weights);
            epoch += started.elapsed().as_secs_f64();
            matmuls += matmul_bound(device, len, visible, hidden, batch, cfg.cd_k);
        }
        seconds_per_epoch = seconds_per_epoch.min(epoch);
        matmul_seconds = matmul_seconds.min(matmuls);
    }

    let full = n / batch;
    let rest = n % batch;
    let flops_per_epoch = full as f64
        * batch_flops(batch, visible, hidden, cfg.cd_k, persistent, batch)
        + if rest > 0 {
            batch_flops(rest, visible, hidden, cfg.cd_k, persistent, batch)
        } else {
            0.0
        };
    BenchReport {
        examples: n,
        visible,
        hidden,
        batch,
        cd_k: cfg.cd_k,
        persistent,
        seconds_per_epoch,
        images_per_second: n as f64 / seconds_per_epoch,
        flops_per_epoch,
        gflops: flops_per_epoch / seconds_per_epoch / 1e9,
        matmul_seconds,
        matmul_gflops: flops_per_epoch / matmul_seconds / 1e9,
        ratio: seconds_per_epoch / matmul_seconds,
    }
}

fn sync(t: &Tensor<2>) {
    let _ = t.clone().sum().into_scalar::<f32>();
}

/// Seconds for the matmuls of one epoch alone (same shapes, same order, random operands).
fn matmul_bound(
    device: &Device,
    n: usize,
    visible: usize,
    hidden: usize,
    batch: usize,
    cd_k: usize,
) -> f64 {
    let rand = |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Default, device);
    let w = rand([visible, hidden]);
    let v = rand([batch, visible]);
    let h = rand([batch, hidden]);
    let v2 = rand([2 * batch, visible]);
    let h2 = rand([2 * batch, hidden]);
    let one_batch = || {
        // k + 1 forward `v W` and k backward `h Wᵀ`, for CD-k and persistent CD alike.
        let (forward, backward) = (cd_k + 1, cd_k);
        for _ in 0..forward {
            drop(v.clone().matmul(w.clone()));
        }
        for _ in 0..backward {
            drop(h.clone().matmul(w.clone().transpose()));
        }
        v2.clone().transpose().matmul(h2.clone())
    };
    for _ in 0..5 {
        drop(one_batch());
    }
    let _ = one_batch().sum().into_scalar::<f32>();
    let started = Instant::now();
    let mut last = None;
    for _ in 0..n.div_ceil(batch) {
        last = Some(one_batch());
    }
    if let Some(t) = last {
        sync(&t);
    }
    started.elapsed().as_secs_f64()
}

/// Timing of an AIS estimate of log Z (`estimate_log_z`) for an RBM after one epoch of CD-1.
#[derive(Debug, Clone, PartialEq)]
pub struct AisBenchReport {
    pub examples: usize,
    pub visible: usize,
    pub hidden: usize,
    pub runs: usize,
    pub betas: usize,
    /// Wall-clock seconds of the estimate.
    pub seconds: f64,
    /// Processor seconds over wall seconds during the estimate.
    pub cores_busy: f64,
    /// Flops of the estimate's matmuls (see [`ais_flops`]).
    pub flops: f64,
    /// Seconds the same matmuls take alone (timed on a tenth of the steps, scaled).
    pub matmul_seconds: f64,
    /// `seconds / matmul_seconds`.
    pub ratio: f64,
    /// The estimate and its ±3 standard-error bounds.
    pub log_z: f64,
    pub log_z_lower: f64,
    pub log_z_upper: f64,
    /// Mean `log p(v) = −F(v) − log Z` of the training images, nats.
    pub mean_log_prob: f64,
}

impl fmt::Display for AisBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "AIS on RBM {}-{} after one epoch of CD-1 on {} examples, {} runs x {} betas",
            self.visible, self.hidden, self.examples, self.runs, self.betas
        )?;
        writeln!(
            f,
            "  estimate:    {:.1} s  ({:.0} betas/s, {:.1} GFLOP/s, {:.2} cores busy)",
            self.seconds,
            self.betas as f64 / self.seconds,
            self.flops / self.seconds / 1e9,
            self.cores_busy
        )?;
        writeln!(
            f,
            "  matmuls only: {:.1} s  ({:.1} GFLOP/s)",
            self.matmul_seconds,
            self.flops / self.matmul_seconds / 1e9
        )?;
        writeln!(f, "  ratio estimate/matmul bound: {:.2}", self.ratio)?;
        write!(
            f,
            "  log Z = {:.2} [{:.2}, {:.2}]; mean log p(v) of the training images {:.2} nats",
            self.log_z, self.log_z_lower, self.log_z_upper, self.mean_log_prob
        )
    }
}

/// Trains an RBM with `hidden` units on `data` for one epoch of CD-1 (batch 100, lr 0.05), then
/// times an AIS estimate of its log Z with `runs` runs through `betas` distributions.
pub fn ais_bench(
    device: &Device,
    data: Tensor<2>,
    hidden: usize,
    runs: usize,
    betas: usize,
) -> AisBenchReport {
    let data = data.to_device(device);
    let [n, visible] = data.dims();
    let cfg = RbmConfig {
        hidden,
        epochs: 1,
        lr: 0.05,
        eval: RbmEvalConfig {
            ais: None,
            every: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    device.seed(0);
    let (rbm, _) = Rbm::fit(&data, None, &cfg, &mut NullSink, 1).expect("a valid configuration");
    let base = BaseRateModel::fit(&data);
    let (cpu0, started) = (cpu_seconds(), Instant::now());
    let est = estimate_log_z(&rbm, &base, runs, betas);
    let seconds = started.elapsed().as_secs_f64();
    let cores_busy = (cpu_seconds() - cpu0) / seconds;
    let matmul_seconds = ais_matmul_bound(device, runs, visible, hidden, betas);
    AisBenchReport {
        examples: n,
        visible,
        hidden,
        runs,
        betas,
        seconds,
        cores_busy,
        flops: ais_flops(runs, visible, hidden, betas),
        matmul_seconds,
        ratio: seconds / matmul_seconds,
        log_z: est.log_z,
        log_z_lower: est.log_z_lower,
        log_z_upper: est.log_z_upper,
        mean_log_prob: -mean_free_energy(&rbm, &data) - est.log_z,
    }
}

/// Flops of the matmuls of an AIS estimate with R runs through K distributions, V visible and
/// H hidden units: each of the K − 1 steps computes `v W` (2RVH) and `v (b_B − b_A)` (2RV) at
/// the current states, and each but the last a Gibbs step's `h Wᵀ` (2RVH): about
/// 4RVH(K − 1), 2.27 TFLOP for 100 runs × 14,500 β on 784-500.
pub fn ais_flops(runs: usize, visible: usize, hidden: usize, betas: usize) -> f64 {
    let (r, v, h) = (runs as f64, visible as f64, hidden as f64);
    let steps = betas.saturating_sub(1) as f64;
    steps * (2.0 * r * v * h + 2.0 * r * v) + (steps - 1.0).max(0.0) * 2.0 * r * v * h
}

/// Seconds for the matmuls of an AIS estimate alone: a tenth of the steps (at least one) on
/// random operands of the same shapes, scaled to all of them.
fn ais_matmul_bound(
    device: &Device,
    runs: usize,
    visible: usize,
    hidden: usize,
    betas: usize,
) -> f64 {
    let rand = |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Default, device);
    let (v, w, bias, h) = (
        rand([runs, visible]),
        rand([visible, hidden]),
        rand([visible, 1]),
        rand([runs, hidden]),
    );
    let w_t = rand([hidden, visible]);
    let step = || {
        drop(v.clone().matmul(w.clone()));
        drop(v.clone().matmul(bias.clone()));
        h.clone().matmul(w_t.clone())
    };
    for _ in 0..5 {
        drop(step());
    }
    let steps = betas.saturating_sub(1).div_ceil(10).max(1);
    let started = Instant::now();
    let mut last = None;
    for _ in 0..steps {
        last = Some(step());
    }
    if let Some(t) = last {
        sync(&t);
    }
    started.elapsed().as_secs_f64() * betas.saturating_sub(1).max(1) as f64 / steps as f64
}

/// Processor time (user and system) this process has used, in seconds.
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{mnist_binary, serial};

    #[test]
    fn flop_count_is_ten_bvh_for_cd1_and_for_pcd1_with_as_many_chains() {
        assert_eq!(
            batch_flops(100, 784, 500, 1, false, 100),
            10.0 * 100.0 * 784.0 * 500.0
        );
        assert_eq!(
            batch_flops(100, 784, 500, 1, true, 100),
            10.0 * 100.0 * 784.0 * 500.0
        );
        assert_eq!(batch_flops(10, 1, 1, 3, false, 10), 180.0);
    }

    #[test]
    fn bench_report_is_consistent_on_a_small_problem() {
        let _guard = serial();
        let device = Device::flex();
        let report = rbm_epoch_bench(&device, mnist_binary(500, &device), 32, 50, 1, false);
        assert_eq!(
            (report.examples, report.visible, report.hidden),
            (500, 784, 32)
        );
        assert!(report.seconds_per_epoch > 0.0 && report.matmul_seconds > 0.0);
        assert!((report.ratio - report.seconds_per_epoch / report.matmul_seconds).abs() < 1e-12);
        assert!(report.to_string().contains("ratio epoch/matmul bound"));
    }

    #[test]
    fn ais_bench_report_is_consistent_on_a_small_problem() {
        let _guard = serial();
        let device = Device::flex();
        let report = ais_bench(&device, mnist_binary(300, &device), 12, 20, 200);
        assert_eq!(
            (
                report.examples,
                report.visible,
                report.hidden,
                report.runs,
                report.betas
            ),
            (300, 784, 12, 20, 200)
        );
        assert!(report.seconds > 0.0);
        assert!(report.log_z_lower <= report.log_z && report.log_z <= report.log_z_upper);
        // log p(v) of a binary vector is at most 0, and 784 coin flips give −543 nats.
        assert!(
            report.mean_log_prob < 0.0 && report.mean_log_prob > -543.5,
            "{report}"
        );
        assert!(report.to_string().contains("betas/s"));
    }
}
