//! Gibbs sweeps by hand, and their long-run statistics against the exact ones.

use burn::tensor::{Device, Tensor};

use super::{BruteForce, edges_mask, full_mask, random_machine, tensor};
use crate::boltzmann::{Boltzmann, GibbsOrder, GibbsPlan, Moments, Phase};
use crate::eval::testing::{FixedDraws, rows, sigmoid};
use crate::rbm::HostDraws;

/// The masked moments of `plan`'s chains from `start`, over `sweeps` sweeps after `burn_in`.
fn long_run(
    model: &Boltzmann,
    start: Tensor<2>,
    plan: &GibbsPlan,
    burn_in: usize,
    sweeps: usize,
    seed: u64,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut draws = HostDraws::new(seed);
    let (_, m) = model.sample_moments(start, plan, burn_in + sweeps, sweeps, &mut draws);
    let units = crate::eval::to_vec(m.units)
        .into_iter()
        .map(f64::from)
        .collect();
    (rows(m.pairs), units)
}

/// Compares sampled moments with exact ones (`exact[i][j]`, diagonal ⟨s_i⟩) on the connected
/// pairs and the units, returning the largest difference.
fn largest_difference(
    mask: &[Vec<u8>],
    sampled: &(Vec<Vec<f64>>, Vec<f64>),
    exact: &[Vec<f64>],
) -> f64 {
    let n = exact.len();
    let mut worst: f64 = 0.0;
    for i in 0..n {
        worst = worst.max((sampled.1[i] - exact[i][i]).abs());
        for j in 0..n {
            if mask[i][j] == 1 {
                worst = worst.max((sampled.0[i][j] - exact[i][j]).abs());
            } else {
                assert_eq!(
                    sampled.0[i][j], 0.0,
                    "unconnected ({i},{j}) has a statistic"
                );
            }
        }
    }
    worst
}

#[test]
fn a_sequential_sweep_updates_each_unclamped_unit_given_the_new_states_before_it() {
    let device = Device::flex();
    let model = random_machine(2, 0, full_mask(4), 1.5, 31, &device);
    let brute = BruteForce::of(&model);
    let start = vec![vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 1.0, 1.0, 0.0]];
    let u2 = vec![vec![0.3], vec![0.6]];
    let u3 = vec![vec![0.5], vec![0.2]];
    let mut draws = FixedDraws::new(vec![tensor(&u2, &device), tensor(&u3, &device)]);
    let plan = model.gibbs_plan(Phase::Clamped, GibbsOrder::Sequential);
    assert_eq!(plan.groups, vec![vec![2], vec![3]]);
    let got = rows(model.sweep(tensor(&start, &device), &plan, &mut draws));
    assert!(draws.0.is_empty());
    for (c, s0) in start.iter().enumerate() {
        let mut s = s0.clone();
        for (unit, u) in [(2, u2[c][0]), (3, u3[c][0])] {
            let input: f64 = brute.b[unit] + (0..4).map(|j| brute.w[unit][j] * s[j]).sum::<f64>();
            s[unit] = (sigmoid(input) > u) as u8 as f64;
        }
        assert_eq!(got[c], s, "chain {c}");
        assert_eq!(got[c][..2], s0[..2], "the visible units stay clamped");
    }
}

#[test]
fn a_colour_class_is_sampled_together_from_the_same_state() {
    let device = Device::flex();
    // 0 – 1 – 2 (a path): {0, 2} is one class, {1} the other.
    let model = random_machine(3, 0, edges_mask(3, &[(0, 1), (1, 2)]), 2.0, 32, &device);
    let brute = BruteForce::of(&model);
    let plan = model.gibbs_plan(Phase::Free, GibbsOrder::Coloured);
    assert_eq!(plan.groups, vec![vec![1], vec![0, 2]]);
    let start = vec![vec![0.0, 1.0, 1.0]];
    let (u1, u02) = (vec![vec![0.5]], vec![vec![0.4, 0.9, 0.6]]);
    let mut draws = FixedDraws::new(vec![tensor(&u1, &device), tensor(&u02, &device)]);
    let got = rows(model.sweep(tensor(&start, &device), &plan, &mut draws))[0].clone();
    let mut s = start[0].clone();
    let input =
        |s: &[f64], i: usize| brute.b[i] + (0..3).map(|j| brute.w[i][j] * s[j]).sum::<f64>();
    s[1] = (sigmoid(input(&s, 1)) > u1[0][0]) as u8 as f64;
    let (p0, p2) = (sigmoid(input(&s, 0)), sigmoid(input(&s, 2)));
    s[0] = (p0 > u02[0][0]) as u8 as f64;
    s[2] = (p2 > u02[0][2]) as u8 as f64;
    assert_eq!(got, s);
}

#[test]
fn sequential_and_colour_parallel_sweeps_reach_the_exact_statistics() {
    let device = Device::flex();
    // A 7-cycle with a chord (three colours, classes of two and three units), strong weights.
    let mut edges: Vec<(usize, usize)> = (0..7).map(|i| (i, (i + 1) % 7)).collect();
    edges.push((0, 3));
    let mask = edges_mask(7, &edges);
    let model = random_machine(4, 0, mask.clone(), 2.0, 33, &device);
    let exact = BruteForce::of(&model).moments_given(&[]);
    let mut draws = HostDraws::new(1);
    for order in [GibbsOrder::Sequential, GibbsOrder::Coloured] {
        let plan = model.gibbs_plan(Phase::Free, order);
        if order == GibbsOrder::Coloured {
            assert!(plan.groups.iter().any(|g| g.len() > 1), "{:?}", plan.groups);
        }
        let start = model.random_states(1000, &mut draws);
        let sampled = long_run(&model, start, &plan, 30, 200, 7);
        let worst = largest_difference(&mask, &sampled, &exact);
        assert!(worst < 0.015, "{order:?}: largest difference {worst}");
    }
    // Updating connected units together is not Gibbs sampling of p: it misses.
    let all = model.plan_from_groups(vec![(0..7).collect()]);
    let start = model.random_states(1000, &mut draws);
    let sampled = long_run(&model, start, &all, 30, 200, 8);
    let worst = largest_difference(&mask, &sampled, &exact);
    assert!(worst > 0.05, "a synchronous update came within {worst}");
}

#[test]
fn clamped_sweeps_reach_the_exact_posterior_statistics_of_the_hidden_units() {
    let device = Device::flex();
    let model = random_machine(3, 0, full_mask(7), 1.5, 34, &device);
    let v = vec![1.0, 0.0, 1.0];
    let exact = BruteForce::of(&model).moments_given(&v);
    let mut draws = HostDraws::new(2);
    let start = model.clamped_states(tensor(&vec![v; 1000], &device), &mut draws);
    let plan = model.gibbs_plan(Phase::Clamped, GibbsOrder::Sequential);
    let sampled = long_run(&model, start, &plan, 30, 200, 9);
    let worst = largest_difference(&full_mask(7), &sampled, &exact);
    assert!(worst < 0.015, "largest difference {worst}");
    // The visible units never moved.
    assert_eq!(&sampled.1[..3], &[1.0, 0.0, 1.0]);
}

#[test]
fn moments_of_states_are_masked_mean_products() {
    let device = Device::flex();
    let s = tensor(&[vec![1.0, 1.0, 0.0], vec![1.0, 0.0, 1.0]], &device);
    let mask = edges_mask(3, &[(0, 1), (1, 2)]);
    let m = Moments::of_states(&s, &crate::boltzmann::model::mask_tensor(&mask, &device));
    assert_eq!(
        rows(m.pairs),
        vec![
            vec![0.0, 0.5, 0.0],
            vec![0.5, 0.0, 0.0],
            vec![0.0, 0.0, 0.0]
        ]
    );
    assert_eq!(crate::eval::to_vec(m.units), vec![1.0, 0.5, 0.5]);
}
