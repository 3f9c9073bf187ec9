//! Deadlines derived from a case's event log by pure functions.
//!
//! Petitions (信访) run the statutory clocks of the 2022 Regulations on Letters and Visits Work:
//! - **acceptance** — within 15 days of receipt the receiving office forwards or assigns the matter and tells the
//!   petitioner whether it is accepted (Art. 23); a re-route or a return starts it again for the new receiver;
//! - **handling** — within 60 days of acceptance, extendable once by at most 30 days with a reason and an approver
//!   (Art. 34);
//! - **review decision** — within 30 days of a review request, which itself must come within 30 days of the written
//!   reply (Art. 35); **re-examination decision** — the same, after the review decision (Art. 36), after which the
//!   matter is final.
//!
//! Every other kind runs a hotline-style **response** clock whose length depends on urgency (emergency 2 hours,
//! utilities 24 hours, general 7 days, complex 15 days). These are configurable defaults ([`ClockConfig`]), so a policy
//! layer can tighten them; the statutory petition limits ([`STATUTE`]) may be tightened but never loosened
//! ([`ClockConfig::statute_breaches`]): an office's deadline never gets longer, a resident's window never shorter,
//! and a limit in working days is compared with the statute's calendar days through the holiday calendar.
//!
//! A resident's clock is not reset when the case moves between offices (first-receiver responsibility keeps the
//! resident from paying for a wrong dispatch); a petition's acceptance clock is, because the Regulations give each
//! receiving office its own 15 days.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::calendar::{Calendar, Period};
use crate::case::{CaseEvent, CaseKind, EventKind};

/// How urgent a non-petition case is; decides the length of its response clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Emergency,
    Utilities,
    General,
    Complex,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Emergency => "emergency",
            Urgency::Utilities => "utilities",
            Urgency::General => "general",
            Urgency::Complex => "complex",
        }
    }
}

/// The clock lengths and windows a deployment runs. `Default` gives the statutory petition limits and the usual
/// hotline defaults; a policy layer deserialises a partial TOML table over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockConfig {
    pub emergency: Period,
    pub utilities: Period,
    pub general: Period,
    pub complex: Period,
    /// Categories treated as emergencies (gas leaks, a person in danger).
    pub emergency_categories: Vec<String>,
    /// Categories treated as utility outages (water, power, heating).
    pub utility_categories: Vec<String>,
    /// Categories treated as complex (land, demolition, wage arrears).
    pub complex_categories: Vec<String>,
    /// Kinds that default to complex whatever their category.
    pub complex_kinds: Vec<CaseKind>,
    /// Art. 23: register and forward, and tell the petitioner whether accepted.
    pub petition_acceptance: Period,
    /// Art. 34: handle within 60 days of acceptance.
    pub petition_handling: Period,
    /// Art. 34: one extension of at most 30 days.
    pub max_extension_days: u32,
    pub max_extensions: u32,
    /// Art. 35: the review request window and the review decision.
    pub review_request_window: Period,
    pub review_decision: Period,
    /// Art. 36: the re-examination request window and decision.
    pub reexamination_request_window: Period,
    pub reexamination_decision: Period,
    /// Art. 23 §3: a receiving office may dispute a wrong dispatch within 5 working days.
    pub dispute_window: Period,
    /// How long after a reply the resident may rate it or reopen the case.
    pub rating_window: Period,
    /// A warning is due once this share of a clock's length has passed.
    pub warning_share: f64,
    /// Whether a period in days whose last day is a day off ends on the next working day instead.
    pub roll_over_days_off: bool,
}

impl Default for ClockConfig {
    fn default() -> Self {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        ClockConfig {
            emergency: Period::Hours(2),
            utilities: Period::Hours(24),
            general: Period::Days(7),
            complex: Period::Days(15),
            emergency_categories: strings(&["gas_leak", "fire_hazard", "person_in_danger", "flooding"]),
            utility_categories: strings(&["water_supply", "water_outage", "power_outage", "heating", "drainage"]),
            complex_categories: strings(&[
                "land",
                "land_contract_dispute",
                "demolition",
                "housing_demolition",
                "wage_arrears",
                "property_management",
            ]),
            complex_kinds: vec![CaseKind::Dispute],
            petition_acceptance: Period::Days(15),
            petition_handling: Period::Days(60),
            max_extension_days: 30,
            max_extensions: 1,
            review_request_window: Period::Days(30),
            review_decision: Period::Days(30),
            reexamination_request_window: Period::Days(30),
            reexamination_decision: Period::Days(30),
            dispute_window: Period::WorkingDays(5),
            rating_window: Period::Days(7),
            warning_share: 0.8,
            roll_over_days_off: true,
        }
    }
}

/// The furthest, in calendar days, that a clock started today can be due under the statute: a petition's 15 days to
/// accept, then 60 to handle and one extension of 30 (Arts. 22-23, 34). A holiday calendar that does not cover this
/// far ahead leaves some running clock computed with weekends only.
pub const LONGEST_CLOCK_DAYS: u32 = 15 + 60 + 30;

/// A warning when a clock started on or before local day `started_by` could end past the days `calendar` covers:
/// none can when the longest statutory run from that day ([`LONGEST_CLOCK_DAYS`]) stays inside them. The CLI prints it
/// where clocks are computed and `/api/v1/health` reports it.
pub fn coverage_warning(calendar: &Calendar, started_by: time::Date) -> Option<String> {
    calendar
        .coverage_warning(started_by)
        .or_else(|| calendar.coverage_warning(started_by + Duration::days(i64::from(LONGEST_CLOCK_DAYS))))
}

/// Which way a statutory limit binds a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A deadline for an office: a layer may shorten it, never lengthen it.
    AtMost,
    /// A window for the resident to ask: a layer may lengthen it, never shorten it.
    AtLeast,
}

/// One national limit of the 2022 Regulations on Letters and Visits Work, in calendar days as the Regulations state
/// it. These hold whatever policy is loaded: a layer may only tighten them ([`ClockConfig::statute_breaches`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatutoryLimit {
    /// A short name errors quote, e.g. `statute-petition-handling`.
    pub id: &'static str,
    /// The [`ClockConfig`] field it bounds.
    pub field: &'static str,
    /// The policy key that sets the field, when a layer can.
    pub key: Option<&'static str>,
    pub days: u32,
    pub bound: Bound,
    pub article: &'static str,
}

/// The national limits. The acceptance limit is the letters and visits departments' (Art. 22) and every other
/// receiving office's (Art. 23); the windows to ask for review and re-examination are the petitioner's (Arts. 35–36).
pub const STATUTE: [StatutoryLimit; 8] = [
    StatutoryLimit {
        id: "statute-petition-acceptance",
        field: "petition_acceptance",
        key: Some("clocks.petition.accept_days"),
        days: 15,
        bound: Bound::AtMost,
        article: "2022 Regulations Arts. 22-23",
    },
    StatutoryLimit {
        id: "statute-petition-handling",
        field: "petition_handling",
        key: Some("clocks.petition.handle_days"),
        days: 60,
        bound: Bound::AtMost,
        article: "2022 Regulations Art. 34",
    },
    StatutoryLimit {
        id: "statute-extension-length",
        field: "max_extension_days",
        key: Some("clocks.petition.extension_max_days"),
        days: 30,
        bound: Bound::AtMost,
        article: "2022 Regulations Art. 34",
    },
    StatutoryLimit {
        id: "statute-review-request-window",
        field: "review_request_window",
        key: Some("clocks.petition.review_request_days"),
        days: 30,
        bound: Bound::AtLeast,
        article: "2022 Regulations Art. 35",
    },
    StatutoryLimit {
        id: "statute-review-decision",
        field: "review_decision",
        key: Some("clocks.petition.review_decision_days"),
        days: 30,
        bound: Bound::AtMost,
        article: "2022 Regulations Art. 35",
    },
    StatutoryLimit {
        id: "statute-reexamination-request-window",
        field: "reexamination_request_window",
        key: None,
        days: 30,
        bound: Bound::AtLeast,
        article: "2022 Regulations Art. 36",
    },
    StatutoryLimit {
        id: "statute-reexamination-decision",
        field: "reexamination_decision",
        key: Some("clocks.petition.recheck_days"),
        days: 30,
        bound: Bound::AtMost,
        article: "2022 Regulations Art. 36",
    },
    StatutoryLimit {
        id: "statute-one-extension",
        field: "max_extensions",
        key: None,
        days: 1,
        bound: Bound::AtMost,
        article: "2022 Regulations Art. 34",
    },
];

impl StatutoryLimit {
    /// The limit as a sentence: `at most 60 calendar days (2022 Regulations Art. 34)`.
    pub fn describe(&self) -> String {
        let amount = match self.field {
            "max_extensions" => "one extension".to_string(),
            "max_extension_days" => format!("{} calendar days of extension", self.days),
            _ => format!("{} calendar days", self.days),
        };
        let way = match self.bound {
            Bound::AtMost => "at most",
            Bound::AtLeast => "at least",
        };
        format!("{way} {amount} ({})", self.article)
    }
}

/// A configuration that gives an office more time, or the resident less, than the Regulations allow.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("clock `{}` is {found}, but the statute allows {}", .limit.field, .limit.describe())]
pub struct LoosenedLimit {
    pub limit: StatutoryLimit,
    /// What the configuration gives, and on which start day it first exceeds the statute.
    pub found: Box<crate::said::Said>,
}

/// The days over which a limit counted in one unit is compared with one counted in another: every day the calendar
/// covers, or two weeks of plain weekends when it covers none.
fn comparison_days(calendar: &Calendar) -> impl Iterator<Item = time::Date> {
    let (first, last) = calendar
        .covers()
        .unwrap_or((time::macros::date!(2025 - 01 - 06), time::macros::date!(2025 - 01 - 19)));
    let mut next = Some(first);
    std::iter::from_fn(move || {
        let day = next.filter(|d| *d <= last)?;
        next = day.next_day();
        Some(day)
    })
}

/// How `period` breaks `limit`, if it does. Limits in the same unit compare as numbers. A limit in working days is
/// compared with the statute's calendar days through the calendar, like with like: started on each day the calendar
/// covers, the period must never end after (for an office's deadline) or before (for a resident's window) the
/// statutory period started the same day, both ending as the calendar and the roll-over rule say. So `60 working days`
/// is refused for handling (it ends 84 or more calendar days after its start), and `9 working days` may pass for
/// acceptance only if no stretch of holidays ever makes it end after the 15th calendar day.
fn breach(calendar: &Calendar, period: Period, roll_over: bool, limit: &StatutoryLimit) -> Option<crate::said::Said> {
    let statute = limit.days;
    let in_bounds = |n: u32| match limit.bound {
        Bound::AtMost => n <= statute,
        Bound::AtLeast => n >= statute,
    };
    match period {
        Period::Days(n) => (!in_bounds(n)).then(|| crate::said!("clock-found-days", "{n} calendar days", n = n)),
        Period::Hours(h) => {
            // A period of whole days ends between 24 × n hours and 24 × (n + 1) hours after its start.
            let ok = match limit.bound {
                Bound::AtMost => h <= statute * 24,
                Bound::AtLeast => h >= (statute + 1) * 24,
            };
            (!ok).then(|| crate::said!("clock-found-hours", "{h} hours", h = h))
        }
        Period::WorkingDays(n) => comparison_days(calendar).find_map(|day| {
            let start = day.midnight().assume_offset(calendar.offset());
            let ends = calendar.due(start, Period::WorkingDays(n), roll_over);
            let statute_ends = calendar.due(start, Period::Days(statute), true);
            let broken = match limit.bound {
                Bound::AtMost => ends > statute_ends,
                Bound::AtLeast => ends < statute_ends,
            };
            broken.then(|| {
                let last = calendar.local_date(ends - Duration::seconds(1));
                let span = (last - day).whole_days();
                crate::said!(
                    "clock-found-working-days",
                    "{n} working days, which started on {day} end on {last}, {span} calendar days later",
                    n = n,
                    day = day.to_string(),
                    last = last.to_string(),
                    span = span,
                )
            })
        }),
    }
}

impl ClockConfig {
    /// Reads a (partial) configuration; absent fields keep their defaults.
    pub fn from_toml(text: &str) -> Result<ClockConfig, toml::de::Error> {
        toml::from_str(text)
    }

    fn period_of(&self, field: &str) -> Option<Period> {
        Some(match field {
            "petition_acceptance" => self.petition_acceptance,
            "petition_handling" => self.petition_handling,
            "review_request_window" => self.review_request_window,
            "review_decision" => self.review_decision,
            "reexamination_request_window" => self.reexamination_request_window,
            "reexamination_decision" => self.reexamination_decision,
            _ => return None,
        })
    }

    /// Every statutory limit this configuration breaks ([`STATUTE`]), with working days converted through `calendar`.
    pub fn statute_breaches(&self, calendar: &Calendar) -> Vec<LoosenedLimit> {
        STATUTE
            .iter()
            .filter_map(|limit| {
                let found = match limit.field {
                    "max_extension_days" => (self.max_extension_days > limit.days).then(|| {
                        crate::said!(
                            "clock-found-extension-days",
                            "{n} calendar days of extension",
                            n = self.max_extension_days,
                        )
                    }),
                    "max_extensions" => (self.max_extensions > limit.days)
                        .then(|| crate::said!("clock-found-extensions", "{n} extensions", n = self.max_extensions)),
                    field => breach(calendar, self.period_of(field)?, self.roll_over_days_off, limit),
                }?;
                Some(LoosenedLimit {
                    limit: *limit,
                    found: Box::new(found),
                })
            })
            .collect()
    }

    /// Rejects a configuration that gives offices more time, or residents less, than the Regulations allow.
    pub fn check_within_statute(&self, calendar: &Calendar) -> Result<(), LoosenedLimit> {
        match self.statute_breaches(calendar).into_iter().next() {
            Some(breach) => Err(breach),
            None => Ok(()),
        }
    }

    /// The urgency of a non-petition case from its kind and category.
    pub fn urgency(&self, kind: CaseKind, category: &str) -> Urgency {
        let has = |list: &[String]| list.iter().any(|c| c == category);
        if has(&self.emergency_categories) {
            Urgency::Emergency
        } else if has(&self.utility_categories) {
            Urgency::Utilities
        } else if has(&self.complex_categories) || self.complex_kinds.contains(&kind) {
            Urgency::Complex
        } else {
            Urgency::General
        }
    }

    pub fn response_period(&self, urgency: Urgency) -> Period {
        match urgency {
            Urgency::Emergency => self.emergency,
            Urgency::Utilities => self.utilities,
            Urgency::General => self.general,
            Urgency::Complex => self.complex,
        }
    }
}

/// The clocks a case can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockName {
    Acceptance,
    Handling,
    ReviewDecision,
    ReexaminationDecision,
    Response,
}

impl ClockName {
    pub const ALL: [ClockName; 5] = [
        ClockName::Acceptance,
        ClockName::Handling,
        ClockName::ReviewDecision,
        ClockName::ReexaminationDecision,
        ClockName::Response,
    ];

    /// The name recorded in a `DeadlineAlert` event.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockName::Acceptance => "acceptance",
            ClockName::Handling => "handling",
            ClockName::ReviewDecision => "review_decision",
            ClockName::ReexaminationDecision => "reexamination_decision",
            ClockName::Response => "response",
        }
    }

    pub fn parse(s: &str) -> Option<ClockName> {
        ClockName::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Where the clock comes from.
    pub fn article(self) -> &'static str {
        match self {
            ClockName::Acceptance => "2022 Regulations Art. 23",
            ClockName::Handling => "2022 Regulations Art. 34",
            ClockName::ReviewDecision => "2022 Regulations Art. 35",
            ClockName::ReexaminationDecision => "2022 Regulations Art. 36",
            ClockName::Response => "hotline response standard (configurable)",
        }
    }
}

/// One run of a clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deadline {
    pub clock: ClockName,
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    /// Days added by extensions.
    pub extended_days: u32,
    /// When the clock stopped because its duty was done (or the case ended).
    #[serde(with = "time::serde::rfc3339::option")]
    pub met_at: Option<OffsetDateTime>,
    /// True when the clock was replaced by a new run (a re-route gives the new office its own acceptance clock).
    pub superseded: bool,
}

impl Deadline {
    pub fn is_running(&self) -> bool {
        self.met_at.is_none() && !self.superseded
    }

    /// `Some(true)` when met in time, `Some(false)` when met late, `None` while running or superseded.
    pub fn met_in_time(&self) -> Option<bool> {
        if self.superseded {
            return None;
        }
        self.met_at.map(|m| m <= self.due)
    }

    /// The instant from which a warning is due.
    pub fn warn_from(&self, share: f64) -> OffsetDateTime {
        let length = self.due - self.started;
        let share = share.clamp(0.0, 1.0);
        self.started + Duration::seconds_f64(length.as_seconds_f64() * share)
    }
}

struct Builder<'a> {
    config: &'a ClockConfig,
    calendar: &'a Calendar,
    out: Vec<Deadline>,
    periods: Vec<Period>,
}

impl Builder<'_> {
    fn start(&mut self, clock: ClockName, at: OffsetDateTime, period: Period) {
        let due = self.calendar.due(at, period, self.config.roll_over_days_off);
        self.out.push(Deadline {
            clock,
            started: at,
            due,
            extended_days: 0,
            met_at: None,
            superseded: false,
        });
        self.periods.push(period);
    }

    fn running(&mut self, clock: ClockName) -> Option<usize> {
        self.out.iter().rposition(|d| d.clock == clock && d.is_running())
    }

    fn meet(&mut self, clock: ClockName, at: OffsetDateTime) {
        if let Some(i) = self.running(clock) {
            self.out[i].met_at = Some(at);
        }
    }

    fn supersede(&mut self, clock: ClockName) {
        if let Some(i) = self.running(clock) {
            self.out[i].superseded = true;
        }
    }

    fn stop_all(&mut self, at: OffsetDateTime) {
        for d in self.out.iter_mut().filter(|d| d.is_running()) {
            d.met_at = Some(at);
        }
    }

    fn extend(&mut self, clocks: &[ClockName], days: u32) {
        let Some(i) = self
            .out
            .iter()
            .rposition(|d| clocks.contains(&d.clock) && d.is_running())
        else {
            return;
        };
        let extra = self.out[i].extended_days + days;
        let due = match self.periods[i] {
            Period::Days(n) => self.calendar.due(
                self.out[i].started,
                Period::Days(n + extra),
                self.config.roll_over_days_off,
            ),
            other => {
                self.calendar
                    .due(self.out[i].started, other, self.config.roll_over_days_off)
                    + Duration::days(i64::from(extra))
            }
        };
        self.out[i].extended_days = extra;
        self.out[i].due = due;
    }
}

/// Every clock the log has started, in order, with its due instant and whether it was met.
pub fn deadlines(
    kind: CaseKind,
    urgency: Urgency,
    log: &[CaseEvent],
    config: &ClockConfig,
    calendar: &Calendar,
) -> Vec<Deadline> {
    let mut b = Builder {
        config,
        calendar,
        out: Vec::new(),
        periods: Vec::new(),
    };
    let petition = kind == CaseKind::Petition;
    let work_clock = if petition {
        ClockName::Handling
    } else {
        ClockName::Response
    };
    for event in log {
        let at = event.at;
        match &event.kind {
            EventKind::Created { .. } => {
                if petition {
                    b.start(ClockName::Acceptance, at, config.petition_acceptance);
                } else {
                    b.start(ClockName::Response, at, config.response_period(urgency));
                }
            }
            EventKind::Rerouted { .. } | EventKind::Returned { .. } if petition => {
                b.supersede(ClockName::Acceptance);
                b.supersede(ClockName::Handling);
                b.start(ClockName::Acceptance, at, config.petition_acceptance);
            }
            EventKind::Accepted { .. } if petition => {
                b.meet(ClockName::Acceptance, at);
                if b.running(ClockName::Handling).is_none() {
                    b.start(ClockName::Handling, at, config.petition_handling);
                }
            }
            EventKind::NotAccepted { .. }
            | EventKind::Withdrawn { .. }
            | EventKind::AnsweredAtIntake { .. }
            | EventKind::Closed => b.stop_all(at),
            EventKind::Extended { days, .. } => b.extend(&[work_clock], *days),
            EventKind::Replied { .. } | EventKind::MediationSettled { .. } => b.meet(work_clock, at),
            // A failed mediation that routes onward (litigation, arbitration, review) ends the case here.
            EventKind::MediationFailed { route, .. } if *route != crate::case::OnwardRoute::Handling => b.stop_all(at),
            EventKind::Reopened { .. } => {
                let period = if petition {
                    config.petition_handling
                } else {
                    config.response_period(urgency)
                };
                b.start(work_clock, at, period);
            }
            EventKind::ReviewRequested => b.start(ClockName::ReviewDecision, at, config.review_decision),
            EventKind::ReviewDecided { .. } => b.meet(ClockName::ReviewDecision, at),
            EventKind::ReexaminationRequested => {
                b.start(ClockName::ReexaminationDecision, at, config.reexamination_decision)
            }
            EventKind::ReexaminationDecided { .. } => b.meet(ClockName::ReexaminationDecision, at),
            _ => {}
        }
    }
    b.out
}

/// The last event of one of the given names.
pub(crate) fn last_at(log: &[CaseEvent], pred: impl Fn(&EventKind) -> bool) -> Option<OffsetDateTime> {
    log.iter().rev().find(|e| pred(&e.kind)).map(|e| e.at)
}

/// The last written reply: a reply, a mediation agreement or an answer given at intake.
pub fn last_reply_at(log: &[CaseEvent]) -> Option<OffsetDateTime> {
    last_at(log, |k| {
        matches!(
            k,
            EventKind::Replied { .. } | EventKind::MediationSettled { .. } | EventKind::AnsweredAtIntake { .. }
        )
    })
}

/// When the window to request a review closes: 30 days after the written reply (Art. 35).
pub fn review_request_closes(log: &[CaseEvent], config: &ClockConfig, calendar: &Calendar) -> Option<OffsetDateTime> {
    last_reply_at(log).map(|r| calendar.due(r, config.review_request_window, config.roll_over_days_off))
}

/// When the window to request re-examination closes: 30 days after the review decision (Art. 36).
pub fn reexamination_request_closes(
    log: &[CaseEvent],
    config: &ClockConfig,
    calendar: &Calendar,
) -> Option<OffsetDateTime> {
    last_at(log, |k| matches!(k, EventKind::ReviewDecided { .. }))
        .map(|d| calendar.due(d, config.reexamination_request_window, config.roll_over_days_off))
}

/// When the resident's window to rate the last reply or reopen the case closes.
pub fn rating_closes(log: &[CaseEvent], config: &ClockConfig, calendar: &Calendar) -> Option<OffsetDateTime> {
    last_reply_at(log).map(|r| calendar.due(r, config.rating_window, config.roll_over_days_off))
}

/// When `office` received the case last (its creation, a re-route or a return to it).
pub fn received_by(log: &[CaseEvent], office: &str) -> Option<OffsetDateTime> {
    log.iter()
        .rev()
        .find(|e| match &e.kind {
            EventKind::Created { office: o } => o == office,
            EventKind::Rerouted { to_office, .. } | EventKind::Returned { to_office, .. } => to_office == office,
            EventKind::Assigned { office: o, .. } => o == office,
            _ => false,
        })
        .map(|e| e.at)
}

/// When `office` may no longer dispute a dispatch to it: 5 working days after it received the case (Art. 23 §3).
pub fn dispute_closes(
    log: &[CaseEvent],
    office: &str,
    config: &ClockConfig,
    calendar: &Calendar,
) -> Option<OffsetDateTime> {
    received_by(log, office).map(|r| calendar.due(r, config.dispute_window, false))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use time::macros::datetime;

    pub(crate) fn ev(at: OffsetDateTime, kind: EventKind) -> CaseEvent {
        CaseEvent {
            at,
            actor: "t".into(),
            kind,
        }
    }

    pub(crate) fn created(at: OffsetDateTime) -> CaseEvent {
        ev(
            at,
            EventKind::Created {
                office: "330502001:gov".into(),
            },
        )
    }

    pub(crate) fn accepted(at: OffsetDateTime) -> CaseEvent {
        ev(
            at,
            EventKind::Accepted {
                office: "330502001:gov".into(),
            },
        )
    }

    pub(crate) fn replied(at: OffsetDateTime) -> CaseEvent {
        ev(at, EventKind::Replied { text: "done".into() })
    }

    fn check(
        kind: CaseKind,
        urgency: Urgency,
        log: &[CaseEvent],
        expected: &[(ClockName, OffsetDateTime, Option<bool>)],
    ) {
        let got = deadlines(kind, urgency, log, &ClockConfig::default(), &Calendar::china());
        let got: Vec<_> = got
            .iter()
            .filter(|d| !d.superseded)
            .map(|d| (d.clock, d.due, d.met_in_time()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_petition_is_accepted_within_15_days_and_handled_within_60() {
        // Received Mon 2025-03-03, Beijing time: acceptance due at the end of 18 March (Art. 23).
        // Accepted 2025-03-10: handling due at the end of 9 May (Art. 34); 9 May is a Friday, a working day.
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-10 10:00 +8)),
            replied(datetime!(2025-05-09 23:59 +8)),
        ];
        check(
            CaseKind::Petition,
            Urgency::General,
            &log,
            &[
                (ClockName::Acceptance, datetime!(2025-03-19 00:00 +8), Some(true)),
                (ClockName::Handling, datetime!(2025-05-10 00:00 +8), Some(true)),
            ],
        );
    }

    #[test]
    fn the_last_day_of_the_period_counts_and_the_next_does_not() {
        let base = [created(datetime!(2025-03-03 10:00 +8))];
        let on_day = [base[0].clone(), accepted(datetime!(2025-03-18 23:59 +8))];
        let day_after = [base[0].clone(), accepted(datetime!(2025-03-19 00:00 +8))];
        let c = Calendar::china();
        let cfg = ClockConfig::default();
        let first = |log: &[CaseEvent]| deadlines(CaseKind::Petition, Urgency::General, log, &cfg, &c)[0].met_in_time();
        assert_eq!(first(&on_day), Some(true));
        assert_eq!(first(&day_after), Some(true), "the due instant itself is still in time");
        let late = [base[0].clone(), accepted(datetime!(2025-03-19 00:01 +8))];
        assert_eq!(first(&late), Some(false));
    }

    #[test]
    fn a_period_ending_in_the_national_day_holiday_rolls_to_the_next_working_day() {
        // Accepted 2025-08-03: 60 days later is 2 October, inside the 1–8 October holiday, so the period ends with
        // Thursday 9 October.
        let log = [
            created(datetime!(2025-08-01 10:00 +8)),
            accepted(datetime!(2025-08-03 10:00 +8)),
        ];
        check(
            CaseKind::Petition,
            Urgency::General,
            &log,
            &[
                // 16 August is a Saturday: acceptance rolls to Monday 18 August.
                (ClockName::Acceptance, datetime!(2025-08-19 00:00 +8), Some(true)),
                (ClockName::Handling, datetime!(2025-10-10 00:00 +8), None),
            ],
        );
    }

    #[test]
    fn an_extension_adds_its_days_to_the_handling_clock() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-10 10:00 +8)),
            ev(
                datetime!(2025-04-20 10:00 +8),
                EventKind::Extended {
                    days: 30,
                    reason: "site survey".into(),
                    approver: "head".into(),
                },
            ),
        ];
        // 60 + 30 days from 10 March is 8 June; 8 June 2025 is a Sunday, so the period ends on Monday 9 June.
        check(
            CaseKind::Petition,
            Urgency::General,
            &log,
            &[
                (ClockName::Acceptance, datetime!(2025-03-19 00:00 +8), Some(true)),
                (ClockName::Handling, datetime!(2025-06-10 00:00 +8), None),
            ],
        );
    }

    #[test]
    fn a_reroute_gives_the_new_office_its_own_15_days() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            ev(
                datetime!(2025-03-05 10:00 +8),
                EventKind::Rerouted {
                    from_office: "330502001:gov".into(),
                    to_office: "330502:housing".into(),
                    reason: "building safety is a county matter".into(),
                },
            ),
        ];
        check(
            CaseKind::Petition,
            Urgency::General,
            &log,
            &[(ClockName::Acceptance, datetime!(2025-03-21 00:00 +8), None)],
        );
    }

    #[test]
    fn review_and_reexamination_each_get_30_days() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-04 10:00 +8)),
            replied(datetime!(2025-03-20 10:00 +8)),
            ev(datetime!(2025-04-01 10:00 +8), EventKind::ReviewRequested),
            ev(
                datetime!(2025-05-02 10:00 +8),
                EventKind::ReviewDecided { text: "upheld".into() },
            ),
            ev(datetime!(2025-05-06 10:00 +8), EventKind::ReexaminationRequested),
        ];
        // Accepted 4 March: 60 days end on 3 May, inside the 1–5 May holiday, so handling ends with 6 May.
        // Review requested 1 April: 30 days end on 1 May, likewise rolled to 6 May; the decision on 2 May is in time.
        // Re-examination requested 6 May: due at the end of 5 June.
        check(
            CaseKind::Petition,
            Urgency::General,
            &log,
            &[
                (ClockName::Acceptance, datetime!(2025-03-19 00:00 +8), Some(true)),
                (ClockName::Handling, datetime!(2025-05-07 00:00 +8), Some(true)),
                (ClockName::ReviewDecision, datetime!(2025-05-07 00:00 +8), Some(true)),
                (ClockName::ReexaminationDecision, datetime!(2025-06-06 00:00 +8), None),
            ],
        );
        let cfg = ClockConfig::default();
        let cal = Calendar::china();
        // The review window runs 30 days from the written reply of 20 March: to the end of 19 April (a Saturday, so
        // it rolls to Monday 21 April). The re-examination window from 2 May ends on 1 June, a Sunday inside the
        // Dragon Boat holiday, so it rolls to Tuesday 3 June.
        assert_eq!(
            review_request_closes(&log[..3], &cfg, &cal),
            Some(datetime!(2025-04-22 00:00 +8))
        );
        assert_eq!(
            reexamination_request_closes(&log, &cfg, &cal),
            Some(datetime!(2025-06-04 00:00 +8))
        );
    }

    #[test]
    fn hotline_clocks_follow_urgency() {
        let start = datetime!(2025-03-03 10:00 +8);
        let cases = [
            (Urgency::Emergency, datetime!(2025-03-03 12:00 +8)),
            (Urgency::Utilities, datetime!(2025-03-04 10:00 +8)),
            (Urgency::General, datetime!(2025-03-11 00:00 +8)),
            (Urgency::Complex, datetime!(2025-03-19 00:00 +8)),
        ];
        for (urgency, due) in cases {
            check(
                CaseKind::ServiceRequest,
                urgency,
                &[created(start)],
                &[(ClockName::Response, due, None)],
            );
        }
        let cfg = ClockConfig::default();
        assert_eq!(cfg.urgency(CaseKind::Complaint, "gas_leak"), Urgency::Emergency);
        assert_eq!(cfg.urgency(CaseKind::Complaint, "water_outage"), Urgency::Utilities);
        assert_eq!(cfg.urgency(CaseKind::Dispute, "noise"), Urgency::Complex);
        assert_eq!(cfg.urgency(CaseKind::Complaint, "noise"), Urgency::General);
    }

    #[test]
    fn the_emergency_clock_is_exact_to_the_minute() {
        let start = datetime!(2025-03-03 10:00 +8);
        let at = |m| [created(start), replied(start + Duration::minutes(m))];
        let cfg = ClockConfig::default();
        let cal = Calendar::china();
        let met = |log: &[CaseEvent]| {
            deadlines(CaseKind::ServiceRequest, Urgency::Emergency, log, &cfg, &cal)[0].met_in_time()
        };
        assert_eq!(met(&at(120)), Some(true));
        assert_eq!(met(&at(121)), Some(false));
    }

    #[test]
    fn a_reopened_request_starts_a_new_response_clock() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            replied(datetime!(2025-03-04 10:00 +8)),
            ev(
                datetime!(2025-03-05 10:00 +8),
                EventKind::Reopened {
                    reason: "still leaking".into(),
                },
            ),
        ];
        check(
            CaseKind::ServiceRequest,
            Urgency::Utilities,
            &log,
            &[
                (ClockName::Response, datetime!(2025-03-04 10:00 +8), Some(true)),
                (ClockName::Response, datetime!(2025-03-06 10:00 +8), None),
            ],
        );
    }

    /// The one limit `field` breaks in `config`, if any.
    fn broken(config: &ClockConfig) -> Vec<&'static str> {
        config
            .statute_breaches(&Calendar::china())
            .iter()
            .map(|b| b.limit.field)
            .collect()
    }

    fn with(toml: &str) -> ClockConfig {
        ClockConfig::from_toml(toml).expect("partial config")
    }

    #[test]
    fn a_calendar_that_ends_before_the_longest_clock_is_reported() {
        let cal = Calendar::china();
        // From 2026-09-17, the longest statutory run (105 days) ends on 2026-12-31: covered.
        assert_eq!(coverage_warning(&cal, time::macros::date!(2026 - 09 - 17)), None);
        let warning = coverage_warning(&cal, time::macros::date!(2026 - 09 - 18)).expect("runs into 2027");
        assert!(
            warning.contains("2027-01-01") && warning.contains("--calendar"),
            "{warning}"
        );
        // A calendar that starts after the day is no help either.
        let later = Calendar::from_toml("covers = \"2027-01-01..2027-12-31\"").expect("calendar");
        assert!(coverage_warning(&later, time::macros::date!(2026 - 12 - 05)).is_some());
    }

    #[test]
    fn the_defaults_are_the_statute_and_tightening_is_allowed() {
        assert!(broken(&ClockConfig::default()).is_empty());
        let tight = with("petition_handling = { days = 30 }\ngeneral = { working_days = 5 }");
        assert_eq!(tight.petition_handling, Period::Days(30));
        assert_eq!(tight.emergency, Period::Hours(2));
        assert!(tight.check_within_statute(&Calendar::china()).is_ok());
        assert!(ClockConfig::from_toml("no_such_clock = 1").is_err());
    }

    #[test]
    fn art_22_23_acceptance_may_not_exceed_15_days() {
        assert_eq!(
            broken(&with("petition_acceptance = { days = 16 }")),
            ["petition_acceptance"]
        );
        // 15 working days always span more than 15 calendar days.
        assert_eq!(
            broken(&with("petition_acceptance = { working_days = 15 }")),
            ["petition_acceptance"]
        );
        // 5 working days never do, even across the Spring Festival.
        assert!(broken(&with("petition_acceptance = { working_days = 5 }")).is_empty());
    }

    #[test]
    fn art_34_handling_may_not_exceed_60_days_counted_in_calendar_days() {
        let loose = with("petition_handling = { days = 90 }");
        assert_eq!(
            loose.check_within_statute(&Calendar::china()).unwrap_err().to_string(),
            "clock `petition_handling` is 90 calendar days, but the statute allows at most 60 calendar days \
             (2022 Regulations Art. 34)"
        );
        // The bug this replaces: 60 working days were compared as if they were at most 60 calendar days.
        let working = with("petition_handling = { working_days = 60 }");
        let err = working.check_within_statute(&Calendar::china()).unwrap_err();
        assert_eq!(err.limit.article, "2022 Regulations Art. 34");
        assert!(
            err.found
                .english()
                .starts_with("60 working days, which started on 2025-01-01"),
            "{}",
            err.found
        );
        // 36 working days fit in 60 calendar days from every day of 2025 and 2026, holidays included; 37 do not
        // (started before the 2026 Spring Festival or the National Day holiday).
        assert!(broken(&with("petition_handling = { working_days = 36 }")).is_empty());
        assert_eq!(
            broken(&with("petition_handling = { working_days = 37 }")),
            ["petition_handling"]
        );
    }

    #[test]
    fn art_34_allows_one_extension_of_at_most_30_days() {
        assert_eq!(broken(&with("max_extension_days = 31")), ["max_extension_days"]);
        assert_eq!(broken(&with("max_extensions = 2")), ["max_extensions"]);
        assert!(broken(&with("max_extension_days = 20\nmax_extensions = 0")).is_empty());
    }

    #[test]
    fn art_35_the_review_decision_is_due_within_30_days_and_the_window_to_ask_is_at_least_30() {
        assert_eq!(broken(&with("review_decision = { days = 45 }")), ["review_decision"]);
        assert_eq!(
            broken(&with("review_request_window = { days = 20 }")),
            ["review_request_window"]
        );
        let err = with("review_request_window = { days = 20 }")
            .check_within_statute(&Calendar::china())
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("at least 30 calendar days (2022 Regulations Art. 35)"),
            "{err}"
        );
        // Lengthening the resident's window is allowed; so are 30 working days, which never end sooner.
        assert!(broken(&with("review_request_window = { days = 60 }")).is_empty());
        assert!(broken(&with("review_request_window = { working_days = 30 }")).is_empty());
        // 20 working days end before 30 calendar days from some start day.
        assert_eq!(
            broken(&with("review_request_window = { working_days = 20 }")),
            ["review_request_window"]
        );
    }

    #[test]
    fn art_36_the_reexamination_decision_is_due_within_30_days_and_the_window_to_ask_is_at_least_30() {
        assert_eq!(
            broken(&with("reexamination_decision = { days = 31 }")),
            ["reexamination_decision"]
        );
        assert_eq!(
            broken(&with("reexamination_decision = { working_days = 30 }")),
            ["reexamination_decision"]
        );
        assert_eq!(
            broken(&with("reexamination_request_window = { days = 15 }")),
            ["reexamination_request_window"]
        );
    }

    #[test]
    fn not_accepting_or_failing_mediation_onward_stops_the_clocks_but_failing_back_to_handling_does_not() {
        let start = datetime!(2025-03-03 10:00 +8);
        let not_accepted = [
            created(start),
            ev(
                datetime!(2025-03-05 10:00 +8),
                EventKind::NotAccepted {
                    reason: "a court case is pending".into(),
                    refer_to: "the court".into(),
                },
            ),
        ];
        check(
            CaseKind::Petition,
            Urgency::General,
            &not_accepted,
            &[(ClockName::Acceptance, datetime!(2025-03-19 00:00 +8), Some(true))],
        );
        let mediation = |route| {
            vec![
                created(start),
                accepted(datetime!(2025-03-03 11:00 +8)),
                ev(
                    datetime!(2025-03-04 10:00 +8),
                    EventKind::MediationStarted { team: "t".into() },
                ),
                ev(
                    datetime!(2025-03-05 10:00 +8),
                    EventKind::MediationFailed {
                        route,
                        reason: "no agreement".into(),
                    },
                ),
            ]
        };
        let onward = mediation(crate::case::OnwardRoute::Arbitration);
        let back = mediation(crate::case::OnwardRoute::Handling);
        // Disputes run the complex clock: 15 days, to the end of 18 March.
        let due = datetime!(2025-03-19 00:00 +8);
        check(
            CaseKind::Dispute,
            Urgency::Complex,
            &onward,
            &[(ClockName::Response, due, Some(true))],
        );
        check(
            CaseKind::Dispute,
            Urgency::Complex,
            &back,
            &[(ClockName::Response, due, None)],
        );
    }

    #[test]
    fn a_return_to_the_lower_office_restarts_acceptance_there() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            ev(
                datetime!(2025-03-04 10:00 +8),
                EventKind::Returned {
                    to_office: "330502001:gov".into(),
                    reason: "accepted below and within its limit".into(),
                },
            ),
        ];
        let all = deadlines(
            CaseKind::Petition,
            Urgency::General,
            &log,
            &ClockConfig::default(),
            &Calendar::china(),
        );
        assert_eq!(all.len(), 2);
        assert!(all[0].superseded && all[0].met_in_time().is_none());
        assert_eq!(all[1].due, datetime!(2025-03-20 00:00 +8));
    }

    #[test]
    fn a_hotline_extension_adds_calendar_days_to_an_hour_clock() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            ev(
                datetime!(2025-03-03 11:00 +8),
                EventKind::Extended {
                    days: 2,
                    reason: "parts on order".into(),
                    approver: "head".into(),
                },
            ),
        ];
        check(
            CaseKind::ServiceRequest,
            Urgency::Utilities,
            &log,
            &[(ClockName::Response, datetime!(2025-03-06 10:00 +8), None)],
        );
    }

    #[test]
    fn the_dispute_window_is_five_working_days_from_receipt() {
        // Received Thu 2025-09-25: Fri 26, Sun 28 (make-up day), Mon 29, Tue 30, then Thu 9 October.
        let log = [created(datetime!(2025-09-25 16:00 +8))];
        assert_eq!(
            dispute_closes(&log, "330502001:gov", &ClockConfig::default(), &Calendar::china()),
            Some(datetime!(2025-10-10 00:00 +8))
        );
        assert_eq!(
            dispute_closes(&log, "330502:housing", &ClockConfig::default(), &Calendar::china()),
            None
        );
    }
}
