//! On-disk cache of per-utterance feature frames, keyed by what they were computed from.
//!
//! A cache file `<cache_dir>/features-<key>.bin` holds, in order:
//!
//! ```text
//! 8 bytes   magic "HMFEAT01"
//! u64 LE    length L of the header
//! L bytes   JSON header {key, dim, utterances: [[id, frames], …], data_sha256}
//! 4·N·dim   the frames of all utterances, concatenated, as little-endian f32 (N = Σ frames)
//! ```
//!
//! The key ([`features_key`]) is a hash of the feature extraction settings and the file list
//! (names, sizes, modified times), so any change to either gives a new file. A file that is truncated, has a bad header,
//! another key, or data whose SHA-256 differs from the header's is rebuilt and overwritten.
//! Files are written to a temporary name and renamed, so a crash never leaves a half-written
//! cache under the final name.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::DataError;

const MAGIC: &[u8; 8] = b"HMFEAT01";

/// Feature frames of a list of utterances, concatenated.
#[derive(Debug, Clone, PartialEq)]
pub struct UtteranceFeatures {
    /// Utterance ids, in file-list order.
    pub ids: Vec<String>,
    /// Frames of each utterance.
    pub frames: Vec<usize>,
    /// Features per frame.
    pub dim: usize,
    /// All frames, row-major: utterance 0's frames, then utterance 1's, …
    pub data: Vec<f32>,
}

impl UtteranceFeatures {
    /// Offset (in frames) of each utterance's first frame, and the total at the end.
    pub fn offsets(&self) -> Vec<usize> {
        let mut o = Vec::with_capacity(self.frames.len() + 1);
        let mut acc = 0;
        o.push(0);
        for f in &self.frames {
            acc += f;
            o.push(acc);
        }
        o
    }

    pub fn total_frames(&self) -> usize {
        self.frames.iter().sum()
    }
}

/// Where the features came from.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheStatus {
    /// Read from a valid cache file.
    Loaded,
    /// Computed, no cache file existed; saved.
    Built,
    /// Computed because the cache file was unusable (the reason); saved.
    Rebuilt { reason: String },
    /// Computed, but the cache file could not be written (the reason).
    NotSaved { reason: String },
}

/// The cache file used and what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheReport {
    pub path: PathBuf,
    pub status: CacheStatus,
}

#[derive(Serialize, Deserialize)]
struct Header {
    key: String,
    dim: usize,
    utterances: Vec<(String, usize)>,
    data_sha256: String,
}

/// A stable short hash (16 hex digits of SHA-256) of a JSON description of the inputs.
pub fn cache_key(description: &serde_json::Value) -> String {
    let digest = Sha256::digest(description.to_string().as_bytes());
    hex::encode(&digest[..8])
}

/// The key of a speech dataset's features: the dataset name, the settings that change the
/// frames (`features`), and every source file as `[id, size, modified time in seconds]`, in
/// order. Used by every speech corpus (FSDD, TIMIT), so a key means the same everywhere.
pub fn features_key<'a>(
    dataset: &str,
    features: serde_json::Value,
    files: impl IntoIterator<Item = (String, &'a Path)>,
) -> Result<String, DataError> {
    let mut listed = Vec::new();
    for (id, path) in files {
        let meta = std::fs::metadata(path).map_err(|source| DataError::Io {
            path: path.into(),
            source,
        })?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        listed.push(serde_json::json!([id, meta.len(), mtime]));
    }
    Ok(cache_key(&serde_json::json!({
        "dataset": dataset, "features": features, "files": listed,
    })))
}

/// The cache file for a key.
pub fn cache_path(cache_dir: &Path, key: &str) -> PathBuf {
    cache_dir.join(format!("features-{key}.bin"))
}

fn data_bytes(data: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 4);
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Serializes features under a key (the bytes of a cache file).
pub fn encode(key: &str, f: &UtteranceFeatures) -> Vec<u8> {
    let body = data_bytes(&f.data);
    let header = Header {
        key: key.into(),
        dim: f.dim,
        utterances: f
            .ids
            .iter()
            .cloned()
            .zip(f.frames.iter().copied())
            .collect(),
        data_sha256: hex::encode(Sha256::digest(&body)),
    };
    let json = serde_json::to_vec(&header).expect("header serializes");
    let mut out = Vec::with_capacity(16 + json.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&body);
    out
}

/// Parses a cache file's bytes, checking magic, key, length and data checksum.
pub fn decode(bytes: &[u8], key: &str) -> Result<UtteranceFeatures, String> {
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err("not a harmonium feature cache (bad magic)".into());
    }
    let hlen = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let json = bytes
        .get(16..16usize.saturating_add(hlen))
        .ok_or("header runs past the end of the file")?;
    let header: Header =
        serde_json::from_slice(json).map_err(|e| format!("unreadable header: {e}"))?;
    if header.key != key {
        return Err(format!("key {} instead of {key}", header.key));
    }
    let body = &bytes[16 + hlen..];
    let frames: usize = header.utterances.iter().map(|u| u.1).sum();
    let want = frames
        .checked_mul(header.dim)
        .and_then(|n| n.checked_mul(4))
        .ok_or("sizes overflow")?;
    if body.len() != want {
        return Err(format!(
            "{} data bytes where the header promises {want}",
            body.len()
        ));
    }
    if hex::encode(Sha256::digest(body)) != header.data_sha256 {
        return Err("data checksum mismatch".into());
    }
    let data = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    let (ids, frames) = header.utterances.into_iter().unzip();
    Ok(UtteranceFeatures {
        ids,
        frames,
        dim: header.dim,
        data,
    })
}

fn save(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("part{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Returns the cached features for `key`, or computes them with `build` and saves them.
/// A cache file that cannot be written is not an error (the report says so).
pub fn load_or_build(
    cache_dir: &Path,
    key: &str,
    build: impl FnOnce() -> Result<UtteranceFeatures, DataError>,
) -> Result<(UtteranceFeatures, CacheReport), DataError> {
    let path = cache_path(cache_dir, key);
    let previous = match std::fs::read(&path) {
        Ok(bytes) => match decode(&bytes, key) {
            Ok(f) => {
                return Ok((
                    f,
                    CacheReport {
                        path,
                        status: CacheStatus::Loaded,
                    },
                ));
            }
            Err(reason) => Some(reason),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(e.to_string()),
    };
    let features = build()?;
    let status = match save(&path, &encode(key, &features)) {
        Err(e) => CacheStatus::NotSaved {
            reason: e.to_string(),
        },
        Ok(()) => match previous {
            Some(reason) => CacheStatus::Rebuilt { reason },
            None => CacheStatus::Built,
        },
    };
    Ok((features, CacheReport { path, status }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> UtteranceFeatures {
        UtteranceFeatures {
            ids: vec!["a".into(), "b".into()],
            frames: vec![2, 1],
            dim: 2,
            data: vec![1.0, -2.5, f32::EPSILON, 4.0, 5.0, -0.0],
        }
    }

    #[test]
    fn cache_round_trips_and_a_corrupted_file_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let key = cache_key(&serde_json::json!({"bands": 40}));
        assert_eq!(key.len(), 16);
        let builds = std::cell::Cell::new(0);
        let build = || {
            builds.set(builds.get() + 1);
            Ok(sample())
        };
        let (f, r) = load_or_build(dir.path(), &key, build).unwrap();
        assert_eq!((f, &r.status), (sample(), &CacheStatus::Built));
        assert_eq!(r.path, dir.path().join(format!("features-{key}.bin")));
        let (f, r) = load_or_build(dir.path(), &key, build).unwrap();
        assert_eq!((f, &r.status), (sample(), &CacheStatus::Loaded));
        assert_eq!(builds.get(), 1);

        // Flip one data byte: the checksum catches it.
        let mut bytes = std::fs::read(&r.path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0x40;
        std::fs::write(&r.path, &bytes).unwrap();
        let (f, r2) = load_or_build(dir.path(), &key, build).unwrap();
        assert_eq!(f, sample());
        assert!(
            matches!(&r2.status, CacheStatus::Rebuilt { reason } if reason.contains("checksum")),
            "{:?}",
            r2.status
        );
        // Truncation, garbage and another key's file are rebuilt too.
        for (bad, why) in [
            (bytes[..bytes.len() - 4].to_vec(), "data bytes"),
            (b"garbage".to_vec(), "magic"),
            (encode("otherkey", &sample()), "key"),
        ] {
            std::fs::write(&r.path, bad).unwrap();
            let (f, r3) = load_or_build(dir.path(), &key, build).unwrap();
            assert_eq!(f, sample());
            assert!(
                matches!(&r3.status, CacheStatus::Rebuilt { reason } if reason.contains(why)),
                "{why}: {:?}",
                r3.status
            );
        }
        assert_eq!(builds.get(), 5);
        assert_eq!(
            load_or_build(dir.path(), &key, build).unwrap().1.status,
            CacheStatus::Loaded
        );
    }

    #[test]
    fn features_key_follows_settings_files_and_their_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
        std::fs::write(&a, b"12").unwrap();
        std::fs::write(&b, b"345").unwrap();
        let key = |dataset: &str, bands: u32| {
            let files = [
                ("a".to_string(), a.as_path()),
                ("b".to_string(), b.as_path()),
            ];
            features_key(dataset, serde_json::json!({"bands": bands}), files).unwrap()
        };
        let base = key("fsdd", 40);
        assert_eq!(base.len(), 16);
        assert_eq!(key("fsdd", 40), base);
        assert_ne!(key("timit", 40), base);
        assert_ne!(key("fsdd", 20), base);
        std::fs::write(&b, b"3456").unwrap();
        assert_ne!(key("fsdd", 40), base, "a file that changed size");
        let missing = [("c".to_string(), dir.path().join("c.wav"))];
        let e = features_key(
            "fsdd",
            serde_json::json!({}),
            missing.iter().map(|(i, p)| (i.clone(), p.as_path())),
        );
        assert!(e.unwrap_err().to_string().contains("c.wav"));
    }

    #[test]
    fn offsets_accumulate_frames() {
        assert_eq!(sample().offsets(), vec![0, 2, 3]);
        assert_eq!(sample().total_frames(), 3);
    }
}
