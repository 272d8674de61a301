//! Tests of the sigmoid belief net, next to what they check: [`model`] (errors, log-probabilities
//! and sampling against brute force), [`wake_sleep`] (the delta rules as exact gradients, the
//! updates, the sleep phase fitting the posterior), [`exact`] (enumeration against brute force,
//! the bound and the KL), [`likelihood`] (importance sampling against the exact values and its
//! standard error) and [`train`] (a known small net, MNIST, events, stopping, divergence,
//! config).
//!
//! The brute-force reference is [`HostSbn`]: the same net read back as f64, with every sum over
//! hidden states written out.

use burn::tensor::{Device, Tensor};

use super::Sbn;
use crate::eval::testing::{HostRng, bits, log_sum_exp, rows, sigmoid};
use crate::eval::to_vec;

mod exact;
mod likelihood;
mod model;
mod train;
mod wake_sleep;

/// A net with the given layer sizes (visible first) whose generative and recognition weights
/// and biases are uniform in [−scale, scale).
pub(crate) fn random_sbn(sizes: &[usize], scale: f64, seed: u64, device: &Device) -> Sbn {
    let mut rng = HostRng::new(seed);
    let generative = sizes
        .windows(2)
        .map(|p| rng.tensor2(p[1], p[0], scale, device))
        .collect();
    let generative_biases = sizes
        .iter()
        .map(|&n| rng.tensor1(n, scale, device))
        .collect();
    let recognition = sizes
        .windows(2)
        .map(|p| rng.tensor2(p[0], p[1], scale, device))
        .collect();
    let recognition_biases = sizes[1..]
        .iter()
        .map(|&n| rng.tensor1(n, scale, device))
        .collect();
    Sbn::from_parts(
        generative,
        generative_biases,
        recognition,
        recognition_biases,
    )
    .expect("a valid random net")
}

/// Random binary rows [n, m], each unit on with probability 1/2.
pub(crate) fn random_bits(n: usize, m: usize, seed: u64, device: &Device) -> Tensor<2> {
    let mut rng = HostRng::new(seed);
    let v: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..m).map(|_| (rng.uniform() < 0.5) as u8 as f64).collect())
        .collect();
    crate::eval::testing::tensor_from_rows(&v, device)
}

/// `Σ_i [x_i log σ(a_i) + (1 − x_i) log (1 − σ(a_i))]`, written out.
fn log_bernoulli(x: &[f64], a: &[f64]) -> f64 {
    x.iter()
        .zip(a)
        .map(|(&x, &a)| {
            let p = sigmoid(a);
            if x > 0.5 { p.ln() } else { (1.0 - p).ln() }
        })
        .sum()
}

/// The parameters of a net read back as f64, with brute-force log-probabilities.
#[derive(Debug, Clone)]
pub(crate) struct HostSbn {
    /// `g[l][j][i]`: Gˡ⁺¹ from unit j of layer l+1 to unit i of layer l.
    pub g: Vec<Vec<Vec<f64>>>,
    /// `gb[l]`: generative biases of layer l (l = L: the top prior).
    pub gb: Vec<Vec<f64>>,
    /// `r[l][i][j]`: Rˡ⁺¹ from unit i of layer l to unit j of layer l+1.
    pub r: Vec<Vec<Vec<f64>>>,
    /// `rb[l]`: recognition biases of layer l+1.
    pub rb: Vec<Vec<f64>>,
    pub sizes: Vec<usize>,
}

impl HostSbn {
    pub fn of(sbn: &Sbn) -> HostSbn {
        let vec1 =
            |t: &Tensor<1>| -> Vec<f64> { to_vec(t.clone()).into_iter().map(f64::from).collect() };
        HostSbn {
            g: sbn.generative.iter().map(|w| rows(w.clone())).collect(),
            gb: sbn.generative_biases.iter().map(vec1).collect(),
            r: sbn.recognition.iter().map(|w| rows(w.clone())).collect(),
            rb: sbn.recognition_biases.iter().map(vec1).collect(),
            sizes: sbn.sizes(),
        }
    }

    /// Generative input to layer l < L from the states x[l + 1].
    pub fn gen_input(&self, l: usize, above: &[f64]) -> Vec<f64> {
        (0..self.sizes[l])
            .map(|i| {
                self.gb[l][i]
                    + above
                        .iter()
                        .enumerate()
                        .map(|(j, &h)| h * self.g[l][j][i])
                        .sum::<f64>()
            })
            .collect()
    }

    /// Recognition input to layer l ≥ 1 from the states x[l − 1].
    pub fn rec_input(&self, l: usize, below: &[f64]) -> Vec<f64> {
        (0..self.sizes[l])
            .map(|j| {
                self.rb[l - 1][j]
                    + below
                        .iter()
                        .enumerate()
                        .map(|(i, &x)| x * self.r[l - 1][i][j])
                        .sum::<f64>()
            })
            .collect()
    }

    /// log p(v, h) of the states x = [v, h¹, …, hᴸ].
    pub fn log_joint(&self, x: &[Vec<f64>]) -> f64 {
        let top = self.sizes.len() - 1;
        let mut s = log_bernoulli(&x[top], &self.gb[top]);
        for l in 0..top {
            s += log_bernoulli(&x[l], &self.gen_input(l, &x[l + 1]));
        }
        s
    }

    /// log q(h | v) of the states x = [v, h¹, …, hᴸ].
    pub fn log_q(&self, x: &[Vec<f64>]) -> f64 {
        (1..self.sizes.len())
            .map(|l| log_bernoulli(&x[l], &self.rec_input(l, &x[l - 1])))
            .sum()
    }

    /// Every joint hidden state [h¹, …, hᴸ].
    pub fn hidden_states(&self) -> Vec<Vec<Vec<f64>>> {
        let total: usize = self.sizes[1..].iter().sum();
        (0..1usize << total)
            .map(|s| {
                let mut offset = 0;
                self.sizes[1..]
                    .iter()
                    .map(|&n| {
                        let b = bits(s >> offset, n);
                        offset += n;
                        b
                    })
                    .collect()
            })
            .collect()
    }

    fn with_v(v: &[f64], h: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut x = vec![v.to_vec()];
        x.extend(h.iter().cloned());
        x
    }

    /// log p(v) = log Σ_h p(v, h).
    pub fn log_p(&self, v: &[f64]) -> f64 {
        let terms: Vec<f64> = self
            .hidden_states()
            .iter()
            .map(|h| self.log_joint(&Self::with_v(v, h)))
            .collect();
        log_sum_exp(&terms)
    }

    /// `Σ_h q(h|v) [log p(v, h) − log q(h|v)]`.
    pub fn bound(&self, v: &[f64]) -> f64 {
        self.hidden_states()
            .iter()
            .map(|h| {
                let x = Self::with_v(v, h);
                let lq = self.log_q(&x);
                lq.exp() * (self.log_joint(&x) - lq)
            })
            .sum()
    }

    /// `KL(Q(·|v) ‖ P(·|v)) = Σ_h q(h|v) log (q(h|v) / p(h|v))` with p(h|v) = p(v,h)/p(v).
    pub fn kl_q_p(&self, v: &[f64]) -> f64 {
        let log_p = self.log_p(v);
        self.hidden_states()
            .iter()
            .map(|h| {
                let x = Self::with_v(v, h);
                let lq = self.log_q(&x);
                lq.exp() * (lq - (self.log_joint(&x) - log_p))
            })
            .sum()
    }

    /// `E_{p(v)} KL(P(·|v) ‖ Q(·|v)) = Σ_{v,h} p(v,h) [log p(h|v) − log q(h|v)]`: what the
    /// sleep phase descends.
    pub fn expected_kl_p_q(&self) -> f64 {
        let n0 = self.sizes[0];
        let hidden = self.hidden_states();
        (0..1usize << n0)
            .map(|s| {
                let v = bits(s, n0);
                let log_p = self.log_p(&v);
                hidden
                    .iter()
                    .map(|h| {
                        let x = Self::with_v(&v, h);
                        let lj = self.log_joint(&x);
                        lj.exp() * (lj - log_p - self.log_q(&x))
                    })
                    .sum::<f64>()
            })
            .sum()
    }

    /// log p(v) of every visible vector, numbered as [`bits`] numbers them.
    pub fn visible_log_probs(&self) -> Vec<f64> {
        let n0 = self.sizes[0];
        (0..1usize << n0)
            .map(|s| self.log_p(&bits(s, n0)))
            .collect()
    }
}
