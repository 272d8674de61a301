//! The dashboard's JSON API and event stream over a database filled by a real tiny sweep.

#[path = "web_support.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{EVIL_DESCRIPTION, EVIL_NAME, PNG, Server, get, json, sql, tiny_db};

fn server() -> Server {
    Server::start(&tiny_db("web_api").join("h.db"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn experiments_list_counts_runs_by_status_and_the_best_value() {
    let s = server();
    let exps = json(&format!("{}/api/experiments", s.url));
    let tiny = exps
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "tiny-web")
        .expect("tiny-web listed");
    assert_eq!(tiny["counts"]["finished"], 4, "{tiny}");
    assert_eq!(tiny["metric"], "best_valid_error");
    let best = f(&tiny["best"]);
    assert!(best > 0.0 && best < 0.6, "{best}");
    assert!(tiny["last_activity"].is_string());

    let e = json(&format!("{}/api/experiments/{}", s.url, tiny["id"]));
    let swept: Vec<&str> = e["swept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(swept, ["mlp.lr", "seed"], "only the swept parameters");
    assert_eq!(e["swept"][0]["values"], serde_json::json!(["0.1", "0.3"]));
    let valid = e["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "valid_error")
        .expect("valid_error");
    assert!(valid["max_step"].as_i64().unwrap() >= 3, "{valid}");
}

#[test]
fn runs_are_filtered_by_param_and_status_and_sorted_by_a_metric() {
    let s = server();
    let runs = |q: &str| json(&format!("{}/api/experiments/1/runs?{q}", s.url));
    let all = runs("");
    assert_eq!(all["total"], 4);
    assert!(all["runs"][0]["params"]["mlp.lr"].as_str().is_some());
    assert!(
        all["runs"][0]["params"].as_object().unwrap().len() > 5,
        "all params unless asked"
    );
    let lr = runs("param.mlp.lr=0.1&params=swept");
    assert_eq!(lr["total"], 2);
    assert!(
        lr["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["params"]["mlp.lr"] == "0.1")
    );
    assert_eq!(
        lr["runs"][0]["params"].as_object().unwrap().len(),
        2,
        "swept params only: {}",
        lr["runs"][0]
    );
    assert_eq!(
        runs("param.mlp.lr=0.1&param.mlp.lr=0.3")["total"],
        4,
        "repeated key = any of"
    );
    assert_eq!(runs("status=failed")["total"], 0);
    assert_eq!(runs("status=finished,failed")["total"], 4);
    let sorted = runs("sort=metric:best_valid_error&order=desc");
    let v: Vec<f64> = sorted["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| f(&r["metrics"]["best_valid_error"]))
        .collect();
    assert!(v.windows(2).all(|w| w[0] >= w[1]), "{v:?}");
    let by_param = runs("sort=param:mlp.lr&limit=2");
    assert_eq!(by_param["runs"].as_array().unwrap().len(), 2);
    assert!(
        by_param["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["params"]["mlp.lr"] == "0.1")
    );
    let page2 = runs("limit=3&offset=3");
    assert_eq!(page2["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn sort_columns_are_validated_and_values_are_bound_not_spliced() {
    let s = server();
    let (status, _, body) = get(&format!(
        "{}/api/experiments/1/runs?sort=finished_at;DROP%20TABLE%20runs",
        s.url
    ));
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("\"error\"") && body.contains("cannot sort by"),
        "{body}"
    );
    let (status, _, body) = get(&format!("{}/api/experiments/1/runs?order=sideways", s.url));
    assert_eq!(status, 400, "{body}");
    // An injection attempt in a parameter key or value is just a key that matches nothing.
    let q = "sort=param:x'%20OR%201=1--&param.mlp.lr=0.1'%20OR%20'1'='1";
    let r = json(&format!("{}/api/experiments/1/runs?{q}", s.url));
    assert_eq!(r["total"], 0);
    assert_eq!(
        json(&format!("{}/api/experiments/1/runs", s.url))["total"],
        4,
        "nothing was dropped"
    );
}

#[test]
fn one_run_has_config_metadata_latest_metrics_and_artifacts() {
    let s = server();
    let r = json(&format!("{}/api/runs/1", s.url));
    assert_eq!(r["id"], 1);
    assert_eq!(r["status"], "finished");
    assert!(r["config"]["mlp"]["lr"].is_number(), "{}", r["config"]);
    assert!(
        r["config_yaml"].as_str().unwrap().contains("lr: 0."),
        "{}",
        r["config_yaml"]
    );
    assert!(
        r["config_hash"].as_str().unwrap().len() >= 8
            && r["host"].is_string()
            && r["started_at"].is_string()
    );
    assert!(r["metrics"]["valid_error"].is_number() && r["metrics"]["best_test_error"].is_number());
    let art = &r["artifacts"][0];
    assert_eq!(
        (art["kind"].as_str(), art["step"].as_i64()),
        (Some("filters"), Some(2)),
        "{art}"
    );
    let url = format!("{}/api/artifacts/{}", s.url, art["id"]);
    let resp = ureq::get(&url).call().unwrap();
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.into_body().read_to_vec().unwrap(), PNG);
    let both = json(&format!("{}/api/runs?ids=2,1", s.url));
    assert_eq!(
        (both[0]["id"].as_i64(), both[1]["id"].as_i64()),
        (Some(2), Some(1)),
        "in the order asked"
    );
}

#[test]
fn series_are_bounded_and_groups_give_mean_std_and_n_per_epoch_and_final() {
    let s = server();
    let series = json(&format!(
        "{}/api/series?runs=1,2&keys=valid_error,train_loss",
        s.url
    ));
    assert_eq!(series.as_array().unwrap().len(), 4, "2 runs × 2 keys");
    let first = &series[0];
    assert!(
        first["points"].as_array().unwrap().len() >= 3 && first["total"].as_u64().unwrap() >= 3
    );
    let small = json(&format!("{}/api/series?runs=1&keys=lr&max_points=4", s.url));
    assert!(small[0]["points"].as_array().unwrap().len() <= 4);

    let g = json(&format!(
        "{}/api/experiments/1/groups?by=mlp.lr&metric=valid_error&final_metric=best_valid_error&curves=1",
        s.url
    ));
    assert_eq!(g["by"], serde_json::json!(["mlp.lr"]));
    let fin = g["final"].as_array().unwrap();
    assert_eq!(fin.len(), 2, "{g}");
    // The group mean is the mean over its two seeds, recomputed here from the runs.
    let runs = json(&format!(
        "{}/api/experiments/1/runs?param.mlp.lr=0.1",
        s.url
    ));
    let vals: Vec<f64> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| f(&r["metrics"]["best_valid_error"]))
        .collect();
    let mean = vals.iter().sum::<f64>() / 2.0;
    let std = ((vals[0] - mean).powi(2) + (vals[1] - mean).powi(2)).sqrt();
    assert_eq!(fin[0]["group"], serde_json::json!(["0.1"]));
    assert_eq!(
        (fin[0]["n"].as_i64(), fin[0]["runs"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(
        (f(&fin[0]["mean"]) - mean).abs() < 1e-9 && (f(&fin[0]["std"]) - std).abs() < 1e-6,
        "{} vs {mean} ± {std}",
        fin[0]
    );
    let curves = g["curves"].as_array().unwrap();
    assert_eq!(curves.len(), 2);
    assert!(curves[0]["steps"].as_array().unwrap().len() >= 3);
    assert!(
        curves[0]["stats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["n"] == 2 && s["std"].is_number())
    );
    // Two parameters at once, and no grouping at all.
    let two = json(&format!(
        "{}/api/experiments/1/groups?by=mlp.lr,seed",
        s.url
    ));
    assert_eq!(two["final"].as_array().unwrap().len(), 4);
    assert!(
        two["final"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["n"] == 1 && g["std"].is_null())
    );
    let none = json(&format!("{}/api/experiments/1/groups?by=", s.url));
    assert_eq!(none["final"][0]["n"], 4);
}

#[test]
fn unknown_ids_give_404_with_a_json_error() {
    let s = server();
    for path in [
        "/api/runs/999",
        "/api/runs/abc",
        "/api/experiments/999",
        "/api/experiments/999/runs",
        "/api/experiments/abc/groups",
        "/api/artifacts/999",
        "/api/nothing/here",
        "/api/events?run=999",
    ] {
        let (status, ct, body) = get(&format!("{}{path}", s.url));
        assert_eq!(status, 404, "{path}: {body}");
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {body}"
        );
    }
}

#[test]
fn strings_from_the_database_come_back_verbatim_and_pages_forbid_inline_scripts() {
    let s = server();
    let exps = json(&format!("{}/api/experiments", s.url));
    let evil = exps
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == EVIL_NAME)
        .expect("the odd name is listed");
    assert_eq!(evil["description"], EVIL_DESCRIPTION);
    let r = ureq::get(&format!("{}/", s.url)).call().unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"));
    assert_eq!(
        script_src,
        Some("script-src 'self'"),
        "no inline scripts: {csp}"
    );
    let body = r.into_body().read_to_string().unwrap();
    assert!(body.contains("/static/js/experiments.js") && !body.contains("<script>alert"));
}

#[test]
fn pages_and_their_assets_are_embedded_in_the_binary() {
    let s = server();
    for (path, ct) in [
        ("/", "text/html"),
        ("/experiments/1", "text/html"),
        ("/runs/1", "text/html"),
        ("/compare?runs=1,2", "text/html"),
        ("/static/js/experiment.js", "text/javascript"),
        ("/static/vendor/uplot/uPlot.esm.js", "text/javascript"),
        ("/static/vendor/uplot/LICENSE", "text/plain"),
        ("/static/style.css", "text/css"),
    ] {
        let (status, got, _) = get(&format!("{}{path}", s.url));
        assert_eq!(status, 200, "{path}");
        assert!(got.starts_with(ct), "{path}: {got}");
    }
    assert_eq!(get(&format!("{}/static/../Cargo.toml", s.url)).0, 404);
}

#[test]
fn a_missing_or_corrupt_database_is_refused_at_start_up_with_a_clear_message() {
    let d = support::scratch("web_api_bad_db");
    let serve = |db: &str| {
        std::process::Command::new(harmonium_tests::harmonium_bin())
            .args(["serve", "--port", "0", "--db", db])
            .current_dir(&d)
            .output()
            .unwrap()
    };
    let missing = serve("absent.db");
    assert!(!missing.status.success());
    let e = String::from_utf8_lossy(&missing.stderr);
    assert!(
        e.contains("absent.db") && e.contains("does not exist"),
        "{e}"
    );
    std::fs::write(
        d.join("junk.db"),
        b"this is not a database, just some text padded out to look like a file".repeat(100),
    )
    .unwrap();
    let corrupt = serve("junk.db");
    assert!(!corrupt.status.success());
    let e = String::from_utf8_lossy(&corrupt.stderr);
    assert!(
        e.contains("junk.db") && e.contains("harmonium results database"),
        "{e}"
    );
    assert!(!d.join("absent.db").exists(), "nothing is created");
}

#[test]
fn server_sent_events_deliver_a_new_metric_point_and_a_status_change() {
    // A copy of the database, so that this test's writes stay its own.
    let d = support::scratch("web_api_sse");
    let db = d.join("live.db");
    sql(
        &tiny_db("web_api").join("h.db"),
        &[&format!("VACUUM INTO '{}'", db.display())],
    );
    let s = Server::start(&db);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let resp = agent
        .get(&format!("{}/api/events?experiment=1", s.url))
        .call()
        .unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut lines = BufReader::new(resp.into_body().into_reader()).lines();
    let mut next_event = || -> (String, Value) {
        let (mut name, mut data) = (String::new(), String::new());
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(v) = line.strip_prefix("event: ") {
                name = v.to_string();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = v.to_string();
            } else if line.is_empty() && !name.is_empty() {
                return (name, serde_json::from_str(&data).unwrap_or(Value::Null));
            }
        }
        panic!("the event stream ended");
    };
    assert_eq!(next_event().0, "ready");
    let t0 = Instant::now();
    sql(
        &db,
        &[
            "INSERT INTO metrics (run_id, key, step, value, wall_time) VALUES (2, 'valid_error', 99, 0.125, 1.0)",
            "UPDATE runs SET status = 'running', finished_at = NULL, started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 second') WHERE id = 3",
        ],
    );
    let (mut metric, mut status) = (None, None);
    while metric.is_none() || status.is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no event within 10 s"
        );
        let (name, v) = next_event();
        match name.as_str() {
            "metric" => metric = Some(v),
            "status" => status = Some(v),
            _ => {}
        }
    }
    let m = metric.unwrap();
    assert_eq!(
        (
            m["run_id"].as_i64(),
            m["key"].as_str(),
            m["step"].as_i64(),
            m["value"].as_f64()
        ),
        (Some(2), Some("valid_error"), Some(99), Some(0.125))
    );
    let st = status.unwrap();
    assert_eq!(
        (st["run_id"].as_i64(), st["status"].as_str()),
        (Some(3), Some("running")),
        "{st}"
    );
}

/// `harmonium compare --json` and the groups endpoint are one aggregation: on the same database
/// they give the same groups, statistics and contrasts.
#[test]
fn compare_and_the_groups_endpoint_give_identical_tables() {
    let dir = tiny_db("web_api");
    let s = server();
    for (args, by) in [
        (vec!["--group-by", "lr"], "lr"),
        (
            vec!["--group-by", "seed", "--group-by", "mlp.lr"],
            "seed,mlp.lr",
        ),
        (vec!["--group-by", "lr", "--level", "0.9"], "lr&level=0.9"),
    ] {
        let mut cmd = vec![
            "compare",
            "tiny-web",
            "--json",
            "--metric",
            "best_valid_error",
        ];
        cmd.extend(args.iter().copied());
        let out = harmonium_tests::ok(harmonium_tests::harmonium(dir, &cmd));
        let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
        let api = json(&format!(
            "{}/api/experiments/1/groups?final_metric=best_valid_error&by={by}",
            s.url
        ));
        assert!(!cli["groups"].as_array().unwrap().is_empty(), "{cli}");
        assert_eq!(cli["groups"], api["final"], "{args:?}");
        assert_eq!(cli["contrasts"], api["contrasts"], "{args:?}");
        assert_eq!(cli["references"], api["references"], "{args:?}");
        assert_eq!(cli["by"], api["by"], "{args:?}");
        assert_eq!(cli["level"], api["level"], "{args:?}");
        assert_eq!(cli["metric"], api["final_metric"], "{args:?}");
    }
    // Two levels of two seeds each: one contrast, with an interval.
    let api = json(&format!(
        "{}/api/experiments/1/groups?final_metric=best_valid_error&by=lr",
        s.url
    ));
    assert_eq!(api["contrasts"].as_array().unwrap().len(), 1, "{api}");
    assert!(api["contrasts"][0]["lo"].is_number(), "{api}");
    // The made-up figures of the file, each beside its learning rate with the gap.
    let rows = api["references"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{api}");
    for (row, group) in rows.iter().zip(api["final"].as_array().unwrap()) {
        assert_eq!(row["group"], group["group"]);
        let gap = group["mean"].as_f64().unwrap() - row["published"].as_f64().unwrap();
        assert!((row["gap"].as_f64().unwrap() - gap).abs() < 1e-12, "{row}");
    }
    assert_eq!(api["references"][0]["matched_by"], "mlp.lr");
    // An ambiguous or unknown name is an error that lists the candidates, in both.
    let (status, _, body) = get(&format!("{}/api/experiments/1/groups?by=depth", s.url));
    assert_eq!(status, 400);
    assert!(body.contains("mlp.lr"), "{body}");
    let out = harmonium_tests::harmonium(dir, &["compare", "tiny-web", "--group-by", "depth"]);
    assert!(!out.status.success());
    assert!(harmonium_tests::stderr(&out).contains("mlp.lr"));
}

/// A URL answered once is not answered again from the cache for another method: POST, PUT and
/// DELETE on the API are 405.
#[test]
fn only_get_reads_the_api() {
    let s = server();
    let url = format!("{}/api/experiments", s.url);
    assert_eq!(get(&url).0, 200);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for method in ["POST", "PUT", "DELETE"] {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .body(())
            .unwrap();
        let status = agent.run(req).unwrap().status().as_u16();
        assert_eq!(status, 405, "{method} {url}");
    }
}
