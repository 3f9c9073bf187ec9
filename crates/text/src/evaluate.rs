//! Measuring a classifier the way the benchmarks do: stratified k-fold splits and the macro-averaged F1 score.
//!
//! The folds are drawn by a rule simple enough to restate in a few lines of Python (bench/barometer/folds.py), so the
//! reference runs on the very same splits: each text gets the key `splitmix64(seed + line)`; within each label
//! (labels in order of first appearance) texts are taken by ascending key, and the j-th goes to fold
//! `(before + j) mod k`, where `before` counts the texts of the labels before it — every label spread evenly, and the
//! folds differ in size by at most one.

use crate::rng::splitmix64;
use rustc_hash::FxHashMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FoldError {
    #[error("--folds must be at least 2, got {0}")]
    TooFewFolds(usize),
    #[error("label {label:?} has {count} texts, fewer than the {folds} folds")]
    LabelTooSmall { label: String, count: usize, folds: usize },
}

/// The fold of each text, by the rule in the module documentation.
pub fn stratified_folds(labels: &[&str], folds: usize, seed: u64) -> Result<Vec<usize>, FoldError> {
    if folds < 2 {
        return Err(FoldError::TooFewFolds(folds));
    }
    let mut members: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut position: FxHashMap<&str, usize> = FxHashMap::default();
    for (line, &label) in labels.iter().enumerate() {
        let slot = *position.entry(label).or_insert_with(|| {
            members.push((label, Vec::new()));
            members.len() - 1
        });
        members[slot].1.push(line);
    }
    let mut fold_of = vec![0; labels.len()];
    let mut before = 0;
    for (label, mut lines) in members {
        if lines.len() < folds {
            return Err(FoldError::LabelTooSmall {
                label: label.to_string(),
                count: lines.len(),
                folds,
            });
        }
        lines.sort_by_key(|&line| (splitmix64(seed.wrapping_add(line as u64)), line));
        for (j, line) in lines.iter().enumerate() {
            fold_of[*line] = (before + j) % folds;
        }
        before += lines.len();
    }
    Ok(fold_of)
}

/// Macro-averaged F1 over the labels that occur in `truth` or `predicted` (scikit-learn's `f1_score(average="macro")`;
/// a label with no true and no predicted positive is absent, one with neither precision nor recall counts 0).
pub fn macro_f1(truth: &[usize], predicted: &[usize]) -> f64 {
    let labels = truth.iter().chain(predicted).copied().max().map_or(0, |m| m + 1);
    let (mut true_positive, mut false_positive, mut false_negative) =
        (vec![0u64; labels], vec![0u64; labels], vec![0u64; labels]);
    for (&t, &p) in truth.iter().zip(predicted) {
        if t == p {
            true_positive[t] += 1;
        } else {
            false_positive[p] += 1;
            false_negative[t] += 1;
        }
    }
    let mut sum = 0.0;
    let mut present = 0;
    for label in 0..labels {
        let denominator = 2 * true_positive[label] + false_positive[label] + false_negative[label];
        if denominator == 0 {
            continue;
        }
        present += 1;
        sum += 2.0 * true_positive[label] as f64 / denominator as f64;
    }
    if present == 0 { 0.0 } else { sum / present as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_balanced() {
        let labels: Vec<&str> = (0..103).map(|i| if i % 3 == 0 { "a" } else { "b" }).collect();
        let fold_of = stratified_folds(&labels, 5, 0).unwrap();
        for fold in 0..5 {
            let size = fold_of.iter().filter(|&&f| f == fold).count();
            assert!((20..=21).contains(&size), "fold {fold} has {size}");
            let of_a = labels
                .iter()
                .zip(&fold_of)
                .filter(|&(l, &f)| *l == "a" && f == fold)
                .count();
            assert!((6..=7).contains(&of_a), "fold {fold} has {of_a} of label a");
        }
    }

    #[test]
    fn folds_depend_on_the_seed_only() {
        let labels = ["a", "b", "a", "b", "a", "b", "a", "b"];
        assert_eq!(stratified_folds(&labels, 2, 7), stratified_folds(&labels, 2, 7));
        assert_ne!(
            stratified_folds(&labels, 2, 7).unwrap(),
            stratified_folds(&labels, 2, 8).unwrap()
        );
    }

    #[test]
    fn a_label_smaller_than_the_folds_is_named() {
        let error = stratified_folds(&["a", "a", "b"], 2, 0).unwrap_err();
        assert_eq!(
            error,
            FoldError::LabelTooSmall {
                label: "b".into(),
                count: 1,
                folds: 2
            }
        );
    }

    #[test]
    fn macro_f1_matches_a_hand_count() {
        // Label 0: tp 1, fp 1, fn 1 → 0.5; label 1: tp 1, fp 1, fn 1 → 0.5; label 2: tp 1 → 1.
        let truth = [0, 0, 1, 1, 2];
        let predicted = [0, 1, 1, 0, 2];
        assert!((macro_f1(&truth, &predicted) - 2.0 / 3.0).abs() < 1e-12);
    }
}
