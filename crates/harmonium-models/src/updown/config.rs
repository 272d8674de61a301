//! How a DBN with label units is pretrained and fine-tuned by up-down: [`UpDownConfig`] and its
//! parts. Plain data (serde); the YAML layer maps an `updown:` section onto it.

use serde::{Deserialize, Serialize};

use super::UpDownError;
use crate::rbm::{Momentum, RbmConfig};

/// How the top-level associative memory (the RBM between the penultimate layer with the label
/// units and the top layer) is trained greedily, by CD-k with the labels clamped in the positive
/// phase. Its size is the last entry of [`UpDownConfig::layers`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopConfig {
    /// Passes through the training data (default 10).
    pub epochs: usize,
    /// Examples per mini-batch (default 100).
    pub batch_size: usize,
    /// Learning rate (default 0.05).
    pub lr: f64,
    /// Momentum schedule (default 0.5 for 5 epochs, then 0.9).
    pub momentum: Momentum,
    /// L2 weight cost on W (not the biases); default 0.0002.
    pub weight_cost: f64,
    /// Gibbs steps of the negative phase (default 1).
    pub cd_k: usize,
    /// Standard deviation of the initial weights (default 0.01).
    pub init_sigma: f64,
    /// At most this many training examples for the per-epoch metrics (default 10,000).
    pub max_examples: usize,
}

impl Default for TopConfig {
    fn default() -> Self {
        TopConfig {
            epochs: 10,
            batch_size: 100,
            lr: 0.05,
            momentum: Momentum::default(),
            weight_cost: 0.0002,
            cd_k: 1,
            init_sigma: 0.01,
            max_examples: 10_000,
        }
    }
}

/// Where the top-level chains of the fantasies start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FantasyStart {
    /// Fair coins on the penultimate units.
    #[default]
    Random,
    /// The up-pass (sampled recognition states) of the first training examples, the same ones
    /// for every class.
    Data,
}

/// What to measure while fine-tuning, and the fantasies pictures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpDownEvalConfig {
    /// Evaluate every this many epochs (the last epoch is always evaluated); 0: only the last.
    pub every: usize,
    /// At most this many examples of each split for the metrics (default 10,000).
    pub max_examples: usize,
    /// `[rows, cols]` of a visible vector as an image; fantasies pictures only when set.
    pub picture_shape: Option<[usize; 2]>,
    /// Fantasies every this many epochs (and after the last); 0: only after the last.
    pub fantasy_every: usize,
    /// Fantasies per class: the columns of the picture (default 10).
    pub fantasies_per_class: usize,
    /// Alternating Gibbs steps of the top-level chain with the label clamped (default 1000).
    pub fantasy_steps: usize,
    /// Where the chains start: `random` (default) or `data`.
    pub fantasy_start: FantasyStart,
}

impl Default for UpDownEvalConfig {
    fn default() -> Self {
        UpDownEvalConfig {
            every: 1,
            max_examples: 10_000,
            picture_shape: None,
            fantasy_every: 0,
            fantasies_per_class: 10,
            fantasy_steps: 1000,
            fantasy_start: FantasyStart::Random,
        }
    }
}

/// Everything that defines a DBN with label units and its up-down fine-tuning (Hinton, Osindero
/// & Teh 2006). The defaults are a small version of theirs (784-500-500-2000 with 10 labels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpDownConfig {
    /// Hidden layer sizes, bottom first: the directed layers, then the penultimate layer, then
    /// the top layer of the associative memory (at least 2 entries; default [500, 500, 2000]).
    pub layers: Vec<usize>,
    /// Number of softmax label units (default 10).
    pub classes: usize,
    /// Up-down passes through the training data (default 10).
    pub epochs: usize,
    /// Examples per mini-batch (default 100).
    pub batch_size: usize,
    /// Learning rate of every up-down update (default 0.01).
    pub lr: f64,
    /// Momentum schedule (default 0.5 for 5 epochs, then 0.9).
    pub momentum: Momentum,
    /// L2 weight cost on every weight matrix (not the biases); default 0.0002.
    pub weight_cost: f64,
    /// Alternating Gibbs steps in the top-level associative memory per update (default 3).
    pub cd_k: usize,
    /// Settings of the greedy pretraining RBMs of the directed layers (each takes its hidden
    /// size from `layers`; their AIS is left out). Ignored when a pretrained stack is given.
    pub pretrain: RbmConfig,
    /// Greedy training of the top-level associative memory with the labels.
    pub top: TopConfig,
    /// Evaluation and fantasies.
    pub eval: UpDownEvalConfig,
}

impl Default for UpDownConfig {
    fn default() -> Self {
        UpDownConfig {
            layers: vec![500, 500, 2000],
            classes: 10,
            epochs: 10,
            batch_size: 100,
            lr: 0.01,
            momentum: Momentum::default(),
            weight_cost: 0.0002,
            cd_k: 3,
            pretrain: RbmConfig::default(),
            top: TopConfig::default(),
            eval: UpDownEvalConfig::default(),
        }
    }
}

/// `Err(Config)` naming `key` unless `x` is a positive number.
fn positive(key: &str, x: f64) -> Result<(), UpDownError> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(UpDownError::Config(format!(
            "{key} must be a positive number, got {x}"
        )))
    }
}

/// `Err(Config)` naming `key` unless `x` is a non-negative number.
fn non_negative(key: &str, x: f64) -> Result<(), UpDownError> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(UpDownError::Config(format!(
            "{key} must be a non-negative number, got {x}"
        )))
    }
}

/// `Err(Config)` naming `key` unless `n ≥ 1`.
fn at_least_one(key: &str, n: usize) -> Result<(), UpDownError> {
    if n >= 1 {
        Ok(())
    } else {
        Err(UpDownError::Config(format!("{key} must be at least 1")))
    }
}

fn momentum(key: &str, m: &Momentum) -> Result<(), UpDownError> {
    if [m.start, m.r#final]
        .iter()
        .all(|x| x.is_finite() && (0.0..1.0).contains(x))
    {
        Ok(())
    } else {
        Err(UpDownError::Config(format!(
            "{key}.start and {key}.final must be in [0, 1)"
        )))
    }
}

impl TopConfig {
    /// Checks the values that would make training meaningless; keys are named under `prefix`.
    pub fn validate_as(&self, prefix: &str) -> Result<(), UpDownError> {
        at_least_one(&format!("{prefix}batch_size"), self.batch_size)?;
        at_least_one(&format!("{prefix}cd_k"), self.cd_k)?;
        at_least_one(&format!("{prefix}max_examples"), self.max_examples)?;
        positive(&format!("{prefix}lr"), self.lr)?;
        non_negative(&format!("{prefix}weight_cost"), self.weight_cost)?;
        non_negative(&format!("{prefix}init_sigma"), self.init_sigma)?;
        momentum(&format!("{prefix}momentum"), &self.momentum)
    }

    /// Checks the values that would make training meaningless.
    pub fn validate(&self) -> Result<(), UpDownError> {
        self.validate_as("")
    }
}

impl UpDownConfig {
    /// The configurations of the greedy pretraining RBMs of the directed layers, bottom first
    /// (every entry of `layers` but the last), without AIS.
    pub fn pretraining_layers(&self) -> Vec<RbmConfig> {
        let below_top = &self.layers[..self.layers.len().saturating_sub(1)];
        below_top
            .iter()
            .map(|&hidden| {
                let mut c = self.pretrain.clone();
                c.hidden = hidden;
                c.eval.ais = None;
                c
            })
            .collect()
    }

    /// Size of the top layer (the hidden layer of the associative memory).
    pub fn top_size(&self) -> usize {
        self.layers.last().copied().unwrap_or(0)
    }

    /// Checks the values that would make training meaningless.
    pub fn validate(&self) -> Result<(), UpDownError> {
        if self.layers.len() < 2 {
            return Err(UpDownError::Layers(format!(
                "{:?} has {} entries, but an up-down DBN needs at least 2 (the hidden layers \
                 below the top, the last of them the penultimate layer, then the top layer)",
                self.layers,
                self.layers.len()
            )));
        }
        if self.layers.contains(&0) {
            return Err(UpDownError::Layers(format!(
                "{:?}: every layer needs at least 1 unit",
                self.layers
            )));
        }
        if self.classes < 2 {
            return Err(UpDownError::Config(format!(
                "classes must be at least 2, got {}",
                self.classes
            )));
        }
        at_least_one("batch_size", self.batch_size)?;
        at_least_one("cd_k", self.cd_k)?;
        positive("lr", self.lr)?;
        non_negative("weight_cost", self.weight_cost)?;
        momentum("momentum", &self.momentum)?;
        self.top.validate_as("top.")?;
        self.pretrain
            .validate()
            .map_err(|e| UpDownError::Config(format!("pretrain: {e}")))?;
        let ec = &self.eval;
        at_least_one("eval.max_examples", ec.max_examples)?;
        at_least_one("eval.fantasies_per_class", ec.fantasies_per_class)?;
        at_least_one("eval.fantasy_steps", ec.fantasy_steps)?;
        if let Some([r, c]) = ec.picture_shape
            && r * c == 0
        {
            return Err(UpDownError::Config(
                "eval.picture_shape needs at least 1 row and 1 column".into(),
            ));
        }
        Ok(())
    }
}
