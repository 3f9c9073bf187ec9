//! Scenario tests for policy layers: the demo's sample files, parse errors, folding, versions, guardrails, `explain`,
//! `diff` and `check_subtree`.

use time::Date;
use time::macros::date;

use super::*;
use crate::territory::UnitCode;

const ZHEJIANG: &str = include_str!("../../../../policies/33.toml");
const HUZHOU: &str = include_str!("../../../../policies/3305.toml");

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

fn layer(unit: &str, date: Date, text: &str) -> LayerVersion {
    LayerVersion::parse(&code(unit), &format!("{unit}.toml"), text, Some(date)).unwrap()
}

/// The demo's two sample files, saved.
fn demo_book() -> PolicyBook {
    let mut book = PolicyBook::new();
    book.save(LayerVersion::parse(&code("33"), "policies/33.toml", ZHEJIANG, None).unwrap())
        .unwrap();
    book.save(LayerVersion::parse(&code("3305"), "policies/3305.toml", HUZHOU, None).unwrap())
        .unwrap();
    book
}

/// Saves `text` as a layer of `unit` on top of the demo book and returns the error message.
fn rejected(unit: &str, text: &str) -> String {
    let mut book = demo_book();
    let before = book.versions().count();
    let err = book.save(layer(unit, date!(2024 - 06 - 01), text)).unwrap_err();
    assert_eq!(
        book.versions().count(),
        before,
        "a rejected layer must leave the book as it was"
    );
    err.to_string()
}

fn value(book: &PolicyBook, unit: &str, at: Date, key: &str) -> Option<String> {
    book.effective(&code(unit), at).value(key).map(ToString::to_string)
}

#[test]
fn the_demo_files_fold_from_the_province_down() {
    let book = demo_book();
    let village = "330502001001";
    assert_eq!(
        value(&book, village, date!(2024 - 06 - 01), "clocks.petition.handle_days").as_deref(),
        Some("45")
    );
    assert_eq!(
        value(&book, village, date!(2024 - 06 - 01), "clocks.petition.accept_days").as_deref(),
        Some("15")
    );
    // Before Huzhou's layer applies, the provincial value holds.
    assert_eq!(
        value(&book, village, date!(2024 - 02 - 01), "clocks.petition.handle_days").as_deref(),
        Some("60")
    );
    // Before anything applies there is no policy at all.
    assert!(book.effective(&code(village), date!(2023 - 12 - 31)).leaves.is_empty());
    assert!(book.check_subtree(None).is_empty());
    let policy = book.effective(&code("3305"), date!(2024 - 06 - 01));
    assert_eq!(policy.guardrails.len(), 12);
    assert!(structural_check(&policy, "x").is_ok());
}

#[test]
fn tables_merge_key_by_key_and_arrays_replace_whole() {
    let mut book = demo_book();
    book.save(layer(
        "330502",
        date!(2024 - 05 - 01),
        r#"
        mediation.first_for = ["family"]
        routing.rules.environment.level = "township"
        routing.rules.environment.office = "county.environment"
        "#,
    ))
    .unwrap();
    let p = book.effective(&code("330502"), date!(2024 - 06 - 01));
    assert_eq!(p.value("mediation.first_for").unwrap().to_string(), r#"["family"]"#);
    assert_eq!(
        p.value("routing.rules.environment.level").unwrap().as_str(),
        Some("township")
    );
    // The rule's other fields come from the province.
    assert_eq!(
        p.value("routing.rules.environment.category").unwrap().as_str(),
        Some("environment")
    );
    assert_eq!(p.setter("routing.rules.environment.category").unwrap().unit, code("33"));
}

#[test]
fn an_unknown_key_names_file_key_and_line() {
    let err = parse_layer("policies/3305.toml", "[clocks.petition]\nhandle_dayz = 45\n").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("policies/3305.toml:2: key `clocks.petition.handle_dayz`"),
        "{msg}"
    );
    assert!(msg.contains("unknown field"), "{msg}");
}

#[test]
fn a_wrong_type_names_file_key_and_expected_type() {
    let err = parse_layer(
        "a.toml",
        "[clocks.petition]\naccept_days = 1\nhandle_days = \"sixty\"\n",
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("a.toml:3: key `clocks.petition.handle_days`"), "{msg}");
    assert!(msg.contains("invalid type"), "{msg}");
    let err = parse_layer("a.toml", "[routing.rules.x]\nkinds = [\"letter\"]\n").unwrap_err();
    assert!(err.to_string().contains("routing.rules.x.kinds"), "{err}");
    let err = parse_layer("a.toml", "[mediation]\nvoluntary = \"yes\"").unwrap_err();
    assert!(err.to_string().contains("mediation.voluntary"), "{err}");
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let err = parse_layer("b.toml", "[clocks]\nday_count = \n").unwrap_err();
    assert!(matches!(err, PolicyError::Syntax { line: Some(2), .. }), "{err}");
    assert!(err.to_string().starts_with("b.toml:2: invalid TOML"), "{err}");
}

#[test]
fn a_bad_guardrail_is_named_with_its_problem() {
    let check = |text: &str, expected: &str| {
        let msg = parse_layer("g.toml", text).unwrap_err().to_string();
        assert!(msg.contains(expected), "{msg} should contain {expected}");
    };
    check(
        "[[guardrail]]\nid = \"a\"\nkey = \"clocks.petition.handle_day\"\nmax = 1",
        "unknown key",
    );
    check(
        "[[guardrail]]\nid = \"a\"\nkey = \"mediation.voluntary\"\nmax = 1",
        "not numeric",
    );
    check(
        "[[guardrail]]\nid = \"a\"\nkey = \"ratings.window_days\"\nmin = 9\nmax = 1",
        "min 9 is above max 1",
    );
    check(
        "[[guardrail]]\nid = \"a\"\nrule = \"mediation_voluntary\"\nmax = 1",
        "need a `key`",
    );
    check(
        "[[guardrail]]\nid = \"a\"\nkey = \"ratings.window_days\"",
        "needs min, max",
    );
    check(
        "[[guardrail]]\nid = \"a\"\nrule = \"no_such_rule\"",
        "guardrail[0].rule",
    );
    check("[[guardrail]]\nid = \"\"\nrule = \"mediation_voluntary\"", "non-empty");
    let twice = "[[guardrail]]\nid = \"a\"\nrule = \"mediation_voluntary\"\n".repeat(2);
    let err = LayerVersion::parse(&code("33"), "g.toml", &twice, Some(date!(2024 - 01 - 01))).unwrap_err();
    assert!(err.to_string().contains("declared twice"), "{err}");
}

#[test]
fn the_header_must_agree_with_the_unit_and_give_a_date() {
    let err = LayerVersion::parse(&code("3306"), "policies/3305.toml", HUZHOU, None).unwrap_err();
    assert!(
        err.to_string().contains("names unit 3305 but is being saved for 3306"),
        "{err}"
    );
    let err = LayerVersion::parse(&code("3305"), "x.toml", "clocks.day_count = \"working\"", None).unwrap_err();
    assert_eq!(err, PolicyError::MissingDate { file: "x.toml".into() });
    let err = LayerVersion::parse(
        &code("3305"),
        "x.toml",
        "layer.effective_from = 2024-01-01T10:00:00",
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("layer.effective_from"), "{err}");
}

#[test]
fn a_numeric_bound_rejects_a_longer_deadline_below() {
    let msg = rejected("330502", "clocks.petition.handle_days = 75");
    assert!(msg.contains("policy for 330502 rejected"), "{msg}");
    assert!(
        msg.contains("guardrail \"petition-handling-limit\" owned by 33 (policies/33.toml)"),
        "{msg}"
    );
    assert!(
        msg.contains("key clocks.petition.handle_days = 75 (set by 330502 in 330502.toml)"),
        "{msg}"
    );
    assert!(msg.contains("above the maximum 60"), "{msg}");
    // Huzhou's own, stricter guardrail is broken as well.
    assert!(msg.contains("\"huzhou-handling-limit\" owned by 3305"), "{msg}");
    // A shorter one is fine.
    let mut book = demo_book();
    book.save(layer(
        "330502",
        date!(2024 - 06 - 01),
        "clocks.petition.handle_days = 30",
    ))
    .unwrap();
}

#[test]
fn a_guardrail_binds_its_own_layer_too() {
    let mut book = PolicyBook::new();
    let text = "clocks.petition.handle_days = 90\n[[guardrail]]\nid = \"cap\"\nkey = \"clocks.petition.handle_days\"\nmax = 60";
    let err = book.save(layer("33", date!(2024 - 01 - 01), text)).unwrap_err();
    assert!(err.to_string().contains("\"cap\" owned by 33"), "{err}");
}

#[test]
fn no_rule_may_suppress_the_escalation_path() {
    let msg = rejected("330502001", "escalation.exempt_categories = [\"land\"]");
    assert!(msg.contains("\"escalation-path\""), "{msg}");
    assert!(msg.contains("escalation.exempt_categories"), "{msg}");
    let msg = rejected("330502001", "escalation.alert_level_above = false");
    assert!(msg.contains("escalation.alert_level_above = false"), "{msg}");
    let msg = rejected("3305", "escalation.enabled = false");
    assert!(msg.contains("escalation must not be switched off"), "{msg}");
}

#[test]
fn petitions_are_never_routed_away_from_the_competent_body() {
    let msg = rejected("330502", "routing.rules.land_petitions.office = \"village.committee\"");
    assert!(msg.contains("\"competent-body\""), "{msg}");
    assert!(
        msg.contains("key routing.rules.land_petitions.office = \"village.committee\""),
        "{msg}"
    );
    // A new rule without kinds covers petitions too.
    let msg = rejected(
        "330502",
        "[routing.rules.land_all]\ncategory = \"land\"\noffice = \"township.gov\"",
    );
    assert!(msg.contains("routing.rules.land_all.office"), "{msg}");
    // Nor may a lower layer redefine the competent body itself.
    let msg = rejected("330502", "routing.competent.land = \"township.gov\"");
    assert!(msg.contains("routing.competent.land"), "{msg}");
    // Complaints about land may be handled at the township.
    let mut book = demo_book();
    let text =
        "[routing.rules.land_complaints]\ncategory = \"land\"\nkinds = [\"complaint\"]\noffice = \"township.gov\"";
    book.save(layer("330502", date!(2024 - 06 - 01), text)).unwrap();
}

#[test]
fn a_routing_rule_must_name_an_office_that_exists() {
    let mut book = demo_book();
    let text = "[routing.rules.noise]\ncategory = \"noise\"\noffice = \"township.comprehensive\"";
    let err = book
        .save(layer("330502", date!(2024 - 06 - 01), text))
        .unwrap_err()
        .to_string();
    assert!(err.contains("routing.rules.noise.office"), "{err}");
    assert!(err.contains("a township has no office \"comprehensive\""), "{err}");
    let err = book
        .save(layer(
            "330502",
            date!(2024 - 06 - 01),
            "routing.default_office = \"gov\"",
        ))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("routing.default_office") && err.contains("level.office"),
        "{err}"
    );
    let text = "[routing.rules.noise]\ncategory = \"noise\"\noffice = \"village.committee\"";
    book.save(layer("330502", date!(2024 - 06 - 01), text))
        .expect("a village committee exists");
}

#[test]
fn mediation_stays_voluntary() {
    let msg = rejected("330502001001", "mediation.required_before_acceptance = true");
    assert!(msg.contains("\"voluntary-mediation\""), "{msg}");
    assert!(msg.contains("acceptance may not wait for mediation"), "{msg}");
    let msg = rejected("330502001001", "mediation.voluntary = false");
    assert!(msg.contains("mediation.voluntary = false"), "{msg}");
}

#[test]
fn fixed_and_one_of_guardrails() {
    let mut book = demo_book();
    let text = "[[guardrail]]\nid = \"days\"\nkey = \"clocks.day_count\"\nfixed = true\n\
                [[guardrail]]\nid = \"weights\"\nkey = \"rates.satisfaction\"\none_of = [\"0.4\", \"0.5\"]";
    book.save(layer("330502", date!(2024 - 05 - 01), text)).unwrap();
    let err = book
        .save(layer(
            "330502001",
            date!(2024 - 06 - 01),
            "clocks.day_count = \"working\"",
        ))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"calendar\" set at 330502 or above may not be changed"),
        "{err}"
    );
    let err = book
        .save(layer(
            "330502001",
            date!(2024 - 06 - 01),
            "rates.response = 0.2\nrates.resolution = 0.2\nrates.satisfaction = 0.6",
        ))
        .unwrap_err();
    assert!(err.to_string().contains("\"0.6\" is not one of [0.4, 0.5]"), "{err}");
}

#[test]
fn rate_weights_must_sum_to_one() {
    let mut book = demo_book();
    let err = book
        .save(layer("3305", date!(2024 - 06 - 01), "rates.response = 0.5"))
        .unwrap_err();
    assert!(
        err.to_string().contains("key `rates`: the three weights must sum to 1"),
        "{err}"
    );
    let err = book
        .save(layer(
            "3305",
            date!(2024 - 06 - 01),
            "[routing.rules.orphan]\noffice = \"township.gov\"",
        ))
        .unwrap_err();
    assert!(err.to_string().contains("routing.rules.orphan.category"), "{err}");
}

#[test]
fn a_new_guardrail_above_cannot_strand_a_layer_below() {
    let mut book = demo_book();
    book.save(layer("330502", date!(2024 - 05 - 01), "ratings.window_days = 10"))
        .unwrap();
    let text = format!("{ZHEJIANG}\n[[guardrail]]\nid = \"short-window\"\nkey = \"ratings.window_days\"\nmax = 7\n")
        .replace("effective_from = 2024-01-01", "effective_from = 2024-09-01");
    let err = book
        .save(LayerVersion::parse(&code("33"), "policies/33.toml", &text, None).unwrap())
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"short-window\" owned by 33 (policies/33.toml) is broken at unit 330502"),
        "{msg}"
    );
    assert!(msg.contains("ratings.window_days = 10 (set by 330502"), "{msg}");
    // A store loads versions without checking them; check_subtree then finds the problem.
    let mut versions: Vec<LayerVersion> = book.versions().cloned().collect();
    versions.push(LayerVersion::parse(&code("33"), "policies/33.toml", &text, None).unwrap());
    let loaded = PolicyBook::from_versions(versions);
    let found = loaded.check_subtree(Some(&code("3305")));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].date, date!(2024 - 09 - 01));
    assert!(loaded.check_subtree(Some(&code("330503"))).is_empty());
}

#[test]
fn versions_apply_from_their_dates_and_a_same_day_version_replaces() {
    let mut book = demo_book();
    book.save(layer("3305", date!(2025 - 01 - 01), "clocks.petition.handle_days = 30"))
        .unwrap();
    let at = |d| value(&book, "3305", d, "clocks.petition.handle_days");
    assert_eq!(at(date!(2024 - 12 - 31)).as_deref(), Some("45"));
    assert_eq!(at(date!(2025 - 01 - 01)).as_deref(), Some("30"));
    book.save(layer("3305", date!(2025 - 01 - 01), "clocks.petition.handle_days = 40"))
        .unwrap();
    assert_eq!(book.versions_of(&code("3305")).len(), 2);
    assert_eq!(
        value(&book, "3305", date!(2025 - 02 - 01), "clocks.petition.handle_days").as_deref(),
        Some("40")
    );
}

#[test]
fn explain_names_the_setting_layer_and_the_bounding_guardrails() {
    let book = demo_book();
    let found = book
        .explain(&code("330502001"), "clocks.petition.handle_days", date!(2024 - 06 - 01))
        .unwrap();
    assert_eq!(found.len(), 1);
    let e = &found[0];
    assert_eq!(e.value().map(ToString::to_string).as_deref(), Some("45"));
    assert_eq!(
        e.setters.iter().map(|s| s.unit.as_str()).collect::<Vec<_>>(),
        ["33", "3305"]
    );
    let rails: Vec<&str> = e.guardrails.iter().map(|g| g.guardrail.id.as_str()).collect();
    assert_eq!(rails, ["petition-handling-limit", "huzhou-handling-limit"]);
    let text = e.to_string();
    assert!(
        text.starts_with("clocks.petition.handle_days = 45\n  set by 3305 in policies/3305.toml"),
        "{text}"
    );
    assert!(text.contains("refines 33 = 60 from policies/33.toml"), "{text}");
    assert!(text.contains("bounded by guardrail \"petition-handling-limit\" of 33 (policies/33.toml): 1 <= clocks.petition.handle_days <= 60 (2022 Regulations on Letters and Visits Work, Art. 34)"), "{text}");

    let rule = book
        .explain(
            &code("330502001"),
            "routing.rules.land_petitions.office",
            date!(2024 - 06 - 01),
        )
        .unwrap();
    assert_eq!(rule[0].guardrails[0].guardrail.id, "competent-body");
    let table = book
        .explain(&code("3305"), "clocks.petition", date!(2024 - 06 - 01))
        .unwrap();
    assert_eq!(table.len(), 6);
    let unset = book
        .explain(&code("3305"), "layer.title", date!(2024 - 06 - 01))
        .unwrap();
    assert!(unset[0].to_string().contains("is not set"));
    let err = book
        .explain(&code("3305"), "clocks.petition.nope", date!(2024 - 06 - 01))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown policy key `clocks.petition.nope` (docs/policy.md lists the keys)"
    );
}

#[test]
fn explain_without_layers_shows_the_statutory_default_and_every_key_of_a_table() {
    let book = PolicyBook::new();
    let found = book
        .explain(&code("330502001"), "clocks.petition", date!(2026 - 12 - 05))
        .unwrap();
    let keys: Vec<&str> = found.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "clocks.petition.accept_days",
            "clocks.petition.extension_max_days",
            "clocks.petition.handle_days",
            "clocks.petition.recheck_days",
            "clocks.petition.review_decision_days",
            "clocks.petition.review_request_days",
        ]
    );
    let handle = found[2].to_string();
    assert!(
        handle.starts_with(
            "clocks.petition.handle_days = 60 days (the statute, 2022 Regulations Art. 34)\n  not set by any layer"
        ),
        "{handle}"
    );
    assert!(
        handle.contains(
            "bounded by the statute (statute-petition-handling): at most 60 calendar days (2022 Regulations Art. 34)"
        ),
        "{handle}"
    );
    let window = found[5].to_string();
    assert!(
        window.contains("at least 30 calendar days (2022 Regulations Art. 35)"),
        "{window}"
    );
    let hotline = book
        .explain(&code("33"), "clocks.hotline.general_hours", date!(2026 - 12 - 05))
        .unwrap();
    assert!(
        hotline[0].to_string().contains("7 days (the deployment's default)"),
        "{}",
        hotline[0]
    );
}

#[test]
fn a_layer_takes_effect_no_earlier_than_the_day_it_is_saved() {
    let mut book = PolicyBook::new();
    let today = date!(2026 - 12 - 05);
    let past = layer("330502001", date!(2026 - 12 - 04), "mediation.max_days = 20");
    assert_eq!(
        book.check_not_retroactive(&past, today, false).unwrap_err().to_string(),
        "330502001.toml: effective_from 2026-12-04 is before today (2026-12-05): a layer takes effect no earlier than \
         the day it is saved (give 2026-12-05 to apply it from now)"
    );
    let now = layer("330502001", today, "mediation.max_days = 20");
    book.check_not_retroactive(&now, today, false)
        .expect("today means from now");
    book.save(now).unwrap();
    // Replacing today's version is allowed while no case has been filed under it, and refused after: it would
    // change the rules of cases already filed today.
    let again = layer("330502001", today, "mediation.max_days = 25");
    book.check_not_retroactive(&again, today, false)
        .expect("no case filed yet");
    let err = book.check_not_retroactive(&again, today, true).unwrap_err().to_string();
    assert!(err.contains("a new version may take effect from 2026-12-06"), "{err}");
    // A version for a later day may be replaced until it takes effect.
    let later = layer("330502001", date!(2027 - 01 - 01), "mediation.max_days = 25");
    book.save(later.clone()).unwrap();
    book.check_not_retroactive(&later, today, true)
        .expect("not yet in force");
}

#[test]
fn diff_lists_what_changed_between_two_dates() {
    let book = demo_book();
    let changes = book.diff(&code("330502"), date!(2024 - 02 - 01), date!(2024 - 06 - 01));
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert!(
        lines.contains(&"clocks.petition.handle_days: 60 -> 45  [3305, policies/3305.toml]".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("routing.rules.property_management.office: (unset) -> \"township.gov\"")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("guardrail.3305.huzhou-handling-limit: (unset) -> clocks.petition.handle_days <= 45")
        ),
        "{lines:#?}"
    );
    assert!(
        book.diff(&code("330502"), date!(2024 - 06 - 01), date!(2024 - 07 - 01))
            .is_empty()
    );
}

#[test]
fn the_schema_lists_exactly_the_keys_of_the_document() {
    let full = r#"
        layer = { unit = "33", effective_from = 2024-01-01, title = "t", reason = "r" }
        routing = { default_office = "o", competent = { land = "x" }, rules = { r = { category = "c", kinds = ["petition"], office = "o", level = "village" } } }
        clocks = { day_count = "working", petition = { accept_days = 1, handle_days = 1, extension_max_days = 1, review_request_days = 1, review_decision_days = 1, recheck_days = 1 }, hotline = { emergency_hours = 1, utilities_hours = 1, general_hours = 1, complex_hours = 1 } }
        mediation = { voluntary = true, first_for = ["a"], required_before_acceptance = false, max_days = 1, community_mediators = true }
        staffing = { auxiliary_workers_per_grid = 1, auxiliary_max_share = 0.5, inspectors_from_adjoining_townships = true, inspector_rotation_months = 1, overload_open_cases_per_worker = 40 }
        ratings = { window_days = 1, reopen_window_days = 1, callback_after_days = 1 }
        rates = { response = 0.2, resolution = 0.3, satisfaction = 0.5 }
        escalation = { enabled = true, alert_level_above = true, warn_before_days = 1, exempt_categories = [] }
        compacts = { quorum_share = 0.5, majority_share = 0.5, comment_days = 15, vote_days = 7 }
    "#;
    let parsed = parse_layer("full.toml", full).unwrap();
    let keys = flatten(&parsed.raw);
    for key in keys.keys() {
        assert!(leaf_type(key).is_some(), "{key} is missing from SCHEMA");
    }
    for (pattern, _) in SCHEMA {
        assert!(
            keys.keys().any(|k| key_matches(pattern, k)),
            "{pattern} is not a key of PolicyDocument"
        );
    }
}
