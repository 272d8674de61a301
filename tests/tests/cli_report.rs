//! `harmonium report`: a real tiny sweep with published figures and a picture per run becomes
//! one HTML file that fetches nothing, holds the numbers `compare --json` gives, the figures,
//! the SVG curves and the pictures, and renders in headless Chromium.

#[path = "web_support.rs"]
mod support;

use std::path::Path;

use harmonium_tests::{chrome, chromium, harmonium, ok, run_file, stderr, stdout};
use serde_json::Value;

/// Two learning rates × two seeds on 400 digits, with two published figures: one per learning
/// rate and one for every group (its source written to need escaping).
const TINY: &str = "name: tiny-report
description: 'two learning rates × two seeds on 400 digits'
dataset: {name: mnist, train_size: 400, valid_size: 300, test_size: 300}
seeds: [1, 2]
mlp: {hidden: [16], epochs: 3, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.1, 0.3]
  metric: {name: best_valid_error, goal: minimize}
reference:
  - {best_valid_error: {0.1: 0.2, 0.3: 0.25}, by: lr, source: 'Made-up 2026'}
  - {best_valid_error: 0.3, source: 'Also <b>made up</b>'}
";

/// Two pictures of kind `filters` per run (steps 1 and 3; only the last is embedded), written
/// where the report looks for them and recorded as artifacts.
fn add_pictures(dir: &Path) {
    let mut statements = Vec::new();
    for run in 1..=4 {
        std::fs::create_dir_all(dir.join(format!("artifacts/run-{run}"))).unwrap();
        for step in [1, 3] {
            let path = format!("run-{run}/filters-{step}.png");
            std::fs::write(dir.join("artifacts").join(&path), support::PNG).unwrap();
            statements.push(format!(
                "INSERT INTO artifacts (run_id, kind, path, step, created_at) \
                 VALUES ({run}, 'filters', '{path}', {step}, '2026-01-01T00:00:00Z')"
            ));
        }
    }
    let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
    support::sql(&dir.join("h.db"), &refs);
}

/// The `data-NAME="…"` values in `html`, as numbers.
fn numbers(html: &str, name: &str) -> Vec<f64> {
    let key = format!("data-{name}=\"");
    html.split(&key)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// Whether two lists of numbers agree to 14 significant digits (serde_json reads floats to
/// within an ulp or so; the page writes them exactly).
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-14 * x.abs().max(y.abs()))
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in the report"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

#[test]
fn the_report_is_one_self_contained_file_with_the_compare_numbers_curves_and_pictures() {
    let dir = support::scratch("cli_report");
    run_file(&dir, "tiny.yaml", TINY);
    add_pictures(&dir);

    let out = ok(harmonium(&dir, &["report", "tiny-report"]));
    assert_eq!(
        stdout(&out).trim(),
        "tiny-report.html",
        "the path is printed"
    );
    let html = std::fs::read_to_string(dir.join("tiny-report.html")).unwrap();

    // Self-contained: no address of anything outside the file, no external script or style.
    for outside in [
        "http://",
        "https://",
        "<link",
        "<script src",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(outside), "{outside} in the report");
    }
    for attr in ["src=\"", "href=\""] {
        for v in html.split(attr).skip(1) {
            assert!(
                v.starts_with("data:") || v.starts_with('#'),
                "{attr}{}",
                &v[..40.min(v.len())]
            );
        }
    }

    // The embedded numbers are what `compare --json` prints for the same groups and metric.
    let cli: Value = serde_json::from_slice(
        &ok(harmonium(
            &dir,
            &["compare", "tiny-report", "--group-by", "lr", "--json"],
        ))
        .stdout,
    )
    .unwrap();
    let data = between(
        &html,
        "<script type=\"application/json\" id=\"report-data\">",
        "</script>",
    );
    let data: Value = serde_json::from_str(&data[data.find('>').unwrap() + 1..]).unwrap();
    assert_eq!(data["compare"], cli);
    // And so are the table's: per group n, mean and std, then the contrast's Welch interval.
    let groups = cli["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let table = between(&html, "id=\"group-table\"", "</table>");
    let field = |k: &str| -> Vec<f64> { groups.iter().map(|g| g[k].as_f64().unwrap()).collect() };
    assert!(same(&numbers(table, "mean"), &field("mean")), "{table}");
    assert!(same(&numbers(table, "std"), &field("std")), "{table}");
    assert_eq!(numbers(table, "n"), field("n"));
    for g in groups {
        let shown = format!(
            "{:.2}% ± {:.2}%",
            100.0 * g["mean"].as_f64().unwrap(),
            100.0 * g["std"].as_f64().unwrap()
        );
        assert!(table.contains(&shown), "{shown} in {table}");
    }
    let contrasts = between(&html, "id=\"contrast-table\"", "</table>");
    let c = &cli["contrasts"][0];
    for k in ["lo", "hi", "diff"] {
        assert!(
            same(&numbers(contrasts, k), &[c[k].as_f64().unwrap()]),
            "{k}: {contrasts}"
        );
    }
    assert!(contrasts.contains("paired"), "which interval applies");

    // The published figures, beside the groups, with the gap; the source shown as text.
    let refs = between(&html, "id=\"references\"", "</section>");
    assert_eq!(numbers(refs, "published"), [0.2, 0.25, 0.3, 0.3]);
    let gaps = numbers(refs, "gap");
    let means = field("mean");
    let want = [
        means[0] - 0.2,
        means[1] - 0.25,
        means[0] - 0.3,
        means[1] - 0.3,
    ];
    assert!(same(&gaps, &want), "{gaps:?} {want:?}");
    assert!(refs.contains("Made-up 2026 (by lr)") && refs.contains("20.00%"));
    assert!(refs.contains("Also &lt;b&gt;made up&lt;/b&gt;") && !html.contains("<b>made"));

    // The valid_error curves of both groups with their bands, and the three figures dashed.
    let svg = between(&html, "<svg class=\"curves\"", "</svg>");
    assert!(svg.contains("data-curves=\"2\" data-rules=\"3\""), "{svg}");
    assert_eq!(svg.matches("class=\"mean\"").count(), 2);
    assert_eq!(svg.matches("class=\"band\"").count(), 2);
    assert_eq!(svg.matches("stroke-dasharray=\"6 4\"").count(), 3);
    assert!(svg.contains("mlp.lr=0.1: best_valid_error 20.00% (Made-up 2026)"));
    assert!(html.contains("valid_error (mean ± std)"));

    // The best run of each group: its last picture embedded, the earlier one listed as left out.
    let pictures = between(&html, "id=\"pictures\"", "</section>");
    let embedded = pictures.matches("src=\"data:image/png;base64,").count();
    assert_eq!(embedded, 2, "one picture per group");
    assert!(pictures.contains("filters · step 3") && !pictures.contains("step 1<"));
    assert_eq!(
        pictures.matches("1 earlier picture").count(),
        2,
        "{pictures}"
    );
    // The best runs are the lowest of their group.
    let best = numbers(pictures, "value");
    assert!(same(&best, &field("min")), "{best:?}");
    assert!(html.contains("<details><summary>The experiment file (12 lines)</summary>"));
    assert!(html.contains("data-status=\"finished\" data-count=\"4\""));

    // -o names the file; a group-by and metric of one's own are used.
    let out = ok(harmonium(
        &dir,
        &[
            "report",
            "tiny-report",
            "-o",
            "seeds.html",
            "--group-by",
            "seed",
            "--metric",
            "best_test_error",
        ],
    ));
    assert_eq!(stdout(&out).trim(), "seeds.html");
    let seeds = std::fs::read_to_string(dir.join("seeds.html")).unwrap();
    assert!(seeds.contains("best_test_error by group") && seeds.contains("<th>seed</th>"));
    assert!(
        seeds.contains("test_error (mean ± std)"),
        "the curve that goes with it"
    );
    assert!(seeds.contains("gives no published figure of best_test_error"));

    // In Chromium: the script finds the table, the drawn chart and both pictures decoded.
    let Some(bin) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed (apt-get install -y chromium)");
        }
        eprintln!("SKIPPED (the browser part): chromium is not installed");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.join("tiny-report.html").display());
    let dom = chrome(&bin, profile.path(), &url, &["--dump-dom"]);
    let body = &dom[dom.find("<body").expect("a body")..];
    let body = &body[..body.find('>').unwrap()];
    for attr in [
        "data-ready=\"1\"",
        "data-charts=\"1\"",
        "data-group-rows=\"2\"",
        "data-pictures=\"2\"",
        "data-pictures-loaded=\"2\"",
    ] {
        assert!(body.contains(attr), "{attr} on {body}");
    }
}

#[test]
fn an_unknown_experiment_or_one_without_finished_runs_is_an_error() {
    let dir = support::scratch("cli_report_errors");
    run_file(
        &dir,
        "tiny.yaml",
        &TINY.replace("[0.1, 0.3]", "[0.1]").replace("[1, 2]", "[1]"),
    );
    let missing = harmonium(&dir, &["report", "nope"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no experiment named 'nope'"),
        "{}",
        stderr(&missing)
    );
    support::sql(
        &dir.join("h.db"),
        &[
            "INSERT INTO experiments (name, description, yaml, metric, goal, created_at, updated_at) \
           VALUES ('empty', '', '', NULL, NULL, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        ],
    );
    let empty = harmonium(&dir, &["report", "empty"]);
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("experiment 'empty' has no finished runs yet"),
        "{}",
        stderr(&empty)
    );
    assert!(!dir.join("empty.html").exists() && !dir.join("nope.html").exists());
}
