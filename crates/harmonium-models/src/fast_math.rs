//! The exponential and the logistic function on the CPU backend, vectorized.
//!
//! burn-flex 0.22 evaluates `exp` (and so `sigmoid`) one element at a time through libm, while
//! its additions and multiplications are vectorized; on the RBM and AIS loops the exponentials
//! are most of what is not a matmul. Here a CPU tensor's buffer is taken over without a copy
//! (a unique, contiguous tensor hands it over), rewritten in place by a branch-free loop the
//! compiler vectorizes, and handed back. Elsewhere (GPU devices) the tensor's own `exp` runs.
//!
//! The exponential is Cephes' `expf`: `e^x = 2^n · e^r` with `n = round(x / ln 2)`,
//! `r = x − n ln 2` (ln 2 in two parts) and `e^r` from a degree-6 polynomial on
//! `|r| ≤ ln 2 / 2`; relative error below 2·10⁻⁷ (a few units in the last place), exactly 0
//! below −87.33 (where libm gives subnormal numbers) and +∞ above 88.37 (where libm still gives
//! numbers within a factor of 2 of f32's largest). The logistic is
//! `σ(x) = 1 / (1 + e^{−x})` from it. Both are tested against the plain operations.

use burn::tensor::{Device, Tensor};

/// `e^x`, element-wise.
pub fn exp<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    map(x, exp_f32, |x| x.exp())
}

/// `σ(x) = 1 / (1 + e^{−x})`, element-wise.
pub fn logistic<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    map(
        x,
        |v| 1.0 / (1.0 + exp_f32(-v)),
        |x| x.neg().exp().add_scalar(1.0).recip(),
    )
}

fn map<const D: usize>(
    x: Tensor<D>,
    f: impl Fn(f32) -> f32,
    plain: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    let device = x.device();
    if device != Device::flex() || x.dtype() != burn::tensor::DType::F32 {
        return plain(x);
    }
    let mut data = x.into_data();
    match data.as_mut_slice::<f32>() {
        Ok(values) => each(values, f),
        Err(_) => return plain(Tensor::from_data(data, &device)),
    }
    Tensor::from_data(data, &device)
}

/// `v ← f(v)` for every element, compiled twice: for the CPU the program was built for, and
/// with AVX2 and FMA, taken when the CPU has them (checked at run time, once per call) — the
/// build's default x86-64 target has 4-wide SSE2 vectors only, AVX2 has 8-wide ones. Rust does
/// not fuse a multiply and an add unless told to, so both copies compute the same numbers.
pub(crate) fn each(values: &mut [f32], f: impl Fn(f32) -> f32) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: this CPU has the features the function is compiled for.
        unsafe { each_avx2(values, f) };
        return;
    }
    values.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn each_avx2(values: &mut [f32], f: impl Fn(f32) -> f32) {
    values.iter_mut().for_each(|v| *v = f(*v));
}

/// Cephes `expf`, branch-free and without float-to-integer conversions (2ⁿ is built from the
/// bits of the rounding sum), so that a loop over a slice vectorizes.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2²³: adding it rounds to the nearest integer, which then sits in the low bits.
    const ROUND: f32 = 12_582_912.0;
    const ROUND_BITS: i32 = 0x4B40_0000;
    let c = x.clamp(LOW, HIGH);
    let t = c * LOG2E + ROUND;
    let n = t - ROUND;
    let r = c - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_2e-4_f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let y = p * r * r + r + 1.0;
    let n = (t.to_bits() as i32).wrapping_sub(ROUND_BITS);
    let scale = f32::from_bits((n.wrapping_add(127) as u32) << 23);
    let e = y * scale;
    let e = if x < LOW { 0.0 } else { e };
    if x > HIGH { f32::INFINITY } else { e }
}

/// Below it e^x is under f32's smallest normal number: 0.
const LOW: f32 = -87.33;
/// Above it 2ⁿ would overflow (e^x is within a factor of 2 of f32's largest number): +∞.
const HIGH: f32 = 88.37;

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    fn inputs() -> Vec<f32> {
        let mut v: Vec<f32> = (-20_000..=20_000).map(|i| i as f32 / 200.0).collect();
        v.extend([
            -1e30,
            -200.0,
            -87.5,
            -87.3,
            -30.0,
            -1e-30,
            0.0,
            1e-30,
            30.0,
            88.5,
            88.8,
            200.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ]);
        v
    }

    fn both(fast: fn(Tensor<1>) -> Tensor<1>, plain: impl Fn(f32) -> f32) -> Vec<(f32, f32, f32)> {
        let x = inputs();
        let t = Tensor::<1>::from_data(TensorData::new(x.clone(), [x.len()]), &Device::flex());
        let got = crate::eval::to_vec(fast(t));
        x.iter().zip(got).map(|(&x, g)| (x, g, plain(x))).collect()
    }

    #[test]
    fn exp_equals_libm_within_a_few_ulps() {
        for (x, got, want) in both(exp, f32::exp) {
            let close = (got - want).abs() <= 2e-7 * want.abs() || (got == want);
            let tiny = want < 1e-37 && got < 1e-37;
            let huge = x > HIGH && got == f32::INFINITY;
            assert!(close || tiny || huge, "exp({x}) = {got}, libm {want}");
        }
        let nan = Tensor::<1>::from_data(TensorData::new(vec![f32::NAN], [1]), &Device::flex());
        assert!(crate::eval::to_vec(exp(nan))[0].is_nan());
    }

    #[test]
    fn logistic_equals_the_plain_logistic() {
        for (x, got, want) in both(logistic, |x| 1.0 / (1.0 + (-x).exp())) {
            assert!(
                (got - want).abs() <= 3e-7 * want.max(1e-30) + 1e-38,
                "σ({x}) = {got}, plain {want}"
            );
            assert!((0.0..=1.0).contains(&got), "σ({x}) = {got}");
        }
    }

    /// The AVX2 copy of the loop (taken on this CPU when it has AVX2) gives the same bits as
    /// the loop compiled for the default target.
    #[test]
    fn the_avx2_loop_equals_the_plain_loop_bit_for_bit() {
        let logistic = |v: f32| 1.0 / (1.0 + exp_f32(-v));
        for f in [exp_f32 as fn(f32) -> f32, logistic] {
            let mut fast = inputs();
            each(&mut fast, f);
            let plain: Vec<f32> = inputs().into_iter().map(f).collect();
            for (a, b) in fast.iter().zip(&plain) {
                assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn a_shared_or_strided_tensor_is_left_intact() {
        let device = Device::flex();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 2.0, 3.0], [2, 2]),
            &device,
        );
        let kept = x.clone();
        let e = crate::eval::to_vec(exp(x.clone().transpose()));
        assert!((e[1] - 2.0f32.exp()).abs() < 1e-6, "{e:?}");
        assert_eq!(crate::eval::to_vec(kept), vec![0.0, 1.0, 2.0, 3.0]);
    }
}
