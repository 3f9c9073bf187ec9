//! Cases (requests, complaints, petitions, disputes …) as append-only event logs, and the pure state machine that
//! derives a case's current state from its log.
//!
//! A case is never updated in place: every action appends a [`CaseEvent`], and [`CaseStatus::replay`] folds the log.
//! An illegal transition is rejected with an error naming the case, the state and the event, before anything is stored.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::territory::UnitCode;

/// What a resident brings. The kind decides which clocks run (see `clock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Enquiry,
    ServiceRequest,
    Complaint,
    Report,
    Suggestion,
    /// Letters and visits (信访), governed by the 2022 Regulations on Letters and Visits Work.
    Petition,
    Dispute,
    /// Found by a grid worker on patrol.
    PatrolEvent,
}

impl CaseKind {
    pub const ALL: [CaseKind; 8] = [
        CaseKind::Enquiry,
        CaseKind::ServiceRequest,
        CaseKind::Complaint,
        CaseKind::Report,
        CaseKind::Suggestion,
        CaseKind::Petition,
        CaseKind::Dispute,
        CaseKind::PatrolEvent,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Api,
    Open311,
    Hotline,
    Letter,
    Visit,
    Patrol,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Web,
        Channel::Api,
        Channel::Open311,
        Channel::Hotline,
        Channel::Letter,
        Channel::Visit,
        Channel::Patrol,
    ];
}

macro_rules! snake_names {
    ($ty:ty) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                let index = Self::ALL.iter().position(|v| *v == self);
                index.map(|i| Self::NAMES[i]).unwrap_or("unknown")
            }
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL
                    .into_iter()
                    .zip(Self::NAMES)
                    .find(|(_, n)| *n == s)
                    .map(|(v, _)| v)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

impl CaseKind {
    const NAMES: [&'static str; 8] = [
        "enquiry",
        "service_request",
        "complaint",
        "report",
        "suggestion",
        "petition",
        "dispute",
        "patrol_event",
    ];
}
impl Channel {
    const NAMES: [&'static str; 7] = ["web", "api", "open311", "hotline", "letter", "visit", "patrol"];
}
snake_names!(CaseKind);
snake_names!(Channel);

pub type CaseId = i64;

/// The longest free text a case or an action takes (a description, a reply, a reason): longer input is refused
/// naming the limit, never truncated.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The longest name or identifier an action takes (a staff id, an office id, a team, a channel).
pub const MAX_NAME_CHARS: usize = 100;
/// The most entries a list in an action takes (parties to a settlement, offices summoned).
pub const MAX_LIST_ENTRIES: usize = 100;
/// The longest a whistle gives summoned departments to report, in working days.
pub const MAX_WHISTLE_WORKING_DAYS: u32 = 30;

/// The actor recorded on the events a resident authors on their own case. Events never carry a resident's account
/// name or contact: only the resident who filed acts as a resident on a case, so one opaque name identifies them to the
/// rules and to nobody else. Account names cannot contain parentheses, so no staff account can pass for it.
pub const RESIDENT_ACTOR: &str = "(resident)";
/// The opaque actor of a co-signer's event: another resident who added their voice to the case ("add my voice").
pub const CO_SIGNER_ACTOR: &str = "(co-signer)";

/// A location: a point, a unit, or both (a point is resolved to its unit by the grid index at intake).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub unit: UnitCode,
    pub grid: Option<String>,
}

/// The reporter's identity, stored apart from the case so that it can be shielded from the staff of the unit the
/// case complains about (2022 Regulations Art. 47 forbid disclosing a petitioner's identity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reporter {
    pub name: String,
    pub contact: String,
}

/// Everything known about a case when it is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCase {
    pub kind: CaseKind,
    pub channel: Channel,
    pub category: String,
    pub description: String,
    pub location: Location,
    pub reporter: Option<Reporter>,
    /// Number of co-signers (a joint petition); 0 for one person.
    #[serde(default)]
    pub co_signers: u32,
    /// The answers to the category's questions, by code, checked at intake ([`crate::questions`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub answers: std::collections::BTreeMap<String, String>,
}

/// A resident's rating of a reply (the three answers of Beijing's 12345 assessment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

/// Where a failed mediation goes next (2022 Regulations Art. 31: matters for litigation, arbitration or
/// administrative review go through those channels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnwardRoute {
    Litigation,
    Arbitration,
    AdministrativeReview,
    Handling,
}

/// One entry of a case's log. The variants are the verbs of the workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        office: String,
    },
    /// An enquiry answered on the spot at intake.
    AnsweredAtIntake {
        answer: String,
    },
    Accepted {
        office: String,
    },
    /// The office does not accept the matter (Art. 23): it says why and which channel the resident should use instead
    /// (a court, arbitration, administrative review, another body).
    NotAccepted {
        reason: String,
        #[serde(default)]
        refer_to: String,
    },
    /// The resident withdraws a case filed by mistake, before it is answered.
    Withdrawn {
        reason: String,
    },
    Assigned {
        office: String,
        staff: Option<String>,
    },
    /// The receiving office disputes a wrong dispatch (Art. 23 §3) and the dispatcher re-routes it.
    Rerouted {
        from_office: String,
        to_office: String,
        reason: String,
    },
    /// A higher office returns a matter that a lower office accepted and is still handling in time (Art. 19).
    Returned {
        to_office: String,
        reason: String,
    },
    Extended {
        days: u32,
        reason: String,
        approver: String,
    },
    MediationStarted {
        team: String,
    },
    MediationSession {
        notes: String,
        attendees: Vec<String>,
    },
    MediationSettled {
        agreement: String,
        parties: Vec<String>,
    },
    MediationFailed {
        route: OnwardRoute,
        reason: String,
    },
    Replied {
        text: String,
    },
    Rated {
        rating: Rating,
        by: String,
    },
    Reopened {
        reason: String,
    },
    Closed,
    ReviewRequested,
    ReviewDecided {
        text: String,
    },
    ReexaminationRequested,
    ReexaminationDecided {
        text: String,
    },
    /// A deadline is near (`overdue == false`) or has passed; recorded by the escalation guard.
    DeadlineAlert {
        clock: String,
        due: i64,
        overdue: bool,
        notified: Vec<String>,
    },
    /// A township summons county departments (街乡吹哨、部门报到).
    Whistle {
        offices: Vec<String>,
        due: i64,
        reason: String,
    },
    /// A summoned department reports (acknowledges and acts).
    DepartmentReported {
        office: String,
        text: String,
    },
    /// Staff call the resident back: after a deadline passed, to say why and when, or after the reply, to ask whether
    /// they are satisfied (the 12345 hotline's 回访), in which case `rating` records the resident's answer. This is how
    /// residents who filed by phone, letter, visit or a third-party app rate: they never sign in.
    Callback {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rating: Option<Rating>,
    },
    Note {
        text: String,
    },
    /// Another resident adds their voice to an open public case (FixMyStreet's "me too"): one more co-signer. `voice`
    /// is a one-way digest of the case and the account, so one account counts once and the log never names it.
    CoSigned {
        voice: String,
    },
    /// A peer inspector drawn from an adjoining township audited the closed case (issue 14): what they found.
    Inspected {
        finding: crate::inspection::Finding,
        note: String,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::AnsweredAtIntake { .. } => "answered_at_intake",
            EventKind::Accepted { .. } => "accepted",
            EventKind::NotAccepted { .. } => "not_accepted",
            EventKind::Withdrawn { .. } => "withdrawn",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Rerouted { .. } => "rerouted",
            EventKind::Returned { .. } => "returned",
            EventKind::Extended { .. } => "extended",
            EventKind::MediationStarted { .. } => "mediation_started",
            EventKind::MediationSession { .. } => "mediation_session",
            EventKind::MediationSettled { .. } => "mediation_settled",
            EventKind::MediationFailed { .. } => "mediation_failed",
            EventKind::Replied { .. } => "replied",
            EventKind::Rated { .. } => "rated",
            EventKind::Reopened { .. } => "reopened",
            EventKind::Closed => "closed",
            EventKind::ReviewRequested => "review_requested",
            EventKind::ReviewDecided { .. } => "review_decided",
            EventKind::ReexaminationRequested => "reexamination_requested",
            EventKind::ReexaminationDecided { .. } => "reexamination_decided",
            EventKind::DeadlineAlert { .. } => "deadline_alert",
            EventKind::Whistle { .. } => "whistle",
            EventKind::DepartmentReported { .. } => "department_reported",
            EventKind::Callback { .. } => "callback",
            EventKind::Note { .. } => "note",
            EventKind::CoSigned { .. } => "co_signed",
            EventKind::Inspected { .. } => "inspected",
        }
    }
}

/// An event with its actor and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Submitted,
    Accepted,
    InProgress,
    InMediation,
    Replied,
    Closed,
    NotAccepted,
    UnderReview,
    UnderReexamination,
    /// After re-examination the matter is final: the same facts are not accepted again (Art. 36).
    Final,
    /// Withdrawn by the resident who filed it.
    Withdrawn,
}

impl CaseState {
    /// Every state, in the order of the lifecycle: where a list of states is needed (an SQL filter), it is derived
    /// from this and [`CaseState::is_open`], never written out again.
    pub const ALL: [CaseState; 11] = [
        CaseState::Submitted,
        CaseState::Accepted,
        CaseState::InProgress,
        CaseState::InMediation,
        CaseState::Replied,
        CaseState::Closed,
        CaseState::NotAccepted,
        CaseState::UnderReview,
        CaseState::UnderReexamination,
        CaseState::Final,
        CaseState::Withdrawn,
    ];

    /// The one definition of an open case: every list of closed states derives from it.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseState::Closed | CaseState::NotAccepted | CaseState::Final | CaseState::Withdrawn
        )
    }

    /// The state named `name` ([`CaseState::as_str`]), e.g. a stored projection's; `None` for any other text.
    pub fn parse(name: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.as_str() == name)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Submitted => "submitted",
            CaseState::Accepted => "accepted",
            CaseState::InProgress => "in_progress",
            CaseState::InMediation => "in_mediation",
            CaseState::Replied => "replied",
            CaseState::Closed => "closed",
            CaseState::NotAccepted => "not_accepted",
            CaseState::UnderReview => "under_review",
            CaseState::UnderReexamination => "under_reexamination",
            CaseState::Final => "final",
            CaseState::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TransitionError {
    #[error("case {case}: event `{event}` is not allowed in state `{state}`")]
    Illegal {
        case: CaseId,
        state: CaseState,
        event: &'static str,
    },
    #[error("case {case}: the log must start with `created`")]
    NotCreated { case: CaseId },
    #[error("case {case}: event `{event}` at {at} is earlier than the event before it")]
    OutOfOrder {
        case: CaseId,
        event: &'static str,
        at: OffsetDateTime,
    },
}

impl TransitionError {
    /// The refusal as a message each interface words in its language, the state and the event named.
    pub fn said(&self) -> crate::said::Said {
        use crate::said::name;
        match self {
            TransitionError::Illegal { case, state, event } => crate::said!(
                "transition-illegal",
                "case {case}: event `{event}` is not allowed in state `{state}`",
                case = *case,
                event = name("event", *event),
                state = name("state", state.as_str()),
            ),
            TransitionError::NotCreated { case } => crate::said!(
                "transition-not-created",
                "case {case}: the log must start with `created`",
                case = *case,
            ),
            TransitionError::OutOfOrder { case, event, at } => crate::said!(
                "transition-out-of-order",
                "case {case}: event `{event}` at {at} is earlier than the event before it",
                case = *case,
                event = name("event", *event),
                at = at.to_string(),
            ),
        }
    }
}

/// The state of a case derived from its log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseStatus {
    pub case: CaseId,
    pub state: CaseState,
    /// The office that holds the case now.
    pub office: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_reply_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub replied_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub extended_days: u32,
    pub extensions: u32,
    pub rating: Option<Rating>,
    pub reopened: u32,
    /// Residents who added their voice after filing (beyond the co-signers counted at intake).
    #[serde(default)]
    pub co_signed: u32,
    /// The voices of [`EventKind::CoSigned`], so one account counts once; digests, never shown.
    #[serde(skip)]
    pub voices: Vec<String>,
    pub settled_by_mediation: bool,
    pub reviewed: bool,
    pub reexamined: bool,
    pub overdue_alerts: u32,
    pub whistled_offices: Vec<String>,
    pub reported_offices: Vec<String>,
}

impl CaseStatus {
    /// Folds a whole log. The first event must be `created`.
    pub fn replay(case: CaseId, events: &[CaseEvent]) -> Result<CaseStatus, TransitionError> {
        let (first, rest) = events.split_first().ok_or(TransitionError::NotCreated { case })?;
        let EventKind::Created { office } = &first.kind else {
            return Err(TransitionError::NotCreated { case });
        };
        let mut status = CaseStatus {
            case,
            state: CaseState::Submitted,
            office: office.clone(),
            created_at: first.at,
            accepted_at: None,
            first_reply_at: None,
            replied_at: None,
            closed_at: None,
            extended_days: 0,
            extensions: 0,
            rating: None,
            reopened: 0,
            co_signed: 0,
            voices: Vec::new(),
            settled_by_mediation: false,
            reviewed: false,
            reexamined: false,
            overdue_alerts: 0,
            whistled_offices: Vec::new(),
            reported_offices: Vec::new(),
        };
        let mut last_at = first.at;
        for event in rest {
            if event.at < last_at {
                return Err(TransitionError::OutOfOrder {
                    case,
                    event: event.kind.name(),
                    at: event.at,
                });
            }
            last_at = event.at;
            status.apply(event)?;
        }
        Ok(status)
    }

    /// Applies one event, or explains why it is not allowed. On error `self` is unchanged.
    pub fn apply(&mut self, event: &CaseEvent) -> Result<(), TransitionError> {
        use CaseState as S;
        use EventKind as E;
        let state = self.state;
        let illegal = || TransitionError::Illegal {
            case: self.case,
            state,
            event: event.kind.name(),
        };
        let next = match (&event.kind, state) {
            (E::Created { .. }, _) => return Err(illegal()),
            (E::AnsweredAtIntake { .. }, S::Submitted) => S::Closed,
            (E::Accepted { .. }, S::Submitted) => S::Accepted,
            (E::NotAccepted { .. }, S::Submitted) => S::NotAccepted,
            (E::Withdrawn { .. }, S::Submitted | S::Accepted | S::InProgress) => S::Withdrawn,
            (E::Assigned { .. }, S::Accepted | S::InProgress) => S::InProgress,
            (E::Rerouted { .. }, S::Submitted | S::Accepted | S::InProgress) => S::Submitted,
            (E::Returned { .. }, S::Submitted | S::Accepted | S::InProgress) => S::Submitted,
            (E::Extended { .. }, S::Accepted | S::InProgress | S::InMediation) => state,
            (E::MediationStarted { .. }, S::Accepted | S::InProgress) => S::InMediation,
            (E::MediationSession { .. }, S::InMediation) => S::InMediation,
            (E::MediationSettled { .. }, S::InMediation) => S::Replied,
            (
                E::MediationFailed {
                    route: OnwardRoute::Handling,
                    ..
                },
                S::InMediation,
            ) => S::InProgress,
            (E::MediationFailed { .. }, S::InMediation) => S::Closed,
            (E::Replied { .. }, S::Accepted | S::InProgress) => S::Replied,
            (E::Replied { .. }, S::UnderReview | S::UnderReexamination) => return Err(illegal()),
            (E::Rated { .. }, S::Replied | S::Closed) => state,
            (E::Reopened { .. }, S::Replied | S::Closed) if !self.reviewed => S::InProgress,
            (E::Closed, S::Replied) => S::Closed,
            (E::ReviewRequested, S::Replied | S::Closed) if !self.reviewed => S::UnderReview,
            (E::ReviewDecided { .. }, S::UnderReview) => S::Closed,
            (E::ReexaminationRequested, S::Closed) if self.reviewed && !self.reexamined => S::UnderReexamination,
            (E::ReexaminationDecided { .. }, S::UnderReexamination) => S::Final,
            (E::Callback { rating: Some(_), .. }, S::Replied | S::Closed) => state,
            (E::Callback { rating: Some(_), .. }, _) => return Err(illegal()),
            (E::DeadlineAlert { .. } | E::Callback { .. } | E::Note { .. }, _) => state,
            (E::Whistle { .. } | E::DepartmentReported { .. }, s) if s.is_open() => state,
            (E::CoSigned { .. }, s) if s.is_open() => state,
            // An audit looks back at a case handled and closed; it changes nothing of it.
            (E::Inspected { .. }, s) if !s.is_open() => state,
            _ => return Err(illegal()),
        };
        match &event.kind {
            E::Accepted { office } | E::Assigned { office, .. } => {
                self.office = office.clone();
                self.accepted_at.get_or_insert(event.at);
            }
            E::Rerouted { to_office, .. } | E::Returned { to_office, .. } => {
                self.office = to_office.clone();
                self.accepted_at = None;
            }
            E::Extended { days, .. } => {
                self.extended_days += days;
                self.extensions += 1;
            }
            E::AnsweredAtIntake { .. } => {
                self.first_reply_at.get_or_insert(event.at);
                self.replied_at = Some(event.at);
            }
            E::MediationSettled { .. } => {
                self.settled_by_mediation = true;
                self.first_reply_at.get_or_insert(event.at);
                self.replied_at = Some(event.at);
            }
            E::Replied { .. } => {
                self.first_reply_at.get_or_insert(event.at);
                self.replied_at = Some(event.at);
            }
            E::Rated { rating, .. }
            | E::Callback {
                rating: Some(rating), ..
            } => self.rating = Some(*rating),
            E::Reopened { .. } => {
                self.reopened += 1;
                self.rating = None;
                self.closed_at = None;
            }
            E::ReviewDecided { .. } => self.reviewed = true,
            E::ReexaminationDecided { .. } => self.reexamined = true,
            E::DeadlineAlert { overdue: true, .. } => self.overdue_alerts += 1,
            E::Whistle { offices, .. } => self.whistled_offices.extend(offices.iter().cloned()),
            E::DepartmentReported { office, .. } => self.reported_offices.push(office.clone()),
            E::CoSigned { voice } => {
                self.co_signed += 1;
                self.voices.push(voice.clone());
            }
            _ => {}
        }
        if next.is_open() {
            self.closed_at = None;
        } else if state.is_open() {
            self.closed_at = Some(event.at);
        }
        self.state = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ev(day: u8, kind: EventKind) -> CaseEvent {
        CaseEvent {
            at: datetime!(2025-03-01 09:00 UTC)
                .replace_day(day)
                .unwrap_or(datetime!(2025-03-01 09:00 UTC)),
            actor: "t".into(),
            kind,
        }
    }

    #[test]
    fn every_state_parses_from_its_name_and_four_are_closed() {
        for state in CaseState::ALL {
            assert_eq!(CaseState::parse(state.as_str()), Some(state));
        }
        assert_eq!(CaseState::parse("bogus"), None);
        let closed: Vec<&str> = CaseState::ALL
            .into_iter()
            .filter(|s| !s.is_open())
            .map(CaseState::as_str)
            .collect();
        assert_eq!(closed, ["closed", "not_accepted", "final", "withdrawn"]);
    }

    #[test]
    fn a_petition_runs_from_intake_to_final() {
        let log = vec![
            ev(
                1,
                EventKind::Created {
                    office: "330502001:office".into(),
                },
            ),
            ev(
                2,
                EventKind::Accepted {
                    office: "330502001:office".into(),
                },
            ),
            ev(3, EventKind::Replied { text: "done".into() }),
            ev(4, EventKind::ReviewRequested),
            ev(5, EventKind::ReviewDecided { text: "upheld".into() }),
            ev(6, EventKind::ReexaminationRequested),
            ev(7, EventKind::ReexaminationDecided { text: "upheld".into() }),
        ];
        let status = CaseStatus::replay(9, &log).unwrap();
        assert_eq!(status.state, CaseState::Final);
        assert!(status.closed_at.is_some());
    }

    #[test]
    fn an_illegal_event_names_case_state_and_event() {
        let log = vec![
            ev(1, EventKind::Created { office: "o".into() }),
            ev(2, EventKind::Closed),
        ];
        let err = CaseStatus::replay(7, &log).unwrap_err();
        assert_eq!(
            err.to_string(),
            "case 7: event `closed` is not allowed in state `submitted`"
        );
    }

    #[test]
    fn a_final_matter_cannot_be_reopened() {
        let mut log = vec![
            ev(1, EventKind::Created { office: "o".into() }),
            ev(2, EventKind::Accepted { office: "o".into() }),
            ev(3, EventKind::Replied { text: "r".into() }),
            ev(4, EventKind::ReviewRequested),
            ev(5, EventKind::ReviewDecided { text: "d".into() }),
        ];
        log.push(ev(6, EventKind::Reopened { reason: "again".into() }));
        assert!(CaseStatus::replay(1, &log).is_err());
    }
}
