//! Free Spoken Digit Dataset (Jackson et al., release v1.0.10): a free, speaker-independent
//! stand-in for TIMIT frame classification.
//!
//! 3,000 recordings `recordings/{digit}_{speaker}_{index}.wav` (8 kHz mono 16-bit): 6 speakers ×
//! 10 digits × 50 repetitions. Whole speakers are held out: by default `theo` for validation and
//! `yweweler` for test, the other four for training; `leave_one_out: i` tests on the i-th speaker
//! (alphabetically) and validates on the one before it (cyclically), so `leave_one_out: 5` is the
//! default split. Every frame of a recording is labelled with its digit; a model decides a
//! recording by summing its frames' log-probabilities ([`crate::speech::utterance_decisions`]).
//!
//! `harmonium data fetch fsdd` copies the recordings from the mirror
//! (`$HARMONIUM_DATA_MIRROR/fsdd/recordings/*.wav`) or unpacks them from the upstream release
//! archive, and verifies them all at once: the SHA-256 of the text `sha256sum *.wav` prints in the
//! recordings folder (lines `<hex>  <name>\n`, names in byte order) must be [`LISTING_SHA256`].

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::DataError;
use crate::feature_cache::{cache_key, load_or_build};
use crate::fetch::FetchReport;
use crate::speech::{PlannedUtterance, SpeechConfig, SpeechDataset, assemble, extract_features};
use crate::wav::read_wav;

/// The six speakers, alphabetically (the order `leave_one_out` counts in).
pub const SPEAKERS: [&str; 6] = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"];

/// Number of recordings in release v1.0.10.
pub const RECORDINGS: usize = 3000;

/// SHA-256 of the `sha256sum *.wav` listing of the v1.0.10 recordings.
pub const LISTING_SHA256: &str = "1801eae019c063377d98f831d3f93574f259475df7332bb0e3d1b080fb5e6959";

/// The upstream release archive.
pub const ARCHIVE_URL: &str =
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz";

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

    let mut files = Vec::with_capacity(recordings.len());
    for r in &recordings {
        let meta = std::fs::metadata(&r.path).map_err(|source| DataError::Io {
            path: r.path.clone(),
            source,
        })?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        files.push(serde_json::json!([r.id(), meta.len(), mtime]));
    }
    let key = cache_key(&serde_json::json!({
        "dataset": "fsdd", "features": features.cache_description(), "files": files,
    }));
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

/// The text `sha256sum *.wav` prints in `dir`: `<sha256 hex>  <name>\n` per file, names in byte
/// order.
pub fn recordings_listing(dir: &Path) -> Result<String, DataError> {
    let io = |source| DataError::Io {
        path: dir.into(),
        source,
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wav"))
        .collect();
    names.sort();
    let mut out = String::new();
    for n in names {
        let p = dir.join(&n);
        let bytes = std::fs::read(&p).map_err(|source| DataError::Io { path: p, source })?;
        out.push_str(&format!("{}  {n}\n", hex::encode(Sha256::digest(&bytes))));
    }
    Ok(out)
}

/// SHA-256 (hex) of [`recordings_listing`].
pub fn listing_sha256(dir: &Path) -> Result<String, DataError> {
    Ok(hex::encode(Sha256::digest(
        recordings_listing(dir)?.as_bytes(),
    )))
}

/// Unpacks the `recordings/*.wav` files of a release archive (`.tar.gz`) into `dest`; returns
/// how many were written.
pub fn extract_recordings(archive_gz: &[u8], dest: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(archive_gz));
    let mut count = 0;
    for entry in archive
        .entries()
        .map_err(|e| format!("not a tar.gz archive: {e}"))?
    {
        let mut entry = entry.map_err(|e| format!("corrupt archive: {e}"))?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let parent = path.parent().and_then(|p| p.file_name());
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let (Some(parent), Some(name)) = (parent, name)
            && parent == "recordings"
            && name.ends_with(".wav")
            && entry.header().entry_type().is_file()
        {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{name}: {e}"))?;
            std::fs::write(dest.join(&name), bytes).map_err(|e| format!("{name}: {e}"))?;
            count += 1;
        }
    }
    Ok(count)
}

/// `harmonium data fetch fsdd`: puts the verified recordings in `data_dir/fsdd/recordings`.
pub fn fetch(
    data_dir: &Path,
    mirror: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<FetchReport, DataError> {
    fetch_from(data_dir, mirror, &[ARCHIVE_URL], log)
}

fn fetch_from(
    data_dir: &Path,
    mirror: Option<&Path>,
    urls: &[&str],
    log: &mut dyn FnMut(&str),
) -> Result<FetchReport, DataError> {
    let dir = data_dir.join("fsdd");
    let dest = dir.join("recordings");
    let mut report = FetchReport::default();
    let mut note = |s: String, report: &mut FetchReport| {
        log(&s);
        report.lines.push(s);
    };
    if dest.is_dir() {
        let h = listing_sha256(&dest)?;
        if h == LISTING_SHA256 {
            note(
                "recordings: present, sha256 of the listing ok".into(),
                &mut report,
            );
            return Ok(report);
        }
        note(
            format!(
                "recordings: present but listing sha256 {h} != {LISTING_SHA256}, fetching again"
            ),
            &mut report,
        );
    }
    let part = dir.join("recordings.part");
    let fresh = || -> Result<(), DataError> {
        let _ = std::fs::remove_dir_all(&part);
        std::fs::create_dir_all(&part).map_err(|source| DataError::Io {
            path: part.clone(),
            source,
        })
    };
    // Verifies the staged folder and moves it into place.
    let install = || -> Result<(), String> {
        let h = listing_sha256(&part).map_err(|e| e.to_string())?;
        if h != LISTING_SHA256 {
            return Err(format!("listing sha256 {h} != {LISTING_SHA256}"));
        }
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&part, &dest).map_err(|e| format!("{}: {e}", dest.display()))
    };
    let mut failures = Vec::new();
    if let Some(m) = mirror {
        let src = m.join("fsdd").join("recordings");
        fresh()?;
        let copied = copy_wavs(&src, &part);
        match copied.and_then(|n| install().map(|()| n)) {
            Ok(n) => {
                note(
                    format!("recordings: {n} files copied from mirror {}", m.display()),
                    &mut report,
                );
                return Ok(report);
            }
            Err(e) => failures.push(format!("mirror {}: {e}", src.display())),
        }
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    for url in urls {
        fresh()?;
        let got = download(&agent, url)
            .and_then(|bytes| extract_recordings(&bytes, &part))
            .and_then(|n| install().map(|()| n));
        match got {
            Ok(n) => {
                note(
                    format!("recordings: {n} files unpacked from {url}"),
                    &mut report,
                );
                return Ok(report);
            }
            Err(e) => failures.push(format!("{url}: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&part);
    Err(DataError::Fetch(format!(
        "could not fetch the FSDD recordings into {}.\nTried:\n  {}\nAlternatives: set {}=DIR to a \
         directory holding fsdd/recordings/*.wav, or download {} yourself and unpack its \
         recordings/ folder into {}.",
        dest.display(),
        failures.join("\n  "),
        crate::MIRROR_ENV,
        ARCHIVE_URL,
        dir.display(),
    )))
}

fn copy_wavs(src: &Path, dest: &Path) -> Result<usize, String> {
    let entries = std::fs::read_dir(src).map_err(|e| e.to_string())?;
    let mut n = 0;
    for e in entries {
        let e = e.map_err(|e| e.to_string())?;
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".wav") {
            std::fs::copy(e.path(), dest.join(&name))
                .map_err(|err| format!("{}: {err}", e.path().display()))?;
            n += 1;
        }
    }
    Ok(n)
}

fn download(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    let mut resp = agent.get(url).call().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(500 << 20)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
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
    fn listing_has_the_sha256sum_format_and_pins_the_mirror() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b_x_1.wav"), b"abc").unwrap();
        std::fs::write(dir.path().join("a_x_1.wav"), b"").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
        assert_eq!(
            recordings_listing(dir.path()).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a_x_1.wav\n\
             ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b_x_1.wav\n"
        );
        let rec = mirror().join("fsdd/recordings");
        assert_eq!(listing_sha256(&rec).unwrap(), LISTING_SHA256);
        assert_eq!(list_recordings(&rec).unwrap().len(), RECORDINGS);
    }

    #[test]
    fn fetch_copies_from_the_mirror_and_then_finds_the_files_in_place() {
        let data = tempfile::tempdir().unwrap();
        let r = fetch(data.path(), Some(&mirror()), &mut |_| {}).unwrap();
        assert!(
            r.lines[0].contains("3000 files copied from mirror"),
            "{:?}",
            r.lines
        );
        assert!(!data.path().join("fsdd/recordings.part").exists());
        let again = fetch(data.path(), Some(&mirror()), &mut |_| {}).unwrap();
        assert!(
            again.lines[0].contains("present, sha256"),
            "{:?}",
            again.lines
        );
        // A damaged file is noticed and the set is fetched again.
        std::fs::write(data.path().join("fsdd/recordings/0_george_0.wav"), b"x").unwrap();
        let r = fetch(data.path(), Some(&mirror()), &mut |_| {}).unwrap();
        assert!(r.lines[0].contains("present but listing"), "{:?}", r.lines);
        assert_eq!(
            listing_sha256(&data.path().join("fsdd/recordings")).unwrap(),
            LISTING_SHA256
        );
    }

    #[test]
    fn fetch_without_mirror_or_network_explains_what_to_do() {
        let data = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let err = fetch_from(
            data.path(),
            Some(empty.path()),
            &["http://127.0.0.1:9/fsdd.tar.gz"],
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
        for want in [
            "could not fetch the FSDD recordings",
            "mirror",
            "127.0.0.1:9",
            "HARMONIUM_DATA_MIRROR",
            ARCHIVE_URL,
        ] {
            assert!(err.contains(want), "missing {want:?} in: {err}");
        }
        assert!(!data.path().join("fsdd/recordings").exists());
    }

    #[test]
    fn release_archive_recordings_are_unpacked_flat() {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, body) in [
            (
                "free-spoken-digit-dataset-1.0.10/recordings/0_theo_0.wav",
                &b"RIFF0"[..],
            ),
            (
                "free-spoken-digit-dataset-1.0.10/recordings/1_theo_0.wav",
                b"RIFF1",
            ),
            ("free-spoken-digit-dataset-1.0.10/README.md", b"readme"),
            (
                "free-spoken-digit-dataset-1.0.10/utils/x.wav",
                b"not a recording",
            ),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, path, body).unwrap();
        }
        let raw = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let bytes = gz.finish().unwrap();
        let dest = tempfile::tempdir().unwrap();
        assert_eq!(extract_recordings(&bytes, dest.path()).unwrap(), 2);
        assert_eq!(
            std::fs::read(dest.path().join("1_theo_0.wav")).unwrap(),
            b"RIFF1"
        );
        assert!(!dest.path().join("x.wav").exists());
        assert!(extract_recordings(b"not gzip", dest.path()).is_err());
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
