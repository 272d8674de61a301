//! TIMIT (LDC93S1) phone frames, read from the user's copy in the LDC layout
//! `TRAIN|TEST/DR1..DR8/SPEAKER/SENTENCE.WAV|PHN` (any letter case).
//!
//! * Utterances: the SI and SX sentences; the two SA sentences every speaker read are excluded.
//! * Splits: train = every TRAIN speaker (462); valid = the 50-speaker development set and test =
//!   the 24-speaker core test set, both from TEST ([`crate::timit_phones`]).
//! * Audio: NIST SPHERE (`.WAV`, [`crate::sphere`]) or, for converted copies, RIFF/WAVE.
//! * Frame labels: `.PHN` lines `start end phone` give sample ranges [start, end); frame t is
//!   labelled with the phone covering its centre sample `t·H + ⌊W/2⌋` (H hop, W window), or,
//!   where no phone covers it (a gap, or past the last phone), with the nearest phone.
//! * Classes: the 61 phones ([`PHONES_61`]); frames of the glottal stop `q` are left out unless
//!   `keep_glottal_stops` (q is ignored in scoring). Fold labels with [`fold_39`] to score.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::feature_cache::{features_key, load_or_build};
use crate::speech::{PlannedUtterance, SpeechConfig, SpeechDataset, assemble, extract_features};
use crate::sphere::decode_sphere;
pub use crate::timit_phones::{
    CORE_TEST_SPEAKERS, DEV_SPEAKERS, PHONES_39, PHONES_61, fold_39, glottal_stop, phone_index,
};
use crate::wav::{Audio, read_wav};

/// TIMIT options of the `dataset:` section (the corpus path is given separately).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimitConfig {
    /// Keep frames labelled with the glottal stop `q` (left out by default).
    #[serde(default)]
    pub keep_glottal_stops: bool,
    /// Use only this many training speakers, evenly spread over the sorted speaker list (all
    /// 462 when absent), for quick runs.
    #[serde(default)]
    pub train_speakers: Option<usize>,
}

/// Which half of the corpus an utterance is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimitSet {
    Train,
    Test,
}

/// One sentence of one speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct TimitUtterance {
    pub set: TimitSet,
    /// `DR1` … `DR8`.
    pub dialect: String,
    /// Upper case, e.g. `FCJF0`.
    pub speaker: String,
    /// Upper case, e.g. `SI1027`.
    pub sentence: String,
    pub audio: PathBuf,
    pub phones: PathBuf,
}

impl TimitUtterance {
    /// `TRAIN/DR1/FCJF0/SI1027`.
    pub fn id(&self) -> String {
        let set = match self.set {
            TimitSet::Train => "TRAIN",
            TimitSet::Test => "TEST",
        };
        format!("{set}/{}/{}/{}", self.dialect, self.speaker, self.sentence)
    }

    /// The SA sentences, read by every speaker, are excluded from all splits.
    pub fn is_sa(&self) -> bool {
        self.sentence.starts_with("SA")
    }
}

/// A `.PHN` line: a phone label over samples [start, end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhoneSegment {
    pub start: usize,
    pub end: usize,
    /// Index into [`PHONES_61`].
    pub phone: u32,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.into(),
        source,
    }
}

/// Sub-directories of `dir` with their upper-cased names, sorted.
fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, DataError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let e = e.map_err(io_err(dir))?;
        if e.path().is_dir() {
            out.push((e.file_name().to_string_lossy().to_uppercase(), e.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The folder holding `TRAIN` and `TEST`: `root` itself or one of its sub-folders.
pub fn corpus_root(root: &Path) -> Result<PathBuf, DataError> {
    let has_both = |dir: &Path| {
        subdirs(dir).is_ok_and(|s| {
            s.iter().any(|(n, _)| n == "TRAIN") && s.iter().any(|(n, _)| n == "TEST")
        })
    };
    if has_both(root) {
        return Ok(root.into());
    }
    if let Ok(children) = subdirs(root)
        && let Some((_, p)) = children.into_iter().find(|(_, p)| has_both(p))
    {
        return Ok(p);
    }
    Err(DataError::Config(format!(
        "timit: {} holds no TRAIN and TEST folders; point `path:` at a copy of TIMIT in the LDC \
         layout (TRAIN|TEST/DR1..DR8/SPEAKER/*.WAV and *.PHN)",
        root.display()
    )))
}

/// Every utterance with both audio and phone files, SA included, sorted by id.
pub fn scan(root: &Path) -> Result<Vec<TimitUtterance>, DataError> {
    let root = corpus_root(root)?;
    let mut out = Vec::new();
    for (set_name, set_dir) in subdirs(&root)? {
        let set = match set_name.as_str() {
            "TRAIN" => TimitSet::Train,
            "TEST" => TimitSet::Test,
            _ => continue,
        };
        for (dialect, dr_dir) in subdirs(&set_dir)? {
            if !dialect.starts_with("DR") {
                continue;
            }
            for (speaker, spk_dir) in subdirs(&dr_dir)? {
                let mut wavs = Vec::new();
                let mut phns = Vec::new();
                for e in std::fs::read_dir(&spk_dir).map_err(io_err(&spk_dir))? {
                    let e = e.map_err(io_err(&spk_dir))?;
                    let name = e.file_name().to_string_lossy().to_uppercase();
                    // Only SENTENCE.EXT: converted copies may add e.g. SA1.WAV.wav beside SA1.WAV.
                    let Some((stem, ext)) = name.split_once('.') else {
                        continue;
                    };
                    match ext {
                        "WAV" => wavs.push((stem.to_string(), e.path())),
                        "PHN" => phns.push((stem.to_string(), e.path())),
                        _ => {}
                    }
                }
                wavs.sort();
                for (stem, audio) in wavs {
                    if let Some((_, phones)) = phns.iter().find(|(s, _)| *s == stem) {
                        out.push(TimitUtterance {
                            set,
                            dialect: dialect.clone(),
                            speaker: speaker.clone(),
                            sentence: stem,
                            audio,
                            phones: phones.clone(),
                        });
                    }
                }
            }
        }
    }
    out.sort_by_key(|u| u.id());
    Ok(out)
}

/// Parses the text of a `.PHN` file.
pub fn parse_phn(text: &str, path: &Path) -> Result<Vec<PhoneSegment>, DataError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let bad = |m: String| DataError::BadFile {
            path: path.into(),
            message: format!("line {}: {m}", i + 1),
        };
        let [start, end, phone] = fields[..] else {
            return Err(bad(format!("expected `start end phone`, found {line:?}")));
        };
        let (Ok(start), Ok(end)) = (start.parse::<usize>(), end.parse::<usize>()) else {
            return Err(bad(format!("sample offsets are not numbers: {line:?}")));
        };
        if end < start {
            return Err(bad(format!("segment ends before it starts: {line:?}")));
        }
        let phone = phone_index(phone)
            .ok_or_else(|| bad(format!("'{phone}' is not one of the 61 TIMIT phones")))?;
        out.push(PhoneSegment { start, end, phone });
    }
    if out.is_empty() {
        return Err(DataError::BadFile {
            path: path.into(),
            message: "no phone segments".into(),
        });
    }
    Ok(out)
}

/// Reads a `.PHN` file.
pub fn read_phn(path: &Path) -> Result<Vec<PhoneSegment>, DataError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    parse_phn(&text, path)
}

/// The phone of each of `frames` frames: the segment covering the centre sample
/// `t·hop + window/2`, else the nearest segment.
pub fn frame_labels(
    segments: &[PhoneSegment],
    frames: usize,
    window: usize,
    hop: usize,
) -> Vec<u32> {
    (0..frames)
        .map(|t| {
            let c = t * hop + window / 2;
            let distance = |s: &PhoneSegment| {
                if c < s.start {
                    s.start - c
                } else if c >= s.end {
                    c - s.end + 1
                } else {
                    0
                }
            };
            segments
                .iter()
                .min_by_key(|s| distance(s))
                .expect("at least one segment")
                .phone
        })
        .collect()
}

/// Reads TIMIT audio: NIST SPHERE, or RIFF/WAVE for converted copies.
pub fn read_audio(path: &Path) -> Result<Audio, DataError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    if bytes.starts_with(b"NIST_1A") {
        decode_sphere(&bytes, path)
    } else if bytes.starts_with(b"RIFF") {
        read_wav(path)
    } else {
        Err(DataError::BadFile {
            path: path.into(),
            message: "neither NIST SPHERE nor RIFF/WAVE audio".into(),
        })
    }
}

/// Loads TIMIT frames from the copy at `root` (the folder holding TRAIN and TEST, or its parent),
/// using and filling the feature cache in `cache_dir`.
pub fn load(
    root: Option<&Path>,
    cache_dir: &Path,
    cfg: &TimitConfig,
    features: &SpeechConfig,
) -> Result<SpeechDataset, DataError> {
    features.validate()?;
    let root = root.ok_or_else(|| {
        DataError::Config(
            "dataset timit needs `path:` naming your copy of TIMIT (the folder holding TRAIN and \
             TEST). TIMIT is licensed by the LDC (LDC93S1) and cannot be fetched; for a free \
             speech benchmark use `name: fsdd`"
                .into(),
        )
    })?;
    let all = scan(root)?;
    let core: BTreeSet<&str> = CORE_TEST_SPEAKERS.into_iter().collect();
    let dev: BTreeSet<&str> = DEV_SPEAKERS.into_iter().collect();
    let mut train_speakers: Vec<&str> = all
        .iter()
        .filter(|u| u.set == TimitSet::Train)
        .map(|u| u.speaker.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if let Some(n) = cfg.train_speakers {
        let total = train_speakers.len();
        if n == 0 || n > total {
            return Err(DataError::Config(format!(
                "timit.train_speakers is {n} but the copy has {total} training speakers"
            )));
        }
        train_speakers = (0..n).map(|i| train_speakers[i * total / n]).collect();
    }
    let part_of = |u: &TimitUtterance| -> Option<usize> {
        if u.is_sa() {
            return None;
        }
        match u.set {
            TimitSet::Train => train_speakers.contains(&u.speaker.as_str()).then_some(0),
            TimitSet::Test if dev.contains(u.speaker.as_str()) => Some(1),
            TimitSet::Test if core.contains(u.speaker.as_str()) => Some(2),
            TimitSet::Test => None,
        }
    };
    let chosen: Vec<(usize, &TimitUtterance)> = all
        .iter()
        .filter_map(|u| part_of(u).map(|p| (p, u)))
        .collect();
    for (part, what) in [(0, "training"), (2, "core test")] {
        if !chosen.iter().any(|(p, _)| *p == part) {
            return Err(DataError::Config(format!(
                "timit: no {what} utterances (SI/SX sentences with .WAV and .PHN files) found under {}",
                root.display()
            )));
        }
    }

    let key = features_key(
        "timit",
        features.cache_description(),
        chosen.iter().map(|(_, u)| (u.id(), u.audio.as_path())),
    )?;
    let sources: Vec<(String, PathBuf)> = chosen
        .iter()
        .map(|(_, u)| (u.id(), u.audio.clone()))
        .collect();
    let (feats, report) = load_or_build(cache_dir, &key, || {
        extract_features(&sources, read_audio, features).map(|(f, _)| f)
    })?;

    // TIMIT is recorded at 16 kHz; the labels need the window and hop in samples.
    let rate = read_audio(&chosen[0].1.audio)?.sample_rate;
    let (window, hop) = (features.window_samples(rate), features.hop_samples(rate));
    let q = glottal_stop();
    let mut plan: [Vec<PlannedUtterance>; 3] = Default::default();
    for (i, (part, u)) in chosen.iter().enumerate() {
        let segments = read_phn(&u.phones)?;
        let frame_labels = frame_labels(&segments, feats.frames[i], window, hop)
            .into_iter()
            .map(|l| (cfg.keep_glottal_stops || l != q).then_some(l))
            .collect();
        plan[*part].push(PlannedUtterance {
            index: i,
            speaker: u.speaker.clone(),
            label: None,
            frame_labels,
        });
    }
    let names = PHONES_61.iter().map(|p| p.to_string()).collect();
    Ok(assemble("timit", &feats, plan, names, features, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature_cache::CacheStatus;
    use crate::sphere::encode_sphere;

    const RATE: u32 = 16000;
    /// 0.5 s at 16 kHz: 1 + ⌊(8000 − 400)/160⌋ = 48 frames with centres 160·t + 200.
    const SAMPLES: usize = 8000;
    /// Frames 0–11 h#, 12–17 q, 18–29 aa, 30–36 ix, 37–47 pau.
    const PHN: &str = "0 2000 h#\n2000 3000 q\n3000 5000 aa\n5000 6000 ix\n6000 8000 pau\n";

    fn audio(seed: usize) -> Vec<i16> {
        (0..SAMPLES)
            .map(|i| {
                let t = i as f64 / RATE as f64;
                let f = 300.0 + 150.0 * seed as f64;
                (3000.0 * (2.0 * std::f64::consts::PI * f * t).sin()
                    + 500.0 * (2.0 * std::f64::consts::PI * 2300.0 * t).sin())
                    as i16
            })
            .collect()
    }

    /// Writes a fixture in the LDC layout: `(relative dir, sentence, riff?)`.
    fn fixture(dir: &Path) {
        let items: [(&str, &str, bool); 8] = [
            ("TRAIN/DR1/FAKE0", "SA1", false),
            ("TRAIN/DR1/FAKE0", "SI1", false),
            ("TRAIN/DR1/FAKE0", "SX1", false),
            ("train/dr2/mfak1", "si2", true), // lower case, RIFF audio
            ("TEST/DR1/MDAB0", "SI3", false), // core test
            ("TEST/DR1/MDAB0", "SA2", false),
            ("TEST/DR1/FAKS0", "SX4", false), // development set
            ("TEST/DR4/MXYZ0", "SI5", false), // neither: unused
        ];
        for (k, (sub, sentence, riff)) in items.iter().enumerate() {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d).unwrap();
            let lower = sub.starts_with("train/");
            let (wav, phn) = if lower {
                ("wav", "phn")
            } else {
                ("WAV", "PHN")
            };
            let wav_path = d.join(format!("{sentence}.{wav}"));
            if *riff {
                crate::wav::write_wav(&wav_path, RATE, &audio(k)).unwrap();
            } else {
                std::fs::write(&wav_path, encode_sphere(RATE, &audio(k))).unwrap();
            }
            std::fs::write(d.join(format!("{sentence}.{phn}")), PHN).unwrap();
            std::fs::write(d.join(format!("{sentence}.TXT")), "0 8000 words\n").unwrap();
        }
        // A converted copy beside the original is ignored; so is a WAV with no PHN.
        std::fs::write(dir.join("TRAIN/DR1/FAKE0/SI1.WAV.wav"), b"RIFF").unwrap();
        std::fs::write(dir.join("TRAIN/DR1/FAKE0/SX9.WAV"), b"NIST_1A").unwrap();
    }

    fn expected_labels() -> Vec<&'static str> {
        let mut l = vec!["h#"; 12];
        l.extend(vec!["q"; 6]);
        l.extend(vec!["aa"; 12]);
        l.extend(vec!["ix"; 7]);
        l.extend(vec!["pau"; 11]);
        l
    }

    #[test]
    fn fixture_gives_the_expected_frames_labels_and_folded_phones_without_sa() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("timit");
        fixture(&root);
        let cache = tmp.path().join("cache");
        let features = SpeechConfig::default();
        let ds = load(Some(&root), &cache, &TimitConfig::default(), &features).unwrap();
        assert_eq!(ds.cache.status, CacheStatus::Built);
        let d = &ds.dataset;
        assert_eq!((d.classes, d.input_dim()), (61, 1353));
        assert_eq!(
            ds.train.ids,
            vec![
                "TRAIN/DR1/FAKE0/SI1",
                "TRAIN/DR1/FAKE0/SX1",
                "TRAIN/DR2/MFAK1/SI2"
            ]
        );
        assert_eq!(ds.valid.ids, vec!["TEST/DR1/FAKS0/SX4"]);
        assert_eq!(ds.test.ids, vec!["TEST/DR1/MDAB0/SI3"]);
        assert!(ds.train.labels.is_empty(), "no utterance labels for TIMIT");
        // 48 frames per utterance, of which the 6 q frames are left out.
        let want: Vec<u32> = expected_labels()
            .into_iter()
            .filter(|p| *p != "q")
            .map(|p| phone_index(p).unwrap())
            .collect();
        assert_eq!(want.len(), 42);
        assert_eq!((d.train.len(), d.valid.len(), d.test.len()), (126, 42, 42));
        assert_eq!(d.test.y, want);
        assert_eq!(&d.train.y[84..], &want[..]);
        assert_eq!(ds.train.utterance_of_frame[41..43], [0, 1]);
        let folded: Vec<&str> = d
            .test
            .y
            .iter()
            .map(|&l| PHONES_39[fold_39(l).unwrap() as usize])
            .collect();
        assert_eq!(
            (folded[11], folded[12], folded[30], folded[31]),
            ("sil", "aa", "ih", "sil")
        );
        // Keeping glottal stops keeps all 48 frames, the q frames labelled q.
        let cfg = TimitConfig {
            keep_glottal_stops: true,
            ..Default::default()
        };
        let with_q = load(Some(&root), &cache, &cfg, &features).unwrap();
        assert_eq!(with_q.cache.status, CacheStatus::Loaded);
        let all: Vec<u32> = expected_labels()
            .into_iter()
            .map(|p| phone_index(p).unwrap())
            .collect();
        assert_eq!(with_q.dataset.test.y, all);
        assert_eq!(fold_39(with_q.dataset.test.y[12]), None);
        // The corpus may sit one folder down; a quick run may use fewer training speakers.
        let one = TimitConfig {
            train_speakers: Some(1),
            ..Default::default()
        };
        let small = load(Some(tmp.path()), &cache, &one, &features).unwrap();
        assert_eq!(small.train.ids.len(), 2);
    }

    #[test]
    fn missing_path_or_layout_is_a_clear_error() {
        let cache = tempfile::tempdir().unwrap();
        let err = load(
            None,
            cache.path(),
            &TimitConfig::default(),
            &SpeechConfig::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("needs `path:`") && err.contains("LDC"),
            "{err}"
        );
        let err = load(
            Some(cache.path()),
            cache.path(),
            &TimitConfig::default(),
            &SpeechConfig::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no TRAIN and TEST folders"), "{err}");
    }

    #[test]
    fn frame_labels_take_the_phone_at_the_frame_centre_or_the_nearest() {
        let seg = |start, end, p: &str| PhoneSegment {
            start,
            end,
            phone: phone_index(p).unwrap(),
        };
        // A gap 300..400 and nothing after 500; window 100, hop 100: centres 50, 150, …
        let segs = [seg(0, 200, "h#"), seg(200, 300, "s"), seg(400, 500, "iy")];
        let got: Vec<&str> = frame_labels(&segs, 6, 100, 100)
            .into_iter()
            .map(|l| PHONES_61[l as usize])
            .collect();
        assert_eq!(got, vec!["h#", "h#", "s", "iy", "iy", "iy"]);
    }

    #[test]
    fn bad_phone_files_name_the_line() {
        let p = Path::new("SI1.PHN");
        let err = parse_phn("0 10 h#\n10 20 xx\n", p).unwrap_err().to_string();
        assert!(
            err.contains("SI1.PHN: line 2") && err.contains("'xx'"),
            "{err}"
        );
        let err = parse_phn("0 ten h#\n", p).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        assert!(parse_phn("\n", p).is_err());
    }
}
