//! AIS on the CPU as two halves of the runs advanced side by side.
//!
//! The runs of an AIS estimate are independent chains, so the log importance weights of runs
//! `0..R/2` and `R/2..R` can be computed apart and put together:
//!
//! ```text
//! log w = [log w of the first half ; log w of the second half]
//! ```
//!
//! On the CPU backend the element-wise kernels (the exponentials of the weight increments and of
//! the logistic, the Bernoulli draws) run on one thread, and a matmul of 100 runs spends part of
//! its time handing work between threads. Each half therefore runs the plain annealing
//! ([`super::ais::log_weights`]) on a thread pool of its own with its own generator, so both cores
//! are busy through the whole estimate. The calling thread only asks `keep_going` (every 20 ms)
//! and tells both halves to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Interrupted;
use super::ais::{BaseRateModel, log_weights as plain_log_weights};
use crate::rbm::halves::half_pools;
use crate::rbm::{HostDraws, Rbm};

/// The log importance weights of `runs` runs (at least 2): the first `runs / 2` drawn from
/// `draws[0]`, the rest from `draws[1]`, each half on a pool of its own.
pub(crate) fn log_weights(
    rbm: &Rbm,
    base: &BaseRateModel,
    runs: usize,
    betas: usize,
    draws: [HostDraws; 2],
    keep_going: &dyn Fn() -> bool,
) -> Result<Vec<f64>, Interrupted> {
    let [mut a, mut b] = draws;
    let sizes = [runs / 2, runs - runs / 2];
    let stop = AtomicBool::new(false);
    let go = || !stop.load(Ordering::Relaxed);
    let Some(pools) = half_pools() else {
        let mut first = plain_log_weights(rbm, base, sizes[0], betas, &mut a, keep_going)?;
        first.extend(plain_log_weights(
            rbm, base, sizes[1], betas, &mut b, keep_going,
        )?);
        return Ok(first);
    };
    let half = |pool: &rayon::ThreadPool, n: usize, draws: &mut HostDraws| {
        pool.install(|| plain_log_weights(rbm, base, n, betas, draws, &go))
    };
    let (first, second) = std::thread::scope(|s| {
        let (pa, pb) = (&pools[0], &pools[1]);
        let half = &half;
        let (a, b) = (&mut a, &mut b);
        let first = s.spawn(move || half(pa, sizes[0], a));
        let second = s.spawn(move || half(pb, sizes[1], b));
        while !(first.is_finished() && second.is_finished()) {
            if !keep_going() {
                stop.store(true, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        (join(first), join(second))
    });
    let (mut first, second) = (first?, second?);
    if stop.load(Ordering::Relaxed) {
        return Err(Interrupted);
    }
    first.extend(second);
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::never_stop;
    use crate::eval::testing::{mnist_binary, serial};
    use crate::rbm::{RbmConfig, RbmEvalConfig};
    use burn::tensor::Device;

    fn trained(hidden: usize) -> (Rbm, BaseRateModel) {
        let device = Device::flex();
        let data = mnist_binary(300, &device);
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
        let (rbm, _) = Rbm::fit(&data, None, &cfg, &mut crate::events::NullSink, 3).unwrap();
        (rbm, BaseRateModel::fit(&data))
    }

    /// The halves side by side give the weights of the plain annealing of each half in turn.
    #[test]
    fn the_halves_equal_the_plain_annealing_of_each_half() {
        let _guard = serial();
        let (rbm, base) = trained(20);
        let draws = [HostDraws::new(11), HostDraws::new(12)];
        let fast = log_weights(&rbm, &base, 9, 300, draws, &never_stop).unwrap();
        let mut plain =
            plain_log_weights(&rbm, &base, 4, 300, &mut HostDraws::new(11), &never_stop).unwrap();
        plain.extend(
            plain_log_weights(&rbm, &base, 5, 300, &mut HostDraws::new(12), &never_stop).unwrap(),
        );
        assert_eq!(fast.len(), 9);
        for (f, p) in fast.iter().zip(&plain) {
            assert!(
                (f - p).abs() <= 1e-6 * p.abs().max(1.0),
                "{fast:?}\n{plain:?}"
            );
        }
    }

    #[test]
    fn a_stop_asked_for_while_the_halves_run_interrupts_both() {
        let _guard = serial();
        let (rbm, base) = trained(20);
        let t0 = std::time::Instant::now();
        let asked = || t0.elapsed() < Duration::from_millis(200);
        let draws = [HostDraws::new(1), HostDraws::new(2)];
        let r = log_weights(&rbm, &base, 10, 10_000_000, draws, &asked);
        assert!(r.is_err(), "interrupted");
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }
}
