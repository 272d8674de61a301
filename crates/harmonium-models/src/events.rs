//! How a training procedure reports what it does: metrics, artifacts and progress.

/// Something a model wants recorded. The runner decides where it goes (database, files, terminal).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A scalar measurement, e.g. `valid_error` at `step` = epoch.
    Metric { key: String, step: u64, value: f64 },
    /// A file produced by the model (PNG picture, SafeTensors checkpoint). `name` is a file name
    /// such as `filters_epoch10.png`; `kind` a short tag such as `filters` or `checkpoint`.
    Artifact {
        kind: String,
        name: String,
        step: Option<u64>,
        bytes: Vec<u8>,
    },
    /// Progress within a stage: `done` of `total` units (epochs) of the named stage.
    Progress {
        stage: String,
        done: u64,
        total: u64,
    },
}

/// Receives events from a model. Returning `false` from [`EventSink::keep_going`] asks the model to
/// stop at the next epoch boundary (used for Ctrl-C).
pub trait EventSink {
    fn emit(&mut self, event: Event);
    fn keep_going(&self) -> bool {
        true
    }
    fn metric(&mut self, key: &str, step: u64, value: f64) {
        self.emit(Event::Metric {
            key: key.to_string(),
            step,
            value,
        });
    }
    /// Whether this sink keeps training states ([`EventSink::save_state`]); a learning
    /// procedure serializes none for a sink that does not.
    fn keeps_state(&self) -> bool {
        false
    }
    /// The state the training `key` saved at the end of its last whole epoch in an earlier,
    /// killed attempt at this run, when this run continues one ([`crate::resume`]). Asked once,
    /// when that training starts.
    fn resume_state(&mut self, _key: &str) -> Option<Vec<u8>> {
        None
    }
    /// Keeps the state of the training `key` at the end of an epoch, in place of the one before.
    fn save_state(&mut self, _key: &str, _state: Vec<u8>) {}
}

/// Discards every event; for tests and evaluation code.
#[derive(Debug, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&mut self, _event: Event) {}
}

/// Collects every event in memory; for tests.
#[derive(Debug, Default)]
pub struct VecSink(pub Vec<Event>);

impl EventSink for VecSink {
    fn emit(&mut self, event: Event) {
        self.0.push(event);
    }
}

impl VecSink {
    /// The values of one metric in the order they were emitted.
    pub fn series(&self, key: &str) -> Vec<(u64, f64)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Event::Metric {
                    key: k,
                    step,
                    value,
                } if k == key => Some((*step, *value)),
                _ => None,
            })
            .collect()
    }
}

/// Passes events on with a prefix: metric keys become `PREFIX/key`, artifact names
/// `PREFIX_name`, stages `PREFIX stage`. Used for the layers of a stack (`layer2/recon_error`).
pub struct Prefixed<'a> {
    pub inner: &'a mut dyn EventSink,
    pub prefix: String,
}

impl EventSink for Prefixed<'_> {
    fn emit(&mut self, event: Event) {
        let p = &self.prefix;
        self.inner.emit(match event {
            Event::Metric { key, step, value } => Event::Metric {
                key: format!("{p}/{key}"),
                step,
                value,
            },
            Event::Artifact {
                kind,
                name,
                step,
                bytes,
            } => Event::Artifact {
                kind,
                // A name that already starts with the prefix keeps it once.
                name: if name.starts_with(&format!("{p}_")) {
                    name
                } else {
                    format!("{p}_{name}")
                },
                step,
                bytes,
            },
            Event::Progress { stage, done, total } => Event::Progress {
                stage: format!("{p} {stage}"),
                done,
                total,
            },
        });
    }

    fn keep_going(&self) -> bool {
        self.inner.keep_going()
    }

    fn keeps_state(&self) -> bool {
        self.inner.keeps_state()
    }

    fn resume_state(&mut self, key: &str) -> Option<Vec<u8>> {
        self.inner.resume_state(&format!("{}/{key}", self.prefix))
    }

    fn save_state(&mut self, key: &str, state: Vec<u8>) {
        self.inner
            .save_state(&format!("{}/{key}", self.prefix), state)
    }
}

/// A metric that is not a finite number: the run diverged at `step`.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    /// The epoch (or iteration) of the value.
    pub step: usize,
    /// The metric's key.
    pub what: String,
}

/// Forwards a training run's metrics to its sink and keeps the last value of each (for the
/// run's summary); a value that is not finite is refused as [`NonFinite`], which each learning
/// procedure's error turns into its `Diverged { epoch, what }`.
pub struct Recorder<'a> {
    pub sink: &'a mut dyn EventSink,
    /// The last value of each metric recorded, in first-recorded order.
    pub last: Vec<(String, f64)>,
}

impl<'a> Recorder<'a> {
    pub fn new(sink: &'a mut dyn EventSink) -> Self {
        Recorder {
            sink,
            last: Vec::new(),
        }
    }

    /// Sends `key = value` at `step`, or refuses a value that is not finite.
    pub fn metric(&mut self, key: &str, step: usize, value: f64) -> Result<(), NonFinite> {
        if !value.is_finite() {
            return Err(NonFinite {
                step,
                what: key.to_string(),
            });
        }
        self.sink.metric(key, step as u64, value);
        match self.last.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.last.push((key.to_string(), value)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_sink_renames_metrics_artifacts_and_stages() {
        let mut inner = VecSink::default();
        {
            let mut p = Prefixed {
                inner: &mut inner,
                prefix: "layer2".into(),
            };
            p.metric("recon_error", 3, 1.5);
            p.emit(Event::Artifact {
                kind: "filters".into(),
                name: "filters.png".into(),
                step: Some(3),
                bytes: vec![1],
            });
        }
        assert_eq!(inner.series("layer2/recon_error"), vec![(3, 1.5)]);
        assert!(
            matches!(&inner.0[1], Event::Artifact { name, .. } if name == "layer2_filters.png")
        );
    }

    #[test]
    fn the_recorder_keeps_the_last_values_and_refuses_a_non_finite_one() {
        let mut sink = VecSink::default();
        let mut rec = Recorder::new(&mut sink);
        rec.metric("a", 1, 1.0).unwrap();
        rec.metric("b", 1, 5.0).unwrap();
        rec.metric("a", 2, 0.5).unwrap();
        let e = rec.metric("b", 3, f64::INFINITY).unwrap_err();
        assert_eq!(
            e,
            NonFinite {
                step: 3,
                what: "b".into()
            }
        );
        assert_eq!(
            rec.last,
            vec![("a".to_string(), 0.5), ("b".to_string(), 5.0)]
        );
        assert_eq!(sink.series("a"), vec![(1, 1.0), (2, 0.5)]);
        assert_eq!(
            sink.series("b"),
            vec![(1, 5.0)],
            "the non-finite value is not sent"
        );
    }
}
