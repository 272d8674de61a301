//! Published figures to compare against: the `reference:` entries of an experiment file, and
//! each one lined up with the groups of a comparison (published value, measured mean, gap).
//!
//! ```yaml
//! reference:
//!   - {best_test_error: {pretrained: 0.012, random: 0.016}, by: mlp.init, source: "Hinton, Osindero & Teh 2006"}
//!   - {test_logprob: -86.3, source: "Salakhutdinov & Murray 2008 (CD25)"}   # one value for every group
//! ```
//!
//! An entry has exactly one metric key, whose value is a number (one figure for every group) or
//! a mapping from values of the param `by` to numbers, and a `source`. The entry is read by a
//! hand-written visitor, so that a malformed one is an error raised inside its own mapping and
//! serde_yaml gives it the entry's path and line (`reference[1]: … at line 7 column 5`).
//!
//! The experiment crate parses the entries with the rest of the file; the CLI and the dashboard
//! read them back from the YAML text the store keeps ([`parse`]), which is why they live here,
//! where both reach them.
//!
//! Lining up ([`line_up`]): a figure for every group goes beside each group; figures per level
//! go beside the groups whose value of `by` is that level (`by` matched among the group-by
//! params by full key or by a suffix after a dot, as `compare --group-by` names them). A level
//! that no group has, and every figure of a `by` that is not a group-by param, is still listed,
//! without a group, and the check's `note` says why.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Comparison, GroupCurve, Stat};
use crate::{Store, StoreError};

/// One published figure, or one per level of a param.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// The metric key the figure is of (`best_test_error`); it also matches a recorded key that
    /// ends in `/METRIC` or `.METRIC`.
    pub metric: String,
    /// The param whose values name the levels (`mlp.init`, or a suffix such as `init`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub published: Published,
    /// Where the figure was published.
    pub source: String,
}

/// The published value(s) of a reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// One value for every group.
    All(f64),
    /// A value per level of `by`, in the file's order.
    Levels(Vec<(String, f64)>),
}

impl Serialize for Published {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Published::All(v) => s.serialize_f64(*v),
            Published::Levels(levels) => {
                let mut m = s.serialize_map(Some(levels.len()))?;
                for (k, v) in levels {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntryVisitor)
    }
}

/// The keys of an entry that are not its metric.
const OWN_KEYS: [&str; 2] = ["by", "source"];

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Reference;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a reference: {METRIC: number or {level: number, …}, by: PARAM, source: TEXT}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reference, A::Error> {
        let (mut metric, mut by, mut source): (Option<(String, Published)>, _, _) =
            (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "by" => by = Some(map.next_value::<String>()?),
                "source" => source = Some(map.next_value::<String>()?),
                _ => {
                    if let Some((first, _)) = &metric {
                        if *first == key {
                            return Err(de::Error::custom(format!("`{key}` is given twice")));
                        }
                        return Err(de::Error::custom(format!(
                            "two metric keys, `{first}` and `{key}`: an entry gives the figures \
                             of one metric (write one entry per metric; its other keys are {})",
                            OWN_KEYS.map(|k| format!("`{k}`")).join(" and ")
                        )));
                    }
                    let published = map.next_value::<PublishedValue>()?.0;
                    metric = Some((key, published));
                }
            }
        }
        let Some((metric, published)) = metric else {
            return Err(de::Error::custom(
                "no metric: name the metric the figure is of, e.g. `best_test_error: 0.012`",
            ));
        };
        let source = source.map(|s| s.trim().to_string()).unwrap_or_default();
        if source.is_empty() {
            return Err(de::Error::custom(format!(
                "`{metric}` has no `source`: say where the figure was published \
                 (source: \"Hinton & Salakhutdinov 2006\")"
            )));
        }
        match (&published, &by) {
            (Published::Levels(_), None) => {
                return Err(de::Error::custom(format!(
                    "`{metric}` gives one value per level but no `by`: name the param whose \
                     values the keys are (by: mlp.init)"
                )));
            }
            (Published::All(_), Some(b)) => {
                return Err(de::Error::custom(format!(
                    "`{metric}` is one number, so `by: {b}` has no levels to name: give a \
                     mapping {{level: number, …}} or leave `by` out"
                )));
            }
            _ => {}
        }
        if let Some(b) = &by
            && b.trim().is_empty()
        {
            return Err(de::Error::custom("`by` must name a param"));
        }
        Ok(Reference {
            metric,
            by,
            published,
            source,
        })
    }
}

/// A number, or a mapping from levels to numbers.
struct PublishedValue(Published);

impl<'de> Deserialize<'de> for PublishedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PublishedVisitor)
    }
}

struct PublishedVisitor;

fn finite<E: de::Error>(v: f64) -> Result<f64, E> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(E::custom(format!(
            "a published figure must be a finite number, not {v}"
        )))
    }
}

impl<'de> Visitor<'de> for PublishedVisitor {
    type Value = PublishedValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, or a mapping {level: number, …}")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PublishedValue(Published::All(finite(v)?)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(PublishedValue(Published::All(v as f64)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(PublishedValue(Published::All(v as f64)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut levels: Vec<(String, f64)> = Vec::new();
        while let Some(Level(level)) = map.next_key::<Level>()? {
            let v = finite(map.next_value::<Figure>()?.0)?;
            if levels.iter().any(|(l, _)| *l == level) {
                return Err(de::Error::custom(format!("level `{level}` is given twice")));
            }
            levels.push((level, v));
        }
        if levels.is_empty() {
            return Err(de::Error::custom(
                "an empty mapping: give {level: number, …}",
            ));
        }
        Ok(PublishedValue(Published::Levels(levels)))
    }
}

/// One number (an integer or a float), which error messages call "a number".
struct Figure(f64);

impl<'de> Deserialize<'de> for Figure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Figure;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Figure, E> {
                Ok(Figure(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Figure, E> {
                Ok(Figure(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Figure, E> {
                Ok(Figure(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// A level of a param: text, a number or a boolean, kept as the text a param value is stored as.
struct Level(String);

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Level;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a param value (text, number or boolean)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Level, E> {
                Ok(Level(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Level, E> {
                Ok(Level(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Level, E> {
                Ok(Level(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Level, E> {
                Ok(Level(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Level, E> {
                Ok(Level(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The `reference:` entries of an experiment file's text (other keys are not read); none when
/// the file has no `reference:` or is empty. The error gives the entry and its line.
pub fn parse(yaml: &str) -> Result<Vec<Reference>, String> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        reference: Option<Vec<Reference>>,
    }
    if yaml.trim().is_empty() {
        return Ok(Vec::new());
    }
    let file: File = serde_yaml::from_str(yaml).map_err(|e| {
        let msg = e.to_string();
        match e.location() {
            Some(l) if !msg.contains("line ") => format!("line {}: {msg}", l.line()),
            _ => msg,
        }
    })?;
    Ok(file.reference.unwrap_or_default())
}

impl Store {
    /// The `reference:` entries of the experiment file as last run.
    pub async fn references(&self, experiment_id: i64) -> crate::Result<Vec<Reference>> {
        let yaml = self
            .experiment_yaml(experiment_id)
            .await?
            .unwrap_or_default();
        parse(&yaml).map_err(|e| {
            StoreError::Message(format!(
                "the experiment file stored for experiment {experiment_id} has references that \
                 cannot be read: {e}"
            ))
        })
    }
}

impl Reference {
    /// Whether this is a figure of the recorded metric `key`: the same name, or `key` ends in
    /// `/METRIC` or `.METRIC` (`rbm/test_exact_loglik` for `test_exact_loglik`).
    pub fn measures(&self, key: &str) -> bool {
        names(&self.metric, key)
    }

    /// Whether this figure belongs on the learning curve of the per-epoch metric `key`: it
    /// measures `key`, or its metric is the summary of it (`best_test_error` → `test_error`,
    /// with the prefixes `best_`, `final_`, `min_`, `max_`, as the dashboard pairs them).
    pub fn tracks(&self, key: &str) -> bool {
        self.measures(key) || summarised(&self.metric).is_some_and(|base| names(base, key))
    }
}

fn names(metric: &str, key: &str) -> bool {
    key == metric
        || key
            .strip_suffix(metric)
            .is_some_and(|rest| rest.ends_with('/') || rest.ends_with('.'))
}

/// The per-epoch metric a summary metric is of: `best_valid_error` → `valid_error`.
pub fn summarised(metric: &str) -> Option<&str> {
    ["best_", "final_", "min_", "max_"]
        .iter()
        .find_map(|p| metric.strip_prefix(p))
        .filter(|b| !b.is_empty())
}

/// A reference lined up with the groups of a comparison (or of curves).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceCheck {
    pub reference: Reference,
    /// The group-by param (full key) the levels were matched against; `None` for a figure for
    /// every group, or when `by` is not among the group-by params.
    pub matched_by: Option<String>,
    /// One row per group a figure is beside, then one per level no group has.
    pub rows: Vec<ReferenceRow>,
    /// Why some figures are beside no group (a `by` that is not grouped by, absent levels).
    pub note: Option<String>,
}

/// One published figure beside one group's measured mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceRow {
    /// The level of `by` this figure is for; `None` for a figure for every group.
    pub level: Option<String>,
    pub published: f64,
    /// The group (its values of the group-by params) the figure is beside; `None` when no group
    /// has the level.
    pub group: Option<Vec<Option<String>>>,
    /// The group's runs with a value (0 where there is no group or no statistics).
    pub n: i64,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    /// `mean − published`.
    pub gap: Option<f64>,
}

/// The references of the comparison's metric, lined up with its groups.
pub fn for_comparison(references: &[Reference], c: &Comparison) -> Vec<ReferenceCheck> {
    let groups: Vec<(&[Option<String>], Option<&Stat>)> = c
        .groups
        .iter()
        .map(|g| (g.group.as_slice(), Some(&g.stat)))
        .collect();
    references
        .iter()
        .filter(|r| r.measures(&c.metric))
        .map(|r| line_up(r, &c.by, &groups))
        .collect()
}

/// The references that belong on the learning curves of `metric` ([`Reference::tracks`]),
/// lined up with the curves' groups (rows without statistics: the lines are drawn, not measured).
pub fn for_curves(
    references: &[Reference],
    metric: &str,
    by: &[String],
    curves: &[GroupCurve],
) -> Vec<ReferenceCheck> {
    let groups: Vec<(&[Option<String>], Option<&Stat>)> =
        curves.iter().map(|c| (c.group.as_slice(), None)).collect();
    references
        .iter()
        .filter(|r| r.tracks(metric))
        .map(|r| line_up(r, by, &groups))
        .collect()
}

/// Whether a group's value (as stored) is the level written in the file: the same text, the
/// same number (`0.10` and `0.1`), or the same text without spaces (`[300, 300]`).
pub fn level_is(value: &str, level: &str) -> bool {
    if value == level {
        return true;
    }
    if let (Ok(a), Ok(b)) = (value.trim().parse::<f64>(), level.trim().parse::<f64>()) {
        return a == b;
    }
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    squeeze(value) == squeeze(level)
}

/// The index in `by` of the param `name` names: the full key, else the one key ending in
/// `.NAME`; an error says why none is.
fn find_by(by: &[String], name: &str) -> Result<usize, String> {
    if let Some(i) = by.iter().position(|k| k == name) {
        return Ok(i);
    }
    let suffix = format!(".{name}");
    let hits: Vec<usize> = (0..by.len())
        .filter(|&i| by[i].ends_with(&suffix))
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] if by.is_empty() => Err(format!(
            "the runs are not grouped: group by `{name}` to put these figures beside its groups"
        )),
        [] => Err(format!(
            "`{name}` is not among the group-by params ({}): group by it to put these figures \
             beside its groups",
            by.join(", ")
        )),
        many => Err(format!(
            "`{name}` could be any of {}: write the full key in `by`",
            many.iter()
                .map(|&i| by[i].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn row(
    level: Option<&str>,
    published: f64,
    group: Option<(&[Option<String>], Option<&Stat>)>,
) -> ReferenceRow {
    let stat = group.and_then(|(_, s)| s);
    let mean = stat.and_then(|s| s.mean);
    ReferenceRow {
        level: level.map(str::to_string),
        published,
        group: group.map(|(g, _)| g.to_vec()),
        n: stat.map_or(0, |s| s.n),
        mean,
        std: stat.and_then(|s| s.std),
        gap: mean.map(|m| m - published),
    }
}

/// One reference beside `groups` (each: its values of the `by` params, and its statistics when
/// measured), in the groups' order; figures of levels no group has come last.
pub fn line_up(
    r: &Reference,
    by: &[String],
    groups: &[(&[Option<String>], Option<&Stat>)],
) -> ReferenceCheck {
    let mut check = ReferenceCheck {
        reference: r.clone(),
        matched_by: None,
        rows: Vec::new(),
        note: None,
    };
    match &r.published {
        Published::All(v) => {
            check.rows = groups.iter().map(|&g| row(None, *v, Some(g))).collect();
            if groups.is_empty() {
                check.rows.push(row(None, *v, None));
                check.note = Some("no group has finished runs yet".into());
            }
        }
        Published::Levels(levels) => {
            let name = r.by.as_deref().unwrap_or_default();
            let i = match find_by(by, name) {
                Ok(i) => i,
                Err(why) => {
                    check.rows = levels.iter().map(|(l, v)| row(Some(l), *v, None)).collect();
                    check.note = Some(why);
                    return check;
                }
            };
            check.matched_by = Some(by[i].clone());
            let mut seen = vec![false; levels.len()];
            for &g in groups {
                let value = g.0.get(i).cloned().flatten();
                let hit = value
                    .as_deref()
                    .and_then(|v| levels.iter().position(|(l, _)| level_is(v, l)));
                if let Some(j) = hit {
                    seen[j] = true;
                    check
                        .rows
                        .push(row(Some(&levels[j].0), levels[j].1, Some(g)));
                }
            }
            let absent: Vec<&(String, f64)> = levels
                .iter()
                .zip(&seen)
                .filter(|(_, s)| !**s)
                .map(|(l, _)| l)
                .collect();
            for (l, v) in &absent {
                check.rows.push(row(Some(l), *v, None));
            }
            if !absent.is_empty() {
                let names: Vec<String> = absent.iter().map(|(l, _)| format!("`{l}`")).collect();
                check.note = Some(format!("no group has {} = {}", by[i], names.join(" or ")));
            }
        }
    }
    check
}

#[cfg(test)]
mod tests;
