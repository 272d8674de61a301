//! Pictures of codes as PNG bytes: test digits above their reconstructions (PCA's, logistic
//! PCA's, an autoencoder's: one call each on the same originals), and a 2-D code map, a scatter
//! of two-component codes coloured by class, as an RGB image.

use burn::tensor::Tensor;

use super::PcaError;
use crate::eval::images::{Scaling, TileShape, encode_png, tile_grid};
use crate::eval::to_vec;

/// Examples per row pair in [`reconstructions_png`].
pub const PER_ROW: usize = 10;

/// Gray of the grid's borders (as in [`crate::eval::images`]), also the colour of empty tiles.
const BLANK: f32 = 128.0 / 255.0;

/// Originals ([m, d]) and their reconstructions ([m, d]) as a grid of `tile`-shaped grayscale
/// tiles (values as probabilities, clamped to [0, 1]): up to [`PER_ROW`] originals in a row,
/// their reconstructions in the row below, then the next pair of rows.
pub fn reconstructions_png(
    originals: &Tensor<2>,
    reconstructions: &Tensor<2>,
    tile: TileShape,
) -> Result<Vec<u8>, PcaError> {
    comparison_png(originals, &[reconstructions], tile)
}

/// Originals ([m, d]) above the reconstructions of the same examples by each method in turn
/// (each [m, d]): up to [`PER_ROW`] originals in a row, then one row per method of the same
/// examples, then the next block of rows. With one method this is [`reconstructions_png`].
pub fn comparison_png(
    originals: &Tensor<2>,
    methods: &[&Tensor<2>],
    tile: TileShape,
) -> Result<Vec<u8>, PcaError> {
    let [m, d] = originals.dims();
    if m == 0 {
        return Err(PcaError::EmptyData("the originals".into()));
    }
    if d != tile.rows * tile.cols {
        return Err(PcaError::Shape {
            what: format!(
                "columns of the originals (pixels of a {}×{} tile)",
                tile.rows, tile.cols
            ),
            expected: tile.rows * tile.cols,
            got: d,
        });
    }
    for reconstructions in methods {
        for (what, expected, got) in [
            ("rows", m, reconstructions.dims()[0]),
            ("columns", d, reconstructions.dims()[1]),
        ] {
            if got != expected {
                return Err(PcaError::Shape {
                    what: format!("{what} of the reconstructions (as the originals)"),
                    expected,
                    got,
                });
            }
        }
    }
    let per_row = m.min(PER_ROW);
    let sources: Vec<Vec<f32>> = std::iter::once(originals)
        .chain(methods.iter().copied())
        .map(|t| to_vec(t.clone()))
        .collect();
    let mut values = Vec::with_capacity(sources.len() * m.div_ceil(per_row) * per_row * d);
    for start in (0..m).step_by(per_row) {
        let len = per_row.min(m - start);
        for source in &sources {
            values.extend_from_slice(&source[start * d..(start + len) * d]);
            values.resize(values.len() + (per_row - len) * d, BLANK);
        }
    }
    Ok(encode_png(&tile_grid(
        &values,
        tile,
        per_row,
        Scaling::Unit,
    )))
}

/// Ten distinct colours for the classes 0–9 (matplotlib's "tab10"); class c is drawn in
/// `CLASS_COLOURS[c % 10]`.
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

/// The background of a code map.
pub const BACKGROUND: [u8; 3] = [255, 255, 255];
/// The axes (code 0) of a code map, where they fall inside it.
pub const AXES: [u8; 3] = [220, 220, 220];

/// An 8-bit RGB image, pixels row-major as `[r, g, b]` triples.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl RgbImage {
    fn new(width: usize, height: usize, colour: [u8; 3]) -> RgbImage {
        RgbImage {
            width,
            height,
            pixels: colour.repeat(width * height),
        }
    }

    fn set(&mut self, x: usize, y: usize, colour: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = 3 * (y * self.width + x);
            self.pixels[i..i + 3].copy_from_slice(&colour);
        }
    }
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

/// The smallest code map side.
pub const MIN_MAP_SIZE: usize = 16;

/// The pixel position of a code along one axis: the finite codes' `range` mapped onto
/// [margin, size − 1 − margin] (a single value to the middle); `flip` puts larger codes first
/// (the vertical axis, upwards).
fn axis_map(range: Option<(f64, f64)>, size: usize, flip: bool) -> impl Fn(f64) -> usize {
    let (lo, hi) = range.unwrap_or((0.0, 0.0));
    let margin = (size / 20).max(2) as f64;
    let span = (size - 1) as f64 - 2.0 * margin;
    move |v: f64| {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        let t = if flip { 1.0 - t } else { t };
        (margin + t * span).round() as usize
    }
}

/// A `size`×`size` RGB scatter of two-component codes ([n, 2]: first component to the right,
/// second upwards, each stretched to the picture), one dot per example coloured by its class
/// (`labels[i]`, see [`CLASS_COLOURS`]), on white with the zero axes in light gray. Examples
/// are drawn in order (later ones on top); non-finite codes are left out.
pub fn code_map_png(codes: &Tensor<2>, labels: &[u32], size: usize) -> Result<Vec<u8>, PcaError> {
    let [n, c] = codes.dims();
    if c != 2 {
        return Err(PcaError::Shape {
            what: "columns of the codes of a code map (two components)".into(),
            expected: 2,
            got: c,
        });
    }
    if labels.len() != n {
        return Err(PcaError::Shape {
            what: "labels of a code map (one per code)".into(),
            expected: n,
            got: labels.len(),
        });
    }
    if size < MIN_MAP_SIZE {
        return Err(PcaError::Config(format!(
            "size: a code map needs at least {MIN_MAP_SIZE} pixels a side, got {size}"
        )));
    }
    let v: Vec<f64> = to_vec(codes.clone()).into_iter().map(f64::from).collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = v.chunks_exact(2).map(|p| (p[0], p[1])).unzip();
    let (x_range, y_range) = (range(&xs), range(&ys));
    let (to_x, to_y) = (
        axis_map(x_range, size, false),
        axis_map(y_range, size, true),
    );
    let mut image = RgbImage::new(size, size, BACKGROUND);
    if let Some((lo, hi)) = x_range
        && lo < 0.0
        && hi > 0.0
    {
        let x0 = to_x(0.0);
        (0..size).for_each(|y| image.set(x0, y, AXES));
    }
    if let Some((lo, hi)) = y_range
        && lo < 0.0
        && hi > 0.0
    {
        let y0 = to_y(0.0);
        (0..size).for_each(|x| image.set(x, y0, AXES));
    }
    let radius = (size / 200).max(1) as isize;
    for ((&x, &y), &label) in xs.iter().zip(&ys).zip(labels) {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let colour = CLASS_COLOURS[label as usize % CLASS_COLOURS.len()];
        let (px, py) = (to_x(x) as isize, to_y(y) as isize);
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                if dx * dx + dy * dy <= radius * radius + 1 && px + dx >= 0 && py + dy >= 0 {
                    image.set((px + dx) as usize, (py + dy) as usize, colour);
                }
            }
        }
    }
    Ok(encode_rgb_png(&image))
}

/// The range of the finite values, if any.
fn range(values: &[f64]) -> Option<(f64, f64)> {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(None, |r, &v| match r {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}
