//! Pictures of a deep autoencoder: test digits above their reconstructions (grayscale), and a
//! map of 2-D codes coloured by class (RGB).
//!
//! * `reconstructions`: the first N inputs and their reconstructions x̂ in a grid up to 10 tiles
//!   wide, rows alternating: a row of originals, then the same digits reconstructed beneath.
//! * `code_map`: each code (c₁, c₂) a dot of its class's colour on a white square.
//!
//! Both are drawn by PCA's picture code ([`crate::pca::pictures`]), so the two methods' pictures
//! of the same digits look alike.

use burn::tensor::Tensor;

use super::{DeepAutoencoder, DeepAutoencoderError};
use crate::eval::images::TileShape;
use crate::pca::PcaError;
use crate::pca::pictures;

/// The colours of the classes 0–9, shared with PCA's code map.
pub use crate::pca::pictures::CLASS_COLOURS;

fn picture_error(e: PcaError) -> DeepAutoencoderError {
    match e {
        PcaError::Shape {
            what,
            expected,
            got,
        } => DeepAutoencoderError::Shape {
            what,
            expected,
            got,
        },
        e => DeepAutoencoderError::Config(format!("picture: {e}")),
    }
}

/// The scatter of `codes` ([n, 2]) coloured by `labels` (one per row) as an RGB PNG of
/// `size × size` pixels: PCA's code map ([`pictures::code_map_png`]), so the autoencoder's and
/// PCA's maps of the same digits compare colour for colour.
pub fn code_map_png(
    codes: &Tensor<2>,
    labels: &[u32],
    size: usize,
) -> Result<Vec<u8>, DeepAutoencoderError> {
    pictures::code_map_png(codes, labels, size).map_err(picture_error)
}

/// The rows of `x` (at most `count`) above their reconstructions by `model`, in rows of up to
/// 10 tiles: PCA's layout ([`pictures::reconstructions_png`]).
pub fn reconstructions_png(
    model: &DeepAutoencoder,
    x: &Tensor<2>,
    tile: TileShape,
    count: usize,
) -> Result<Vec<u8>, DeepAutoencoderError> {
    let n = count.min(x.dims()[0]);
    if n == 0 {
        return Err(DeepAutoencoderError::EmptyData);
    }
    let x = x.clone().narrow(0, 0, n);
    let recon = model.reconstruct(x.clone());
    pictures::reconstructions_png(&x, &recon, tile).map_err(picture_error)
}
