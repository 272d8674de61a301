//! Bars and stripes (MacKay 2003): the binary images of a `side × side` grid in which every
//! column is all on or all off (bars), or every row is (stripes). There are `2·2^side − 2`
//! distinct patterns (the blank and the full image are both), so a model's exact
//! log-likelihood of the set can be computed by enumerating its states, and the best possible
//! mean log-probability of the patterns is `−log(2·2^side − 2)` (−2.639 nats for 3 × 3).
//!
//! The training split is `train_size` patterns drawn uniformly (with a seeded generator;
//! default 1,000), the validation and test splits are every distinct pattern once. Labels: 0 for
//! bars, 1 for stripes (the blank and full images count as bars).
//!
//! **Agreement** (§2's conditional Boltzmann machine): one input unit, always on, and two output
//! units that are both on or both off, each half the time. Rows `[1, y, y]`: `train_size` of
//! them (default 100) alternating, and both rows once for valid and test; the label is y.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Dataset, Matrix, Split};

/// Smallest and largest grid side.
pub const SIDES: std::ops::RangeInclusive<usize> = 2..=4;

/// Every distinct pattern of a `side × side` grid, row-major, with its label: the bars first
/// (column masks 0 … 2^side − 1), then the stripes other than blank and full.
pub fn patterns(side: usize) -> Vec<(Vec<f32>, u32)> {
    let mut out = Vec::new();
    for mask in 0..1usize << side {
        let on = |k: usize| ((mask >> k) & 1) as f32;
        let bars = (0..side * side).map(|p| on(p % side)).collect();
        out.push((bars, 0));
    }
    for mask in 1..(1usize << side) - 1 {
        let on = |k: usize| ((mask >> k) & 1) as f32;
        let stripes = (0..side * side).map(|p| on(p / side)).collect();
        out.push((stripes, 1));
    }
    out
}

fn split(rows: &[&(Vec<f32>, u32)], side: usize) -> Split {
    Split {
        x: Matrix::new(
            rows.len(),
            side * side,
            rows.iter().flat_map(|(x, _)| x.iter().copied()).collect(),
        ),
        y: rows.iter().map(|(_, y)| *y).collect(),
    }
}

/// The dataset: `train_size` uniform draws for training, every pattern for valid and test.
pub fn load(side: usize, train_size: usize, seed: u64) -> Result<Dataset, String> {
    if !SIDES.contains(&side) {
        return Err(format!(
            "dataset.side: {side}; bars and stripes takes a side of {} to {}",
            SIDES.start(),
            SIDES.end()
        ));
    }
    let all = patterns(side);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let draws: Vec<&(Vec<f32>, u32)> = (0..train_size)
        .map(|_| &all[rng.random_range(0..all.len())])
        .collect();
    let every: Vec<&(Vec<f32>, u32)> = all.iter().collect();
    Ok(Dataset {
        name: "bars_and_stripes".into(),
        train: split(&draws, side),
        valid: split(&every, side),
        test: split(&every, side),
        classes: 2,
        image_shape: Some((side, side)),
    })
}

/// The agreement data: `train_size` rows `[1, y, y]` alternating y = 1, 0, and both rows once
/// for the validation and test splits.
pub fn agreement(train_size: usize) -> Dataset {
    let rows = |n: usize| -> Split {
        let y: Vec<u32> = (0..n).map(|k| (k % 2 == 0) as u32).collect();
        let x = y.iter().flat_map(|&y| [1.0, y as f32, y as f32]).collect();
        Split {
            x: Matrix::new(n, 3, x),
            y,
        }
    };
    Dataset {
        name: "agreement".into(),
        train: rows(train_size),
        valid: rows(2),
        test: rows(2),
        classes: 2,
        image_shape: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_rows_have_the_input_on_and_the_outputs_equal() {
        let d = agreement(6);
        assert_eq!(d.train.len(), 6);
        assert_eq!(d.test.x.data, vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        for i in 0..6 {
            let r = d.train.x.row(i);
            assert_eq!((r[0], r[1] == r[2]), (1.0, true));
            assert_eq!(d.train.y[i] as f32, r[1]);
        }
    }

    #[test]
    fn there_are_two_to_the_side_plus_one_minus_two_distinct_patterns() {
        for side in SIDES {
            let p = patterns(side);
            assert_eq!(p.len(), 2 * (1 << side) - 2);
            let mut distinct: Vec<&Vec<f32>> = p.iter().map(|(x, _)| x).collect();
            distinct.sort_by(|a, b| a.partial_cmp(b).unwrap());
            distinct.dedup();
            assert_eq!(distinct.len(), p.len(), "side {side}: a pattern repeats");
            // Each is constant along its columns (bars) or its rows (stripes).
            for (x, y) in &p {
                let at = |r: usize, c: usize| x[r * side + c];
                let ok = (0..side).all(|r| {
                    (0..side).all(|c| {
                        if *y == 0 {
                            at(r, c) == at(0, c)
                        } else {
                            at(r, c) == at(r, 0)
                        }
                    })
                });
                assert!(
                    ok,
                    "{x:?} is not a {}",
                    if *y == 0 { "bar" } else { "stripe" }
                );
            }
        }
    }

    #[test]
    fn training_draws_are_seeded_and_cover_the_patterns() {
        let a = load(3, 1000, 7).unwrap();
        assert_eq!(a.train.len(), 1000);
        assert_eq!(a.test.len(), 14);
        assert_eq!(a.train.x.data, load(3, 1000, 7).unwrap().train.x.data);
        assert_ne!(a.train.x.data, load(3, 1000, 8).unwrap().train.x.data);
        let all = patterns(3);
        for (x, _) in &all {
            let hits = (0..1000).filter(|&i| a.train.x.row(i) == &x[..]).count();
            assert!(
                (40..=110).contains(&hits),
                "{hits} draws of one of 14 patterns"
            );
        }
        assert!(load(5, 10, 0).unwrap_err().contains("dataset.side"));
    }
}
