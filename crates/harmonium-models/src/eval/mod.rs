//! Evaluation of energy-based models: reconstruction error, free-energy gap and pseudo-likelihood
//! ([`metrics`]), exact log-likelihood by enumerating the smaller layer ([`exact`]), annealed
//! importance sampling estimates of log Z ([`ais`]), and pictures as PNG bytes ([`images`]).
//!
//! The long evaluations (AIS, enumeration, Gibbs chains for pictures) have a `*_while` form that
//! takes `keep_going: &dyn Fn() -> bool` (an [`crate::EventSink::keep_going`], for Ctrl-C) and
//! asks it every [`CHECK_EVERY`] steps (β steps, Gibbs steps) or batch of states; once it says
//! `false` they return [`Interrupted`] instead of a result. The plain forms never stop and compute
//! the same numbers.

pub mod ais;
mod ais_halves;
pub mod exact;
pub mod images;
pub mod metrics;

#[cfg(test)]
pub(crate) mod testing;

use burn::tensor::Tensor;

/// Why an evaluation could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvalError {
    #[error(
        "exact log-likelihood needs a layer of at most {max} units to enumerate, but the RBM is \
         {visible}-{hidden}"
    )]
    TooManyUnits {
        visible: usize,
        hidden: usize,
        max: usize,
    },
    #[error("{0}")]
    Unsupported(String),
    /// The caller asked to stop (see [`Interrupted`]).
    #[error("the evaluation was interrupted (Ctrl-C or a stop signal) before it finished")]
    Interrupted,
}

/// A long evaluation was stopped because its caller asked (`keep_going()` returned `false`): it
/// has no result, and nothing of it is to be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the evaluation was interrupted (Ctrl-C or a stop signal) before it finished")]
pub struct Interrupted;

impl From<Interrupted> for EvalError {
    fn from(_: Interrupted) -> Self {
        EvalError::Interrupted
    }
}

/// Steps (β steps of AIS, Gibbs steps) between two questions to `keep_going` in the long
/// evaluations. One AIS step of 100 runs on a 784-500 RBM takes about 2 ms on the CPU, so a stop
/// takes effect within about 0.2 s.
pub const CHECK_EVERY: usize = 100;

/// `Err(Interrupted)` once `keep_going()` is false.
pub(crate) fn check(keep_going: &dyn Fn() -> bool) -> Result<(), Interrupted> {
    if keep_going() {
        Ok(())
    } else {
        Err(Interrupted)
    }
}

/// The `keep_going` of the plain evaluations: never stops.
pub(crate) fn never_stop() -> bool {
    true
}

/// Reads a tensor back to the host as f32 values.
pub(crate) fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("reading a tensor back from the device")
}

/// Mean of a per-example quantity over the rows of `v`, computed in chunks of at most 10,000
/// rows and read back as f64.
pub(crate) fn mean_over_rows(v: &Tensor<2>, f: impl Fn(Tensor<2>) -> Tensor<1>) -> f64 {
    const CHUNK: usize = 10_000;
    let n = v.dims()[0];
    if n == 0 {
        return f64::NAN;
    }
    let mut total = 0.0f64;
    let mut start = 0;
    while start < n {
        let len = CHUNK.min(n - start);
        let chunk = if len == n {
            v.clone()
        } else {
            v.clone().narrow(0, start, len)
        };
        total += f(chunk).sum().into_scalar::<f32>() as f64;
        start += len;
    }
    total / n as f64
}

/// Running `log Σ exp(x)` in f64.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogSumExp {
    max: f64,
    sum: f64,
}

impl LogSumExp {
    pub(crate) fn new() -> Self {
        LogSumExp {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }

    pub(crate) fn add(&mut self, x: f64) {
        if x > self.max {
            self.sum = self.sum * (self.max - x).exp() + 1.0;
            self.max = x;
        } else {
            self.sum += (x - self.max).exp();
        }
    }

    pub(crate) fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}
