//! What lets a killed trial continue instead of starting over: in its run's artifact folder,
//! `resume/journal.json` lists every metric point and artifact the run recorded up to the last
//! training state a learning procedure saved (at the end of an epoch), and names the file of
//! the latest state of each training (`resume/N.state`).
//!
//! A state is written beside the journal first; the journal, renamed over the old one, is the
//! commit, so a `kill -9` at any moment leaves the journal and the states it names consistent,
//! and at most the epoch in progress is lost.
//!
//! The next run of the trial (a new run, claimed as usual) replays the killed run's journal into
//! itself (its metric points, and its artifacts copied over), hands each training its saved
//! state, and records nothing twice: a metric point the journal already has (the same key and
//! step, recomputed by a stage that saves no state) is not recorded again. Trainings are told
//! apart by their key (`mlp`, `pretrain.layer0/rbm`, …) and, when one key trains more than once
//! in a trial, by the order in which they start.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One thing the run recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Metric {
        key: String,
        step: u64,
        value: f64,
        wall_time: f64,
    },
    /// An artifact file `name` in the run's folder.
    Artifact {
        kind: String,
        name: String,
        step: Option<u64>,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct OnDisk {
    entries: Vec<Entry>,
    /// Training key → its latest state's file name in `resume/`.
    states: BTreeMap<String, String>,
}

/// A run's journal: what it recorded and the states its trainings saved.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    disk: OnDisk,
    next_file: u64,
    /// The states of the run this one continues, by training key.
    given: HashMap<String, PathBuf>,
    /// Metric points already recorded (replayed from the killed run).
    seen: HashSet<(String, u64)>,
    /// How many trainings of each key have started, and the key each saves under now.
    started: HashMap<String, usize>,
    current: HashMap<String, String>,
    /// The folder of the run this one continues.
    killed_dir: Option<PathBuf>,
}

/// The journal file of the run whose artifact folder is `run_dir`.
pub fn journal_path(run_dir: &Path) -> PathBuf {
    run_dir.join("resume").join("journal.json")
}

impl Journal {
    /// A new run's empty journal, in `run_dir/resume`.
    pub fn new(run_dir: &Path) -> Journal {
        Journal {
            dir: run_dir.join("resume"),
            disk: OnDisk::default(),
            next_file: 0,
            given: HashMap::new(),
            seen: HashSet::new(),
            started: HashMap::new(),
            current: HashMap::new(),
            killed_dir: None,
        }
    }

    /// A run continuing the killed run whose folder is `killed_dir`: its journal, and the
    /// entries to replay into this run. `None` when the killed run left no journal.
    pub fn continuing(
        run_dir: &Path,
        killed_dir: &Path,
    ) -> Result<Option<(Journal, Vec<Entry>)>, String> {
        let path = journal_path(killed_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        let old: OnDisk = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a readable journal ({e}); start the trial again with --restart",
                path.display()
            )
        })?;
        let mut j = Journal::new(run_dir);
        j.killed_dir = Some(killed_dir.to_path_buf());
        for (key, file) in &old.states {
            j.given
                .insert(key.clone(), killed_dir.join("resume").join(file));
        }
        for e in &old.entries {
            if let Entry::Metric { key, step, .. } = e {
                j.seen.insert((key.clone(), *step));
            }
        }
        Ok(Some((j, old.entries)))
    }

    /// The last wall time the journal holds (a continuing run's clock starts there).
    pub fn last_wall_time(entries: &[Entry]) -> f64 {
        entries
            .iter()
            .filter_map(|e| match e {
                Entry::Metric { wall_time, .. } => Some(*wall_time),
                _ => None,
            })
            .fold(0.0, f64::max)
    }

    /// Whether a metric point is new to this run (and so recorded); notes it in the journal.
    pub fn metric(&mut self, key: &str, step: u64, value: f64, wall_time: f64) -> bool {
        if self.seen.contains(&(key.to_string(), step)) {
            return false;
        }
        self.disk.entries.push(Entry::Metric {
            key: key.into(),
            step,
            value,
            wall_time,
        });
        true
    }

    /// Notes an artifact (replayed or new) in the journal.
    pub fn artifact(&mut self, kind: &str, name: &str, step: Option<u64>) {
        self.disk.entries.push(Entry::Artifact {
            kind: kind.into(),
            name: name.into(),
            step,
        });
    }

    /// Notes a replayed entry as this run's own.
    pub fn replayed(&mut self, e: Entry) {
        self.disk.entries.push(e);
    }

    /// The saved state of the training `key` that starts now, if the killed run left one.
    pub fn resume_state(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let n = self.started.entry(key.to_string()).or_insert(0);
        *n += 1;
        let k = if *n == 1 {
            key.to_string()
        } else {
            format!("{key}#{n}")
        };
        self.current.insert(key.to_string(), k.clone());
        match self.given.remove(&k) {
            Some(p) => {
                let bytes = std::fs::read(&p)
                    .map_err(|e| format!("reading the saved state {}: {e}", p.display()))?;
                // Still this run's state until the training saves a newer one.
                self.disk.states.insert(k, p.to_string_lossy().to_string());
                Ok(Some(bytes))
            }
            None => Ok(None),
        }
    }

    /// Writes the state of the training `key` and commits the journal with it.
    pub fn save_state(&mut self, key: &str, state: &[u8]) -> std::io::Result<()> {
        let k = self
            .current
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string());
        std::fs::create_dir_all(&self.dir)?;
        let file = format!("{}.state", self.next_file);
        self.next_file += 1;
        let path = self.dir.join(&file);
        write_whole(&path, state)?;
        let before = self.disk.states.insert(k, file);
        let journal = serde_json::to_vec(&self.pending_view()).expect("json");
        write_whole(&self.dir.join("journal.json"), &journal)?;
        // The state replaced (a path in the killed run's folder, when it was handed over).
        if let Some(old) = before {
            let _ = std::fs::remove_file(self.dir.join(old));
        }
        Ok(())
    }

    /// The journal as committed: this run's entries and states, plus the killed run's states
    /// no training has asked for yet (referred to where they lie), so that a second kill loses
    /// none of them.
    fn pending_view(&self) -> OnDisk {
        let mut states = self.disk.states.clone();
        for (k, p) in &self.given {
            states
                .entry(k.clone())
                .or_insert_with(|| p.to_string_lossy().to_string());
        }
        OnDisk {
            entries: self.disk.entries.clone(),
            states,
        }
    }

    /// Removes the saved states, this run's and those of the run it continued, once the run
    /// has finished: nothing will continue from them.
    pub fn finished(&self) {
        let mut dirs: HashSet<PathBuf> = [self.dir.clone()].into();
        dirs.extend(self.killed_dir.iter().map(|k| k.join("resume")));
        // States handed down over several kills lie in earlier runs' folders.
        for file in self.disk.states.values() {
            if let Some(parent) = Path::new(file).parent().filter(|p| p.ends_with("resume")) {
                dirs.insert(parent.to_path_buf());
            }
        }
        for d in dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Writes `bytes` beside `path`, then renames it over `path`.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
