//! Runs the trials of an experiment on a pool of worker threads and streams their events into
//! the store through the single writer.
//!
//! Resume is the default: a trial whose hash already finished in this experiment is skipped.
//! Stopping (Ctrl-C sets `RunOptions::stop`) lets running trials end at the next epoch boundary;
//! they are marked `killed`, and trials that never started are marked `killed` too.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use harmonium_models::{Event, EventSink};
use harmonium_store::{NewRun, Store, Writer, WriterHandle};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cache::StageCache;
use crate::config::{Experiment, flat_params, to_json};
use crate::journal::{Entry, Journal};
use crate::pipeline::{TrialError, run_trial, stack_plan};
use crate::shared::{DataCache, Shared};
use crate::stages::autoencoder::autoencoder_stack_key;
use crate::sweep::{
    Goal, MetricSpec, Trial, TuneCell, expand, expand_tuning, final_trials, tuning_metric,
    tuning_name,
};
use crate::terminal::printable;

pub struct RunOptions {
    /// Number of trials run at once.
    pub jobs: usize,
    /// Run trials again even when a run with the same hash finished.
    pub rerun: bool,
    /// Where datasets live (`data/` by default).
    pub data_dir: PathBuf,
    /// Where artifacts (pictures, checkpoints) are written: below it, one folder per database
    /// ([`harmonium_store::Store::artifact_folder`]) and in it one folder per run.
    pub artifacts_dir: PathBuf,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// Set to stop: running trials end at the next epoch, queued ones are not started.
    pub stop: Arc<AtomicBool>,
    /// Where to look up the git commit recorded with each run.
    pub source_dir: Option<PathBuf>,
    /// The stage cache (pretrained stacks shared by trials and runs).
    pub cache_dir: PathBuf,
    /// Run only the trials with these indices (first, last; inclusive), as `plan` numbers them.
    pub only: Option<(usize, usize)>,
    /// Compute on this device instead of the file's `device` (a different device is a
    /// different configuration: its own config hash).
    pub device: Option<String>,
    /// Start a killed trial from scratch instead of continuing it from its last saved epoch.
    pub restart: bool,
}

/// Every trial on `device` (when given), with its hash recomputed.
fn on_device(trials: &mut [Trial], device: Option<&str>) {
    if let Some(d) = device {
        for t in trials {
            t.config.device = d.to_string();
            t.hash = crate::sweep::config_hash(&t.config, t.seed);
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RunOutcome {
    pub experiment_id: i64,
    pub planned: usize,
    pub skipped: usize,
    pub finished: usize,
    pub failed: usize,
    pub killed: usize,
    pub reaped: u64,
}

impl RunOutcome {
    /// The counts of this run of trials and a `later` one together, under the later one's
    /// experiment (a tuned sweep's tuning, then its final trials).
    fn then(self, later: RunOutcome) -> RunOutcome {
        RunOutcome {
            experiment_id: later.experiment_id,
            planned: self.planned + later.planned,
            skipped: self.skipped + later.skipped,
            finished: self.finished + later.finished,
            failed: self.failed + later.failed,
            killed: self.killed + later.killed,
            reaped: self.reaped + later.reaped,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Expand(String),
    /// A device or dataset the trials need is not usable (found before anything is written).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] harmonium_store::StoreError),
}

/// The process's view of one trial: forwards events to the writer and the progress bar.
struct RunSink {
    run_id: i64,
    writer: WriterHandle,
    started: Instant,
    stop: Arc<AtomicBool>,
    artifacts: PathBuf,
    artifacts_root: PathBuf,
    /// Names of the artifacts this run wrote (which it may write again).
    written: std::collections::HashSet<String>,
    bar: ProgressBar,
    write_error: Option<String>,
    /// Latest value of each metric, for the line printed when the trial ends.
    last: std::collections::HashMap<String, f64>,
    /// What the run recorded and the states its trainings saved ([`crate::journal`]).
    journal: Journal,
    /// Added to the clock: a continuing run's wall times follow the killed run's.
    time_offset: f64,
}

impl RunSink {
    /// Records into this run what the killed run recorded up to its last saved state: its
    /// metric points, and its artifacts copied from `killed_dir`.
    fn replay(&mut self, entries: Vec<Entry>, killed_dir: &Path) -> Result<(), String> {
        for e in entries {
            match &e {
                Entry::Metric {
                    key,
                    step,
                    value,
                    wall_time,
                } => {
                    self.last.insert(key.clone(), *value);
                    self.writer
                        .metric(self.run_id, key, *step as i64, *value, *wall_time)
                        .map_err(|e| e.to_string())?;
                }
                Entry::Artifact { kind, name, step } => {
                    let to = self.artifacts.join(name);
                    std::fs::create_dir_all(&self.artifacts)
                        .and_then(|_| std::fs::copy(killed_dir.join(name), &to))
                        .map_err(|e| format!("copying artifact {name}: {e}"))?;
                    self.register_artifact(kind, name, *step)
                        .map_err(|e| e.to_string())?;
                }
            }
            self.journal.replayed(e);
        }
        Ok(())
    }

    /// Records the artifact file `name`, written into this run's folder, in the database.
    fn register_artifact(
        &mut self,
        kind: &str,
        name: &str,
        step: Option<u64>,
    ) -> harmonium_store::Result<()> {
        let path = self.artifacts.join(name);
        self.written.insert(name.to_string());
        let rel = path
            .strip_prefix(&self.artifacts_root)
            .unwrap_or(&path)
            .to_string_lossy()
            .to_string();
        self.writer
            .artifact(self.run_id, kind, &rel, step.map(|s| s as i64))
    }
}

/// A thread recording, every [`harmonium_store::lease::heartbeat_interval`], that this process
/// still runs the runs in `running`.
struct Heartbeats {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Heartbeats {
    fn start(writer: WriterHandle, running: Arc<Mutex<std::collections::HashSet<i64>>>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let thread = std::thread::spawn(move || {
            let every = harmonium_store::lease::heartbeat_interval();
            let mut last = Instant::now();
            while !d.load(Ordering::Relaxed) {
                std::thread::sleep(every.min(std::time::Duration::from_millis(100)));
                if last.elapsed() >= every {
                    last = Instant::now();
                    let ids: Vec<i64> = running
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .iter()
                        .copied()
                        .collect();
                    if !ids.is_empty() && writer.heartbeat(ids).is_err() {
                        break;
                    }
                }
            }
        });
        Heartbeats { done, thread }
    }

    fn stop(self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// Writes an artifact file. A file already there is another run's (whose row points at it) and
/// is never replaced: that is an error. `again`: this run wrote the file before and replaces it
/// whole (written beside it, then renamed over it).
fn write_artifact(path: &Path, bytes: &[u8], again: bool) -> std::io::Result<()> {
    use std::io::Write;
    if again {
        let tmp = path.with_extension("partial");
        std::fs::write(&tmp, bytes)?;
        return std::fs::rename(&tmp, path);
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                std::io::Error::new(
                    e.kind(),
                    "the file exists already (another run's artifact?) and is not overwritten",
                )
            } else {
                e
            }
        })?;
    f.write_all(bytes)?;
    f.sync_all()
}

impl EventSink for RunSink {
    fn emit(&mut self, event: Event) {
        let t = self.time_offset + self.started.elapsed().as_secs_f64();
        let r = match event {
            Event::Metric { key, step, value } => {
                self.last.insert(key.clone(), value);
                if self.journal.metric(&key, step, value, t) {
                    self.writer.metric(self.run_id, &key, step as i64, value, t)
                } else {
                    Ok(())
                }
            }
            Event::Artifact {
                kind,
                name,
                step,
                bytes,
            } => {
                let path = self.artifacts.join(&name);
                let again = self.written.contains(&name);
                let written = std::fs::create_dir_all(&self.artifacts)
                    .and_then(|_| write_artifact(&path, &bytes, again));
                match written {
                    Ok(()) if again => Ok(()),
                    Ok(()) => {
                        self.journal.artifact(&kind, &name, step);
                        self.register_artifact(&kind, &name, step)
                    }
                    Err(e) => {
                        self.write_error =
                            Some(format!("could not write artifact {}: {e}", path.display()));
                        Ok(())
                    }
                }
            }
            Event::Progress { stage, done, total } => {
                self.bar.set_length(total);
                self.bar.set_position(done);
                self.bar.set_prefix(format!("run {} {stage}", self.run_id));
                Ok(())
            }
        };
        if let Err(e) = r {
            self.write_error = Some(e.to_string());
        }
    }

    fn keep_going(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    fn keeps_state(&self) -> bool {
        true
    }

    fn resume_state(&mut self, key: &str) -> Option<Vec<u8>> {
        match self.journal.resume_state(key) {
            Ok(state) => state,
            Err(e) => {
                self.write_error = Some(e);
                None
            }
        }
    }

    fn save_state(&mut self, key: &str, state: Vec<u8>) {
        if let Err(e) = self.journal.save_state(key, &state) {
            self.write_error = Some(format!("could not save the training state of {key}: {e}"));
        }
    }
}

fn git_commit(dir: Option<&Path>) -> Option<String> {
    let mut cmd = std::process::Command::new("git");
    cmd.args(["rev-parse", "HEAD"]);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.stderr(std::process::Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs an experiment to the end (or until stopped). `yaml` is the file's text, stored with it.
/// With `sweep.tune`, first every cell's tuning trials (under `NAME/tune`), then each cell's
/// chosen configuration over the experiment's seeds (under `NAME`).
pub async fn run_experiment(
    exp: &Experiment,
    yaml: &str,
    store: &Store,
    opts: &RunOptions,
) -> Result<RunOutcome, RunError> {
    let metric = exp.sweep.as_ref().and_then(|s| s.metric.clone());
    let Some(mut cells) = expand_tuning(exp, yaml).map_err(RunError::Expand)? else {
        let mut trials = expand(exp, yaml).map_err(RunError::Expand)?;
        on_device(&mut trials, opts.device.as_deref());
        if let Some(range) = opts.only {
            check_range(range, trials.len()).map_err(RunError::Invalid)?;
            trials.retain(|t| (range.0..=range.1).contains(&t.index));
        }
        return run_trials(&exp.name, exp, yaml, trials, metric, store, opts).await;
    };
    for cell in &mut cells {
        on_device(&mut cell.trials, opts.device.as_deref());
    }
    let sweep = exp.sweep.as_ref().expect("a tuned experiment has a sweep");
    let by = tuning_metric(sweep).expect("expand_tuning checked the metric");
    let tuning: Vec<Trial> = cells.iter().flat_map(|c| c.trials.clone()).collect();
    let name = tuning_name(&exp.name);
    if let Some(range) = opts.only {
        return run_tuned_by_index(exp, yaml, &cells, tuning, range, &by, metric, store, opts)
            .await;
    }
    eprintln!(
        "{}",
        printable(&format!(
            "tuning '{}': {} cells × {} trials, chosen by {}; then each cell's choice × {} seed(s)",
            exp.name,
            cells.len(),
            cells.first().map_or(0, |c| c.trials.len()),
            by.name,
            exp.seeds.len()
        ))
    );
    let first = run_trials(&name, exp, yaml, tuning, Some(by.clone()), store, opts).await?;
    if opts.stop.load(Ordering::Relaxed) {
        return Ok(first);
    }
    let id = store
        .experiment_named(&name)
        .await?
        .expect("the tuning experiment was written");
    let values = store.finished_values(id, &by.name).await?;
    let chosen = choose(&cells, &values, by.goal);
    for (cell, pick) in cells.iter().zip(&chosen) {
        let line = match pick {
            Some(i) => {
                let t = &cell.trials[*i];
                let v = values.get(&t.hash).copied().flatten().unwrap_or(f64::NAN);
                let tuned: Vec<String> = t
                    .point
                    .iter()
                    .filter(|(k, _)| !cell.point.contains_key(*k))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!(
                    "tuned {}: chose {} ({} {v:.4}, best of {})",
                    cell.label(),
                    tuned.join(" "),
                    by.name,
                    cell.trials.len()
                )
            }
            None => format!(
                "tuned {}: no tuning trial finished with a value of {}; the cell's final runs are \
                 left out",
                cell.label(),
                by.name
            ),
        };
        eprintln!("{}", printable(&line));
    }
    let finals = final_trials(exp, &cells, &chosen);
    let second = run_trials(&exp.name, exp, yaml, finals, metric, store, opts).await?;
    Ok(first.then(second))
}

/// `--trial FIRST-LAST` of a tuned sweep. Its trials are numbered as `harmonium plan` lists
/// them: the tuning trials first (0 to T−1), then the final trials (T to T+F−1, cell by cell,
/// each cell's seeds in order). A final trial runs the configuration its cell's tuning chose, so
/// it needs that tuning finished (as the tasks of a job array that waits for the tuning array).
#[allow(clippy::too_many_arguments)]
async fn run_tuned_by_index(
    exp: &Experiment,
    yaml: &str,
    cells: &[TuneCell],
    tuning: Vec<Trial>,
    (first, last): (usize, usize),
    by: &MetricSpec,
    metric: Option<MetricSpec>,
    store: &Store,
    opts: &RunOptions,
) -> Result<RunOutcome, RunError> {
    let seeds = exp.seeds.len();
    let (t, f) = crate::sweep::tuned_counts(exp, cells);
    check_range((first, last), t + f).map_err(RunError::Invalid)?;
    let name = tuning_name(&exp.name);
    let mut out = RunOutcome::default();
    let picked: Vec<Trial> = tuning
        .into_iter()
        .filter(|tr| (first..=last).contains(&tr.index))
        .collect();
    if !picked.is_empty() {
        out = run_trials(&name, exp, yaml, picked, Some(by.clone()), store, opts).await?;
    }
    if last < t || opts.stop.load(Ordering::Relaxed) {
        return Ok(out);
    }
    let values = match store.experiment_named(&name).await? {
        Some(id) => store.finished_values(id, &by.name).await?,
        None => Default::default(),
    };
    let mut finals = Vec::new();
    for i in first.max(t)..=last {
        let (c, s) = ((i - t) / seeds, (i - t) % seeds);
        let cell = &cells[c];
        let pending: Vec<String> = cell
            .trials
            .iter()
            .filter(|tr| !values.contains_key(&tr.hash))
            .map(|tr| tr.index.to_string())
            .collect();
        if !pending.is_empty() {
            return Err(RunError::Invalid(format!(
                "--trial {i}: the final run of cell {} with seed {} runs the configuration its \
                 tuning chooses, and tuning trial(s) {} of that cell have not finished: run them \
                 first (`--trial {}`)",
                cell.label(),
                exp.seeds[s],
                pending.join(", "),
                pending.join(" … ")
            )));
        }
        let Some(pick) = choose(std::slice::from_ref(cell), &values, by.goal)[0] else {
            return Err(RunError::Invalid(format!(
                "--trial {i}: no tuning trial of cell {} finished with a value of {}, so it has \
                 no configuration to run",
                cell.label(),
                by.name
            )));
        };
        let tuned = &cell.trials[pick];
        let seed = exp.seeds[s];
        finals.push(Trial {
            index: c * seeds + s,
            point: tuned.point.clone(),
            seed,
            hash: crate::sweep::config_hash(&tuned.config, seed),
            config: tuned.config.clone(),
        });
    }
    let second = run_trials(&exp.name, exp, yaml, finals, metric, store, opts).await?;
    Ok(out.then(second))
}

/// Checks `--trial FIRST-LAST` against the number of trials a file expands to.
pub fn check_range((first, last): (usize, usize), trials: usize) -> Result<(), String> {
    if first > last {
        return Err(format!(
            "--trial {first}-{last}: the first index is after the last"
        ));
    }
    if last >= trials {
        let what = if first == last {
            format!("{first}")
        } else {
            format!("{first}-{last}")
        };
        return Err(format!(
            "--trial {what}: out of range: the file expands to {trials} trial(s), numbered 0-{} \
             (`harmonium plan FILE` lists them)",
            trials.saturating_sub(1)
        ));
    }
    Ok(())
}

/// Per cell, its tuning trial with the best finished value (the first of equals, in expansion
/// order), or `None` when none finished with a number.
pub fn choose(
    cells: &[TuneCell],
    values: &std::collections::HashMap<String, Option<f64>>,
    goal: Goal,
) -> Vec<Option<usize>> {
    cells
        .iter()
        .map(|cell| {
            let mut best: Option<(usize, f64)> = None;
            for (i, t) in cell.trials.iter().enumerate() {
                let Some(v) = values
                    .get(&t.hash)
                    .copied()
                    .flatten()
                    .filter(|v| v.is_finite())
                else {
                    continue;
                };
                let better = match (best, goal) {
                    (None, _) => true,
                    (Some((_, b)), Goal::Minimize) => v < b,
                    (Some((_, b)), Goal::Maximize) => v > b,
                };
                if better {
                    best = Some((i, v));
                }
            }
            best.map(|(i, _)| i)
        })
        .collect()
}

/// Runs `trials` under the experiment `name` (the file's, or its tuning experiment).
async fn run_trials(
    name: &str,
    exp: &Experiment,
    yaml: &str,
    trials: Vec<Trial>,
    metric: Option<crate::sweep::MetricSpec>,
    store: &Store,
    opts: &RunOptions,
) -> Result<RunOutcome, RunError> {
    let mut outcome = RunOutcome {
        planned: trials.len(),
        ..Default::default()
    };
    let done = match store.experiment_named(name).await? {
        Some(id) if !opts.rerun => store.finished_hashes(id).await?,
        _ => Default::default(),
    };
    let (skip, todo): (Vec<Trial>, Vec<Trial>) =
        trials.into_iter().partition(|t| done.contains(&t.hash));
    outcome.skipped = skip.len();
    // Devices and datasets are checked before anything is written.
    let data = DataCache::new(opts.data_dir.clone());
    crate::preflight::check(&todo, yaml, &data, &|line| {
        eprintln!("{}", printable(&line))
    })
    .map_err(RunError::Invalid)?;

    let host = gethostname::gethostname().to_string_lossy().to_string();
    outcome.reaped = store.reap_dead_runs(&host).await?;
    let (writer, handle) = Writer::spawn(store.clone());
    let goal = metric.as_ref().map(|m| match m.goal {
        Goal::Minimize => "minimize".to_string(),
        Goal::Maximize => "maximize".to_string(),
    });
    let exp_id = handle
        .experiment(
            name,
            &exp.description,
            yaml,
            metric.as_ref().map(|m| m.name.clone()),
            goal,
        )
        .await?;
    outcome.experiment_id = exp_id;

    let mp = MultiProgress::with_draw_target(if opts.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let say = |mp: &MultiProgress, line: String| {
        let line = printable(&line);
        if mp.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = mp.println(line);
        }
    };
    let stages = StageCache::new(opts.cache_dir.clone());
    let stacks: std::collections::BTreeSet<String> = todo
        .iter()
        .filter_map(|t| {
            stack_plan(t, &opts.data_dir)
                .map(|p| p.3)
                .or_else(|| autoencoder_stack_key(t, &opts.data_dir))
        })
        .collect();
    let cached = stacks.iter().filter(|k| stages.contains(k)).count();
    let stack_note = if stacks.is_empty() {
        String::new()
    } else {
        format!(
            "; {} pretrained stacks needed ({} cached, {} to train)",
            stacks.len(),
            cached,
            stacks.len() - cached
        )
    };
    say(
        &mp,
        format!(
            "experiment '{}': {} trials ({} already finished, {} to run) on {} worker(s){stack_note}; database {}",
            name,
            outcome.planned,
            outcome.skipped,
            todo.len(),
            opts.jobs.max(1),
            store.path.display()
        ),
    );
    if todo.is_empty() {
        drop(handle);
        writer.join().await;
        return Ok(outcome);
    }

    let commit = git_commit(opts.source_dir.as_deref());
    // Each trial is claimed when a worker starts it: its run is created then, already running,
    // unless another process sharing the database has it (running or finished).
    let queue: VecDeque<Trial> = todo.into_iter().collect();
    let new_run = {
        let (commit, host) = (commit.clone(), host.clone());
        move |t: &Trial| {
            let cfg_json = to_json(&t.config);
            let mut params: Vec<(String, serde_json::Value)> =
                flat_params(&cfg_json).into_iter().collect();
            params.push(("seed".into(), t.seed.into()));
            NewRun {
                experiment_id: exp_id,
                trial_index: t.index as i64,
                config_json: serde_json::to_string(&cfg_json).expect("json"),
                config_hash: t.hash.clone(),
                seed: t.seed as i64,
                git_commit: commit.clone(),
                host: host.clone(),
                params,
            }
        }
    };
    let new_run = Arc::new(new_run);
    let claimed_elsewhere = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let folder = store.artifact_folder().await?;
    let total = queue.len();
    let overall = mp.add(ProgressBar::new(total as u64));
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix:>12} [{bar:30}] {pos}/{len} trials, {elapsed_precise} elapsed, eta {eta}",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    overall.set_prefix(printable(name));
    let queue = Arc::new(Mutex::new(queue));
    let data = Arc::new(Shared { data, stages });
    let results = Arc::new(Mutex::new(Vec::new()));
    let report_key = metric
        .map(|m| m.name)
        .unwrap_or_else(|| "best_test_error".into());

    // The runs this process is running, whose heartbeats it records ([`harmonium_store::lease`]).
    let running: Arc<Mutex<std::collections::HashSet<i64>>> = Arc::default();
    let heartbeats = Heartbeats::start(handle.clone(), running.clone());
    let mut workers = Vec::new();
    for _ in 0..opts.jobs.max(1).min(total) {
        let (queue, data, results, handle) =
            (queue.clone(), data.clone(), results.clone(), handle.clone());
        let (new_run, claimed_elsewhere, rerun, restart, running) = (
            new_run.clone(),
            claimed_elsewhere.clone(),
            opts.rerun,
            opts.restart,
            running.clone(),
        );
        let stop = opts.stop.clone();
        let bar = mp.add(ProgressBar::new(1));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} epochs {msg}")
                .unwrap()
                .progress_chars("=> "),
        );
        let (mp, overall, artifacts_root, report_key, folder) = (
            mp.clone(),
            overall.clone(),
            opts.artifacts_dir.clone(),
            report_key.clone(),
            folder.clone(),
        );
        workers.push(tokio::task::spawn_blocking(move || {
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Some(trial) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
                else {
                    break;
                };
                let say = |line: String| {
                    let line = printable(&line);
                    if mp.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        let _ = mp.println(line);
                    }
                };
                let (run_id, killed_before) = match handle.claim_blocking(new_run(&trial), rerun) {
                    Ok(Some(c)) => (c.id, c.killed_before.filter(|_| !restart)),
                    Ok(None) => {
                        claimed_elsewhere.fetch_add(1, Ordering::Relaxed);
                        overall.inc(1);
                        say(format!(
                            "skipped trial {} [{}]: another process has run it or is running it",
                            trial.index,
                            trial.label()
                        ));
                        continue;
                    }
                    Err(e) => {
                        overall.inc(1);
                        say(format!(
                            "could not claim trial {} [{}]: {e}",
                            trial.index,
                            trial.label()
                        ));
                        results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((0, "failed"));
                        continue;
                    }
                };
                running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(run_id);
                bar.reset();
                bar.set_message(printable(&trial.label()));
                let run_dir = |id: i64| artifacts_root.join(&folder).join(format!("run-{id}"));
                let mut sink = RunSink {
                    run_id,
                    writer: handle.clone(),
                    started: Instant::now(),
                    stop: stop.clone(),
                    artifacts: run_dir(run_id),
                    artifacts_root: artifacts_root.clone(),
                    written: Default::default(),
                    bar: bar.clone(),
                    write_error: None,
                    last: Default::default(),
                    journal: Journal::new(&run_dir(run_id)),
                    time_offset: 0.0,
                };
                // A killed run of this trial that saved training states is continued.
                let continued = match killed_before {
                    Some(old) => match Journal::continuing(&run_dir(run_id), &run_dir(old)) {
                        Ok(Some((journal, entries))) => {
                            let points = entries.len();
                            sink.time_offset = Journal::last_wall_time(&entries);
                            sink.journal = journal;
                            say(format!(
                                "continuing trial {} [{}] from killed run {old}: {points} \
                                 recorded points and artifacts replayed into run {run_id}",
                                trial.index,
                                trial.label()
                            ));
                            sink.replay(entries, &run_dir(old))
                        }
                        Ok(None) => Ok(()),
                        Err(e) => Err(e),
                    },
                    None => Ok(()),
                };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    continued.map_err(TrialError::Failed)?;
                    run_trial(&trial, &data, &mut sink)
                }))
                .unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
                    Err(TrialError::Failed(format!(
                        "panic: {}",
                        msg.unwrap_or_else(|| "unknown".into())
                    )))
                });
                let secs = sink.started.elapsed().as_secs_f64();
                let result = match (result, sink.write_error.take()) {
                    (Ok(()), Some(e)) => Err(TrialError::Failed(e)),
                    (r, _) => r,
                };
                let (status, error) = match &result {
                    Ok(()) => ("finished", None),
                    Err(TrialError::Interrupted) => (
                        "killed",
                        Some(
                            "interrupted (Ctrl-C or a stop signal) before it finished".to_string(),
                        ),
                    ),
                    Err(TrialError::Failed(e)) => ("failed", Some(e.clone())),
                };
                running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&run_id);
                let _ = handle.finish(run_id, status, error.clone());
                let _ = handle.flush_blocking();
                if status == "finished" {
                    sink.journal.finished();
                }
                overall.inc(1);
                let line = match status {
                    "finished" => {
                        let value = sink
                            .last
                            .get(&report_key)
                            .map(|v| format!(", {report_key} {v:.4}"))
                            .unwrap_or_default();
                        format!(
                            "finished run {run_id} [{}] in {secs:.1} s{value}",
                            trial.label()
                        )
                    }
                    s => format!(
                        "{s} run {run_id} [{}] after {secs:.1} s: {}",
                        trial.label(),
                        error.unwrap_or_default()
                    ),
                };
                say(line);
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((run_id, status));
            }
            bar.finish_and_clear();
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    heartbeats.stop();
    overall.finish_and_clear();

    // Trials never started because of a stop request have no run: the next `run` starts them.
    queue.lock().unwrap_or_else(|e| e.into_inner()).clear();
    outcome.skipped += claimed_elsewhere.load(Ordering::Relaxed);
    handle.flush().await?;
    drop(handle);
    writer.join().await;
    for (_, status) in results.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        match *status {
            "finished" => outcome.finished += 1,
            "failed" => outcome.failed += 1,
            _ => outcome.killed += 1,
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::write_artifact;

    #[test]
    fn an_artifact_never_replaces_another_runs_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("filters.png");
        write_artifact(&path, b"first run", false).unwrap();
        let e = write_artifact(&path, b"second run", false).unwrap_err();
        assert!(e.to_string().contains("not overwritten"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first run");
        // The run that wrote it may write it again, whole.
        write_artifact(&path, b"first run, again", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first run, again");
    }
}
