//! Datasets as dense f32 matrices with labels and named splits.
//!
//! `dataset` is the entry point: a `dataset:` section of an experiment loads as a [`Dataset`].
//! `mnist` reads the official IDX files; `fsdd` (spoken digits) and `timit` turn recordings into
//! frames of log-mel features (`wav`, `sphere`, `filterbank`, `deltas`, `speech`, cached by
//! `feature_cache`); `fetch` acquires them (one checksummed download-or-mirror routine for every
//! dataset). Scoring a model on utterances belongs to the experiment's speech-scoring stage.

pub mod dataset;
pub mod deltas;
pub mod feature_cache;
pub mod fetch;
pub mod filterbank;
pub mod fingerprint;
pub mod fsdd;
pub mod idx;
pub mod mnist;
pub mod speech;
pub mod sphere;
pub mod timit;
pub mod timit_phones;
pub mod toy;
pub mod wav;

use std::path::PathBuf;

pub use dataset::{DatasetConfig, Loaded, Scoring};
pub use fetch::{FetchReport, fetch_dataset};
pub use fsdd::FsddConfig;
pub use mnist::Binarize;
pub use speech::{SpeechConfig, SpeechDataset, Utterances};
pub use timit::TimitConfig;

/// Environment variable naming a local mirror directory laid out like the upstream sources
/// (`mnist/*.gz`, `fsdd/recordings/*.wav`).
pub const MIRROR_ENV: &str = "HARMONIUM_DATA_MIRROR";

/// The mirror directory from [`MIRROR_ENV`], if set and non-empty.
pub fn mirror_dir() -> Option<PathBuf> {
    std::env::var_os(MIRROR_ENV)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: checksum mismatch: expected md5 {expected}, found {found}")]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("dataset '{name}' is not in {dir}: run `harmonium data fetch {name}` first{hint}")]
    Missing {
        name: String,
        dir: PathBuf,
        hint: String,
    },
    #[error("{0}")]
    Fetch(String),
    #[error("invalid dataset option: {0}")]
    Config(String),
}

/// A dense row-major f32 matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(rows * cols, data.len(), "matrix data has the wrong length");
        Self { rows, cols, data }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The rows with the given indices, in that order.
    pub fn select_rows(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix::new(idx.len(), self.cols, data)
    }
}

/// Examples and their class labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub x: Matrix,
    pub y: Vec<u32>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.x.rows
    }

    pub fn is_empty(&self) -> bool {
        self.x.rows == 0
    }

    pub fn select(&self, idx: &[usize]) -> Split {
        Split {
            x: self.x.select_rows(idx),
            y: idx.iter().map(|&i| self.y[i]).collect(),
        }
    }
}

/// A dataset ready for training: named splits, number of classes, and the image shape (for
/// pictures of filters and samples) when the inputs are images.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub train: Split,
    pub valid: Split,
    pub test: Split,
    pub classes: usize,
    pub image_shape: Option<(usize, usize)>,
}

impl Dataset {
    pub fn input_dim(&self) -> usize {
        self.train.x.cols
    }
}
