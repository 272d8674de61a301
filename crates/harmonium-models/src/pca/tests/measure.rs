//! The MNIST figures of Hinton & Salakhutdinov (2006) for 30-number codes, measured here
//! (ignored: run with `--ignored --nocapture`): PCA and logistic PCA fitted to the first 10,000
//! training images (grey levels in [0, 1]), squared error per image on the 10,000 test images.

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};

use crate::events::NullSink;
use crate::pca::{
    LogisticPca, LogisticPcaConfig, Pca, bernoulli_cross_entropy, squared_error_per_example,
};

fn mnist_grey(file: &str, n: usize, binarize: bool, device: &Device) -> Tensor<2> {
    let dir = harmonium_data::mirror_dir().expect("HARMONIUM_DATA_MIRROR");
    let img = harmonium_data::mnist::read_images(&dir.join("mnist").join(file)).unwrap();
    let size = img.rows * img.cols;
    let n = n.min(img.count);
    let v: Vec<f32> = img.pixels[..n * size]
        .iter()
        .map(|&p| {
            let g = p as f32 / 255.0;
            if binarize { (g > 0.5) as u8 as f32 } else { g }
        })
        .collect();
    Tensor::from_data(TensorData::new(v, [n, size]), device)
}

#[test]
#[ignore]
fn mnist_figures_for_30_number_codes() {
    let device = Device::flex();
    for binarize in [false, true] {
        let train = mnist_grey("train-images-idx3-ubyte.gz", 10_000, binarize, &device);
        let test = mnist_grey("t10k-images-idx3-ubyte.gz", 10_000, binarize, &device);
        let kind = if binarize { "binarized" } else { "grey" };
        let t = Instant::now();
        let pca = Pca::fit(&train, 30).unwrap();
        let (tr, te) = (
            pca.reconstruction_error(&train).unwrap(),
            pca.reconstruction_error(&test).unwrap(),
        );
        let ce = bernoulli_cross_entropy(&test, &pca.reconstruct_data(&test).unwrap(), 1e-4);
        eprintln!(
            "{kind}: PCA k=30 train SE {tr:.3}, test SE {te:.3}, test CE {ce:.2} ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        for iterations in [100, 200] {
            let cfg = LogisticPcaConfig {
                components: 30,
                iterations,
                eval_every: 0,
                ..LogisticPcaConfig::default()
            };
            let t = Instant::now();
            let (m, codes, _) = LogisticPca::fit(&train, &cfg, &mut NullSink, 1).unwrap();
            let fit_s = t.elapsed().as_secs_f64();
            let r = m.reconstruct(&codes).unwrap();
            let tr_se = squared_error_per_example(&train, &r).unwrap();
            let tr_ce = m.loss(&train, &codes).unwrap();
            let t = Instant::now();
            let c = m.codes(&test).unwrap();
            let te_se = squared_error_per_example(&test, &m.reconstruct(&c).unwrap()).unwrap();
            let te_ce = m.loss(&test, &c).unwrap();
            eprintln!(
                "{kind}: logistic PCA k=30, {iterations} iterations ({fit_s:.1} s): train SE \
                 {tr_se:.3} CE {tr_ce:.2}; test ({} code steps, {:.1} s) SE {te_se:.3} CE {te_ce:.2}",
                cfg.code_iterations,
                t.elapsed().as_secs_f64()
            );
            let c = m.codes_with(&test, 300).unwrap();
            let se = squared_error_per_example(&test, &m.reconstruct(&c).unwrap()).unwrap();
            eprintln!(
                "{kind}:   test with 300 code steps: SE {se:.3} CE {:.2}",
                m.loss(&test, &c).unwrap()
            );
        }
    }
}
