//! Dynamic features: deltas by the standard regression formula.
//!
//! ```text
//! d_t = Σ_{k=1..K} k (c_{t+k} − c_{t−k}) / (2 Σ_{k=1..K} k²)
//! ```
//!
//! over ±K frames (K = 2 by default), with c_{t} for t outside 0..T−1 replaced by the first or
//! last frame. Delta-deltas are the deltas of the deltas.

use crate::Matrix;

/// The regression window used for deltas and delta-deltas.
pub const DELTA_WINDOW: usize = 2;

/// The deltas of each column of `m` (rows are frames) over ±`k` frames.
pub fn deltas(m: &Matrix, k: usize) -> Matrix {
    let (t_max, dim) = (m.rows, m.cols);
    let denom = 2.0 * (1..=k).map(|i| (i * i) as f32).sum::<f32>();
    let mut out = vec![0.0f32; m.data.len()];
    for t in 0..t_max {
        let row = &mut out[t * dim..(t + 1) * dim];
        for i in 1..=k {
            let ahead = m.row((t + i).min(t_max - 1));
            let behind = m.row(t.saturating_sub(i));
            for ((o, a), b) in row.iter_mut().zip(ahead).zip(behind) {
                *o += i as f32 * (a - b);
            }
        }
        row.iter_mut().for_each(|o| *o /= denom);
    }
    Matrix::new(t_max, dim, out)
}

/// `[c, Δc, ΔΔc]` side by side: three times the columns of `m`.
pub fn with_deltas(m: &Matrix, k: usize) -> Matrix {
    let d = deltas(m, k);
    let dd = deltas(&d, k);
    let dim = m.cols;
    let mut data = Vec::with_capacity(m.data.len() * 3);
    for t in 0..m.rows {
        data.extend_from_slice(m.row(t));
        data.extend_from_slice(d.row(t));
        data.extend_from_slice(dd.row(t));
    }
    Matrix::new(m.rows, dim * 3, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_of_a_linear_ramp_are_its_slope_and_delta_deltas_vanish_inside() {
        // Two columns: c_t = 0.5 t + 1 and c_t = −3 t.
        let t_max = 20;
        let data: Vec<f32> = (0..t_max)
            .flat_map(|t| [0.5 * t as f32 + 1.0, -3.0 * t as f32])
            .collect();
        let m = Matrix::new(t_max, 2, data);
        let full = with_deltas(&m, DELTA_WINDOW);
        assert_eq!((full.rows, full.cols), (t_max, 6));
        for t in 0..t_max {
            let r = full.row(t);
            assert_eq!(&r[..2], m.row(t));
            if (2..t_max - 2).contains(&t) {
                assert!(
                    (r[2] - 0.5).abs() < 1e-6 && (r[3] + 3.0).abs() < 1e-5,
                    "{t}: {r:?}"
                );
            }
            if (4..t_max - 4).contains(&t) {
                assert!(r[4].abs() < 1e-6 && r[5].abs() < 1e-5, "{t}: {r:?}");
            }
        }
        // At the edges the repeated frame flattens the slope.
        let r0 = full.row(0);
        assert!(r0[2] > 0.0 && r0[2] < 0.5, "{r0:?}");
    }

    #[test]
    fn deltas_of_a_constant_are_zero_and_one_frame_is_fine() {
        let m = Matrix::new(1, 3, vec![1.0, 2.0, 3.0]);
        assert_eq!(deltas(&m, 2).data, vec![0.0; 3]);
    }
}
