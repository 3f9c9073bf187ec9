//! What the classifier sees of a text: character n-grams and jieba words as 64-bit keys, a vocabulary of the keys seen
//! in training with their inverse document frequencies, and the L2-normalised TF-IDF vector of one text.
//!
//! Character n-grams are encoded exactly (21 bits per code point, so a unigram, bigram and trigram never collide);
//! words are hashed into the upper half of the key space. Text is normalised first: full-width ASCII to ASCII, ASCII
//! lower-cased, every run of white space one space — so "ＡＢＣ  路灯" and "abc 路灯" are the same features.

use jieba_rs::Jieba;
use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Serialize};
use std::hash::Hasher;

/// Which features a model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// Character n-grams of every length from 1 to this (1–3).
    pub max_char_ngram: u8,
    /// Also jieba words of two characters or more (single characters are already unigrams).
    pub words: bool,
    /// `1 + ln(tf)` instead of the raw count.
    pub sublinear_tf: bool,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self {
            max_char_ngram: 2,
            words: true,
            sublinear_tf: true,
        }
    }
}

const WORD_TAG: u64 = 1 << 63;

/// The normalised characters of `text`: full-width ASCII folded, ASCII lower-cased, white space runs as one space,
/// no leading or trailing space.
pub fn normalise(text: &str, out: &mut String) {
    out.clear();
    let mut pending_space = false;
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\0' => ' ',
            _ => c,
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c.to_ascii_lowercase());
    }
}

/// The keys of a normalised text, with repetitions, appended to `out`.
pub fn keys_of(normalised: &str, options: FeatureOptions, jieba: Option<&Jieba>, out: &mut Vec<u64>) {
    let max_n = options.max_char_ngram.clamp(1, 3);
    let (mut previous, mut before_previous) = (0u64, 0u64);
    for c in normalised.chars() {
        let c = c as u64;
        out.push(c);
        if max_n >= 2 && previous != 0 {
            out.push(previous << 21 | c);
            if max_n >= 3 && before_previous != 0 {
                out.push(before_previous << 42 | previous << 21 | c);
            }
        }
        before_previous = previous;
        previous = c;
    }
    if let (true, Some(jieba)) = (options.words, jieba) {
        for token in jieba.cut(normalised, false) {
            let mut chars = token.word.chars();
            if chars.next().is_some() && chars.next().is_some() && !token.word.contains(' ') {
                let mut hasher = FxHasher::default();
                hasher.write(token.word.as_bytes());
                out.push(hasher.finish() | WORD_TAG);
            }
        }
    }
}

/// The keys seen in training, each with its column and inverse document frequency.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    column_of: FxHashMap<u64, u32>,
    /// Keys in column order (what a saved model stores).
    pub keys: Vec<u64>,
    pub idf: Vec<f32>,
}

impl Vocabulary {
    /// Builds the vocabulary from the keys of each training document, columns in order of first appearance.
    /// IDF as scikit-learn's smooth default: `ln((1 + n) / (1 + df)) + 1`.
    pub fn fit(documents: &[Vec<u64>]) -> Self {
        let mut column_of = FxHashMap::default();
        let mut keys = Vec::new();
        let mut document_frequency: Vec<u32> = Vec::new();
        let mut seen_in_document: Vec<u32> = Vec::new();
        for (index, document) in documents.iter().enumerate() {
            let stamp = index as u32 + 1;
            for &key in document {
                let column = *column_of.entry(key).or_insert_with(|| {
                    keys.push(key);
                    document_frequency.push(0);
                    seen_in_document.push(0);
                    (keys.len() - 1) as u32
                }) as usize;
                if seen_in_document[column] != stamp {
                    seen_in_document[column] = stamp;
                    document_frequency[column] += 1;
                }
            }
        }
        let n = documents.len() as f64;
        let idf = document_frequency
            .iter()
            .map(|&df| (((1.0 + n) / (1.0 + df as f64)).ln() + 1.0) as f32)
            .collect();
        Self { column_of, keys, idf }
    }

    /// Rebuilds a vocabulary from saved columns; `None` when the lengths differ or a key repeats.
    pub fn from_parts(keys: Vec<u64>, idf: Vec<f32>) -> Option<Self> {
        if keys.len() != idf.len() {
            return None;
        }
        let mut column_of = FxHashMap::default();
        column_of.reserve(keys.len());
        for (column, &key) in keys.iter().enumerate() {
            if column_of.insert(key, column as u32).is_some() {
                return None;
            }
        }
        Some(Self { column_of, keys, idf })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The L2-normalised TF-IDF vector of a document's keys as sorted `(column, value)` pairs; keys never seen in
    /// training are dropped. `scratch` is reused between calls to avoid allocating.
    pub fn vectorise(&self, keys: &[u64], sublinear_tf: bool, scratch: &mut Vec<u32>, out: &mut Vec<(u32, f32)>) {
        scratch.clear();
        scratch.extend(keys.iter().filter_map(|key| self.column_of.get(key).copied()));
        scratch.sort_unstable();
        out.clear();
        let mut i = 0;
        while i < scratch.len() {
            let column = scratch[i];
            let mut j = i + 1;
            while j < scratch.len() && scratch[j] == column {
                j += 1;
            }
            let count = (j - i) as f32;
            let tf = if sublinear_tf { 1.0 + count.ln() } else { count };
            out.push((column, tf * self.idf[column as usize]));
            i = j;
        }
        let norm = out.iter().map(|&(_, value)| value * value).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, value) in out.iter_mut() {
                *value /= norm;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str, options: FeatureOptions) -> Vec<u64> {
        let mut normalised = String::new();
        normalise(text, &mut normalised);
        let mut out = Vec::new();
        keys_of(&normalised, options, None, &mut out);
        out
    }

    #[test]
    fn full_width_and_case_and_spaces_are_normalised() {
        let mut out = String::new();
        normalise("  ＡＢＣ\u{3000}\t路灯 坏了 ", &mut out);
        assert_eq!(out, "abc 路灯 坏了");
    }

    #[test]
    fn char_unigrams_and_bigrams_are_exact_keys() {
        let options = FeatureOptions {
            max_char_ngram: 2,
            words: false,
            sublinear_tf: false,
        };
        let found = keys("路灯", options);
        assert_eq!(found, vec!['路' as u64, '灯' as u64, ('路' as u64) << 21 | '灯' as u64]);
    }

    #[test]
    fn words_of_two_characters_or_more_are_added() {
        let jieba = Jieba::new();
        let options = FeatureOptions {
            max_char_ngram: 1,
            words: true,
            sublinear_tf: false,
        };
        let mut out = Vec::new();
        keys_of("小区路灯坏了", options, Some(&jieba), &mut out);
        let words = out.iter().filter(|&&key| key & WORD_TAG != 0).count();
        assert!(words >= 2, "expected the words 小区 and 路灯, got {words} word keys");
    }

    #[test]
    fn tf_idf_vectors_have_unit_length_and_drop_unknown_keys() {
        let documents = vec![vec![1, 2, 2], vec![2, 3]];
        let vocabulary = Vocabulary::fit(&documents);
        let (mut scratch, mut vector) = (Vec::new(), Vec::new());
        vocabulary.vectorise(&[1, 2, 2, 99], false, &mut scratch, &mut vector);
        assert_eq!(vector.len(), 2);
        let length: f32 = vector.iter().map(|(_, v)| v * v).sum();
        assert!((length - 1.0).abs() < 1e-6);
        // Key 1 is rarer than key 2 (idf ln(3/2)+1 vs 1), but key 2 occurs twice.
        let idf1 = (1.5f64.ln() + 1.0) as f32;
        assert!((vector[0].1 / vector[1].1 - idf1 / 2.0).abs() < 1e-6);
    }
}
