//! Pictures: the originals-above-reconstructions grid pixel by pixel, the code map's size,
//! colour type and class colours, and a 2-component PCA code map of MNIST digits.

use std::collections::HashSet;

use burn::tensor::{Device, Tensor, TensorData};

use super::uniform;
use crate::eval::images::TileShape;
use crate::eval::testing::mnist_binary;
use crate::pca::pictures::{AXES, BACKGROUND, CLASS_COLOURS};
use crate::pca::{
    Pca, PcaError, code_map_png, comparison_png, reconstructions_png, squared_error_per_example,
};

/// Width, height, colour type and pixels of a PNG.
fn decode(bytes: &[u8]) -> (usize, usize, png::ColorType, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (
        info.width as usize,
        info.height as usize,
        info.color_type,
        buf,
    )
}

fn rgb_at(pixels: &[u8], width: usize, x: usize, y: usize) -> [u8; 3] {
    let i = 3 * (y * width + x);
    [pixels[i], pixels[i + 1], pixels[i + 2]]
}

#[test]
fn each_method_has_its_row_below_the_originals() {
    let device = Device::flex();
    let tile = TileShape { rows: 2, cols: 2 };
    // Two examples: originals white, the first method's reconstructions black, the second's 0.5.
    let ones = Tensor::<2>::ones([2, 4], &device);
    let zeros = Tensor::<2>::zeros([2, 4], &device);
    let halves = Tensor::<2>::full([2, 4], 0.5, &device);
    let (w, h, _, pixels) = decode(&comparison_png(&ones, &[&zeros, &halves], tile).unwrap());
    assert_eq!((w, h), (2 * 3 + 1, 3 * 3 + 1));
    let at = |tx: usize, ty: usize| pixels[(ty * 3 + 1) * w + tx * 3 + 1];
    assert_eq!([at(0, 0), at(1, 0)], [255, 255], "originals");
    assert_eq!([at(0, 1), at(1, 1)], [0, 0], "first method");
    assert_eq!([at(0, 2), at(1, 2)], [128, 128], "second method");
    // One method is the reconstructions grid, byte for byte.
    assert_eq!(
        comparison_png(&ones, &[&zeros], tile).unwrap(),
        reconstructions_png(&ones, &zeros, tile).unwrap()
    );
    // A method with other rows than the originals is refused.
    let short = Tensor::<2>::zeros([1, 4], &device);
    assert!(matches!(
        comparison_png(&ones, &[&zeros, &short], tile),
        Err(PcaError::Shape { .. })
    ));
}

#[test]
fn reconstructions_sit_in_the_row_below_their_originals() {
    let device = Device::flex();
    let tile = TileShape { rows: 2, cols: 2 };
    // Three examples of 2×2 pixels: originals all 1 (white), reconstructions all 0 (black).
    let ones = Tensor::<2>::ones([3, 4], &device);
    let zeros = Tensor::<2>::zeros([3, 4], &device);
    let (w, h, colour, pixels) = decode(&reconstructions_png(&ones, &zeros, tile).unwrap());
    assert_eq!(colour, png::ColorType::Grayscale);
    // 3 tiles of 2+1 pixels plus a border across, 2 rows of them down.
    assert_eq!((w, h), (3 * 3 + 1, 2 * 3 + 1));
    assert_eq!(pixels[w + 1], 255, "first original");
    assert_eq!(pixels[4 * w + 1], 0, "first reconstruction");
    assert_eq!(pixels[w * 5 + 8], 0, "last reconstruction");
    assert_eq!(pixels[0], 128, "border");
    // Twelve examples: rows of ten, the last pair of rows padded with border-gray tiles.
    let x = uniform(12, 4, 0.0, 1.0, 61, &device);
    let r = x.clone().mul_scalar(0.5);
    let (w, h, _, pixels) = decode(&reconstructions_png(&x, &r, tile).unwrap());
    assert_eq!((w, h), (10 * 3 + 1, 4 * 3 + 1));
    let xv = crate::eval::to_vec(x.clone());
    // Example 10 (the first of the second pair) at tile (0, 2); its reconstruction at (0, 3).
    let at = |tx: usize, ty: usize| pixels[(ty * 3 + 1) * w + tx * 3 + 1];
    assert_eq!(at(0, 2), (xv[40] * 255.0).round() as u8);
    assert_eq!(at(0, 3), (xv[40] * 0.5 * 255.0).round() as u8);
    assert_eq!(
        (at(2, 2), at(9, 3)),
        (128, 128),
        "empty tiles are border gray"
    );
    // Shapes that do not fit.
    let e = reconstructions_png(&x, &r.clone().narrow(0, 0, 11), tile).unwrap_err();
    assert!(
        matches!(
            e,
            PcaError::Shape {
                expected: 12,
                got: 11,
                ..
            }
        ),
        "{e}"
    );
    let e = reconstructions_png(&x, &r, TileShape { rows: 3, cols: 2 }).unwrap_err();
    assert!(
        matches!(
            e,
            PcaError::Shape {
                expected: 6,
                got: 4,
                ..
            }
        ),
        "{e}"
    );
    let empty = Tensor::<2>::zeros([0, 4], &device);
    assert!(reconstructions_png(&empty, &empty, tile).is_err());
}

#[test]
fn squared_error_per_example_by_hand() {
    let device = Device::flex();
    let x = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 0.5, 0.5], [2, 2]),
        &device,
    );
    let r = Tensor::<2>::from_data(
        TensorData::new(vec![0.0f32, 0.0, 0.0, 1.0], [2, 2]),
        &device,
    );
    // Row errors 1 and 0.25 + 0.25: the mean is 0.75.
    assert!((squared_error_per_example(&x, &r).unwrap() - 0.75).abs() < 1e-7);
    assert!(squared_error_per_example(&x, &r.narrow(1, 0, 1)).is_err());
}

#[test]
fn the_code_map_draws_each_class_in_its_own_colour() {
    let device = Device::flex();
    // Ten classes of 5 codes each, every class at its own point on a circle of radius 1.
    let mut codes = Vec::new();
    let mut labels = Vec::new();
    for c in 0..10u32 {
        let angle = c as f64 * std::f64::consts::TAU / 10.0;
        for _ in 0..5 {
            codes.extend([angle.cos() as f32, angle.sin() as f32]);
            labels.push(c);
        }
    }
    let t = Tensor::<2>::from_data(TensorData::new(codes.clone(), [50, 2]), &device);
    let size = 120;
    let (w, h, colour, pixels) = decode(&code_map_png(&t, &labels, size).unwrap());
    assert_eq!((w, h, colour), (size, size, png::ColorType::Rgb));
    // Each axis's range maps onto [6, 113] (a margin of size/20), y upwards.
    let range = |axis: usize| {
        let v = codes.iter().skip(axis).step_by(2).map(|&v| v as f64);
        (
            v.clone().fold(f64::INFINITY, f64::min),
            v.fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let to_px = |v: f32, axis: usize| {
        let (lo, hi) = range(axis);
        let t = (v as f64 - lo) / (hi - lo);
        let t = if axis == 1 { 1.0 - t } else { t };
        (6.0 + t * 107.0).round() as usize
    };
    for c in 0..10 {
        let (x, y) = (codes[10 * c], codes[10 * c + 1]);
        let (px, py) = (to_px(x, 0), to_px(y, 1));
        assert_eq!(rgb_at(&pixels, w, px, py), CLASS_COLOURS[c], "class {c}");
    }
    let colours: HashSet<[u8; 3]> = pixels.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    let mut expected: HashSet<[u8; 3]> = CLASS_COLOURS.iter().copied().collect();
    expected.extend([BACKGROUND, AXES]);
    assert_eq!(colours, expected);
    assert_eq!(CLASS_COLOURS.iter().collect::<HashSet<_>>().len(), 10);
    // Errors.
    assert!(code_map_png(&t, &labels[..49], size).is_err());
    let three = Tensor::<2>::zeros([50, 3], &device);
    assert!(matches!(
        code_map_png(&three, &labels, size),
        Err(PcaError::Shape {
            expected: 2,
            got: 3,
            ..
        })
    ));
    assert!(code_map_png(&t, &labels, 8).is_err());
}

#[test]
fn a_two_component_pca_code_map_of_mnist_digits() {
    let device = Device::flex();
    let n = 1_000;
    let x = mnist_binary(n, &device);
    let dir = harmonium_data::mirror_dir().expect("HARMONIUM_DATA_MIRROR");
    let path = dir.join("mnist/train-labels-idx1-ubyte.gz");
    let bytes = harmonium_data::idx::read_maybe_gz(&path).unwrap();
    let labels: Vec<u32> = harmonium_data::idx::parse_labels(&bytes, &path).unwrap()[..n]
        .iter()
        .map(|&l| l as u32)
        .collect();
    let pca = Pca::fit(&x, 2).unwrap();
    let codes = pca.project(&x).unwrap();
    let (w, h, colour, pixels) = decode(&code_map_png(&codes, &labels, 300).unwrap());
    assert_eq!((w, h, colour), (300, 300, png::ColorType::Rgb));
    let colours: HashSet<[u8; 3]> = pixels.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    for (c, colour) in CLASS_COLOURS.iter().enumerate() {
        assert!(colours.contains(colour), "digit {c} is not drawn");
    }
    // Ones and zeros lie at opposite ends of the first component (the digit's ink).
    let z = super::host(&codes);
    let mean_of = |digit: u32| {
        let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == digit).collect();
        rows.iter().map(|&i| z[(i, 0)]).sum::<f64>() / rows.len() as f64
    };
    assert!(
        (mean_of(0) - mean_of(1)).abs() > 2.0,
        "{} vs {}",
        mean_of(0),
        mean_of(1)
    );
}
