//! The labelled examples a DBN with label units learns from, and the checks they must pass.

use burn::tensor::{Int, Tensor};

use super::UpDownError;

/// One split of a dataset: inputs `[examples, visible]` and, when the dataset has them, class
/// labels `[examples]` in `0 … classes−1`.
#[derive(Debug, Clone, Copy)]
pub struct Examples<'a> {
    pub x: &'a Tensor<2>,
    pub labels: Option<&'a Tensor<1, Int>>,
}

impl<'a> Examples<'a> {
    /// Inputs with their labels.
    pub fn labelled(x: &'a Tensor<2>, labels: &'a Tensor<1, Int>) -> Self {
        Examples {
            x,
            labels: Some(labels),
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.x.dims()[0]
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The labels after checking that there are some, one per example, each in
    /// `0 … classes−1`, and that the inputs have `visible` columns; `split` names the split
    /// in the errors ("training", "validation", "test").
    pub fn checked(
        &self,
        split: &'static str,
        visible: usize,
        classes: usize,
    ) -> Result<&'a Tensor<1, Int>, UpDownError> {
        let cols = self.x.dims()[1];
        if cols != visible {
            return Err(UpDownError::Shape {
                what: format!("the {split} inputs' columns (the visible units)"),
                expected: visible,
                got: cols,
            });
        }
        let labels = self.labels.ok_or(UpDownError::MissingLabels { split })?;
        let (n, got) = (self.len(), labels.dims()[0]);
        if got != n {
            return Err(UpDownError::Labels(format!(
                "the {split} split has {got} labels for {n} examples"
            )));
        }
        if n > 0 {
            let lo: i64 = labels.clone().min().into_scalar();
            let hi: i64 = labels.clone().max().into_scalar();
            if lo < 0 || hi >= classes as i64 {
                let bad = if lo < 0 { lo } else { hi };
                return Err(UpDownError::Labels(format!(
                    "the {split} split has label {bad}, but classes is {classes} (labels must \
                     be 0 … {})",
                    classes - 1
                )));
            }
        }
        Ok(labels)
    }
}
