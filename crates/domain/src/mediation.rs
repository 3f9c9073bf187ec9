//! Mediation outcomes (the Maple Bridge practice, 枫桥经验): how many disputes were settled at village and at township
//! level.
//!
//! A dispute goes to a mediation team (members may be respected community members who are not staff; see
//! [`crate::office::MediationTeam`]); sessions are recorded; it ends in an agreement or a failure that routes onward to
//! litigation, arbitration or administrative review (2022 Regulations Art. 31). The level at which a dispute is
//! settled is the level of the office holding the case when the agreement is recorded.

use serde::Serialize;

use crate::case::{CaseEvent, CaseKind, EventKind, OnwardRoute};
use crate::office::OfficeId;
use crate::territory::Level;

/// How one case's mediation ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MediationOutcome {
    NotMediated,
    InMediation {
        sessions: u32,
    },
    Settled {
        office: String,
        level: Option<Level>,
        sessions: u32,
    },
    Failed {
        route: OnwardRoute,
        sessions: u32,
    },
}

/// Reads the outcome of the last mediation in a log.
pub fn outcome(log: &[CaseEvent]) -> MediationOutcome {
    let mut holder = String::new();
    let mut result = MediationOutcome::NotMediated;
    let mut sessions = 0;
    for e in log {
        match &e.kind {
            EventKind::Created { office } | EventKind::Accepted { office } | EventKind::Assigned { office, .. } => {
                holder = office.clone()
            }
            EventKind::Rerouted { to_office, .. } | EventKind::Returned { to_office, .. } => holder = to_office.clone(),
            EventKind::MediationStarted { .. } => {
                sessions = 0;
                result = MediationOutcome::InMediation { sessions };
            }
            EventKind::MediationSession { .. } => {
                sessions += 1;
                result = MediationOutcome::InMediation { sessions };
            }
            EventKind::MediationSettled { .. } => {
                result = MediationOutcome::Settled {
                    office: holder.clone(),
                    level: OfficeId::parse(&holder).ok().map(|o| o.level()),
                    sessions,
                }
            }
            EventKind::MediationFailed { route, .. } => {
                result = MediationOutcome::Failed {
                    route: *route,
                    sessions,
                }
            }
            _ => {}
        }
    }
    result
}

/// Mediation counts over a set of disputes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MediationTally {
    pub disputes: u32,
    pub mediated: u32,
    pub in_mediation: u32,
    pub settled_at_village: u32,
    pub settled_at_township: u32,
    pub settled_above: u32,
    pub failed: u32,
    pub failed_to_litigation: u32,
    pub failed_to_arbitration: u32,
    pub failed_to_review: u32,
    pub sessions: u32,
}

impl MediationTally {
    /// Adds every dispute among `cases` (other kinds are ignored).
    pub fn of<'a>(cases: impl IntoIterator<Item = (CaseKind, &'a [CaseEvent])>) -> MediationTally {
        let mut t = MediationTally::default();
        for (kind, log) in cases {
            if kind == CaseKind::Dispute {
                t.add(log);
            }
        }
        t
    }

    pub fn add(&mut self, log: &[CaseEvent]) {
        self.disputes += 1;
        let o = outcome(log);
        if o != MediationOutcome::NotMediated {
            self.mediated += 1;
        }
        match o {
            MediationOutcome::NotMediated => {}
            MediationOutcome::InMediation { sessions } => {
                self.in_mediation += 1;
                self.sessions += sessions;
            }
            MediationOutcome::Settled { level, sessions, .. } => {
                self.sessions += sessions;
                match level {
                    Some(Level::Village) => self.settled_at_village += 1,
                    Some(Level::Township) => self.settled_at_township += 1,
                    _ => self.settled_above += 1,
                }
            }
            MediationOutcome::Failed { route, sessions } => {
                self.sessions += sessions;
                self.failed += 1;
                match route {
                    OnwardRoute::Litigation => self.failed_to_litigation += 1,
                    OnwardRoute::Arbitration => self.failed_to_arbitration += 1,
                    OnwardRoute::AdministrativeReview => self.failed_to_review += 1,
                    OnwardRoute::Handling => {}
                }
            }
        }
    }

    fn share(&self, n: u32) -> Option<f64> {
        (self.disputes > 0).then(|| f64::from(n) / f64::from(self.disputes))
    }

    /// Share of all disputes settled by mediation at village level ("small matters do not leave the village").
    pub fn village_share(&self) -> Option<f64> {
        self.share(self.settled_at_village)
    }

    /// Share of all disputes settled by mediation at township level.
    pub fn township_share(&self) -> Option<f64> {
        self.share(self.settled_at_township)
    }

    /// Share settled at village or township level: the disputes that did not leave the township.
    pub fn local_share(&self) -> Option<f64> {
        self.share(self.settled_at_village + self.settled_at_township)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::tests::ev;
    use time::macros::datetime;

    fn dispute(office: &str, end: Option<EventKind>) -> Vec<CaseEvent> {
        let mut log = vec![
            ev(
                datetime!(2025-03-03 10:00 +8),
                EventKind::Created { office: office.into() },
            ),
            ev(
                datetime!(2025-03-03 11:00 +8),
                EventKind::Accepted { office: office.into() },
            ),
            ev(
                datetime!(2025-03-04 10:00 +8),
                EventKind::MediationStarted { team: "t1".into() },
            ),
            ev(
                datetime!(2025-03-05 10:00 +8),
                EventKind::MediationSession {
                    notes: "both sides heard".into(),
                    attendees: vec!["Elder Shen".into()],
                },
            ),
        ];
        if let Some(end) = end {
            log.push(ev(datetime!(2025-03-06 10:00 +8), end));
        }
        log
    }

    fn settled() -> Option<EventKind> {
        Some(EventKind::MediationSettled {
            agreement: "shared wall rebuilt".into(),
            parties: vec!["Shen".into(), "Lu".into()],
        })
    }

    #[test]
    fn settlements_count_at_the_level_of_the_office_holding_the_dispute() {
        let village = dispute("330502001001:committee", settled());
        assert_eq!(
            outcome(&village),
            MediationOutcome::Settled {
                office: "330502001001:committee".into(),
                level: Some(Level::Village),
                sessions: 1
            }
        );
        let township = dispute("330502001:gov", settled());
        let failed = dispute(
            "330502001:gov",
            Some(EventKind::MediationFailed {
                route: OnwardRoute::Litigation,
                reason: "title contested".into(),
            }),
        );
        let open = dispute("330502001001:committee", None);
        let complaint = dispute("330502001001:committee", settled());
        let tally = MediationTally::of([
            (CaseKind::Dispute, village.as_slice()),
            (CaseKind::Dispute, township.as_slice()),
            (CaseKind::Dispute, failed.as_slice()),
            (CaseKind::Dispute, open.as_slice()),
            (CaseKind::Dispute, &village[..2]),
            (CaseKind::Complaint, complaint.as_slice()),
        ]);
        assert_eq!(tally.disputes, 5);
        assert_eq!(tally.mediated, 4);
        assert_eq!(
            (tally.settled_at_village, tally.settled_at_township, tally.failed),
            (1, 1, 1)
        );
        assert_eq!(tally.failed_to_litigation, 1);
        assert_eq!(tally.in_mediation, 1);
        assert_eq!(tally.village_share(), Some(0.2));
        assert_eq!(tally.township_share(), Some(0.2));
        assert_eq!(tally.local_share(), Some(0.4));
        assert_eq!(MediationTally::default().village_share(), None);
    }
}
