//! Free-energy classification against the exact p(label | x) by enumerating the top units.

use burn::tensor::Device;

use super::{HostTop, assert_close, flat, random_net, random_top};
use crate::eval::testing::{HostRng, bits, log_sum_exp, tensor_from_rows};
use crate::eval::to_vec;

#[test]
fn free_energy_classifier_is_the_exact_argmax_of_p_label_given_x() {
    let device = Device::flex();
    let mut rng = HostRng::new(6);
    let (n_x, k, h) = (3, 4, 5);
    // A seed whose binary x get three different answers.
    let top = random_top(n_x, k, h, 2.0, &mut rng, &device);
    let host = HostTop::of(&top);
    let mut xs: Vec<Vec<f64>> = (0..1 << n_x).map(|s| bits(s, n_x)).collect();
    xs.push(vec![0.3, 0.9, 0.05]);
    xs.push(vec![0.5, 0.5, 0.5]);
    let x = tensor_from_rows(&xs, &device);
    let free = flat(top.free_energies(x.clone()));
    let posterior = flat(top.label_posterior(x.clone()));
    let predicted = to_vec(top.classify(x.clone()).float());
    let mut classes_seen = std::collections::BTreeSet::new();
    for (r, xr) in xs.iter().enumerate() {
        // −F(x, k) = log Σ_h e^{−E(x, k, h)}, enumerating the 2^5 top states.
        let neg_f: Vec<f64> = (0..k)
            .map(|label| {
                let v: Vec<f64> = xr
                    .iter()
                    .cloned()
                    .chain((0..k).map(|i| if i == label { 1.0 } else { 0.0 }))
                    .collect();
                let terms: Vec<f64> = (0..1 << h)
                    .map(|s| host.neg_energy(&v, &bits(s, h)))
                    .collect();
                log_sum_exp(&terms)
            })
            .collect();
        let log_z = log_sum_exp(&neg_f);
        let exact: Vec<f64> = neg_f.iter().map(|f| (f - log_z).exp()).collect();
        let want_f: Vec<f64> = neg_f.iter().map(|f| -f).collect();
        assert_close(&free[r * k..(r + 1) * k], &want_f, 1e-4, "F(x, k)");
        assert_close(&posterior[r * k..(r + 1) * k], &exact, 1e-5, "p(y | x)");
        let best = (0..k)
            .max_by(|&a, &b| exact[a].total_cmp(&exact[b]))
            .unwrap();
        assert_eq!(predicted[r] as usize, best, "row {r}: p = {exact:?}");
        classes_seen.insert(best);
    }
    assert!(
        classes_seen.len() >= 3,
        "a test whose rows all have one answer checks little: {classes_seen:?}"
    );
}

#[test]
fn the_net_classifies_the_up_pass_probabilities_in_chunks() {
    let device = Device::flex();
    let net = random_net(&[6, 4, 3, 5], 3, 1.5, 8, &device);
    let mut rng = HostRng::new(4);
    let v = rng.tensor2(25_000, 6, 1.0, &device).abs();
    // Through the up-pass by hand, then the associative memory on all rows at once.
    let x = net.layers[1].up_probs(net.layers[0].up_probs(v.clone()));
    let want = to_vec(net.top.label_scores(x).argmax(1).float());
    let got = to_vec(net.classify(v.clone()).float());
    assert_eq!(got, want);
    let labels = net.classify(v.clone());
    assert_eq!(net.error_rate(&v, &labels), 0.0);
    let posterior = flat(net.label_posterior(v.narrow(0, 0, 3)));
    for r in 0..3 {
        let s: f64 = posterior[r * 3..(r + 1) * 3].iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
    }
}
