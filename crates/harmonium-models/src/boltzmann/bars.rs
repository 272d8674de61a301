//! Bars and stripes (MacKay 2003): n × n binary images in which either every row is all on or
//! all off (stripes), or every column is (bars). There are 2·2ⁿ − 2 distinct patterns (the empty
//! and the full image are both), 14 for 3 × 3 and 30 for 4 × 4, so the exact log-likelihood of a
//! small model of them is computable, and its best value, for the uniform distribution over the
//! patterns, is −log(2·2ⁿ − 2) (−2.639 nats for 3 × 3).

use burn::tensor::{Device, Tensor, TensorData};

/// The distinct bars-and-stripes patterns of side `side`, row-major: first the stripes (the rows
/// on are the bits of k, k = 0 … 2ⁿ − 1), then the bars other than the empty and the full image.
pub fn bars_and_stripes_patterns(side: usize) -> Vec<Vec<f32>> {
    let mut patterns = Vec::new();
    for k in 0..1usize << side {
        patterns.push(
            (0..side * side)
                .map(|p| (k >> (p / side) & 1) as f32)
                .collect(),
        );
    }
    for k in 1..(1usize << side) - 1 {
        patterns.push(
            (0..side * side)
                .map(|p| (k >> (p % side) & 1) as f32)
                .collect(),
        );
    }
    patterns
}

/// The distinct bars-and-stripes patterns of side `side` as a [2·2ⁿ − 2, n²] tensor.
pub fn bars_and_stripes(side: usize, device: &Device) -> Tensor<2> {
    let patterns = bars_and_stripes_patterns(side);
    let rows = patterns.len();
    let values: Vec<f32> = patterns.into_iter().flatten().collect();
    Tensor::from_data(TensorData::new(values, [rows, side * side]), device)
}
