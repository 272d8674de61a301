//! Speech scoring of the fine-tuned classifier: utterance error (a recording is decided by the
//! class with the largest sum of its frames' log-probabilities) and, for TIMIT, frame error on
//! the 39 folded phone classes. Runs on speech datasets after the `mlp:` stage.

use std::collections::BTreeSet;

use harmonium_data::timit_phones::fold_39;
use harmonium_data::{Scoring, Split, Utterances};
use harmonium_models::EventSink;
use harmonium_models::mlp;

use super::{Products, StageContext, TrialError};

/// The utterances of the train, valid and test splits when the dataset is speech.
pub fn section<'a>(ctx: &StageContext<'a>) -> Option<&'a [Utterances; 3]> {
    ctx.loaded.utterances.as_ref()
}

/// Reports `{valid,test}_utterance_error` (where utterances carry labels) and, for TIMIT,
/// `{valid,test}_frame_error_39`, at the classifier's last epoch. Does nothing without a
/// classifier.
pub fn run(
    utts: &[Utterances; 3],
    ctx: &StageContext,
    made: &mut Products,
    sink: &mut dyn EventSink,
) -> Result<(), TrialError> {
    let Some(net) = &made.classifier else {
        return Ok(());
    };
    let ds = ctx.dataset();
    let classes = ds.classes;
    let step = net.epochs;
    for (name, data, split, utt) in [
        ("valid", &net.valid, &ds.valid, &utts[1]),
        ("test", &net.test, &ds.test, &utts[2]),
    ] {
        let logp = mlp::log_probabilities(&net.model, data, net.activation);
        if ctx.loaded.scoring == Scoring::Timit39 {
            sink.metric(
                &format!("{name}_frame_error_39"),
                step,
                frame_error_39(&logp, split, classes),
            );
        }
        if !utt.labels.is_empty() && utt.utterance_of_frame.len() == split.len() {
            sink.metric(
                &format!("{name}_utterance_error"),
                step,
                utterance_error(&logp, utt, classes),
            );
        }
    }
    Ok(())
}

/// Fraction of frames whose most probable phone folds to another of the 39 classes than the
/// frame's label; frames whose label folds to none (the glottal stop) are not scored.
pub fn frame_error_39(frame_logprobs: &[f32], split: &Split, classes: usize) -> f64 {
    let (mut wrong, mut scored) = (0usize, 0usize);
    for (row, &label) in split.y.iter().enumerate() {
        let Some(truth) = fold_39(label) else {
            continue;
        };
        let p = &frame_logprobs[row * classes..(row + 1) * classes];
        let guess = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i as u32)
            .unwrap_or(0);
        scored += 1;
        wrong += (fold_39(guess) != Some(truth)) as usize;
    }
    wrong as f64 / scored.max(1) as f64
}

/// Fraction of the utterances present in the split that [`utterance_decisions`] decides wrongly.
pub fn utterance_error(frame_logprobs: &[f32], utt: &Utterances, classes: usize) -> f64 {
    let decisions = utterance_decisions(frame_logprobs, &utt.utterance_of_frame, classes);
    let present: BTreeSet<u32> = utt.utterance_of_frame.iter().copied().collect();
    let wrong = present
        .iter()
        .filter(|&&u| decisions[u as usize] != utt.labels[u as usize])
        .count();
    wrong as f64 / present.len().max(1) as f64
}

/// The class with the largest summed log-probability for each utterance: `frame_logprobs` has
/// one row of `classes` values per frame, `utterance_of_frame` the utterance of each row.
/// Utterances are numbered 0..=max; ties go to the lower class.
pub fn utterance_decisions(
    frame_logprobs: &[f32],
    utterance_of_frame: &[u32],
    classes: usize,
) -> Vec<u32> {
    assert_eq!(
        frame_logprobs.len(),
        utterance_of_frame.len() * classes,
        "one row of {classes} log-probabilities per frame"
    );
    let n = utterance_of_frame
        .iter()
        .max()
        .map_or(0, |&m| m as usize + 1);
    let mut sums = vec![0f64; n * classes];
    for (row, &u) in frame_logprobs.chunks_exact(classes).zip(utterance_of_frame) {
        for (s, &v) in sums[u as usize * classes..].iter_mut().zip(row) {
            *s += v as f64;
        }
    }
    sums.chunks_exact(classes)
        .map(|s| {
            let mut best = 0;
            for c in 1..classes {
                if s[c] > s[best] {
                    best = c;
                }
            }
            best as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utterance_decisions_sum_frame_log_probabilities() {
        // Utterance 0: frames favour class 1 overall although one frame prefers class 0.
        let lp = [
            -0.1, -3.0, // u0
            -2.0, -0.2, // u0
            -2.0, -0.3, // u0
            -0.5, -0.9, // u1
        ];
        assert_eq!(utterance_decisions(&lp, &[0, 0, 0, 1], 2), vec![1, 0]);
        assert_eq!(utterance_decisions(&[0.0, 0.0], &[0], 2), vec![0], "tie");
    }

    #[test]
    fn utterance_error_counts_only_the_utterances_present() {
        // Utterance 1 has no frames in this split (a frame subset); 0 is right, 2 is wrong.
        let lp = [-0.1, -3.0, -3.0, -0.1];
        let utt = Utterances {
            ids: vec!["a".into(), "b".into(), "c".into()],
            speakers: vec!["s".into(); 3],
            labels: vec![0, 1, 0],
            utterance_of_frame: vec![0, 2],
        };
        assert_eq!(utterance_error(&lp, &utt, 2), 0.5);
    }
}
