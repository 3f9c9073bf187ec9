//! The escalation guard: which warning and overdue alerts are due now, who hears of them, and an explainable
//! escalation-risk score per case.
//!
//! The guard is a pure function of the cases and `now`; the caller (the `tick` command, a background task) appends the
//! alerts it returns as `DeadlineAlert` events. An alert already in a log is never due again, so running the guard
//! twice records nothing new: the log is the guard's memory. An alert goes to the heads of the office holding the case
//! and to the office one level up ([`Directory::alert_recipients`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::calendar::Calendar;
use crate::case::{CaseEvent, CaseId, CaseKind, CaseStatus, EventKind};
use crate::clock::{self, ClockConfig, ClockName, Urgency};
use crate::office::{Directory, OfficeId};

/// What the guard needs to know about one case.
#[derive(Debug, Clone, Copy)]
pub struct CaseView<'a> {
    pub case: CaseId,
    pub kind: CaseKind,
    pub urgency: Urgency,
    pub category: &'a str,
    /// Co-signers of a joint petition (0 for one person).
    pub co_signers: u32,
    /// Earlier cases by the same person on the same matter.
    pub repeats: u32,
    pub log: &'a [CaseEvent],
    /// The clocks the case runs on (a unit's policy may set its own).
    pub clocks: &'a ClockConfig,
}

/// A warning (`overdue == false`) or an overdue alert on one clock of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub case: CaseId,
    pub clock: ClockName,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    pub overdue: bool,
    pub office: String,
    pub notified: Vec<String>,
}

impl Alert {
    /// The event to append to the case's log.
    pub fn event(&self, at: OffsetDateTime, actor: &str) -> CaseEvent {
        CaseEvent {
            at,
            actor: actor.to_string(),
            kind: EventKind::DeadlineAlert {
                clock: self.clock.as_str().to_string(),
                due: self.due.unix_timestamp(),
                overdue: self.overdue,
                notified: self.notified.clone(),
            },
        }
    }
}

fn recorded(log: &[CaseEvent], clock: ClockName, due: OffsetDateTime, overdue: bool) -> bool {
    log.iter().any(|e| match &e.kind {
        EventKind::DeadlineAlert {
            clock: c,
            due: d,
            overdue: o,
            ..
        } => c == clock.as_str() && *d == due.unix_timestamp() && (*o == overdue || *o),
        _ => false,
    })
}

/// The alerts due at `now` and not yet recorded, one per running clock at most: an overdue alert once the due instant
/// has passed, else a warning once the case's `clocks.warning_share` of the clock's length has passed.
pub fn alerts_due(
    cases: &[CaseView<'_>],
    now: OffsetDateTime,
    calendar: &Calendar,
    directory: &Directory,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for view in cases {
        let Ok(status) = CaseStatus::replay(view.case, view.log) else {
            continue;
        };
        if !status.state.is_open() {
            continue;
        }
        let notified = match OfficeId::parse(&status.office) {
            Ok(office) => directory.alert_recipients(&office),
            Err(_) => vec![status.office.clone()],
        };
        for d in clock::deadlines(view.kind, view.urgency, view.log, view.clocks, calendar) {
            if !d.is_running() {
                continue;
            }
            let overdue = now > d.due;
            let warn = now >= d.warn_from(view.clocks.warning_share);
            if !(overdue || warn) || recorded(view.log, d.clock, d.due, overdue) {
                continue;
            }
            alerts.push(Alert {
                case: view.case,
                clock: d.clock,
                due: d.due,
                overdue,
                office: status.office.clone(),
                notified: notified.clone(),
            });
        }
    }
    alerts
}

/// A call-back to the resident that is due: a clock of the case passed its due instant and nobody has called the
/// resident since (the hotline practice of telling residents when their case is late, and why).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackDue {
    pub case: CaseId,
    pub clock: ClockName,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
}

/// The call-backs due at `now`, at most one per case; a `Callback` event recorded after the due instant settles it.
pub fn callbacks_due(cases: &[CaseView<'_>], now: OffsetDateTime, calendar: &Calendar) -> Vec<CallbackDue> {
    cases
        .iter()
        .filter_map(|view| {
            let status = CaseStatus::replay(view.case, view.log).ok()?;
            if !status.state.is_open() {
                return None;
            }
            let late = clock::deadlines(view.kind, view.urgency, view.log, view.clocks, calendar)
                .into_iter()
                .filter(|d| d.is_running() && now > d.due)
                .min_by_key(|d| d.due)?;
            let called = view
                .log
                .iter()
                .any(|e| e.at > late.due && matches!(e.kind, EventKind::Callback { .. }));
            (!called).then_some(CallbackDue {
                case: view.case,
                clock: late.clock,
                due: late.due,
            })
        })
        .collect()
}

/// The weights of the escalation-risk score. Deployments tune them; the defaults make one day overdue worth one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    pub per_day_overdue: f64,
    pub max_overdue_points: f64,
    pub per_repeat: f64,
    pub per_co_signer: f64,
    pub max_co_signer_points: f64,
    /// Co-signers from which a petition counts as a group petition (集体访), worth `group_points` on top.
    pub group_threshold: u32,
    pub group_points: f64,
    pub sensitive_categories: Vec<String>,
    pub sensitive_points: f64,
    pub per_reopen: f64,
    pub unsatisfied_points: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            per_day_overdue: 1.0,
            max_overdue_points: 30.0,
            per_repeat: 8.0,
            per_co_signer: 1.0,
            max_co_signer_points: 20.0,
            group_threshold: 5,
            group_points: 10.0,
            sensitive_categories: [
                "land",
                "land_contract_dispute",
                "demolition",
                "housing_demolition",
                "wage_arrears",
                "pollution",
                "social_assistance",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            sensitive_points: 15.0,
            per_reopen: 5.0,
            unsatisfied_points: 5.0,
        }
    }
}

/// One reason a case scores what it scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskReason {
    pub factor: &'static str,
    pub points: f64,
    pub detail: String,
}

/// The escalation-risk score of a case: the sum of its reasons' points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskScore {
    pub case: CaseId,
    pub score: f64,
    pub reasons: Vec<RiskReason>,
}

/// Scores a case and lists why; a case with no reasons scores 0.
pub fn risk(view: &CaseView<'_>, now: OffsetDateTime, calendar: &Calendar, weights: &RiskConfig) -> RiskScore {
    let mut reasons = Vec::new();
    let overdue_days = clock::deadlines(view.kind, view.urgency, view.log, view.clocks, calendar)
        .iter()
        .filter(|d| d.is_running() && now > d.due)
        .map(|d| ((now - d.due).whole_hours() as f64 / 24.0, d.clock))
        .fold(None, |best: Option<(f64, ClockName)>, x| match best {
            Some(b) if b.0 >= x.0 => Some(b),
            _ => Some(x),
        });
    if let Some((days, clock)) = overdue_days {
        let days = days.ceil().max(1.0);
        reasons.push(RiskReason {
            factor: "days overdue",
            points: (days * weights.per_day_overdue).min(weights.max_overdue_points),
            detail: format!("the {} clock is {days} day(s) overdue", clock.as_str()),
        });
    }
    if view.repeats > 0 {
        reasons.push(RiskReason {
            factor: "repeat petitions",
            points: f64::from(view.repeats) * weights.per_repeat,
            detail: format!("{} earlier case(s) by the same person on the same matter", view.repeats),
        });
    }
    if view.co_signers > 0 {
        reasons.push(RiskReason {
            factor: "co-signers",
            points: (f64::from(view.co_signers) * weights.per_co_signer).min(weights.max_co_signer_points),
            detail: format!("{} co-signer(s)", view.co_signers),
        });
        if view.co_signers >= weights.group_threshold {
            reasons.push(RiskReason {
                factor: "group petition",
                points: weights.group_points,
                detail: format!("{} or more co-signers", weights.group_threshold),
            });
        }
    }
    if weights.sensitive_categories.iter().any(|c| c == view.category) {
        reasons.push(RiskReason {
            factor: "sensitive category",
            points: weights.sensitive_points,
            detail: format!("category {:?} is on the deployment's sensitive list", view.category),
        });
    }
    if let Ok(status) = CaseStatus::replay(view.case, view.log) {
        if status.reopened > 0 {
            reasons.push(RiskReason {
                factor: "reopened",
                points: f64::from(status.reopened) * weights.per_reopen,
                detail: format!("reopened {} time(s) by the resident", status.reopened),
            });
        }
        let unsatisfied = view
            .log
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Rated {
                        rating: crate::case::Rating::Unsatisfied,
                        ..
                    }
                )
            })
            .count();
        if unsatisfied > 0 {
            reasons.push(RiskReason {
                factor: "unsatisfied",
                points: unsatisfied as f64 * weights.unsatisfied_points,
                detail: format!("rated unsatisfied {unsatisfied} time(s)"),
            });
        }
    }
    RiskScore {
        case: view.case,
        score: reasons.iter().map(|r| r.points).sum(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::tests::{accepted, created, ev, replied};
    use crate::office::{Role, Staff};
    use std::sync::LazyLock;
    use time::macros::datetime;

    static CLOCKS: LazyLock<ClockConfig> = LazyLock::new(ClockConfig::default);

    fn view<'a>(log: &'a [CaseEvent]) -> CaseView<'a> {
        CaseView {
            case: 5,
            kind: CaseKind::Petition,
            urgency: Urgency::General,
            category: "noise",
            co_signers: 0,
            repeats: 0,
            log,
            clocks: &CLOCKS,
        }
    }

    fn directory() -> Directory {
        let id = |s: &str| OfficeId::parse(s).expect("office");
        Directory {
            staff: vec![
                Staff::new("head-town", "Li", id("330502001:gov"), &[Role::Head], false).expect("staff"),
                Staff::new("head-county", "Zhao", id("330502:gov"), &[Role::Head], false).expect("staff"),
            ],
            ..Directory::default()
        }
    }

    /// Runs the guard at `now` and returns (clock, overdue) for each alert.
    fn check(log: &[CaseEvent], now: OffsetDateTime, expected: &[(ClockName, bool)]) {
        let alerts = alerts_due(&[view(log)], now, &Calendar::china(), &directory());
        let got: Vec<_> = alerts.iter().map(|a| (a.clock, a.overdue)).collect();
        assert_eq!(got, expected, "at {now}");
    }

    #[test]
    fn a_warning_comes_at_80_percent_and_an_overdue_alert_after_the_due_instant() {
        // Acceptance runs from 3 March 10:00 to the end of 18 March (Art. 23), 374 hours; 80 % is reached on
        // 15 March at 21:12.
        let log = [created(datetime!(2025-03-03 10:00 +8))];
        check(&log, datetime!(2025-03-15 21:11 +8), &[]);
        check(&log, datetime!(2025-03-15 21:12 +8), &[(ClockName::Acceptance, false)]);
        check(&log, datetime!(2025-03-19 00:00 +8), &[(ClockName::Acceptance, false)]);
        check(&log, datetime!(2025-03-19 00:01 +8), &[(ClockName::Acceptance, true)]);
    }

    #[test]
    fn the_guard_is_idempotent_because_the_log_remembers_its_alerts() {
        let mut log = vec![created(datetime!(2025-03-03 10:00 +8))];
        let now = datetime!(2025-03-16 10:00 +8);
        let dir = directory();
        let cal = Calendar::china();
        let first = alerts_due(&[view(&log)], now, &cal, &dir);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].notified, ["head-town", "head-county"]);
        log.push(first[0].event(now, "guard"));
        assert!(CaseStatus::replay(5, &log).is_ok());
        assert!(alerts_due(&[view(&log)], now, &cal, &dir).is_empty());
        // Later the overdue alert is still due once, then never again.
        let later = datetime!(2025-03-20 10:00 +8);
        let second = alerts_due(&[view(&log)], later, &cal, &dir);
        assert_eq!(second.len(), 1);
        assert!(second[0].overdue);
        log.push(second[0].event(later, "guard"));
        assert!(alerts_due(&[view(&log)], later, &cal, &dir).is_empty());
        assert_eq!(CaseStatus::replay(5, &log).map(|s| s.overdue_alerts), Ok(1));
    }

    #[test]
    fn met_and_closed_clocks_raise_nothing() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-04 10:00 +8)),
            replied(datetime!(2025-03-05 10:00 +8)),
        ];
        check(&log, datetime!(2025-12-01 10:00 +8), &[]);
    }

    #[test]
    fn an_extension_moves_the_due_date_and_a_new_warning_follows() {
        let mut log = vec![
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-04 10:00 +8)),
        ];
        // Handling runs to the end of 6 May (3 May rolled over the Labour Day holiday).
        check(&log, datetime!(2025-05-07 10:00 +8), &[(ClockName::Handling, true)]);
        log.push(ev(
            datetime!(2025-05-01 10:00 +8),
            EventKind::Extended {
                days: 30,
                reason: "expert opinion".into(),
                approver: "head-town".into(),
            },
        ));
        check(&log, datetime!(2025-05-07 10:00 +8), &[]);
        check(&log, datetime!(2025-05-30 10:00 +8), &[(ClockName::Handling, false)]);
    }

    #[test]
    fn a_late_case_owes_the_resident_one_callback() {
        let mut log = vec![created(datetime!(2025-03-03 10:00 +8))];
        fn request(log: &[CaseEvent]) -> CaseView<'_> {
            CaseView {
                kind: CaseKind::ServiceRequest,
                ..view(log)
            }
        }
        let cal = Calendar::china();
        // The general response clock ends with 10 March.
        assert!(callbacks_due(&[request(&log)], datetime!(2025-03-10 20:00 +8), &cal).is_empty());
        let due = callbacks_due(&[request(&log)], datetime!(2025-03-11 09:00 +8), &cal);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].clock, ClockName::Response);
        log.push(ev(
            datetime!(2025-03-11 09:30 +8),
            EventKind::Callback {
                text: "told the resident the crew comes on Thursday".into(),
                rating: None,
            },
        ));
        assert!(callbacks_due(&[request(&log)], datetime!(2025-03-12 09:00 +8), &cal).is_empty());
    }

    #[test]
    fn the_risk_score_lists_its_reasons() {
        let log = [created(datetime!(2025-03-03 10:00 +8))];
        let mut v = view(&log);
        v.category = "land";
        v.co_signers = 6;
        v.repeats = 2;
        let score = risk(
            &v,
            datetime!(2025-03-21 10:00 +8),
            &Calendar::china(),
            &RiskConfig::default(),
        );
        let factors: Vec<_> = score.reasons.iter().map(|r| (r.factor, r.points)).collect();
        assert_eq!(
            factors,
            [
                ("days overdue", 3.0),
                ("repeat petitions", 16.0),
                ("co-signers", 6.0),
                ("group petition", 10.0),
                ("sensitive category", 15.0),
            ]
        );
        assert_eq!(score.score, 50.0);
        assert_eq!(score.reasons[0].detail, "the acceptance clock is 3 day(s) overdue");
        let calm = risk(
            &view(&log),
            datetime!(2025-03-05 10:00 +8),
            &Calendar::china(),
            &RiskConfig::default(),
        );
        assert_eq!(calm.score, 0.0);
        assert!(calm.reasons.is_empty());
    }

    #[test]
    fn reopening_and_unhappiness_add_to_the_risk() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-03 11:00 +8)),
            replied(datetime!(2025-03-04 10:00 +8)),
            ev(
                datetime!(2025-03-04 12:00 +8),
                EventKind::Rated {
                    rating: crate::case::Rating::Unsatisfied,
                    by: "r".into(),
                },
            ),
            ev(
                datetime!(2025-03-04 13:00 +8),
                EventKind::Reopened { reason: "no".into() },
            ),
        ];
        let mut v = view(&log);
        v.kind = CaseKind::Complaint;
        let score = risk(
            &v,
            datetime!(2025-03-05 10:00 +8),
            &Calendar::china(),
            &RiskConfig::default(),
        );
        let factors: Vec<_> = score.reasons.iter().map(|r| r.factor).collect();
        assert_eq!(factors, ["reopened", "unsatisfied"]);
        assert_eq!(score.score, 10.0);
    }
}
