//! Experiments: the YAML schema, sweep expansion into trials, and the runner that executes each
//! trial's pipeline of stages and streams what happens into the store.
//!
//! `config` is the file's schema (with `pretrain` for the `pretrain:` section), `sweep` expands it
//! into trials, `runner` runs them on workers, `pipeline` orders a trial's stages, `stages/` holds
//! one module per stage, `cache` stores pretrained stacks by what changes their weights, and
//! `shared` what the trials of one invocation share; `references` checks the published figures of
//! `reference:` against the trials.

pub mod autoencoder;
pub mod cache;
pub mod config;
pub mod flatten;
pub mod journal;
mod nesting;
pub mod pipeline;
mod preflight;
pub mod pretrain;
pub mod references;
pub mod runner;
pub mod shared;
pub mod stages;
pub mod sweep;
pub mod terminal;

pub use config::{Experiment, ExperimentError, TrialConfig, load_experiment, parse_experiment};
pub use runner::{RunOptions, RunOutcome, run_experiment};
pub use sweep::{Trial, expand};

#[cfg(test)]
mod tests;
