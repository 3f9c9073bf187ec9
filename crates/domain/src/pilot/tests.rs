//! Scenario tests for pilots: files and their errors, filing as the fault-tolerance record, the lifecycle, verdicts,
//! the site-selection warning, cohorts and codification.

use time::macros::{date, datetime};

use super::*;
use crate::policy::{LayerVersion, PolicyBook};

const ZHEJIANG: &str = include_str!("../../../../policies/33.toml");
const HUZHOU: &str = include_str!("../../../../policies/3305.toml");

const MEDIATION_FIRST: &str = r#"
name = "mediation-first"
owner = "330502"
units = ["330502002", "330502001"]
start = 2024-07-01
hypothesis = "Offering mediation first closes neighbour and property disputes faster"
primary_outcome = "median_days_to_close"
guardrail_outcomes = ["satisfaction_rate", "overdue_share"]
officials = ["Wang Fang, head of Wuxing district", "Li Qiang, director of the justice bureau"]

[change]
mediation.first_for = ["neighbour_dispute", "family", "property_management", "land_use"]
mediation.max_days = 20
"#;

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

fn demo_book() -> PolicyBook {
    let mut book = PolicyBook::new();
    for (unit, file, text) in [
        ("33", "policies/33.toml", ZHEJIANG),
        ("3305", "policies/3305.toml", HUZHOU),
    ] {
        book.save(LayerVersion::parse(&code(unit), file, text, None).unwrap())
            .unwrap();
    }
    book
}

fn pilot_error(text: &str) -> String {
    Pilot::parse("pilot.toml", text).unwrap_err().to_string()
}

#[test]
fn a_pilot_file_is_parsed_and_checked() {
    let pilot = Pilot::parse("pilot.toml", MEDIATION_FIRST).unwrap();
    assert_eq!(pilot.units, [code("330502001"), code("330502002")]);
    assert_eq!(pilot.start, date!(2024 - 07 - 01));
    assert_eq!(
        pilot.outcomes(),
        [
            Outcome::MedianDaysToClose,
            Outcome::SatisfactionRate,
            Outcome::OverdueShare
        ]
    );
}

#[test]
fn bad_pilots_are_rejected_with_clear_errors() {
    let no_units = MEDIATION_FIRST.replace(r#"units = ["330502002", "330502001"]"#, "units = []");
    assert_eq!(
        pilot_error(&no_units),
        "pilot \"mediation-first\" has no units: name at least one unit that adopts the change"
    );
    let unknown = MEDIATION_FIRST.replace("\"median_days_to_close\"", "\"happiness\"");
    assert_eq!(
        pilot_error(&unknown),
        "unknown outcome \"happiness\" (known outcomes: median_days_to_close, overdue_share, satisfaction_rate, \
         repeat_petition_rate, response_rate, resolution_rate)"
    );
    let outside = MEDIATION_FIRST.replace("\"330502002\"", "\"330503001\"");
    assert!(pilot_error(&outside).contains("unit 330503001 is not within the owner 330502"));
    let twice = MEDIATION_FIRST.replace("\"330502002\"", "\"330502001\"");
    assert!(pilot_error(&twice).contains("listed twice"));
    let bad_key = MEDIATION_FIRST.replace("mediation.max_days", "mediation.max_dayz");
    let msg = pilot_error(&bad_key);
    assert!(
        msg.contains("pilot mediation-first [change]") && msg.contains("mediation.max_dayz"),
        "{msg}"
    );
    let file_key = MEDIATION_FIRST.replace("hypothesis =", "hypotesis =");
    assert!(pilot_error(&file_key).starts_with("pilot.toml: key `hypotesis`: unknown field"));
    let rails = MEDIATION_FIRST.replace(
        "mediation.max_days = 20",
        "[[change.guardrail]]\nid = \"x\"\nrule = \"mediation_voluntary\"",
    );
    assert!(pilot_error(&rails).contains("may not contain `guardrail`"));
    let nobody = MEDIATION_FIRST.replace(
        r#"officials = ["Wang Fang, head of Wuxing district", "Li Qiang, director of the justice bureau"]"#,
        "officials = [\" \"]",
    );
    assert!(pilot_error(&nobody).contains("responsible officials"));
}

#[test]
fn the_data_must_cover_months_before_and_after_the_start() {
    let pilot = Pilot::parse("pilot.toml", MEDIATION_FIRST).unwrap();
    assert!(
        pilot
            .check_data_window(date!(2024 - 01 - 01), date!(2024 - 12 - 01))
            .is_ok()
    );
    let err = pilot
        .check_data_window(date!(2024 - 09 - 01), date!(2024 - 12 - 01))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "pilot \"mediation-first\" starts on 2024-07-01, before the case data begins (2024-09-01)"
    );
    let err = pilot
        .check_data_window(date!(2024 - 07 - 01), date!(2024 - 12 - 01))
        .unwrap_err();
    assert!(matches!(err, PilotError::NoPrePeriod { .. }), "{err}");
    let err = pilot
        .check_data_window(date!(2024 - 01 - 01), date!(2024 - 06 - 01))
        .unwrap_err();
    assert!(matches!(err, PilotError::NoPostPeriod { .. }), "{err}");
}

#[test]
fn filing_records_who_filed_what_when_and_within_which_guardrails() {
    let pilot = Pilot::parse("pilot.toml", MEDIATION_FIRST).unwrap();
    let filing = pilot.file(&demo_book(), datetime!(2024-06-15 09:30 UTC)).unwrap();
    assert_eq!(filing.filed_with, Some(code("3305")));
    assert_eq!(filing.guardrails_kept.len(), 12);
    let record = filing.to_string();
    assert!(
        record.starts_with("pilot mediation-first run by 330502, filed with 3305 on 2024-06-15\n"),
        "{record}"
    );
    assert!(
        record.contains("filed by: Wang Fang, head of Wuxing district; Li Qiang"),
        "{record}"
    );
    assert!(record.contains("mediation.max_days = 20"), "{record}");
    assert!(
        record.contains("\"voluntary-mediation\" of 33 (policies/33.toml): mediation_voluntary"),
        "{record}"
    );
    // The record survives a round trip through JSON (the store keeps it so), its dates as ISO dates.
    let json = serde_json::to_string(&filing).unwrap();
    assert!(json.contains(r#""start":"2024-07-01""#), "{json}");
    assert_eq!(serde_json::from_str::<Filing>(&json).unwrap(), filing);
}

#[test]
fn a_pilot_starts_no_earlier_than_the_local_day_it_is_filed() {
    let pilot = Pilot::parse("pilot.toml", MEDIATION_FIRST).unwrap();
    // 1 July 2024 at 01:00 in Beijing is still 30 June in UTC: the local day decides, and it is the start day.
    assert!(pilot.file(&demo_book(), datetime!(2024-06-30 17:00 UTC)).is_ok());
    let err = pilot.file(&demo_book(), datetime!(2024-07-01 16:30 UTC)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pilot \"mediation-first\": start 2024-07-01 is before the day it is filed (2024-07-02): a pilot takes effect \
         no earlier than it is filed"
    );
}

#[test]
fn a_pilot_that_breaks_a_guardrail_cannot_be_filed() {
    let text = MEDIATION_FIRST.replace("mediation.max_days = 20", "mediation.required_before_acceptance = true");
    let pilot = Pilot::parse("pilot.toml", &text).unwrap();
    let err = pilot.file(&demo_book(), datetime!(2024-06-15 09:30 UTC)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("pilot \"mediation-first\" cannot be filed: guardrail \"voluntary-mediation\" owned by 33"),
        "{msg}"
    );
    assert!(msg.contains("(set by 330502001 in pilot mediation-first)"), "{msg}");
}

#[test]
fn the_lifecycle_allows_only_its_own_steps() {
    use PilotAction as A;
    let path = [
        A::Start,
        A::Evaluate,
        A::Continue,
        A::Evaluate,
        A::Expand,
        A::Adopt,
        A::Evaluate,
        A::Codify,
    ];
    assert_eq!(PilotState::replay("p", &path).unwrap(), PilotState::Codified);
    assert_eq!(
        PilotState::replay("p", &[A::Start, A::Evaluate, A::Revise, A::Start]).unwrap(),
        PilotState::Running
    );
    assert_eq!(
        PilotState::replay("p", &[A::Start, A::Abandon]).unwrap(),
        PilotState::Abandoned
    );
    let illegal = |actions: &[PilotAction]| PilotState::replay("p", actions).unwrap_err().to_string();
    assert_eq!(illegal(&[A::Expand]), "pilot \"p\" is proposed: it cannot expand");
    assert_eq!(
        illegal(&[A::Start, A::Codify]),
        "pilot \"p\" is running: it cannot codify"
    );
    assert_eq!(
        illegal(&[A::Start, A::Abandon, A::Start]),
        "pilot \"p\" is abandoned: it cannot start"
    );
    assert_eq!(
        illegal(&[A::Start, A::Evaluate, A::Adopt]),
        "pilot \"p\" is evaluated: it cannot adopt"
    );
    let codified = [A::Start, A::Evaluate, A::Expand, A::Codify];
    for action in PilotAction::ALL {
        let mut actions = codified.to_vec();
        actions.push(action);
        assert!(PilotState::replay("p", &actions).is_err(), "codified then {action:?}");
    }
}

#[test]
fn a_pilot_is_evaluated_only_once_started_and_from_its_start_date() {
    let pilot = Pilot::parse("pilot.toml", MEDIATION_FIRST).unwrap();
    let after = date!(2024 - 09 - 01);
    // Not started: the lifecycle refuses, whatever the date.
    let err = pilot
        .step(PilotState::Proposed, PilotAction::Evaluate, after)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "pilot \"mediation-first\" is proposed: it cannot evaluate"
    );
    // Started early, before its start date: nothing to evaluate yet.
    let running = pilot
        .step(PilotState::Proposed, PilotAction::Start, date!(2024 - 06 - 15))
        .unwrap();
    let err = pilot
        .step(running, PilotAction::Evaluate, date!(2024 - 06 - 20))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "pilot \"mediation-first\" starts on 2024-07-01: it cannot be evaluated before it has started (today is \
         2024-06-20)"
    );
    assert_eq!(
        pilot.step(running, PilotAction::Evaluate, after),
        Ok(PilotState::Evaluated)
    );
}

fn effect(outcome: Outcome, att: f64, se: f64) -> OutcomeEffect {
    OutcomeEffect {
        outcome,
        effect: Effect::normal(att, se),
    }
}

#[test]
fn a_clear_improvement_with_guardrails_intact_is_expanded() {
    let report = verdict(
        &effect(Outcome::MedianDaysToClose, -3.0, 0.8),
        &[
            effect(Outcome::SatisfactionRate, 0.01, 0.02),
            effect(Outcome::OverdueShare, -0.01, 0.01),
        ],
    );
    assert_eq!(report.verdict, Verdict::Expand);
    assert!(
        report.reasons[0].starts_with("primary outcome better: median_days_to_close fell by 3.000"),
        "{report}"
    );
    assert_eq!(report.reasons.len(), 3);
    // For a rate, higher is better.
    assert_eq!(
        verdict(&effect(Outcome::ResponseRate, 0.08, 0.02), &[]).verdict,
        Verdict::Expand
    );
}

#[test]
fn clear_harm_or_a_harmed_guardrail_abandons() {
    let report = verdict(&effect(Outcome::OverdueShare, 0.06, 0.015), &[]);
    assert_eq!(report.verdict, Verdict::Abandon);
    assert!(
        report.reasons[0].starts_with("primary outcome worse: overdue_share rose by 0.060"),
        "{report}"
    );
    let report = verdict(
        &effect(Outcome::MedianDaysToClose, -3.0, 0.8),
        &[effect(Outcome::SatisfactionRate, -0.05, 0.01)],
    );
    assert_eq!(report.verdict, Verdict::Abandon);
    assert!(
        report
            .to_string()
            .contains("guardrail outcome harmed: satisfaction_rate fell by 0.050"),
        "{report}"
    );
}

#[test]
fn an_interval_that_includes_zero_keeps_piloting_with_the_mde() {
    let report = verdict(&effect(Outcome::MedianDaysToClose, -0.4, 0.5), &[]);
    assert_eq!(report.verdict, Verdict::KeepPiloting);
    assert_eq!(report.primary_mde, Some(MDE_MULTIPLIER * 0.5));
    assert!(report.to_string().contains("is about 1.400 (2.8 × SE)"), "{report}");
    // A guardrail that merely moved the wrong way without a clear interval does not abandon.
    let report = verdict(
        &effect(Outcome::ResponseRate, 0.0, 0.01),
        &[effect(Outcome::OverdueShare, 0.01, 0.01)],
    );
    assert_eq!(report.verdict, Verdict::KeepPiloting);
    let report = verdict(&effect(Outcome::ResponseRate, f64::NAN, f64::NAN), &[]);
    assert_eq!(report.verdict, Verdict::KeepPiloting);
    assert_eq!(report.primary_mde, None);
    assert!(report.reasons[0].contains("no finite estimate"));
}

#[test]
fn adopters_that_differed_before_the_pilot_are_flagged() {
    let balanced = Covariate {
        name: "pre-period median_days_to_close".into(),
        adopters: vec![10.0, 12.0, 11.0, 9.0],
        others: vec![11.0, 10.0, 12.0, 9.0, 10.5],
    };
    let richer = Covariate {
        name: "population".into(),
        adopters: vec![52_000.0, 61_000.0, 58_000.0, 49_000.0, 55_000.0],
        others: vec![
            21_000.0, 30_000.0, 25_000.0, 27_000.0, 33_000.0, 19_000.0, 24_000.0, 29_000.0, 22_000.0, 26_000.0,
        ],
    };
    let check = site_selection(&[balanced.clone()]);
    assert!(check.warnings.is_empty(), "{:?}", check.warnings);
    let check = site_selection(&[balanced, richer]);
    assert_eq!(check.warnings.len(), 1);
    assert!(check.warnings[0].starts_with("site selection: adopters differed before the pilot in population"));
    assert!(check.balances[1].std_diff > 5.0);
    // The most extreme of C(15, 5) = 3003 splits: only the observed one and its ties reach it.
    assert!(check.balances[1].p_value < 0.002, "{:?}", check.balances[1]);
    // Three richer units among seven cannot be told from chance (1 split in 35, above 0.05 / 2).
    let few = Covariate {
        name: "population".into(),
        adopters: vec![52_000.0, 61_000.0, 58_000.0],
        others: vec![21_000.0, 30_000.0, 25_000.0, 27_000.0],
    };
    let check = site_selection(&[few.clone(), few]);
    assert!(check.warnings.is_empty(), "{:?}", check.warnings);
    assert!(
        (check.balances[0].p_value - 1.0 / 35.0).abs() < 0.01,
        "{:?}",
        check.balances[0]
    );
    let flat = Covariate {
        name: "x".into(),
        adopters: vec![1.0],
        others: vec![1.0, 1.0],
    };
    assert_eq!(site_selection(&[flat]).balances[0].std_diff, 0.0);
    let empty = Covariate {
        name: "x".into(),
        adopters: vec![f64::NAN],
        others: vec![1.0],
    };
    assert!(site_selection(&[empty]).warnings[0].contains("no values for adopters"));
}

/// Under random siting the warning is a false alarm; the permutation test with Bonferroni keeps it rare. Eight of 72
/// townships drawn at random 400 times, on two characteristics (one skewed like township sizes).
#[test]
fn randomly_sited_adopters_are_rarely_flagged() {
    use rand::seq::SliceRandom;
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
    let sizes: Vec<f64> = (0..72).map(|_| (rng.random::<f64>() * 3.0).exp() * 1_000.0).collect();
    let outcome: Vec<f64> = (0..72).map(|_| rng.random::<f64>()).collect();
    let mut flagged = 0;
    for _ in 0..400 {
        let mut order: Vec<usize> = (0..72).collect();
        order.shuffle(&mut rng);
        let split = |values: &[f64]| Covariate {
            name: "x".into(),
            adopters: order[..8].iter().map(|&i| values[i]).collect(),
            others: order[8..].iter().map(|&i| values[i]).collect(),
        };
        flagged += usize::from(!site_selection(&[split(&outcome), split(&sizes)]).warnings.is_empty());
    }
    assert!(flagged <= 24, "{flagged} of 400 random sitings flagged");
    assert!(flagged > 0, "the test never fires: it is not a test");
}

#[test]
fn student_intervals_are_wider_with_few_degrees_of_freedom() {
    let normal = Effect::normal(1.0, 0.5);
    let few = Effect::student(1.0, 0.5, 6.0);
    // R: qt(0.975, 6) = 2.446912, qt(0.8, 6) = 0.9057033.
    assert!((few.ci_high - (1.0 + 2.446_912 * 0.5)).abs() < 1e-5, "{few:?}");
    assert!((few.mde() - (2.446_912 + 0.905_703_3) * 0.5).abs() < 1e-5);
    assert!(normal.ci_low > few.ci_low && normal.mde() < few.mde());
    // A true effect of (t₀.₉₇₅ + t₀.₈₀) standard errors is detected with power 0.8.
    assert!(
        (few.power_against(few.mde()) - 0.8).abs() < 1e-3,
        "{}",
        few.power_against(few.mde())
    );
    assert!((normal.power_against(2.8 * 0.5) - 0.8).abs() < 2e-3);
    assert!(few.power_against(0.0) < 0.06);
}

#[test]
fn adoptions_become_later_cohorts() {
    let pilot = Pilot::parse("pilot.toml", MEDIATION_FIRST).unwrap();
    let later = Adoption {
        units: vec![code("330502003")],
        from: date!(2024 - 10 - 01),
    };
    let map = cohorts(&pilot, &[later.clone()]).unwrap();
    assert_eq!(map[&code("330502001")], date!(2024 - 07 - 01));
    assert_eq!(map[&code("330502003")], date!(2024 - 10 - 01));
    let again = Adoption {
        units: vec![code("330502001")],
        from: date!(2024 - 11 - 01),
    };
    assert!(
        cohorts(&pilot, &[later, again])
            .unwrap_err()
            .to_string()
            .contains("already follows the practice since 2024-07-01")
    );
    let early = Adoption {
        units: vec![code("330502004")],
        from: date!(2024 - 01 - 01),
    };
    assert!(cohorts(&pilot, &[early]).is_err());
}

#[test]
fn a_codified_pilot_becomes_part_of_the_owners_layer() {
    let pilot = Pilot::parse("pilot.toml", MEDIATION_FIRST).unwrap();
    let mut book = demo_book();
    let owner_layer = toml::Table::new();
    let merged = pilot.codify(&owner_layer);
    let version = LayerVersion::from_parsed(
        &code("330502"),
        "codified mediation-first",
        crate::policy::layer_from_table("codified mediation-first", merged).unwrap(),
        Some(date!(2025 - 01 - 01)),
    )
    .unwrap();
    book.save(version).unwrap();
    let policy = book.effective(&code("330502009"), date!(2025 - 02 - 01));
    assert_eq!(
        policy.value("mediation.max_days").and_then(|v| v.as_integer()),
        Some(20)
    );
}

#[test]
fn months_are_counted_from_year_zero() {
    let i = month_index(date!(2024 - 07 - 15));
    assert_eq!(i, 2024 * 12 + 6);
    assert_eq!(month_start(i), Some(date!(2024 - 07 - 01)));
    assert_eq!(month_start(i + 6), Some(date!(2025 - 01 - 01)));
}
