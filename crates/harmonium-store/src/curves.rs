//! Packed curves, kept by the writer beside the point rows of `metrics` (see
//! [`crate::summaries`]): a running run's points of one metric in one `metric_curves` row, and
//! once it ended, its curve as a segment of a `curve_chunks` row holding [`CHUNK_RUNS`]
//! consecutive run ids. A per-step aggregation over 100,000 runs then reads about 3,000 rows
//! instead of 10 million points.
//!
//! A point is 16 bytes: the step as a little-endian `i64`, then the value as a little-endian
//! `f64` (NaN where the stored value is NULL), in the order recorded. A segment is the run id
//! (`i64`), the number of points (`u32`) and the points.

/// Bytes per packed point.
pub const POINT_BYTES: usize = 16;

/// Run ids per `curve_chunks` row.
pub const CHUNK_RUNS: i64 = 32;

/// The segments of a chunk: (run id, its packed points). A damaged tail is ignored.
pub fn segments(data: &[u8]) -> impl Iterator<Item = (i64, &[u8])> + '_ {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.len() < 12 {
            return None;
        }
        let run = i64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
        let n = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes")) as usize;
        let end = 12 + n * POINT_BYTES;
        let points = rest.get(12..end)?;
        rest = &rest[end..];
        Some((run, points))
    })
}

/// Puts a run's packed points into a chunk, replacing the run's segment if it has one.
pub fn put_segment(data: &mut Vec<u8>, run_id: i64, points: &[u8]) {
    let mut out = Vec::with_capacity(data.len() + 12 + points.len());
    for (run, p) in segments(data) {
        if run != run_id {
            push_segment(&mut out, run, p);
        }
    }
    push_segment(&mut out, run_id, points);
    *data = out;
}

fn push_segment(out: &mut Vec<u8>, run_id: i64, points: &[u8]) {
    out.extend_from_slice(&run_id.to_le_bytes());
    out.extend_from_slice(&((points.len() / POINT_BYTES) as u32).to_le_bytes());
    out.extend_from_slice(points);
}

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

    #[test]
    fn segments_are_put_replaced_and_read_back() {
        let (a, b) = (
            encode([(1, Some(1.0))]),
            encode([(1, Some(2.0)), (2, Some(3.0))]),
        );
        let mut chunk = Vec::new();
        put_segment(&mut chunk, 7, &a);
        put_segment(&mut chunk, 9, &b);
        let got: Vec<(i64, usize)> = segments(&chunk).map(|(r, p)| (r, count(p))).collect();
        assert_eq!(got, vec![(7, 1), (9, 2)]);
        put_segment(&mut chunk, 7, &b);
        let got: Vec<(i64, usize)> = segments(&chunk).map(|(r, p)| (r, count(p))).collect();
        assert_eq!(got, vec![(9, 2), (7, 2)]);
        assert_eq!(
            segments(&chunk[..chunk.len() - 1]).count(),
            1,
            "a damaged tail is left out"
        );
    }
}
