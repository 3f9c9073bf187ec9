//! Township whistles, departments report (街乡吹哨、部门报到): measuring both sides of a summons.
//!
//! Beijing's 2018 reform lets a township that cannot resolve a matter alone summon county departments with a deadline;
//! each summoned department must report — acknowledge and act — by then. The rules for recording a whistle and a
//! report are in [`crate::rules::check`]; this module reads the outcome from the logs: did each department report in
//! time, and how did the township respond (how soon it whistled, and whether the case was answered by the deadline).

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::case::{CaseEvent, CaseId, EventKind};
use crate::clock::last_reply_at;

/// One summoned department on one whistle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summons {
    pub case: CaseId,
    pub township: String,
    pub office: String,
    #[serde(with = "time::serde::rfc3339")]
    pub whistled_at: OffsetDateTime,
    pub due: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub reported_at: Option<OffsetDateTime>,
}

impl Summons {
    /// `Some(true)` when the department reported by the deadline, `Some(false)` when it reported late or the deadline
    /// passed before `now` without a report, `None` while it still has time.
    pub fn on_time(&self, now: OffsetDateTime) -> Option<bool> {
        match self.reported_at {
            Some(at) => Some(at.unix_timestamp() <= self.due),
            None if now.unix_timestamp() > self.due => Some(false),
            None => None,
        }
    }
}

/// The township's side of a whistle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownshipResponse {
    pub case: CaseId,
    pub township: String,
    /// Hours from the case's creation to the first whistle.
    pub hours_to_whistle: f64,
    /// Whether the case was answered by the last whistle's deadline (`None` while that deadline is ahead).
    pub answered_by_due: Option<bool>,
}

/// The summonses of one case, in order, pairing each report with the earliest open summons of its office.
pub fn summonses(case: CaseId, log: &[CaseEvent]) -> Vec<Summons> {
    let mut out: Vec<Summons> = Vec::new();
    let mut holder = String::new();
    for e in log {
        match &e.kind {
            EventKind::Created { office } | EventKind::Accepted { office } | EventKind::Assigned { office, .. } => {
                holder = office.clone()
            }
            EventKind::Rerouted { to_office, .. } | EventKind::Returned { to_office, .. } => holder = to_office.clone(),
            EventKind::Whistle { offices, due, .. } => out.extend(offices.iter().map(|office| Summons {
                case,
                township: holder.clone(),
                office: office.clone(),
                whistled_at: e.at,
                due: *due,
                reported_at: None,
            })),
            EventKind::DepartmentReported { office, .. } => {
                if let Some(s) = out.iter_mut().find(|s| &s.office == office && s.reported_at.is_none()) {
                    s.reported_at = Some(e.at);
                }
            }
            _ => {}
        }
    }
    out
}

/// How the township responded on a whistled case; `None` when the case was never whistled.
pub fn township_response(case: CaseId, log: &[CaseEvent], now: OffsetDateTime) -> Option<TownshipResponse> {
    let created = log.first()?.at;
    let all = summonses(case, log);
    let first = all.first()?;
    let last_due = all.iter().map(|s| s.due).max()?;
    let answered = last_reply_at(log).filter(|r| *r >= first.whistled_at);
    let answered_by_due = match answered {
        Some(at) => Some(at.unix_timestamp() <= last_due),
        None if now.unix_timestamp() > last_due => Some(false),
        None => None,
    };
    Some(TownshipResponse {
        case,
        township: first.township.clone(),
        hours_to_whistle: (first.whistled_at - created).as_seconds_f64() / 3600.0,
        answered_by_due,
    })
}

/// The on-time record of one office (a department answering summonses, or a township answering its cases).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OnTimeRecord {
    pub office: String,
    pub total: u32,
    pub on_time: u32,
    pub late: u32,
    pub pending: u32,
}

impl OnTimeRecord {
    /// On-time share of the decided summonses; `None` when none is decided yet.
    pub fn rate(&self) -> Option<f64> {
        let decided = self.on_time + self.late;
        (decided > 0).then(|| f64::from(self.on_time) / f64::from(decided))
    }
}

/// Per department: how many summonses, how many answered in time. Sorted by office.
pub fn department_records(all: &[Summons], now: OffsetDateTime) -> Vec<OnTimeRecord> {
    let mut by: BTreeMap<&str, OnTimeRecord> = BTreeMap::new();
    for s in all {
        let r = by.entry(s.office.as_str()).or_insert_with(|| OnTimeRecord {
            office: s.office.clone(),
            ..OnTimeRecord::default()
        });
        r.total += 1;
        match s.on_time(now) {
            Some(true) => r.on_time += 1,
            Some(false) => r.late += 1,
            None => r.pending += 1,
        }
    }
    by.into_values().collect()
}

/// Per township: how many whistled cases were answered by the whistle's deadline. Sorted by office.
pub fn township_records(all: &[TownshipResponse]) -> Vec<OnTimeRecord> {
    let mut by: BTreeMap<&str, OnTimeRecord> = BTreeMap::new();
    for t in all {
        let r = by.entry(t.township.as_str()).or_insert_with(|| OnTimeRecord {
            office: t.township.clone(),
            ..OnTimeRecord::default()
        });
        r.total += 1;
        match t.answered_by_due {
            Some(true) => r.on_time += 1,
            Some(false) => r.late += 1,
            None => r.pending += 1,
        }
    }
    by.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::tests::{accepted, created, ev, replied};
    use time::macros::datetime;

    fn whistled_case() -> Vec<CaseEvent> {
        vec![
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-03 11:00 +8)),
            ev(
                datetime!(2025-03-04 10:00 +8),
                EventKind::Whistle {
                    offices: vec!["330502:urban_management".into(), "330502:housing".into()],
                    due: datetime!(2025-03-06 10:00 +8).unix_timestamp(),
                    reason: "illegal construction on a shared courtyard".into(),
                },
            ),
            ev(
                datetime!(2025-03-05 09:00 +8),
                EventKind::DepartmentReported {
                    office: "330502:urban_management".into(),
                    text: "inspected".into(),
                },
            ),
        ]
    }

    #[test]
    fn each_summoned_department_is_measured_against_the_whistle_deadline() {
        let mut log = whistled_case();
        let before_due = datetime!(2025-03-05 12:00 +8);
        let all = summonses(1, &log);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].township, "330502001:gov");
        assert_eq!(all[0].on_time(before_due), Some(true));
        assert_eq!(all[1].on_time(before_due), None);
        // Housing misses the deadline, then reports late.
        let after_due = datetime!(2025-03-06 10:01 +8);
        assert_eq!(all[1].on_time(after_due), Some(false));
        log.push(ev(
            datetime!(2025-03-07 09:00 +8),
            EventKind::DepartmentReported {
                office: "330502:housing".into(),
                text: "late".into(),
            },
        ));
        let records = department_records(&summonses(1, &log), after_due);
        let got: Vec<_> = records
            .iter()
            .map(|r| (r.office.as_str(), r.on_time, r.late, r.rate()))
            .collect();
        assert_eq!(
            got,
            [
                ("330502:housing", 0, 1, Some(0.0)),
                ("330502:urban_management", 1, 0, Some(1.0))
            ]
        );
    }

    #[test]
    fn the_township_is_measured_on_how_soon_it_whistled_and_whether_the_case_was_answered_by_the_deadline() {
        let mut log = whistled_case();
        let pending = township_response(1, &log, datetime!(2025-03-05 12:00 +8)).expect("whistled");
        assert_eq!(pending.hours_to_whistle, 24.0);
        assert_eq!(pending.answered_by_due, None);
        assert_eq!(
            township_response(1, &log, datetime!(2025-03-07 12:00 +8)).map(|t| t.answered_by_due),
            Some(Some(false))
        );
        log.push(replied(datetime!(2025-03-06 09:00 +8)));
        let answered = township_response(1, &log, datetime!(2025-03-07 12:00 +8)).expect("whistled");
        assert_eq!(answered.answered_by_due, Some(true));
        let records = township_records(&[answered]);
        assert_eq!(records[0].rate(), Some(1.0));
        assert_eq!(township_response(2, &log[..2], datetime!(2025-03-07 12:00 +8)), None);
    }
}
