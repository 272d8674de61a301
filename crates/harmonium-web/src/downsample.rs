//! Min/max-preserving downsampling of a series to a bounded number of points.

/// Indices of the points to keep so that at most `max_points` remain (`max_points` ≥ 4): the
/// first and last points, and in each of `(max_points − 2) / 2` equal buckets between them the
/// smallest and the largest value, in order. Missing values (`None`) are kept only where a
/// bucket holds nothing else. A series that already fits is kept whole.
pub fn min_max_downsample(values: &[Option<f64>], max_points: usize) -> Vec<usize> {
    let n = values.len();
    let max_points = max_points.max(4);
    if n <= max_points {
        return (0..n).collect();
    }
    let buckets = (max_points - 2) / 2;
    let inner = n - 2;
    let mut keep = vec![0];
    for b in 0..buckets {
        let lo = 1 + b * inner / buckets;
        let hi = 1 + (b + 1) * inner / buckets;
        let mut min: Option<(usize, f64)> = None;
        let mut max: Option<(usize, f64)> = None;
        for (i, v) in values.iter().enumerate().take(hi).skip(lo) {
            if let Some(v) = *v {
                if min.is_none_or(|(_, m)| v < m) {
                    min = Some((i, v));
                }
                if max.is_none_or(|(_, m)| v > m) {
                    max = Some((i, v));
                }
            }
        }
        match (min, max) {
            (Some((a, _)), Some((b, _))) if a != b => {
                keep.push(a.min(b));
                keep.push(a.max(b));
            }
            (Some((a, _)), _) => keep.push(a),
            _ if lo < hi => keep.push(lo),
            _ => {}
        }
    }
    keep.push(n - 1);
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_are_kept_whole() {
        let v: Vec<Option<f64>> = (0..10).map(|i| Some(i as f64)).collect();
        assert_eq!(min_max_downsample(&v, 100), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn downsampling_bounds_the_points_and_keeps_the_extremes() {
        let mut v: Vec<Option<f64>> = (0..10_000).map(|i| Some((i as f64 * 0.01).sin())).collect();
        v[4321] = Some(-7.0);
        v[8765] = Some(9.0);
        v[100] = None;
        let keep = min_max_downsample(&v, 200);
        assert!(keep.len() <= 200, "{}", keep.len());
        assert!(
            keep.windows(2).all(|w| w[0] < w[1]),
            "indices stay in order"
        );
        assert!(
            keep.contains(&4321) && keep.contains(&8765),
            "the minimum and maximum survive"
        );
        assert_eq!((keep[0], *keep.last().unwrap()), (0, 9_999));
    }
}
