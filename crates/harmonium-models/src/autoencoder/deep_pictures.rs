//! Pictures of a deep autoencoder: test digits above their reconstructions (grayscale), and a
//! map of 2-D codes coloured by class (RGB).
//!
//! * `reconstructions`: the first N inputs and their reconstructions x̂ in a grid up to 10 tiles
//!   wide, rows alternating: a row of originals, then the same digits reconstructed beneath.
//! * `code_map`: each code (c₁, c₂) a 3×3-pixel dot on a white square, the axes stretched to the
//!   codes' range with a margin; class k coloured by the k-th of 10 distinct colours (labels
//!   ≥ 10 reuse them modulo 10; without labels every dot is dark gray).

use burn::tensor::Tensor;

use super::{DeepAutoencoder, DeepAutoencoderError};
use crate::eval::images::{Scaling, TileShape, encode_png, tile_grid};
use crate::eval::to_vec;

/// The colours of the classes 0–9 (Tableau 10).
pub const CLASS_COLOURS: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// The dot colour of points without labels.
const UNLABELLED: [u8; 3] = [40, 40, 40];

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Encodes an RGB image as PNG bytes.
pub fn encode_rgb_png(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, image.width as u32, image.height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .expect("writing a PNG header to memory");
        writer
            .write_image_data(&image.pixels)
            .expect("writing PNG data to memory");
    }
    bytes
}

/// The scatter of `codes` ([n, 2]) on a `size × size` white image, coloured by `labels` (one
/// per row) when given.
pub fn code_map(
    codes: &Tensor<2>,
    labels: Option<&[u32]>,
    size: usize,
) -> Result<RgbImage, DeepAutoencoderError> {
    let [n, d] = codes.dims();
    if d != 2 {
        return Err(DeepAutoencoderError::Shape {
            what: "the code map's code size".into(),
            expected: 2,
            got: d,
        });
    }
    if let Some(l) = labels
        && l.len() != n
    {
        return Err(DeepAutoencoderError::Shape {
            what: "the code map's labels (one per code)".into(),
            expected: n,
            got: l.len(),
        });
    }
    let values = to_vec(codes.clone());
    let mut range = [(f32::INFINITY, f32::NEG_INFINITY); 2];
    for p in values.chunks_exact(2) {
        for (r, &x) in range.iter_mut().zip(p) {
            if x.is_finite() {
                *r = (r.0.min(x), r.1.max(x));
            }
        }
    }
    let mut img = RgbImage {
        width: size,
        height: size,
        pixels: vec![255; size * size * 3],
    };
    let margin = (size / 20).max(2) as f32;
    let span = size as f32 - 1.0 - 2.0 * margin;
    // Position of x in 0..size along an axis of range (lo, hi); a flat axis sits in the middle.
    let place = |x: f32, (lo, hi): (f32, f32)| -> usize {
        let t = if hi > lo { (x - lo) / (hi - lo) } else { 0.5 };
        (margin + t * span).round().clamp(0.0, size as f32 - 1.0) as usize
    };
    for (i, p) in values.chunks_exact(2).enumerate() {
        if !(p[0].is_finite() && p[1].is_finite()) {
            continue;
        }
        let colour = labels.map_or(UNLABELLED, |l| CLASS_COLOURS[l[i] as usize % 10]);
        let (cx, cy) = (place(p[0], range[0]), size - 1 - place(p[1], range[1]));
        for y in cy.saturating_sub(1)..=(cy + 1).min(size - 1) {
            for x in cx.saturating_sub(1)..=(cx + 1).min(size - 1) {
                let at = (y * size + x) * 3;
                img.pixels[at..at + 3].copy_from_slice(&colour);
            }
        }
    }
    Ok(img)
}

/// [`code_map`] as PNG bytes.
pub fn code_map_png(
    codes: &Tensor<2>,
    labels: Option<&[u32]>,
    size: usize,
) -> Result<Vec<u8>, DeepAutoencoderError> {
    Ok(encode_rgb_png(&code_map(codes, labels, size)?))
}

/// The rows of `x` (at most `count`) above their reconstructions, in rows of up to 10 tiles
/// (module doc); a last, shorter row is padded with black tiles.
pub fn reconstructions_png(
    model: &DeepAutoencoder,
    x: &Tensor<2>,
    tile: TileShape,
    count: usize,
) -> Vec<u8> {
    let [rows, d] = x.dims();
    let n = count.min(rows);
    if n == 0 {
        return encode_png(&tile_grid(&[], tile, 1, Scaling::Unit));
    }
    let x = x.clone().narrow(0, 0, n);
    let originals = to_vec(x.clone());
    let recon = to_vec(model.reconstruct(x));
    let cols = n.min(10);
    let mut values = Vec::with_capacity(2 * n.div_ceil(cols) * cols * d);
    for start in (0..n).step_by(cols) {
        let len = cols.min(n - start);
        for source in [&originals, &recon] {
            values.extend_from_slice(&source[start * d..(start + len) * d]);
            values.resize(values.len() + (cols - len) * d, 0.0);
        }
    }
    encode_png(&tile_grid(&values, tile, cols, Scaling::Unit))
}
