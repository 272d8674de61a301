//! The random numbers a Gibbs step consumes: the device's generator ([`DeviceDraws`]), or a fast
//! host generator whose numbers are handed over as data ([`HostDraws`], used on `flex`).

use burn::tensor::{Device, Distribution, Tensor, TensorData};

/// The random numbers a Gibbs step consumes. Training uses the device's generator; tests supply
/// fixed numbers so that a step can be checked by hand.
pub trait Draws {
    /// Uniform numbers in [0, 1) shaped like `like`.
    fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2>;
    /// Standard normal numbers shaped like `like`.
    fn normal(&mut self, like: &Tensor<2>) -> Tensor<2>;
    /// Binary states `h = 1[p > u]` for the probabilities `p`, with `u` from
    /// [`Draws::uniform`]: the same numbers, in the same order, whatever the implementation.
    fn bernoulli(&mut self, p: Tensor<2>) -> Tensor<2> {
        let u = self.uniform(&p);
        super::model::bernoulli(p, u)
    }
}

/// Draws from the device's random generator (seed it with `device.seed`).
#[derive(Debug, Default, Clone, Copy)]
pub struct DeviceDraws;

impl Draws for DeviceDraws {
    fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2> {
        like.random_like(Distribution::Default)
    }
    fn normal(&mut self, like: &Tensor<2>) -> Tensor<2> {
        like.random_like(Distribution::Normal(0.0, 1.0))
    }
}

/// Draws made on the host by a small fast generator (xoshiro256+) and handed over as data. On the
/// CPU (`flex`) device that is a plain copy, and several times faster than the device's
/// per-element generator; training uses it there for the Gibbs steps, and on every device for
/// the initial weights, the persistent chains' start and the order of the examples. Seeded from
/// the trial's seed, it makes a run reproducible even while other trials share the process (the
/// device's generator is one per process).
#[derive(Debug, Clone)]
pub struct HostDraws {
    state: [u64; 4],
}

impl HostDraws {
    /// A generator whose state is expanded from `seed` by splitmix64.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        HostDraws {
            state: [next(), next(), next(), next()],
        }
    }

    /// The generator's state, for a saved training state ([`crate::resume`]).
    pub fn state(&self) -> [u64; 4] {
        self.state
    }

    /// The generator in `state` (from [`HostDraws::state`]).
    pub fn from_state(state: [u64; 4]) -> Self {
        HostDraws { state }
    }

    /// An independent generator seeded from this one's next number (for a second stream that
    /// does not depend on how many numbers the first one consumes).
    pub fn split(&mut self) -> HostDraws {
        HostDraws::new(self.next_u64())
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<i64> {
        let mut p: Vec<i64> = (0..n as i64).collect();
        for i in (1..n).rev() {
            // Multiply-shift maps 64 random bits onto 0..=i without a visible bias for n ≪ 2⁶⁴.
            let j = ((self.next_u64() as u128 * (i as u128 + 1)) >> 64) as usize;
            p.swap(i, j);
        }
        p
    }

    /// A generator seeded by two draws from the device's generator.
    pub fn from_device(device: &Device) -> Self {
        let bits = crate::eval::to_vec(Tensor::<1>::random([2], Distribution::Default, device));
        HostDraws::new(((bits[0].to_bits() as u64) << 32) | bits[1].to_bits() as u64)
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// `n` uniform numbers in [0, 1) with 24 random bits each (two per 64-bit draw).
    fn uniforms(&mut self, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; n];
        self.each_uniform(&mut out, |slot, u| *slot = u);
        out
    }

    /// `f(slot, u)` for every slot of `out` in order, `u` the next uniform number of
    /// [`HostDraws::uniforms`].
    #[inline(always)]
    fn each_uniform(&mut self, out: &mut [f32], f: impl Fn(&mut f32, f32)) {
        const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
        let pair = |x: u64| {
            [
                (x >> 40) as f32 * SCALE,
                ((x >> 8) & 0xFF_FFFF) as f32 * SCALE,
            ]
        };
        let mut chunks = out.chunks_exact_mut(2);
        for two in &mut chunks {
            let [u0, u1] = pair(self.next_u64());
            f(&mut two[0], u0);
            f(&mut two[1], u1);
        }
        if let [last] = chunks.into_remainder() {
            f(last, pair(self.next_u64())[0]);
        }
    }
}

impl Draws for HostDraws {
    fn uniform(&mut self, like: &Tensor<2>) -> Tensor<2> {
        let dims = like.dims();
        let values = self.uniforms(dims[0] * dims[1]);
        Tensor::from_data(TensorData::new(values, dims), &like.device())
    }

    fn normal(&mut self, like: &Tensor<2>) -> Tensor<2> {
        let dims = like.dims();
        let n = dims[0] * dims[1];
        let u = self.uniforms(n + n % 2);
        let mut values = Vec::with_capacity(n + 1);
        for pair in u.chunks_exact(2) {
            // Box–Muller; 1 − u avoids log(0).
            let r = (-2.0 * (1.0 - pair[0]).ln()).sqrt();
            let (sin, cos) = (std::f32::consts::TAU * pair[1]).sin_cos();
            values.push(r * cos);
            values.push(r * sin);
        }
        values.truncate(n);
        Tensor::from_data(TensorData::new(values, dims), &like.device())
    }

    /// The fast path on the CPU: the probabilities' buffer is taken over (as in
    /// [`crate::fast_math`]) and each number replaced by its state as its uniform number is
    /// drawn, with no tensor of uniform numbers and no boolean one. Elsewhere, the plain draw.
    fn bernoulli(&mut self, p: Tensor<2>) -> Tensor<2> {
        let device = p.device();
        if device != Device::flex() || p.dtype() != burn::tensor::DType::F32 {
            let u = self.uniform(&p);
            return super::model::bernoulli(p, u);
        }
        let mut data = p.into_data();
        match data.as_mut_slice::<f32>() {
            Ok(values) => {
                self.each_uniform(values, |p, u| *p = if *p > u { 1.0 } else { 0.0 });
                Tensor::from_data(data, &device)
            }
            Err(_) => {
                let p = Tensor::from_data(data, &device);
                let u = self.uniform(&p);
                super::model::bernoulli(p, u)
            }
        }
    }
}

/// The generator of a training run's sampling: host draws seeded with `seed` on the CPU
/// (`flex`), where they are several times faster, the device's generator elsewhere.
pub fn sampling_draws(device: &burn::tensor::Device, seed: u64) -> Box<dyn Draws> {
    if *device == burn::tensor::Device::flex() {
        Box::new(HostDraws::new(seed))
    } else {
        Box::new(DeviceDraws)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::to_vec;

    /// The host generator's fast Bernoulli draw gives exactly the plain draw's states from the
    /// same numbers (an odd count, probabilities 0, 1 and NaN among them) and leaves the
    /// generator where the plain draw leaves it; a shared tensor of probabilities is not written.
    #[test]
    fn the_fast_bernoulli_draw_equals_the_plain_one() {
        let device = Device::flex();
        let mut p: Vec<f32> = (0..3 * 37).map(|i| (i as f32 * 0.618).fract()).collect();
        p[0] = 0.0;
        p[1] = 1.0;
        p[2] = f32::NAN;
        let p = Tensor::<2>::from_data(TensorData::new(p, [3, 37]), &device);
        let (mut fast, mut plain) = (HostDraws::new(9), HostDraws::new(9));
        let kept = to_vec(p.clone());
        let got = to_vec(fast.bernoulli(p.clone()));
        let u = plain.uniform(&p);
        let want = to_vec(crate::rbm::model::bernoulli(p.clone(), u));
        assert_eq!(got, want);
        assert!(got.iter().all(|&h| h == 0.0 || h == 1.0) && got[1] == 1.0 && got[2] == 0.0);
        assert!(got.iter().filter(|&&h| h == 1.0).count() > 20);
        let after = to_vec(p);
        assert!(
            kept.iter()
                .zip(&after)
                .all(|(a, b)| a == b || a.is_nan() && b.is_nan())
        );
        assert_eq!(fast.next_u64(), plain.next_u64());
    }
}
