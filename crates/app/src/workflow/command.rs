//! The verbs of a case's legal life as one use case: [`perform`] reads the case once, asks `domain::access` whether
//! the principal may take the action, fills in what the verb implies (the holding office, the approver, a whistle's
//! due date, where a disputed or transferred case goes, the lower office a matter returns to), and appends the event
//! through `domain::rules` against that same read.
//!
//! Every interface (REST, the CLI, the web pages) parses its input into a [`Command`] and calls [`perform`]; none of
//! them maps verbs to events or decides anything itself.

use domain::access::{self, Action, Principal};
use domain::calendar::Period;
use domain::case::{
    CO_SIGNER_ACTOR, MAX_LIST_ENTRIES, MAX_NAME_CHARS, MAX_TEXT_CHARS, MAX_WHISTLE_WORKING_DAYS, OnwardRoute,
    RESIDENT_ACTOR,
};
use domain::office::{Directory, OfficeId};
use domain::routing::{PriorCase, return_to_lower};
use domain::rules::{ART_19, RuleError};
use domain::{CaseEvent, CaseId, CaseStatus, EventKind, Rating};
use store::Store;
use time::OffsetDateTime;

use super::{HeldCase, Rules, WorkflowError, act_on, hold};

/// One step of a case, in the domain's terms. The names are the REST actions.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Accept,
    /// Decline (Art. 23): why, and which channel the resident should use instead.
    NotAccept {
        reason: String,
        refer_to: String,
    },
    /// Give the case to a member of the holding office.
    Assign {
        staff: String,
    },
    /// Send the case to another office within the dispute window (Art. 23 §3).
    Transfer {
        office: String,
        reason: String,
    },
    /// Return this matter to the lower office that accepted it earlier as `prior_case` (Art. 19).
    Return {
        prior_case: CaseId,
    },
    /// Dispute a wrong dispatch: the routing table sends the case on (Art. 23 §3).
    DisputeDispatch {
        reason: String,
    },
    /// The written handling opinion.
    Reply {
        text: String,
    },
    Extend {
        days: u32,
        reason: String,
    },
    Close,
    /// A call to the resident; after the reply, with their rating (the 12345 回访).
    Callback {
        text: String,
        rating: Option<Rating>,
    },
    MediationStart {
        team: String,
    },
    MediationSettle {
        agreement: String,
        parties: Vec<String>,
    },
    MediationFail {
        route: OnwardRoute,
        reason: String,
    },
    /// Summon county departments, each to report within `due_working_days`.
    Whistle {
        offices: Vec<String>,
        due_working_days: u32,
        reason: String,
    },
    Report {
        text: String,
    },
    Rate {
        rating: Rating,
    },
    Reopen {
        reason: String,
    },
    Withdraw {
        reason: String,
    },
    ReviewRequest,
    ReviewDecide {
        text: String,
    },
    ReexaminationRequest,
    ReexaminationDecide {
        text: String,
    },
    /// Add the principal's voice to an open public case ("add my voice"): one more co-signer.
    CoSign,
    /// A drawn peer inspector's finding on a closed case of their sample (issue 14).
    Inspect {
        finding: domain::inspection::Finding,
        note: String,
    },
}

impl Command {
    /// The access action the command needs.
    pub fn action(&self) -> Action {
        match self {
            Command::Accept => Action::Accept,
            Command::NotAccept { .. } => Action::NotAccept,
            Command::Assign { .. } => Action::Assign,
            Command::Transfer { .. } => Action::Transfer,
            Command::Return { .. } => Action::Return,
            Command::DisputeDispatch { .. } => Action::DisputeDispatch,
            Command::Reply { .. } => Action::Reply,
            Command::Extend { .. } => Action::Extend,
            Command::Close => Action::Close,
            Command::Callback { .. } => Action::Callback,
            Command::MediationStart { .. } | Command::MediationSettle { .. } | Command::MediationFail { .. } => {
                Action::Mediate
            }
            Command::Whistle { .. } => Action::Whistle,
            Command::Report { .. } => Action::Report,
            Command::Rate { .. } => Action::Rate,
            Command::Reopen { .. } => Action::Reopen,
            Command::Withdraw { .. } => Action::Withdraw,
            Command::ReviewRequest => Action::ReviewRequest,
            Command::ReviewDecide { .. } => Action::ReviewDecide,
            Command::ReexaminationRequest => Action::ReexaminationRequest,
            Command::ReexaminationDecide { .. } => Action::ReexaminationDecide,
            Command::CoSign => Action::CoSign,
            Command::Inspect { .. } => Action::Inspect,
        }
    }
}

/// An event of the kind `action` records, with placeholder data: enough to ask the state machine whether the action is
/// possible in a case's state (what a page offers), not to record.
fn sample_event(action: Action, office: &str) -> Option<EventKind> {
    let text = String::from("-");
    Some(match action {
        Action::ReadCase | Action::ReadReporter | Action::CreateCase => return None,
        Action::Accept => EventKind::Accepted { office: office.into() },
        Action::NotAccept => EventKind::NotAccepted {
            reason: text.clone(),
            refer_to: text,
        },
        Action::Assign => EventKind::Assigned {
            office: office.into(),
            staff: None,
        },
        Action::Transfer | Action::DisputeDispatch => EventKind::Rerouted {
            from_office: office.into(),
            to_office: String::new(),
            reason: text,
        },
        Action::Return => EventKind::Returned {
            to_office: String::new(),
            reason: text,
        },
        Action::Reply => EventKind::Replied { text },
        Action::Extend => EventKind::Extended {
            days: 1,
            reason: text.clone(),
            approver: text,
        },
        Action::Close => EventKind::Closed,
        Action::Callback => EventKind::Callback { text, rating: None },
        Action::Mediate => EventKind::MediationStarted { team: text },
        Action::Whistle => EventKind::Whistle {
            offices: Vec::new(),
            due: 0,
            reason: text,
        },
        Action::Report => EventKind::DepartmentReported {
            office: office.into(),
            text,
        },
        Action::Rate => EventKind::Rated {
            rating: Rating::Satisfied,
            by: RESIDENT_ACTOR.into(),
        },
        Action::Reopen => EventKind::Reopened { reason: text },
        Action::Withdraw => EventKind::Withdrawn { reason: text },
        Action::ReviewRequest => EventKind::ReviewRequested,
        Action::ReviewDecide => EventKind::ReviewDecided { text },
        Action::ReexaminationRequest => EventKind::ReexaminationRequested,
        Action::ReexaminationDecide => EventKind::ReexaminationDecided { text },
        Action::CoSign => EventKind::CoSigned { voice: text },
        Action::Inspect => EventKind::Inspected {
            finding: domain::inspection::Finding::Sound,
            note: text,
        },
    })
}

/// Whether the case's state machine allows the event `action` records (mediation: starting it, or a session once it
/// runs). The time limits and other rules are checked when the action is taken.
/// [`possible_in`] for one principal: a voice they have already added is not offered again.
pub(crate) fn possible_for(status: &CaseStatus, action: Action, principal: &Principal) -> bool {
    if action == Action::CoSign && status.voices.contains(&voice_of(status.case, &principal.account)) {
        return false;
    }
    possible_in(status, action)
}

pub(crate) fn possible_in(status: &CaseStatus, action: Action) -> bool {
    let Some(kind) = sample_event(action, &status.office) else {
        return false;
    };
    let kind = match (action, status.state) {
        (Action::Mediate, domain::CaseState::InMediation) => EventKind::MediationSession {
            notes: String::new(),
            attendees: Vec::new(),
        },
        _ => kind,
    };
    let event = CaseEvent {
        at: status.created_at,
        actor: String::new(),
        kind,
    };
    status.clone().apply(&event).is_ok()
}

/// Checks a free text against its limit: over it is an error naming the field, never a silent cut.
pub(crate) fn checked_text(field: &'static str, value: &str, max: usize) -> Result<String, WorkflowError> {
    let value = value.trim();
    let n = value.chars().count();
    if n > max {
        return Err(WorkflowError::field(
            field,
            domain::said!(
                "refused-too-long",
                "{n} characters; the limit is {max}",
                n = n,
                max = max
            ),
        ));
    }
    Ok(value.to_string())
}

fn long(field: &'static str, value: &str) -> Result<String, WorkflowError> {
    checked_text(field, value, MAX_TEXT_CHARS)
}

fn name(field: &'static str, value: &str) -> Result<String, WorkflowError> {
    checked_text(field, value, MAX_NAME_CHARS)
}

fn list(field: &'static str, values: &[String]) -> Result<Vec<String>, WorkflowError> {
    if values.len() > MAX_LIST_ENTRIES {
        return Err(WorkflowError::field(
            field,
            domain::said!(
                "refused-too-many",
                "{n} entries; the limit is {max}",
                n = values.len(),
                max = MAX_LIST_ENTRIES,
            ),
        ));
    }
    values.iter().map(|v| name(field, v)).collect()
}

/// The digest that stands for an account's voice on one case: the same account twice gives the same digest (so it
/// counts once), and the digest names neither the account nor links its voices across cases.
fn voice_of(case: CaseId, account: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"grassroots voice\0");
    hasher.update(case.to_string().as_bytes());
    hasher.update(b"\0");
    hasher.update(account.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Takes `command` on case `id` as `principal`, at `now`: the one action path of every interface. On any error
/// nothing is recorded.
pub async fn perform(
    store: &Store,
    rules: &Rules,
    directory: &Directory,
    principal: &Principal,
    id: CaseId,
    command: Command,
    now: OffsetDateTime,
) -> Result<CaseStatus, WorkflowError> {
    let held = hold(store, id).await?;
    access::can(principal, command.action(), &held.facts()).map_err(|denied| held.refusal(principal, denied))?;
    let at = held.next_instant(now);
    let kind = event_of(store, rules, directory, principal, &held, command, at).await?;
    let actor = if principal.role.is_staff() {
        principal.account.clone()
    } else if matches!(kind, EventKind::CoSigned { .. }) {
        CO_SIGNER_ACTOR.to_string()
    } else {
        RESIDENT_ACTOR.to_string()
    };
    let event = CaseEvent { at, actor, kind };
    act_on(store, rules, &held, event).await
}

/// The event a command records on `held`, with what the verb implies filled in.
async fn event_of(
    store: &Store,
    rules: &Rules,
    directory: &Directory,
    principal: &Principal,
    held: &HeldCase,
    command: Command,
    at: OffsetDateTime,
) -> Result<EventKind, WorkflowError> {
    let holding = held.status.office.clone();
    Ok(match command {
        Command::Accept => EventKind::Accepted { office: holding },
        Command::NotAccept { reason, refer_to } => EventKind::NotAccepted {
            reason: long("reason", &reason)?,
            refer_to: name("refer_to", &refer_to)?,
        },
        Command::Assign { staff } => {
            let staff = name("staff", &staff)?;
            member_of(store, directory, &holding, &staff).await?;
            EventKind::Assigned {
                office: holding,
                staff: Some(staff),
            }
        }
        Command::Transfer { office, reason } => {
            let to = transfer_target(rules, directory, held, &office)?;
            EventKind::Rerouted {
                from_office: holding,
                to_office: to.to_string(),
                reason: long("reason", &reason)?,
            }
        }
        Command::DisputeDispatch { reason } => {
            let to = dispatch_target(rules, held)?;
            EventKind::Rerouted {
                from_office: holding,
                to_office: to.to_string(),
                reason: long("reason", &reason)?,
            }
        }
        Command::Return { prior_case } => return_event(store, rules, held, prior_case, at).await?,
        Command::Reply { text } => EventKind::Replied {
            text: long("text", &text)?,
        },
        Command::Extend { days, reason } => EventKind::Extended {
            days,
            reason: long("reason", &reason)?,
            // Art. 34: extended with the approval of the responsible person, who is the head taking the action.
            approver: principal.account.clone(),
        },
        Command::Close => EventKind::Closed,
        Command::Callback { text, rating } => EventKind::Callback {
            text: long("text", &text)?,
            rating,
        },
        Command::MediationStart { team } => EventKind::MediationStarted {
            team: name("team", &team)?,
        },
        Command::MediationSettle { agreement, parties } => EventKind::MediationSettled {
            agreement: long("agreement", &agreement)?,
            parties: list("parties", &parties)?,
        },
        Command::MediationFail { route, reason } => EventKind::MediationFailed {
            route,
            reason: long("reason", &reason)?,
        },
        Command::Whistle {
            offices,
            due_working_days,
            reason,
        } => {
            if due_working_days == 0 || due_working_days > MAX_WHISTLE_WORKING_DAYS {
                return Err(WorkflowError::field(
                    "due_days",
                    domain::said!(
                        "refused-whistle-days",
                        "{days}; a summons gives 1 to {max} working days",
                        days = due_working_days,
                        max = MAX_WHISTLE_WORKING_DAYS,
                    ),
                ));
            }
            EventKind::Whistle {
                offices: list("offices", &offices)?,
                due: rules
                    .calendar
                    .due(at, Period::WorkingDays(due_working_days), true)
                    .unix_timestamp(),
                reason: long("reason", &reason)?,
            }
        }
        Command::Report { text } => EventKind::DepartmentReported {
            // `can` let the principal report only because its office was summoned, so it has one.
            office: principal.office.clone().unwrap_or_default(),
            text: long("text", &text)?,
        },
        Command::CoSign => EventKind::CoSigned {
            voice: voice_of(held.record.row.id, &principal.account),
        },
        Command::Inspect { finding, note } => EventKind::Inspected {
            finding,
            note: long("note", &note)?,
        },
        Command::Rate { rating } => EventKind::Rated {
            rating,
            by: RESIDENT_ACTOR.into(),
        },
        Command::Reopen { reason } => EventKind::Reopened {
            reason: long("reason", &reason)?,
        },
        Command::Withdraw { reason } => EventKind::Withdrawn {
            reason: long("reason", &reason)?,
        },
        Command::ReviewRequest => EventKind::ReviewRequested,
        Command::ReviewDecide { text } => EventKind::ReviewDecided {
            text: long("text", &text)?,
        },
        Command::ReexaminationRequest => EventKind::ReexaminationRequested,
        Command::ReexaminationDecide { text } => EventKind::ReexaminationDecided {
            text: long("text", &text)?,
        },
    })
}

/// A staff member of the holding office: a member in the office directory, or a staff account of that office.
async fn member_of(store: &Store, directory: &Directory, office: &str, staff: &str) -> Result<(), WorkflowError> {
    let in_directory = directory
        .staff
        .iter()
        .any(|s| s.id == staff && s.office.to_string() == office);
    if in_directory {
        return Ok(());
    }
    let account = store.account(staff).await?;
    let of_office = account.is_some_and(|a| a.role != "resident" && a.office.as_deref() == Some(office));
    if of_office {
        return Ok(());
    }
    Err(WorkflowError::unprocessable(
        "staff",
        domain::said!(
            "refused-not-member",
            "{staff} is not a member of {office}, which holds the case",
            staff = format!("{staff:?}"),
            office = office.to_string(),
        ),
    ))
}

fn parse_office(field: &'static str, office: &str) -> Result<OfficeId, WorkflowError> {
    OfficeId::parse(office).map_err(|e| WorkflowError::field(field, e.to_string()))
}

/// Where a transfer may go: an office of the directory that takes the case's category (or the one the routing table
/// sends it to), and never the office or unit the case complains about.
fn transfer_target(
    rules: &Rules,
    directory: &Directory,
    held: &HeldCase,
    office: &str,
) -> Result<OfficeId, WorkflowError> {
    let to = parse_office("office", &name("office", office)?)?;
    let Some(target) = directory.office(&to) else {
        return Err(WorkflowError::unprocessable(
            "office",
            domain::said!(
                "refused-no-office",
                "no office {office} in the directory",
                office = to.to_string()
            ),
        ));
    };
    let row = &held.record.row;
    if held.facts().complained_office_is(&to.to_string()) {
        return Err(WorkflowError::unprocessable(
            "office",
            domain::said!(
                "refused-judges-own-case",
                "{office} is the office or unit the case complains about; no one judges their own case \
                 (2022 Regulations on Letters and Visits Work, Art. 47)",
                office = to.to_string(),
            ),
        ));
    }
    let from = parse_office("office", &held.status.office)?;
    let table = rules.routing_at(&row.location.unit, filed_at(held));
    let routed = table.reroute(&row.category, &row.location.unit, &from).ok();
    if routed.as_ref() != Some(&to) && !target.handles(&row.category) {
        let refusal = match routed {
            Some(routed) => domain::said!(
                "refused-office-category-routed",
                "{office} does not handle category {category}; the routing table sends it to {routed}",
                office = to.to_string(),
                category = domain::said::name("category", &row.category),
                routed = routed.to_string(),
            ),
            None => domain::said!(
                "refused-office-category",
                "{office} does not handle category {category}",
                office = to.to_string(),
                category = domain::said::name("category", &row.category),
            ),
        };
        return Err(WorkflowError::unprocessable("office", refusal));
    }
    Ok(to)
}

fn filed_at(held: &HeldCase) -> OffsetDateTime {
    held.status.created_at
}

/// Where a rightly disputed case goes (Art. 23 §3): the routing table's office, or the disputing office's supervisor;
/// one level further up while that is the office complained about.
fn dispatch_target(rules: &Rules, held: &HeldCase) -> Result<OfficeId, WorkflowError> {
    let row = &held.record.row;
    let from = parse_office("office", &held.status.office)?;
    let table = rules.routing_at(&row.location.unit, filed_at(held));
    let mut to = table.reroute(&row.category, &row.location.unit, &from)?;
    let facts = held.facts();
    while facts.complained_office_is(&to.to_string()) {
        to = to.supervisor().ok_or_else(|| {
            WorkflowError::unprocessable(
                "office",
                domain::said!(
                    "refused-no-office-above",
                    "{office} has no office above it to take the case",
                    office = to.to_string(),
                ),
            )
        })?;
    }
    Ok(to)
}

/// Art. 19: the holding office returns this matter to the lower office that accepted it earlier as `prior_case` and
/// is still handling it in time. The prior case must be the same person's, on the same category.
async fn return_event(
    store: &Store,
    rules: &Rules,
    held: &HeldCase,
    prior_case: CaseId,
    now: OffsetDateTime,
) -> Result<EventKind, WorkflowError> {
    let prior = hold(store, prior_case).await.map_err(|e| match e {
        WorkflowError::Store(store::StoreError::NoSuchCase(_)) => WorkflowError::unprocessable(
            "prior_case",
            domain::said!("refused-no-case", "no case {case}", case = prior_case),
        ),
        other => other,
    })?;
    let same_person = match (&held.access.reporter_account, &prior.access.reporter_account) {
        (Some(a), Some(b)) => a == b,
        _ => match (&held.record.reporter, &prior.record.reporter) {
            (Some(a), Some(b)) => !a.contact.trim().is_empty() && a.contact == b.contact,
            _ => false,
        },
    };
    if prior_case == held.record.row.id || !same_person || prior.record.row.category != held.record.row.category {
        return Err(WorkflowError::unprocessable(
            "prior_case",
            domain::said!(
                "refused-not-prior-case",
                "case {case} is not an earlier case of the same person on the same matter",
                case = prior_case,
            ),
        ));
    }
    let receiving = parse_office("office", &held.status.office)?;
    let row = &prior.record.row;
    let clocks = rules.clocks_of(row);
    let prior_view = PriorCase {
        case: row.id,
        kind: row.kind,
        urgency: clocks.urgency(row.kind, &row.category),
        log: &prior.record.events,
    };
    let back =
        return_to_lower(&receiving, &[prior_view], now, &clocks, &rules.calendar).ok_or_else(|| RuleError::Broken {
            rule: "return to the lower office",
            cite: ART_19,
            detail: domain::said!(
                "detail-not-returnable",
                "case {case} is not held by an office below {office} that accepted it and is within its time limit",
                case = prior_case,
                office = receiving.to_string(),
            ),
        })?;
    Ok(back.event())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn what_a_state_allows_is_what_the_state_machine_allows() {
        let created = CaseEvent {
            at: datetime!(2025-03-03 10:00 +8),
            actor: "intake".into(),
            kind: EventKind::Created {
                office: "330502001:gov".into(),
            },
        };
        let status = CaseStatus::replay(1, &[created]).expect("replays");
        let possible: Vec<Action> = Action::ALL.into_iter().filter(|a| possible_in(&status, *a)).collect();
        assert!(possible.contains(&Action::Accept) && possible.contains(&Action::NotAccept));
        assert!(possible.contains(&Action::Withdraw) && possible.contains(&Action::Transfer));
        assert!(!possible.contains(&Action::Reply) && !possible.contains(&Action::Close));
        assert!(!possible.contains(&Action::ReviewDecide) && !possible.contains(&Action::ReadCase));
    }
}
