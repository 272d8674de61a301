//! The IDX file format of MNIST: a big-endian header (magic, dimension sizes) followed by bytes.
//! Files may be gzip-compressed (`.gz`), as distributed.

use std::io::Read;
use std::path::Path;

use crate::DataError;

/// Magic number of an unsigned-byte IDX file with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an unsigned-byte IDX file with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Reads a whole file, decompressing it if its name ends in `.gz`.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.into(),
        source,
    })?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::BadFile {
                path: path.into(),
                message: format!("not a valid gzip file ({e})"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Parses an IDX image file (magic 0x803: count × rows × cols bytes).
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<IdxImages, DataError> {
    let bad = |message: String| DataError::BadFile {
        path: path.into(),
        message,
    };
    if bytes.len() < 16 {
        return Err(bad(format!(
            "file is {} bytes, shorter than the 16-byte IDX image header",
            bytes.len()
        )));
    }
    let magic = be_u32(bytes, 0);
    if magic != IMAGES_MAGIC {
        return Err(bad(format!(
            "wrong magic number 0x{magic:08x}, expected 0x{IMAGES_MAGIC:08x} (IDX images)"
        )));
    }
    let (count, rows, cols) = (
        be_u32(bytes, 4) as usize,
        be_u32(bytes, 8) as usize,
        be_u32(bytes, 12) as usize,
    );
    let expected = count
        .checked_mul(rows)
        .and_then(|n| n.checked_mul(cols))
        .ok_or_else(|| {
            bad(format!(
                "impossible header: {count} images of {rows}×{cols}"
            ))
        })?;
    let body = &bytes[16..];
    if body.len() < expected {
        return Err(bad(format!(
            "truncated: header says {count} images of {rows}×{cols} ({expected} bytes) but only {} bytes follow",
            body.len()
        )));
    }
    if body.len() > expected {
        return Err(bad(format!(
            "{} unexpected bytes after {count} images",
            body.len() - expected
        )));
    }
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: body.to_vec(),
    })
}

/// Parses an IDX label file (magic 0x801: count bytes).
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    let bad = |message: String| DataError::BadFile {
        path: path.into(),
        message,
    };
    if bytes.len() < 8 {
        return Err(bad(format!(
            "file is {} bytes, shorter than the 8-byte IDX label header",
            bytes.len()
        )));
    }
    let magic = be_u32(bytes, 0);
    if magic != LABELS_MAGIC {
        return Err(bad(format!(
            "wrong magic number 0x{magic:08x}, expected 0x{LABELS_MAGIC:08x} (IDX labels)"
        )));
    }
    let count = be_u32(bytes, 4) as usize;
    let body = &bytes[8..];
    if body.len() != count {
        let what = if body.len() < count {
            "truncated"
        } else {
            "too long"
        };
        return Err(bad(format!(
            "{what}: header says {count} labels but {} bytes follow",
            body.len()
        )));
    }
    Ok(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_file(count: u32, rows: u32, cols: u32, body: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [IMAGES_MAGIC, count, rows, cols] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend((0..body).map(|i| i as u8));
        b
    }

    #[test]
    fn good_image_file_parses_shape_and_pixels() {
        let f = image_file(2, 3, 4, 24);
        let img = parse_images(&f, Path::new("x.idx")).unwrap();
        assert_eq!((img.count, img.rows, img.cols), (2, 3, 4));
        assert_eq!(img.pixels[23], 23);
    }

    #[test]
    fn wrong_magic_is_reported_with_the_file_name() {
        let mut f = image_file(2, 3, 4, 24);
        f[3] = 0x01;
        let err = parse_images(&f, Path::new("train-images.gz"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("train-images.gz") && err.contains("wrong magic"),
            "{err}"
        );
    }

    #[test]
    fn truncated_image_file_is_reported() {
        let f = image_file(2, 3, 4, 20);
        let err = parse_images(&f, Path::new("a")).unwrap_err().to_string();
        assert!(
            err.contains("truncated") && err.contains("24 bytes"),
            "{err}"
        );
        let err = parse_images(&f[..10], Path::new("a"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("header"), "{err}");
    }

    #[test]
    fn label_file_checks_magic_and_length() {
        let mut f = LABELS_MAGIC.to_be_bytes().to_vec();
        f.extend_from_slice(&3u32.to_be_bytes());
        f.extend_from_slice(&[7, 1, 9]);
        assert_eq!(parse_labels(&f, Path::new("l")).unwrap(), vec![7, 1, 9]);
        assert!(
            parse_labels(&f[..10], Path::new("l"))
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let err = parse_labels(&image_file(1, 1, 1, 1), Path::new("l"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("wrong magic"), "{err}");
    }

    #[test]
    fn corrupt_gzip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("broken.gz");
        std::fs::write(&p, b"not gzip at all").unwrap();
        let err = read_maybe_gz(&p).unwrap_err().to_string();
        assert!(err.contains("broken.gz") && err.contains("gzip"), "{err}");
    }
}
