//! Consultations: a unit asks invited experts, think tanks and registered social organisations for opinions on a
//! draft (a policy layer, a pilot or a compact), takes comments from the residents in its scope, and replies to every
//! opinion (adopted, partly adopted or not, with a reason) before the draft may be adopted. The whole record is public
//! once the consultation is closed.
//!
//! Lifecycle: `open` (opinions and comments) → `closed` (replies) → `adopted`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ParticipationError, invalid};
use crate::access::{Principal, Role};
use crate::territory::UnitCode;

/// What a consultation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    PolicyLayer,
    Pilot,
    Compact,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 3] = [SubjectKind::PolicyLayer, SubjectKind::Pilot, SubjectKind::Compact];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::PolicyLayer => "policy_layer",
            SubjectKind::Pilot => "pilot",
            SubjectKind::Compact => "compact",
        }
    }

    pub fn parse(s: &str) -> Result<SubjectKind, ParticipationError> {
        SubjectKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            invalid(
                "subject",
                format!("unknown subject {s:?} (policy_layer, pilot or compact)"),
            )
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationState {
    Open,
    Closed,
    Adopted,
}

impl ConsultationState {
    pub const ALL: [ConsultationState; 3] = [
        ConsultationState::Open,
        ConsultationState::Closed,
        ConsultationState::Adopted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationState::Open => "open",
            ConsultationState::Closed => "closed",
            ConsultationState::Adopted => "adopted",
        }
    }

    pub fn parse(s: &str) -> Option<ConsultationState> {
        ConsultationState::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ConsultationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may be invited to give an opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContributorKind {
    Expert,
    ThinkTank,
    SocialOrganisation,
}

impl ContributorKind {
    pub const ALL: [ContributorKind; 3] = [
        ContributorKind::Expert,
        ContributorKind::ThinkTank,
        ContributorKind::SocialOrganisation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContributorKind::Expert => "expert",
            ContributorKind::ThinkTank => "think_tank",
            ContributorKind::SocialOrganisation => "social_organisation",
        }
    }

    pub fn parse(s: &str) -> Result<ContributorKind, ParticipationError> {
        ContributorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                invalid(
                    "kind",
                    format!("unknown contributor {s:?} (expert, think_tank or social_organisation)"),
                )
            })
    }
}

/// The unit's answer to one opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyVerdict {
    Adopted,
    Partly,
    NotAdopted,
}

impl ReplyVerdict {
    pub const ALL: [ReplyVerdict; 3] = [ReplyVerdict::Adopted, ReplyVerdict::Partly, ReplyVerdict::NotAdopted];

    pub fn as_str(self) -> &'static str {
        match self {
            ReplyVerdict::Adopted => "adopted",
            ReplyVerdict::Partly => "partly",
            ReplyVerdict::NotAdopted => "not_adopted",
        }
    }

    pub fn parse(s: &str) -> Result<ReplyVerdict, ParticipationError> {
        ReplyVerdict::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            invalid(
                "verdict",
                format!("unknown verdict {s:?} (adopted, partly or not_adopted)"),
            )
        })
    }
}

/// An opinion and whether the unit has replied to it, as [`check_adoption`] needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct OpinionReply {
    pub opinion: i64,
    /// The contributor's public name.
    pub from: String,
    pub replied: bool,
}

fn wrong(consultation: i64, state: ConsultationState, step: &'static str) -> ParticipationError {
    ParticipationError::ConsultationState {
        consultation,
        state,
        step,
    }
}

/// May `account` give an opinion now? Only an invited contributor, while the consultation is open.
pub fn may_give_opinion(
    account: &str,
    consultation: i64,
    state: ConsultationState,
    invited: bool,
) -> Result<(), ParticipationError> {
    if !invited {
        return Err(ParticipationError::NotInvited {
            account: account.to_string(),
            consultation,
        });
    }
    if state != ConsultationState::Open {
        return Err(wrong(consultation, state, "take opinions"));
    }
    Ok(())
}

/// May `principal` comment now? A resident whose home lies in the consultation's unit, while it is open.
pub fn may_comment_on_consultation(
    principal: &Principal,
    consultation: i64,
    unit: &UnitCode,
    state: ConsultationState,
) -> Result<(), ParticipationError> {
    if principal.role != Role::Resident || !principal.scope.is_within(unit) {
        return Err(ParticipationError::OutOfConsultationScope {
            account: principal.account.clone(),
            unit: unit.clone(),
            consultation,
        });
    }
    if state != ConsultationState::Open {
        return Err(wrong(consultation, state, "take comments"));
    }
    Ok(())
}

/// Checks a reply: the consultation is closed to new input (so the reply answers the final record) and not yet
/// adopted, and the reason is given.
pub fn check_reply(consultation: i64, state: ConsultationState, reason: &str) -> Result<(), ParticipationError> {
    if state != ConsultationState::Closed {
        return Err(wrong(consultation, state, "take replies (close it first)"));
    }
    if reason.trim().is_empty() {
        return Err(invalid("reason", "a reply gives its reason"));
    }
    Ok(())
}

/// May the draft be adopted? The consultation is closed and every opinion has a reply; the first opinion without
/// one is named.
pub fn check_adoption(
    consultation: i64,
    state: ConsultationState,
    opinions: &[OpinionReply],
) -> Result<(), ParticipationError> {
    if state != ConsultationState::Closed {
        return Err(wrong(consultation, state, "be adopted"));
    }
    match opinions.iter().find(|o| !o.replied) {
        Some(missing) => Err(ParticipationError::ReplyMissing {
            opinion: missing.opinion,
            from: missing.from.clone(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_invited_give_opinions_while_open() {
        assert!(may_give_opinion("prof-zhao", 1, ConsultationState::Open, true).is_ok());
        let err = may_give_opinion("someone", 1, ConsultationState::Open, false).unwrap_err();
        assert!(err.to_string().starts_with("rule consultation-invited-only"), "{err}");
        assert!(may_give_opinion("prof-zhao", 1, ConsultationState::Closed, true).is_err());
    }

    #[test]
    fn residents_in_scope_comment() {
        let unit = UnitCode::parse("330502001").unwrap();
        let inside = Principal::resident("li", UnitCode::parse("330502001001").unwrap());
        let outside = Principal::resident("wang", UnitCode::parse("330502002001").unwrap());
        assert!(may_comment_on_consultation(&inside, 1, &unit, ConsultationState::Open).is_ok());
        let err = may_comment_on_consultation(&outside, 1, &unit, ConsultationState::Open).unwrap_err();
        assert!(err.to_string().starts_with("rule consultation-in-scope"), "{err}");
    }

    #[test]
    fn a_reply_needs_a_reason_and_a_closed_consultation() {
        assert!(check_reply(1, ConsultationState::Closed, "we shortened the period as advised").is_ok());
        assert!(
            check_reply(1, ConsultationState::Closed, "  ")
                .unwrap_err()
                .to_string()
                .starts_with("reason:")
        );
        assert!(check_reply(1, ConsultationState::Open, "r").is_err());
    }

    #[test]
    fn a_missing_reply_to_an_opinion_blocks_adoption() {
        let opinion = |id, replied| OpinionReply {
            opinion: id,
            from: format!("expert {id}"),
            replied,
        };
        assert!(check_adoption(1, ConsultationState::Closed, &[opinion(1, true), opinion(2, true)]).is_ok());
        let err = check_adoption(1, ConsultationState::Closed, &[opinion(1, true), opinion(2, false)]).unwrap_err();
        assert_eq!(
            err,
            ParticipationError::ReplyMissing {
                opinion: 2,
                from: "expert 2".into()
            }
        );
        assert!(err.to_string().starts_with("rule consultation-reply-to-every-opinion"));
        assert!(check_adoption(1, ConsultationState::Open, &[]).is_err());
    }
}
