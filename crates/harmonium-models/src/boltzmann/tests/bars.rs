//! Bars and stripes: the count of distinct patterns, and that each is bars or stripes.

use burn::tensor::Device;

use crate::boltzmann::{bars_and_stripes, bars_and_stripes_patterns};

#[test]
fn bars_and_stripes_has_two_times_two_to_the_side_minus_two_distinct_patterns() {
    for (side, count) in [(2, 6), (3, 14), (4, 30)] {
        let patterns = bars_and_stripes_patterns(side);
        assert_eq!(patterns.len(), count, "side {side}");
        let mut distinct = patterns.clone();
        distinct.sort_by(|a, b| a.partial_cmp(b).unwrap());
        distinct.dedup();
        assert_eq!(distinct.len(), count, "side {side}: duplicates");
        for p in &patterns {
            let at = |r: usize, c: usize| p[r * side + c];
            let stripes = (0..side).all(|r| (0..side).all(|c| at(r, c) == at(r, 0)));
            let bars = (0..side).all(|c| (0..side).all(|r| at(r, c) == at(0, c)));
            assert!(stripes || bars, "{p:?} is neither bars nor stripes");
        }
    }
    let t = bars_and_stripes(3, &Device::flex());
    assert_eq!(t.dims(), [14, 9]);
}
