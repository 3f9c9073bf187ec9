//! The workflow paths of the simulation beyond reply and rating: the escalation guard's morning run (warning and
//! overdue alerts, call-backs to residents), one extension of late petitions (2022 Regulations Art. 34), township
//! whistles with county departments reporting in time or late, and dispatches that the receiving township disputes
//! and the dispatcher re-routes (Art. 23 §3). Every proposal goes through `Live::push`, so the domain's rules decide.

use std::collections::HashMap;
use std::sync::LazyLock;

use domain::calendar::Calendar;
use domain::clock::{self, ClockConfig};
use domain::escalation::{self, CaseView};
use domain::office::{Directory, OfficeId};
use domain::{CaseKind, CaseState, EventKind, Level, UnitCode};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use time::{Date, Duration, OffsetDateTime};

use super::{Live, at};

/// The clocks and calendar the simulated region runs: the statutory defaults and China's holidays.
pub(super) static CLOCKS: LazyLock<ClockConfig> = LazyLock::new(ClockConfig::default);
pub(super) static CALENDAR: LazyLock<Calendar> = LazyLock::new(Calendar::china);
/// Alerts name offices rather than people in the simulation (no staff roster is generated for offices).
static DIRECTORY: LazyLock<Directory> = LazyLock::new(Directory::default);

/// A county department summoned by a whistle, reporting on `day`.
pub(super) struct PendingReport {
    idx: usize,
    office: String,
    day: Date,
}

/// The guard's memory between mornings: the cases still open, when each next needs a look, and the reports still to
/// come. Watching only open cases keeps a year of a prefecture fast: a closed case is never reopened later (a
/// reopening happens at the rating, while the case is still replied and open).
#[derive(Default)]
pub(super) struct Guard {
    pending: Vec<PendingReport>,
    /// When each watched case next needs a look, and the length of its log when last looked at: a case whose log
    /// grew (a reply, a reopening) is looked at again at once.
    next_look: HashMap<usize, (OffsetDateTime, usize)>,
    watch: Vec<usize>,
    seen: usize,
}

/// Whether a county matter (routed to `office`) is first dispatched to the township by mistake (5 % of them); the
/// township's office.
pub(super) fn misroute(rng: &mut Xoshiro256PlusPlus, office: &str, village: &UnitCode) -> Option<String> {
    let county_matter = OfficeId::parse(office).is_ok_and(|o| o.level() == Level::County);
    if county_matter && rng.random_bool(0.05) {
        let township = village.chain().into_iter().find(|c| c.level() == Level::Township)?;
        Some(format!("{township}:gov"))
    } else {
        None
    }
}

fn is_township_office(office: &str) -> bool {
    OfficeId::parse(office).is_ok_and(|o| o.level() == Level::Township)
}

/// The morning of `date`: departments report, then the guard looks at every open case whose next look is due.
pub(super) fn morning(rng: &mut Xoshiro256PlusPlus, live: &mut [Live], guard: &mut Guard, date: Date, working: bool) {
    let eight = at(date, 8, 0);
    guard.pending.retain(|p| {
        if p.day > date {
            return true;
        }
        let case = &mut live[p.idx];
        let when = at(date, 10, 0).max(case.events.last().map_or(eight, |e| e.at + Duration::minutes(1)));
        case.push(
            when,
            &p.office,
            EventKind::DepartmentReported {
                office: p.office.clone(),
                text: "inspected on site and acted".into(),
            },
        );
        false
    });
    guard.watch.extend(guard.seen..live.len());
    guard.seen = live.len();
    guard.watch.retain(|idx| live[*idx].status.state.is_open());
    for k in 0..guard.watch.len() {
        let idx = guard.watch[k];
        let case = &mut live[idx];
        if guard
            .next_look
            .get(&idx)
            .is_some_and(|(t, len)| *t > eight && *len == case.events.len())
        {
            continue;
        }
        let first_look = !guard.next_look.contains_key(&idx);
        let now = eight.max(case.events.last().map_or(eight, |e| e.at + Duration::minutes(1)));
        let kind = case.case.kind;
        let urgency = CLOCKS.urgency(kind, &case.case.category);
        let view = CaseView {
            case: idx as i64,
            kind,
            urgency,
            category: &case.case.category,
            co_signers: case.case.co_signers,
            repeats: 0,
            log: &case.events,
            clocks: &CLOCKS,
        };
        let alerts = escalation::alerts_due(&[view], now, &CALENDAR, &DIRECTORY);
        for alert in alerts {
            let overdue = alert.overdue;
            case.push(now, "escalation-guard", alert.event(now, "escalation-guard").kind);
            // The hotline calls the resident back when a case is late, most of the time.
            if overdue && case.case.reporter.is_some() && rng.random_bool(0.7) {
                case.push(
                    now + Duration::minutes(30),
                    "hotline",
                    EventKind::Callback {
                        text: "the case is late; told the resident why and when to expect a reply".into(),
                        rating: None,
                    },
                );
            }
        }
        let open_in_hand = matches!(case.status.state, CaseState::Accepted | CaseState::InProgress);
        // A petition is extended once by 30 days (Art. 34: "情况复杂的"): a complex one, now and then, as soon as it
        // is in hand, any other still unanswered 20 days after acceptance; a second request is proposed now and then
        // and refused by the rules.
        let complex = urgency == domain::clock::Urgency::Complex && first_look && rng.random_bool(0.3);
        if kind == CaseKind::Petition
            && open_in_hand
            && (complex || case.status.accepted_at.is_some_and(|a| now >= a + Duration::days(20)))
        {
            let office = case.status.office.clone();
            let extend = |days| EventKind::Extended {
                days,
                reason: "the facts need a further site survey".into(),
                approver: format!("{office}/head"),
            };
            if case.status.extensions == 0 {
                case.push(now, &office, extend(30));
            } else if rng.random_bool(0.05) {
                case.push(now, &office, extend(10));
            }
        }
        // On a working day, a township that cannot settle a matter alone summons county departments with a deadline
        // of two days (街乡吹哨、部门报到); each reports one to three days later (at 10:00), so about a third are late.
        if first_look
            && working
            && open_in_hand
            && matches!(kind, CaseKind::Complaint | CaseKind::ServiceRequest)
            && is_township_office(&case.status.office)
            && rng.random_bool(0.15)
        {
            let county = case.status.office.get(..6).unwrap_or_default().to_string();
            let mut offices = vec![format!("{county}:urban_management")];
            if rng.random_bool(0.4) {
                offices.push(format!("{county}:housing"));
            }
            let due = now + Duration::days(2);
            let pushed = case.push(
                now,
                &case.status.office.clone(),
                EventKind::Whistle {
                    offices: offices.clone(),
                    due: due.unix_timestamp(),
                    reason: "needs enforcement powers the township lacks".into(),
                },
            );
            if pushed {
                for office in offices {
                    let day = date + Duration::days(rng.random_range(1..4));
                    guard.pending.push(PendingReport { idx, office, day });
                }
            }
        }
        // Look again when the next warning or due instant comes, or when the log changes.
        let next = clock::deadlines(kind, urgency, &case.events, &CLOCKS, &CALENDAR)
            .into_iter()
            .filter(|d| d.is_running())
            .flat_map(|d| [d.warn_from(CLOCKS.warning_share), d.due + Duration::minutes(1)])
            .chain(case.status.accepted_at.map(|a| a + Duration::days(20)))
            .filter(|t| *t > now)
            .min()
            .unwrap_or(now + Duration::days(366));
        guard.next_look.insert(idx, (next, case.events.len()));
    }
}

#[cfg(test)]
mod tests {
    use domain::CaseStatus;
    use time::macros::date;

    use super::super::tests::territory;
    use super::super::{SimConfig, simulate};
    use super::*;

    #[test]
    fn the_simulation_exercises_every_workflow_path_through_the_rules() {
        let config = SimConfig {
            root: UnitCode::parse("3305").expect("code"),
            start: date!(2025 - 01 - 01),
            months: 6,
            seed: 3,
            residents: 80_000,
            rate_scale: 1.0,
            pilots: Vec::new(),
        };
        let sim = simulate(&territory(), &[], &config);
        let count = |pred: &dyn Fn(&EventKind) -> bool| {
            sim.cases
                .iter()
                .filter(|c| c.events.iter().any(|e| pred(&e.kind)))
                .count()
        };
        let paths = [
            ("rerouted", count(&|k| matches!(k, EventKind::Rerouted { .. }))),
            ("whistle", count(&|k| matches!(k, EventKind::Whistle { .. }))),
            (
                "department_reported",
                count(&|k| matches!(k, EventKind::DepartmentReported { .. })),
            ),
            (
                "overdue alert",
                count(&|k| matches!(k, EventKind::DeadlineAlert { overdue: true, .. })),
            ),
            (
                "warning",
                count(&|k| matches!(k, EventKind::DeadlineAlert { overdue: false, .. })),
            ),
            (
                "callback",
                count(&|k| matches!(k, EventKind::Callback { rating: None, .. })),
            ),
            (
                "rating call-back",
                count(&|k| matches!(k, EventKind::Callback { rating: Some(_), .. })),
            ),
            ("extended", count(&|k| matches!(k, EventKind::Extended { .. }))),
            (
                "mediation_settled",
                count(&|k| matches!(k, EventKind::MediationSettled { .. })),
            ),
            ("reopened", count(&|k| matches!(k, EventKind::Reopened { .. }))),
            ("review_requested", count(&|k| matches!(k, EventKind::ReviewRequested))),
        ];
        for (path, n) in paths {
            assert!(n > 0, "no case took the {path} path: {paths:?}");
        }
        // Every log replays and no petition was extended twice (Art. 34), nor reopened (Art. 35).
        for (i, c) in sim.cases.iter().enumerate() {
            let status = CaseStatus::replay(i as i64, &c.events).expect("replays");
            assert!(status.extensions <= 1);
            if c.case.kind == CaseKind::Petition {
                assert_eq!(status.reopened, 0);
            }
            // Only the resident who filed rated; a call-back recorded the answer of one who filed by phone, letter,
            // visit or Open311, after a reply, once per reply.
            let mut answers_since_reply = 0;
            for (k, e) in c.events.iter().enumerate() {
                match &e.kind {
                    EventKind::Rated { by, .. } => {
                        assert_eq!(by.as_str(), domain::RESIDENT_ACTOR, "a rating names no resident");
                        answers_since_reply += 1;
                    }
                    EventKind::Callback { rating: Some(_), .. } => {
                        assert!(
                            matches!(
                                c.case.channel,
                                domain::Channel::Hotline
                                    | domain::Channel::Letter
                                    | domain::Channel::Visit
                                    | domain::Channel::Open311
                            ),
                            "{:?}",
                            c.case.channel
                        );
                        let state = CaseStatus::replay(i as i64, &c.events[..k]).expect("replays").state;
                        assert!(matches!(state, CaseState::Replied | CaseState::Closed), "{state:?}");
                        answers_since_reply += 1;
                    }
                    EventKind::Replied { .. } | EventKind::MediationSettled { .. } => answers_since_reply = 0,
                    _ => {}
                }
                assert!(
                    answers_since_reply <= 1,
                    "case {i}: two answers on one reply: {:#?}",
                    c.events
                );
            }
        }
    }
}
