//! Log-mel filterbank frames (and log energy) from a waveform.
//!
//! For each frame t of W samples starting at sample t·H (W = window, H = hop; a signal shorter
//! than one window is zero-padded to one frame, and a trailing partial frame is dropped, so
//! `T = 1 + ⌊(N − W)/H⌋` frames for N ≥ W samples):
//!
//! ```text
//! x_n      = s_{tH+n} − mean_n(s_{tH+n})                       DC offset removed, n = 0..W−1
//! E_t      = ln max(Σ_n x_n², ε)                               log energy (before pre-emphasis)
//! y_n      = (x_n − α x_{n−1}) · w_n,   x_{−1} = x_0            pre-emphasis α, Hamming window
//! w_n      = 0.54 − 0.46 cos(2πn / (W − 1))
//! P_k      = |Σ_n y_n e^{−2πikn/K}|²,  k = 0..K/2               power spectrum, K = next 2ᵖ ≥ W
//! f_{t,j}  = ln max(Σ_k T_j(mel(k·sr/K)) P_k, ε)               band j = 0..B−1
//! ```
//!
//! with `mel(f) = 2595 log10(1 + f/700)` (HTK), ε = `f32::EPSILON`, and triangular filters T_j in
//! the mel domain whose B + 2 edges are spaced evenly from mel(0) to mel(sr/2): filter j rises from
//! edge j to 1 at edge j+1 and falls to 0 at edge j+2.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex, num_complex::Complex};

use crate::speech::SpeechConfig;
use crate::{DataError, Matrix};

/// HTK's mel scale.
pub fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// Frames of `window` samples every `hop` samples in a signal of `samples` samples: one for a
/// signal no longer than a window, else `1 + ⌊(samples − window)/hop⌋`.
pub fn frame_count(samples: usize, window: usize, hop: usize) -> usize {
    if samples <= window {
        1
    } else {
        1 + (samples - window) / hop
    }
}

/// Triangular filters on the mel scale over the bins of a K-point real FFT.
#[derive(Debug, Clone)]
pub struct MelFilterbank {
    /// B + 2 band edges in mel.
    edges: Vec<f64>,
    /// For each band: the first FFT bin with a non-zero weight, and the weights from there on.
    weights: Vec<(usize, Vec<f32>)>,
    bin_hz: f64,
}

impl MelFilterbank {
    pub fn new(bands: usize, fft_size: usize, sample_rate: u32) -> Self {
        let top = hz_to_mel(sample_rate as f64 / 2.0);
        let edges: Vec<f64> = (0..bands + 2)
            .map(|i| top * i as f64 / (bands + 1) as f64)
            .collect();
        let bin_hz = sample_rate as f64 / fft_size as f64;
        let mut fb = MelFilterbank {
            edges,
            weights: Vec::new(),
            bin_hz,
        };
        fb.weights = (0..bands)
            .map(|j| {
                let w: Vec<f32> = (0..=fft_size / 2)
                    .map(|k| fb.weight(j, k as f64 * bin_hz) as f32)
                    .collect();
                let first = w.iter().position(|&x| x > 0.0).unwrap_or(w.len());
                let last = w.iter().rposition(|&x| x > 0.0).map_or(first, |l| l + 1);
                (first, w[first..last].to_vec())
            })
            .collect();
        fb
    }

    pub fn bands(&self) -> usize {
        self.weights.len()
    }

    /// The weight `T_j(mel(hz))` of band j at a frequency.
    pub fn weight(&self, band: usize, hz: f64) -> f64 {
        let (l, c, r) = (self.edges[band], self.edges[band + 1], self.edges[band + 2]);
        let m = hz_to_mel(hz);
        if m > l && m <= c {
            (m - l) / (c - l)
        } else if m > c && m < r {
            (r - m) / (r - c)
        } else {
            0.0
        }
    }

    /// The frequency where band j's weight is 1.
    pub fn centre_hz(&self, band: usize) -> f64 {
        mel_to_hz(self.edges[band + 1])
    }

    /// Number of FFT bins with a non-zero weight in band j.
    pub fn bins_in_band(&self, band: usize) -> usize {
        self.weights[band].1.len()
    }

    /// Band energies `Σ_k T_j P_k` of a power spectrum of K/2 + 1 bins.
    pub fn apply(&self, power: &[f32], out: &mut [f32]) {
        for ((first, w), o) in self.weights.iter().zip(out.iter_mut()) {
            *o = w.iter().zip(&power[*first..]).map(|(a, b)| a * b).sum();
        }
    }

    /// Width of one FFT bin in Hz.
    pub fn bin_hz(&self) -> f64 {
        self.bin_hz
    }
}

/// Computes static frames (log-mel bands, then log energy when enabled) for one sample rate.
pub struct FeatureExtractor {
    window: usize,
    hop: usize,
    preemphasis: f32,
    energy: bool,
    hamming: Vec<f32>,
    filterbank: MelFilterbank,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

impl FeatureExtractor {
    pub fn new(cfg: &SpeechConfig, sample_rate: u32) -> Result<Self, DataError> {
        cfg.validate()?;
        let samples = |ms: f64| (sample_rate as f64 * ms / 1000.0).round() as usize;
        let (window, hop) = (samples(cfg.window_ms), samples(cfg.hop_ms));
        if window < 2 || hop < 1 {
            return Err(DataError::Config(format!(
                "window_ms {} and hop_ms {} give {window} and {hop} samples at {sample_rate} Hz",
                cfg.window_ms, cfg.hop_ms
            )));
        }
        let fft_size = window.next_power_of_two();
        if cfg.bands > fft_size / 4 {
            return Err(DataError::Config(format!(
                "{} mel bands are too many for a {fft_size}-point FFT at {sample_rate} Hz \
                 (at most {})",
                cfg.bands,
                fft_size / 4
            )));
        }
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(fft_size);
        let hamming = (0..window)
            .map(|n| {
                (0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / (window - 1) as f64).cos())
                    as f32
            })
            .collect();
        Ok(FeatureExtractor {
            window,
            hop,
            preemphasis: cfg.preemphasis as f32,
            energy: cfg.energy,
            hamming,
            filterbank: MelFilterbank::new(cfg.bands, fft_size, sample_rate),
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; fft_size / 2 + 1],
            fft,
        })
    }

    /// Window length W in samples.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Hop H in samples.
    pub fn hop(&self) -> usize {
        self.hop
    }

    pub fn fft_size(&self) -> usize {
        self.input.len()
    }

    pub fn filterbank(&self) -> &MelFilterbank {
        &self.filterbank
    }

    /// Columns of [`Self::static_features`]: bands, plus one for log energy.
    pub fn static_dim(&self) -> usize {
        self.filterbank.bands() + usize::from(self.energy)
    }

    /// One row per frame: `[f_{t,0} … f_{t,B−1}, E_t]`.
    pub fn static_features(&mut self, samples: &[f32]) -> Matrix {
        let frames = frame_count(samples.len(), self.window, self.hop);
        let dim = self.static_dim();
        let mut data = vec![0.0f32; frames * dim];
        let mut frame = vec![0.0f32; self.window];
        for (t, row) in data.chunks_exact_mut(dim).enumerate() {
            let start = t * self.hop;
            let end = (start + self.window).min(samples.len());
            frame.fill(0.0);
            frame[..end - start].copy_from_slice(&samples[start..end]);
            self.frame_features(&mut frame, row);
        }
        Matrix::new(frames, dim, data)
    }

    fn frame_features(&mut self, x: &mut [f32], row: &mut [f32]) {
        let mean = x.iter().sum::<f32>() / x.len() as f32;
        x.iter_mut().for_each(|s| *s -= mean);
        let bands = self.filterbank.bands();
        if self.energy {
            let e: f32 = x.iter().map(|s| s * s).sum();
            row[bands] = e.max(f32::EPSILON).ln();
        }
        self.input.fill(0.0);
        let a = self.preemphasis;
        for n in (0..x.len()).rev() {
            let prev = if n == 0 { x[0] } else { x[n - 1] };
            self.input[n] = (x[n] - a * prev) * self.hamming[n];
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers were made by the plan");
        for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
            *p = c.norm_sqr();
        }
        self.filterbank.apply(&self.power, &mut row[..bands]);
        row[..bands]
            .iter_mut()
            .for_each(|v| *v = v.max(f32::EPSILON).ln());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SpeechConfig {
        SpeechConfig::default()
    }

    fn tone(hz: f64, sample_rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (8000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / sample_rate as f64).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn frame_counts_follow_window_and_hop() {
        let mut fx = FeatureExtractor::new(&cfg(), 8000).unwrap();
        assert_eq!((fx.window(), fx.hop(), fx.fft_size()), (200, 80, 256));
        // One second at 8 kHz: 1 + ⌊(8000 − 200)/80⌋ = 98 frames of 40 bands + energy.
        let m = fx.static_features(&vec![1.0; 8000]);
        assert_eq!((m.rows, m.cols), (98, 41));
        assert_eq!(
            fx.static_features(&vec![1.0; 150]).rows,
            1,
            "short signal padded"
        );
        assert_eq!(fx.static_features(&vec![1.0; 279]).rows, 1);
        assert_eq!(fx.static_features(&vec![1.0; 280]).rows, 2);
        let fx16 = FeatureExtractor::new(&cfg(), 16000).unwrap();
        assert_eq!(
            (fx16.window(), fx16.hop(), fx16.fft_size()),
            (400, 160, 512)
        );
    }

    #[test]
    fn filterbank_edges_follow_the_mel_scale_and_every_band_has_bins() {
        assert!((hz_to_mel(1000.0) - 1000.0).abs() < 0.5, "1 kHz ≈ 1000 mel");
        assert!((mel_to_hz(hz_to_mel(3210.0)) - 3210.0).abs() < 1e-9);
        let fb = MelFilterbank::new(40, 256, 8000);
        for j in 0..40 {
            assert!(fb.bins_in_band(j) >= 1, "band {j} is empty");
            assert!((fb.weight(j, fb.centre_hz(j)) - 1.0).abs() < 1e-9);
        }
        assert!(fb.centre_hz(39) < 4000.0 && fb.centre_hz(0) > 0.0);
    }

    /// The FFT-based log-mel frame equals a direct evaluation of the defining sums (naive DFT,
    /// triangle weights evaluated from the formula) for a pure tone.
    #[test]
    fn filterbank_of_a_pure_tone_matches_a_direct_computation() {
        let sr = 8000;
        let c = cfg();
        let mut fx = FeatureExtractor::new(&c, sr).unwrap();
        let signal = tone(1234.5, sr, 200);
        let got = fx.static_features(&signal);
        assert_eq!(got.rows, 1);

        let (w, k_size) = (200usize, 256usize);
        let mean = signal.iter().map(|&s| s as f64).sum::<f64>() / w as f64;
        let x: Vec<f64> = signal.iter().map(|&s| s as f64 - mean).collect();
        let energy = x.iter().map(|v| v * v).sum::<f64>().ln();
        let y: Vec<f64> = (0..w)
            .map(|n| {
                let prev = if n == 0 { x[0] } else { x[n - 1] };
                let ham =
                    0.54 - 0.46 * (2.0 * std::f64::consts::PI * n as f64 / (w - 1) as f64).cos();
                (x[n] - 0.97 * prev) * ham
            })
            .collect();
        let power: Vec<f64> = (0..=k_size / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (n, v) in y.iter().enumerate() {
                    let ph = -2.0 * std::f64::consts::PI * (k * n) as f64 / k_size as f64;
                    re += v * ph.cos();
                    im += v * ph.sin();
                }
                re * re + im * im
            })
            .collect();
        let top = hz_to_mel(4000.0);
        for j in 0..40 {
            let (l, m, r) = (
                top * j as f64 / 41.0,
                top * (j + 1) as f64 / 41.0,
                top * (j + 2) as f64 / 41.0,
            );
            let e: f64 = power
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let mel = hz_to_mel(k as f64 * sr as f64 / k_size as f64);
                    let t = if mel > l && mel <= m {
                        (mel - l) / (m - l)
                    } else if mel > m && mel < r {
                        (r - mel) / (r - m)
                    } else {
                        0.0
                    };
                    t * p
                })
                .sum();
            let want = e.max(f32::EPSILON as f64).ln();
            let have = got.row(0)[j] as f64;
            assert!(
                (have - want).abs() < 1e-3 * want.abs().max(1.0),
                "band {j}: fft {have} vs direct {want}"
            );
        }
        assert!((got.row(0)[40] as f64 - energy).abs() < 1e-4 * energy.abs());
    }

    #[test]
    fn a_pure_tone_puts_its_energy_in_the_band_centred_on_it() {
        for (sr, band) in [(8000u32, 20usize), (8000, 33), (16000, 12)] {
            let mut fx = FeatureExtractor::new(&cfg(), sr).unwrap();
            let f0 = fx.filterbank().centre_hz(band);
            let m = fx.static_features(&tone(f0, sr, sr as usize / 2));
            for t in 0..m.rows {
                let row = &m.row(t)[..40];
                let best = (0..40).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
                assert_eq!(best, band, "{f0:.0} Hz at {sr} Hz, frame {t}: {row:?}");
                for (j, v) in row.iter().enumerate() {
                    if j.abs_diff(band) >= 3 {
                        // at least 20 dB below the tone's band
                        assert!(
                            row[band] - v > 4.6,
                            "band {j} too loud: {v} vs {}",
                            row[band]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn silence_hits_the_floor_instead_of_minus_infinity() {
        let mut fx = FeatureExtractor::new(&cfg(), 8000).unwrap();
        let m = fx.static_features(&[0.0; 400]);
        assert!(m.data.iter().all(|&v| v == f32::EPSILON.ln()));
    }
}
