//! Layer-block masks and the greedy colouring.

use crate::boltzmann::{Connectivity, LayerConnectivity, greedy_colouring};

/// Checks that `classes` partition `units` and that no class holds two connected units.
fn assert_proper(mask: &[Vec<u8>], units: &[usize], classes: &[Vec<usize>]) {
    let mut seen: Vec<usize> = classes.iter().flatten().copied().collect();
    seen.sort_unstable();
    assert_eq!(
        seen, units,
        "the classes must cover every unit once: {classes:?}"
    );
    for class in classes {
        for &i in class {
            for &j in class {
                assert_eq!(mask[i][j], 0, "{i} and {j} share class {class:?}");
            }
        }
    }
}

#[test]
fn layer_blocks_connect_exactly_the_chosen_blocks() {
    let blocks = LayerConnectivity {
        visible_visible: false,
        visible_hidden: true,
        hidden_hidden: true,
    };
    let mask = Connectivity::Layers(blocks).mask(2, 3).unwrap();
    assert_eq!(
        mask,
        vec![
            vec![0, 0, 1, 1, 1],
            vec![0, 0, 1, 1, 1],
            vec![1, 1, 0, 1, 1],
            vec![1, 1, 1, 0, 1],
            vec![1, 1, 1, 1, 0],
        ]
    );
    let full = Connectivity::default().mask(3, 2).unwrap();
    assert_eq!(full, super::full_mask(5));
}

#[test]
fn greedy_colouring_is_proper_and_uses_two_colours_for_an_rbm_graph() {
    let rbm = LayerConnectivity {
        visible_visible: false,
        visible_hidden: true,
        hidden_hidden: false,
    };
    let mask = Connectivity::Layers(rbm).mask(4, 3).unwrap();
    let units: Vec<usize> = (0..7).collect();
    let classes = greedy_colouring(&mask, &units);
    assert_proper(&mask, &units, &classes);
    // The hidden units have the larger degree, so they are coloured first.
    assert_eq!(classes, vec![vec![4, 5, 6], vec![0, 1, 2, 3]]);
    // Complete graph: one unit per colour; no edges: one colour.
    let full = super::full_mask(5);
    assert_eq!(greedy_colouring(&full, &[0, 1, 2, 3, 4]).len(), 5);
    let empty = vec![vec![0u8; 4]; 4];
    assert_eq!(
        greedy_colouring(&empty, &[0, 1, 2, 3]),
        vec![vec![0, 1, 2, 3]]
    );
}

#[test]
fn greedy_colouring_of_a_subset_colours_only_the_induced_subgraph() {
    // A 7-cycle with a chord: odd cycles need three colours.
    let mut edges: Vec<(usize, usize)> = (0..7).map(|i| (i, (i + 1) % 7)).collect();
    edges.push((0, 3));
    let mask = super::edges_mask(7, &edges);
    let all: Vec<usize> = (0..7).collect();
    let classes = greedy_colouring(&mask, &all);
    assert_proper(&mask, &all, &classes);
    assert_eq!(classes.len(), 3, "{classes:?}");
    // Units 2..7 form a path 2-3-4-5-6 (plus nothing else): two colours.
    let some: Vec<usize> = (2..7).collect();
    let classes = greedy_colouring(&mask, &some);
    assert_proper(&mask, &some, &classes);
    assert_eq!(classes.len(), 2, "{classes:?}");
}
