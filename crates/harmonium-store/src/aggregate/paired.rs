//! Paired statistics between two levels whose runs share seeds: a run of level `a` and the run
//! of the reference level `b` with the same partner key form a pair, and the differences
//! `d_s = a_s − b_s` are analysed instead of the two groups. The key is the run's seed and its
//! values of the sweep's other parameters (those the comparison pools over, such as the
//! held-out speaker of a leave-one-out sweep: [`super::partners`]); a plain seed where there
//! are none.
//!
//! - Pairing: only runs whose value is a number take part (NaN is left out, as in `n`). When a
//!   level has several such runs of one key, nothing is paired. Otherwise the pairs are the
//!   keys both levels have; the paired interval *applies* (instead of Welch's) when every run
//!   of both levels is in a pair — then `d̄` equals Welch's `mean(a) − mean(b)`.
//! - Paired t interval: `d̄ ± t_{n−1, (1+level)/2} · s_d / √n`, `s_d` the sample standard
//!   deviation of the differences (n − 1); no interval below two pairs.
//! - Sign-flip permutation p-value (two-sided): under "no difference" each `d_s` is as likely
//!   as `−d_s`; p is the fraction of the 2ⁿ sign assignments `ε` with `|Σ ε_s d_s| ≥ |Σ d_s|`
//!   (the observed one counted; equivalently `|mean|` ≥ the observed `|mean|`). Enumerated
//!   exactly for n ≤ [`MAX_EXACT`]; above, estimated from [`FLIPS`] random assignments drawn
//!   from a fixed seed (the same p every time), as `(1 + hits) / (1 + FLIPS)`. Sums within
//!   `1e-10 · Σ|d_s|` of the observed one count as ties (rounding of the sums).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::Welford;

/// A run's partner key (its seed, and its values of the sweep's other parameters) and its
/// final value (NaN when it has none).
pub type Seeded = (Partner, f64);

/// What a run of one level must share with a run of the other to pair with it: the seed, and
/// the value ids of the sweep's parameters the comparison pools over (in a fixed order).
pub type Partner = (i64, Vec<u32>);

/// Most pairs whose sign flips are enumerated exactly (2²⁰ assignments).
pub const MAX_EXACT: usize = 20;

/// Random sign assignments of the Monte Carlo p-value above [`MAX_EXACT`] pairs.
pub const FLIPS: u64 = 100_000;

/// Seed of the Monte Carlo sign flips.
const FLIP_SEED: u64 = 0x5eed_f11e_5eed_f11e;

/// The paired statistics of the seeds two levels share.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Paired {
    /// Pairs: partner keys with a number in both levels.
    pub n: i64,
    /// Mean paired difference `d̄ = mean(a_s − b_s)`.
    pub diff: f64,
    /// Sample standard deviation of the differences (n − 1); `None` below two pairs.
    pub std: Option<f64>,
    /// Paired t interval; `None` below two pairs.
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// Two-sided sign-flip permutation p-value.
    pub p: f64,
    /// Whether `p` is the exact enumeration (n ≤ [`MAX_EXACT`]) or a Monte Carlo estimate.
    pub p_exact: bool,
}

/// Which interval of a contrast applies.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Applies {
    /// Every run of both levels pairs up (same seed, same values of the sweep's other
    /// parameters).
    Paired,
    Welch,
}

impl Applies {
    /// The paired interval applies unless there is a reason it does not.
    pub fn unless(why_welch: Option<Unpaired>) -> Applies {
        if why_welch.is_none() {
            Applies::Paired
        } else {
            Applies::Welch
        }
    }
}

/// Why the runs of two levels do not all pair up (so Welch's interval applies).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum Unpaired {
    /// Some run has no partner (a run with a number, of the same seed and the same values of
    /// the sweep's other parameters) in the other level.
    #[serde(rename = "seeds differ")]
    SeedsDiffer,
    /// A level has several runs (with a number) of one partner key: nothing is paired.
    #[serde(rename = "several runs per seed")]
    SeveralRunsPerSeed,
}

impl fmt::Display for Unpaired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unpaired::SeedsDiffer => "seeds differ",
            Unpaired::SeveralRunsPerSeed => "several runs per seed",
        })
    }
}

/// The paired comparison of level `a` against the reference `b`, their runs as (partner key,
/// value): the paired statistics (when some key pairs, and no level repeats a key) and, when
/// not every run pairs, why.
pub fn paired<K: Ord + Clone>(
    a: &[(K, f64)],
    b: &[(K, f64)],
    level: f64,
) -> (Option<Paired>, Option<Unpaired>) {
    let (Some(a), Some(b)) = (by_key(a), by_key(b)) else {
        return (None, Some(Unpaired::SeveralRunsPerSeed));
    };
    let d: Vec<f64> = a
        .iter()
        .filter_map(|(s, x)| b.get(s).map(|y| x - y))
        .collect();
    if d.is_empty() {
        return (None, Some(Unpaired::SeedsDiffer));
    }
    let all = d.len() == a.len() && d.len() == b.len();
    let why = (!all).then_some(Unpaired::SeedsDiffer);
    (Some(paired_stats(&d, level)), why)
}

/// Key → value of the runs with a number; `None` when a key repeats.
fn by_key<K: Ord + Clone>(runs: &[(K, f64)]) -> Option<BTreeMap<K, f64>> {
    let mut m = BTreeMap::new();
    for (key, v) in runs.iter().filter(|(_, v)| !v.is_nan()) {
        if m.insert(key.clone(), *v).is_some() {
            return None;
        }
    }
    Some(m)
}

/// Mean, standard deviation, paired t interval and sign-flip p-value of differences (at least
/// one).
pub fn paired_stats(d: &[f64], level: f64) -> Paired {
    let mut w = Welford::default();
    d.iter().for_each(|&x| w.add(x));
    let s = w.stat();
    let (mean, n) = (s.mean.unwrap_or(0.0), d.len());
    let bounds = s.std.and_then(|sd| {
        let se = sd / (n as f64).sqrt();
        if se == 0.0 {
            return Some((mean, mean));
        }
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
            .ok()?
            .inverse_cdf(0.5 + level / 2.0);
        Some((mean - t * se, mean + t * se))
    });
    let (p, p_exact) = sign_flip_p(d);
    Paired {
        n: n as i64,
        diff: mean,
        std: s.std,
        lo: bounds.map(|b| b.0),
        hi: bounds.map(|b| b.1),
        p,
        p_exact,
    }
}

/// The two-sided sign-flip p-value of differences and whether it is exact (see the module
/// doc): every assignment for n ≤ [`MAX_EXACT`], else [`FLIPS`] seeded random ones.
pub fn sign_flip_p(d: &[f64]) -> (f64, bool) {
    let observed = d.iter().sum::<f64>().abs();
    let floor = observed - 1e-10 * d.iter().map(|x| x.abs()).sum::<f64>();
    let flipped = |signs: u64| -> f64 {
        d.iter()
            .enumerate()
            .map(|(i, x)| if signs >> i & 1 == 1 { -x } else { *x })
            .sum::<f64>()
            .abs()
    };
    if d.len() <= MAX_EXACT {
        // An assignment and its negation give the same |sum|: enumerate those that keep the
        // last sign, half of them.
        let half = 1u64 << (d.len().max(1) - 1);
        let hits = (0..half).filter(|&s| flipped(s) >= floor).count();
        return (hits as f64 / half as f64, true);
    }
    let mut rng = SplitMix64(FLIP_SEED);
    let hits = (0..FLIPS)
        .filter(|_| {
            // One fresh bit per difference.
            let mut signs = 0u64;
            let sum: f64 = d
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    if i % 64 == 0 {
                        signs = rng.next();
                    }
                    if signs >> (i % 64) & 1 == 1 { -x } else { *x }
                })
                .sum();
            sum.abs() >= floor
        })
        .count() as u64;
    ((1 + hits) as f64 / (1 + FLIPS) as f64, false)
}

/// Steele, Lea and Flood's SplitMix64: a small, fast generator of 64 random bits.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
