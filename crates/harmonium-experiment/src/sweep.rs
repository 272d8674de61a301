//! Sweep expansion: from one experiment to a list of fully resolved trials.
//!
//! `grid` takes the Cartesian product of value lists; `random` draws `samples` points from
//! distributions (`uniform`, `log_uniform`, `int_uniform`, `choice`) with a seeded generator, so a
//! given sweep seed always gives the same trials. Every point is repeated for each seed. A trial's
//! hash covers its resolved configuration and seed, so an unchanged trial keeps its hash.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{
    EXPERIMENT_ONLY_KEYS, Experiment, TrialConfig, describe_yaml_error, line_of_key, to_json,
};
use crate::flatten::set_path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    #[default]
    Grid,
    Random,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    #[default]
    Minimize,
    Maximize,
}

/// The metric a sweep is judged by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub name: String,
    #[serde(default)]
    pub goal: Goal,
}

/// The `sweep:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    #[serde(default)]
    pub method: Method,
    /// Dotted path → list of values, or `{distribution: ..., ...}`.
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_yaml::Value>,
    /// Number of points drawn by `method: random`.
    #[serde(default)]
    pub samples: Option<usize>,
    /// Seed of the random sampler (not of the trials).
    #[serde(default)]
    pub seed: u64,
    /// Run at most this many trials (the first ones in expansion order).
    #[serde(default)]
    pub run_cap: Option<usize>,
    #[serde(default)]
    pub metric: Option<MetricSpec>,
    /// Grid points left out: each entry names some swept parameters and one value of each, and
    /// every grid point with all those values is dropped (`{autoencoder.method: pca,
    /// autoencoder.net.init: random}`: PCA does not read the net, so one PCA arm is enough).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<BTreeMap<String, serde_yaml::Value>>,
    /// An inner search run for every point of this sweep (a cell) with the same budget, whose
    /// best configuration on a validation metric then runs over the experiment's seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<TuneConfig>,
}

/// The `sweep.tune:` block: the same inner search for every cell of the outer sweep.
///
/// ```yaml
/// sweep:
///   parameters: {mlp.init: [dbn, random]}          # the cells
///   tune:
///     method: random                               # or grid
///     samples: 8                                   # trials per cell (random)
///     seed: 0                                      # of the sampler: every cell gets the same draws
///     parameters: {mlp.lr: {distribution: log_uniform, min: 0.003, max: 0.3}}
///     metric: {name: best_valid_error, goal: minimize}   # default: the sweep's metric
///     trial_seed: 1                                # the seed of every tuning trial (default: the first of `seeds`)
/// ```
///
/// The tuning trials are recorded under the experiment `NAME/tune`; the chosen configuration of
/// each cell runs once per seed under `NAME`. Both levels resume by config hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuneConfig {
    #[serde(default)]
    pub method: Method,
    /// Dotted path → list of values, or `{distribution: ..., ...}`, as in `sweep.parameters`.
    pub parameters: BTreeMap<String, serde_yaml::Value>,
    /// Points drawn per cell by `method: random`.
    #[serde(default)]
    pub samples: Option<usize>,
    /// Seed of the sampler; the same for every cell, so every cell tries the same values.
    #[serde(default)]
    pub seed: u64,
    /// The seed of every tuning trial (default: the first of the experiment's `seeds`).
    #[serde(default)]
    pub trial_seed: Option<u64>,
    /// The metric a cell's configuration is chosen by (default: the sweep's `metric`); a
    /// validation metric, never a test one.
    #[serde(default)]
    pub metric: Option<MetricSpec>,
}

/// How one parameter's values are produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Space {
    Values(Vec<serde_yaml::Value>),
    Uniform(f64, f64),
    LogUniform(f64, f64),
    IntUniform(i64, i64),
}

impl Space {
    fn parse(path: &str, v: &serde_yaml::Value) -> Result<Space, String> {
        use serde_yaml::Value as Y;
        match v {
            Y::Sequence(values) if !values.is_empty() => Ok(Space::Values(values.clone())),
            Y::Sequence(_) => Err(format!("'{path}': the value list is empty")),
            Y::Mapping(m) => {
                let get = |k: &str| m.get(Y::String(k.into()));
                let known = ["distribution", "min", "max", "values"];
                if let Some(k) = m
                    .keys()
                    .find(|k| !k.as_str().is_some_and(|k| known.contains(&k)))
                {
                    return Err(format!(
                        "'{path}': unknown key {k:?} (expected distribution, min, max, values)"
                    ));
                }
                let dist = get("distribution").and_then(|d| d.as_str()).ok_or_else(|| {
                    format!("'{path}': a mapping needs `distribution: uniform | log_uniform | int_uniform | choice`")
                })?;
                let num = |k: &str| {
                    get(k)
                        .and_then(|x| x.as_f64())
                        .ok_or_else(|| format!("'{path}': `{dist}` needs a numeric `{k}`"))
                };
                let space = match dist {
                    "uniform" => Space::Uniform(num("min")?, num("max")?),
                    "log_uniform" => {
                        let (a, b) = (num("min")?, num("max")?);
                        if a <= 0.0 {
                            return Err(format!("'{path}': log_uniform needs min > 0, got {a}"));
                        }
                        Space::LogUniform(a, b)
                    }
                    "int_uniform" => {
                        let int = |k: &str| {
                            get(k).and_then(|x| x.as_i64()).ok_or_else(|| {
                                format!("'{path}': int_uniform needs an integer `{k}`")
                            })
                        };
                        Space::IntUniform(int("min")?, int("max")?)
                    }
                    "choice" => match get("values") {
                        Some(Y::Sequence(vs)) if !vs.is_empty() => Space::Values(vs.clone()),
                        _ => {
                            return Err(format!(
                                "'{path}': choice needs a non-empty `values` list"
                            ));
                        }
                    },
                    other => {
                        return Err(format!(
                            "'{path}': unknown distribution '{other}' (expected uniform, log_uniform, int_uniform, choice)"
                        ));
                    }
                };
                match space {
                    Space::Uniform(a, b) | Space::LogUniform(a, b) if !(a <= b) => {
                        Err(format!("'{path}': min {a} is greater than max {b}"))
                    }
                    Space::IntUniform(a, b) if a > b => {
                        Err(format!("'{path}': min {a} is greater than max {b}"))
                    }
                    s => Ok(s),
                }
            }
            _ => Err(format!(
                "'{path}': expected a list of values or a {{distribution: ...}} mapping"
            )),
        }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> serde_yaml::Value {
        match self {
            Space::Values(vs) => vs[rng.random_range(0..vs.len())].clone(),
            Space::Uniform(a, b) => (a + (b - a) * rng.random::<f64>()).into(),
            Space::LogUniform(a, b) => (a.ln() + (b.ln() - a.ln()) * rng.random::<f64>())
                .exp()
                .into(),
            Space::IntUniform(a, b) => rng.random_range(*a..=*b).into(),
        }
    }
}

/// The most trials one file may expand to (after `run_cap`).
pub const MAX_TRIALS: usize = 100_000;

/// One unit of work: a resolved configuration and a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub index: usize,
    /// The swept values of this trial (dotted path → value).
    pub point: BTreeMap<String, serde_json::Value>,
    pub seed: u64,
    pub config: TrialConfig,
    /// Stable hash of the resolved configuration and the seed.
    pub hash: String,
}

impl Trial {
    /// `mlp.lr=0.1 seed=2`.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = self.point.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("seed={}", self.seed));
        parts.join(" ")
    }
}

/// Hash of a resolved configuration and seed: 16 hex digits of SHA-256 over canonical JSON.
pub fn config_hash(config: &TrialConfig, seed: u64) -> String {
    let v = serde_json::json!({"config": to_json(config), "seed": seed});
    let digest = Sha256::digest(serde_json::to_vec(&v).expect("json"));
    hex::encode(&digest[..8])
}

fn base_value(text: &str) -> Result<serde_yaml::Value, String> {
    let mut v: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| describe_yaml_error(&e))?;
    if let serde_yaml::Value::Mapping(m) = &mut v {
        for k in EXPERIMENT_ONLY_KEYS {
            m.remove(serde_yaml::Value::String(k.into()));
        }
    }
    Ok(v)
}

fn resolve(
    base: &serde_yaml::Value,
    point: &[(String, serde_yaml::Value)],
) -> Result<TrialConfig, String> {
    let mut v = base.clone();
    for (path, value) in point {
        set_path(&mut v, path, value.clone())?;
    }
    let cfg: TrialConfig = serde_yaml::with::singleton_map_recursive::deserialize(v)
        .map_err(|e| describe_yaml_error(&e))?;
    cfg.validate()?;
    Ok(cfg)
}

/// Expands an experiment (parsed from `text`) into its trials. Errors name the sweep parameter
/// and its line. With `sweep.tune`, these are the outer sweep's trials with the base values of
/// the tuned parameters ([`expand_tuning`] and [`final_trials`] give the two levels).
pub fn expand(exp: &Experiment, text: &str) -> Result<Vec<Trial>, String> {
    let base = base_value(text)?;
    let sweep = exp.sweep.clone().unwrap_or(SweepConfig {
        method: Method::Grid,
        parameters: BTreeMap::new(),
        samples: None,
        seed: 0,
        run_cap: None,
        metric: None,
        exclude: Vec::new(),
        tune: None,
    });
    expand_with(&base, &sweep, &exp.seeds, text, "sweep")
}

/// The trials of `sweep` over the trial configuration `base` (a YAML mapping), each point once
/// per seed; `at` names the sweep in errors (`sweep`, `sweep.tune`).
fn expand_with(
    base: &serde_yaml::Value,
    sweep: &SweepConfig,
    seeds: &[u64],
    text: &str,
    at_sweep: &str,
) -> Result<Vec<Trial>, String> {
    let at = |path: &str| match line_of_key(text, path) {
        Some(l) => format!("{at_sweep}.parameters (line {l})"),
        None => format!("{at_sweep}.parameters"),
    };
    let mut spaces = Vec::new();
    for (path, spec) in &sweep.parameters {
        let space = Space::parse(path, spec).map_err(|m| format!("{}: {m}", at(path)))?;
        if let Some((section, _)) = path.split_once('.')
            && base.get(section).is_none_or(|v| v.is_null())
        {
            return Err(format!(
                "{}: '{path}': this file has no `{section}:` section, so the sweep would add a \
                 whole default `{section}` stage; add the section `{section}:` to sweep its fields",
                at(path)
            ));
        }
        // Check the path and a representative value against the schema on their own, so the
        // error names the parameter at fault.
        let probe = match &space {
            Space::Values(vs) => vs.clone(),
            Space::Uniform(a, _) | Space::LogUniform(a, _) => vec![(*a).into()],
            Space::IntUniform(a, _) => vec![(*a).into()],
        };
        for value in probe {
            resolve(base, &[(path.clone(), value.clone())])
                .map_err(|m| format!("{}: '{path}' = {}: {m}", at(path), yaml_inline(&value)))?;
        }
        spaces.push((path.clone(), space));
    }
    check_exclude(sweep, &spaces, text)?;
    let n_seeds = seeds.len();
    // Grid points are counted, never listed: only the trials that will run are built, so a
    // grid of millions with `run_cap: 5` costs five trials.
    let (count, cap) = match sweep.method {
        Method::Grid => {
            if sweep.samples.is_some() {
                return Err(format!(
                    "{at_sweep}.samples is only used with method: random"
                ));
            }
            let mut count: u128 = 1;
            for (path, space) in &spaces {
                let Space::Values(values) = space else {
                    return Err(format!(
                        "{}: '{path}': method grid needs a list of values, not a distribution (use method: random)",
                        at(path)
                    ));
                };
                count = count.saturating_mul(values.len() as u128);
            }
            (count, sweep.run_cap)
        }
        Method::Random => {
            let n = sweep
                .samples
                .ok_or(format!("{at_sweep}: method random needs `samples: N`"))?;
            if n == 0 {
                return Err(format!("{at_sweep}.samples must be at least 1"));
            }
            (n as u128, sweep.run_cap)
        }
    };
    let total = count.saturating_mul(n_seeds as u128);
    let planned = cap.map_or(total, |c| total.min(c as u128));
    if planned > MAX_TRIALS as u128 {
        let at_sweep = match line_of_key(text, at_sweep.rsplit('.').next().unwrap_or("sweep")) {
            Some(l) => format!("{at_sweep} (line {l})"),
            None => at_sweep.to_string(),
        };
        let sizes: Vec<String> = spaces
            .iter()
            .map(|(p, s)| match s {
                Space::Values(v) => format!("{p} {}", v.len()),
                _ => format!("{p} (drawn)"),
            })
            .collect();
        let how = match sweep.method {
            Method::Grid => format!("a grid of {} points: {}", grouped(count), sizes.join(" × ")),
            Method::Random => format!("{} random samples", grouped(count)),
        };
        return Err(format!(
            "{}: the sweep expands to {} trials ({how}, × {n_seeds} seed(s)); one file runs at \
             most {}: narrow the grid, use method: random with `samples`, or set \
             sweep.run_cap",
            at_sweep,
            grouped(total),
            grouped(MAX_TRIALS as u128)
        ));
    }
    let planned = planned as usize;
    // The trials of point `i` (seeds innermost), for the first `planned` trials; excluded grid
    // points are skipped (so there may be fewer).
    let n_points = count.min(usize::MAX as u128) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(sweep.seed);
    let mut trials = Vec::with_capacity(planned);
    for i in 0..n_points {
        if trials.len() == planned {
            break;
        }
        let point: Vec<(String, serde_yaml::Value)> = match sweep.method {
            Method::Grid => grid_point(&spaces, i),
            Method::Random => spaces
                .iter()
                .map(|(p, s)| (p.clone(), s.sample(&mut rng)))
                .collect(),
        };
        if excluded(&sweep.exclude, &point) {
            continue;
        }
        let config = resolve(base, &point).map_err(|m| {
            let desc: Vec<String> = point
                .iter()
                .map(|(k, v)| format!("{k}={}", yaml_inline(v)))
                .collect();
            format!("sweep point {}: {m}", desc.join(", "))
        })?;
        let json_point: BTreeMap<String, serde_json::Value> = point
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        for &seed in seeds {
            if trials.len() == planned {
                break;
            }
            trials.push(Trial {
                index: trials.len(),
                point: json_point.clone(),
                seed,
                hash: config_hash(&config, seed),
                config: config.clone(),
            });
        }
    }
    refuse_repeats(&trials, text)?;
    Ok(trials)
}

/// The experiment the tuning trials of `name` are recorded under.
pub fn tuning_name(name: &str) -> String {
    format!("{name}/tune")
}

/// One point of the outer sweep and its tuning trials (all with the tuning seed).
#[derive(Debug, Clone, PartialEq)]
pub struct TuneCell {
    /// The outer sweep's values of this cell.
    pub point: BTreeMap<String, serde_json::Value>,
    pub trials: Vec<Trial>,
}

impl TuneCell {
    /// `mlp.init="dbn" dataset.train_size=1000`, or `all` for a sweep of one cell.
    pub fn label(&self) -> String {
        if self.point.is_empty() {
            return "all".into();
        }
        let parts: Vec<String> = self.point.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.join(" ")
    }
}

/// The metric tuning chooses by, with its goal: `tune.metric`, else the sweep's.
pub fn tuning_metric(sweep: &SweepConfig) -> Option<MetricSpec> {
    let tune = sweep.tune.as_ref()?;
    tune.metric.clone().or_else(|| sweep.metric.clone())
}

/// The inner search of every cell of a sweep with `tune:` (`None` without one). Tuning trials
/// are numbered across cells, cell after cell.
pub fn expand_tuning(exp: &Experiment, text: &str) -> Result<Option<Vec<TuneCell>>, String> {
    let Some(sweep) = &exp.sweep else {
        return Ok(None);
    };
    let Some(tune) = &sweep.tune else {
        return Ok(None);
    };
    let at = match line_of_key(text, "tune") {
        Some(l) => format!("sweep.tune (line {l})"),
        None => "sweep.tune".to_string(),
    };
    if let Some(path) = tune
        .parameters
        .keys()
        .find(|p| sweep.parameters.contains_key(*p))
    {
        return Err(format!(
            "{at}: '{path}' is both a cell of the outer sweep and tuned within each cell;              sweep it at one level only"
        ));
    }
    if tune.parameters.is_empty() {
        return Err(format!("{at}: `parameters` lists nothing to tune"));
    }
    let metric = tuning_metric(sweep).ok_or(format!(
        "{at}: tuning needs a metric to choose by: set `metric` in sweep.tune or in sweep"
    ))?;
    if metric.name.contains("test") {
        return Err(format!(
            "{at}: the metric '{}' is measured on the test set, so choosing by it would report              a test error that was optimised; choose by a validation metric              (best_valid_error, valid_recon_error, …)",
            metric.name
        ));
    }
    let trial_seed = tune.trial_seed.unwrap_or(exp.seeds[0]);
    let base = base_value(text)?;
    let inner = SweepConfig {
        method: tune.method,
        parameters: tune.parameters.clone(),
        samples: tune.samples,
        seed: tune.seed,
        run_cap: None,
        metric: Some(metric),
        exclude: Vec::new(),
        tune: None,
    };
    let outer = SweepConfig {
        tune: None,
        ..sweep.clone()
    };
    let mut cells = Vec::new();
    let mut index = 0;
    for cell in expand_with(&base, &outer, &[trial_seed], text, "sweep")? {
        let cell_base = with_point(&base, &cell.point)?;
        let mut trials = expand_with(&cell_base, &inner, &[trial_seed], text, "sweep.tune")?;
        for t in &mut trials {
            t.index = index;
            index += 1;
            t.point.extend(cell.point.clone());
        }
        cells.push(TuneCell {
            point: cell.point,
            trials,
        });
    }
    Ok(Some(cells))
}

/// The final trials of a tuned sweep: cell `i`'s chosen tuning trial's configuration (its
/// outer and tuned values), once per seed of the experiment. `chosen` holds, per cell, the
/// index of its chosen trial within [`TuneCell::trials`], or `None` to leave the cell out.
/// How a tuned sweep numbers its trials for `--trial`: the tuning trials (0 to T−1), then the
/// final trials (T to T+F−1, cell by cell, each cell's seeds in order). Returns (T, F).
pub fn tuned_counts(exp: &Experiment, cells: &[TuneCell]) -> (usize, usize) {
    let tuning = cells.iter().map(|c| c.trials.len()).sum();
    (tuning, cells.len() * exp.seeds.len())
}

/// The index ranges a file's trials are numbered in: one for a plain sweep; for a tuned sweep
/// the tuning trials', then the final trials' ([`tuned_counts`]).
pub fn trial_ranges(exp: &Experiment, text: &str) -> Result<Vec<(usize, usize)>, String> {
    let none = || "the file expands to no trials".to_string();
    Ok(match expand_tuning(exp, text)? {
        Some(cells) => {
            let (t, f) = tuned_counts(exp, &cells);
            if t == 0 || f == 0 {
                return Err(none());
            }
            vec![(0, t - 1), (t, t + f - 1)]
        }
        None => match expand(exp, text)?.len() {
            0 => return Err(none()),
            n => vec![(0, n - 1)],
        },
    })
}

pub fn final_trials(exp: &Experiment, cells: &[TuneCell], chosen: &[Option<usize>]) -> Vec<Trial> {
    let mut trials = Vec::new();
    for (cell, pick) in cells.iter().zip(chosen) {
        let Some(pick) = pick else { continue };
        let tuned = &cell.trials[*pick];
        for &seed in &exp.seeds {
            trials.push(Trial {
                index: trials.len(),
                point: tuned.point.clone(),
                seed,
                hash: config_hash(&tuned.config, seed),
                config: tuned.config.clone(),
            });
        }
    }
    trials
}

/// `base` with the values of a point set.
fn with_point(
    base: &serde_yaml::Value,
    point: &BTreeMap<String, serde_json::Value>,
) -> Result<serde_yaml::Value, String> {
    let mut v = base.clone();
    for (path, value) in point {
        let value = serde_yaml::to_value(value).map_err(|e| e.to_string())?;
        set_path(&mut v, path, value)?;
    }
    Ok(v)
}

/// Checks `sweep.exclude`: grid sweeps only, and every entry names swept parameters with one of
/// their listed values (a misspelt key or value would silently exclude nothing).
fn check_exclude(
    sweep: &SweepConfig,
    spaces: &[(String, Space)],
    text: &str,
) -> Result<(), String> {
    if sweep.exclude.is_empty() {
        return Ok(());
    }
    let at = match line_of_key(text, "exclude") {
        Some(l) => format!("sweep.exclude (line {l})"),
        None => "sweep.exclude".to_string(),
    };
    if sweep.method != Method::Grid {
        return Err(format!("{at}: excluding points needs method: grid"));
    }
    for (i, entry) in sweep.exclude.iter().enumerate() {
        if entry.is_empty() {
            return Err(format!(
                "{at}: entry {} is empty (it would exclude every point)",
                i + 1
            ));
        }
        for (path, value) in entry {
            let Some((_, Space::Values(values))) = spaces.iter().find(|(p, _)| p == path) else {
                let swept: Vec<&str> = spaces.iter().map(|(p, _)| p.as_str()).collect();
                return Err(format!(
                    "{at}: entry {}: '{path}' is not a swept parameter (swept: {})",
                    i + 1,
                    swept.join(", ")
                ));
            };
            if !values.contains(value) {
                return Err(format!(
                    "{at}: entry {}: '{path}' = {} is not one of its values {}",
                    i + 1,
                    yaml_inline(value),
                    yaml_inline(&serde_yaml::Value::Sequence(values.clone()))
                ));
            }
        }
    }
    Ok(())
}

/// Whether a grid point has every value of some `exclude` entry.
fn excluded(
    exclude: &[BTreeMap<String, serde_yaml::Value>],
    point: &[(String, serde_yaml::Value)],
) -> bool {
    exclude.iter().any(|entry| {
        entry
            .iter()
            .all(|(path, value)| point.iter().any(|(p, v)| p == path && v == value))
    })
}

/// A repeated seed or sweep value makes two trials of one configuration: it would run twice
/// and count twice in every comparison (a falsely narrow interval), so it is an error.
fn refuse_repeats(trials: &[Trial], text: &str) -> Result<(), String> {
    let mut first: BTreeMap<&str, &Trial> = BTreeMap::new();
    for t in trials {
        if let Some(earlier) = first.insert(&t.hash, t) {
            let seeds = match line_of_key(text, "seeds") {
                Some(l) => format!("`seeds` (line {l})"),
                None => "`seeds`".into(),
            };
            return Err(format!(
                "trials {} and {} are the same configuration with the same seed {} (hash {}): \
                 a value is repeated in {seeds} or in a sweep parameter's list; remove the repeat \
                 (each trial would run twice and count twice in `harmonium compare`)",
                earlier.index, t.index, t.seed, t.hash
            ));
        }
    }
    Ok(())
}

/// `10000000` as `10,000,000`.
fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Point `i` of a grid in expansion order: the first parameter varies slowest, the last fastest.
fn grid_point(spaces: &[(String, Space)], mut i: usize) -> Vec<(String, serde_yaml::Value)> {
    let mut point = Vec::with_capacity(spaces.len());
    for (path, space) in spaces.iter().rev() {
        let Space::Values(values) = space else {
            unreachable!("grid spaces are value lists")
        };
        point.push((path.clone(), values[i % values.len()].clone()));
        i /= values.len();
    }
    point.reverse();
    point
}

fn yaml_inline(v: &serde_yaml::Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| format!("{v:?}"))
}
