//! A fingerprint of the files a dataset is read from: every file under its folder, as
//! `[relative path, size, modified time in seconds]` in path order, hashed. Adding, removing,
//! replacing or editing a file of a corpus changes it, so whatever was computed from the old
//! files (a cached pretrained stack) is not reused for the new ones. Files are listed, not
//! read, so it costs a directory walk.

use std::path::{Path, PathBuf};

use crate::DataError;
use crate::dataset::DatasetConfig;
use crate::feature_cache::cache_key;

/// The folder a dataset's files live in: `DATA_DIR/mnist`, `DATA_DIR/fsdd`, or TIMIT's `path`.
pub fn source_folder(cfg: &DatasetConfig, data_dir: &Path) -> PathBuf {
    match (cfg.name.as_str(), &cfg.path) {
        ("timit", Some(path)) => path.clone(),
        (name, _) => data_dir.join(name),
    }
}

/// The fingerprint of the files of `cfg`'s dataset (16 hex digits). A folder that does not
/// exist yet has the fingerprint of no files.
pub fn fingerprint(cfg: &DatasetConfig, data_dir: &Path) -> Result<String, DataError> {
    let root = source_folder(cfg, data_dir);
    let mut files = Vec::new();
    if root.is_dir() {
        walk(&root, &root, &mut files)?;
    }
    files.sort_by(|a, b| a[0].as_str().cmp(&b[0].as_str()));
    Ok(cache_key(&serde_json::json!({
        "dataset": cfg.name, "files": files,
    })))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<serde_json::Value>) -> Result<(), DataError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            walk(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            out.push(serde_json::json!([
                rel.to_string_lossy(),
                meta.len(),
                mtime
            ]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_or_changing_a_file_changes_the_fingerprint() {
        let data = tempfile::tempdir().unwrap();
        let cfg: DatasetConfig = serde_json::from_str(r#"{"name":"fsdd"}"#).unwrap();
        let none = fingerprint(&cfg, data.path()).unwrap();
        let rec = data.path().join("fsdd/recordings");
        std::fs::create_dir_all(&rec).unwrap();
        std::fs::write(rec.join("0_george_0.wav"), b"one").unwrap();
        let one = fingerprint(&cfg, data.path()).unwrap();
        assert_ne!(none, one);
        assert_eq!(one, fingerprint(&cfg, data.path()).unwrap(), "stable");
        std::fs::write(rec.join("1_george_0.wav"), b"two").unwrap();
        let two = fingerprint(&cfg, data.path()).unwrap();
        assert_ne!(one, two, "a file added");
        std::fs::write(rec.join("1_george_0.wav"), b"two, longer").unwrap();
        assert_ne!(
            two,
            fingerprint(&cfg, data.path()).unwrap(),
            "a file changed"
        );
        let mnist = DatasetConfig::mnist();
        assert_ne!(
            fingerprint(&mnist, data.path()).unwrap(),
            one,
            "another folder"
        );
    }
}
