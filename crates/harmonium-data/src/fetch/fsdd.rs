//! FSDD acquisition: the recordings of release v1.0.10, copied from the mirror
//! (`fsdd/recordings/*.wav`) or unpacked from the upstream release archive, and verified all at
//! once: the SHA-256 of the text `sha256sum *.wav` prints in the recordings folder (lines
//! `<hex>  <name>\n`, names in byte order) must be [`LISTING_SHA256`].

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use super::{Downloader, FetchReport, Install, Notes, acquire, check_digest, sha256_hex};
use crate::DataError;

/// SHA-256 of the `sha256sum *.wav` listing of the v1.0.10 recordings.
pub const LISTING_SHA256: &str = "1801eae019c063377d98f831d3f93574f259475df7332bb0e3d1b080fb5e6959";

/// The upstream release archive.
pub const ARCHIVE_URL: &str =
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz";

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
        out.push_str(&format!("{}  {n}\n", sha256_hex(&bytes)));
    }
    Ok(out)
}

/// SHA-256 (hex) of [`recordings_listing`].
pub fn listing_sha256(dir: &Path) -> Result<String, DataError> {
    Ok(sha256_hex(recordings_listing(dir)?.as_bytes()))
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
    let mut notes = Notes::new(log);
    if dest.is_dir() {
        let h = listing_sha256(&dest)?;
        if h == LISTING_SHA256 {
            notes.say("recordings: present, sha256 of the listing ok".into());
            return Ok(notes.report);
        }
        notes.say(format!(
            "recordings: present but listing sha256 {h} != {LISTING_SHA256}, fetching again"
        ));
    }
    // Each source fills a staging folder, which is verified and then moved into place.
    let part = dir.join("recordings.part");
    let fresh = || -> Result<(), String> {
        let _ = std::fs::remove_dir_all(&part);
        std::fs::create_dir_all(&part).map_err(|e| format!("{}: {e}", part.display()))
    };
    let install = || -> Result<(), String> {
        check_digest(
            "listing sha256",
            &listing_sha256(&part).map_err(|e| e.to_string())?,
            LISTING_SHA256,
        )?;
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&part, &dest).map_err(|e| format!("{}: {e}", dest.display()))
    };
    let downloader = Downloader::new(Duration::from_secs(120), 500 << 20);
    let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
    let mut failures = Vec::new();
    let got = acquire(
        mirror,
        &urls,
        &downloader,
        Install {
            from_mirror: &mut |m: &Path| {
                let src = m.join("fsdd").join("recordings");
                fresh()
                    .and_then(|()| copy_wavs(&src, &part))
                    .and_then(|n| install().map(|()| n))
                    .map(|n| format!("recordings: {n} files copied from mirror {}", m.display()))
                    .map_err(|e| format!("{}: {e}", src.display()))
            },
            from_download: &mut |bytes: &[u8], url: &str| {
                fresh()
                    .and_then(|()| extract_recordings(bytes, &part))
                    .and_then(|n| install().map(|()| n))
                    .map(|n| format!("recordings: {n} files unpacked from {url}"))
            },
        },
        &mut failures,
    );
    if let Some(line) = got {
        notes.say(line);
        return Ok(notes.report);
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::fsdd::{RECORDINGS, list_recordings};

    fn mirror() -> PathBuf {
        crate::mirror_dir().expect(
            "set HARMONIUM_DATA_MIRROR to a directory holding fsdd/recordings/*.wav (e.g. \
             /work/shared/data) to run the FSDD tests",
        )
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
}
