//! Pretraining a DBM from a stack of RBMs and composing them (paper §8; Salakhutdinov & Hinton
//! 2009, §3.1).
//!
//! In the DBM every hidden layer below the top gets input from the layer below *and* the layer
//! above, whereas in a stack of RBMs it gets it from one of them. Composing takes the geometric
//! mean of the two RBMs' distributions over each shared layer: half of the bottom-up and half of
//! the top-down input.
//!
//! * **First RBM** (v ↔ h¹): trained with the constraint that the bottom-up weights are twice the
//!   top-down ones, `p(h = 1 | v) = σ(c + 2vW)`, `p(v = 1 | h) = σ(b + hWᵀ)`
//!   ([`Constraint::BottomUpDoubled`]); half its bottom-up input is vW, what W¹ = W gives.
//! * **Middle RBMs**: ordinary RBMs; composing halves their weights and biases.
//! * **Last RBM** (hᴸ⁻¹ ↔ hᴸ): top-down weights twice the bottom-up ones,
//!   `p(h = 1 | x) = σ(c + xW)`, `p(x = 1 | h) = σ(b + 2hWᵀ)` ([`Constraint::TopDownDoubled`]).
//!
//! The DBM, with RBM k having weights W_k, visible biases b_k and hidden biases c_k:
//!
//! ```text
//! W¹ = W_1,   Wˡ = W_l / 2 (1 < l < L),   Wᴸ = W_L
//! b  = b_1,   cˡ = (c_l + b_{l+1}) / 2 (1 ≤ l < L),   cᴸ = c_L
//! ```
//!
//! (each shared layer's bias is half the bias of the RBM below, where it is hidden, plus half the
//! bias of the RBM above, where it is visible).
//!
//! **Constrained CD.** With bottom-up factor α and top-down factor β ((2, 1) for the first RBM,
//! (1, 2) for the last), CD-k runs the chain `h ~ σ(c + α vW)`, `v' = σ(b + β hWᵀ)`, … and forms
//! the ordinary statistics (paper eq. 4)
//!
//! ```text
//! ΔW ∝ ⟨v pᵀ⟩_data − ⟨v' p'ᵀ⟩_recon,  Δb ∝ ⟨v⟩_data − ⟨v'⟩_recon,  Δc ∝ ⟨p⟩_data − ⟨p'⟩_recon
//! p = σ(c + α vW),   p' = σ(c + α v'W)
//! ```
//!
//! It is no longer a proper RBM, but contrastive divergence still works well (§8).
//!
//! **Gaussian visible units** (unit variance) on the first RBM: `v' = b + β hWᵀ`, the mean of
//! v given h, stands in for σ(·) in the reconstructions; the statistics keep their form.

use std::time::Instant;

use burn::tensor::Tensor;

use super::{Dbm, DbmError};
use crate::data::select_rows;
use crate::events::{Event, EventSink, Prefixed};
use crate::rbm::model::{bernoulli, row, sigmoid};
use crate::rbm::{
    CdStatistics, Draws, GaussianSigma, HostDraws, Increments, MomentumUpdate, Rbm, RbmConfig,
    VisibleType,
};

/// Which direction of a constrained RBM uses doubled weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// The first RBM of a DBM: `p(h | v) = σ(c + 2vW)`, `p(v | h) = σ(b + hWᵀ)`.
    BottomUpDoubled,
    /// The last RBM of a DBM: `p(h | x) = σ(c + xW)`, `p(x | h) = σ(b + 2hWᵀ)`.
    TopDownDoubled,
}

impl Constraint {
    /// (bottom-up factor α, top-down factor β).
    pub fn factors(self) -> (f64, f64) {
        match self {
            Constraint::BottomUpDoubled => (2.0, 1.0),
            Constraint::TopDownDoubled => (1.0, 2.0),
        }
    }

    /// `p(h = 1 | v) = σ(c + α vW)`.
    pub fn hidden_probs(self, rbm: &Rbm, v: Tensor<2>) -> Tensor<2> {
        let alpha = self.factors().0;
        sigmoid(v.matmul(rbm.weights.clone()).mul_scalar(alpha) + row(&rbm.hidden_bias))
    }

    /// `p(v = 1 | h) = σ(b + β hWᵀ)` (Gaussian visible units: the mean `b + β hWᵀ`).
    pub fn visible_probs(self, rbm: &Rbm, h: Tensor<2>) -> Tensor<2> {
        let beta = self.factors().1;
        let input =
            h.matmul(rbm.weights.clone().transpose()).mul_scalar(beta) + row(&rbm.visible_bias);
        if rbm.is_binary() {
            sigmoid(input)
        } else {
            input
        }
    }
}

/// The CD-k statistics of a constrained RBM for the mini-batch `v0` (see the module doc): the
/// data's hidden probabilities, a sampled hidden state driving k steps whose reconstructions are
/// probabilities, intermediate hidden states sampled, the last hidden statistics probabilities.
pub fn constrained_cd_statistics(
    rbm: &Rbm,
    constraint: Constraint,
    v0: Tensor<2>,
    cd_k: usize,
    draws: &mut dyn Draws,
) -> CdStatistics {
    let ph_data = constraint.hidden_probs(rbm, v0.clone());
    let u = draws.uniform(&ph_data);
    let mut h = bernoulli(ph_data.clone(), u);
    let mut step = 1;
    let (v_model, ph_model) = loop {
        let v = constraint.visible_probs(rbm, h);
        let ph = constraint.hidden_probs(rbm, v.clone());
        if step >= cd_k {
            break (v, ph);
        }
        let u = draws.uniform(&ph);
        h = bernoulli(ph, u);
        step += 1;
    };
    let (nd, nm) = (v0.dims()[0] as f64, v_model.dims()[0] as f64);
    let mean =
        |t: &Tensor<2>, n: f64| -> Tensor<1> { t.clone().sum_dim(0).squeeze_dim(0).div_scalar(n) };
    let visible_data_mean = mean(&v0, nd);
    let hidden_data_mean = mean(&ph_data, nd);
    let delta_w = v0.transpose().matmul(ph_data).div_scalar(nd)
        - v_model
            .clone()
            .transpose()
            .matmul(ph_model.clone())
            .div_scalar(nm);
    CdStatistics {
        delta_w,
        delta_b: visible_data_mean.clone() - mean(&v_model, nm),
        delta_c: hidden_data_mean.clone() - mean(&ph_model, nm),
        hidden_data_mean,
        visible_data_mean,
    }
}

/// Composes pretrained RBMs (bottom first: the first trained with
/// [`Constraint::BottomUpDoubled`], the last with [`Constraint::TopDownDoubled`], those between
/// ordinary) into a DBM, halving the middle RBMs (see the module doc). At least two RBMs, binary
/// visible units (the first may have unit-variance Gaussian ones), and each RBM's hidden layer
/// the next one's visible layer.
pub fn compose(rbms: &[Rbm]) -> Result<Dbm, DbmError> {
    let l_top = rbms.len();
    if l_top < 2 {
        return Err(DbmError::TooFewLayers { got: l_top });
    }
    for (k, r) in rbms.iter().enumerate() {
        if k > 0 && !r.is_binary() {
            return Err(DbmError::Config(format!(
                "RBM {} has Gaussian visible units; only the first layer of a DBM can",
                k + 1
            )));
        }
        if r.sigma().is_some() {
            return Err(DbmError::Config(
                "the Gaussian visible units of a DBM have unit variance (gaussian_sigma: unit; \
                 standardise the data)"
                    .into(),
            ));
        }
        if let Some(next) = rbms.get(k + 1)
            && next.visible() != r.hidden()
        {
            return Err(DbmError::Shape {
                what: format!(
                    "visible units of RBM {} (hidden units of RBM {})",
                    k + 2,
                    k + 1
                ),
                expected: r.hidden(),
                got: next.visible(),
            });
        }
    }
    let weights = rbms
        .iter()
        .enumerate()
        .map(|(k, r)| {
            if k == 0 || k + 1 == l_top {
                r.weights.clone()
            } else {
                r.weights.clone().div_scalar(2.0)
            }
        })
        .collect();
    let hidden_biases = (0..l_top)
        .map(|k| match rbms.get(k + 1) {
            Some(above) => {
                (rbms[k].hidden_bias.clone() + above.visible_bias.clone()).div_scalar(2.0)
            }
            None => rbms[k].hidden_bias.clone(),
        })
        .collect();
    let visible = if rbms[0].is_binary() {
        VisibleType::Binary
    } else {
        VisibleType::Gaussian
    };
    Ok(
        Dbm::from_parts(weights, rbms[0].visible_bias.clone(), hidden_biases)?
            .with_visible(visible),
    )
}

/// Greedy pretraining of the stack for a DBM, then [`compose`]. `layers[k]` configures RBM k
/// (its `hidden` is the size of hidden layer k+1); the first and last are trained by
/// constrained CD ([`train_constrained`]), those between by [`Rbm::fit`]. Each RBM is trained
/// on the hidden probabilities of the one below (the first's with doubled bottom-up weights).
/// RBM k's events reach `sink` prefixed `layer{k+1}`; it is seeded with `seed + k`. Returns the
/// DBM and the RBMs; stops after the current RBM when `sink.keep_going()` is false, with
/// `None` for the DBM.
pub fn pretrain(
    data: &Tensor<2>,
    layers: &[RbmConfig],
    sink: &mut dyn EventSink,
    seed: u64,
) -> Result<(Option<Dbm>, Vec<Rbm>), DbmError> {
    if layers.len() < 2 {
        return Err(DbmError::TooFewLayers { got: layers.len() });
    }
    let top = layers.len() - 1;
    let mut x = data.clone();
    let mut rbms = Vec::with_capacity(layers.len());
    for (k, cfg) in layers.iter().enumerate() {
        if !sink.keep_going() {
            return Ok((None, rbms));
        }
        let mut layer_sink = Prefixed {
            inner: &mut *sink,
            prefix: format!("layer{}", k + 1),
        };
        let layer_seed = seed.wrapping_add(k as u64);
        let constraint = match k {
            0 => Some(Constraint::BottomUpDoubled),
            k if k == top => Some(Constraint::TopDownDoubled),
            _ => None,
        };
        let rbm = match constraint {
            Some(c) => {
                let mut rbm = Rbm::new_with(
                    x.dims()[1],
                    cfg,
                    &x.device(),
                    &mut HostDraws::new(layer_seed),
                )?;
                rbm.init_from_data(&x, cfg)?;
                train_constrained(&mut rbm, c, &x, cfg, &mut layer_sink, layer_seed)?;
                rbm
            }
            None => Rbm::fit(&x, None, cfg, &mut layer_sink, layer_seed)?.0,
        };
        if k < top {
            x = match constraint {
                Some(c) => c.hidden_probs(&rbm, x),
                None => rbm.hidden_probs(x),
            };
        }
        rbms.push(rbm);
    }
    let dbm = compose(&rbms)?;
    Ok((Some(dbm), rbms))
}

/// Trains a constrained RBM by CD-k ([`constrained_cd_statistics`]) with the update of
/// [`MomentumUpdate`] (`cfg`'s lr schedule, momentum, weight cost, batch size, epochs; binary
/// units, no persistent chains, no sparsity). Emits `recon_error` (squared error of one
/// up-down reconstruction per example), `epoch_seconds` and `Progress { stage: "rbm" }` per
/// epoch; stops at an epoch boundary when `sink.keep_going()` is false. Returns the epochs run.
pub fn train_constrained(
    rbm: &mut Rbm,
    constraint: Constraint,
    data: &Tensor<2>,
    cfg: &RbmConfig,
    sink: &mut dyn EventSink,
    seed: u64,
) -> Result<usize, DbmError> {
    cfg.validate()?;
    let binary = cfg.visible_type == VisibleType::Binary && rbm.is_binary();
    let unit_gaussian = constraint == Constraint::BottomUpDoubled
        && cfg.visible_type == VisibleType::Gaussian
        && rbm.sigma().is_none()
        && cfg.gaussian_sigma == GaussianSigma::Unit;
    if !(binary || unit_gaussian) {
        return Err(DbmError::Config(
            "the constrained RBMs of a DBM have binary visible units (the first may have \
             Gaussian ones with gaussian_sigma: unit)"
                .into(),
        ));
    }
    if cfg.persistent || cfg.sparsity.is_some() {
        return Err(DbmError::Config(
            "the first and last RBMs of a DBM are trained by plain CD-k: set persistent: false and \
             no sparsity"
                .into(),
        ));
    }
    let n = data.dims()[0];
    if n == 0 {
        return Err(DbmError::EmptyData);
    }
    let mut order = HostDraws::new(seed ^ 0x5851_F42D_4C95_7F2D);
    let mut draws = HostDraws::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut inc = Increments::zeros(rbm);
    for epoch in 0..cfg.epochs {
        if !sink.keep_going() {
            return Ok(epoch);
        }
        let started = Instant::now();
        let update = MomentumUpdate {
            lr: cfg.lr_at(epoch),
            momentum: cfg.momentum.at(epoch),
            weight_cost: cfg.weight_cost,
        };
        let perm = order.permutation(n);
        for rows in perm.chunks(cfg.batch_size) {
            let v0 = select_rows(data, rows);
            let s = constrained_cd_statistics(rbm, constraint, v0, cfg.cd_k, &mut draws);
            update.apply(rbm, &mut inc, s);
        }
        let e = epoch + 1;
        let recon = constraint.visible_probs(rbm, constraint.hidden_probs(rbm, data.clone()));
        let err = (recon - data.clone()).square().sum().into_scalar::<f32>() as f64 / n as f64;
        if !err.is_finite() {
            return Err(DbmError::Diverged {
                epoch: e,
                what: "the reconstruction error of a constrained RBM".into(),
            });
        }
        sink.metric("recon_error", e as u64, err);
        sink.metric("epoch_seconds", e as u64, started.elapsed().as_secs_f64());
        sink.emit(Event::Progress {
            stage: "rbm".into(),
            done: e as u64,
            total: cfg.epochs as u64,
        });
    }
    Ok(cfg.epochs)
}
