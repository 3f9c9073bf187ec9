//! Participation beyond government (issue 13): self-governance compacts of villages and urban communities (村规民约 /
//! 居民公约), consultations of experts, think tanks and social organisations on a draft, and partners who handle cases.
//!
//! Everything here is pure: the state machines, who may comment and vote, how a vote is counted, the review at filing
//! against the forbidden-content guardrails, and the coverage report. Callers pass the time and what the store holds.
//! Every refusal is a [`ParticipationError`] whose message starts with the rule it applies, e.g.
//! `rule compact-one-account-one-vote: …`.

mod compact;
mod consultation;
mod coverage;

pub use compact::{
    COMPACT_GUIDANCE, Choice, Clause, CompactState, CompactStep, CompactVoteRules, ContentRule, ForbiddenClause,
    MAX_CLAUSE_CHARS, MAX_CLAUSES, Tally, VoteOutcome, content_rules, count_votes, is_compact_unit, may_comment,
    may_vote, national_compact_guardrails, parse_clauses, review_filing,
};
pub use consultation::{
    ConsultationState, ContributorKind, OpinionReply, ReplyVerdict, SubjectKind, check_adoption, check_reply,
    may_comment_on_consultation, may_give_opinion,
};
pub use coverage::{CompactCoverage, CountyCoverage, TownshipCoverage, VillageCompact, coverage};

use crate::territory::UnitCode;

/// Why a participation step was refused. Each message names the rule (and, where one applies, the article).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParticipationError {
    #[error(
        "rule compact-residents-only: account {account} is not a resident of {unit}; only the residents of a village \
         or community comment on and vote on its compact (Organic Law of Villagers' Committees, Art. 27)"
    )]
    NotResident { account: String, unit: UnitCode },
    #[error("rule compact-one-account-one-vote: account {account} has already voted on compact {compact}")]
    AlreadyVoted { account: String, compact: i64 },
    #[error("rule compact-vote-window: the vote on compact {compact} closed at {closed} (epoch seconds)")]
    VoteClosed { compact: i64, closed: i64 },
    #[error("rule compact-vote-window: compact {compact} is {state}, not open for a vote")]
    VoteNotOpen { compact: i64, state: CompactState },
    #[error("rule compact-comment-period: compact {compact} takes comments only during its comment period ({reason})")]
    CommentClosed { compact: i64, reason: String },
    #[error("rule compact-lifecycle: compact {compact} is {state} and cannot {step}{}", wait_note(.wait_until))]
    WrongState {
        compact: i64,
        state: CompactState,
        step: CompactStep,
        wait_until: Option<i64>,
    },
    #[error("rule compact-one-in-progress: {unit} already has version {version} of its compact in progress ({state})")]
    InProgress {
        unit: UnitCode,
        version: i64,
        state: CompactState,
    },
    #[error("rule compact-unit: {unit} is a {level}; compacts belong to villages and urban communities")]
    NotCompactUnit { unit: UnitCode, level: String },
    #[error("filing refused: {}", forbidden_list(.clauses))]
    ForbiddenContent { clauses: Vec<ForbiddenClause> },
    #[error(
        "rule consultation-invited-only: account {account} was not invited to give an opinion on consultation {consultation}"
    )]
    NotInvited { account: String, consultation: i64 },
    #[error(
        "rule consultation-in-scope: account {account} is not a resident of {unit}, the scope of consultation {consultation}"
    )]
    OutOfConsultationScope {
        account: String,
        unit: UnitCode,
        consultation: i64,
    },
    #[error("rule consultation-lifecycle: consultation {consultation} is {state} and cannot {step}")]
    ConsultationState {
        consultation: i64,
        state: ConsultationState,
        step: &'static str,
    },
    #[error(
        "rule consultation-reply-to-every-opinion: opinion {opinion} from {from} has no published reply; a draft is \
         adopted only after the unit has replied to every opinion"
    )]
    ReplyMissing { opinion: i64, from: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("compact rules in force: key `{key}`: {message}")]
    BadRule { key: String, message: String },
}

fn wait_note(until: &Option<i64>) -> String {
    until.map_or_else(String::new, |t| format!(" before {t} (epoch seconds)"))
}

fn forbidden_list(clauses: &[ForbiddenClause]) -> String {
    clauses.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ParticipationError {
    ParticipationError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}
