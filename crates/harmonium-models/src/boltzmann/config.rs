//! How a Boltzmann machine is built and trained: [`BoltzmannConfig`] and its parts. Plain data
//! (serde); the YAML layer maps a `boltzmann:` section onto it.

use serde::{Deserialize, Serialize};

use super::BoltzmannError;
use super::graph::check_mask;
use crate::rbm::{LrSchedule, Momentum};

/// Which blocks of connections exist between the visible and the hidden units (every connection
/// of a block that exists, none of one that does not; never a unit with itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LayerConnectivity {
    /// Connections among the visible units (inputs and outputs of a conditional machine).
    pub visible_visible: bool,
    /// Connections between visible and hidden units.
    pub visible_hidden: bool,
    /// Connections among the hidden units.
    pub hidden_hidden: bool,
}

impl Default for LayerConnectivity {
    fn default() -> Self {
        LayerConnectivity {
            visible_visible: true,
            visible_hidden: true,
            hidden_hidden: true,
        }
    }
}

/// Which pairs of units are connected: by layer blocks, or an explicit symmetric 0/1 mask over
/// the units in the order visible (inputs first), then hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Connectivity {
    /// `{layers: {visible_visible: …, visible_hidden: …, hidden_hidden: …}}`.
    Layers(LayerConnectivity),
    /// `{mask: [[0, 1, …], …]}`: n × n, symmetric, zero diagonal, entries 0 or 1.
    Mask(Vec<Vec<u8>>),
}

impl Default for Connectivity {
    fn default() -> Self {
        Connectivity::Layers(LayerConnectivity::default())
    }
}

/// In which order a Gibbs sweep updates the unclamped units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GibbsOrder {
    /// One unit at a time, in index order (the original procedure).
    #[default]
    Sequential,
    /// One colour class of a greedy colouring at a time, its units together (they share no
    /// connection, so this samples the same conditionals).
    #[serde(alias = "colored")]
    Coloured,
}

/// What to measure while training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoltzmannEvalConfig {
    /// Evaluate every this many epochs (the last epoch is always evaluated); 0: only the last.
    pub every: usize,
    /// Emit `exact_loglik`, `exact_kl` (and `exact_log_z` for an unconditional machine) when the
    /// states to enumerate have at most `exact_max_units` units.
    pub exact: bool,
    /// Largest number of units enumerated (2^n states); at most 24.
    pub exact_max_units: usize,
    /// After the last epoch of a conditional machine with at most 4 outputs: the output
    /// distributions of the data, the machine and the best factorial model as metrics, and their
    /// bar picture (an `outputs` artifact).
    pub output_distributions: bool,
    /// `[rows, cols]` of a visible vector as an image: after the last epoch, a picture of the
    /// free-phase chains' visible states. Unset: no picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_shape: Option<[usize; 2]>,
}

impl Default for BoltzmannEvalConfig {
    fn default() -> Self {
        BoltzmannEvalConfig {
            every: 1,
            exact: true,
            exact_max_units: 20,
            output_distributions: true,
            picture_shape: None,
        }
    }
}

/// Everything that defines a Boltzmann machine and how it is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoltzmannConfig {
    /// Number of hidden units (default 4).
    pub hidden: usize,
    /// The first `inputs` visible units are inputs, clamped in both phases (a conditional
    /// Boltzmann machine); default 0 (an ordinary one).
    pub inputs: usize,
    /// Which pairs of units are connected (default: all of them).
    pub connectivity: Connectivity,
    /// Passes through the training data (default 100).
    pub epochs: usize,
    /// Examples per mini-batch (default 10).
    pub batch_size: usize,
    /// Learning rate (default 0.05).
    pub lr: f64,
    /// How the learning rate changes from epoch to epoch (default `{linear: {final_lr: 0}}`:
    /// linearly down to zero at the last epoch, which lets the sampling noise average away).
    pub lr_schedule: LrSchedule,
    /// Momentum schedule (default 0.5 for 5 epochs, then 0.9).
    pub momentum: Momentum,
    /// L2 weight cost on the weights (not the biases); default 0.0001.
    pub weight_cost: f64,
    /// Standard deviation of the initial weights (default 0.01).
    pub init_sigma: f64,
    /// Order of the unit updates in a sweep (default `sequential`).
    pub gibbs_order: GibbsOrder,
    /// Gibbs sweeps of the hidden units with the visible units clamped, per update (default 10).
    pub clamped_sweeps: usize,
    /// Gibbs sweeps of the free phase per update (default 10): of fresh chains from random
    /// states, or of the persistent chains.
    pub free_sweeps: usize,
    /// The statistics of each phase are averaged over its last `average_sweeps` sweeps
    /// (default 3; 1: the final state only).
    pub average_sweeps: usize,
    /// Keep the free-phase chains from one update to the next (default true). A conditional
    /// machine's free phase clamps each example's inputs, so it needs `persistent: false`.
    pub persistent: bool,
    /// Number of free-phase chains of an unconditional machine (default 100); a conditional
    /// machine runs one free chain per example.
    pub free_chains: usize,
    /// Evaluation.
    pub eval: BoltzmannEvalConfig,
}

impl Default for BoltzmannConfig {
    fn default() -> Self {
        BoltzmannConfig {
            hidden: 4,
            inputs: 0,
            connectivity: Connectivity::default(),
            epochs: 100,
            batch_size: 10,
            lr: 0.05,
            lr_schedule: LrSchedule::Linear { final_lr: 0.0 },
            momentum: Momentum::default(),
            weight_cost: 0.0001,
            init_sigma: 0.01,
            gibbs_order: GibbsOrder::Sequential,
            clamped_sweeps: 10,
            free_sweeps: 10,
            average_sweeps: 3,
            persistent: true,
            free_chains: 100,
            eval: BoltzmannEvalConfig::default(),
        }
    }
}

/// The hard limit of exact enumeration: 2^24 states.
pub const MAX_EXACT_UNITS: usize = 24;

impl BoltzmannConfig {
    /// The learning rate of 0-based `epoch`.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        match &self.lr_schedule {
            LrSchedule::Constant => self.lr,
            LrSchedule::Exponential { gamma } => self.lr * gamma.powi(epoch as i32),
            LrSchedule::Linear { final_lr } => {
                let span = self.epochs.saturating_sub(1).max(1) as f64;
                self.lr + (final_lr - self.lr) * (epoch as f64 / span).min(1.0)
            }
        }
    }

    /// Checks the values that would make training meaningless; the message names the key. (The
    /// size of an explicit mask is checked against the data when the machine is built.)
    pub fn validate(&self) -> Result<(), BoltzmannError> {
        let bad = |m: String| Err(BoltzmannError::Config(m));
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("lr must be a positive number, not {}", self.lr));
        }
        match self.lr_schedule {
            LrSchedule::Constant => {}
            LrSchedule::Exponential { gamma } => {
                if !(gamma > 0.0 && gamma <= 1.0) {
                    return bad(format!(
                        "lr_schedule.exponential.gamma must be in (0, 1], not {gamma}"
                    ));
                }
            }
            LrSchedule::Linear { final_lr } => {
                if !(final_lr.is_finite() && final_lr >= 0.0) {
                    return bad(format!(
                        "lr_schedule.linear.final_lr must be a non-negative number, not {final_lr}"
                    ));
                }
            }
        }
        if !(self.weight_cost.is_finite() && self.weight_cost >= 0.0) {
            return bad("weight_cost must be a non-negative number".into());
        }
        if !(self.init_sigma.is_finite() && self.init_sigma >= 0.0) {
            return bad("init_sigma must be a non-negative number".into());
        }
        for (key, m) in [
            ("momentum.start", self.momentum.start),
            ("momentum.final", self.momentum.r#final),
        ] {
            if !(0.0..1.0).contains(&m) {
                return bad(format!("{key} must be in [0, 1), not {m}"));
            }
        }
        for (key, sweeps) in [
            ("clamped_sweeps", self.clamped_sweeps),
            ("free_sweeps", self.free_sweeps),
            ("average_sweeps", self.average_sweeps),
        ] {
            if sweeps == 0 {
                return bad(format!("{key} must be at least 1"));
            }
        }
        for (key, sweeps) in [
            ("clamped_sweeps", self.clamped_sweeps),
            ("free_sweeps", self.free_sweeps),
        ] {
            if self.average_sweeps > sweeps {
                return bad(format!(
                    "average_sweeps ({}) must be at most {key} ({sweeps}): the statistics are \
                     averaged over the last sweeps of each phase",
                    self.average_sweeps
                ));
            }
        }
        if self.inputs > 0 && self.persistent {
            return bad(format!(
                "persistent: a conditional machine (inputs: {}) clamps each example's inputs in \
                 the free phase, so its free chains cannot persist; set persistent: false",
                self.inputs
            ));
        }
        if self.inputs == 0 && self.free_chains == 0 {
            return bad("free_chains must be at least 1".into());
        }
        if self.eval.exact_max_units > MAX_EXACT_UNITS {
            return bad(format!(
                "eval.exact_max_units must be at most {MAX_EXACT_UNITS}, not {}",
                self.eval.exact_max_units
            ));
        }
        if let Connectivity::Mask(mask) = &self.connectivity {
            check_mask(mask)?;
        }
        Ok(())
    }
}
