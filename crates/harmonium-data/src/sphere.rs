//! NIST SPHERE audio files (TIMIT's `.WAV`): a plain-text header, then the samples.
//!
//! ```text
//! NIST_1A\n
//!    1024\n                         header size in bytes (the samples start there)
//! sample_rate -i 16000\n            `key -type value`: -i integer, -r real, -sN string of N bytes
//! sample_byte_format -s2 01\n       01 little-endian, 10 big-endian
//! …
//! end_head\n                        then padding up to the header size
//! ```
//!
//! Only uncompressed 16-bit PCM is read. Copies of TIMIT whose files are shorten-compressed
//! (`sample_coding -s26 pcm,embedded-shorten-v2.00`) are rejected with a message saying how to
//! decompress them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::DataError;
use crate::wav::{Audio, mix_down};

/// A typed header value.
#[derive(Debug, Clone, PartialEq)]
pub enum SphereValue {
    Int(i64),
    Real(f64),
    Str(String),
}

/// A parsed SPHERE header.
#[derive(Debug, Clone, PartialEq)]
pub struct SphereHeader {
    /// Size of the header in bytes: where the samples start.
    pub size: usize,
    pub fields: BTreeMap<String, SphereValue>,
}

impl SphereHeader {
    /// Parses the header at the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let rest = bytes
            .strip_prefix(b"NIST_1A\n")
            .ok_or("not a NIST SPHERE file (no NIST_1A magic)")?;
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("no header size line")?;
        let size_text = String::from_utf8_lossy(&rest[..nl]);
        let size: usize = size_text
            .trim()
            .parse()
            .map_err(|_| format!("header size {:?} is not a number", size_text.trim()))?;
        let start = 8 + nl + 1;
        if size < start || size > bytes.len() {
            return Err(format!(
                "header size {size} does not fit a file of {} bytes",
                bytes.len()
            ));
        }
        let mut body = &bytes[start..size];
        let mut fields = BTreeMap::new();
        loop {
            let Some(nl) = body.iter().position(|&b| b == b'\n') else {
                return Err("header has no end_head line".into());
            };
            let line = &body[..nl];
            let text = String::from_utf8_lossy(line);
            let trimmed = text.trim_end_matches('\r').trim();
            if trimmed == "end_head" {
                break;
            }
            if !(trimmed.is_empty() || trimmed.starts_with(';')) {
                let (key, value) = parse_field(trimmed)?;
                fields.insert(key, value);
            }
            body = &body[nl + 1..];
        }
        Ok(SphereHeader { size, fields })
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        match self.fields.get(key) {
            Some(SphereValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.fields.get(key) {
            Some(SphereValue::Str(v)) => Some(v),
            _ => None,
        }
    }
}

/// Parses one `key -type value` line. A `-sN` value is the N bytes after the type (the rest
/// of the line when it is shorter: string values spanning lines are not supported).
fn parse_field(text: &str) -> Result<(String, SphereValue), String> {
    let mut parts = text.splitn(3, ' ');
    let key = parts.next().unwrap_or_default();
    let ty = parts
        .next()
        .ok_or(format!("header line {text:?} has no type"))?;
    let value = parts.next().unwrap_or("");
    let bad = || format!("header line {text:?}: value does not match type {ty}");
    let v = match ty {
        "-i" => SphereValue::Int(value.trim().parse().map_err(|_| bad())?),
        "-r" => SphereValue::Real(value.trim().parse().map_err(|_| bad())?),
        s if s.starts_with("-s") => {
            let n: usize = s[2..]
                .parse()
                .map_err(|_| format!("bad string type {s:?}"))?;
            let end = value.char_indices().nth(n).map_or(value.len(), |(i, _)| i);
            SphereValue::Str(value[..end].to_string())
        }
        _ => return Err(format!("header line {text:?} has unknown type {ty:?}")),
    };
    Ok((key.to_string(), v))
}

/// Decodes the samples of a SPHERE file.
pub fn decode_sphere(bytes: &[u8], path: &Path) -> Result<Audio, DataError> {
    let bad = |message: String| DataError::BadFile {
        path: path.into(),
        message,
    };
    let h = SphereHeader::parse(bytes).map_err(|m| bad(format!("SPHERE header: {m}")))?;
    if let Some(coding) = h.str("sample_coding") {
        let coding = coding.trim();
        if coding.contains("shorten") {
            return Err(bad(format!(
                "shorten-compressed SPHERE audio (sample_coding {coding}) is not supported: \
                 decompress the corpus first, e.g. `sph2pipe -f sph IN OUT` (or `sox IN OUT.wav`) \
                 for every .WAV file, or use an uncompressed copy of TIMIT"
            )));
        }
        if coding != "pcm" {
            return Err(bad(format!(
                "unsupported sample_coding {coding}: only 16-bit pcm is read"
            )));
        }
    }
    let width = h.int("sample_n_bytes").unwrap_or(2);
    if width != 2 {
        return Err(bad(format!(
            "sample_n_bytes {width}: only 16-bit samples are read"
        )));
    }
    let rate = h
        .int("sample_rate")
        .filter(|r| *r > 0)
        .ok_or_else(|| bad("SPHERE header has no sample_rate".into()))?;
    let channels = h.int("channel_count").unwrap_or(1).max(1) as usize;
    let big_endian = match h.str("sample_byte_format").map(str::trim) {
        None | Some("01") => false,
        Some("10") => true,
        Some(other) => return Err(bad(format!("unsupported sample_byte_format {other}"))),
    };
    let data = &bytes[h.size..];
    let count = match h.int("sample_count") {
        Some(n) if n >= 0 => n as usize,
        Some(n) => return Err(bad(format!("sample_count {n} is negative"))),
        None => data.len() / (2 * channels),
    };
    let need = count * channels * 2;
    if data.len() < need {
        return Err(bad(format!(
            "truncated: the header promises {count} samples ({need} bytes) but {} bytes follow it",
            data.len()
        )));
    }
    let raw: Vec<i16> = data[..need]
        .chunks_exact(2)
        .map(|b| {
            let b = [b[0], b[1]];
            if big_endian {
                i16::from_be_bytes(b)
            } else {
                i16::from_le_bytes(b)
            }
        })
        .collect();
    Ok(Audio {
        sample_rate: rate as u32,
        samples: mix_down(&raw, channels),
    })
}

/// Reads a SPHERE file.
pub fn read_sphere(path: &Path) -> Result<Audio, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.into(),
        source,
    })?;
    decode_sphere(&bytes, path)
}

/// A SPHERE file holding 16-bit little-endian PCM, as TIMIT ships it (for tests and fixtures).
pub fn encode_sphere(sample_rate: u32, samples: &[i16]) -> Vec<u8> {
    let fields = format!(
        "database_id -s5 TIMIT\nutterance_id -s8 fake_sa1\nchannel_count -i 1\n\
         sample_count -i {}\nsample_rate -i {sample_rate}\nsample_n_bytes -i 2\n\
         sample_byte_format -s2 01\nsample_sig_bits -i 16\nend_head\n",
        samples.len()
    );
    let mut out = format!("NIST_1A\n   1024\n{fields}").into_bytes();
    out.resize(1024, b' ');
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(fields: &str) -> Vec<u8> {
        let mut h = format!("NIST_1A\n   1024\n{fields}").into_bytes();
        h.resize(1024, b' ');
        h
    }

    #[test]
    fn a_timit_header_parses_into_typed_fields_and_samples() {
        let bytes = encode_sphere(16000, &[1, -2, 300, i16::MIN]);
        let h = SphereHeader::parse(&bytes).unwrap();
        assert_eq!(h.size, 1024);
        assert_eq!(h.int("sample_rate"), Some(16000));
        assert_eq!(h.str("utterance_id"), Some("fake_sa1"));
        assert_eq!(h.str("sample_byte_format"), Some("01"));
        let a = decode_sphere(&bytes, Path::new("x.wav")).unwrap();
        assert_eq!(
            (a.sample_rate, a.samples.clone()),
            (16000, vec![1.0, -2.0, 300.0, -32768.0])
        );

        // Big-endian samples, a real-valued field, a comment and a string with spaces.
        let mut b = header(
            "; comment\nsample_rate -i 8000\nsample_count -i 2\nsample_byte_format -s2 10\n\
             duration -r 0.25\nprompt -s11 hello world\nend_head\n",
        );
        b.extend_from_slice(&[0x01, 0x02, 0xff, 0xfe]);
        let h = SphereHeader::parse(&b).unwrap();
        assert_eq!(h.fields["duration"], SphereValue::Real(0.25));
        assert_eq!(h.str("prompt"), Some("hello world"));
        let a = decode_sphere(&b, Path::new("y.wav")).unwrap();
        assert_eq!(a.samples, vec![258.0, -2.0]);
    }

    #[test]
    fn corrupt_headers_are_rejected_with_the_reason() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"RIFF....WAVE".to_vec(), "no NIST_1A magic"),
            (b"NIST_1A\n  abc\n".to_vec(), "not a number"),
            (b"NIST_1A\n   1024\nend_head\n".to_vec(), "does not fit"),
            (header("sample_rate -i 16000\n"), "no end_head"),
            (
                header("sample_rate -i sixteen\nend_head\n"),
                "does not match type -i",
            ),
            (header("sample_rate -x 1\nend_head\n"), "unknown type"),
            (header("sample_rate\nend_head\n"), "has no type"),
        ];
        for (bytes, want) in cases {
            let err = SphereHeader::parse(&bytes).unwrap_err();
            assert!(err.contains(want), "{want:?} not in {err:?}");
        }
        // A header promising more samples than the file holds.
        let mut b = encode_sphere(16000, &[1, 2, 3, 4]);
        b.truncate(b.len() - 2);
        let err = decode_sphere(&b, Path::new("t.wav"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.wav") && err.contains("truncated"), "{err}");
    }

    #[test]
    fn shorten_compressed_files_are_rejected_with_a_way_out() {
        let b = header(
            "sample_rate -i 16000\nsample_count -i 10\nsample_n_bytes -i 2\n\
             sample_coding -s26 pcm,embedded-shorten-v2.00\nend_head\n",
        );
        let err = decode_sphere(&b, Path::new("SI1.WAV"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SI1.WAV") && err.contains("shorten") && err.contains("sph2pipe"),
            "{err}"
        );
        let ulaw = header("sample_rate -i 8000\nsample_coding -s4 ulaw\nend_head\n");
        let err = decode_sphere(&ulaw, Path::new("u"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported sample_coding ulaw"), "{err}");
    }
}
