//! Speech datasets as frames: feature settings, normalization, context windows and utterance
//! bookkeeping.
//!
//! Pipeline for every utterance (FSDD, TIMIT):
//!
//! 1. static frames: log-mel bands and log energy ([`crate::filterbank`]);
//! 2. with `deltas`, `[c, Δc, ΔΔc]` ([`crate::deltas`]) — these are what the cache stores;
//! 3. with `normalize`, per-dimension `(x − μ)/σ` with μ, σ over all frames of the *training*
//!    utterances only ([`Normalizer`]);
//! 4. each frame t becomes the network input `[x_{t−N}, …, x_t, …, x_{t+N}]` (N = `context`),
//!    with frames before the first or after the last repeating the first or last frame of the
//!    same utterance ([`context_window`]).
//!
//! Rows of a split are frames; each row knows its utterance through `utterance_of_frame`, so a
//! a model's frame log-probabilities can be summed over each utterance (the experiment's
//! speech-scoring stage does).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::deltas::{DELTA_WINDOW, with_deltas};
use crate::feature_cache::{CacheReport, UtteranceFeatures};
use crate::filterbank::FeatureExtractor;
use crate::wav::Audio;
use crate::{DataError, Dataset, Matrix, Split};

/// Feature settings: the `features:` section of a speech dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpeechConfig {
    /// Mel bands of the log filterbank.
    pub bands: usize,
    /// Analysis window (Hamming) in milliseconds.
    pub window_ms: f64,
    /// Frame shift in milliseconds.
    pub hop_ms: f64,
    /// Pre-emphasis coefficient α in `x_n − α x_{n−1}`; 0 turns it off.
    pub preemphasis: f64,
    /// Append the log energy of each frame to the bands.
    pub energy: bool,
    /// Append deltas and delta-deltas (regression over ±2 frames).
    pub deltas: bool,
    /// Frames of context on each side of the centre frame in the network input.
    pub context: usize,
    /// Standardize each feature with the training split's mean and standard deviation.
    pub normalize: bool,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        SpeechConfig {
            bands: 40,
            window_ms: 25.0,
            hop_ms: 10.0,
            preemphasis: 0.97,
            energy: true,
            deltas: true,
            context: 5,
            normalize: true,
        }
    }
}

impl SpeechConfig {
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |m: String| Err(DataError::Config(m));
        if self.bands == 0 {
            return bad("features.bands must be at least 1".into());
        }
        if !(self.window_ms > 0.0 && self.hop_ms > 0.0) {
            return bad(format!(
                "features.window_ms ({}) and hop_ms ({}) must be positive",
                self.window_ms, self.hop_ms
            ));
        }
        if !(0.0..1.0).contains(&self.preemphasis) {
            return bad(format!(
                "features.preemphasis must be in [0, 1), not {}",
                self.preemphasis
            ));
        }
        Ok(())
    }

    /// Window length in samples at a sample rate.
    pub fn window_samples(&self, sample_rate: u32) -> usize {
        (sample_rate as f64 * self.window_ms / 1000.0).round() as usize
    }

    /// Frame shift in samples at a sample rate.
    pub fn hop_samples(&self, sample_rate: u32) -> usize {
        (sample_rate as f64 * self.hop_ms / 1000.0).round() as usize
    }

    /// Features per frame before context windows: `(bands + energy) × (1 + 2·deltas)`.
    pub fn frame_dim(&self) -> usize {
        (self.bands + usize::from(self.energy)) * if self.deltas { 3 } else { 1 }
    }

    /// Columns of the network input: `(2·context + 1) × frame_dim`.
    pub fn input_dim(&self) -> usize {
        (2 * self.context + 1) * self.frame_dim()
    }

    /// The settings that change the cached frames (context and normalization are applied after).
    pub(crate) fn cache_description(&self) -> serde_json::Value {
        serde_json::json!({
            "bands": self.bands, "window_ms": self.window_ms, "hop_ms": self.hop_ms,
            "preemphasis": self.preemphasis, "energy": self.energy, "deltas": self.deltas,
            "delta_window": DELTA_WINDOW,
        })
    }
}

/// The utterances of one split, and which utterance each frame (row) belongs to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Utterances {
    /// Utterance ids (`"3_theo_12"`, `"TRAIN/DR1/FCJF0/SI1027"`).
    pub ids: Vec<String>,
    /// Speaker of each utterance.
    pub speakers: Vec<String>,
    /// Class of each utterance where the task labels whole utterances (FSDD: the digit); empty
    /// where it does not (TIMIT).
    pub labels: Vec<u32>,
    /// For every row of the split, the index of its utterance in `ids`.
    pub utterance_of_frame: Vec<u32>,
}

impl Utterances {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Per-dimension standardization fitted on training frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalizer {
    pub mean: Vec<f32>,
    /// Standard deviations; a constant dimension gets 1.
    pub std: Vec<f32>,
}

impl Normalizer {
    /// Mean and (population) standard deviation of each column over the given rows.
    pub fn fit<'a>(rows: impl Iterator<Item = &'a [f32]>, dim: usize) -> Self {
        let (mut n, mut s, mut s2) = (0usize, vec![0f64; dim], vec![0f64; dim]);
        for r in rows {
            n += 1;
            for ((a, b), &v) in s.iter_mut().zip(s2.iter_mut()).zip(r) {
                *a += v as f64;
                *b += (v as f64) * (v as f64);
            }
        }
        let n = n.max(1) as f64;
        let mean: Vec<f64> = s.iter().map(|a| a / n).collect();
        let std = s2
            .iter()
            .zip(&mean)
            .map(|(b, m)| {
                let sd = (b / n - m * m).max(0.0).sqrt();
                if sd > 1e-6 { sd as f32 } else { 1.0 }
            })
            .collect();
        Normalizer {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }

    /// Standardizes rows of `self.mean.len()` columns in place.
    pub fn apply(&self, data: &mut [f32]) {
        for row in data.chunks_exact_mut(self.mean.len()) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
    }
}

/// Appends the context window of frame `t` of an utterance (`frames` rows of `dim` columns) to
/// `out`: frames t−N … t+N, indices clamped to the utterance.
pub fn context_window(frames: &[f32], dim: usize, t: usize, context: usize, out: &mut Vec<f32>) {
    let last = frames.len() / dim - 1;
    for o in 0..=2 * context {
        let s = (t + o).saturating_sub(context).min(last);
        out.extend_from_slice(&frames[s * dim..(s + 1) * dim]);
    }
}

/// A speech dataset: frame-level splits plus the utterance of every frame.
#[derive(Debug, Clone)]
pub struct SpeechDataset {
    /// Rows are frames (context windows as columns), `y` the frame labels. `image_shape` is
    /// `(2·context + 1, frame_dim)`: one input pictured as frames × features.
    pub dataset: Dataset,
    pub train: Utterances,
    pub valid: Utterances,
    pub test: Utterances,
    /// Name of each class (`"0"`…`"9"`, or the 61 TIMIT phones).
    pub class_names: Vec<String>,
    /// Features per frame before context windows.
    pub frame_dim: usize,
    pub context: usize,
    /// The training statistics applied to every split, when `normalize` is on.
    pub normalizer: Option<Normalizer>,
    /// The feature cache file and whether it was read or written.
    pub cache: CacheReport,
}

/// An utterance to put in a split: its index in the cached features, and its labels.
pub(crate) struct PlannedUtterance {
    pub index: usize,
    pub speaker: String,
    pub label: Option<u32>,
    /// One label per frame; frames labelled `None` are left out of the split (they still serve
    /// as context for their neighbours).
    pub frame_labels: Vec<Option<u32>>,
}

/// Normalizes with training statistics, cuts context windows and builds the three splits.
pub(crate) fn assemble(
    name: &str,
    features: &UtteranceFeatures,
    plan: [Vec<PlannedUtterance>; 3],
    class_names: Vec<String>,
    cfg: &SpeechConfig,
    cache: CacheReport,
) -> SpeechDataset {
    let dim = features.dim;
    let offsets = features.offsets();
    let frames_of = |i: usize| &features.data[offsets[i] * dim..offsets[i + 1] * dim];
    let normalizer = cfg.normalize.then(|| {
        Normalizer::fit(
            plan[0]
                .iter()
                .flat_map(|u| frames_of(u.index).chunks_exact(dim)),
            dim,
        )
    });
    let width = (2 * cfg.context + 1) * dim;
    let [train, valid, test] = plan.map(|utts| {
        let rows: usize = utts
            .iter()
            .map(|u| u.frame_labels.iter().flatten().count())
            .sum();
        let (mut x, mut y, mut of) = (Vec::with_capacity(rows * width), vec![], vec![]);
        let mut meta = Utterances::default();
        let mut buf = Vec::new();
        for (k, u) in utts.iter().enumerate() {
            buf.clear();
            buf.extend_from_slice(frames_of(u.index));
            if let Some(n) = &normalizer {
                n.apply(&mut buf);
            }
            for (t, label) in u.frame_labels.iter().enumerate() {
                if let Some(l) = label {
                    context_window(&buf, dim, t, cfg.context, &mut x);
                    y.push(*l);
                    of.push(k as u32);
                }
            }
            meta.ids.push(features.ids[u.index].clone());
            meta.speakers.push(u.speaker.clone());
            meta.labels.extend(u.label);
        }
        meta.utterance_of_frame = of;
        let split = Split {
            x: Matrix::new(y.len(), width, x),
            y,
        };
        (split, meta)
    });
    SpeechDataset {
        dataset: Dataset {
            name: name.into(),
            train: train.0,
            valid: valid.0,
            test: test.0,
            classes: class_names.len(),
            image_shape: Some((2 * cfg.context + 1, dim)),
        },
        train: train.1,
        valid: valid.1,
        test: test.1,
        class_names,
        frame_dim: dim,
        context: cfg.context,
        normalizer,
        cache,
    }
}

/// Feature frames (`[c, Δc, ΔΔc]` or static only) of one recording.
pub fn utterance_features(fx: &mut FeatureExtractor, audio: &Audio, deltas: bool) -> Matrix {
    let stat = fx.static_features(&audio.samples);
    if deltas {
        with_deltas(&stat, DELTA_WINDOW)
    } else {
        stat
    }
}

/// Reads and featurizes recordings (id, path) with `read`, on all cores, in list order. Every
/// recording must have the sample rate of the first; it is returned with the features.
pub(crate) fn extract_features(
    recordings: &[(String, PathBuf)],
    read: fn(&Path) -> Result<Audio, DataError>,
    cfg: &SpeechConfig,
) -> Result<(UtteranceFeatures, u32), DataError> {
    cfg.validate()?;
    let Some((_, first)) = recordings.first() else {
        return Err(DataError::Config("no recordings to featurize".into()));
    };
    let rate = read(first)?.sample_rate;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 16);
    let chunk = recordings.len().div_ceil(workers).max(1);
    let results: Vec<Result<Vec<Matrix>, DataError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = recordings
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut fx = FeatureExtractor::new(cfg, rate)?;
                    part.iter()
                        .map(|(_, path)| {
                            let audio = read(path)?;
                            if audio.sample_rate != rate {
                                return Err(DataError::BadFile {
                                    path: path.clone(),
                                    message: format!(
                                        "sample rate {} Hz differs from the {rate} Hz of {}",
                                        audio.sample_rate,
                                        first.display()
                                    ),
                                });
                            }
                            Ok(utterance_features(&mut fx, &audio, cfg.deltas))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("feature worker panicked"))
            .collect()
    });
    let mut out = UtteranceFeatures {
        ids: recordings.iter().map(|r| r.0.clone()).collect(),
        frames: Vec::with_capacity(recordings.len()),
        dim: cfg.frame_dim(),
        data: Vec::new(),
    };
    for part in results {
        for m in part? {
            out.frames.push(m.rows);
            out.data.extend_from_slice(&m.data);
        }
    }
    Ok((out, rate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature_cache::CacheStatus;

    #[test]
    fn config_defaults_and_unknown_keys() {
        let c: SpeechConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, SpeechConfig::default());
        assert_eq!(
            (c.bands, c.context, c.frame_dim(), c.input_dim()),
            (40, 5, 123, 1353)
        );
        assert_eq!((c.window_samples(16000), c.hop_samples(8000)), (400, 80));
        let c: SpeechConfig =
            serde_json::from_str(r#"{"bands": 24, "deltas": false, "energy": false}"#).unwrap();
        assert_eq!(c.frame_dim(), 24);
        let err = serde_json::from_str::<SpeechConfig>(r#"{"band": 3}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `band`"), "{err}");
        let bad = SpeechConfig {
            preemphasis: 1.5,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("preemphasis")
        );
    }

    #[test]
    fn context_windows_repeat_the_edge_frames() {
        // Three frames of one feature: 10, 20, 30; context 2.
        let f = [10.0, 20.0, 30.0];
        let mut out = Vec::new();
        context_window(&f, 1, 0, 2, &mut out);
        assert_eq!(out, vec![10.0, 10.0, 10.0, 20.0, 30.0]);
        out.clear();
        context_window(&f, 1, 2, 2, &mut out);
        assert_eq!(out, vec![10.0, 20.0, 30.0, 30.0, 30.0]);
    }

    fn feats() -> UtteranceFeatures {
        // Two utterances of one feature: train [0, 2], test [100, 100, 100].
        UtteranceFeatures {
            ids: vec!["tr".into(), "te".into()],
            frames: vec![2, 3],
            dim: 1,
            data: vec![0.0, 2.0, 100.0, 100.0, 100.0],
        }
    }

    fn planned(index: usize, n: usize, label: u32) -> PlannedUtterance {
        PlannedUtterance {
            index,
            speaker: format!("s{index}"),
            label: Some(label),
            frame_labels: vec![Some(label); n],
        }
    }

    #[test]
    fn normalization_uses_training_statistics_only() {
        let cfg = SpeechConfig {
            context: 1,
            ..Default::default()
        };
        let report = CacheReport {
            path: "x".into(),
            status: CacheStatus::Built,
        };
        let ds = assemble(
            "t",
            &feats(),
            [vec![planned(0, 2, 0)], vec![], vec![planned(1, 3, 1)]],
            vec!["a".into(), "b".into()],
            &cfg,
            report,
        );
        let n = ds.normalizer.as_ref().unwrap();
        // Training frames 0 and 2: mean 1, std 1 — the test frames (100) do not count.
        assert_eq!((n.mean[0], n.std[0]), (1.0, 1.0));
        assert_eq!(
            ds.dataset.train.x.data,
            vec![-1.0, -1.0, 1.0, -1.0, 1.0, 1.0]
        );
        assert_eq!(ds.dataset.test.x.row(1), &[99.0, 99.0, 99.0]);
        assert_eq!(
            (ds.dataset.valid.len(), ds.dataset.test.y.clone()),
            (0, vec![1, 1, 1])
        );
        assert_eq!(ds.test.utterance_of_frame, vec![0, 0, 0]);
        assert_eq!(
            (ds.test.ids.clone(), ds.test.labels.clone()),
            (vec!["te".to_string()], vec![1])
        );
        assert_eq!(ds.dataset.image_shape, Some((3, 1)));
    }

    #[test]
    fn frames_without_a_label_are_dropped_but_serve_as_context() {
        let cfg = SpeechConfig {
            context: 1,
            normalize: false,
            ..Default::default()
        };
        let mut u = planned(1, 3, 7);
        u.label = None;
        u.frame_labels[0] = None;
        let f = UtteranceFeatures {
            data: vec![0.0, 2.0, 1.0, 2.0, 3.0],
            ..feats()
        };
        let report = CacheReport {
            path: "x".into(),
            status: CacheStatus::Built,
        };
        let ds = assemble("t", &f, [vec![u], vec![], vec![]], vec![], &cfg, report);
        assert_eq!(ds.dataset.train.x.data, vec![1.0, 2.0, 3.0, 2.0, 3.0, 3.0]);
        assert_eq!(ds.train.utterance_of_frame, vec![0, 0]);
        assert!(ds.train.labels.is_empty() && ds.normalizer.is_none());
    }
}
