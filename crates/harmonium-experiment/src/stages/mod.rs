//! The stages of a trial, one module each. [`crate::pipeline`] only puts them in order.
//!
//! Every stage has one entry function of the same shape ([`Stage`]):
//! `run(section, ctx, made, sink)` — its section of the trial configuration, the trial's context
//! (data, device, seed, what the invocation shares), what earlier stages made for later ones
//! ([`Products`]), and the event sink it reports through. A new family (`dbm:`, `autoencoder:`,
//! `sbn:`, `boltzmann:`) is a new module here and one line in the pipeline; a stage whose layers
//! can start a fine-tuned net leaves them in [`Products::layers`] under its
//! [`InitSource`].

pub mod autoencoder;
pub mod boltzmann;
pub mod dbm;
pub mod finetune;
pub mod rbm;
pub mod sbn;
pub mod speech;
pub mod stack;
pub mod updown;

use burn::tensor::{Device, Tensor};
use harmonium_data::{Dataset, Loaded};
use harmonium_models::EventSink;
use harmonium_models::data::Labelled;
use harmonium_models::mlp::{Activation, InitSource, Mlp};

use crate::shared::Shared;
use crate::sweep::Trial;

/// Why a trial did not finish.
#[derive(Debug)]
pub enum TrialError {
    Failed(String),
    Interrupted,
}

/// A failure with its message.
pub fn fail(e: impl std::fmt::Display) -> TrialError {
    TrialError::Failed(e.to_string())
}

/// The entry function of a stage: its configuration section, the trial's context, the products
/// of earlier stages, and the sink its events go to.
pub type Stage<C> =
    fn(&C, &StageContext, &mut Products, &mut dyn EventSink) -> Result<(), TrialError>;

/// What every stage of one trial sees: the trial, its loaded data and device, and what the
/// invocation's trials share (other datasets, the stage cache).
pub struct StageContext<'a> {
    pub trial: &'a Trial,
    pub shared: &'a Shared,
    pub loaded: &'a Loaded,
    pub device: &'a Device,
}

impl StageContext<'_> {
    /// The trial's dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.loaded.dataset
    }

    /// The trial's seed.
    pub fn seed(&self) -> u64 {
        self.trial.seed
    }
}

/// Hidden layers `(W [in, out], c [out])`, bottom first.
pub type Layers = Vec<(Tensor<2>, Tensor<1>)>;

/// What a trial's stages hand on to the stages after them.
#[derive(Default)]
pub struct Products {
    /// Pretrained hidden layers, by the source that made them, for `mlp.init`.
    pub layers: Vec<(InitSource, Layers)>,
    /// The inputs (train, valid, test) a source's layers expect, when they are not the data
    /// itself (a DBM's: the data with its top layer's posterior).
    pub inputs: Vec<(InitSource, [Labelled; 3])>,
    /// The fine-tuned classifier, for the scores that need its outputs.
    pub classifier: Option<Classifier>,
}

impl Products {
    /// Takes the inputs `source`'s layers expect, if they are not the data itself.
    pub fn take_inputs(&mut self, source: InitSource) -> Option<[Labelled; 3]> {
        let i = self.inputs.iter().position(|(s, _)| *s == source)?;
        Some(self.inputs.swap_remove(i).1)
    }

    /// Takes the layers made by `source`, if a stage made them.
    pub fn take_layers(&mut self, source: InitSource) -> Option<Layers> {
        let i = self.layers.iter().position(|(s, _)| *s == source)?;
        Some(self.layers.swap_remove(i).1)
    }
}

/// The best-validation net of the fine-tuning stage, with the data it was scored on.
pub struct Classifier {
    pub model: Mlp,
    pub activation: Activation,
    pub valid: Labelled,
    pub test: Labelled,
    /// Epochs run: the step at which later scores are reported.
    pub epochs: u64,
}
