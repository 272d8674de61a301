//! The pictures: the code map's size, dots and colours; the reconstructions grid's layout.

use burn::tensor::Device;

use super::super::{
    CLASS_COLOURS, DeepAutoencoder, DeepAutoencoderError, code_map, code_map_png,
    reconstructions_png,
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

/// Codes at the corners of their range land a margin (size/20 pixels) inside the square, the
/// second axis upwards, each a 3×3 dot of its class's colour on white.
#[test]
fn the_code_map_is_an_rgb_square_with_dots_in_class_colours() {
    let device = Device::flex();
    let codes = tensor_from_rows(&[vec![-3.0, 2.0], vec![5.0, 10.0], vec![1.0, 6.0]], &device);
    let labels = [0, 1, 13];
    let bytes = code_map_png(&codes, Some(&labels), 100).unwrap();
    let (w, h, colour, pixels) = decode(&bytes);
    assert_eq!((w, h, colour), (100, 100, png::ColorType::Rgb));
    let at = |x: usize, y: usize| -> [u8; 3] {
        let i = (y * 100 + x) * 3;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    // margin 5, span 89: (−3, 2) → x 5, y 99 − 5; (5, 10) → x 94, y 5; (1, 6) the middle.
    assert_eq!(at(5, 94), CLASS_COLOURS[0]);
    assert_eq!(at(4, 95), CLASS_COLOURS[0]);
    assert_eq!(at(94, 5), CLASS_COLOURS[1]);
    assert_eq!(at(50, 50), CLASS_COLOURS[3]);
    assert_eq!(at(50, 52), [255, 255, 255]);
    assert_eq!(at(0, 0), [255, 255, 255]);
    let coloured = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
    assert_eq!(coloured, 27);
    // Ten distinct colours.
    for (i, a) in CLASS_COLOURS.iter().enumerate() {
        assert!(CLASS_COLOURS[i + 1..].iter().all(|b| b != a));
    }
    // Without labels every dot is one colour; other sizes follow `size`.
    let img = code_map(&codes, None, 40).unwrap();
    assert_eq!(
        (img.width, img.height, img.pixels.len()),
        (40, 40, 40 * 40 * 3)
    );
    assert!(matches!(
        code_map(&codes, Some(&[1, 2]), 40),
        Err(DeepAutoencoderError::Shape {
            expected: 3,
            got: 2,
            ..
        })
    ));
    let three = tensor_from_rows(&[vec![0.0, 1.0, 2.0]], &device);
    assert!(matches!(
        code_map(&three, None, 40),
        Err(DeepAutoencoderError::Shape {
            expected: 2,
            got: 3,
            ..
        })
    ));
}

/// 13 digits of 4×3 pixels, 10 to a row: a row of originals, their reconstructions, then the
/// last 3 originals and reconstructions padded with black tiles; each tile holds its values.
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
    let (w, h, colour, pixels) = decode(&reconstructions_png(&net, &x, tile, 13));
    assert_eq!(
        (w, h, colour),
        (10 * 4 + 1, 4 * 5 + 1, png::ColorType::Grayscale)
    );
    let originals = to_vec(x.clone());
    let recon = to_vec(net.reconstruct(x.narrow(0, 0, 13)));
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
    assert_eq!(px(2, 3, 0, 0), 0, "padding");
    assert_eq!(px(3, 9, 3, 2), 0, "padding");
}
