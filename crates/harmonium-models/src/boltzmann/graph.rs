//! The graph of a Boltzmann machine: the 0/1 connectivity mask M over the units (visible first,
//! inputs first among them, then hidden), and a greedy colouring of it.
//!
//! A mask is valid when it is square, its entries are 0 or 1, its diagonal is 0 (no unit is
//! connected to itself) and it is symmetric (connections are undirected).
//!
//! Units of one colour class share no connection, so given the other units they are
//! independent, and one step may sample all of them from their conditionals at once. The greedy
//! colouring (Welsh–Powell) visits the units by decreasing degree and gives each the smallest
//! colour that none of its already-coloured neighbours has; it uses at most (largest degree + 1)
//! colours, two for a bipartite (RBM-like) graph visited in that order in most cases, and n for a
//! complete graph.

use super::{BoltzmannError, Connectivity};

/// Checks that `mask` is square, 0/1, with a zero diagonal and symmetric; the error names the
/// key `connectivity` and the first entry that is wrong.
pub fn check_mask(mask: &[Vec<u8>]) -> Result<(), BoltzmannError> {
    let bad = |m: String| Err(BoltzmannError::Config(m));
    let n = mask.len();
    for (i, row) in mask.iter().enumerate() {
        if row.len() != n {
            return bad(format!(
                "connectivity.mask: row {i} has {} entries but there are {n} rows (the mask \
                 must be square)",
                row.len()
            ));
        }
        for (j, &m) in row.iter().enumerate() {
            if m > 1 {
                return bad(format!(
                    "connectivity.mask: ({i},{j}) is {m}; entries must be 0 or 1"
                ));
            }
        }
        if row[i] != 0 {
            return bad(format!(
                "connectivity.mask: unit {i} is connected to itself: ({i},{i}) is {}; the \
                 diagonal must be 0",
                row[i]
            ));
        }
    }
    for (i, row) in mask.iter().enumerate() {
        for (j, &m) in row.iter().enumerate().skip(i + 1) {
            if m != mask[j][i] {
                return bad(format!(
                    "connectivity: the mask is not symmetric: ({i},{j}) is {m} but ({j},{i}) is {}",
                    mask[j][i]
                ));
            }
        }
    }
    Ok(())
}

impl Connectivity {
    /// The n × n mask (n = visible + hidden) this connectivity gives, checked; an explicit mask
    /// of another size is an error naming both sizes.
    pub fn mask(&self, visible: usize, hidden: usize) -> Result<Vec<Vec<u8>>, BoltzmannError> {
        let n = visible + hidden;
        match self {
            Connectivity::Layers(blocks) => Ok((0..n)
                .map(|i| {
                    (0..n)
                        .map(|j| {
                            let on = match (i < visible, j < visible) {
                                _ if i == j => false,
                                (true, true) => blocks.visible_visible,
                                (false, false) => blocks.hidden_hidden,
                                _ => blocks.visible_hidden,
                            };
                            on as u8
                        })
                        .collect()
                })
                .collect()),
            Connectivity::Mask(mask) => {
                check_mask(mask)?;
                if mask.len() != n {
                    return Err(BoltzmannError::Config(format!(
                        "connectivity.mask: the mask is {0}×{0} but the machine has {visible} \
                         visible + {hidden} hidden = {n} units",
                        mask.len()
                    )));
                }
                Ok(mask.clone())
            }
        }
    }
}

/// A greedy colouring of the subgraph of `mask` induced by `units`: classes of units no two of
/// which are connected, together covering `units` once each. Classes are in colour order, the
/// units of each in increasing order.
pub fn greedy_colouring(mask: &[Vec<u8>], units: &[usize]) -> Vec<Vec<usize>> {
    let degree = |i: usize| units.iter().filter(|&&j| mask[i][j] == 1).count();
    let mut order = units.to_vec();
    order.sort_by_key(|&i| (std::cmp::Reverse(degree(i)), i));
    let mut colour: Vec<Option<usize>> = vec![None; mask.len()];
    let mut classes: Vec<Vec<usize>> = Vec::new();
    for &i in &order {
        let taken: Vec<usize> = units
            .iter()
            .filter(|&&j| mask[i][j] == 1)
            .filter_map(|&j| colour[j])
            .collect();
        let c = (0..).find(|c| !taken.contains(c)).expect("a free colour");
        colour[i] = Some(c);
        if c == classes.len() {
            classes.push(Vec::new());
        }
        classes[c].push(i);
    }
    for class in &mut classes {
        class.sort_unstable();
    }
    classes
}
