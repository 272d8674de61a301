//! Packed curves: one run's points of one metric in one `metric_curves` row, kept by the writer
//! beside the point rows of `metrics` (see [`crate::summaries`]), so that a per-step aggregation over 100,000 runs reads
//! 100,000 rows instead of 10 million.
//!
//! A point is 16 bytes: the step as a little-endian `i64`, then the value as a little-endian
//! `f64` (NaN where the stored value is NULL), in the order recorded.

/// Bytes per packed point.
pub const POINT_BYTES: usize = 16;

/// Appends one point to a packed curve.
pub fn push(buf: &mut Vec<u8>, step: i64, value: Option<f64>) {
    buf.extend_from_slice(&step.to_le_bytes());
    buf.extend_from_slice(&value.unwrap_or(f64::NAN).to_le_bytes());
}

/// The packed form of these points.
pub fn encode(points: impl IntoIterator<Item = (i64, Option<f64>)>) -> Vec<u8> {
    let mut buf = Vec::new();
    for (step, value) in points {
        push(&mut buf, step, value);
    }
    buf
}

/// The points of a packed curve: (step, value), NaN standing for a missing value. A trailing
/// partial point (a damaged row) is ignored.
pub fn decode(buf: &[u8]) -> impl Iterator<Item = (i64, f64)> + '_ {
    buf.chunks_exact(POINT_BYTES).map(|c| {
        let step = i64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
        let value = f64::from_le_bytes(c[8..].try_into().expect("8 bytes"));
        (step, value)
    })
}

/// Points in a packed curve.
pub fn count(buf: &[u8]) -> usize {
    buf.len() / POINT_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_and_null_is_nan() {
        let buf = encode([(1, Some(0.5)), (2, None), (-3, Some(1e300))]);
        assert_eq!(count(&buf), 3);
        let back: Vec<(i64, f64)> = decode(&buf).collect();
        assert_eq!(back[0], (1, 0.5));
        assert_eq!(back[1].0, 2);
        assert!(back[1].1.is_nan());
        assert_eq!(back[2], (-3, 1e300));
        // A damaged row with a partial point yields the whole points only.
        assert_eq!(decode(&buf[..40]).count(), 2);
    }
}
