//! `grassroots barometer …`: the barometer's detectors measured on any file, so that a labelled corpus or a planted
//! data set is scored the same way by everyone — `evaluate` (the text classifier, stratified k-fold, macro-F1 and
//! prediction speed).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use text::classifier::{Model, Scratch, Segmenter, TrainOptions};
use text::evaluate::{macro_f1, stratified_folds};
use text::features::FeatureOptions;
use text::svm::SvmOptions;

#[derive(Subcommand)]
pub enum BarometerCommand {
    /// Cross-validate the text classifier on a TSV of `label<TAB>text` lines: macro-F1 and texts per second.
    Evaluate(EvaluateArgs),
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// TSV file, one `label<TAB>text` per line.
    #[arg(long)]
    data: PathBuf,
    /// Number of stratified folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Seed of the folds and of the training order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Character n-grams up to this length (1–3).
    #[arg(long, default_value_t = FeatureOptions::default().max_char_ngram)]
    max_char_ngram: u8,
    /// Leave out the jieba word features.
    #[arg(long)]
    no_words: bool,
    /// Inverse regularisation strength of the SVM.
    #[arg(long, default_value_t = SvmOptions::default().c)]
    c: f64,
    #[arg(long)]
    json: bool,
}

pub fn run(command: &BarometerCommand) -> anyhow::Result<()> {
    match command {
        BarometerCommand::Evaluate(args) => evaluate(args),
    }
}

/// What `barometer evaluate --json` prints.
#[derive(Serialize)]
struct Evaluation {
    texts: usize,
    labels: usize,
    folds: usize,
    fold_sizes: Vec<usize>,
    fold_macro_f1: Vec<f64>,
    macro_f1: f64,
    macro_f1_std: f64,
    /// Texts classified per second, one thread, text in → label out (normalisation, features, scores).
    texts_per_second: f64,
    /// Median time to classify one text on its own.
    one_text_ms: f64,
    train_seconds_per_fold: f64,
}

fn read_labelled(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let content = std::fs::read_to_string(path).with_context(|| format!("reading --data {}", path.display()))?;
    let mut examples = Vec::new();
    for (index, line) in content.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((label, text)) = line.split_once('\t') else {
            bail!(
                "{}:{}: expected `label<TAB>text`, found no tab",
                path.display(),
                index + 1
            );
        };
        if label.trim().is_empty() {
            bail!("{}:{}: the label is empty", path.display(), index + 1);
        }
        examples.push((label.trim().to_string(), text.to_string()));
    }
    if examples.is_empty() {
        bail!("{}: no labelled lines", path.display());
    }
    Ok(examples)
}

fn evaluate(args: &EvaluateArgs) -> anyhow::Result<()> {
    let examples = read_labelled(&args.data)?;
    let labels: Vec<&str> = examples.iter().map(|(label, _)| label.as_str()).collect();
    let fold_of = stratified_folds(&labels, args.folds, args.seed).with_context(|| args.data.display().to_string())?;
    let options = TrainOptions {
        features: FeatureOptions {
            max_char_ngram: args.max_char_ngram,
            words: !args.no_words,
            ..Default::default()
        },
        svm: SvmOptions {
            c: args.c,
            ..Default::default()
        },
        seed: args.seed,
    };
    let segmenter = Segmenter::new();
    let (mut fold_scores, mut fold_sizes) = (Vec::new(), Vec::new());
    let (mut predicted_texts, mut predict_seconds, mut train_seconds) = (0usize, 0f64, 0f64);
    let mut one_text_seconds = Vec::new();
    for fold in 0..args.folds {
        let training = examples
            .iter()
            .zip(&fold_of)
            .filter(|&(_, &f)| f != fold)
            .map(|((label, text), _)| (label.as_str(), text.as_str()));
        let started = Instant::now();
        let model = Model::train(training, options, &segmenter)?;
        train_seconds += started.elapsed().as_secs_f64();
        let test: Vec<&(String, String)> = examples
            .iter()
            .zip(&fold_of)
            .filter(|&(_, &f)| f == fold)
            .map(|(example, _)| example)
            .collect();
        let mut scratch = Scratch::default();
        let started = Instant::now();
        let predicted: Vec<usize> = test
            .iter()
            .map(|(_, text)| model.suggest(text, &segmenter, &mut scratch).label)
            .collect();
        predict_seconds += started.elapsed().as_secs_f64();
        predicted_texts += test.len();
        // One text at a time with fresh buffers: the latency of a single intake.
        for (_, text) in test.iter().take(1000) {
            let started = Instant::now();
            let suggestion = model.suggest(text, &segmenter, &mut Scratch::default());
            one_text_seconds.push(started.elapsed().as_secs_f64());
            std::hint::black_box(suggestion);
        }
        let truth: Vec<usize> = test
            .iter()
            .map(|(label, _)| {
                model
                    .labels
                    .iter()
                    .position(|l| l == label)
                    .unwrap_or(model.labels.len())
            })
            .collect();
        fold_scores.push(macro_f1(&truth, &predicted));
        fold_sizes.push(test.len());
    }
    one_text_seconds.sort_by(f64::total_cmp);
    let mean = fold_scores.iter().sum::<f64>() / fold_scores.len() as f64;
    let std = (fold_scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / fold_scores.len() as f64).sqrt();
    let evaluation = Evaluation {
        texts: examples.len(),
        labels: {
            let mut distinct = labels.clone();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.len()
        },
        folds: args.folds,
        fold_sizes,
        fold_macro_f1: fold_scores,
        macro_f1: mean,
        macro_f1_std: std,
        texts_per_second: predicted_texts as f64 / predict_seconds.max(f64::MIN_POSITIVE),
        one_text_ms: one_text_seconds.get(one_text_seconds.len() / 2).copied().unwrap_or(0.0) * 1e3,
        train_seconds_per_fold: train_seconds / args.folds as f64,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&evaluation)?);
    } else {
        println!(
            "macro-F1 {:.4} ± {:.4} over {} folds ({} texts, {} labels)",
            evaluation.macro_f1, evaluation.macro_f1_std, evaluation.folds, evaluation.texts, evaluation.labels
        );
        println!(
            "prediction {:.0} texts/s (one thread); one text {:.4} ms (median); training {:.2} s per fold",
            evaluation.texts_per_second, evaluation.one_text_ms, evaluation.train_seconds_per_fold
        );
    }
    Ok(())
}
