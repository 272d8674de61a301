//! The cost per element of the element-wise operations the hot loops use, on tensors of a
//! mini-batch's size (100 × 500), so that a loop's distance from its matmul bound can be put
//! down to the operations that make it ([`ops_bench`]).

use std::fmt;
use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

/// Nanoseconds per element of each operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OpsReport {
    pub elements: usize,
    /// (operation, ns per element).
    pub costs: Vec<(&'static str, f64)>,
}

impl fmt::Display for OpsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "element-wise operations on {} elements, one thread",
            self.elements
        )?;
        let rows: Vec<String> = self
            .costs
            .iter()
            .map(|(name, ns)| format!("  {name:<34} {ns:>6.2} ns/element"))
            .collect();
        write!(f, "{}", rows.join("\n"))
    }
}

/// Times each operation on a [100, 500] tensor, repeated, on one thread.
pub fn ops_bench(device: &Device) -> OpsReport {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
    let run = || {
        let x = Tensor::<2>::random([100, 500], Distribution::Uniform(-8.0, 8.0), device);
        let n = 100 * 500;
        let reps = 400;
        let time = |f: &dyn Fn(Tensor<2>) -> Tensor<2>| {
            for _ in 0..20 {
                drop(f(x.clone() + 0.0));
            }
            let inputs: Vec<Tensor<2>> = (0..reps).map(|_| x.clone() + 0.0).collect();
            let started = Instant::now();
            for t in inputs {
                drop(f(t));
            }
            started.elapsed().as_secs_f64() * 1e9 / (reps * n) as f64
        };
        let costs: Vec<(&'static str, f64)> = vec![
            ("add_scalar (backend)", time(&|t| t.add_scalar(1.0))),
            ("mul (backend)", time(&|t| t.clone() * t)),
            ("exp (backend)", time(&|t| t.exp())),
            (
                "sigmoid (backend)",
                time(&|t| burn::tensor::activation::sigmoid(t)),
            ),
            ("exp (fast_math)", time(&|t| crate::fast_math::exp(t))),
            (
                "logistic (fast_math)",
                time(&|t| crate::fast_math::logistic(t)),
            ),
        ];
        OpsReport { elements: n, costs }
    };
    match pool {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}
