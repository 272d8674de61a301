//! `harmonium launch`: a Slurm job array of 24 trials submitted to a real single-node Slurm
//! whose tasks run their trials into one PostgreSQL database (a SQLite file where PostgreSQL is
//! not installed, outside CI), every trial once, and `serve` on that database lists them; a Kubernetes Indexed Job manifest checked
//! against the documented fields, its per-index task command run here for every index; and no
//! scheduler installed is a clear error that writes nothing.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harmonium_tests::{harmonium_bin, mirror, ok, postgres_db, scalar, stderr, stdout};

/// 24 small trials (3 seeds × 8 rates) for the job array.
const ARRAY: &str = "name: arrayed
dataset: {name: mnist, train_size: 200, valid_size: 100, test_size: 100}
seeds: [1, 2, 3]
mlp: {hidden: [8], epochs: 1, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0]
";

const SWEEP: &str = "name: launched
dataset: {name: mnist, train_size: 200, valid_size: 100, test_size: 100}
seeds: [1, 2]
mlp: {hidden: [8], epochs: 1, batch_size: 50}
sweep:
  parameters:
    mlp.lr: [0.1, 0.3]
";

fn harmonium_in(dir: &Path, args: &[&str], path: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(harmonium_bin());
    cmd.args(args)
        .current_dir(dir)
        .env("HARMONIUM_DB", dir.join("h.db"))
        .env("HARMONIUM_DATA_DIR", dir.join("data"))
        .env("HARMONIUM_DATA_MIRROR", mirror());
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.output().unwrap()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Starts the single-node Slurm (`services/slurm-up.sh`); false, and the test is skipped, where
/// Slurm is not installed, which CI does not accept.
fn slurm_up() -> bool {
    if !on_path("sbatch") {
        assert!(
            std::env::var_os("CI").is_none(),
            "sbatch is not installed (apt-get install -y slurm-wlm munge); CI cannot skip this"
        );
        eprintln!("SKIPPED: Slurm is not installed");
        return false;
    }
    let up = Command::new("bash")
        .arg(harmonium_tests::service_script("slurm-up.sh"))
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "starting Slurm failed:\n{}{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    true
}

/// What a failed wait shows: the queue, the node, each task's output and the daemons' logs.
fn slurm_state(dir: &Path, job: &str) -> String {
    let run = |program: &str, args: &[&str]| match Command::new(program).args(args).output() {
        Ok(o) => format!(
            "$ {program} {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("$ {program}: {e}\n"),
    };
    let mut s = run("squeue", &["-j", job, "-o", "%i %T %R"]);
    s += &run("sinfo", &["-N", "-o", "%N %T %E"]);
    let tail = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- {}\n{}\n",
            p.display(),
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("slurm-logs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        s += &tail(&f);
    }
    for log in ["ctld.log", "d.log"] {
        s += &tail(&Path::new("/tmp/harmonium-slurm/log").join(log));
    }
    s
}

#[tokio::test]
async fn a_slurm_job_array_runs_every_trial_once_into_a_shared_postgres_store() {
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("arrayed.yaml"), ARRAY).unwrap();
    let db = match postgres_db("array").await {
        Some(url) => url,
        None => d.join("h.db"),
    };
    let db_arg = db.to_string_lossy().to_string();
    // The data in place first, so the tasks do not fetch it at once.
    ok(harmonium_in(d, &["data", "fetch", "mnist"], None));
    let data = d.join("data");
    let out = ok(harmonium_in(
        d,
        &[
            "launch",
            "arrayed.yaml",
            "--db",
            &db_arg,
            "--slurm",
            "--array-parallelism",
            "2",
            "--cpus",
            "1",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        None,
    ));
    let job = stdout(&out).trim().to_string();
    assert!(
        job.parse::<u64>().is_ok(),
        "a job id: {job:?} {}",
        stderr(&out)
    );
    let script = std::fs::read_to_string(d.join("arrayed.slurm.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=0-23%2"), "{script}");
    assert!(
        script.contains("--trial \"$SLURM_ARRAY_TASK_ID\""),
        "{script}"
    );
    let t0 = Instant::now();
    // The database is the oracle: wait for the four trials, then for the job to leave the queue
    // (so that a task running a trial twice would have shown by then).
    loop {
        assert!(
            t0.elapsed() < Duration::from_secs(360),
            "the job array did not finish\n{}",
            slurm_state(d, &job)
        );
        std::thread::sleep(Duration::from_millis(500));
        if !db_arg.contains("://") && !db.exists() {
            continue;
        }
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) FROM runs WHERE status IN ('failed', 'killed')"
            )
            .await,
            0,
            "a task's trial failed\n{}",
            slurm_state(d, &job)
        );
        if scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await >= 24 {
            break;
        }
    }
    loop {
        assert!(
            t0.elapsed() < Duration::from_secs(420),
            "the job stayed in the queue\n{}",
            slurm_state(d, &job)
        );
        let queued = Command::new("squeue")
            .args(["-h", "-j", &job])
            .output()
            .unwrap();
        if queued.status.success() && String::from_utf8_lossy(&queued.stdout).trim().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'").await,
        24
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs").await,
        24,
        "none twice"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(DISTINCT trial_index) FROM runs").await,
        24
    );
    // The dashboard's server reads the same store: its API lists the 24 runs.
    let listed = ok(harmonium_in(
        d,
        &["ls", "arrayed", "--db", &db_arg, "--limit", "100"],
        None,
    ));
    assert_eq!(
        stdout(&listed)
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("finished"))
            .count(),
        24,
        "{}",
        stdout(&listed)
    );
    let runs = serve_api(d, &db_arg, "/api/experiments/1/runs?limit=100");
    assert_eq!(runs["total"], 24, "{runs}");
}

#[tokio::test]
async fn the_indexed_job_manifest_has_the_documented_fields_and_each_index_runs_its_trial() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("launched.yaml"), SWEEP).unwrap();
    let out = ok(harmonium_in(
        d,
        &[
            "launch",
            "launched.yaml",
            "--k8s",
            "--dry-run",
            "--parallelism",
            "3",
            "--image",
            "registry.example/harmonium:1",
            "--mem",
            "2Gi",
        ],
        None,
    ));
    let text = std::fs::read_to_string(d.join("launched.k8s.yaml")).unwrap();
    assert_eq!(stdout(&out), text, "printed as written");
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    let (config, job) = (&docs[0], &docs[1]);
    assert_eq!(config["kind"], "ConfigMap");
    assert_eq!(config["data"]["launched.yaml"].as_str(), Some(SWEEP));
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 4);
    assert_eq!(spec["parallelism"], 3);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "registry.example/harmonium:1");
    assert_eq!(c["resources"]["requests"]["memory"], "2Gi");
    let command: Vec<String> = c["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(&command[..2], ["sh", "-c"]);
    assert!(command[2].contains("$JOB_COMPLETION_INDEX"), "{command:?}");
    let env = |name: &str| -> String {
        c["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("env {name}"))
            .to_string()
    };
    assert_eq!(env("HARMONIUM_EXPERIMENT"), "/experiment/launched.yaml");
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"],
        "harmonium-launched-experiment"
    );
    // Each index's task, run here as the pod would: the file from the ConfigMap, the index in
    // JOB_COMPLETION_INDEX, `harmonium` on the PATH.
    let mounted = d.join("experiment");
    std::fs::create_dir_all(&mounted).unwrap();
    std::fs::write(
        mounted.join("launched.yaml"),
        config["data"]["launched.yaml"].as_str().unwrap(),
    )
    .unwrap();
    let bin_dir = harmonium_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    for i in 0..4 {
        let task = Command::new(&command[0])
            .args(&command[1..])
            .current_dir(d)
            .env("PATH", &path)
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("HARMONIUM_EXPERIMENT", mounted.join("launched.yaml"))
            .env("HARMONIUM_DB", d.join("h.db"))
            .env("HARMONIUM_DATA_DIR", d.join("data"))
            .env("HARMONIUM_DATA_MIRROR", mirror())
            .output()
            .unwrap();
        assert!(
            task.status.success(),
            "index {i}: {}",
            String::from_utf8_lossy(&task.stderr)
        );
    }
    let db = d.join("h.db");
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(DISTINCT trial_index) FROM runs WHERE status = 'finished'"
        )
        .await,
        4
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM runs").await, 4);
}

#[test]
fn no_slurm_or_kubectl_installed_is_a_clear_error_that_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("launched.yaml"), SWEEP).unwrap();
    for (flag, program, file) in [
        ("--slurm", "sbatch", "launched.slurm.sh"),
        ("--k8s", "kubectl", "launched.k8s.yaml"),
    ] {
        let out = harmonium_in(d, &["launch", "launched.yaml", flag], Some("/nonexistent"));
        assert!(!out.status.success(), "{flag}");
        let err = stderr(&out);
        assert!(err.contains(&format!("{program} not found")), "{err}");
        assert!(!d.join(file).exists(), "{file} written");
        assert!(!d.join("h.db").exists(), "database written");
    }
    // A tuned sweep is two arrays for Slurm (its final trials wait for its tuning), and no
    // Indexed Job (which cannot wait for another).
    std::fs::write(d.join("tuned.yaml"), harmonium_tests::tuned_sweep("tuned")).unwrap();
    let out = ok(harmonium_in(
        d,
        &["launch", "tuned.yaml", "--slurm", "--dry-run"],
        None,
    ));
    let tuning = std::fs::read_to_string(d.join("tuned.slurm.sh")).unwrap();
    let finals = std::fs::read_to_string(d.join("tuned.final.slurm.sh")).unwrap();
    assert!(tuning.contains("#SBATCH --array=0-3\n"), "{tuning}");
    assert!(finals.contains("#SBATCH --array=4-7\n"), "{finals}");
    assert!(
        stderr(&out).contains("the final trials, after the tuning"),
        "{}",
        stderr(&out)
    );
    let out = harmonium_in(d, &["launch", "tuned.yaml", "--k8s", "--dry-run"], None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot wait for another"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("tuned.k8s.yaml").exists());
}

#[tokio::test]
async fn a_tuned_sweep_runs_as_two_slurm_arrays_the_final_one_after_the_tuning() {
    if !slurm_up() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tuned.yaml"), harmonium_tests::tuned_sweep("tuned")).unwrap();
    ok(harmonium_in(d, &["data", "fetch", "mnist"], None));
    let data = d.join("data");
    let out = ok(harmonium_in(
        d,
        &[
            "launch",
            "tuned.yaml",
            "--slurm",
            "--cpus",
            "1",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        None,
    ));
    let jobs: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(jobs.len(), 2, "two job ids: {jobs:?} {}", stderr(&out));
    let db = d.join("h.db");
    let count = |name: &'static str| {
        let db = db.clone();
        async move {
            harmonium_tests::scalar_so_far(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id \
                     WHERE e.name = '{name}' AND r.status = 'finished'"
                ),
            )
            .await
        }
    };
    let t0 = Instant::now();
    loop {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the arrays did not finish\n{}\n{}",
            slurm_state(d, &jobs[0]),
            slurm_state(d, &jobs[1])
        );
        std::thread::sleep(Duration::from_millis(500));
        if count("tuned").await >= 4 {
            break;
        }
    }
    assert_eq!(count("tuned/tune").await, 4);
    assert_eq!(count("tuned").await, 4);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM runs").await,
        8,
        "none twice, none failed"
    );
}

/// Starts `harmonium serve --db DB` on a free port, GETs `path` of its API, stops it; the JSON.
fn serve_api(dir: &Path, db: &str, path: &str) -> serde_json::Value {
    use std::io::BufRead;
    let mut child = Command::new(harmonium_bin())
        .args(["serve", "--port", "0", "--db", db])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The output is kept open (and read up to "ready") while the request runs: a closed pipe
    // would end the server at its next line.
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let mut ready = String::new();
    while !ready.contains("ready") {
        ready.clear();
        assert!(
            out.read_line(&mut ready).unwrap() > 0,
            "serve stopped: {line}"
        );
    }
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("harmonium serve printed no address: {line:?}"))
        .trim_end_matches('/')
        .to_string();
    let body = ureq::get(&format!("{url}{path}"))
        .call()
        .map(|r| r.into_body().read_to_string().unwrap());
    let _ = child.kill();
    let _ = child.wait();
    drop(out);
    serde_json::from_str(&body.unwrap()).unwrap()
}

#[test]
fn a_server_store_reaches_the_indexed_job_through_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("launched.yaml"), SWEEP).unwrap();
    let url = "postgres://me:s3cret@db.lab:5432/results";
    ok(harmonium_in(
        d,
        &[
            "launch",
            "launched.yaml",
            "--db",
            url,
            "--k8s",
            "--dry-run",
            "--image",
            "h:1",
        ],
        None,
    ));
    let text = std::fs::read_to_string(d.join("launched.k8s.yaml")).unwrap();
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect();
    assert_eq!(docs.len(), 3, "{text}");
    let (secret, job) = (&docs[0], &docs[2]);
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["stringData"]["HARMONIUM_DB"], url);
    assert_eq!(job["kind"], "Job");
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_sequence()
        .unwrap();
    let db = env.iter().find(|e| e["name"] == "HARMONIUM_DB").unwrap();
    assert_eq!(
        db["valueFrom"]["secretKeyRef"]["name"],
        secret["metadata"]["name"]
    );
    assert!(
        !serde_yaml::to_string(job).unwrap().contains("s3cret"),
        "no password in the Job"
    );
}
