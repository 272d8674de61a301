//! Logistic PCA: gradients against finite differences, steps that never go uphill, an exactly
//! representable model recovered, codes of new data at a stationary point, MNIST against linear
//! PCA, events, stopping, reproducibility and the config.

use std::cell::Cell;

use burn::tensor::{Device, Tensor, TensorData};

use super::{host, uniform};
use crate::eval::testing::{HostRng, mnist_binary, sigmoid};
use crate::events::Recorder;
use crate::events::{Event, EventSink, NullSink, VecSink};
use crate::pca::{
    LogisticInit, LogisticPca, LogisticPcaConfig, Pca, PcaError, bernoulli_cross_entropy,
};

/// softplus in f64.
fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

/// The summed loss L(A, V, b) in f64 on the host, from row-major parameters.
fn host_loss(x: &[f64], a: &[f64], v: &[f64], b: &[f64], n: usize, d: usize, k: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..d {
            let theta = b[j] + (0..k).map(|c| a[i * k + c] * v[j * k + c]).sum::<f64>();
            total += softplus(theta) - x[i * d + j] * theta;
        }
    }
    total
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    crate::eval::to_vec(t.clone())
        .into_iter()
        .map(f64::from)
        .collect()
}

fn model(basis: Tensor<2>, bias: Tensor<1>) -> LogisticPca {
    LogisticPca {
        basis,
        bias,
        code_iterations: 50,
    }
}

/// Probabilities σ(A* V*ᵀ + b*) of a rank-`k` logistic model, [n, d], codes uniform in ±2.
fn low_rank_probabilities(n: usize, d: usize, k: usize, seed: u64, device: &Device) -> Tensor<2> {
    low_rank_probabilities_scaled(n, d, k, 2.0, seed, device)
}

/// [`low_rank_probabilities`] with codes uniform in ±`scale` (large: saturated pixels).
fn low_rank_probabilities_scaled(
    n: usize,
    d: usize,
    k: usize,
    scale: f64,
    seed: u64,
    device: &Device,
) -> Tensor<2> {
    let mut rng = HostRng::new(seed);
    let a: Vec<f64> = (0..n * k).map(|_| rng.symmetric(scale)).collect();
    let v: Vec<f64> = (0..d * k).map(|_| rng.symmetric(1.0)).collect();
    let b: Vec<f64> = (0..d).map(|_| rng.symmetric(1.0)).collect();
    let p: Vec<f32> = (0..n * d)
        .map(|e| {
            let (i, j) = (e / d, e % d);
            let t = b[j] + (0..k).map(|c| a[i * k + c] * v[j * k + c]).sum::<f64>();
            sigmoid(t) as f32
        })
        .collect();
    Tensor::from_data(TensorData::new(p, [n, d]), device)
}

/// Σ_ij H(x_ij), the entropy of independent Bernoulli units with means x: the smallest
/// cross-entropy any model can reach on data x.
fn entropy_per_example(x: &Tensor<2>) -> f64 {
    let n = x.dims()[0];
    values(x)
        .iter()
        .map(|&p| {
            let h = |q: f64| if q > 0.0 { -q * q.ln() } else { 0.0 };
            h(p) + h(1.0 - p)
        })
        .sum::<f64>()
        / n as f64
}

#[test]
fn gradients_equal_finite_differences_of_the_loss() {
    let device = Device::flex();
    let (n, d, k) = (4, 6, 2);
    let x = uniform(n, d, 0.0, 1.0, 31, &device);
    let mut rng = HostRng::new(32);
    let m = model(
        rng.tensor2(d, k, 1.0, &device),
        rng.tensor1(d, 1.0, &device),
    );
    let codes = rng.tensor2(n, k, 1.5, &device);
    let (xv, a, v, b) = (
        values(&x),
        values(&codes),
        values(&m.basis),
        values(&m.bias),
    );
    let loss = |a: &[f64], v: &[f64], b: &[f64]| host_loss(&xv, a, v, b, n, d, k);
    // The mean loss per example of the model against the host's summed loss.
    let mean = m.loss(&x, &codes).unwrap();
    assert!((mean - loss(&a, &v, &b) / n as f64).abs() < 1e-5, "{mean}");
    let g = m.gradients(&x, &codes).unwrap();
    let h = 1e-6;
    let check = |name: &str, got: Vec<f64>, params: &[f64], which: usize| {
        for (i, &analytic) in got.iter().enumerate() {
            let (mut up, mut down) = (params.to_vec(), params.to_vec());
            up[i] += h;
            down[i] -= h;
            let at = |p: &[f64]| match which {
                0 => loss(p, &v, &b),
                1 => loss(&a, p, &b),
                _ => loss(&a, &v, p),
            };
            let numeric = (at(&up) - at(&down)) / (2.0 * h);
            assert!(
                (analytic - numeric).abs() < 1e-4 * (1.0 + numeric.abs()),
                "∂L/∂{name}[{i}]: {analytic} vs {numeric}"
            );
        }
    };
    check("A", values(&g.codes), &a, 0);
    check("V", values(&g.basis), &v, 1);
    check("b", values(&g.bias), &b, 2);
}

#[test]
fn the_loss_never_increases_for_step_sizes_below_two() {
    let device = Device::flex();
    // Binary data drawn from a rank-3 logistic model.
    let p = low_rank_probabilities(300, 24, 3, 37, &device);
    let u = uniform(300, 24, 0.0, 1.0, 38, &device);
    let x = p.greater(u).float();
    for lr in [1.0, 1.9, 0.3] {
        for init in [LogisticInit::Pca, LogisticInit::Random] {
            let cfg = LogisticPcaConfig {
                components: 3,
                iterations: 40,
                lr,
                init,
                ..LogisticPcaConfig::default()
            };
            let mut sink = VecSink::default();
            LogisticPca::fit(&x, &cfg, &mut sink, 5).unwrap();
            let ce = sink.series("cross_entropy");
            assert_eq!(ce.len(), 40);
            for w in ce.windows(2) {
                assert!(
                    w[1].1 <= w[0].1 + 1e-5 * w[0].1,
                    "lr {lr}, {init:?}: the loss rose from {} to {} at iteration {}",
                    w[0].1,
                    w[1].1,
                    w[1].0
                );
            }
            assert!(ce[39].1 < ce[0].1 - 0.01, "lr {lr}, {init:?}: {ce:?}");
        }
    }
}

#[test]
fn an_exactly_representable_model_is_recovered() {
    // Data that are themselves the probabilities of a rank-2 logistic model: the cross-entropy
    // reaches its lower bound, the data's entropy, exactly when σ(Θ) = X.
    let device = Device::flex();
    let x = low_rank_probabilities(400, 16, 2, 41, &device);
    let cfg = LogisticPcaConfig {
        components: 2,
        iterations: 300,
        eval_every: 0,
        ..LogisticPcaConfig::default()
    };
    let mut sink = VecSink::default();
    let (m, codes, summary) = LogisticPca::fit(&x, &cfg, &mut sink, 1).unwrap();
    assert_eq!(summary.iterations, 300);
    let entropy = entropy_per_example(&x);
    let ce = m.loss(&x, &codes).unwrap();
    assert!(
        ce - entropy < 1e-3 * entropy,
        "{ce} vs the entropy {entropy}"
    );
    let error = crate::pca::squared_error_per_example(&x, &m.reconstruct(&codes).unwrap()).unwrap();
    assert!(error < 1e-4, "squared error per example {error}");
    // Linear PCA with as many components cannot represent the logistic curve.
    let pca = Pca::fit(&x, 2).unwrap();
    let linear = pca.reconstruction_error(&x).unwrap();
    assert!(
        linear > 100.0 * error,
        "PCA {linear} vs logistic PCA {error}"
    );
    // Only the last iteration was measured.
    assert_eq!(sink.series("cross_entropy").len(), 1);
    assert_eq!(sink.series("train_recon_error")[0].0, 300);
}

#[test]
fn codes_of_new_data_reach_the_optimum_faster_with_momentum() {
    let device = Device::flex();
    let train = low_rank_probabilities(300, 20, 3, 43, &device);
    let cfg = LogisticPcaConfig {
        components: 3,
        iterations: 30,
        ..LogisticPcaConfig::default()
    };
    let (m, _, _) = LogisticPca::fit(&train, &cfg, &mut NullSink, 1).unwrap();
    // Fresh data from the same kind of model (fractional values: a finite optimum per example),
    // with many pixels near 0 or 1, where the bound is loose and plain steps are slow.
    let (n, k) = (50, 3);
    let test = low_rank_probabilities_scaled(n, 20, 3, 6.0, 44, &device);
    let zero = Tensor::<2>::zeros([n, k], &device);
    let start = host(&m.gradients(&test, &zero).unwrap().codes).norm();
    let optimum = m.codes_with(&test, 1_000).unwrap();
    let end = host(&m.gradients(&test, &optimum).unwrap().codes).norm();
    assert!(end < 1e-4 * start, "‖∂L/∂A‖ from {start} to {end}");
    // Momentum helps: the accelerated codes come closer to the optimum in t steps than t plain
    // code steps do (while the gaps are well above f32 round-off).
    let best = m.loss(&test, &optimum).unwrap() * n as f64;
    let gap = |codes: &Tensor<2>| m.loss(&test, codes).unwrap() * n as f64 - best;
    let preconditioner = m.code_preconditioner();
    let mut plain = zero.clone();
    for t in 1..=5 {
        plain = m.code_step(&test, plain, &preconditioner, 1.0);
        let (slow, fast) = (gap(&plain), gap(&m.codes_with(&test, t).unwrap()));
        assert!(slow > 1e-4, "{t} plain steps: {slow}");
        if t == 1 {
            assert!((fast - slow).abs() < 1e-6, "the first step has no momentum");
        } else {
            assert!(fast < 0.5 * slow, "{t} steps: {fast} vs plain {slow}");
        }
    }
    // `codes` takes code_iterations steps and `cross_entropy` is the loss there; finding codes
    // leaves the model as it was.
    let codes = m.codes(&test).unwrap();
    assert_eq!(
        values(&codes),
        values(&m.codes_with(&test, m.code_iterations).unwrap())
    );
    let ce = m.cross_entropy(&test).unwrap();
    assert!((ce - m.loss(&test, &codes).unwrap()).abs() < 1e-12);
}

#[test]
fn on_binarized_mnist_logistic_pca_beats_linear_pca_in_cross_entropy() {
    let device = Device::flex();
    let x = mnist_binary(1_000, &device);
    let k = 30;
    let pca = Pca::fit(&x, k).unwrap();
    let linear = pca.reconstruct_data(&x).unwrap();
    let pca_ce = bernoulli_cross_entropy(&x, &linear, 1e-4);
    let pca_se = pca.reconstruction_error(&x).unwrap();
    let cfg = LogisticPcaConfig {
        components: k,
        iterations: 30,
        eval_every: 10,
        ..LogisticPcaConfig::default()
    };
    let mut sink = VecSink::default();
    let (m, codes, _) = LogisticPca::fit(&x, &cfg, &mut sink, 1).unwrap();
    let ce = m.loss(&x, &codes).unwrap();
    let se = crate::pca::squared_error_per_example(&x, &m.reconstruct(&codes).unwrap()).unwrap();
    eprintln!(
        "MNIST 1000 binarized, k = 30: PCA SE {pca_se:.2} CE {pca_ce:.2}; logistic PCA SE {se:.2} CE {ce:.2}"
    );
    assert!(
        ce < 0.8 * pca_ce,
        "logistic PCA {ce} vs PCA {pca_ce} nats per image"
    );
    // A binarized digit has about 100 of its 784 pixels on; 30 components get most of them.
    assert!((2.0..30.0).contains(&se), "logistic PCA squared error {se}");
    assert!((5.0..40.0).contains(&pca_se), "PCA squared error {pca_se}");
    let metrics = sink.series("train_recon_error");
    assert_eq!(
        metrics.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![10, 20, 30]
    );
    assert!((metrics[2].1 - se).abs() < 1e-6 * se);
    // Held-out digits through codes found with the basis fixed.
    let test = mnist_binary(1_200, &device).narrow(0, 1_000, 200);
    let held_out = m.cross_entropy(&test).unwrap();
    let pca_held_out = bernoulli_cross_entropy(&test, &pca.reconstruct_data(&test).unwrap(), 1e-4);
    assert!(held_out < pca_held_out, "{held_out} vs PCA {pca_held_out}");
    // On digits (many codes, pixels saturated) 30 accelerated code steps beat 100 plain ones.
    let preconditioner = m.code_preconditioner();
    let mut plain = Tensor::<2>::zeros([200, k], &device);
    for _ in 0..100 {
        plain = m.code_step(&test, plain, &preconditioner, 1.0);
    }
    let (fast, slow) = (
        m.loss(&test, &m.codes_with(&test, 30).unwrap()).unwrap(),
        m.loss(&test, &plain).unwrap(),
    );
    assert!(
        fast < slow,
        "30 accelerated steps {fast} vs 100 plain {slow}"
    );
}

/// A sink that says stop after a number of questions.
struct StopAfter {
    inner: VecSink,
    asked: Cell<usize>,
    allowed: usize,
}

impl EventSink for StopAfter {
    fn emit(&mut self, event: Event) {
        self.inner.emit(event);
    }
    fn keep_going(&self) -> bool {
        self.asked.set(self.asked.get() + 1);
        self.asked.get() <= self.allowed
    }
}

#[test]
fn fit_reports_progress_and_stops_at_an_iteration_boundary() {
    let device = Device::flex();
    let x = low_rank_probabilities(100, 12, 2, 47, &device);
    let cfg = LogisticPcaConfig {
        components: 2,
        iterations: 10,
        ..LogisticPcaConfig::default()
    };
    let mut sink = StopAfter {
        inner: VecSink::default(),
        asked: Cell::new(0),
        allowed: 3,
    };
    let (_, codes, summary) = LogisticPca::fit(&x, &cfg, &mut sink, 1).unwrap();
    assert_eq!(codes.dims(), [100, 2]);
    assert_eq!(summary.iterations, 3);
    assert!(summary.stopped_early);
    let progress: Vec<(u64, u64)> = sink
        .inner
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Progress { stage, done, total } if stage == "logistic_pca" => {
                Some((*done, *total))
            }
            _ => None,
        })
        .collect();
    assert_eq!(progress, vec![(1, 10), (2, 10), (3, 10)]);
    assert_eq!(sink.inner.series("cross_entropy").len(), 3);
    let keys: Vec<&str> = summary
        .final_metrics
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, vec!["cross_entropy", "train_recon_error"]);
}

#[test]
fn fits_are_reproducible_and_a_random_start_depends_on_the_seed() {
    let device = Device::flex();
    let x = low_rank_probabilities(80, 10, 2, 53, &device);
    let cfg = LogisticPcaConfig {
        components: 2,
        iterations: 5,
        init: LogisticInit::Random,
        ..LogisticPcaConfig::default()
    };
    let fit = |seed| LogisticPca::fit(&x, &cfg, &mut NullSink, seed).unwrap().0;
    let (a, b, c) = (fit(1), fit(1), fit(2));
    assert_eq!(values(&a.basis), values(&b.basis));
    assert_eq!(values(&a.bias), values(&b.bias));
    assert_ne!(values(&a.basis), values(&c.basis));
    // The PCA start does not depend on the seed.
    let cfg = LogisticPcaConfig {
        init: LogisticInit::Pca,
        ..cfg
    };
    let (p, q) = (
        LogisticPca::fit(&x, &cfg, &mut NullSink, 1).unwrap().0,
        LogisticPca::fit(&x, &cfg, &mut NullSink, 2).unwrap().0,
    );
    assert_eq!(values(&p.basis), values(&q.basis));
}

#[test]
fn bad_input_and_config_are_refused_naming_the_key() {
    let device = Device::flex();
    let x = uniform(20, 5, 0.0, 1.0, 59, &device);
    let fit = |x: &Tensor<2>, cfg: &LogisticPcaConfig| {
        LogisticPca::fit(x, cfg, &mut NullSink, 1)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let base = LogisticPcaConfig {
        components: 2,
        iterations: 2,
        ..LogisticPcaConfig::default()
    };
    let cases = [
        (
            LogisticPcaConfig {
                components: 0,
                ..base.clone()
            },
            "components",
        ),
        (
            LogisticPcaConfig {
                components: 6,
                ..base.clone()
            },
            "larger than the input",
        ),
        (
            LogisticPcaConfig {
                iterations: 0,
                ..base.clone()
            },
            "iterations",
        ),
        (
            LogisticPcaConfig {
                lr: 0.0,
                ..base.clone()
            },
            "lr",
        ),
        (
            LogisticPcaConfig {
                lr: f64::NAN,
                ..base.clone()
            },
            "lr",
        ),
        (
            LogisticPcaConfig {
                code_iterations: 0,
                ..base.clone()
            },
            "code_iterations",
        ),
    ];
    for (cfg, key) in cases {
        let e = fit(&x, &cfg);
        assert!(e.contains(key), "{key}: {e}");
    }
    let e = fit(&x.clone().add_scalar(0.5), &base);
    assert!(e.contains("[0, 1]"), "{e}");
    let e = fit(&x.clone().sub_scalar(0.5), &base);
    assert!(e.contains("[0, 1]"), "{e}");
    let mut v = crate::eval::to_vec(x.clone());
    v[7] = f32::NAN;
    let nan = Tensor::<2>::from_data(TensorData::new(v, [20, 5]), &device);
    assert!(fit(&nan, &base).contains("NaN"));
    assert!(fit(&Tensor::zeros([0, 5], &device), &base).contains("empty"));
    let (m, _, _) = LogisticPca::fit(&x, &base, &mut NullSink, 1).unwrap();
    assert!(matches!(
        m.codes(&uniform(3, 4, 0.0, 1.0, 1, &device)),
        Err(PcaError::Shape {
            expected: 5,
            got: 4,
            ..
        })
    ));
    assert!(matches!(
        m.codes(&x.clone().mul_scalar(2.0)),
        Err(PcaError::OutOfRange { .. })
    ));
    assert!(matches!(
        m.loss(&x, &Tensor::zeros([19, 2], &device)),
        Err(PcaError::Shape {
            expected: 20,
            got: 19,
            ..
        })
    ));
    // The config as YAML or JSON: unknown keys refused, defaults filled in, init by name.
    let e = serde_json::from_str::<LogisticPcaConfig>(r#"{"learning_rate": 1}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field"), "{e}");
    let cfg: LogisticPcaConfig = serde_json::from_str(r#"{"init": "random"}"#).unwrap();
    assert_eq!(cfg.init, LogisticInit::Random);
    assert_eq!(cfg.components, LogisticPcaConfig::default().components);
}

#[test]
fn a_non_finite_metric_is_divergence_naming_the_iteration() {
    let mut sink = VecSink::default();
    let mut rec = Recorder {
        sink: &mut sink,
        last: Vec::new(),
    };
    rec.metric("cross_entropy", 1, 2.0).unwrap();
    let e = PcaError::from(rec.metric("cross_entropy", 2, f64::NAN).unwrap_err());
    assert_eq!(
        e,
        PcaError::Diverged {
            iteration: 2,
            what: "cross_entropy".into()
        }
    );
    assert!(e.to_string().contains("iteration 2"));
    assert_eq!(sink.series("cross_entropy"), vec![(1, 2.0)]);
}
