//! End to end in a browser: Debian's headless Chromium loads the dashboard pages of a real run,
//! lets their JS run, and the DOM must show the chart drawn and the group table filled with
//! numbers. A screenshot of the experiment page is kept at
//! `$CARGO_TARGET_DIR/tmp/web_browser/dashboard.png` (the test prints the path).
//!
//! Without Chromium the test fails when `CI` is set and is skipped (with a message) otherwise.

#[path = "web_support.rs"]
mod support;

use std::path::Path;

use harmonium_tests::{chrome, chromium};
use support::{Server, tiny_db};

#[test]
fn the_experiment_page_draws_curves_and_fills_the_group_table_in_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "chromium is not installed (apt-get install -y chromium); the browser test cannot be skipped on CI"
            );
        }
        eprintln!(
            "SKIPPED: chromium is not installed; `apt-get install -y chromium` to run the browser test"
        );
        return;
    };
    let dir = tiny_db("web_browser");
    let s = Server::start(&dir.join("h.db"));
    let profile = tempfile::tempdir().unwrap();
    // `live=0`: no event stream, whose open request would keep virtual time from running out.
    let dump = |path: &str| {
        chrome(
            &bin,
            profile.path(),
            &format!("{}{path}", s.url),
            &["--dump-dom"],
        )
    };

    let page = dump("/experiments/1?live=0");
    assert!(
        page.contains("data-ready=\"1\""),
        "the page finished loading:\n{page}"
    );
    let chart = page
        .split("id=\"curves-chart\"")
        .nth(1)
        .expect("a curves chart");
    let head = &chart[..chart.find('>').unwrap()];
    assert!(
        head.contains("data-chart-ready=\"1\"") && head.contains("data-chart-lines=\"2\""),
        "two group curves drawn: {head}"
    );
    assert!(chart.contains("<canvas"), "uPlot drew on a canvas");
    // The published figures: one dashed line per learning rate on the valid_error curves,
    // labelled (in the legend) with the value and the source, shown as text.
    assert!(
        head.contains("data-reference-lines=\"2\""),
        "two reference lines: {head}"
    );
    let source = support::TINY_SOURCE
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    for label in [
        format!("mlp.lr=0.1: best_valid_error 0.2 ({source})"),
        format!("mlp.lr=0.3: best_valid_error 0.25 ({source})"),
    ] {
        assert!(chart.contains(&label), "{label} in the chart's legend");
    }
    assert_eq!(
        chart.matches("reference-line\"").count(),
        2,
        "legend rows marked"
    );
    // And listed under the group table, beside the groups' means.
    let list = page
        .split("id=\"reference-list\"")
        .nth(1)
        .expect("the published figures under the group table");
    let list = &list[..list.find("id=\"contrast-table\"").unwrap_or(list.len())];
    assert!(
        list.contains(&source) && !list.contains("<i>figures"),
        "{list}"
    );
    assert!(
        list.contains("data-published=\"0.2\"") && list.contains("data-published=\"0.25\""),
        "{list}"
    );
    assert_eq!(
        list.matches("mlp.lr=0.").count(),
        2,
        "each beside its group: {list}"
    );
    let table = page
        .split("id=\"group-table\"")
        .nth(1)
        .expect("a group table");
    let cells: Vec<&str> = table.split("class=\"num mean-std\"").skip(1).collect();
    assert_eq!(cells.len(), 2, "one row per learning rate");
    for c in cells {
        let text = &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()];
        let (mean, std) = text
            .split_once(" ± ")
            .unwrap_or_else(|| panic!("mean ± std, not {text:?}"));
        let (mean, std): (f64, f64) = (mean.parse().unwrap(), std.parse().unwrap());
        assert!(mean > 0.0 && mean < 1.0 && std >= 0.0, "{text}");
    }
    assert!(page.contains("id=\"panel-chart\"") && page.contains("id=\"runs-table\""));
    let rows = page
        .split("id=\"runs-table\"")
        .nth(1)
        .unwrap()
        .matches("data-run=")
        .count();
    assert_eq!(rows, 4, "four runs in the table");

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web_browser/dashboard.png");
    chrome(
        &bin,
        profile.path(),
        &format!("{}/experiments/1?live=0", s.url),
        &[&format!("--screenshot={}", shot.display())],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    println!("screenshot of the experiment page: {}", shot.display());

    // Names from the database are text, never markup.
    let index = dump("/");
    assert!(
        index.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the odd name is shown as text"
    );
    assert!(
        !index.contains("<script>alert") && !index.contains("<img src=\"x\""),
        "and never parsed"
    );
    assert!(index.contains("tiny-web"));

    // The run page: metadata, curves and the picture with its epoch.
    let run = dump("/runs/1?live=0");
    assert!(
        run.contains("data-ready=\"1\"") && run.contains("data-chart-ready=\"1\""),
        "{run}"
    );
    assert!(
        run.contains("/api/artifacts/1") && run.contains("epoch 2"),
        "the filters picture"
    );
    assert!(
        run.contains("<h3>fantasies</h3>")
            && run.contains("<img src=\"/api/artifacts/2\"")
            && run.contains("epoch 3"),
        "any PNG artifact is a picture, under its kind: {run}"
    );
    let evil_run = dump("/runs/5?live=0");
    assert!(
        evil_run.contains("&lt;i&gt;host&lt;/i&gt;") && !evil_run.contains("<i>host"),
        "host shown as text"
    );

    // Compare: config diff and overlaid curves.
    let cmp = dump("/compare?runs=1,2,3");
    assert!(
        cmp.contains("id=\"config-diff\"") && cmp.contains("class=\"diff\""),
        "differences marked"
    );
    let chart = cmp
        .split("id=\"compare-chart\"")
        .nth(1)
        .expect("a compare chart");
    let head = &chart[..chart.find('>').unwrap()];
    assert!(
        head.contains("data-chart-ready=\"1\"") && head.contains("data-chart-lines=\"3\""),
        "three curves: {head}"
    );
}

/// An autoencoder run's pictures on its run page, drawn by Chromium: the test digits above the
/// autoencoder's and PCA's reconstructions, and the two code maps, each under its kind.
#[test]
fn an_autoencoder_run_page_shows_its_reconstructions_and_code_maps_in_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed (apt-get install -y chromium)");
        }
        eprintln!("SKIPPED: chromium is not installed");
        return;
    };
    let dir = support::scratch("web_browser_autoencoder");
    std::fs::write(
        dir.join("codes.yaml"),
        "name: codes\n\
         dataset: {name: mnist, train_size: 500, valid_size: 100, test_size: 200}\n\
         seeds: [1]\n\
         autoencoder:\n  \
           net: {layers: [32, 2], epochs: 1, eval: {pictures: 10}}\n  \
           rbm: {epochs: 1}\n  \
           code: {epochs: 1}\n",
    )
    .unwrap();
    harmonium_tests::ok(harmonium_tests::harmonium(
        &dir,
        &["run", "codes.yaml", "--no-progress"],
    ));
    let s = Server::start(&dir.join("h.db"));
    let profile = tempfile::tempdir().unwrap();
    let run = chrome(
        &bin,
        profile.path(),
        &format!("{}/runs/1?live=0", s.url),
        &["--dump-dom"],
    );
    for kind in ["reconstructions", "code_map"] {
        assert!(run.contains(&format!("<h3>{kind}</h3>")), "{kind}: {run}");
    }
    let images = run.matches("<img src=\"/api/artifacts/").count();
    // Layer 1's filters, samples and reconstructions; the net's reconstructions and code map
    // before and after its epoch; the side-by-side picture and PCA's code map.
    assert!(images >= 8, "{images} pictures: {run}");
}
