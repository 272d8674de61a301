//! The `dataset:` section of an experiment and the one entry point that loads any dataset.
//!
//! `mnist` (images), `fsdd` (spoken digits, speaker-independent) and `timit` (the user's copy)
//! all become a [`Dataset`] of dense rows; the speech sets also say which utterance each frame
//! belongs to, for utterance-level decisions.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::fsdd::{FsddConfig, SpeakerSplit};
use crate::mnist::Binarize;
use crate::speech::{SpeechConfig, Utterances};
use crate::timit::TimitConfig;
use crate::{DataError, Dataset, fetch_dataset, mirror_dir};

/// The `dataset:` section. Keys that do not apply to the named dataset are errors. Keys added
/// after the first release are left out of the serialized form when unset, so the hashes of
/// existing configurations do not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// `mnist`, `fsdd`, `timit`, or the toys `bars_and_stripes` and `agreement`.
    pub name: String,
    /// Number of labelled training examples (frames, for speech) used: a seeded subset of the
    /// training split; all of them when absent.
    #[serde(default)]
    pub train_size: Option<usize>,
    /// MNIST: size of the validation split carved from the end of the official training set.
    #[serde(default = "default_valid_size")]
    pub valid_size: usize,
    /// Use only the first N test examples (for quick runs); all when absent.
    #[serde(default)]
    pub test_size: Option<usize>,
    /// MNIST: scale pixels from 0..255 to [0, 1].
    #[serde(default = "yes")]
    pub scale: bool,
    /// MNIST: `none`, `threshold` or `stochastic`.
    #[serde(default)]
    pub binarize: Binarize,
    /// MNIST: threshold for `binarize: threshold`, on the [0, 1] scale.
    #[serde(default = "half")]
    pub threshold: f32,
    /// Seed for choosing the training subset and for stochastic binarization. It is part of the
    /// data, not of the trial: every trial of an experiment sees the same examples.
    #[serde(default)]
    pub seed: u64,
    /// Speech: filterbank features and context windows (defaults: 40 log-mel bands, 25 ms
    /// window, 10 ms hop, energy, deltas, ±5 frames, normalized on the training split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<SpeechConfig>,
    /// FSDD: which speakers are held out (`{valid: [..], test: [..]}` or `{leave_one_out: i}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SpeakerSplit>,
    /// FSDD: use only these speakers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speakers: Option<Vec<String>>,
    /// FSDD: use only repetitions 0..N of each digit and speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetitions: Option<u32>,
    /// TIMIT: the folder holding TRAIN and TEST of your copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// TIMIT: keep frames labelled with the glottal stop `q`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_glottal_stops: Option<bool>,
    /// TIMIT: use only this many training speakers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_speakers: Option<usize>,
    /// Bars and stripes: the side of the square grid (2 to 4; default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<usize>,
}

fn default_valid_size() -> usize {
    10_000
}
fn yes() -> bool {
    true
}
fn half() -> f32 {
    0.5
}

/// How frame-level predictions are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoring {
    /// Labels as they are.
    Plain,
    /// TIMIT: 61 training phones folded to the 39 scored classes (`q` frames not scored).
    Timit39,
}

/// A loaded dataset and, for speech, the utterances of its splits.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub dataset: Dataset,
    /// Speech: the utterance of each frame of `valid` and `test` (and of `train` unless
    /// `train_size` took a subset of its frames).
    pub utterances: Option<[Utterances; 3]>,
    pub scoring: Scoring,
}

impl DatasetConfig {
    pub fn mnist() -> Self {
        serde_json::from_str(r#"{"name":"mnist"}"#).expect("defaults")
    }

    /// Checks that only keys of the named dataset are set.
    pub fn validate(&self) -> Result<(), String> {
        let speech_only = [
            ("features", self.features.is_some()),
            ("split", self.split.is_some()),
            ("speakers", self.speakers.is_some()),
            ("repetitions", self.repetitions.is_some()),
            ("path", self.path.is_some()),
            ("keep_glottal_stops", self.keep_glottal_stops.is_some()),
            ("train_speakers", self.train_speakers.is_some()),
            ("side", self.side.is_some()),
        ];
        let mnist_only = [
            ("valid_size", self.valid_size != default_valid_size()),
            ("scale", !self.scale),
            ("binarize", self.binarize != Binarize::None),
        ];
        let allowed: &[&str] = match self.name.as_str() {
            "mnist" => &[],
            "fsdd" => &["features", "split", "speakers", "repetitions"],
            "timit" => &["features", "path", "keep_glottal_stops", "train_speakers"],
            "bars_and_stripes" => &["side"],
            "agreement" => &[],
            other => {
                return Err(format!(
                    "dataset.name: unknown dataset '{other}' (known: mnist, fsdd, timit, \
                     bars_and_stripes, agreement)"
                ));
            }
        };
        for (key, set) in speech_only {
            if set && !allowed.contains(&key) {
                return Err(format!(
                    "dataset.{key} does not apply to dataset '{}'",
                    self.name
                ));
            }
        }
        for (key, size) in [
            ("train_size", self.train_size),
            ("test_size", self.test_size),
        ] {
            if size == Some(0) {
                return Err(format!(
                    "dataset.{key}: 0 examples; use at least 1, or leave it out for the whole split"
                ));
            }
        }
        if self.name == "mnist" {
            let (all, test) = (crate::mnist::TRAIN_IMAGES, crate::mnist::TEST_IMAGES);
            if self.valid_size >= all {
                return Err(format!(
                    "dataset.valid_size: {} leaves no training data (MNIST's training set has \
                     {all} images)",
                    self.valid_size
                ));
            }
            let left = all - self.valid_size;
            if let Some(k) = self.train_size.filter(|&k| k > left) {
                return Err(format!(
                    "dataset.train_size: {k} is more than the {left} MNIST training images left \
                     after valid_size {}",
                    self.valid_size
                ));
            }
            if let Some(k) = self.test_size.filter(|&k| k > test) {
                return Err(format!(
                    "dataset.test_size: {k} is more than the {test} MNIST test images"
                ));
            }
        }
        if (self.name == "bars_and_stripes" || self.name == "agreement") && self.test_size.is_some()
        {
            return Err(
                "dataset.test_size does not apply to the toy datasets (their valid and test splits \
                 are every pattern once)"
                    .into(),
            );
        }
        if self.name != "mnist"
            && let Some((key, _)) = mnist_only.iter().find(|(_, set)| *set)
        {
            return Err(format!(
                "dataset.{key} applies to mnist only, not '{}'",
                self.name
            ));
        }
        Ok(())
    }

    /// Loads the dataset from `data_dir`, fetching it first when it is missing and fetchable.
    /// Speech features are cached in `data_dir/cache`.
    pub fn load(&self, data_dir: &Path) -> Result<Loaded, DataError> {
        self.validate().map_err(DataError::Config)?;
        let dir = data_dir.join(&self.name);
        let with_fetch = |load: &dyn Fn() -> Result<Loaded, DataError>| match load() {
            Err(DataError::Missing { .. }) => {
                fetch_dataset(&self.name, data_dir, mirror_dir().as_deref(), &mut |_| {})?;
                load()
            }
            other => other,
        };
        let cache = data_dir.join("cache");
        let features = self.features.clone().unwrap_or_default();
        let mut loaded = match self.name.as_str() {
            "bars_and_stripes" => {
                let side = self.side.unwrap_or(3);
                let dataset = crate::toy::load(side, self.train_size.unwrap_or(1000), self.seed)
                    .map_err(DataError::Config)?;
                return Ok(Loaded {
                    dataset,
                    utterances: None,
                    scoring: Scoring::Plain,
                });
            }
            "agreement" => {
                return Ok(Loaded {
                    dataset: crate::toy::agreement(self.train_size.unwrap_or(100)),
                    utterances: None,
                    scoring: Scoring::Plain,
                });
            }
            "mnist" => {
                return with_fetch(&|| {
                    Ok(Loaded {
                        dataset: crate::mnist::load(&dir, self)?,
                        utterances: None,
                        scoring: Scoring::Plain,
                    })
                });
            }
            "fsdd" => with_fetch(&|| {
                let cfg = FsddConfig {
                    split: self.split.clone().unwrap_or_default(),
                    speakers: self.speakers.clone(),
                    repetitions: self.repetitions,
                };
                let s = crate::fsdd::load(&dir, &cache, &cfg, &features)?;
                Ok(Loaded {
                    dataset: s.dataset,
                    utterances: Some([s.train, s.valid, s.test]),
                    scoring: Scoring::Plain,
                })
            })?,
            _ => {
                let cfg = TimitConfig {
                    keep_glottal_stops: self.keep_glottal_stops.unwrap_or(false),
                    train_speakers: self.train_speakers,
                };
                let s = crate::timit::load(self.path.as_deref(), &cache, &cfg, &features)?;
                Loaded {
                    dataset: s.dataset,
                    utterances: Some([s.train, s.valid, s.test]),
                    scoring: Scoring::Timit39,
                }
            }
        };
        self.subset_speech(&mut loaded)?;
        Ok(loaded)
    }

    /// `train_size` and `test_size` for frame datasets.
    fn subset_speech(&self, loaded: &mut Loaded) -> Result<(), DataError> {
        let ds = &mut loaded.dataset;
        if let Some(k) = self.train_size {
            let n = ds.train.len();
            if k == 0 || k > n {
                return Err(DataError::Config(format!(
                    "dataset.train_size: {k} is more than the {n} training frames"
                )));
            }
            let mut idx: Vec<usize> = (0..n).collect();
            idx.shuffle(&mut ChaCha8Rng::seed_from_u64(self.seed));
            idx.truncate(k);
            idx.sort_unstable();
            ds.train = ds.train.select(&idx);
            if let Some(u) = &mut loaded.utterances {
                u[0].utterance_of_frame = idx.iter().map(|&i| u[0].utterance_of_frame[i]).collect();
            }
        }
        if let Some(k) = self.test_size {
            let n = ds.test.len();
            if k == 0 || k > n {
                return Err(DataError::Config(format!(
                    "dataset.test_size: {k} is more than the {n} test frames"
                )));
            }
            ds.test = ds.test.select(&(0..k).collect::<Vec<_>>());
            if let Some(u) = &mut loaded.utterances {
                u[2].utterance_of_frame.truncate(k);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_another_dataset_are_refused() {
        let mut c = DatasetConfig::mnist();
        c.repetitions = Some(2);
        assert!(
            c.validate()
                .unwrap_err()
                .contains("dataset.repetitions does not apply to dataset 'mnist'")
        );
        let mut c: DatasetConfig =
            serde_json::from_str(r#"{"name":"fsdd","binarize":"threshold"}"#).unwrap();
        assert!(c.validate().unwrap_err().contains("mnist only"));
        c.binarize = Binarize::None;
        c.path = Some("x".into());
        assert!(c.validate().is_err());
        let c: DatasetConfig = serde_json::from_str(r#"{"name":"cifar"}"#).unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .contains("known: mnist, fsdd, timit")
        );
    }

    #[test]
    fn new_keys_leave_the_serialized_mnist_config_unchanged() {
        let json = serde_json::to_string(&DatasetConfig::mnist()).unwrap();
        assert_eq!(
            json,
            r#"{"name":"mnist","train_size":null,"valid_size":10000,"test_size":null,"scale":true,"binarize":"none","threshold":0.5,"seed":0}"#
        );
    }

    #[test]
    fn fsdd_loads_with_utterances_and_a_frame_subset() {
        assert!(
            crate::mirror_dir().is_some(),
            "set HARMONIUM_DATA_MIRROR to run the data tests"
        );
        let data = tempfile::tempdir().unwrap();
        let c: DatasetConfig = serde_json::from_str(
            r#"{"name":"fsdd","speakers":["george","jackson","lucas"],"repetitions":2,
                "split":{"valid":["jackson"],"test":["lucas"]},"train_size":100}"#,
        )
        .unwrap();
        let loaded = c.load(data.path()).unwrap();
        let u = loaded.utterances.as_ref().unwrap();
        assert_eq!(loaded.dataset.train.len(), 100);
        assert_eq!(u[0].utterance_of_frame.len(), 100);
        assert_eq!(u[2].utterance_of_frame.len(), loaded.dataset.test.len());
        assert_eq!(
            u[2].labels.len(),
            20,
            "2 repetitions × 10 digits of the test speaker"
        );
        assert_eq!(loaded.dataset.classes, 10);
    }
}
