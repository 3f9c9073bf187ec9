//! The text crate end to end: a model trained on a few labelled complaints suggests the right label for new wording,
//! and survives being saved and loaded.

use text::classifier::{Model, Scratch, Segmenter, TrainOptions};

fn complaints() -> Vec<(&'static str, &'static str)> {
    vec![
        ("lights", "小区路灯坏了晚上很黑"),
        ("lights", "路灯不亮已经一周"),
        ("lights", "村口的路灯坏了没人修"),
        ("noise", "夜间施工噪音扰民"),
        ("noise", "广场舞噪音太大影响休息"),
        ("noise", "工地晚上施工太吵"),
        ("water", "自来水停水三天"),
        ("water", "水管爆裂家里停水"),
        ("water", "自来水发黄有异味"),
    ]
}

#[test]
fn new_wording_gets_the_right_label() {
    let segmenter = Segmenter::new();
    let model = Model::train(complaints(), TrainOptions::default(), &segmenter).unwrap();
    let mut scratch = Scratch::default();
    for (text, expected) in [
        ("楼下路灯坏了", "lights"),
        ("半夜施工噪音", "noise"),
        ("今天又停水了", "water"),
    ] {
        let suggestion = model.suggest(text, &segmenter, &mut scratch);
        assert_eq!(model.labels[suggestion.label], expected, "{text}");
        assert!(suggestion.confidence > 0.0 && suggestion.confidence <= 1.0);
    }
}

#[test]
fn a_saved_model_predicts_the_same() {
    let segmenter = Segmenter::new();
    let model = Model::train(complaints(), TrainOptions::default(), &segmenter).unwrap();
    let loaded = Model::from_saved(model.to_saved()).unwrap();
    let (mut a, mut b) = (Scratch::default(), Scratch::default());
    for text in ["路灯", "噪音扰民", "停水", "something else entirely"] {
        assert_eq!(
            model.scores(text, &segmenter, &mut a),
            loaded.scores(text, &segmenter, &mut b)
        );
    }
}

#[test]
fn training_is_deterministic_given_the_seed() {
    let segmenter = Segmenter::new();
    let first = Model::train(complaints(), TrainOptions::default(), &segmenter).unwrap();
    let second = Model::train(complaints(), TrainOptions::default(), &segmenter).unwrap();
    assert_eq!(first.weights, second.weights);
}

#[test]
fn one_label_is_refused() {
    let segmenter = Segmenter::new();
    let error = Model::train([("a", "x"), ("a", "y")], TrainOptions::default(), &segmenter).unwrap_err();
    assert_eq!(error.to_string(), "training needs at least two labels, got 1");
}
