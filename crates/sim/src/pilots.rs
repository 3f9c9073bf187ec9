//! Pilots with known effects: a policy change tried in some units from a start date, whose true effect the
//! simulator knows because it keeps every changed case's untreated log beside the treated one.
//!
//! An effect acts on the handling phase of a case — the time from acceptance (or creation) to the reply — of cases
//! created in a treated unit on or after the pilot's start: mediation-first shortens it for disputes, auxiliary grid
//! workers bring the reply of some cases forward to within a day, a harmful pilot drags it out (and so raises the
//! overdue share). Events from the reply on keep their spacing and move with it.
//!
//! Why a transform of each finished log rather than multipliers on the office queues: a queue effect changes the order
//! in which the shared random stream is drawn, so the region with the pilot and the region without it would differ in
//! every case, not only the treated ones, and the counterfactual would carry as much noise as the estimate being
//! checked. Acting on each case's own log, with a random stream of its own, leaves every untreated case identical and
//! gives each treated case its exact counterfactual ([`crate::Simulation::untreated`]): the true effect on any outcome
//! is then the outcome on the logs as simulated minus the outcome on the untreated logs, cell by cell. The price is
//! that a faster office does not free capacity for its other cases (no spill-over, which is also what the evaluation
//! assumes).

use std::collections::BTreeMap;

use domain::{CaseEvent, CaseKind, EventKind, UnitCode};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use time::{Date, Duration};

use crate::region::SimCase;

/// A pilot the simulator runs: `units` (and everything within them) follow `effect` for cases created from `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct SimPilot {
    pub name: String,
    pub units: Vec<UnitCode>,
    pub start: Date,
    pub effect: PilotEffect,
}

/// What a pilot does to the handling of a treated case.
#[derive(Debug, Clone, PartialEq)]
pub enum PilotEffect {
    /// The time from acceptance to the reply is multiplied by `factor` for cases of `kinds` (every kind when empty):
    /// 0.8 is "mediation-first shortens dispute closure by 20%", 1.5 a harmful change, 1.0 a useless one.
    Handling { kinds: Vec<CaseKind>, factor: f64 },
    /// Auxiliary grid workers: with this probability a case whose reply would come more than a day after acceptance
    /// is answered within the day instead (raising the 2-day response rate).
    QuickReply { probability: f64 },
}

impl PilotEffect {
    /// The good pilot of the demo and the calibration: auxiliary grid workers answer half of the slow cases within
    /// the day.
    pub fn auxiliary_grid_workers() -> PilotEffect {
        PilotEffect::QuickReply { probability: 0.5 }
    }

    /// Mediation first: disputes are handled 20% faster.
    pub fn mediation_first() -> PilotEffect {
        PilotEffect::Handling {
            kinds: vec![CaseKind::Dispute],
            factor: 0.8,
        }
    }

    /// A change that changes nothing.
    pub fn useless() -> PilotEffect {
        PilotEffect::Handling {
            kinds: Vec::new(),
            factor: 1.0,
        }
    }

    /// The harmful pilot: every case takes four times as long to handle, which raises the overdue share by about
    /// 0.15 — an effect eight townships can see in a few months (a milder ×1.6 moves it by about 0.06, below what
    /// they detect; see `grassroots sim calibrate`).
    pub fn harmful() -> PilotEffect {
        PilotEffect::Handling {
            kinds: Vec::new(),
            factor: 4.0,
        }
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            PilotEffect::Handling { kinds, factor } => {
                let which = if kinds.is_empty() {
                    "every case".to_string()
                } else {
                    kinds
                        .iter()
                        .map(|k| format!("{k:?}").to_lowercase())
                        .collect::<Vec<_>>()
                        .join("/")
                };
                format!("handling time of {which} × {factor}")
            }
            PilotEffect::QuickReply { probability } => {
                format!("{:.0}% of slow cases answered within a day", probability * 100.0)
            }
        }
    }
}

/// Applies `pilots` to the finished (not yet truncated) logs; returns the untreated log of every case a pilot
/// changed, by index into `cases`. A change that the domain's rules would refuse is not made.
pub(crate) fn apply(pilots: &[SimPilot], seed: u64, cases: &mut [SimCase]) -> BTreeMap<usize, Vec<CaseEvent>> {
    let mut untreated = BTreeMap::new();
    if pilots.is_empty() {
        return untreated;
    }
    for (index, case) in cases.iter_mut().enumerate() {
        let Some(created) = case.events.first().map(|e| e.at) else {
            continue;
        };
        let created_date = created.to_offset(crate::region::CST).date();
        let pilot = pilots
            .iter()
            .enumerate()
            .find(|(_, p)| created_date >= p.start && p.units.iter().any(|u| case.case.location.unit.is_within(u)));
        let Some((pilot_index, pilot)) = pilot else {
            continue;
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(seed, index as u64, pilot_index as u64));
        let changed = match &pilot.effect {
            PilotEffect::Handling { kinds, factor } => {
                if (kinds.is_empty() || kinds.contains(&case.case.kind)) && (*factor - 1.0).abs() > f64::EPSILON {
                    retime(&case.events, |span| span * factor.max(0.0))
                } else {
                    None
                }
            }
            PilotEffect::QuickReply { probability } => {
                if rng.random_bool(probability.clamp(0.0, 1.0)) {
                    let quick = Duration::minutes(rng.random_range(60..20 * 60));
                    retime(&case.events, |span| if span > Duration::DAY { quick } else { span })
                } else {
                    None
                }
            }
        };
        // A retiming the rules would refuse (an extension pushed past the end of the handling period it extends) is
        // not made: the case keeps its untreated log.
        if let Some(events) = changed
            && crate::region::rules_allow(&case.case, &events)
        {
            untreated.insert(index, std::mem::replace(&mut case.events, events));
        }
    }
    untreated
}

/// The log with its handling phase (acceptance, or creation, to the first reply) mapped through `span`; events in
/// between are scaled with it, events from the reply on shifted with it. `None` when the case has no reply yet.
fn retime(events: &[CaseEvent], span: impl Fn(Duration) -> Duration) -> Option<Vec<CaseEvent>> {
    let is_reply = |e: &CaseEvent| {
        matches!(
            e.kind,
            EventKind::Replied { .. } | EventKind::MediationSettled { .. } | EventKind::MediationFailed { .. }
        )
    };
    let reply = events.iter().position(is_reply)?;
    let begin = events[..reply]
        .iter()
        .position(|e| matches!(e.kind, EventKind::Accepted { .. }))
        .unwrap_or(0);
    let t0 = events[begin].at;
    let old = events[reply].at - t0;
    if old <= Duration::ZERO {
        return None;
    }
    let new = span(old).max(Duration::minutes(1));
    let ratio = new.as_seconds_f64() / old.as_seconds_f64();
    let shift = new - old;
    let mut out = events.to_vec();
    for (i, e) in out.iter_mut().enumerate() {
        if i > begin && i < reply {
            e.at = t0 + (e.at - t0) * ratio;
        } else if i >= reply {
            e.at += shift;
        }
    }
    Some(out)
}

/// A per-case seed (splitmix64 over the region's seed, the case and the pilot), so a pilot's draws leave the region's
/// random stream untouched.
fn mix(seed: u64, case: u64, pilot: u64) -> u64 {
    let mut z = seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ pilot.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::case::Location;
    use domain::{Channel, NewCase};
    use time::macros::datetime;

    fn ev(at: time::OffsetDateTime, kind: EventKind) -> CaseEvent {
        CaseEvent {
            at,
            actor: "office".into(),
            kind,
        }
    }

    fn case() -> SimCase {
        let office = "330502001:gov".to_string();
        let t = datetime!(2025-03-03 09:00 +8);
        SimCase {
            case: NewCase {
                kind: CaseKind::Complaint,
                channel: Channel::Hotline,
                category: "noise".into(),
                description: "noise".into(),
                location: Location {
                    lat: None,
                    lon: None,
                    unit: UnitCode::parse("330502001001").expect("code"),
                    grid: None,
                },
                reporter: None,
                co_signers: 0,
                answers: Default::default(),
            },
            events: vec![
                ev(t, EventKind::Created { office: office.clone() }),
                ev(t + Duration::hours(2), EventKind::Accepted { office: office.clone() }),
                ev(t + Duration::hours(3), EventKind::Assigned { office, staff: None }),
                ev(
                    t + Duration::days(10) + Duration::hours(2),
                    EventKind::Replied { text: "done".into() },
                ),
                ev(t + Duration::days(17) + Duration::hours(2), EventKind::Closed),
            ],
        }
    }

    fn pilot(effect: PilotEffect) -> SimPilot {
        SimPilot {
            name: "p".into(),
            units: vec![UnitCode::parse("330502001").expect("code")],
            start: time::macros::date!(2025 - 03 - 01),
            effect,
        }
    }

    #[test]
    fn a_faster_handling_shortens_the_reply_and_keeps_the_untreated_log() {
        let mut cases = vec![case()];
        let effect = PilotEffect::Handling {
            kinds: vec![],
            factor: 0.8,
        };
        let untreated = apply(&[pilot(effect)], 1, &mut cases);
        assert_eq!(untreated[&0], case().events);
        let accepted = cases[0].events[1].at;
        assert_eq!(cases[0].events[3].at - accepted, Duration::days(8));
        assert_eq!(cases[0].events[4].at - cases[0].events[3].at, Duration::days(7));
    }

    #[test]
    fn cases_outside_the_units_or_before_the_start_are_untouched() {
        let mut early = pilot(PilotEffect::QuickReply { probability: 1.0 });
        early.start = time::macros::date!(2025 - 04 - 01);
        let mut elsewhere = pilot(PilotEffect::QuickReply { probability: 1.0 });
        elsewhere.units = vec![UnitCode::parse("330502002").expect("code")];
        let mut cases = vec![case()];
        assert!(apply(&[early, elsewhere], 1, &mut cases).is_empty());
        assert_eq!(cases[0].events, case().events);
        let mut cases = vec![case()];
        apply(&[pilot(PilotEffect::QuickReply { probability: 1.0 })], 1, &mut cases);
        assert!(cases[0].events[3].at - cases[0].events[1].at <= Duration::DAY);
    }

    /// Issue 10 part 8: a harmful pilot that would push a petition's extension past the end of the handling period it
    /// extends (Art. 34) leaves the case as it was, since the rules would refuse that log.
    #[test]
    fn a_retiming_the_rules_refuse_is_not_made() {
        let office = "330502001:gov".to_string();
        let t = datetime!(2025-03-03 09:00 +8);
        let mut petition = case();
        petition.case.kind = CaseKind::Petition;
        petition.events = vec![
            ev(t, EventKind::Created { office: office.clone() }),
            ev(t + Duration::days(1), EventKind::Accepted { office }),
            ev(
                t + Duration::days(50),
                EventKind::Extended {
                    days: 30,
                    reason: "site survey".into(),
                    approver: "head".into(),
                },
            ),
            ev(t + Duration::days(70), EventKind::Replied { text: "done".into() }),
        ];
        let original = petition.events.clone();
        let mut cases = vec![petition];
        let untreated = apply(&[pilot(PilotEffect::harmful())], 1, &mut cases);
        assert!(untreated.is_empty());
        assert_eq!(cases[0].events, original);
    }
}
