//! The weights' update of [`super::update`] as one pass over memory, on the CPU (`flex`).
//!
//! With the weights' statistic in the two halves' parts `S_W = S_a + S_b` (and the sparsity
//! penalty's part `S_s`, when there is one), every element of W is updated by
//!
//! ```text
//! ΔW ← m·ΔW + lr·(S_a + S_b + S_s − wc·W)
//! W  ← W + ΔW
//! ```
//!
//! which is [`MomentumUpdate::apply`]'s rule for W. Written as tensor operations it is about
//! eight passes over arrays of V·H numbers, each reading and writing memory (a 784×500 RBM's W
//! is 1.5 MB); here the buffers of W and ΔW are taken over without a copy (a unique, contiguous
//! CPU tensor hands its buffer over, as in [`crate::fast_math`]) and updated in one loop, the
//! rows split between the two halves' threads. Any tensor that cannot be taken over (another
//! device, another dtype, shared) goes the plain way. Tested equal to the plain rule.

use burn::tensor::{DType, Device, Tensor, TensorData};

use super::update::{Increments, MomentumUpdate};

/// ΔW and W updated in place from the parts of the weights' statistic; `join` runs two closures
/// side by side (the halves' pools).
pub(crate) fn update_weights(
    update: &MomentumUpdate,
    inc: &mut Increments,
    weights: &mut Tensor<2>,
    parts: Vec<Tensor<2>>,
    join: impl Fn(&mut (dyn FnMut() + Send), &mut (dyn FnMut() + Send)),
) {
    let fits = |t: &Tensor<2>| t.device() == Device::flex() && t.dtype() == DType::F32;
    if !(fits(weights) && fits(&inc.weights) && parts.iter().all(fits)) {
        return plain(update, inc, weights, parts);
    }
    let device = weights.device();
    let dims = weights.dims();
    let mut w = take(weights).into_data();
    let mut dw = take(&mut inc.weights).into_data();
    let parts: Vec<TensorData> = parts.into_iter().map(|p| p.into_data()).collect();
    let done = match (w.as_mut_slice::<f32>(), dw.as_mut_slice::<f32>()) {
        (Ok(w), Ok(dw)) => {
            let read: Result<Vec<&[f32]>, _> = parts.iter().map(|p| p.as_slice::<f32>()).collect();
            match read {
                Ok(s) => {
                    one_pass(update, w, dw, &s, &join);
                    true
                }
                Err(_) => false,
            }
        }
        _ => false,
    };
    *weights = Tensor::from_data(w, &device);
    inc.weights = Tensor::from_data(dw, &device);
    if !done {
        let parts = parts
            .into_iter()
            .map(|p| Tensor::from_data(p, &device))
            .collect();
        plain(update, inc, weights, parts);
    }
    debug_assert_eq!(weights.dims(), dims);
}

/// The tensor, leaving an empty one in its place (so that the buffer is not shared).
fn take(t: &mut Tensor<2>) -> Tensor<2> {
    let device = t.device();
    std::mem::replace(t, Tensor::empty([0, 0], &device))
}

/// The rule with tensor operations ([`MomentumUpdate`]'s own increment): `ΔW ← m·ΔW +
/// lr·(ΣS − wc·W)`, `W ← W + ΔW`.
fn plain(
    update: &MomentumUpdate,
    inc: &mut Increments,
    weights: &mut Tensor<2>,
    parts: Vec<Tensor<2>>,
) {
    let s = parts
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| weights.zeros_like());
    let w = weights.clone();
    inc.weights.inplace(|dw| update.increment(dw, s, Some(w)));
    let dw = inc.weights.clone();
    weights.inplace(|w| w + dw);
}

/// The loop, over two halves of the elements side by side.
fn one_pass(
    update: &MomentumUpdate,
    w: &mut [f32],
    dw: &mut [f32],
    parts: &[&[f32]],
    join: &impl Fn(&mut (dyn FnMut() + Send), &mut (dyn FnMut() + Send)),
) {
    let (m, lr, lr_wc) = (
        update.momentum as f32,
        update.lr as f32,
        (update.lr * update.weight_cost) as f32,
    );
    let mid = w.len() / 2;
    let (w_a, w_b) = w.split_at_mut(mid);
    let (dw_a, dw_b) = dw.split_at_mut(mid);
    let (heads, tails): (Vec<&[f32]>, Vec<&[f32]>) = parts.iter().map(|p| p.split_at(mid)).unzip();
    let mut first = || span(m, lr, lr_wc, w_a, dw_a, &heads);
    let mut second = || span(m, lr, lr_wc, w_b, dw_b, &tails);
    join(&mut first, &mut second);
}

/// One span of elements: `Δ ← m·Δ + lr·ΣS − lr·wc·W`, `W ← W + Δ`. Written per number of
/// parts, so that the loop has no inner loop and vectorizes.
fn span(m: f32, lr: f32, lr_wc: f32, w: &mut [f32], dw: &mut [f32], parts: &[&[f32]]) {
    let step = |w: &mut f32, d: &mut f32, s: f32| {
        let next = m * *d + lr * s - lr_wc * *w;
        *d = next;
        *w += next;
    };
    match parts {
        [] => w.iter_mut().zip(dw).for_each(|(w, d)| step(w, d, 0.0)),
        [a] => {
            let it = w.iter_mut().zip(dw.iter_mut()).zip(a.iter());
            it.for_each(|((w, d), &a)| step(w, d, a));
        }
        [a, b] => {
            let it = w.iter_mut().zip(dw.iter_mut()).zip(a.iter().zip(b.iter()));
            it.for_each(|((w, d), (&a, &b))| step(w, d, a + b));
        }
        [a, b, c] => {
            let s = a.iter().zip(b.iter()).zip(c.iter());
            let it = w.iter_mut().zip(dw.iter_mut()).zip(s);
            it.for_each(|((w, d), ((&a, &b), &c))| step(w, d, a + b + c));
        }
        _ => {
            for (i, (w, d)) in w.iter_mut().zip(dw.iter_mut()).enumerate() {
                step(w, d, parts.iter().map(|p| p[i]).sum());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::to_vec;
    use crate::rbm::tests::assert_close;
    use burn::tensor::Distribution;

    fn serial_join(a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        a();
        b();
    }

    fn threads_join(a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        std::thread::scope(|s| {
            s.spawn(a);
            b();
        });
    }

    fn f64s(t: Tensor<2>) -> Vec<f64> {
        to_vec(t).into_iter().map(f64::from).collect()
    }

    /// One pass equals the plain rule for 0 to 4 parts, an odd number of elements, with and
    /// without weight cost, three updates in a row (momentum carried), in one thread or two.
    #[test]
    fn one_pass_equals_the_plain_rule() {
        let device = Device::flex();
        device.seed(3);
        let rand =
            |dims: [usize; 2]| Tensor::<2>::random(dims, Distribution::Normal(0., 1.), &device);
        for parts in 0..5 {
            for weight_cost in [0.0, 0.01] {
                for threads in [false, true] {
                    let update = MomentumUpdate {
                        lr: 0.1,
                        momentum: 0.9,
                        weight_cost,
                    };
                    let dims = [7, 5];
                    let w0 = rand(dims);
                    let inc0 = Increments {
                        weights: rand(dims),
                        visible_bias: Tensor::zeros([7], &device),
                        hidden_bias: Tensor::zeros([5], &device),
                    };
                    let (mut w_fast, mut inc_fast) = (w0.clone() + 0.0, inc0.clone());
                    inc_fast.weights = inc_fast.weights + 0.0;
                    let (mut w_plain, mut inc_plain) = (w0, inc0);
                    for _ in 0..3 {
                        let s: Vec<Tensor<2>> = (0..parts).map(|_| rand(dims)).collect();
                        let copies = s.iter().map(|t| t.clone() + 0.0).collect();
                        if threads {
                            update_weights(
                                &update,
                                &mut inc_fast,
                                &mut w_fast,
                                copies,
                                threads_join,
                            );
                        } else {
                            update_weights(
                                &update,
                                &mut inc_fast,
                                &mut w_fast,
                                copies,
                                serial_join,
                            );
                        }
                        plain(&update, &mut inc_plain, &mut w_plain, s);
                    }
                    let what = format!("{parts} parts, wc {weight_cost}, threads {threads}");
                    assert_close(&f64s(w_fast), &f64s(w_plain), 1e-5, &format!("W, {what}"));
                    let (a, b) = (inc_fast.weights, inc_plain.weights);
                    assert_close(&f64s(a), &f64s(b), 1e-5, &format!("ΔW, {what}"));
                }
            }
        }
    }

    /// A shared W (a clone kept elsewhere) is not written through: the other holder keeps the
    /// old weights, and the update is still right.
    #[test]
    fn a_shared_weight_tensor_is_left_intact() {
        let device = Device::flex();
        let update = MomentumUpdate {
            lr: 1.0,
            momentum: 0.0,
            weight_cost: 0.0,
        };
        let data = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [2, 2]), &device);
        let mut w = data(vec![1.0, 2.0, 3.0, 4.0]);
        let kept = w.clone();
        let mut inc = Increments {
            weights: data(vec![0.0; 4]),
            visible_bias: Tensor::zeros([2], &device),
            hidden_bias: Tensor::zeros([2], &device),
        };
        update_weights(
            &update,
            &mut inc,
            &mut w,
            vec![data(vec![1.0; 4])],
            serial_join,
        );
        assert_eq!(to_vec(kept), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(to_vec(w), vec![2.0, 3.0, 4.0, 5.0]);
        assert_eq!(to_vec(inc.weights), vec![1.0; 4]);
    }
}
