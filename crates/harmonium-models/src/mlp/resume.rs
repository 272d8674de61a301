//! The fine-tuning state at the end of an epoch ([`crate::resume`]): the weights, the SGD
//! velocity of every parameter, the best-validation net so far with its epoch and errors, the
//! epochs since it, the learning rate, and the example order with its generator's position.
//! Restored, training continues with the next epoch as if it had not stopped.
//!
//! The fused SGD of the CPU ([`super::update`]) saves its velocities itself. With burn's
//! optimizer (Adam, or any optimizer on another device) the state carries burn's optimizer record
//! after the [`SavedState`] ([`save_with_optimizer`]), with the parameter ids it is keyed by: the
//! restored net gets those ids back, so the record fits it.

use burn::module::ParamId;
use burn::optim::OptimizerRecord;
use burn::tensor::{Bytes, Device, Tensor};
use rand_chacha::ChaCha8Rng;

use super::Mlp;
use super::model::linear_from;
use super::update::FusedSgd;
use crate::resume::{SavedState, StateError};

/// The key a fine-tuning state is saved under (within its sink's prefix).
pub(super) const STATE_KEY: &str = "mlp";

/// Where the epoch loop stands after an epoch.
pub(super) struct Standing {
    pub epochs: usize,
    pub lr: f64,
    pub since_best: usize,
    /// (epoch, valid error, test error, net) of the best validation epoch.
    pub best: Option<(usize, f64, f64, Mlp)>,
    pub order: Vec<i64>,
}

fn save_net(s: &mut SavedState, prefix: &str, net: &Mlp) {
    for (i, layer) in net.layers.iter().enumerate() {
        s.tensor(&format!("{prefix}{i}_weight"), &layer.weight.val());
        if let Some(b) = &layer.bias {
            s.tensor(&format!("{prefix}{i}_bias"), &b.val());
        }
    }
}

/// A net shaped like `like` with the saved weights of `prefix`, on `device`.
fn load_net(s: &SavedState, prefix: &str, like: &Mlp, device: &Device) -> Result<Mlp, StateError> {
    let layers = like
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let w: Tensor<2> =
                s.tensor_of(&format!("{prefix}{i}_weight"), layer.weight.dims(), device)?;
            let out = w.dims()[1];
            let b = s.tensor_of(&format!("{prefix}{i}_bias"), [out], device)?;
            Ok(linear_from(w, b, device))
        })
        .collect::<Result<_, StateError>>()?;
    Ok(Mlp { layers })
}

/// The mark of a state followed by burn's optimizer record ([`save_with_optimizer`]).
const WITH_OPTIMIZER: &[u8; 8] = b"HMOPTIM1";

/// The state after an epoch with burn's optimizer: [`WITH_OPTIMIZER`], the length of the
/// [`SavedState`] (u64, little-endian), the state (weights, where the loop stood, the parameter
/// ids), then the optimizer record's own bytes.
pub(super) fn save_with_optimizer(
    standing: &Standing,
    net: &Mlp,
    record: OptimizerRecord,
    rng: &ChaCha8Rng,
) -> Result<Vec<u8>, StateError> {
    let mut s = loop_state(standing, net, rng);
    let ids: Vec<(u64, Option<u64>)> = net
        .layers
        .iter()
        .map(|l| (l.weight.id.val(), l.bias.as_ref().map(|b| b.id.val())))
        .collect();
    s.value("param_ids", &ids);
    let state = s.to_bytes();
    let record = record
        .into_bytes()
        .map_err(|e| StateError::new(format!("the optimizer's state: {e}")))?;
    let mut out = WITH_OPTIMIZER.to_vec();
    out.extend((state.len() as u64).to_le_bytes());
    out.extend(state);
    out.extend_from_slice(&record);
    Ok(out)
}

/// A saved fine-tuning state and, when burn's optimizer saved it, the optimizer's record.
pub(super) fn read(bytes: &[u8]) -> Result<(SavedState, Option<OptimizerRecord>), StateError> {
    let Some(rest) = bytes.strip_prefix(WITH_OPTIMIZER.as_slice()) else {
        return Ok((SavedState::from_bytes(bytes)?, None));
    };
    let cut = |_| StateError::new("the saved fine-tuning state is cut short");
    let len: [u8; 8] = rest
        .get(..8)
        .ok_or(())
        .map_err(cut)?
        .try_into()
        .map_err(|_| cut(()))?;
    let len = u64::from_le_bytes(len) as usize;
    let state = rest.get(8..8 + len).ok_or(()).map_err(cut)?;
    let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(rest[8 + len..].to_vec()))
        .map_err(|e| StateError::new(format!("the optimizer's saved state: {e}")))?;
    Ok((SavedState::from_bytes(state)?, Some(record)))
}

/// Gives the layers of `net` the parameter ids saved with an optimizer's record.
pub(super) fn restore_ids(s: &SavedState, mut net: Mlp) -> Result<Mlp, StateError> {
    let ids: Vec<(u64, Option<u64>)> = s.get("param_ids")?;
    if ids.len() != net.layers.len() {
        return Err(StateError::new(format!(
            "the saved state has {} layers' parameter ids, the net {} layers",
            ids.len(),
            net.layers.len()
        )));
    }
    for (layer, (w, b)) in net.layers.iter_mut().zip(ids) {
        layer.weight.id = ParamId::from(w);
        if let (Some(bias), Some(b)) = (layer.bias.as_mut(), b) {
            bias.id = ParamId::from(b);
        }
    }
    Ok(net)
}

/// What every saved state holds: where the loop stood, the weights and the best net so far.
fn loop_state(standing: &Standing, net: &Mlp, rng: &ChaCha8Rng) -> SavedState {
    let mut s = SavedState::new();
    s.value("epochs", standing.epochs);
    s.value("lr", standing.lr);
    s.value("since_best", standing.since_best);
    s.value("order", &standing.order);
    s.value("order_rng_word_pos", rng.get_word_pos().to_string());
    save_net(&mut s, "layer", net);
    if let Some((epoch, valid, test, best)) = &standing.best {
        s.value("best", (epoch, valid, test));
        save_net(&mut s, "best", best);
    }
    s
}

/// The state after an epoch: `net` the current weights (plain device), `fused` its velocities,
/// `rng` the order's generator.
pub(super) fn save(
    standing: &Standing,
    net: &Mlp,
    fused: &FusedSgd,
    rng: &ChaCha8Rng,
) -> SavedState {
    let mut s = loop_state(standing, net, rng);
    for (i, layer) in net.layers.iter().enumerate() {
        if let Some(v) = fused.velocity(layer.weight.id) {
            s.floats(&format!("velocity{i}_weight"), vec![v.len()], v.to_vec());
        }
        if let Some(v) = layer.bias.as_ref().and_then(|b| fused.velocity(b.id)) {
            s.floats(&format!("velocity{i}_bias"), vec![v.len()], v.to_vec());
        }
    }
    s
}

/// Takes back a [`save`]d state: the weights (as a net like `like`, on `like`'s device) and
/// where the loop stood; the velocities go into `fused` once the net is on the training device
/// ([`restore_velocity`]), the order's generator position into `rng`.
pub(super) fn restore(
    s: &SavedState,
    like: &Mlp,
    rng: &mut ChaCha8Rng,
) -> Result<(Mlp, Standing), StateError> {
    let device = like.layers[0].weight.val().device();
    let net = load_net(s, "layer", like, &device)?;
    let best = match s.get::<Option<(usize, f64, f64)>>("best").ok().flatten() {
        Some((e, v, t)) => Some((e, v, t, load_net(s, "best", like, &device)?)),
        None => None,
    };
    let pos: String = s.get("order_rng_word_pos")?;
    rng.set_word_pos(
        pos.parse()
            .map_err(|_| StateError::new("order_rng_word_pos is not a number"))?,
    );
    let standing = Standing {
        epochs: s.get("epochs")?,
        lr: s.get("lr")?,
        since_best: s.get("since_best")?,
        best,
        order: s.get("order")?,
    };
    Ok((net, standing))
}

/// Puts the saved velocities into `fused`, keyed by the parameters of `net` (the training
/// device's copy of the restored net).
pub(super) fn restore_velocity(
    s: &SavedState,
    net: &Mlp,
    fused: &mut FusedSgd,
) -> Result<(), StateError> {
    for (i, layer) in net.layers.iter().enumerate() {
        let n = layer.weight.dims().iter().product();
        let v = s.floats_of(&format!("velocity{i}_weight"), &[n])?;
        fused.set_velocity(layer.weight.id, v.to_vec());
        if let Some(b) = &layer.bias {
            let v = s.floats_of(&format!("velocity{i}_bias"), &[b.dims()[0]])?;
            fused.set_velocity(b.id, v.to_vec());
        }
    }
    Ok(())
}
