//! The pictures: the code map (PCA's) and the reconstructions grid's layout.

use burn::tensor::Device;

use super::super::{
    CLASS_COLOURS, DeepAutoencoder, DeepAutoencoderError, code_map_png, reconstructions_png,
};
use crate::eval::images::TileShape;
use crate::eval::testing::{HostRng, tensor_from_rows};
use crate::eval::to_vec;

fn decode(bytes: &[u8]) -> (u32, u32, png::ColorType, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, info.color_type, buf)
}

/// The autoencoder's code map is PCA's: an RGB square with the dots in the shared class colours;
/// a code that is not 2-D or labels of another count are shape errors.
#[test]
fn the_code_map_is_pcas_rgb_map_of_the_codes_in_class_colours() {
    let device = Device::flex();
    let codes = tensor_from_rows(&[vec![-3.0, 2.0], vec![5.0, 10.0], vec![1.0, 6.0]], &device);
    let labels = [0, 1, 13];
    let bytes = code_map_png(&codes, &labels, 100).unwrap();
    assert_eq!(
        bytes,
        crate::pca::code_map_png(&codes, &labels, 100).unwrap(),
        "one code map for both methods"
    );
    let (w, h, colour, pixels) = decode(&bytes);
    assert_eq!((w, h, colour), (100, 100, png::ColorType::Rgb));
    for c in [0, 1, 3] {
        assert!(
            pixels.chunks(3).any(|p| p == CLASS_COLOURS[c]),
            "class {c}'s colour is drawn"
        );
    }
    assert!(matches!(
        code_map_png(&codes, &[1, 2], 40),
        Err(DeepAutoencoderError::Shape { .. })
    ));
    let three = tensor_from_rows(&[vec![0.0, 1.0, 2.0]], &device);
    assert!(matches!(
        code_map_png(&three, &[0], 40),
        Err(DeepAutoencoderError::Shape {
            expected: 2,
            got: 3,
            ..
        })
    ));
}

/// 13 digits of 4×3 pixels, 10 to a row: a row of originals, their reconstructions, then the
/// last 3 originals and reconstructions padded with border-gray tiles; each tile holds its
/// values.
#[test]
fn reconstructions_alternate_rows_of_originals_and_reconstructions() {
    let device = Device::flex();
    let net = DeepAutoencoder::random(12, &[5, 2], 1.0, 3, &device).unwrap();
    let mut rng = HostRng::new(4);
    let x: Vec<Vec<f64>> = (0..15)
        .map(|_| (0..12).map(|_| rng.uniform()).collect())
        .collect();
    let x = tensor_from_rows(&x, &device);
    let tile = TileShape { rows: 4, cols: 3 };
    let (w, h, colour, pixels) = decode(&reconstructions_png(&net, &x, tile, 13).unwrap());
    assert_eq!(
        (w, h, colour),
        (10 * 4 + 1, 4 * 5 + 1, png::ColorType::Grayscale)
    );
    let originals = to_vec(x.clone());
    let recon = to_vec(net.reconstruct(x.clone().narrow(0, 0, 13)));
    // The pixel (r, c) of tile t in grid row g.
    let px = |g: usize, t: usize, r: usize, c: usize| {
        pixels[(g * 5 + 1 + r) * w as usize + t * 4 + 1 + c]
    };
    let level = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    for (g, t, k) in [(0, 0, 0), (0, 9, 9), (2, 0, 10), (2, 2, 12)] {
        for (r, c) in [(0, 0), (3, 2), (1, 1)] {
            assert_eq!(px(g, t, r, c), level(originals[k * 12 + r * 3 + c]));
            assert_eq!(px(g + 1, t, r, c), level(recon[k * 12 + r * 3 + c]));
        }
    }
    assert_eq!(px(2, 3, 0, 0), 128, "padding");
    assert_eq!(px(3, 9, 3, 2), 128, "padding");
    assert!(matches!(
        reconstructions_png(&net, &x, tile, 0),
        Err(DeepAutoencoderError::EmptyData)
    ));
}
