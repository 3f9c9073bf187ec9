//! The text classifier: features (`features`), one linear SVM per label (`svm`), and the suggestion for a new text
//! with a confidence. A `Model` is plain data (labels, vocabulary, weights) that a caller may save and version; the
//! jieba segmenter it needs is built once per process (`Segmenter`) and lent to it.

use crate::features::{FeatureOptions, Vocabulary, keys_of, normalise};
use crate::rng::Rng;
use crate::svm::{Row, SvmOptions, fit_binary};
use jieba_rs::Jieba;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// The jieba segmenter with its embedded dictionary (building it takes about a tenth of a second).
pub struct Segmenter(Jieba);

impl Segmenter {
    pub fn new() -> Self {
        Self(Jieba::new())
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything that decides how a model is trained.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrainOptions {
    pub features: FeatureOptions,
    pub svm: SvmOptions,
    /// Orders the coordinate-descent passes.
    pub seed: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrainError {
    #[error("training needs at least two labels, got {0}")]
    TooFewLabels(usize),
    #[error("training text {index} has an empty label")]
    EmptyLabel { index: usize },
}

/// A trained classifier.
#[derive(Debug, Clone)]
pub struct Model {
    pub labels: Vec<String>,
    pub features: FeatureOptions,
    pub vocabulary: Vocabulary,
    /// Column-major by feature: the weights of column `c` for every label are `weights[c * labels ..][..labels]`,
    /// so one feature reads one cache line.
    pub weights: Vec<f32>,
    pub intercepts: Vec<f32>,
}

/// The plain-data form of a model (what is saved).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    pub labels: Vec<String>,
    pub features: FeatureOptions,
    pub keys: Vec<u64>,
    pub idf: Vec<f32>,
    pub weights: Vec<f32>,
    pub intercepts: Vec<f32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("saved model is inconsistent: {0}")]
pub struct LoadError(&'static str);

/// A suggested label.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub label: usize,
    /// The softmax of the decision values (scaled by `CONFIDENCE_SCALE`) at the chosen label: a ranking score in
    /// (0, 1], not a calibrated probability.
    pub confidence: f32,
}

/// Decision values of a linear SVM lie around ±1; scaling them by 4 before the softmax spreads the confidences
/// between a clear case (one positive, the rest near -1: ≈ 0.95) and a confusable one (two near 0: ≈ 0.5).
pub const CONFIDENCE_SCALE: f32 = 4.0;

/// Buffers reused between predictions.
#[derive(Debug, Default)]
pub struct Scratch {
    normalised: String,
    keys: Vec<u64>,
    columns: Vec<u32>,
    vector: Vec<(u32, f32)>,
    scores: Vec<f32>,
}

impl Model {
    /// Trains on `(label, text)` pairs.
    pub fn train<'a>(
        examples: impl IntoIterator<Item = (&'a str, &'a str)>,
        options: TrainOptions,
        segmenter: &Segmenter,
    ) -> Result<Self, TrainError> {
        let mut label_index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut labels = Vec::new();
        let mut targets = Vec::new();
        let mut documents = Vec::new();
        let mut normalised = String::new();
        for (index, (label, text)) in examples.into_iter().enumerate() {
            if label.trim().is_empty() {
                return Err(TrainError::EmptyLabel { index });
            }
            let next = labels.len();
            let target = *label_index.entry(label).or_insert_with(|| {
                labels.push(label.to_string());
                next
            });
            targets.push(target);
            normalise(text, &mut normalised);
            let mut keys = Vec::new();
            keys_of(&normalised, options.features, Some(&segmenter.0), &mut keys);
            documents.push(keys);
        }
        if labels.len() < 2 {
            return Err(TrainError::TooFewLabels(labels.len()));
        }
        let vocabulary = Vocabulary::fit(&documents);
        let mut scratch = Vec::new();
        let rows: Vec<Vec<(u32, f32)>> = documents
            .iter()
            .map(|keys| {
                let mut row = Vec::new();
                vocabulary.vectorise(keys, options.features.sublinear_tf, &mut scratch, &mut row);
                row
            })
            .collect();
        let row_refs: Vec<&Row> = rows.iter().map(Vec::as_slice).collect();
        let columns = vocabulary.len();
        let mut weights = vec![0.0f32; columns * labels.len()];
        let mut intercepts = Vec::with_capacity(labels.len());
        let mut rng = Rng::new(options.seed);
        for label in 0..labels.len() {
            let positive: Vec<bool> = targets.iter().map(|&t| t == label).collect();
            let binary = fit_binary(&row_refs, &positive, columns, options.svm, &mut rng);
            for (column, weight) in binary.weights.iter().enumerate() {
                weights[column * labels.len() + label] = *weight as f32;
            }
            intercepts.push(binary.intercept as f32);
        }
        Ok(Self {
            labels,
            features: options.features,
            vocabulary,
            weights,
            intercepts,
        })
    }

    /// The decision value of every label for `text`, in `scratch.scores`.
    pub fn scores<'s>(&self, text: &str, segmenter: &Segmenter, scratch: &'s mut Scratch) -> &'s [f32] {
        normalise(text, &mut scratch.normalised);
        scratch.keys.clear();
        keys_of(
            &scratch.normalised,
            self.features,
            Some(&segmenter.0),
            &mut scratch.keys,
        );
        self.vocabulary.vectorise(
            &scratch.keys,
            self.features.sublinear_tf,
            &mut scratch.columns,
            &mut scratch.vector,
        );
        let k = self.labels.len();
        scratch.scores.clear();
        scratch.scores.extend_from_slice(&self.intercepts);
        for &(column, value) in &scratch.vector {
            let row = &self.weights[column as usize * k..][..k];
            for (score, weight) in scratch.scores.iter_mut().zip(row) {
                *score += value * weight;
            }
        }
        &scratch.scores
    }

    /// The best label for `text` and its confidence. Ties go to the label seen first in training.
    pub fn suggest(&self, text: &str, segmenter: &Segmenter, scratch: &mut Scratch) -> Suggestion {
        let scores = self.scores(text, segmenter, scratch);
        let mut best = 0;
        for (label, &score) in scores.iter().enumerate() {
            if score > scores[best] {
                best = label;
            }
        }
        let top = scores[best];
        let total: f32 = scores.iter().map(|&s| ((s - top) * CONFIDENCE_SCALE).exp()).sum();
        Suggestion {
            label: best,
            confidence: 1.0 / total,
        }
    }

    pub fn to_saved(&self) -> SavedModel {
        SavedModel {
            labels: self.labels.clone(),
            features: self.features,
            keys: self.vocabulary.keys.clone(),
            idf: self.vocabulary.idf.clone(),
            weights: self.weights.clone(),
            intercepts: self.intercepts.clone(),
        }
    }

    pub fn from_saved(saved: SavedModel) -> Result<Self, LoadError> {
        let k = saved.labels.len();
        if k < 2 || saved.intercepts.len() != k {
            return Err(LoadError("labels and intercepts differ in number"));
        }
        if saved.weights.len() != saved.keys.len() * k {
            return Err(LoadError("weights are not one per feature and label"));
        }
        let vocabulary =
            Vocabulary::from_parts(saved.keys, saved.idf).ok_or(LoadError("keys repeat or differ from idf"))?;
        Ok(Self {
            labels: saved.labels,
            features: saved.features,
            vocabulary,
            weights: saved.weights,
            intercepts: saved.intercepts,
        })
    }
}
