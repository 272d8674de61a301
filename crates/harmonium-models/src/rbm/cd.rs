//! The learning rule: contrastive divergence (CD-k) and persistent CD statistics (paper eq. 4).
//!
//! ```text
//! ΔW_ij ∝ ⟨v_i h_j⟩_data − ⟨v_i h_j⟩_model                                 (4)
//! Δb_i  ∝ ⟨v_i⟩_data − ⟨v_i⟩_model,   Δc_j ∝ ⟨h_j⟩_data − ⟨h_j⟩_model
//! ```
//!
//! * **Positive phase:** `p(h|v_data)`; a sample of it drives the chain.
//! * **Negative phase, CD-k:** k steps of alternating Gibbs sampling started at the data;
//!   reconstructions use `p(v|h)` (Gaussian: the mean), intermediate hidden states are sampled,
//!   the final hidden statistics use probabilities.
//! * **Negative phase, persistent CD:** the statistics use the fantasy chains' current visible
//!   states and `p(h|v)`; the chains then advance k full Gibbs steps (sampled visible states).
//! * **Statistics:** data minus model, averaged over examples (and chains); Gaussian units see
//!   `v/σ`, and Δb is divided by σ.

use burn::tensor::Tensor;

use super::{Draws, Rbm};

/// Where the negative phase starts.
#[derive(Debug)]
pub enum NegativePhase<'a> {
    /// CD-k: from the sampled hidden states of the data.
    Reconstruction,
    /// Persistent CD: from these fantasy chains (visible states, [chains, visible]); they are
    /// advanced k Gibbs steps and written back.
    Persistent(&'a mut Tensor<2>),
}

impl<'a> NegativePhase<'a> {
    /// Persistent CD when there are chains, CD-k otherwise.
    pub fn from_chains(chains: Option<&'a mut Tensor<2>>) -> Self {
        match chains {
            Some(c) => NegativePhase::Persistent(c),
            None => NegativePhase::Reconstruction,
        }
    }
}

/// Learning statistics of one mini-batch, each "data minus model" and averaged over examples
/// (and chains): the approximate log-likelihood gradient.
#[derive(Debug, Clone)]
pub struct CdStatistics {
    /// `⟨v h⟩_data − ⟨v h⟩_model`, [visible, hidden] (Gaussian: v/σ).
    pub delta_w: Tensor<2>,
    /// `⟨v⟩_data − ⟨v⟩_model`, [visible] (Gaussian: divided by σ²).
    pub delta_b: Tensor<1>,
    /// `⟨h⟩_data − ⟨h⟩_model`, [hidden].
    pub delta_c: Tensor<1>,
    /// `⟨p(h|v)⟩_data`, [hidden] (for the sparsity target).
    pub hidden_data_mean: Tensor<1>,
    /// `⟨v⟩_data` (Gaussian: v/σ), [visible] (for the sparsity target).
    pub visible_data_mean: Tensor<1>,
}

/// The statistics other than the weights': the biases' and the mean activities.
#[derive(Debug, Clone)]
pub(crate) struct UnitStatistics {
    pub delta_b: Tensor<1>,
    pub delta_c: Tensor<1>,
    pub hidden_data_mean: Tensor<1>,
    pub visible_data_mean: Tensor<1>,
}

impl CdStatistics {
    /// The weights' statistics and the rest.
    pub(crate) fn split(self) -> (Tensor<2>, UnitStatistics) {
        let units = UnitStatistics {
            delta_b: self.delta_b,
            delta_c: self.delta_c,
            hidden_data_mean: self.hidden_data_mean,
            visible_data_mean: self.visible_data_mean,
        };
        (self.delta_w, units)
    }
}

impl UnitStatistics {
    /// The statistics of a mini-batch from those of its parts (each computed with
    /// [`Rbm::part_statistics`] and the whole batch's counts): sums over the parts.
    pub(crate) fn add(self, other: UnitStatistics) -> UnitStatistics {
        UnitStatistics {
            delta_b: self.delta_b + other.delta_b,
            delta_c: self.delta_c + other.delta_c,
            hidden_data_mean: self.hidden_data_mean + other.hidden_data_mean,
            visible_data_mean: self.visible_data_mean + other.visible_data_mean,
        }
    }
}

/// The matrices the statistics are made of: `p(h|v_data)`, and the negative phase's visible
/// states and `p(h|v_model)`.
#[derive(Debug, Clone)]
pub(crate) struct Phases {
    pub ph_data: Tensor<2>,
    pub v_model: Tensor<2>,
    pub ph_model: Tensor<2>,
}

/// How many examples and chains the whole mini-batch has, when statistics are computed for a
/// part of it: each part's sums are divided by the whole batch's counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counts {
    pub examples: usize,
    pub chains: usize,
}

impl Rbm {
    /// CD-k or persistent-CD statistics for the mini-batch `v0`, using the random numbers from
    /// `draws` (the device's generator in training, fixed numbers in tests).
    pub fn cd_statistics(
        &self,
        v0: Tensor<2>,
        cd_k: usize,
        negative: NegativePhase<'_>,
        draws: &mut dyn Draws,
    ) -> CdStatistics {
        let phases = self.phases(v0.clone(), cd_k, negative, draws);
        self.statistics_of(v0, phases)
    }

    /// The statistics of [`Phases`] computed for the mini-batch `v0`.
    pub(crate) fn statistics_of(&self, v0: Tensor<2>, p: Phases) -> CdStatistics {
        let counts = Counts {
            examples: v0.dims()[0],
            chains: p.v_model.dims()[0],
        };
        self.part_statistics(v0, p, counts)
    }

    /// The positive phase `p(h|v_data)` and the negative phase's visible states and hidden
    /// probabilities, for the mini-batch `v0`.
    pub(crate) fn phases(
        &self,
        v0: Tensor<2>,
        cd_k: usize,
        negative: NegativePhase<'_>,
        draws: &mut dyn Draws,
    ) -> Phases {
        // Positive phase: statistics with p(h|v_data).
        let ph_data = self.hidden_probs(v0);

        // Negative phase.
        let (v_model, ph_model) = match negative {
            NegativePhase::Reconstruction => {
                let mut h = draws.bernoulli(ph_data.clone());
                let mut step = 1;
                loop {
                    let v = self.visible_mean(h);
                    let ph = self.hidden_probs(v.clone());
                    if step == cd_k {
                        break (v, ph);
                    }
                    h = draws.bernoulli(ph);
                    step += 1;
                }
            }
            NegativePhase::Persistent(chains) => {
                let v = chains.clone();
                let ph = self.hidden_probs(v.clone());
                let mut ph_step = ph.clone();
                let mut v_step = v.clone();
                for step in 0..cd_k {
                    if step > 0 {
                        ph_step = self.hidden_probs(v_step);
                    }
                    let h = draws.bernoulli(ph_step.clone());
                    v_step = self.sample_visible(h, draws);
                }
                *chains = v_step;
                (v, ph)
            }
        };
        Phases {
            ph_data,
            v_model,
            ph_model,
        }
    }

    /// The share of one part of a mini-batch (`v_data` and its phases) in the batch's statistics:
    /// `⟨v h⟩_data − ⟨v h⟩_model` as one matmul `[v_data; v_model]ᵀ · [ph_data/B; −ph_model/C]`
    /// with B examples and C chains in the whole batch, and the bias statistics from the same
    /// matrices. The whole batch's statistics are the sum of its parts'.
    pub(crate) fn part_statistics(
        &self,
        v_data: Tensor<2>,
        phases: Phases,
        counts: Counts,
    ) -> CdStatistics {
        let Phases {
            ph_data,
            v_model,
            ph_model,
        } = phases;
        let n_data = counts.examples as f64;
        let n_model = counts.chains as f64;
        let v_data = self.scale_visible(v_data);
        let v_model = self.scale_visible(v_model);
        let mean = |t: &Tensor<2>, n: f64| -> Tensor<1> {
            t.clone().sum_dim(0).squeeze_dim(0).div_scalar(n)
        };

        let visible_data_mean = mean(&v_data, n_data);
        let visible_model_mean = mean(&v_model, n_model);
        let hidden_data_mean = mean(&ph_data, n_data);
        let hidden_model_mean = mean(&ph_model, n_model);

        let visible = Tensor::cat(vec![v_data, v_model], 0);
        let hidden = Tensor::cat(
            vec![ph_data.div_scalar(n_data), ph_model.div_scalar(-n_model)],
            0,
        );
        let delta_w = visible.transpose().matmul(hidden);

        let delta_b = visible_data_mean.clone() - visible_model_mean;
        let delta_b = match self.sigma() {
            Some(s) => delta_b.div(s.clone()),
            None => delta_b,
        };
        CdStatistics {
            delta_w,
            delta_b,
            delta_c: hidden_data_mean.clone() - hidden_model_mean,
            hidden_data_mean,
            visible_data_mean,
        }
    }
}
