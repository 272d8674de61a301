//! The RBM itself: parameters, the factorial conditionals, sampling, free energy and energy.
//!
//! Binary visible units: `E(v,h) = −b·v − c·h − vᵀWh`, and (paper eq. 2 and 3)
//!
//! ```text
//! p(h_j = 1 | v) = σ(c_j + Σ_i v_i W_ij)                                   (2)
//! p(v_i = 1 | h) = σ(b_i + Σ_j h_j W_ij)                                   (3)
//! F(v) = −log Σ_h e^{−E(v,h)} = −b·v − Σ_j log(1 + e^{c_j + (vW)_j})
//! ```
//!
//! Gaussian visible units with standard deviations σ_i:
//! `E(v,h) = Σ_i (v_i − b_i)²/2σ_i² − c·h − Σ_ij (v_i/σ_i) W_ij h_j`, so that
//! `p(h_j = 1 | v) = σ(c_j + Σ_i (v_i/σ_i) W_ij)` and `v_i | h ~ N(b_i + σ_i Σ_j W_ij h_j, σ_i²)`.

use burn::tensor::{Device, Tensor, TensorData};

use super::{DeviceDraws, Draws, GaussianSigma, RbmConfig, RbmError, VisibleType};

/// Visible unit type with its parameters.
#[derive(Debug, Clone)]
pub enum VisibleUnits {
    Binary,
    /// Gaussian units; `sigma` holds σ_i, `None` means σ_i = 1.
    Gaussian {
        sigma: Option<Tensor<1>>,
    },
}

/// A restricted Boltzmann machine on one device.
#[derive(Debug, Clone)]
pub struct Rbm {
    /// W, shape [visible, hidden].
    pub weights: Tensor<2>,
    /// b, shape [visible].
    pub visible_bias: Tensor<1>,
    /// c, shape [hidden].
    pub hidden_bias: Tensor<1>,
    /// Visible unit type (and σ for Gaussian units).
    pub visible_units: VisibleUnits,
}

/// The visible states of a Gibbs chain after its last step.
#[derive(Debug, Clone)]
pub struct GibbsSample {
    /// Sampled visible states.
    pub visible: Tensor<2>,
    /// p(v|h) (Gaussian: the mean) at the last step: what pictures show.
    pub visible_mean: Tensor<2>,
}

/// A bias vector as a [1, n] row that broadcasts over a batch.
pub(crate) fn row(t: &Tensor<1>) -> Tensor<2> {
    t.clone().unsqueeze()
}

/// `log(1 + e^x)`, computed stably as `max(x, 0) + log(1 + e^{−|x|})`.
pub fn softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone().clamp_min(0.0) + x.abs().neg().exp().log1p()
}

/// Binary states that are on with the given probabilities: `p > u` for uniform u.
pub(crate) fn bernoulli(p: Tensor<2>, uniform: Tensor<2>) -> Tensor<2> {
    p.greater(uniform).float()
}
impl Rbm {
    /// A new RBM with `W ~ N(0, init_sigma²)`, zero biases and σ from the config (`data` σ is
    /// set to 1 until [`Rbm::init_from_data`]). Seed the device first for reproducible weights.
    pub fn new(visible: usize, cfg: &RbmConfig, device: &Device) -> Result<Rbm, RbmError> {
        Rbm::new_with(visible, cfg, device, &mut DeviceDraws)
    }

    /// [`Rbm::new`] with the initial weights from `draws`.
    pub fn new_with(
        visible: usize,
        cfg: &RbmConfig,
        device: &Device,
        draws: &mut dyn Draws,
    ) -> Result<Rbm, RbmError> {
        cfg.validate()?;
        if visible == 0 {
            return Err(RbmError::Config(
                "the RBM needs at least 1 visible unit".into(),
            ));
        }
        let weights = if cfg.init_sigma > 0.0 {
            draws
                .normal(&Tensor::zeros([visible, cfg.hidden], device))
                .mul_scalar(cfg.init_sigma)
        } else {
            Tensor::zeros([visible, cfg.hidden], device)
        };
        let visible_units = match (cfg.visible_type, &cfg.gaussian_sigma) {
            (VisibleType::Binary, _) => VisibleUnits::Binary,
            (VisibleType::Gaussian, GaussianSigma::Unit | GaussianSigma::Data) => {
                VisibleUnits::Gaussian { sigma: None }
            }
            (VisibleType::Gaussian, GaussianSigma::Fixed(s)) => {
                if s.len() != visible {
                    return Err(RbmError::Shape {
                        what: "gaussian_sigma.fixed",
                        expected: visible,
                        got: s.len(),
                    });
                }
                let s: Vec<f32> = s.iter().map(|&x| x as f32).collect();
                VisibleUnits::Gaussian {
                    sigma: Some(Tensor::from_data(TensorData::new(s, [visible]), device)),
                }
            }
        };
        Ok(Rbm {
            weights,
            visible_bias: Tensor::zeros([visible], device),
            hidden_bias: Tensor::zeros([cfg.hidden], device),
            visible_units,
        })
    }

    /// Sets the visible biases from the training data (practical guide §8): binary units get
    /// `log(p_i/(1−p_i))` of the data means p_i clamped to [1e-3, 1−1e-3]; Gaussian units get the
    /// data mean, and with `gaussian_sigma: data` σ_i becomes the data's standard deviation.
    pub fn init_from_data(&mut self, data: &Tensor<2>, cfg: &RbmConfig) -> Result<(), RbmError> {
        self.check_columns("the training data", data)?;
        if data.dims()[0] == 0 {
            return Err(RbmError::EmptyData);
        }
        let mean: Tensor<1> = data.clone().mean_dim(0).squeeze_dim(0);
        match &mut self.visible_units {
            VisibleUnits::Binary => {
                let p = mean.clamp(1e-3, 1.0 - 1e-3);
                self.visible_bias = p.clone().log() - p.neg().add_scalar(1.0).log();
            }
            VisibleUnits::Gaussian { sigma } => {
                if cfg.gaussian_sigma == GaussianSigma::Data {
                    let var: Tensor<1> = data.clone().var_bias(0).squeeze_dim(0);
                    *sigma = Some(var.sqrt().clamp_min(1e-3));
                }
                self.visible_bias = mean;
            }
        }
        Ok(())
    }

    /// Number of visible units.
    pub fn visible(&self) -> usize {
        self.weights.dims()[0]
    }

    /// Number of hidden units.
    pub fn hidden(&self) -> usize {
        self.weights.dims()[1]
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.weights.device()
    }

    /// σ_i of Gaussian visible units (`None` for binary or unit-variance units).
    pub fn sigma(&self) -> Option<&Tensor<1>> {
        match &self.visible_units {
            VisibleUnits::Gaussian { sigma } => sigma.as_ref(),
            VisibleUnits::Binary => None,
        }
    }

    /// Whether the visible units are binary.
    pub fn is_binary(&self) -> bool {
        matches!(self.visible_units, VisibleUnits::Binary)
    }

    pub(crate) fn check_columns(&self, what: &'static str, v: &Tensor<2>) -> Result<(), RbmError> {
        let got = v.dims()[1];
        if got != self.visible() {
            return Err(RbmError::Shape {
                what,
                expected: self.visible(),
                got,
            });
        }
        Ok(())
    }

    /// v/σ for Gaussian units with σ ≠ 1, v otherwise: what the weights see.
    pub(crate) fn scale_visible(&self, v: Tensor<2>) -> Tensor<2> {
        match self.sigma() {
            Some(sigma) => v.div(row(sigma)),
            None => v,
        }
    }

    /// Total input to the hidden units, `c_j + Σ_i (v_i/σ_i) W_ij`.
    pub fn hidden_input(&self, v: Tensor<2>) -> Tensor<2> {
        self.scale_visible(v).matmul(self.weights.clone()) + row(&self.hidden_bias)
    }

    /// `p(h_j = 1 | v)` (eq. 2), shape [batch, hidden]; also the features passed up a DBN.
    pub fn hidden_probs(&self, v: Tensor<2>) -> Tensor<2> {
        sigmoid(self.hidden_input(v))
    }

    /// `p(v_i = 1 | h)` (eq. 3) for binary units, `E[v_i | h] = b_i + σ_i Σ_j W_ij h_j` for
    /// Gaussian units; shape [batch, visible].
    pub fn visible_mean(&self, h: Tensor<2>) -> Tensor<2> {
        let top_down = h.matmul(self.weights.clone().transpose());
        match &self.visible_units {
            VisibleUnits::Binary => sigmoid(top_down + row(&self.visible_bias)),
            VisibleUnits::Gaussian { sigma } => {
                let top_down = match sigma {
                    Some(s) => top_down * row(s),
                    None => top_down,
                };
                top_down + row(&self.visible_bias)
            }
        }
    }

    /// A sample of h given v.
    pub fn sample_hidden(&self, v: Tensor<2>, draws: &mut dyn Draws) -> Tensor<2> {
        let p = self.hidden_probs(v);
        let u = draws.uniform(&p);
        bernoulli(p, u)
    }

    /// A sample of v given h: Bernoulli for binary units, `mean + σ·ε` for Gaussian units.
    pub fn sample_visible(&self, h: Tensor<2>, draws: &mut dyn Draws) -> Tensor<2> {
        let mean = self.visible_mean(h);
        match &self.visible_units {
            VisibleUnits::Binary => draws.bernoulli(mean),
            VisibleUnits::Gaussian { sigma } => {
                let noise = draws.normal(&mean);
                match sigma {
                    Some(s) => mean + noise * row(s),
                    None => mean + noise,
                }
            }
        }
    }

    /// Runs `steps` steps of alternating Gibbs sampling (v → h → v) from `v` with the device's
    /// generator.
    pub fn sample_gibbs(&self, v: Tensor<2>, steps: usize) -> GibbsSample {
        self.sample_gibbs_while(v, steps, &crate::eval::never_stop)
            .expect("Gibbs sampling that never stops")
    }

    /// [`Rbm::sample_gibbs`] that stops when asked: `keep_going` is called before the first step
    /// and every [`crate::eval::CHECK_EVERY`] steps after; once it returns `false` the chains are
    /// abandoned.
    pub fn sample_gibbs_while(
        &self,
        v: Tensor<2>,
        steps: usize,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<GibbsSample, crate::eval::Interrupted> {
        let mut draws = DeviceDraws;
        let mut visible = v.clone();
        let mut visible_mean = v;
        for step in 0..steps {
            if step % crate::eval::CHECK_EVERY == 0 {
                crate::eval::check(keep_going)?;
            }
            let h = self.sample_hidden(visible, &mut draws);
            visible_mean = self.visible_mean(h);
            visible = match &self.visible_units {
                VisibleUnits::Binary => {
                    let u = draws.uniform(&visible_mean);
                    bernoulli(visible_mean.clone(), u)
                }
                VisibleUnits::Gaussian { sigma } => {
                    let noise = draws.normal(&visible_mean);
                    let noise = match sigma {
                        Some(s) => noise * row(s),
                        None => noise,
                    };
                    visible_mean.clone() + noise
                }
            };
        }
        Ok(GibbsSample {
            visible,
            visible_mean,
        })
    }

    /// The part of −F(v) that comes from the visible units alone: `b·v` (binary) or
    /// `−Σ_i (v_i − b_i)²/2σ_i²` (Gaussian); shape [batch].
    pub(crate) fn visible_term(&self, v: Tensor<2>) -> Tensor<1> {
        let t = match &self.visible_units {
            VisibleUnits::Binary => (v * row(&self.visible_bias)).sum_dim(1),
            VisibleUnits::Gaussian { sigma } => {
                let d = v - row(&self.visible_bias);
                let d = match sigma {
                    Some(s) => d.div(row(s)),
                    None => d,
                };
                d.square().sum_dim(1).mul_scalar(-0.5)
            }
        };
        t.squeeze_dim(1)
    }

    /// Free energy `F(v) = −log Σ_h e^{−E(v,h)}`, one value per row of `v`.
    pub fn free_energy(&self, v: Tensor<2>) -> Tensor<1> {
        let hidden_term: Tensor<1> = softplus(self.hidden_input(v.clone()))
            .sum_dim(1)
            .squeeze_dim(1);
        (self.visible_term(v) + hidden_term).neg()
    }

    /// Energy `E(v, h)` of joint configurations, one per row.
    pub fn energy(&self, v: Tensor<2>, h: Tensor<2>) -> Tensor<1> {
        let interaction = self.scale_visible(v.clone()).matmul(self.weights.clone()) * h.clone();
        let hidden_term = h * row(&self.hidden_bias);
        let t: Tensor<1> = (interaction + hidden_term).sum_dim(1).squeeze_dim(1);
        (self.visible_term(v) + t).neg()
    }
}

/// The logistic σ(x) = 1 / (1 + e^{−x}), vectorized on the CPU ([`crate::fast_math`]; the
/// backend's own `sigmoid` and `exp` run one element at a time). Exact at the extremes in f32:
/// e^{−x} = ∞ gives 0 and e^{−x} = 0 gives 1.
pub(crate) fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    crate::fast_math::logistic(x)
}
