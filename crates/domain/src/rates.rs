//! The three rates of Beijing's 12345 assessment (响应率、解决率、满意率) per unit and month, a weighted composite and a
//! ranking. These are the one definition of each rate: the monthly report, the demo and the outcomes a pilot is
//! evaluated on all reduce a case with [`CaseSummary::from_log`] on the clocks in force for it.
//!
//! Beijing assesses every township and department monthly on how promptly it responds to residents, whether it
//! solves their problems and whether they are satisfied. Its published scheme works from call-backs to residents
//! (回访); a deployment of grassroots has the event log, where a resident's answer is a `rated` event or a staff
//! `callback` recording it. The definitions used here are:
//!
//! - **response rate** — of the cases whose first clock is decided (met, or past due at `now`), the share met in time.
//!   The first clock is a petition's acceptance clock (Art. 23) or any other case's response clock.
//! - **resolution rate** — of the replied cases whose resident has answered since the last reply, the share whose
//!   answer is positive (satisfied or basically satisfied). A resident who reopened the case or answered unsatisfied
//!   says it is not resolved. A replied case without an answer is *unknown*: neither resolved nor unresolved.
//! - **feedback coverage** — of the replied cases, the share with an answer: shown beside the rates, since a rate
//!   over few answers says little.
//! - **satisfaction rate** — of the rated cases, (satisfied + w × basically satisfied) / rated, with w set by the
//!   deployment (default 1: both answers count as satisfied).
//! - **composite** — a weighted mean of the three, with weights set by the deployment (defaults 10 % / 45 % / 45 %,
//!   the split reported for Beijing's monthly assessment). In the composite, resolution and satisfaction are taken
//!   over *every replied case*, a case without an answer counting as neither resolved nor satisfied, so a unit cannot
//!   gain from its residents' silence: one whose residents give no feedback scores no higher than one whose residents
//!   all answer unsatisfied. A rate with nothing to judge yet (no first clock decided, no case replied) drops out and
//!   the others are reweighted.
//!
//! A case belongs to the month in which it was created (local time), so a month's figures settle as its cases finish.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::calendar::Calendar;
use crate::case::{CaseEvent, CaseId, CaseKind, CaseStatus, EventKind, Rating};
use crate::clock::{self, ClockConfig, ClockName, Urgency};
use crate::office::OfficeId;
use crate::territory::{Level, UnitCode};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    pub year: i32,
    pub month: u8,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0:?} is not a month of the form YYYY-MM")]
pub struct BadMonth(pub String);

impl YearMonth {
    pub fn parse(s: &str) -> Result<YearMonth, BadMonth> {
        let bad = || BadMonth(s.to_string());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(YearMonth { year, month })
    }

    /// The month of an instant in the calendar's local time.
    pub fn of(at: OffsetDateTime, calendar: &Calendar) -> YearMonth {
        let d = calendar.local_date(at);
        YearMonth {
            year: d.year(),
            month: u8::from(d.month()),
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for YearMonth {
    type Error = BadMonth;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        YearMonth::parse(&s)
    }
}

impl From<YearMonth> for String {
    fn from(m: YearMonth) -> String {
        m.to_string()
    }
}

/// One case, reduced to what the rates and a pilot's outcomes need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub case: CaseId,
    /// The unit where the matter arose.
    pub unit: UnitCode,
    /// The office holding the case at the end of its log.
    pub office: String,
    pub month: YearMonth,
    /// `None` while the first clock still runs.
    pub responded_on_time: Option<bool>,
    /// The case has had a reply (a written reply, a settled mediation or an answer at intake).
    pub replied: bool,
    /// The resident's answer on the last reply: `Some(true)` satisfied or basically satisfied, `Some(false)`
    /// unsatisfied or reopened; `None` when unknown (no reply, or no answer since it).
    pub resolved: Option<bool>,
    /// The last rating, given by the resident or recorded by a call-back, if any.
    pub rating: Option<Rating>,
    /// A clock of the case was missed: met late, or still running past its due instant at `now`.
    pub overdue: bool,
}

/// The resident's answer an event carries: a rating, or a call-back that recorded one.
pub fn answer(kind: &EventKind) -> Option<Rating> {
    match kind {
        EventKind::Rated { rating, .. } => Some(*rating),
        EventKind::Callback { rating, .. } => *rating,
        _ => None,
    }
}

impl CaseSummary {
    /// Summarises a log as seen at `now` on the clocks `config` (those in force for the case); `None` for a log that
    /// does not replay.
    #[allow(clippy::too_many_arguments)]
    pub fn from_log(
        case: CaseId,
        unit: UnitCode,
        kind: CaseKind,
        urgency: Urgency,
        log: &[CaseEvent],
        now: OffsetDateTime,
        config: &ClockConfig,
        calendar: &Calendar,
    ) -> Option<CaseSummary> {
        let status = CaseStatus::replay(case, log).ok()?;
        let first_clock = if kind == CaseKind::Petition {
            ClockName::Acceptance
        } else {
            ClockName::Response
        };
        let deadlines = clock::deadlines(kind, urgency, log, config, calendar);
        let first = deadlines.iter().find(|d| d.clock == first_clock && !d.superseded);
        let responded_on_time = first.and_then(|d| match d.met_in_time() {
            Some(ok) => Some(ok),
            None if now > d.due => Some(false),
            None => None,
        });
        let overdue = deadlines
            .iter()
            .any(|d| d.met_in_time() == Some(false) || (d.is_running() && now > d.due));
        let last_rating = log.iter().rev().find_map(|e| answer(&e.kind));
        let last_reply = clock::last_reply_at(log);
        let last_reopen = clock::last_at(log, |k| matches!(k, EventKind::Reopened { .. }));
        let answer_since_reply =
            last_reply.and_then(|r| log.iter().rev().take_while(|e| e.at >= r).find_map(|e| answer(&e.kind)));
        let resolved = match (last_reply, last_reopen) {
            // Reopened and not answered again: the resident has said it is not resolved.
            (_, Some(reopened)) if last_reply.is_none_or(|r| reopened > r) => Some(false),
            (Some(_), _) => answer_since_reply.map(|r| r != Rating::Unsatisfied),
            _ => None,
        };
        Some(CaseSummary {
            case,
            unit,
            office: status.office,
            month: YearMonth::of(status.created_at, calendar),
            responded_on_time,
            replied: last_reply.is_some(),
            resolved,
            rating: last_rating,
            overdue,
        })
    }
}

/// The deployment's weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateWeights {
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
    /// How much a "basically satisfied" answer counts towards satisfaction.
    pub basically_satisfied: f64,
}

impl Default for RateWeights {
    fn default() -> Self {
        RateWeights {
            response: 0.10,
            resolution: 0.45,
            satisfaction: 0.45,
            basically_satisfied: 1.0,
        }
    }
}

/// What the rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// By the township (or county) containing the case's location.
    Unit(Level),
    /// By the county-level office holding the case: the department ranking.
    Department,
}

/// The counts and rates of a set of cases (one unit in one month, or a county over a period).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RateFigures {
    pub cases: u32,
    pub response_decided: u32,
    pub responded_on_time: u32,
    pub replied: u32,
    /// Replied cases whose resident answered since the last reply.
    pub with_feedback: u32,
    pub resolved: u32,
    pub rated: u32,
    pub satisfied: u32,
    pub basically_satisfied: u32,
    pub unsatisfied: u32,
    pub response_rate: Option<f64>,
    /// Of the cases with feedback, the share resolved.
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    /// Of the replied cases, the share with feedback.
    pub feedback_coverage: Option<f64>,
    pub composite: Option<f64>,
}

fn ratio(n: f64, d: u32) -> Option<f64> {
    (d > 0).then(|| n / f64::from(d))
}

impl RateFigures {
    /// The figures of `cases` (see the module's definitions).
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseSummary>, weights: &RateWeights) -> RateFigures {
        let mut f = RateFigures::default();
        // Cases a resident could have answered on: replied, or rated after a case closed without a reply.
        let mut answerable = 0;
        for s in cases {
            f.cases += 1;
            answerable += u32::from(s.replied || s.rating.is_some());
            f.response_decided += u32::from(s.responded_on_time.is_some());
            f.responded_on_time += u32::from(s.responded_on_time == Some(true));
            f.replied += u32::from(s.replied);
            f.with_feedback += u32::from(s.replied && s.resolved.is_some());
            f.resolved += u32::from(s.replied && s.resolved == Some(true));
            match s.rating {
                Some(Rating::Satisfied) => f.satisfied += 1,
                Some(Rating::BasicallySatisfied) => f.basically_satisfied += 1,
                Some(Rating::Unsatisfied) => f.unsatisfied += 1,
                None => {}
            }
        }
        f.rated = f.satisfied + f.basically_satisfied + f.unsatisfied;
        let satisfaction_points =
            f64::from(f.satisfied) + weights.basically_satisfied * f64::from(f.basically_satisfied);
        f.response_rate = ratio(f64::from(f.responded_on_time), f.response_decided);
        f.resolution_rate = ratio(f64::from(f.resolved), f.with_feedback);
        f.satisfaction_rate = ratio(satisfaction_points, f.rated);
        f.feedback_coverage = ratio(f64::from(f.with_feedback), f.replied);
        // Resolution and satisfaction over every replied case: silence earns nothing (see the module's definitions).
        let parts = [
            (f.response_rate, weights.response),
            (ratio(f64::from(f.resolved), f.replied), weights.resolution),
            (ratio(satisfaction_points, answerable), weights.satisfaction),
        ];
        let weight: f64 = parts.iter().filter(|(r, _)| r.is_some()).map(|(_, w)| w).sum();
        f.composite = (weight > 0.0).then(|| parts.iter().filter_map(|(r, w)| r.map(|r| r * w)).sum::<f64>() / weight);
        f
    }
}

/// One ranked row: a unit or a department in one month. Flat, so that it is one line of a CSV file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateRow {
    pub rank: u32,
    pub month: YearMonth,
    pub key: String,
    pub cases: u32,
    pub response_decided: u32,
    pub responded_on_time: u32,
    pub replied: u32,
    pub with_feedback: u32,
    pub resolved: u32,
    pub rated: u32,
    pub satisfied: u32,
    pub basically_satisfied: u32,
    pub unsatisfied: u32,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub feedback_coverage: Option<f64>,
    pub composite: Option<f64>,
}

impl RateRow {
    fn new(month: YearMonth, key: String, f: RateFigures) -> RateRow {
        RateRow {
            rank: 0,
            month,
            key,
            cases: f.cases,
            response_decided: f.response_decided,
            responded_on_time: f.responded_on_time,
            replied: f.replied,
            with_feedback: f.with_feedback,
            resolved: f.resolved,
            rated: f.rated,
            satisfied: f.satisfied,
            basically_satisfied: f.basically_satisfied,
            unsatisfied: f.unsatisfied,
            response_rate: f.response_rate,
            resolution_rate: f.resolution_rate,
            satisfaction_rate: f.satisfaction_rate,
            feedback_coverage: f.feedback_coverage,
            composite: f.composite,
        }
    }
}

/// The key of the row a case counts in: its unit at the grouping's level, or the county office holding it.
pub fn key_of(s: &CaseSummary, grouping: Grouping) -> Option<String> {
    match grouping {
        Grouping::Unit(level) => s
            .unit
            .chain()
            .into_iter()
            .find(|c| c.level() == level)
            .map(|c| c.to_string()),
        Grouping::Department => OfficeId::parse(&s.office)
            .ok()
            .filter(|o| o.level() == Level::County)
            .map(|o| o.to_string()),
    }
}

/// The rows of one month, ranked by composite (highest first; rows without one last), ties by key.
pub fn rates(summaries: &[CaseSummary], month: YearMonth, grouping: Grouping, weights: &RateWeights) -> Vec<RateRow> {
    let mut groups: BTreeMap<String, Vec<&CaseSummary>> = BTreeMap::new();
    for s in summaries.iter().filter(|s| s.month == month) {
        if let Some(key) = key_of(s, grouping) {
            groups.entry(key).or_default().push(s);
        }
    }
    let mut rows: Vec<RateRow> = groups
        .into_iter()
        .map(|(key, cases)| RateRow::new(month, key, RateFigures::of(cases, weights)))
        .collect();
    rows.sort_by(|a, b| {
        let by_composite = match (a.composite, b.composite) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_composite.then_with(|| a.key.cmp(&b.key))
    });
    for (i, row) in rows.iter_mut().enumerate() {
        row.rank = i as u32 + 1;
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::tests::{accepted, created, ev, replied};
    use time::macros::datetime;

    fn summary(
        unit: &str,
        office: &str,
        on_time: Option<bool>,
        resolved: Option<bool>,
        rating: Option<Rating>,
    ) -> CaseSummary {
        CaseSummary {
            case: 1,
            unit: UnitCode::parse(unit).expect("code"),
            office: office.into(),
            month: YearMonth { year: 2025, month: 3 },
            responded_on_time: on_time,
            replied: resolved.is_some() || rating.is_some(),
            resolved,
            rating,
            overdue: on_time == Some(false),
        }
    }

    /// A case replied in time whose resident has not answered.
    fn unanswered(unit: &str) -> CaseSummary {
        CaseSummary {
            replied: true,
            ..summary(unit, "x:gov", Some(true), None, None)
        }
    }

    #[test]
    fn a_unit_whose_residents_give_no_feedback_scores_no_higher_than_one_whose_residents_do() {
        use Rating::*;
        let silent = "330502001001";
        let unhappy = "330502002001";
        let mixed = "330502003001";
        let mut all: Vec<CaseSummary> = (0..4).map(|_| unanswered(silent)).collect();
        all.extend((0..4).map(|_| summary(unhappy, "x:gov", Some(true), Some(false), Some(Unsatisfied))));
        all.extend((0..3).map(|_| unanswered(mixed)));
        all.push(summary(mixed, "x:gov", Some(true), Some(true), Some(Satisfied)));
        let month = YearMonth { year: 2025, month: 3 };
        let rows = rates(&all, month, Grouping::Unit(Level::Township), &RateWeights::default());
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                let permille = r.composite.map(|c| (c * 1000.0).round());
                (r.key.as_str(), r.resolution_rate, r.feedback_coverage, permille)
            })
            .collect();
        // The silent unit's resolution is unknown, not 100 %; its composite is the response part alone, as low as
        // the unit whose residents all answered unsatisfied, and below the one with a single satisfied answer.
        assert_eq!(
            got,
            [
                ("330502003", Some(1.0), Some(0.25), Some(325.0)),
                ("330502001", None, Some(0.0), Some(100.0)),
                ("330502002", Some(0.0), Some(1.0), Some(100.0)),
            ]
        );
    }

    #[test]
    fn months_parse_and_print() {
        assert_eq!(YearMonth::parse("2025-03"), Ok(YearMonth { year: 2025, month: 3 }));
        assert_eq!(
            YearMonth::parse("2025-03").map(|m| m.to_string()),
            Ok("2025-03".to_string())
        );
        for bad in ["2025-13", "2025-3", "25-03", "march"] {
            assert!(YearMonth::parse(bad).is_err(), "{bad}");
        }
        // 31 March 20:00 UTC is already April in Beijing.
        assert_eq!(
            YearMonth::of(datetime!(2025-03-31 20:00 UTC), &Calendar::china()),
            YearMonth { year: 2025, month: 4 }
        );
    }

    #[test]
    fn three_rates_composite_and_ranking_by_township() {
        use Rating::*;
        let a = "330502001001";
        let b = "330502002001";
        let all = [
            summary(a, "330502001:gov", Some(true), Some(true), Some(Satisfied)),
            summary(a, "330502001:gov", Some(false), Some(false), Some(Unsatisfied)),
            summary(a, "330502001:gov", None, None, None),
            summary(b, "330502002:gov", Some(true), Some(true), Some(BasicallySatisfied)),
        ];
        let month = YearMonth { year: 2025, month: 3 };
        let rows = rates(&all, month, Grouping::Unit(Level::Township), &RateWeights::default());
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.rank,
                    r.key.as_str(),
                    r.cases,
                    r.response_rate,
                    r.resolution_rate,
                    r.satisfaction_rate,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "330502002", 1, Some(1.0), Some(1.0), Some(1.0)),
                (2, "330502001", 3, Some(0.5), Some(0.5), Some(0.5)),
            ]
        );
        assert_eq!(rows[1].composite, Some(0.5));
        // With basically-satisfied worth 0.8, township B's satisfaction and composite drop.
        let strict = RateWeights {
            basically_satisfied: 0.8,
            ..RateWeights::default()
        };
        let rows = rates(&all, month, Grouping::Unit(Level::Township), &strict);
        assert_eq!(rows[0].satisfaction_rate, Some(0.8));
        let composite = rows[0].composite.expect("composite");
        assert!((composite - (0.10 + 0.45 + 0.45 * 0.8)).abs() < 1e-12, "{composite}");
        // Other months are left out.
        assert!(
            rates(
                &all,
                YearMonth { year: 2025, month: 4 },
                Grouping::Unit(Level::Township),
                &strict
            )
            .is_empty()
        );
    }

    #[test]
    fn departments_are_ranked_by_the_county_office_holding_the_case() {
        let all = [
            summary("330502001001", "330502:housing", Some(false), None, None),
            summary("330502001001", "330502:environment", Some(true), None, None),
            summary("330502001001", "330502001:gov", Some(true), None, None),
        ];
        let rows = rates(
            &all,
            YearMonth { year: 2025, month: 3 },
            Grouping::Department,
            &RateWeights::default(),
        );
        let got: Vec<_> = rows.iter().map(|r| (r.key.as_str(), r.composite)).collect();
        // Only the response rate is known, so the composite is the response rate alone.
        assert_eq!(got, [("330502:environment", Some(1.0)), ("330502:housing", Some(0.0))]);
        let json = serde_json::to_string(&rows[0]).expect("serialises");
        assert!(json.contains("\"month\":\"2025-03\""), "{json}");
    }

    fn rate(at: OffsetDateTime, rating: Rating) -> CaseEvent {
        ev(at, EventKind::Rated { rating, by: "r".into() })
    }

    #[test]
    fn summaries_are_read_from_the_log() {
        let unit = UnitCode::parse("330502001001").expect("code");
        let cfg = ClockConfig::default();
        let cal = Calendar::china();
        let summarise = |log: &[CaseEvent], now| {
            CaseSummary::from_log(
                1,
                unit.clone(),
                CaseKind::Complaint,
                Urgency::General,
                log,
                now,
                &cfg,
                &cal,
            )
            .expect("replays")
        };
        let base = vec![
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-03 11:00 +8)),
        ];
        // Still running: nothing decided.
        let s = summarise(&base, datetime!(2025-03-05 10:00 +8));
        assert_eq!((s.responded_on_time, s.resolved, s.rating), (None, None, None));
        // Past due without a reply: responded late, and overdue.
        let s = summarise(&base, datetime!(2025-03-12 10:00 +8));
        assert_eq!((s.responded_on_time, s.overdue), (Some(false), true));
        // Replied in time and rated satisfied: resolved.
        let mut happy = base.clone();
        happy.push(replied(datetime!(2025-03-05 10:00 +8)));
        let s = summarise(&happy, datetime!(2025-03-05 12:00 +8));
        assert_eq!((s.responded_on_time, s.resolved), (Some(true), None));
        happy.push(rate(datetime!(2025-03-06 10:00 +8), Rating::Satisfied));
        let s = summarise(&happy, datetime!(2025-03-06 12:00 +8));
        assert_eq!((s.resolved, s.rating), (Some(true), Some(Rating::Satisfied)));
        // Unrated, even after the rating window and closed: no answer, so resolution is unknown.
        let mut silent = base.clone();
        silent.push(replied(datetime!(2025-03-05 10:00 +8)));
        silent.push(ev(datetime!(2025-03-12 10:00 +8), EventKind::Closed));
        let s = summarise(&silent, datetime!(2025-03-13 10:00 +8));
        assert_eq!((s.replied, s.resolved, s.overdue), (true, None, false));
        // A call-back recording the resident's answer counts like their own rating.
        let mut called = silent.clone();
        called.push(ev(
            datetime!(2025-03-12 11:00 +8),
            EventKind::Callback {
                text: "回访".into(),
                rating: Some(Rating::BasicallySatisfied),
            },
        ));
        let s = summarise(&called, datetime!(2025-03-13 10:00 +8));
        assert_eq!((s.resolved, s.rating), (Some(true), Some(Rating::BasicallySatisfied)));
        // A call-back that only explains a delay is no answer.
        let mut delayed = silent.clone();
        delayed.push(ev(
            datetime!(2025-03-12 11:00 +8),
            EventKind::Callback {
                text: "late".into(),
                rating: None,
            },
        ));
        assert_eq!(summarise(&delayed, datetime!(2025-03-13 10:00 +8)).resolved, None);
        // Unhappy and reopened: not resolved.
        let mut unhappy = base.clone();
        unhappy.push(replied(datetime!(2025-03-05 10:00 +8)));
        unhappy.push(rate(datetime!(2025-03-06 10:00 +8), Rating::Unsatisfied));
        unhappy.push(ev(
            datetime!(2025-03-06 11:00 +8),
            EventKind::Reopened {
                reason: "still noisy".into(),
            },
        ));
        let s = summarise(&unhappy, datetime!(2025-03-06 12:00 +8));
        assert_eq!((s.resolved, s.rating), (Some(false), Some(Rating::Unsatisfied)));
    }
}
