//! Fantasies: what the generative model believes each class looks like. For every class k the
//! label units are clamped to k and the top-level associative memory runs its alternating
//! Gibbs chain for n steps (`h ~ p(h | x, y = k)`, then `x ~ p(x | h)`) from random or
//! data-derived penultimate states; then one down-pass with the generative weights samples the
//! directed layers and gives the visible probabilities `p(v | h¹)`.
//!
//! The random numbers, in order: the random start (`[K·P, n_x]`), per step `[K·P, H]` and
//! `[K·P, n_x]`, then the down-pass's ([`UpDownDbn::down_states`]).

use burn::tensor::{Int, Tensor, TensorData};

use super::UpDownDbn;
use super::top::one_hot;
use crate::eval::images::{Scaling, TileShape, encode_png, tile_grid};
use crate::eval::{CHECK_EVERY, Interrupted, check, never_stop, to_vec};
use crate::rbm::Draws;
use crate::rbm::model::bernoulli;

impl UpDownDbn {
    /// `per_class` fantasies of every class, `[K · per_class, visible]` visible probabilities,
    /// class-major (rows `k·per_class … (k+1)·per_class − 1` are class k). `start`, when given,
    /// is `[per_class, n_x]` penultimate states that start the chains of every class; otherwise
    /// fair coins.
    pub fn fantasies(
        &self,
        per_class: usize,
        steps: usize,
        start: Option<Tensor<2>>,
        draws: &mut dyn Draws,
    ) -> Tensor<2> {
        self.fantasies_while(per_class, steps, start, draws, &never_stop)
            .expect("fantasies that never stop")
    }

    /// [`UpDownDbn::fantasies`] that asks `keep_going` every [`CHECK_EVERY`] Gibbs steps and
    /// stops with [`Interrupted`] once it says no.
    pub fn fantasies_while(
        &self,
        per_class: usize,
        steps: usize,
        start: Option<Tensor<2>>,
        draws: &mut dyn Draws,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Tensor<2>, Interrupted> {
        let (k, n_x) = (self.classes(), self.top.penultimate());
        let device = self.device();
        let chains = k * per_class;
        let classes: Vec<i64> = (0..chains).map(|r| (r / per_class) as i64).collect();
        let y = one_hot(
            Tensor::<1, Int>::from_data(TensorData::new(classes, [chains]), &device),
            k,
        );
        let mut x = match start {
            Some(s) => {
                assert_eq!(s.dims(), [per_class, n_x], "the fantasies' start states");
                s.repeat_dim(0, k)
            }
            None => {
                let half = Tensor::<2>::full([chains, n_x], 0.5, &device);
                let u = draws.uniform(&half);
                bernoulli(half, u)
            }
        };
        for step in 0..steps {
            if step % CHECK_EVERY == 0 {
                check(keep_going)?;
            }
            let ph = self.top.top_probs(x, y.clone());
            let u = draws.uniform(&ph);
            let h = bernoulli(ph, u);
            let (px, _) = self.top.visible_probs(h);
            let u = draws.uniform(&px);
            x = bernoulli(px, u);
        }
        Ok(self.down_states(x, draws).swap_remove(0))
    }
}

/// The fantasies of [`UpDownDbn::fantasies`] as a PNG grid with one row per class and
/// `per_class` columns.
pub fn fantasies_png(fantasies: &Tensor<2>, tile: TileShape, per_class: usize) -> Vec<u8> {
    encode_png(&tile_grid(
        &to_vec(fantasies.clone()),
        tile,
        per_class,
        Scaling::Unit,
    ))
}
