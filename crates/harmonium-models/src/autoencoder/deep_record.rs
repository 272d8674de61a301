//! What a run of the code RBM or of fine-tuning reports: metrics forwarded to the sink with the
//! last value of each remembered, a non-finite value being divergence at its epoch.

/// What a training run did (the code RBM's or the fine-tuning's).
#[derive(Debug, Clone, PartialEq)]
pub struct DeepTrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// True when the sink asked to stop before the last epoch.
    pub stopped_early: bool,
    /// Wall-clock seconds (evaluation included).
    pub seconds: f64,
    /// The value of each metric at step 0, before the first update.
    pub initial_metrics: Vec<(String, f64)>,
    /// The last value of each metric emitted, in emission order.
    pub final_metrics: Vec<(String, f64)>,
}

impl DeepTrainSummary {
    /// The last value of metric `key`.
    pub fn last(&self, key: &str) -> Option<f64> {
        find(&self.final_metrics, key)
    }

    /// The value of metric `key` before the first update.
    pub fn initial(&self, key: &str) -> Option<f64> {
        find(&self.initial_metrics, key)
    }
}

fn find(metrics: &[(String, f64)], key: &str) -> Option<f64> {
    metrics.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}
