//! An RBM's training state at the end of an epoch ([`crate::resume`]): W, b and c, the learner's
//! increments, persistent chains and generators, and the number of epochs done. Restored, the
//! training continues with the next epoch exactly as if it had not stopped (on `flex`, where
//! every random number of training comes from the saved host generators).

use super::learner::Learner;
use super::{Rbm, RbmError};
use crate::resume::SavedState;

/// The key an RBM's training state is saved under (within its sink's prefix).
pub(super) const STATE_KEY: &str = "rbm";

impl Rbm {
    /// The state after `epochs` epochs, with `learner`'s.
    pub(super) fn saved_state(&self, epochs: usize, learner: &Learner) -> SavedState {
        let mut s = SavedState::new();
        s.value("epochs", epochs);
        s.tensor("W", &self.weights);
        s.tensor("b_visible", &self.visible_bias);
        s.tensor("c_hidden", &self.hidden_bias);
        learner.save(&mut s);
        s
    }

    /// Takes back a [`Rbm::saved_state`] into this RBM and `learner`; returns the epochs done.
    pub(super) fn restore(
        &mut self,
        s: &SavedState,
        learner: &mut Learner,
    ) -> Result<usize, RbmError> {
        self.weights = s.tensor_like("W", &self.weights)?;
        self.visible_bias = s.tensor_like("b_visible", &self.visible_bias)?;
        self.hidden_bias = s.tensor_like("c_hidden", &self.hidden_bias)?;
        learner.restore(s)?;
        Ok(s.get("epochs")?)
    }
}
