//! Learning procedures on burn tensors.
//!
//! One procedure per file (`mlp`, `rbm`, and later `dbn`, `dbm`, `sbn`, `autoencoder`), plus
//! `eval/` for exact enumeration, annealed importance sampling, metrics and pictures. Models take
//! tensors and plain config structs and report through an [`EventSink`]; they know nothing of
//! YAML, SQL or HTTP.

pub mod device;
pub mod events;

pub use device::{DeviceError, parse_device};
pub use events::{Event, EventSink, NullSink};
pub mod autoencoder;
pub mod bench;
pub mod boltzmann;
pub mod checkpoint;
pub mod data;
pub mod dbm;
pub mod dbn;
pub mod eval;
pub mod fast_math;
pub mod mlp;
pub mod pca;
pub mod rbm;
pub mod resume;
pub mod sbn;
pub mod updown;

#[cfg(all(test, feature = "wgpu"))]
mod wgpu_tests;
