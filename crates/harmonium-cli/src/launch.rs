//! `harmonium launch FILE --slurm | --k8s`: hands a sweep to a cluster's own scheduler as an
//! array of tasks, task `i` running `harmonium run FILE --trial i` against the shared store. The
//! trials claim themselves in the store (a trial is never run twice, a finished one is skipped),
//! so a task that is run again, or a second launch, costs nothing.
//!
//! * Slurm: an `sbatch` job-array script (`#SBATCH --array=0-(N-1)%K`, task index
//!   `$SLURM_ARRAY_TASK_ID`), submitted with `sbatch` unless `--dry-run`; the job id is printed.
//! * Kubernetes: an Indexed Job (`completionMode: Indexed`, `completions: N`, `parallelism: K`,
//!   task index `$JOB_COMPLETION_INDEX`) with the experiment file in a ConfigMap mounted at
//!   `/experiment`, applied with `kubectl apply -f` unless `--dry-run`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use harmonium_experiment::load_experiment;
use serde_json::json;

/// What both launchers need to know: the file, the shared store, and the options below.
pub struct Launch {
    pub file: PathBuf,
    pub db: PathBuf,
    pub args: LaunchArgs,
    pub resources: Resources,
}

/// Options of both launchers.
#[derive(clap::Args)]
pub struct LaunchArgs {
    /// Write the script or manifest (and print it) without submitting it.
    #[arg(long)]
    pub dry_run: bool,
    /// Where to write it (default: beside the file, NAME.slurm.sh or NAME.k8s.yaml).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Tasks run at once (Slurm's `%K`, the Job's parallelism); default: all.
    #[arg(long = "array-parallelism", alias = "parallelism")]
    pub parallelism: Option<usize>,
    /// Where the tasks find the datasets.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// What each task asks for.
#[derive(clap::Args)]
pub struct Resources {
    /// CPUs per task.
    #[arg(long)]
    pub cpus: Option<u32>,
    /// Memory per task (Slurm: 8G; Kubernetes: 8Gi).
    #[arg(long)]
    pub mem: Option<String>,
    /// GPUs per task.
    #[arg(long)]
    pub gpus: Option<u32>,
}

/// Slurm's own options.
#[derive(clap::Args)]
pub struct SlurmArgs {
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm time limit per task (e.g. 02:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// The harmonium binary the Slurm tasks run (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
}

/// Kubernetes' own options.
#[derive(clap::Args)]
pub struct KubeArgs {
    /// Container image of the Kubernetes tasks (with `harmonium` on its PATH).
    #[arg(long, default_value = "harmonium:latest")]
    pub image: String,
    /// Kubernetes namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// A PersistentVolumeClaim mounted at /shared in every Kubernetes task.
    #[arg(long)]
    pub volume_claim: Option<String>,
}

/// The trials of a file as the index ranges of its array jobs.
struct Plan {
    name: String,
    /// A plain sweep: one range. A tuned sweep: its tuning trials, then its final trials, which
    /// need the tuning finished (the second array waits for the first).
    ranges: Vec<(usize, usize)>,
    yaml: String,
}

impl Plan {
    fn trials(&self) -> usize {
        self.ranges.iter().map(|(a, b)| b - a + 1).sum()
    }
}

fn trials(file: &Path) -> Result<Plan> {
    let (exp, yaml) = load_experiment(file)?;
    let ranges =
        harmonium_experiment::sweep::trial_ranges(&exp, &yaml).map_err(anyhow::Error::msg)?;
    Ok(Plan {
        name: exp.name,
        ranges,
        yaml,
    })
}

/// The store as the tasks name it: a database file as an absolute path, a server URL as it is.
fn store_location(db: &Path) -> Result<PathBuf> {
    if harmonium_store::is_server_url(db) {
        Ok(db.into())
    } else {
        absolute(db)
    }
}

/// Where the tasks' output goes: `slurm-logs/` beside the database file, or in the current
/// folder for a server.
fn logs_dir(db: &Path) -> Result<PathBuf> {
    let base = if harmonium_store::is_server_url(db) {
        std::env::current_dir().context("reading the current folder")?
    } else {
        absolute(db)?
            .parent()
            .unwrap_or(Path::new("/"))
            .to_path_buf()
    };
    Ok(base.join("slurm-logs"))
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
}

/// Single-quoted for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The sbatch script of `launch`.
pub fn slurm_script(
    launch: &Launch,
    slurm: &SlurmArgs,
    name: &str,
    (first, last): (usize, usize),
) -> Result<String> {
    let n = last - first + 1;
    let binary = match &slurm.binary {
        Some(b) => absolute(b)?,
        None => std::env::current_exe().context("finding the harmonium binary")?,
    };
    let file = absolute(&launch.file)?;
    let db = store_location(&launch.db)?;
    let logs = logs_dir(&launch.db)?;
    let mut s = String::from("#!/bin/bash\n");
    s += &format!("#SBATCH --job-name={}\n", job_name(name));
    let limit = launch
        .args
        .parallelism
        .map(|k| format!("%{k}"))
        .unwrap_or_default();
    let res = &launch.resources;
    s += &format!("#SBATCH --array={first}-{last}{limit}\n");
    if let Some(p) = &slurm.partition {
        s += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(g) = res.gpus {
        s += &format!("#SBATCH --gpus={g}\n");
    }
    if let Some(t) = &slurm.time {
        s += &format!("#SBATCH --time={t}\n");
    }
    if let Some(c) = res.cpus {
        s += &format!("#SBATCH --cpus-per-task={c}\n");
    }
    if let Some(m) = &res.mem {
        s += &format!("#SBATCH --mem={m}\n");
    }
    s += &format!("#SBATCH --output={}/%x-%A_%a.out\n", logs.display());
    // A preempted task is put back in the queue; its trial, marked killed when the task was
    // stopped, is claimed again when it restarts.
    s += "#SBATCH --requeue\n";
    if harmonium_store::is_server_url(&launch.db) {
        // Artifacts and the stage cache go to the folder `launch` ran in, as they would for a
        // `run` there (point --artifacts-dir at a filesystem every node sees).
        let here = std::env::current_dir().context("reading the current folder")?;
        s += &format!("#SBATCH --chdir={}\n", here.display());
    }
    s += &format!(
        "# {n} trials of {name} ({first}-{last}); task i runs trial i against the shared store.\nset -eu\n"
    );
    let mut cmd = format!(
        "exec {} run {} --db {} --trial \"$SLURM_ARRAY_TASK_ID\" --no-progress",
        quote(&binary.display().to_string()),
        quote(&file.display().to_string()),
        quote(&db.display().to_string()),
    );
    if let Some(d) = &launch.args.data_dir {
        cmd += &format!(" --data-dir {}", quote(&absolute(d)?.display().to_string()));
    }
    s += &cmd;
    s.push('\n');
    Ok(s)
}

/// A name Slurm and Kubernetes both accept: lowercase letters, digits and dashes.
fn job_name(name: &str) -> String {
    let mut out: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out = out.trim_matches('-').to_string();
    out.truncate(50);
    format!("harmonium-{}", out.trim_end_matches('-'))
}

/// The Indexed Job (and the ConfigMap holding the experiment file) of `launch`.
pub fn k8s_manifest(launch: &Launch, kube: &KubeArgs, name: &str, n: usize, yaml: &str) -> String {
    let res = &launch.resources;
    let job = job_name(name);
    let file_name = launch
        .file
        .file_name()
        .map_or("experiment.yaml".into(), |f| {
            f.to_string_lossy().to_string()
        });
    let mut meta = json!({"name": job, "labels": {"app": "harmonium", "experiment": job}});
    if let Some(ns) = &kube.namespace {
        meta["namespace"] = ns.clone().into();
    }
    let mut config_meta = meta.clone();
    config_meta["name"] = format!("{job}-experiment").into();
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": config_meta,
        "data": {file_name.clone(): yaml},
    });
    // A server URL (which may hold a password) goes into a Secret the pods read it from.
    let server = harmonium_store::is_server_url(&launch.db);
    let store_env = if server {
        json!({"name": "HARMONIUM_DB", "valueFrom": {"secretKeyRef": {
            "name": format!("{job}-store"), "key": "HARMONIUM_DB",
        }}})
    } else {
        json!({"name": "HARMONIUM_DB", "value": launch.db.display().to_string()})
    };
    let secret = server.then(|| {
        let mut secret_meta = meta.clone();
        secret_meta["name"] = format!("{job}-store").into();
        json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": secret_meta, "type": "Opaque",
            "stringData": {"HARMONIUM_DB": launch.db.display().to_string()},
        })
    });
    let mut env = vec![
        json!({"name": "HARMONIUM_EXPERIMENT", "value": format!("/experiment/{file_name}")}),
        store_env,
    ];
    if let Some(d) = &launch.args.data_dir {
        env.push(json!({"name": "HARMONIUM_DATA_DIR", "value": d.display().to_string()}));
    }
    let mut requests = serde_json::Map::new();
    if let Some(c) = res.cpus {
        requests.insert("cpu".into(), c.to_string().into());
    }
    if let Some(m) = &res.mem {
        requests.insert("memory".into(), m.clone().into());
    }
    let mut resources = json!({"requests": requests});
    if let Some(g) = res.gpus {
        resources["limits"] = json!({"nvidia.com/gpu": g});
    }
    let mut mounts = vec![json!({"name": "experiment", "mountPath": "/experiment"})];
    let mut volumes =
        vec![json!({"name": "experiment", "configMap": {"name": format!("{job}-experiment")}})];
    if let Some(claim) = &kube.volume_claim {
        mounts.push(json!({"name": "shared", "mountPath": "/shared"}));
        volumes.push(json!({"name": "shared", "persistentVolumeClaim": {"claimName": claim}}));
    }
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
        "spec": {
            "completionMode": "Indexed",
            "completions": n,
            "parallelism": launch.args.parallelism.unwrap_or(n).min(n),
            "backoffLimit": 2 * n,
            "template": {
                "metadata": {"labels": {"app": "harmonium"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "trial",
                        "image": kube.image,
                        "command": ["sh", "-c", TASK_COMMAND],
                        "env": env,
                        "resources": resources,
                        "volumeMounts": mounts,
                    }],
                    "volumes": volumes,
                },
            },
        },
    });
    let mut out = String::new();
    for doc in secret.into_iter().chain([config_map, job]) {
        out += "---\n";
        out += &serde_yaml::to_string(&doc).expect("yaml");
    }
    out
}

/// What each Kubernetes task runs: its trial of the mounted file, against the shared store.
pub const TASK_COMMAND: &str = "exec harmonium run \"$HARMONIUM_EXPERIMENT\" --trial \
                                \"$JOB_COMPLETION_INDEX\" --no-progress";

fn default_output(launch: &Launch, suffix: &str, name: &str) -> PathBuf {
    launch.args.output.clone().unwrap_or_else(|| {
        launch
            .file
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{name}.{suffix}"))
    })
}

/// Whether `program` can be found on PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Opens the store (creating it, or bringing its schema up to date) before anything is
/// submitted: a wrong path, URL or password fails here rather than in every task, and the tasks
/// starting together do not race to create it.
async fn open_store(db: &Path) -> Result<()> {
    harmonium_store::Store::open(db)
        .await
        .with_context(|| format!("opening {}", crate::redacted(db)))?
        .close()
        .await;
    Ok(())
}

/// `launch --slurm`: writes the script and (unless `--dry-run`) submits it.
pub async fn slurm(launch: &Launch, slurm: &SlurmArgs) -> Result<i32> {
    let plan = trials(&launch.file)?;
    let name = &plan.name;
    if !launch.args.dry_run && !on_path("sbatch") {
        bail!(
            "sbatch not found: Slurm is not installed here (or not on PATH); nothing was written. \
             `--dry-run` writes the script without submitting it"
        );
    }
    if !launch.args.dry_run {
        open_store(&launch.db).await?;
    }
    // A tuned sweep: the tuning array, then the final trials' array, which waits for it.
    let mut written = Vec::new();
    for (i, &range) in plan.ranges.iter().enumerate() {
        let script = slurm_script(launch, slurm, name, range)?;
        let path = if i == 0 {
            default_output(launch, "slurm.sh", name)
        } else {
            default_output(launch, "final.slurm.sh", name)
        };
        std::fs::write(&path, &script).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "wrote {} ({} array tasks{})",
            path.display(),
            range.1 - range.0 + 1,
            if i == 0 && plan.ranges.len() > 1 {
                ": the tuning trials"
            } else if i > 0 {
                ": the final trials, after the tuning"
            } else {
                ""
            }
        );
        if launch.args.dry_run {
            print!("{script}");
        }
        written.push(path);
    }
    if launch.args.dry_run {
        return Ok(0);
    }
    std::fs::create_dir_all(logs_dir(&launch.db)?)?;
    let mut ids: Vec<String> = Vec::new();
    for path in &written {
        let mut cmd = Command::new("sbatch");
        cmd.arg("--parsable");
        if let Some(previous) = ids.last() {
            // `afterany`: a failed tuning trial leaves its cell's final runs to say so.
            cmd.arg(format!("--dependency=afterany:{previous}"));
        }
        let out = cmd.arg(path).output().context("running sbatch")?;
        if !out.status.success() {
            bail!(
                "sbatch {} failed: {}{}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim(),
                if ids.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (job {} was submitted: `scancel {}`)",
                        ids.join(", "),
                        ids.join(" ")
                    )
                }
            );
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("{id}");
        ids.push(id);
    }
    eprintln!(
        "submitted job{} {}: `squeue -j {}` follows {}, `harmonium ls {name}` the runs",
        if ids.len() > 1 { "s" } else { "" },
        ids.join(" and "),
        ids.join(","),
        if ids.len() > 1 { "them" } else { "it" }
    );
    Ok(0)
}

/// `launch --k8s`: writes the manifest and (unless `--dry-run`) applies it.
pub async fn k8s(launch: &Launch, kube: &KubeArgs) -> Result<i32> {
    let plan = trials(&launch.file)?;
    if plan.ranges.len() > 1 {
        bail!(
            "{}: a tuned sweep (sweep.tune) runs its final trials only after its tuning, and an \
             Indexed Job cannot wait for another; nothing was written. Use --slurm (two arrays, \
             the second waiting for the first), or `harmonium run` (processes may share the \
             store)",
            launch.file.display()
        );
    }
    let (name, n, yaml) = (plan.name.clone(), plan.trials(), plan.yaml.clone());
    if !launch.args.dry_run && !on_path("kubectl") {
        bail!(
            "kubectl not found: nothing was written. `--dry-run` writes the manifest without \
             applying it"
        );
    }
    if !launch.args.dry_run {
        open_store(&launch.db).await?;
    }
    let manifest = k8s_manifest(launch, kube, &name, n, &yaml);
    let path = default_output(launch, "k8s.yaml", &name);
    std::fs::write(&path, &manifest).with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "wrote {} (an Indexed Job of {n} completions)",
        path.display()
    );
    if launch.args.dry_run {
        print!("{manifest}");
        return Ok(0);
    }
    let out = Command::new("kubectl")
        .args(["apply", "-f"])
        .arg(&path)
        .output()
        .context("running kubectl")?;
    if !out.status.success() {
        bail!(
            "kubectl apply -f {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(0)
}
