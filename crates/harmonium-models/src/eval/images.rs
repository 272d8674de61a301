//! Pictures as PNG bytes: learned filters, data beside reconstructions, and samples from Gibbs
//! chains. Each visible vector is drawn as a `rows × cols` grayscale tile; tiles sit in a grid
//! with a 1-pixel gray border.

use burn::tensor::{Distribution, Tensor};

use super::{Interrupted, never_stop, to_vec};
use crate::rbm::{DeviceDraws, Rbm, VisibleUnits};

/// Shape of one visible vector as a picture (row-major pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileShape {
    pub rows: usize,
    pub cols: usize,
}

/// An 8-bit grayscale image.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// How tile values map to gray levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// Values are probabilities: 0 → black, 1 → white (clamped).
    Unit,
    /// Each tile is stretched from its own minimum (black) to its maximum (white).
    PerTile,
}

const BORDER: u8 = 128;

/// Lays out `values.len() / (rows·cols)` tiles in a grid `grid_cols` wide.
pub fn tile_grid(values: &[f32], tile: TileShape, grid_cols: usize, scaling: Scaling) -> GrayImage {
    let size = tile.rows * tile.cols;
    let n = if size == 0 { 0 } else { values.len() / size };
    let grid_cols = grid_cols.max(1).min(n.max(1));
    let grid_rows = n.div_ceil(grid_cols).max(1);
    let width = grid_cols * (tile.cols + 1) + 1;
    let height = grid_rows * (tile.rows + 1) + 1;
    let mut pixels = vec![BORDER; width * height];
    for (t, vals) in values.chunks_exact(size.max(1)).take(n).enumerate() {
        let (lo, hi) = match scaling {
            Scaling::Unit => (0.0, 1.0),
            Scaling::PerTile => vals
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                }),
        };
        let range = if hi > lo { hi - lo } else { 1.0 };
        let (x0, y0) = (
            (t % grid_cols) * (tile.cols + 1) + 1,
            (t / grid_cols) * (tile.rows + 1) + 1,
        );
        for r in 0..tile.rows {
            for c in 0..tile.cols {
                let x = ((vals[r * tile.cols + c] - lo) / range).clamp(0.0, 1.0);
                let x = if x.is_nan() { 0.0 } else { x };
                pixels[(y0 + r) * width + x0 + c] = (x * 255.0).round() as u8;
            }
        }
    }
    GrayImage {
        width,
        height,
        pixels,
    }
}

/// Encodes an image as PNG bytes.
pub fn encode_png(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, image.width as u32, image.height as u32);
        encoder.set_color(png::ColorType::Grayscale);
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

fn grid_width(n: usize) -> usize {
    (n as f64).sqrt().ceil() as usize
}

fn scaling(rbm: &Rbm) -> Scaling {
    if rbm.is_binary() {
        Scaling::Unit
    } else {
        Scaling::PerTile
    }
}

/// The incoming weights of the first `max_filters` hidden units, each as a tile stretched to its
/// own range.
pub fn filters_png(rbm: &Rbm, tile: TileShape, max_filters: usize) -> Vec<u8> {
    weights_png(&rbm.weights, tile, max_filters)
}

/// The columns of `weights` ([visible, units]: the incoming weights of the first `max` units)
/// as tiles, each stretched to its own range (an RBM's or a DBM's first-layer filters).
pub fn weights_png(weights: &Tensor<2>, tile: TileShape, max: usize) -> Vec<u8> {
    let n = weights.dims()[1].min(max);
    let filters = weights.clone().narrow(1, 0, n).transpose(); // [n, visible]
    encode_png(&tile_grid(
        &to_vec(filters),
        tile,
        grid_width(n),
        Scaling::PerTile,
    ))
}

/// Rows of probabilities (`[n, visible]`, in [0, 1]) as tiles in a square-ish grid.
pub fn probabilities_png(rows: &Tensor<2>, tile: TileShape) -> Vec<u8> {
    let n = rows.dims()[0];
    encode_png(&tile_grid(
        &to_vec(rows.clone()),
        tile,
        grid_width(n),
        Scaling::Unit,
    ))
}

/// Each row of `data` followed by its reconstruction `E[v|h]`, `h ~ p(h|v)`, in pairs, five pairs
/// to a grid row.
pub fn reconstructions_png(rbm: &Rbm, data: &Tensor<2>, tile: TileShape) -> Vec<u8> {
    let n = data.dims()[0];
    let recon = rbm.visible_mean(rbm.sample_hidden(data.clone(), &mut DeviceDraws));
    // Interleave rows: data_0, recon_0, data_1, recon_1, ...
    let pairs = Tensor::stack::<3>(vec![data.clone(), recon], 1).reshape([2 * n, rbm.visible()]);
    encode_png(&tile_grid(&to_vec(pairs), tile, 10, scaling(rbm)))
}

/// Gibbs chains started at the rows of `start` (training examples, or [`random_states`]), run
/// `steps` steps; each tile is the final p(v|h). Started at data, a short run shows which modes the
/// model keeps near the data and a long one how far its samples drift from them.
pub fn samples_png(rbm: &Rbm, tile: TileShape, start: Tensor<2>, steps: usize) -> Vec<u8> {
    samples_png_while(rbm, tile, start, steps, &never_stop).expect("sampling that never stops")
}

/// [`samples_png`] that stops when asked, as [`Rbm::sample_gibbs_while`] does: no picture then.
pub fn samples_png_while(
    rbm: &Rbm,
    tile: TileShape,
    start: Tensor<2>,
    steps: usize,
    keep_going: &dyn Fn() -> bool,
) -> Result<Vec<u8>, Interrupted> {
    let chains = start.dims()[0];
    let sample = rbm.sample_gibbs_while(start, steps.max(1), keep_going)?;
    Ok(encode_png(&tile_grid(
        &to_vec(sample.visible_mean),
        tile,
        grid_width(chains),
        scaling(rbm),
    )))
}

/// `chains` random visible states (binary: fair coins; Gaussian: the visible biases plus noise).
pub fn random_states(rbm: &Rbm, chains: usize) -> Tensor<2> {
    let device = rbm.device();
    match &rbm.visible_units {
        VisibleUnits::Binary => Tensor::random(
            [chains, rbm.visible()],
            Distribution::Bernoulli(0.5),
            &device,
        ),
        VisibleUnits::Gaussian { .. } => rbm.sample_visible(
            Tensor::zeros([chains, rbm.hidden()], &device),
            &mut DeviceDraws,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{random_rbm, serial};
    use burn::tensor::Device;

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn tile_grid_places_normalised_tiles_inside_one_pixel_borders() {
        // Two 2×3 tiles in a grid 2 wide: 2·(3+1)+1 = 9 wide, 2+1+1 = 4 high.
        let values = [0.0, 0.5, 1.0, 1.0, 0.5, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0];
        let img = tile_grid(&values, TileShape { rows: 2, cols: 3 }, 2, Scaling::PerTile);
        assert_eq!((img.width, img.height), (9, 4));
        assert!(img.pixels[..9].iter().all(|&p| p == BORDER), "top border");
        assert_eq!(&img.pixels[9 + 1..9 + 4], &[0, 128, 255]);
        assert_eq!(&img.pixels[9 + 5..9 + 8], &[0, 51, 102]);
        assert_eq!(img.pixels[2 * 9 + 7], 255);
        let (w, h, pixels) = decode(&encode_png(&img));
        assert_eq!((w, h, pixels), (9, 4, img.pixels));
    }

    #[test]
    fn rbm_pictures_have_the_expected_grid_sizes() {
        let _guard = serial();
        let device = Device::flex();
        let rbm = random_rbm(12, 9, 1.0, 61, &device);
        let tile = TileShape { rows: 3, cols: 4 };
        // 9 filters in a 3×3 grid of 4×3-pixel tiles plus borders.
        assert_eq!(decode(&filters_png(&rbm, tile, 100)).0, 3 * 5 + 1);
        let data = Tensor::<2>::random([5, 12], Distribution::Bernoulli(0.5), &device);
        let (w, h, _) = decode(&reconstructions_png(&rbm, &data, tile));
        assert_eq!((w, h), (10 * 5 + 1, 3 + 2));
        let (w, h, _) = decode(&samples_png(&rbm, tile, random_states(&rbm, 16), 3));
        assert_eq!((w, h), (4 * 5 + 1, 4 * 4 + 1));
    }

    #[test]
    fn samples_asked_to_stop_make_no_picture_and_stop_at_the_next_check() {
        let _guard = serial();
        let device = Device::flex();
        let rbm = random_rbm(12, 9, 1.0, 62, &device);
        let tile = TileShape { rows: 3, cols: 4 };
        let asked = std::cell::Cell::new(0usize);
        let keep_going = || {
            asked.set(asked.get() + 1);
            asked.get() <= 2
        };
        // A million Gibbs steps would take minutes; the third question stops them.
        let start = random_states(&rbm, 4);
        assert_eq!(
            samples_png_while(&rbm, tile, start, 1_000_000, &keep_going),
            Err(Interrupted)
        );
        assert_eq!(asked.get(), 3);
    }
}
