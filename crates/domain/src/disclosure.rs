//! What each audience may see of a case: the public, the resident who filed it, the staff within reach, and the staff
//! from whom the reporter is withheld (the unit complained about, analysts, administrators).
//!
//! This is the one place that decides disclosure; `app::workflow::disclose` applies it to a stored case and every
//! output (REST, Open311, the CLI, the web pages) is built from what it returns. Whether a viewer may see the case at
//! all is [`crate::access::can`]'s question, asked first.
//!
//! The rules: complaints, petitions and disputes are never public; public cases show the centre of their grid instead
//! of the exact point, their text with phone and ID numbers masked, no staff names and no internal events. Viewers
//! from whom the reporter is withheld see the same masked text, the grid centre and no reporter; the reporter's
//! typed name, contact and account are masked wherever they appear in free text (2022 Regulations on Letters and
//! Visits Work, Art. 47).

use crate::access::{CaseFacts, Role};
use crate::access::{Disclosure, Principal, reporter_disclosure};
use crate::case::{CaseEvent, CaseKind, EventKind, RESIDENT_ACTOR};

/// Who is looking.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// Anyone, signed in or not: Open311 and the public pages.
    Public,
    Principal(&'a Principal),
}

/// The kinds of case that may be public. Complaints, petitions and disputes concern named people and never are.
pub fn is_public_kind(kind: CaseKind) -> bool {
    matches!(
        kind,
        CaseKind::Enquiry | CaseKind::ServiceRequest | CaseKind::Report | CaseKind::Suggestion | CaseKind::PatrolEvent
    )
}

/// How much of a case one viewer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reduction {
    /// The reporter's name and contact.
    pub reporter: bool,
    /// The exact point; otherwise the centre of the case's grid (or no point).
    pub exact_point: bool,
    /// Free text as written; otherwise with phone numbers, ID numbers and the reporter's identifiers masked.
    pub verbatim_text: bool,
    /// Staff account names as actors; otherwise "staff".
    pub staff_names: bool,
    /// Alerts, notes, whistles, mediation sessions, call-backs: the office's working record.
    pub internal_events: bool,
}

impl Reduction {
    const NOTHING: Reduction = Reduction {
        reporter: false,
        exact_point: false,
        verbatim_text: false,
        staff_names: false,
        internal_events: false,
    };
}

/// How much of the case described by `facts` the audience sees. The caller has already checked that a principal may
/// read the case (and, for the public, that the case is of a public kind).
pub fn reduction(audience: Audience<'_>, facts: &CaseFacts) -> Reduction {
    let Audience::Principal(viewer) = audience else {
        return Reduction::NOTHING;
    };
    let shown = reporter_disclosure(Some(viewer), facts) == Disclosure::Shown;
    match (viewer.role, shown) {
        // The resident who filed sees their own words and place, and the office's public record.
        (Role::Resident, true) => Reduction {
            reporter: true,
            exact_point: true,
            verbatim_text: true,
            ..Reduction::NOTHING
        },
        (Role::Resident, false) => Reduction::NOTHING,
        (_, true) => Reduction {
            reporter: true,
            exact_point: true,
            verbatim_text: true,
            staff_names: true,
            internal_events: true,
        },
        // Staff of the complained-about unit, analysts, administrators: the working record without the person.
        (_, false) => Reduction {
            staff_names: true,
            internal_events: true,
            ..Reduction::NOTHING
        },
    }
}

/// What masked text shows instead of an identifier.
pub const MASK: &str = "***";

/// Masks phone numbers, ID numbers and other runs of seven or more digits (separators `-` and spaces inside a run are
/// masked with it), and every occurrence of the `known` identifiers (the reporter's typed name, contact and account;
/// entries shorter than two characters are ignored).
pub fn mask_identifiers(text: &str, known: &[&str]) -> String {
    let mut text = text.to_string();
    let mut known: Vec<&str> = known
        .iter()
        .map(|k| k.trim())
        .filter(|k| k.chars().count() >= 2)
        .collect();
    // Longest first, so a name that contains another is masked whole.
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    for k in known {
        text = text.replace(k, MASK);
    }
    mask_digit_runs(&text)
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A run: digits, with single separators between digits, and an ID number's final X.
        let mut j = i;
        let mut digits = 0;
        while j < chars.len() {
            if is_digit(chars[j]) {
                digits += 1;
                j += 1;
            } else if matches!(chars[j], '-' | ' ') && j + 1 < chars.len() && is_digit(chars[j + 1]) {
                j += 1;
            } else {
                break;
            }
        }
        if digits == 17 && j < chars.len() && matches!(chars[j], 'X' | 'x') {
            j += 1;
            digits += 1;
        }
        if digits >= 7 {
            out.push_str(MASK);
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    out
}

/// Events the public record shows: the steps of the case, not the office's working notes.
fn is_public_event(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::DeadlineAlert { .. }
            | EventKind::Note { .. }
            | EventKind::Whistle { .. }
            | EventKind::DepartmentReported { .. }
            | EventKind::MediationSession { .. }
            | EventKind::Callback { .. }
            | EventKind::Inspected { .. }
    )
}

/// One event as the viewer sees it, or `None` when it is not theirs to see. `known` are the reporter's identifiers
/// (typed name, contact, account) to mask in free text and to recognise as the resident among actors.
pub fn disclose_event(event: &CaseEvent, r: Reduction, known: &[&str]) -> Option<CaseEvent> {
    if !r.internal_events && !is_public_event(&event.kind) {
        return None;
    }
    let text = |t: &String| {
        if r.verbatim_text {
            t.clone()
        } else {
            mask_identifiers(t, known)
        }
    };
    let people = |names: &Vec<String>| {
        if r.verbatim_text {
            names.clone()
        } else {
            (1..=names.len()).map(|i| format!("party {i}")).collect()
        }
    };
    use EventKind as E;
    let kind = match &event.kind {
        E::AnsweredAtIntake { answer } => E::AnsweredAtIntake { answer: text(answer) },
        E::NotAccepted { reason, refer_to } => E::NotAccepted {
            reason: text(reason),
            refer_to: text(refer_to),
        },
        E::Withdrawn { reason } => E::Withdrawn { reason: text(reason) },
        E::Assigned { office, staff } => E::Assigned {
            office: office.clone(),
            staff: staff.clone().filter(|_| r.staff_names),
        },
        E::Rerouted {
            from_office,
            to_office,
            reason,
        } => E::Rerouted {
            from_office: from_office.clone(),
            to_office: to_office.clone(),
            reason: text(reason),
        },
        E::Returned { to_office, reason } => E::Returned {
            to_office: to_office.clone(),
            reason: text(reason),
        },
        E::Extended { days, reason, approver } => E::Extended {
            days: *days,
            reason: text(reason),
            approver: if r.staff_names {
                approver.clone()
            } else {
                "office head".into()
            },
        },
        E::MediationSession { notes, attendees } => E::MediationSession {
            notes: text(notes),
            attendees: people(attendees),
        },
        E::MediationSettled { agreement, parties } => E::MediationSettled {
            agreement: text(agreement),
            parties: people(parties),
        },
        E::MediationFailed { route, reason } => E::MediationFailed {
            route: *route,
            reason: text(reason),
        },
        E::Replied { text: t } => E::Replied { text: text(t) },
        E::Rated { rating, .. } => E::Rated {
            rating: *rating,
            by: RESIDENT_ACTOR.into(),
        },
        E::Reopened { reason } => E::Reopened { reason: text(reason) },
        E::ReviewDecided { text: t } => E::ReviewDecided { text: text(t) },
        E::ReexaminationDecided { text: t } => E::ReexaminationDecided { text: text(t) },
        E::Whistle { offices, due, reason } => E::Whistle {
            offices: offices.clone(),
            due: *due,
            reason: text(reason),
        },
        E::DepartmentReported { office, text: t } => E::DepartmentReported {
            office: office.clone(),
            text: text(t),
        },
        E::Callback { text: t, rating } => E::Callback {
            text: text(t),
            rating: *rating,
        },
        E::Note { text: t } => E::Note { text: text(t) },
        E::Inspected { finding, note } => E::Inspected {
            finding: *finding,
            note: text(note),
        },
        // The digest says nothing to a reader and must not let one link voices across cases.
        E::CoSigned { .. } => E::CoSigned { voice: String::new() },
        other => other.clone(),
    };
    let resident = event.actor == RESIDENT_ACTOR || known.iter().any(|k| !k.is_empty() && *k == event.actor);
    let actor = if resident {
        RESIDENT_ACTOR.to_string()
    } else if r.staff_names {
        event.actor.clone()
    } else {
        "staff".to_string()
    };
    Some(CaseEvent {
        at: event.at,
        actor,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::UnitCode;
    use time::macros::datetime;

    #[test]
    fn phone_and_id_numbers_and_known_names_are_masked() {
        let text = "张三 13812345678, ID 33050219900101123X, landline 0572-2345678, 3 lamps, room 1203";
        assert_eq!(
            mask_identifiers(text, &["张三", "zhang.san"]),
            "*** ***, ID ***, landline ***, 3 lamps, room 1203"
        );
        assert_eq!(mask_identifiers("call 138 1234 5678 now", &[]), "call *** now");
        // One-character names are not masked (they would mask ordinary words).
        assert_eq!(mask_identifiers("a lamp", &["a"]), "a lamp");
    }

    fn facts() -> CaseFacts {
        CaseFacts {
            unit: Some(UnitCode::parse("330502001003").expect("code")),
            office: "330502001:gov".into(),
            reporter_account: Some("alice".into()),
            complained_unit: Some(UnitCode::parse("330502001003").expect("code")),
            ..CaseFacts::default()
        }
    }

    #[test]
    fn each_audience_gets_its_reduction() {
        let code = |s: &str| UnitCode::parse(s).expect("code");
        let facts = facts();
        let reporter = Principal::resident("alice", code("330502001003"));
        let township = Principal::staff("t", Role::Caseworker, code("330502001"), Some("330502001:gov"));
        let village = Principal::staff(
            "v",
            Role::Caseworker,
            code("330502001003"),
            Some("330502001003:committee"),
        );
        assert_eq!(reduction(Audience::Public, &facts), Reduction::NOTHING);
        assert!(reduction(Audience::Principal(&reporter), &facts).reporter);
        assert!(reduction(Audience::Principal(&township), &facts).reporter);
        let withheld = reduction(Audience::Principal(&village), &facts);
        assert!(!withheld.reporter && !withheld.verbatim_text && !withheld.exact_point);
    }

    #[test]
    fn events_are_reduced_for_the_public() {
        let at = datetime!(2025-03-01 09:00 +8);
        let reply = CaseEvent {
            at,
            actor: "caseworker.li".into(),
            kind: EventKind::Replied {
                text: "called 13812345678 (alice)".into(),
            },
        };
        let public = disclose_event(&reply, Reduction::NOTHING, &["alice"]).expect("a reply is public");
        assert_eq!(public.actor, "staff");
        assert_eq!(
            public.kind,
            EventKind::Replied {
                text: "called *** (***)".into()
            }
        );
        let note = CaseEvent {
            kind: EventKind::Note {
                text: "internal".into(),
            },
            ..reply.clone()
        };
        assert!(disclose_event(&note, Reduction::NOTHING, &[]).is_none());
        let by_account = CaseEvent {
            actor: "alice".into(),
            ..reply
        };
        let full = Reduction {
            reporter: true,
            exact_point: true,
            verbatim_text: true,
            staff_names: true,
            internal_events: true,
        };
        assert_eq!(
            disclose_event(&by_account, full, &["alice"]).map(|e| e.actor),
            Some(RESIDENT_ACTOR.to_string())
        );
    }

    #[test]
    fn only_requests_suggestions_reports_and_patrols_are_public() {
        let public: Vec<CaseKind> = CaseKind::ALL.into_iter().filter(|k| is_public_kind(*k)).collect();
        assert!(!public.contains(&CaseKind::Complaint));
        assert!(!public.contains(&CaseKind::Petition));
        assert!(!public.contains(&CaseKind::Dispute));
        assert_eq!(public.len(), 5);
    }
}
