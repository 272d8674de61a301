//! Experiments: the YAML schema, sweep expansion into trials, and the runner that executes each
//! trial's pipeline of stages and streams what happens into the store.

pub mod cache;
pub mod config;
pub mod flatten;
pub mod pipeline;
pub mod runner;
pub mod stack;
pub mod sweep;

pub use config::{Experiment, ExperimentError, TrialConfig, load_experiment, parse_experiment};
pub use runner::{RunOptions, RunOutcome, run_experiment};
pub use sweep::{Trial, expand};

#[cfg(test)]
mod tests;
