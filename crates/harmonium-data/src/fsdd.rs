//! Free Spoken Digit Dataset (Jackson et al., release v1.0.10): a free, speaker-independent
//! stand-in for TIMIT frame classification.
//!
//! 3,000 recordings `recordings/{digit}_{speaker}_{index}.wav` (8 kHz mono 16-bit): 6 speakers ×
//! 10 digits × 50 repetitions. Whole speakers are held out: by default `theo` for validation and
//! `yweweler` for test, the other four for training; `leave_one_out: i` tests on the i-th speaker
//! (alphabetically) and validates on the one before it (cyclically), so `leave_one_out: 5` is the
//! default split. Every frame of a recording is labelled with its digit; a model decides a
//! recording by summing its frames' log-probabilities (the experiment's speech-scoring stage).
//!
//! `harmonium data fetch fsdd` puts the verified recordings in place ([`crate::fetch::fsdd`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::feature_cache::{features_key, load_or_build};
use crate::speech::{PlannedUtterance, SpeechConfig, SpeechDataset, assemble, extract_features};
use crate::wav::read_wav;

/// The six speakers, alphabetically (the order `leave_one_out` counts in).
pub const SPEAKERS: [&str; 6] = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"];

/// Number of recordings in release v1.0.10.
pub const RECORDINGS: usize = 3000;

/// Which speakers are held out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeakerSplit {
    /// Validation speakers (default `[theo]`; with `leave_one_out`, the speaker before the test
    /// speaker). May be empty.
    #[serde(default)]
    pub valid: Option<Vec<String>>,
    /// Test speakers (default `[yweweler]`). Not allowed together with `leave_one_out`.
    #[serde(default)]
    pub test: Option<Vec<String>>,
    /// Test on the speaker with this index in the sorted speaker list (0-based).
    #[serde(default)]
    pub leave_one_out: Option<usize>,
}

/// The FSDD options of the `dataset:` section (features are a separate [`SpeechConfig`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FsddConfig {
    #[serde(default)]
    pub split: SpeakerSplit,
    /// Use only these speakers (all six when absent); the split must name speakers among them.
    #[serde(default)]
    pub speakers: Option<Vec<String>>,
    /// Use only repetitions 0..N of each digit and speaker (all 50 when absent), for quick runs.
    #[serde(default)]
    pub repetitions: Option<u32>,
}

/// Speakers of each split, each list sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSplit {
    pub train: Vec<String>,
    pub valid: Vec<String>,
    pub test: Vec<String>,
}

impl SpeakerSplit {
    /// Assigns the `available` speakers (sorted) to the three splits.
    pub fn resolve(&self, available: &[String]) -> Result<ResolvedSplit, DataError> {
        let cfg = |m: String| DataError::Config(m);
        let known = |list: &[String]| -> Result<Vec<String>, DataError> {
            let mut out = list.to_vec();
            for s in &out {
                if !available.contains(s) {
                    return Err(cfg(format!(
                        "split names speaker '{s}', who is not among the speakers used: {}",
                        available.join(", ")
                    )));
                }
            }
            out.sort();
            out.dedup();
            Ok(out)
        };
        let (valid, test) = match self.leave_one_out {
            Some(i) => {
                if self.test.is_some() {
                    return Err(cfg(
                        "split: give either leave_one_out or test speakers, not both".into(),
                    ));
                }
                let n = available.len();
                if i >= n {
                    return Err(cfg(format!(
                        "split.leave_one_out is {i} but there are only {n} speakers ({})",
                        available.join(", ")
                    )));
                }
                let valid = match &self.valid {
                    Some(v) => known(v)?,
                    None if n > 2 => vec![available[(i + n - 1) % n].clone()],
                    None => vec![],
                };
                (valid, vec![available[i].clone()])
            }
            None => {
                let default = |s: &str| vec![s.to_string()];
                (
                    known(self.valid.as_deref().unwrap_or(&default("theo")))?,
                    known(self.test.as_deref().unwrap_or(&default("yweweler")))?,
                )
            }
        };
        if let Some(s) = valid.iter().find(|s| test.contains(s)) {
            return Err(cfg(format!(
                "speaker '{s}' is in both the validation and the test split"
            )));
        }
        let train: Vec<String> = available
            .iter()
            .filter(|s| !valid.contains(s) && !test.contains(s))
            .cloned()
            .collect();
        if train.is_empty() || test.is_empty() {
            return Err(cfg(format!(
                "split leaves no {} speaker (train {train:?}, valid {valid:?}, test {test:?})",
                if train.is_empty() { "training" } else { "test" }
            )));
        }
        Ok(ResolvedSplit { train, valid, test })
    }
}

/// One recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub digit: u32,
    pub speaker: String,
    pub index: u32,
    pub path: PathBuf,
}

impl Recording {
    /// `{digit}_{speaker}_{index}`.
    pub fn id(&self) -> String {
        format!("{}_{}_{}", self.digit, self.speaker, self.index)
    }
}

/// Parses `{digit}_{speaker}_{index}.wav`.
pub fn parse_name(name: &str) -> Option<(u32, String, u32)> {
    let stem = name.strip_suffix(".wav")?;
    let (digit, rest) = stem.split_once('_')?;
    let (speaker, index) = rest.rsplit_once('_')?;
    let digit: u32 = digit.parse().ok().filter(|d| *d < 10)?;
    (!speaker.is_empty()).then_some(())?;
    Some((digit, speaker.to_string(), index.parse().ok()?))
}

/// The recordings in `recordings_dir`, sorted by speaker, digit and repetition.
pub fn list_recordings(recordings_dir: &Path) -> Result<Vec<Recording>, DataError> {
    let entries = std::fs::read_dir(recordings_dir).map_err(|source| DataError::Io {
        path: recordings_dir.into(),
        source,
    })?;
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|source| DataError::Io {
            path: recordings_dir.into(),
            source,
        })?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".wav") {
            continue;
        }
        let (digit, speaker, index) = parse_name(&name).ok_or_else(|| DataError::BadFile {
            path: e.path(),
            message: "expected a name {digit}_{speaker}_{index}.wav".into(),
        })?;
        out.push(Recording {
            digit,
            speaker,
            index,
            path: e.path(),
        });
    }
    out.sort_by(|a, b| (&a.speaker, a.digit, a.index).cmp(&(&b.speaker, b.digit, b.index)));
    Ok(out)
}

/// Loads FSDD from `fsdd_dir` (holding `recordings/`) as frames with context windows, using and
/// filling the feature cache in `cache_dir`.
pub fn load(
    fsdd_dir: &Path,
    cache_dir: &Path,
    cfg: &FsddConfig,
    features: &SpeechConfig,
) -> Result<SpeechDataset, DataError> {
    features.validate()?;
    let rec_dir = fsdd_dir.join("recordings");
    if !rec_dir.is_dir() {
        return Err(DataError::Missing {
            name: "fsdd".into(),
            dir: fsdd_dir.into(),
            hint: format!(" ({} not found)", rec_dir.display()),
        });
    }
    let mut recordings = list_recordings(&rec_dir)?;
    let present: BTreeSet<String> = recordings.iter().map(|r| r.speaker.clone()).collect();
    let available: Vec<String> = match &cfg.speakers {
        None => present.into_iter().collect(),
        Some(list) => {
            if let Some(s) = list.iter().find(|s| !present.contains(*s)) {
                return Err(DataError::Config(format!(
                    "fsdd has no speaker '{s}' in {} (speakers: {})",
                    rec_dir.display(),
                    present.iter().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            let set: BTreeSet<String> = list.iter().cloned().collect();
            set.into_iter().collect()
        }
    };
    let split = cfg.split.resolve(&available)?;
    recordings
        .retain(|r| available.contains(&r.speaker) && cfg.repetitions.is_none_or(|n| r.index < n));
    if recordings.is_empty() {
        return Err(DataError::Missing {
            name: "fsdd".into(),
            dir: fsdd_dir.into(),
            hint: format!(" (no recordings selected in {})", rec_dir.display()),
        });
    }

    let key = features_key(
        "fsdd",
        features.cache_description(),
        recordings.iter().map(|r| (r.id(), r.path.as_path())),
    )?;
    let sources: Vec<(String, PathBuf)> = recordings
        .iter()
        .map(|r| (r.id(), r.path.clone()))
        .collect();
    let (feats, report) = load_or_build(cache_dir, &key, || {
        extract_features(&sources, read_wav, features).map(|(f, _)| f)
    })?;

    let mut plan: [Vec<PlannedUtterance>; 3] = Default::default();
    for (i, r) in recordings.iter().enumerate() {
        let part = if split.train.contains(&r.speaker) {
            0
        } else if split.valid.contains(&r.speaker) {
            1
        } else {
            2
        };
        plan[part].push(PlannedUtterance {
            index: i,
            speaker: r.speaker.clone(),
            label: Some(r.digit),
            frame_labels: vec![Some(r.digit); feats.frames[i]],
        });
    }
    let names = (0..10).map(|d| d.to_string()).collect();
    Ok(assemble("fsdd", &feats, plan, names, features, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature_cache::CacheStatus;

    fn mirror() -> PathBuf {
        crate::mirror_dir().expect(
            "set HARMONIUM_DATA_MIRROR to a directory holding fsdd/recordings/*.wav (e.g. \
             /work/shared/data) to run the FSDD tests",
        )
    }

    fn speakers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_parse_into_digit_speaker_and_index() {
        assert_eq!(
            parse_name("7_yweweler_49.wav"),
            Some((7, "yweweler".into(), 49))
        );
        assert_eq!(parse_name("10_theo_1.wav"), None);
        assert_eq!(parse_name("3_theo.wav"), None);
        assert_eq!(parse_name("3_theo_1.WAV"), None);
    }

    #[test]
    fn default_and_leave_one_out_splits_never_share_a_speaker() {
        let all = speakers(&SPEAKERS);
        let check = |s: &ResolvedSplit| {
            for t in &s.train {
                assert!(!s.valid.contains(t) && !s.test.contains(t), "{s:?}");
            }
            for v in &s.valid {
                assert!(!s.test.contains(v), "{s:?}");
            }
            assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 6);
        };
        let d = SpeakerSplit::default().resolve(&all).unwrap();
        check(&d);
        assert_eq!(
            (d.valid.clone(), d.test.clone()),
            (speakers(&["theo"]), speakers(&["yweweler"]))
        );
        assert_eq!(d.train.len(), 4);
        let mut tested = BTreeSet::new();
        for i in 0..6 {
            let s = SpeakerSplit {
                leave_one_out: Some(i),
                ..Default::default()
            }
            .resolve(&all)
            .unwrap();
            check(&s);
            assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (4, 1, 1));
            tested.insert(s.test[0].clone());
            if i == 5 {
                assert_eq!(s, d, "leave_one_out 5 is the default split");
            }
        }
        assert_eq!(tested.len(), 6, "the rotation tests every speaker once");
        let bad = |json: &str| {
            serde_json::from_str::<SpeakerSplit>(json)
                .unwrap()
                .resolve(&all)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(r#"{"leave_one_out": 6}"#).contains("only 6 speakers"));
        assert!(bad(r#"{"valid": ["theo"], "test": ["theo"]}"#).contains("both"));
        assert!(bad(r#"{"test": ["bob"]}"#).contains("'bob'"));
        assert!(bad(r#"{"leave_one_out": 1, "test": ["theo"]}"#).contains("not both"));
        let e = serde_json::from_str::<FsddConfig>(r#"{"split": {"tset": []}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `tset`"), "{e}");
    }

    #[test]
    fn fsdd_from_the_mirror_gives_speaker_independent_frame_splits() {
        let cache = tempfile::tempdir().unwrap();
        let fsdd_dir = mirror().join("fsdd");
        let cfg: FsddConfig = serde_json::from_str(
            r#"{"speakers": ["george", "jackson", "lucas"], "repetitions": 5,
                "split": {"valid": ["jackson"], "test": ["lucas"]}}"#,
        )
        .unwrap();
        let features = SpeechConfig::default();
        let ds = load(&fsdd_dir, cache.path(), &cfg, &features).unwrap();
        assert_eq!(ds.cache.status, CacheStatus::Built);
        let d = &ds.dataset;
        assert_eq!(
            (d.name.as_str(), d.classes, d.input_dim()),
            ("fsdd", 10, 11 * 123)
        );
        assert_eq!((ds.frame_dim, ds.context), (123, 5));
        // 10 digits × 5 repetitions per speaker.
        assert_eq!(
            (ds.train.len(), ds.valid.len(), ds.test.len()),
            (50, 50, 50)
        );
        for (split, utts, who) in [
            (&d.train, &ds.train, "george"),
            (&d.valid, &ds.valid, "jackson"),
            (&d.test, &ds.test, "lucas"),
        ] {
            assert!(utts.speakers.iter().all(|s| s == who));
            assert_eq!(utts.utterance_of_frame.len(), split.len());
            // Each utterance's frames are contiguous, carry its digit, and number ≥ 14
            // (recordings are at least 0.14 s long).
            let mut counts = vec![0usize; utts.len()];
            for (f, &u) in utts.utterance_of_frame.iter().enumerate() {
                counts[u as usize] += 1;
                assert_eq!(split.y[f], utts.labels[u as usize]);
                if f > 0 {
                    let prev = utts.utterance_of_frame[f - 1];
                    assert!(u == prev || u == prev + 1);
                }
            }
            assert!(counts.iter().all(|&c| c >= 12), "{counts:?}");
            assert_eq!(utts.labels.iter().filter(|&&l| l == 3).count(), 5);
        }
        // The centre frame of the training inputs is standardized: mean ≈ 0, std ≈ 1.
        let (cols, centre) = (d.input_dim(), 5 * 123);
        let n = d.train.len() as f64;
        for j in [centre, centre + 40, centre + 60] {
            let col: Vec<f64> = (0..d.train.len())
                .map(|r| d.train.x.data[r * cols + j] as f64)
                .collect();
            let mean = col.iter().sum::<f64>() / n;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            assert!(
                mean.abs() < 1e-3 && (var - 1.0).abs() < 1e-2,
                "column {j}: {mean} {var}"
            );
        }
        // A second load reads the cache and gives identical data.
        let again = load(&fsdd_dir, cache.path(), &cfg, &features).unwrap();
        assert_eq!(again.cache.status, CacheStatus::Loaded);
        assert_eq!(again.dataset.test, ds.dataset.test);
        // A corrupted cache file is rebuilt, with the same result.
        std::fs::write(&ds.cache.path, b"HMFEAT01 truncated").unwrap();
        let rebuilt = load(&fsdd_dir, cache.path(), &cfg, &features).unwrap();
        assert!(
            matches!(rebuilt.cache.status, CacheStatus::Rebuilt { .. }),
            "{:?}",
            rebuilt.cache.status
        );
        assert_eq!(rebuilt.dataset.train, ds.dataset.train);
    }

    #[test]
    fn full_fsdd_default_split_loads_every_recording() {
        let cache = tempfile::tempdir().unwrap();
        let start = std::time::Instant::now();
        let ds = load(
            &mirror().join("fsdd"),
            cache.path(),
            &FsddConfig::default(),
            &SpeechConfig::default(),
        )
        .unwrap();
        let secs = start.elapsed().as_secs_f64();
        let d = &ds.dataset;
        eprintln!(
            "full FSDD: {:.2} s, frames train {} valid {} test {}",
            secs,
            d.train.len(),
            d.valid.len(),
            d.test.len()
        );
        assert_eq!(
            (ds.train.len(), ds.valid.len(), ds.test.len()),
            (2000, 500, 500)
        );
        assert_eq!(ds.test.speakers[0], "yweweler");
        let total: usize = d.train.len() + d.valid.len() + d.test.len();
        // 0.14–2.28 s, mean 0.44 s per recording at 100 frames per second.
        assert!((100_000..160_000).contains(&total), "{total} frames");
    }

    #[test]
    fn missing_recordings_say_how_to_fetch_them() {
        let empty = tempfile::tempdir().unwrap();
        let err = load(
            &empty.path().join("fsdd"),
            empty.path(),
            &FsddConfig::default(),
            &SpeechConfig::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("harmonium data fetch fsdd"), "{err}");
    }
}
