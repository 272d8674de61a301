//! Audio as mono sample sequences: RIFF/WAVE files with 16-bit PCM samples (read with `hound`).
//!
//! Samples keep their 16-bit integer scale (−32768 … 32767) as in HTK and Kaldi, so that the
//! floor of the log filterbank (`f32::EPSILON`) only ever touches digital silence. Files with
//! several channels are mixed down to their mean.

use std::path::Path;

use crate::DataError;

/// A mono recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Samples per second.
    pub sample_rate: u32,
    /// Amplitudes on the 16-bit integer scale.
    pub samples: Vec<f32>,
}

impl Audio {
    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// Reads a 16-bit PCM RIFF/WAVE file.
pub fn read_wav(path: &Path) -> Result<Audio, DataError> {
    let bad = |message: String| DataError::BadFile {
        path: path.into(),
        message,
    };
    let mut reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(source) => DataError::Io {
            path: path.into(),
            source,
        },
        other => bad(format!("not a readable wav file: {other}")),
    })?;
    let spec = reader.spec();
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(bad(format!(
            "expected 16-bit PCM samples, found {} bits ({:?})",
            spec.bits_per_sample, spec.sample_format
        )));
    }
    let channels = spec.channels.max(1) as usize;
    let interleaved: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("truncated or corrupt sample data: {e}")))?;
    Ok(Audio {
        sample_rate: spec.sample_rate,
        samples: mix_down(&interleaved, channels),
    })
}

/// Averages interleaved channels into one.
pub(crate) fn mix_down(interleaved: &[i16], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.iter().map(|&s| s as f32).collect();
    }
    interleaved
        .chunks_exact(channels)
        .map(|c| c.iter().map(|&s| s as f32).sum::<f32>() / channels as f32)
        .collect()
}

/// Writes a mono 16-bit PCM wav file (for tests and fixtures).
pub fn write_wav(path: &Path, sample_rate: u32, samples: &[i16]) -> Result<(), DataError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| DataError::BadFile {
        path: path.into(),
        message: format!("cannot write wav: {e}"),
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for &s in samples {
        w.write_sample(s).map_err(err)?;
    }
    w.finalize().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trips_samples_at_their_integer_scale() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        write_wav(&p, 8000, &[0, 1, -1, 32767, -32768]).unwrap();
        let a = read_wav(&p).unwrap();
        assert_eq!(a.sample_rate, 8000);
        assert_eq!(a.samples, vec![0.0, 1.0, -1.0, 32767.0, -32768.0]);
    }

    #[test]
    fn stereo_is_mixed_down_and_garbage_is_a_bad_file() {
        assert_eq!(mix_down(&[2, 4, -6, 6], 2), vec![3.0, 0.0]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.wav");
        std::fs::write(&p, b"RIFF nonsense").unwrap();
        let err = read_wav(&p).unwrap_err().to_string();
        assert!(
            err.contains("b.wav") && err.contains("not a readable wav"),
            "{err}"
        );
    }
}
