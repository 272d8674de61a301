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
}
