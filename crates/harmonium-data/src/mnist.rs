//! MNIST (LeCun, Cortes & Burges): 60,000 training and 10,000 test digits, 28×28 grey levels.
//!
//! The official training set is split into train (first 50,000) and validation (last 10,000) by
//! default, as in the DBN papers. Options select a labelled training subset (few-label
//! experiments), scale pixels to [0, 1] and binarize them.

use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use crate::dataset::DatasetConfig;

pub use crate::idx::IdxImages;
use crate::idx::{parse_images, parse_labels, read_maybe_gz};
use crate::{DataError, Dataset, Matrix, Split};

/// The four official files and their MD5 checksums.
pub const FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
];

/// How pixel intensities become visible-unit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binarize {
    /// Keep grey levels (scaled to [0, 1] when `scale` is on).
    #[default]
    None,
    /// 1 where the scaled intensity exceeds `threshold`, else 0.
    Threshold,
    /// 1 with probability equal to the scaled intensity, drawn once with the dataset seed.
    Stochastic,
}

fn load_pair(
    dir: &Path,
    images: &str,
    labels: &str,
) -> Result<(crate::idx::IdxImages, Vec<u8>), DataError> {
    let ip = dir.join(images);
    let lp = dir.join(labels);
    for p in [&ip, &lp] {
        if !p.exists() {
            return Err(DataError::Missing {
                name: "mnist".into(),
                dir: dir.into(),
                hint: format!(" ({} not found)", p.display()),
            });
        }
    }
    let img = parse_images(&read_maybe_gz(&ip)?, &ip)?;
    let lab = parse_labels(&read_maybe_gz(&lp)?, &lp)?;
    if img.count != lab.len() {
        return Err(DataError::BadFile {
            path: lp,
            message: format!(
                "{} labels for {} images in {}",
                lab.len(),
                img.count,
                ip.display()
            ),
        });
    }
    if let Some(&bad) = lab.iter().find(|&&l| l > 9) {
        return Err(DataError::BadFile {
            path: lp,
            message: format!("label {bad} is not a digit"),
        });
    }
    Ok((img, lab))
}

/// Reads one IDX image file (gzip or not), pixels as stored; e.g. for unsupervised tests.
pub fn read_images(path: &Path) -> Result<IdxImages, DataError> {
    parse_images(&read_maybe_gz(path)?, path)
}

fn to_split(img: &crate::idx::IdxImages, labels: &[u8]) -> Split {
    let x = Matrix::new(
        img.count,
        img.rows * img.cols,
        img.pixels.iter().map(|&p| p as f32).collect(),
    );
    Split {
        x,
        y: labels.iter().map(|&l| l as u32).collect(),
    }
}

/// Images in the official training set.
pub const TRAIN_IMAGES: usize = 60_000;
/// Images in the official test set.
pub const TEST_IMAGES: usize = 10_000;

/// Loads MNIST from `mnist_dir` (the folder holding the four files) as configured.
pub fn load(mnist_dir: &Path, cfg: &DatasetConfig) -> Result<Dataset, DataError> {
    let (train_img, train_lab) = load_pair(mnist_dir, FILES[0].0, FILES[1].0)?;
    let (test_img, test_lab) = load_pair(mnist_dir, FILES[2].0, FILES[3].0)?;
    let full = to_split(&train_img, &train_lab);
    let mut test = to_split(&test_img, &test_lab);

    let n = full.len();
    if cfg.valid_size >= n {
        return Err(DataError::Config(format!(
            "valid_size {} leaves no training data (MNIST has {n})",
            cfg.valid_size
        )));
    }
    let n_train = n - cfg.valid_size;
    let valid = full.select(&(n_train..n).collect::<Vec<_>>());
    let mut train_idx: Vec<usize> = (0..n_train).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    if let Some(k) = cfg.train_size {
        if k == 0 || k > n_train {
            return Err(DataError::Config(format!(
                "train_size {k} must be between 1 and {n_train}"
            )));
        }
        train_idx.shuffle(&mut rng);
        train_idx.truncate(k);
        train_idx.sort_unstable();
    }
    let mut train = full.select(&train_idx);
    if let Some(k) = cfg.test_size {
        if k == 0 || k > test.len() {
            return Err(DataError::Config(format!(
                "test_size {k} must be between 1 and {}",
                test.len()
            )));
        }
        test = test.select(&(0..k).collect::<Vec<_>>());
    }
    let mut valid = valid;
    for split in [&mut train, &mut valid, &mut test] {
        transform(&mut split.x.data, cfg, &mut rng);
    }
    Ok(Dataset {
        name: "mnist".into(),
        train,
        valid,
        test,
        classes: 10,
        image_shape: Some((train_img.rows, train_img.cols)),
    })
}

fn transform(pixels: &mut [f32], cfg: &DatasetConfig, rng: &mut ChaCha8Rng) {
    use rand::Rng;
    if cfg.scale || cfg.binarize != Binarize::None {
        pixels.iter_mut().for_each(|p| *p /= 255.0);
    }
    match cfg.binarize {
        Binarize::None => {}
        Binarize::Threshold => pixels
            .iter_mut()
            .for_each(|p| *p = (*p > cfg.threshold) as u8 as f32),
        Binarize::Stochastic => pixels
            .iter_mut()
            .for_each(|p| *p = (rng.random::<f32>() < *p) as u8 as f32),
    }
}
