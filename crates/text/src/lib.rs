//! Reading the stream of cases as text, pure and deterministic: a sparse linear classifier of Chinese and English
//! texts (`classifier`: character n-grams and jieba words, TF-IDF, one linear SVM per label), its evaluation by
//! stratified k-fold and macro-F1 (`evaluate`).
//!
//! No IO, no clock; every random choice comes from a caller's seed (`rng`).
//!
//! ```
//! use text::classifier::{Model, Scratch, Segmenter, TrainOptions};
//! let segmenter = Segmenter::new();
//! let examples = [("lights", "小区路灯坏了"), ("lights", "路灯不亮"), ("noise", "夜间施工噪音扰民"), ("noise", "广场舞噪音太大")];
//! let model = Model::train(examples, TrainOptions::default(), &segmenter).unwrap();
//! let suggestion = model.suggest("楼下路灯坏了好几天", &segmenter, &mut Scratch::default());
//! assert_eq!(model.labels[suggestion.label], "lights");
//! ```

pub mod classifier;
pub mod dedup;
pub mod evaluate;
pub mod features;
pub mod rng;
pub mod spikes;
pub mod svm;
