//! The guard called before an event is appended: the state machine plus the workflow rules of the Regulations.
//!
//! [`check`] answers one question — may this event be appended to this log? — and on "no" names the rule and where
//! it comes from. The state machine ([`CaseStatus::apply`]) already says which verbs a state allows; this adds the
//! limits that depend on time, people and numbers: one extension of at most 30 days (Art. 34), the 30-day review and
//! re-examination windows (Art. 35, 36), the 5-working-day window to dispute a dispatch (Art. 23 §3), that only the
//! resident who filed may rate a reply, and the shape of whistles and mediation outcomes.

use time::OffsetDateTime;

use crate::calendar::Calendar;
use crate::case::{CaseEvent, CaseId, CaseKind, CaseState, CaseStatus, Channel, EventKind, TransitionError};
use crate::clock::{self, ClockConfig, ClockName, Urgency};
use crate::office::OfficeId;
use crate::said::{Said, name};
use crate::territory::Level;

pub const ART_23: &str = "2022 Regulations on Letters and Visits Work Art. 23";
pub const ART_19: &str = "2022 Regulations on Letters and Visits Work Art. 19";
pub const ART_23_3: &str = "2022 Regulations on Letters and Visits Work Art. 23 §3";
pub const ART_34: &str = "2022 Regulations on Letters and Visits Work Art. 34";
pub const ART_35: &str = "2022 Regulations on Letters and Visits Work Art. 35";
pub const ART_36: &str = "2022 Regulations on Letters and Visits Work Art. 36";
pub const MEDIATION_LAW_29: &str = "People's Mediation Law 2010 Art. 29";
pub const WHISTLE: &str = "township whistles, departments report (街乡吹哨、部门报到)";
pub const FEEDBACK: &str = "resident feedback rules";
pub const CLOCK_CONFIG: &str = "the deployment's clock configuration";
/// Joint matters: one matter raised by many is handled once, and every voice counts (FixMyStreet's "me too" on a
/// public report).
pub const CO_SIGNING: &str = "joint matters: one matter, handled once, every voice counted";

/// Why an event may not be appended.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuleError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("{rule} ({cite}): {detail}")]
    Broken {
        /// A short name of the rule, stable enough to match on.
        rule: &'static str,
        /// Where the rule comes from.
        cite: &'static str,
        detail: Said,
    },
}

impl RuleError {
    pub fn rule(&self) -> &'static str {
        match self {
            RuleError::Transition(_) => "state machine",
            RuleError::Broken { rule, .. } => rule,
        }
    }

    /// The refusal as a message each interface words in its language: the rule, where it comes from and why, or
    /// the state machine's refusal with the state and the event named.
    pub fn said(&self) -> Said {
        match self {
            RuleError::Broken { rule, cite, detail } => crate::said!(
                "rule-broken",
                "{rule} ({cite}): {detail}",
                rule = name("rule", *rule),
                cite = name("cite", *cite),
                detail = detail.clone(),
            ),
            RuleError::Transition(e) => e.said(),
        }
    }
}

fn broken(rule: &'static str, cite: &'static str, detail: Said) -> RuleError {
    RuleError::Broken { rule, cite, detail }
}

/// What the guard needs to know about the case beyond its log.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    pub case: CaseId,
    pub kind: CaseKind,
    /// How the case came in: a call-back records a rating only for residents who cannot rate online.
    pub channel: Channel,
    pub urgency: Urgency,
    /// The resident who filed, when one is on record: the actor their own events carry
    /// ([`crate::case::RESIDENT_ACTOR`]).
    pub resident: Option<&'a str>,
    pub config: &'a ClockConfig,
    pub calendar: &'a Calendar,
}

/// `what` names the missing text in the `what` vocabulary ("the reason", "the team" …).
fn require_text(text: &str, rule: &'static str, cite: &'static str, what: &'static str) -> Result<(), RuleError> {
    if text.trim().is_empty() {
        return Err(broken(
            rule,
            cite,
            crate::said!(
                "detail-text-empty",
                "{what} must not be empty",
                what = name("what", what)
            ),
        ));
    }
    Ok(())
}

fn fmt_at(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// May `event` be appended to `log`? Call before appending; on error nothing may be recorded.
pub fn check(event: &CaseEvent, log: &[CaseEvent], ctx: &RuleContext<'_>) -> Result<(), RuleError> {
    let status = CaseStatus::replay(ctx.case, log)?;
    check_with_status(event, log, &status, ctx)
}

/// [`check`] for a caller that already holds the status replayed from `log` (the simulator keeps it as it goes).
pub fn check_with_status(
    event: &CaseEvent,
    log: &[CaseEvent],
    status: &CaseStatus,
    ctx: &RuleContext<'_>,
) -> Result<(), RuleError> {
    let mut status = status.clone();
    if let Some(last) = log.last()
        && event.at < last.at
    {
        return Err(TransitionError::OutOfOrder {
            case: ctx.case,
            event: event.kind.name(),
            at: event.at,
        }
        .into());
    }
    let before = status.clone();
    status.apply(event)?;
    let petition = ctx.kind == CaseKind::Petition;
    let cfg = ctx.config;
    let cal = ctx.calendar;
    match &event.kind {
        EventKind::Extended { days, reason, approver } => {
            let cite = if petition { ART_34 } else { CLOCK_CONFIG };
            if before.extensions >= cfg.max_extensions {
                return Err(broken(
                    "one extension only",
                    cite,
                    crate::said!(
                        "detail-already-extended",
                        "case {case} was already extended {times} time(s)",
                        case = ctx.case,
                        times = before.extensions,
                    ),
                ));
            }
            if *days == 0 || *days > cfg.max_extension_days {
                return Err(broken(
                    "extension limit",
                    cite,
                    crate::said!(
                        "detail-extension-days",
                        "an extension of {days} days; the limit is 1 to {limit} days",
                        days = *days,
                        limit = cfg.max_extension_days,
                    ),
                ));
            }
            require_text(reason, "extension needs a reason", cite, "the reason")?;
            require_text(approver, "extension needs an approver", cite, "the approver")?;
            let work = if petition {
                ClockName::Handling
            } else {
                ClockName::Response
            };
            let running = clock::deadlines(ctx.kind, ctx.urgency, log, cfg, cal)
                .into_iter()
                .rfind(|d| d.clock == work && d.is_running());
            match running {
                None => {
                    return Err(broken(
                        "extension needs a running clock",
                        cite,
                        crate::said!(
                            "detail-no-running-clock",
                            "case {case} has no running {clock} clock to extend",
                            case = ctx.case,
                            clock = name("clock", work.as_str()),
                        ),
                    ));
                }
                Some(d) if event.at > d.due => {
                    return Err(broken(
                        "extension before the period ends",
                        cite,
                        crate::said!(
                            "detail-period-ended",
                            "the {clock} period ended at {at}",
                            clock = name("clock", work.as_str()),
                            at = fmt_at(d.due),
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        EventKind::ReviewRequested | EventKind::ReexaminationRequested => {
            let review = matches!(event.kind, EventKind::ReviewRequested);
            let (cite, what, closes) = if review {
                (ART_35, "review", clock::review_request_closes(log, cfg, cal))
            } else {
                (
                    ART_36,
                    "re-examination",
                    clock::reexamination_request_closes(log, cfg, cal),
                )
            };
            if !petition {
                return Err(broken(
                    "review is for petitions",
                    cite,
                    crate::said!(
                        "detail-no-review",
                        "a {kind} case has no {what}; reopen it instead",
                        kind = name("kind", ctx.kind.as_str()),
                        what = name("what", what),
                    ),
                ));
            }
            if let Some(closes) = closes
                && event.at > closes
            {
                return Err(broken(
                    "request window",
                    cite,
                    crate::said!(
                        "detail-request-window",
                        "the window to request {what} closed at {at}",
                        what = name("what", what),
                        at = fmt_at(closes),
                    ),
                ));
            }
        }
        EventKind::Rated { by, .. } => {
            only_the_resident(by, ctx, "rate")?;
            one_rating_per_reply(&before, ctx)?;
            within_rating_window(event.at, log, ctx, "rate")?;
        }
        EventKind::Callback {
            rating: Some(_), text, ..
        } => {
            if !CALLBACK_CHANNELS.contains(&ctx.channel) {
                return Err(broken(
                    "call-back ratings are for residents who cannot rate online",
                    FEEDBACK,
                    crate::said!(
                        "detail-callback-channel",
                        "case {case} came in by {channel}; its resident rates it online (call-backs record ratings \
                         of cases filed by hotline, letter, visit or Open311)",
                        case = ctx.case,
                        channel = name("channel", ctx.channel.to_string()),
                    ),
                ));
            }
            require_text(
                text,
                "call-back needs a note",
                FEEDBACK,
                "the note of what the resident said",
            )?;
            one_rating_per_reply(&before, ctx)?;
            within_rating_window(event.at, log, ctx, "record a call-back rating for")?;
        }
        EventKind::Withdrawn { reason } => {
            only_the_resident(&event.actor, ctx, "withdraw")?;
            require_text(reason, "withdrawal needs a reason", FEEDBACK, "the reason")?;
        }
        EventKind::Assigned { office, .. } if office != &before.office => {
            return Err(broken(
                "first-receiver responsibility",
                ART_23_3,
                crate::said!(
                    "detail-assign-keeps",
                    "case {case} is held by {office}; assigning keeps it there (to move it, transfer it within the \
                     dispute window)",
                    case = ctx.case,
                    office = &before.office,
                ),
            ));
        }
        EventKind::Reopened { reason } => {
            if petition {
                return Err(broken(
                    "petitions are reviewed, not reopened",
                    ART_35,
                    crate::said!(
                        "detail-petition-review",
                        "a petitioner who disagrees with the reply requests a review"
                    ),
                ));
            }
            only_the_resident(&event.actor, ctx, "reopen")?;
            require_text(reason, "reopen needs a reason", FEEDBACK, "the reason")?;
            if matches!(before.rating, Some(r) if r != crate::case::Rating::Unsatisfied) {
                return Err(broken(
                    "reopen after an unsatisfied rating",
                    FEEDBACK,
                    crate::said!(
                        "detail-rated-satisfied",
                        "case {case} was rated satisfied",
                        case = ctx.case
                    ),
                ));
            }
            within_rating_window(event.at, log, ctx, "reopen")?;
        }
        EventKind::Rerouted {
            from_office,
            to_office,
            reason,
        } => {
            if from_office != &before.office {
                return Err(broken(
                    "first-receiver responsibility",
                    ART_23_3,
                    crate::said!(
                        "detail-dispute-holder",
                        "only the office holding the case ({holder}) may dispute its dispatch, not {office}",
                        holder = &before.office,
                        office = from_office,
                    ),
                ));
            }
            if to_office == from_office {
                return Err(broken(
                    "re-route to another office",
                    ART_23_3,
                    crate::said!("detail-already-there", "the case is already there"),
                ));
            }
            require_text(reason, "dispute needs a reason", ART_23_3, "the reason for the dispute")?;
            if let Some(closes) = clock::dispute_closes(log, from_office, cfg, cal)
                && event.at > closes
            {
                return Err(broken(
                    "dispute window",
                    ART_23_3,
                    crate::said!(
                        "detail-dispute-closed",
                        "{office} could dispute the dispatch until {at}; it keeps the case",
                        office = from_office,
                        at = fmt_at(closes),
                    ),
                ));
            }
        }
        EventKind::Returned { to_office, reason } => {
            if to_office == &before.office {
                return Err(broken(
                    "return to another office",
                    ART_19,
                    crate::said!("detail-already-there", "the case is already there"),
                ));
            }
            require_text(reason, "return needs a reason", ART_19, "the reason")?;
        }
        EventKind::Whistle { offices, due, reason } => {
            require_text(reason, "whistle needs a reason", WHISTLE, "the reason")?;
            let holder = OfficeId::parse(&before.office).ok();
            let township = holder.as_ref().filter(|o| o.level() == Level::Township);
            let Some(township) = township else {
                return Err(broken(
                    "only a township whistles",
                    WHISTLE,
                    crate::said!(
                        "detail-not-township",
                        "the case is held by {office}, not a township office",
                        office = &before.office,
                    ),
                ));
            };
            if offices.is_empty() {
                return Err(broken(
                    "whistle summons a department",
                    WHISTLE,
                    crate::said!("detail-no-department", "no department named"),
                ));
            }
            for office in offices {
                let county = township.unit().parent_code();
                let ok = OfficeId::parse(office)
                    .ok()
                    .is_some_and(|o| o.level() == Level::County && Some(o.unit()) == county.as_ref());
                if !ok {
                    return Err(broken(
                        "whistle summons a county department",
                        WHISTLE,
                        crate::said!(
                            "detail-not-county-department",
                            "{office} is not a department of the township's county",
                            office = office,
                        ),
                    ));
                }
            }
            if *due <= event.at.unix_timestamp() {
                return Err(broken(
                    "whistle needs a future deadline",
                    WHISTLE,
                    crate::said!("detail-due-passed", "the due time has passed"),
                ));
            }
        }
        EventKind::DepartmentReported { office, .. } => {
            if !before.whistled_offices.contains(office) {
                return Err(broken(
                    "only a summoned department reports",
                    WHISTLE,
                    crate::said!(
                        "detail-not-summoned",
                        "{office} was not summoned on case {case}",
                        office = office,
                        case = ctx.case,
                    ),
                ));
            }
            let whistled = before.whistled_offices.iter().filter(|o| *o == office).count();
            let reported = before.reported_offices.iter().filter(|o| *o == office).count();
            if reported >= whistled {
                return Err(broken(
                    "one report per summons",
                    WHISTLE,
                    crate::said!(
                        "detail-already-reported",
                        "{office} has already reported",
                        office = office
                    ),
                ));
            }
        }
        EventKind::MediationStarted { team } => {
            require_text(team, "mediation needs a team", MEDIATION_LAW_29, "the team")?
        }
        EventKind::MediationSettled { agreement, parties } => {
            require_text(
                agreement,
                "settlement needs an agreement",
                MEDIATION_LAW_29,
                "the agreement text",
            )?;
            if parties.len() < 2 {
                return Err(broken(
                    "settlement binds the parties",
                    MEDIATION_LAW_29,
                    crate::said!("detail-two-parties", "a mediation agreement names at least two parties"),
                ));
            }
        }
        EventKind::MediationFailed { reason, .. } => require_text(
            reason,
            "failed mediation needs a reason",
            MEDIATION_LAW_29,
            "the reason",
        )?,
        EventKind::Replied { text } => require_text(text, "reply needs text", FEEDBACK, "the reply")?,
        EventKind::NotAccepted { reason, refer_to } => {
            require_text(reason, "non-acceptance needs a reason", ART_23, "the reason")?;
            if petition {
                require_text(
                    refer_to,
                    "non-acceptance names the right channel",
                    ART_23,
                    "the channel the petitioner should use instead (refer_to)",
                )?;
            }
        }
        EventKind::CoSigned { voice } => {
            if !crate::disclosure::is_public_kind(ctx.kind) {
                return Err(broken(
                    "co-sign a public case",
                    CO_SIGNING,
                    crate::said!(
                        "detail-cosign-not-public",
                        "case {case} is a {kind}, which names people and is never public; a resident files their own",
                        case = ctx.case,
                        kind = name("kind", ctx.kind.as_str()),
                    ),
                ));
            }
            if event.actor != crate::case::CO_SIGNER_ACTOR || voice.is_empty() {
                return Err(broken(
                    "co-sign a public case",
                    CO_SIGNING,
                    crate::said!(
                        "detail-cosign-voice",
                        "a voice is added by a signed-in resident, recorded as (co-signer) with its digest"
                    ),
                ));
            }
            if before.voices.contains(voice) {
                return Err(broken(
                    "one voice per resident",
                    CO_SIGNING,
                    crate::said!(
                        "detail-voice-added",
                        "this account has already added its voice to case {case}",
                        case = ctx.case,
                    ),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks `event` and appends it to `log` only when every rule allows it; on error the log is unchanged.
pub fn append(log: &mut Vec<CaseEvent>, event: CaseEvent, ctx: &RuleContext<'_>) -> Result<(), RuleError> {
    check(&event, log, ctx)?;
    log.push(event);
    Ok(())
}

/// `verb` names the step in the `verb` vocabulary ("rate", "withdraw", "reopen").
fn only_the_resident(who: &str, ctx: &RuleContext<'_>, verb: &'static str) -> Result<(), RuleError> {
    match ctx.resident {
        Some(resident) if resident == who => Ok(()),
        Some(_) => Err(broken(
            "only the resident who filed",
            FEEDBACK,
            crate::said!(
                "detail-not-the-resident",
                "{who} may not {verb} case {case}: only the resident who filed it may",
                who = format!("{who:?}"),
                verb = name("verb", verb),
                case = ctx.case,
            ),
        )),
        None => Err(broken(
            "only the resident who filed",
            FEEDBACK,
            crate::said!(
                "detail-no-resident",
                "case {case} has no resident on record, so nobody may {verb} it",
                case = ctx.case,
                verb = name("verb", verb),
            ),
        )),
    }
}

/// The channels whose residents are called back for their rating (they never sign in to rate).
pub const CALLBACK_CHANNELS: [Channel; 4] = [Channel::Hotline, Channel::Letter, Channel::Visit, Channel::Open311];

fn one_rating_per_reply(before: &CaseStatus, ctx: &RuleContext<'_>) -> Result<(), RuleError> {
    if before.rating.is_some() {
        return Err(broken(
            "one rating per reply",
            FEEDBACK,
            crate::said!(
                "detail-already-rated",
                "case {case} is already rated; reopen it to rate a new reply",
                case = ctx.case,
            ),
        ));
    }
    Ok(())
}

fn within_rating_window(
    at: OffsetDateTime,
    log: &[CaseEvent],
    ctx: &RuleContext<'_>,
    verb: &'static str,
) -> Result<(), RuleError> {
    if let Some(closes) = clock::rating_closes(log, ctx.config, ctx.calendar)
        && at > closes
    {
        return Err(broken(
            "feedback window",
            FEEDBACK,
            crate::said!(
                "detail-feedback-window",
                "the window to {verb} case {case} closed at {at}",
                verb = name("verb", verb),
                case = ctx.case,
                at = fmt_at(closes),
            ),
        ));
    }
    Ok(())
}

/// A new petition by the same person on the same facts as a matter that is final after re-examination is not
/// accepted again (Art. 36). `prior` holds the logs of that person's earlier cases on the matter.
pub fn check_new_petition(prior: &[(CaseId, &[CaseEvent])]) -> Result<(), RuleError> {
    for (case, log) in prior {
        if let Ok(status) = CaseStatus::replay(*case, log)
            && status.state == CaseState::Final
        {
            return Err(broken(
                "a final matter is not accepted again",
                ART_36,
                crate::said!(
                    "detail-final-matter",
                    "the same matter was finally settled as case {case}",
                    case = *case,
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{OnwardRoute, Rating};
    use crate::clock::tests::{accepted, created, ev, replied};
    use time::macros::datetime;

    fn ctx<'a>(kind: CaseKind, cfg: &'a ClockConfig, cal: &'a Calendar) -> RuleContext<'a> {
        RuleContext {
            case: 7,
            kind,
            channel: Channel::Hotline,
            urgency: Urgency::General,
            resident: Some("resident-1"),
            config: cfg,
            calendar: cal,
        }
    }

    /// Checks `event` against `log` and compares the outcome with `expected` (`Ok` or the rule's name).
    fn check_rule(kind: CaseKind, log: &[CaseEvent], event: CaseEvent, expected: Result<(), &str>) {
        let cfg = ClockConfig::default();
        let cal = Calendar::china();
        let got = check(&event, log, &ctx(kind, &cfg, &cal));
        match (got, expected) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(rule)) => assert_eq!(e.rule(), rule, "{e}"),
            (got, expected) => panic!("got {got:?}, expected {expected:?}"),
        }
    }

    fn extend(at: OffsetDateTime, days: u32) -> CaseEvent {
        ev(
            at,
            EventKind::Extended {
                days,
                reason: "site survey".into(),
                approver: "head".into(),
            },
        )
    }

    fn petition_in_handling() -> Vec<CaseEvent> {
        vec![
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-10 10:00 +8)),
        ]
    }

    #[test]
    fn art_34_allows_one_extension_of_at_most_30_days() {
        let log = petition_in_handling();
        let at = datetime!(2025-04-20 10:00 +8);
        check_rule(CaseKind::Petition, &log, extend(at, 30), Ok(()));
        check_rule(CaseKind::Petition, &log, extend(at, 31), Err("extension limit"));
        check_rule(CaseKind::Petition, &log, extend(at, 0), Err("extension limit"));
        let mut once = log.clone();
        once.push(extend(at, 10));
        check_rule(CaseKind::Petition, &once, extend(at, 10), Err("one extension only"));
        let no_approver = ev(
            at,
            EventKind::Extended {
                days: 10,
                reason: "survey".into(),
                approver: " ".into(),
            },
        );
        check_rule(
            CaseKind::Petition,
            &log,
            no_approver,
            Err("extension needs an approver"),
        );
    }

    #[test]
    fn art_34_an_extension_comes_before_the_period_ends() {
        let log = petition_in_handling();
        // Handling ends with 9 May 2025 (60 days from 10 March).
        check_rule(
            CaseKind::Petition,
            &log,
            extend(datetime!(2025-05-09 23:59 +8), 30),
            Ok(()),
        );
        check_rule(
            CaseKind::Petition,
            &log,
            extend(datetime!(2025-05-10 00:01 +8), 30),
            Err("extension before the period ends"),
        );
    }

    #[test]
    fn an_extension_error_names_the_article() {
        let cfg = ClockConfig::default();
        let cal = Calendar::china();
        let err = check(
            &extend(datetime!(2025-04-20 10:00 +8), 45),
            &petition_in_handling(),
            &ctx(CaseKind::Petition, &cfg, &cal),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "extension limit (2022 Regulations on Letters and Visits Work Art. 34): an extension of 45 days; the limit is 1 to 30 days"
        );
    }

    #[test]
    fn art_35_a_review_is_requested_within_30_days_of_the_written_reply() {
        let mut log = petition_in_handling();
        log.push(replied(datetime!(2025-03-20 10:00 +8)));
        // 30 days end on Saturday 19 April and roll over to Monday 21 April.
        let review = |at| ev(at, EventKind::ReviewRequested);
        check_rule(CaseKind::Petition, &log, review(datetime!(2025-04-21 23:00 +8)), Ok(()));
        check_rule(
            CaseKind::Petition,
            &log,
            review(datetime!(2025-04-22 08:00 +8)),
            Err("request window"),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            review(datetime!(2025-03-21 08:00 +8)),
            Err("review is for petitions"),
        );
    }

    #[test]
    fn art_36_reexamination_window_and_finality() {
        let mut log = petition_in_handling();
        log.push(replied(datetime!(2025-03-20 10:00 +8)));
        log.push(ev(datetime!(2025-03-25 10:00 +8), EventKind::ReviewRequested));
        log.push(ev(
            datetime!(2025-04-10 10:00 +8),
            EventKind::ReviewDecided { text: "upheld".into() },
        ));
        let reexamine = |at| ev(at, EventKind::ReexaminationRequested);
        // 30 days from 10 April end on 10 May 2025, a Saturday, so the window rolls to Monday 12 May.
        check_rule(
            CaseKind::Petition,
            &log,
            reexamine(datetime!(2025-05-12 18:00 +8)),
            Ok(()),
        );
        check_rule(
            CaseKind::Petition,
            &log,
            reexamine(datetime!(2025-05-13 09:00 +8)),
            Err("request window"),
        );
        log.push(reexamine(datetime!(2025-05-01 10:00 +8)));
        log.push(ev(
            datetime!(2025-05-20 10:00 +8),
            EventKind::ReexaminationDecided { text: "upheld".into() },
        ));
        assert_eq!(
            check_new_petition(&[(7, &log)]).unwrap_err().rule(),
            "a final matter is not accepted again"
        );
        assert!(check_new_petition(&[(7, &log[..4])]).is_ok());
        // And the final matter itself takes no more requests.
        check_rule(
            CaseKind::Petition,
            &log,
            reexamine(datetime!(2025-05-21 10:00 +8)),
            Err("state machine"),
        );
    }

    fn replied_request() -> Vec<CaseEvent> {
        vec![
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-03 11:00 +8)),
            replied(datetime!(2025-03-04 10:00 +8)),
        ]
    }

    fn rate(at: OffsetDateTime, by: &str, rating: Rating) -> CaseEvent {
        ev(at, EventKind::Rated { rating, by: by.into() })
    }

    #[test]
    fn only_the_resident_who_filed_may_rate_within_the_window() {
        let log = replied_request();
        let at = datetime!(2025-03-05 10:00 +8);
        check_rule(
            CaseKind::Complaint,
            &log,
            rate(at, "resident-1", Rating::Satisfied),
            Ok(()),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            rate(at, "caseworker-9", Rating::Satisfied),
            Err("only the resident who filed"),
        );
        // Seven days from 4 March end with 11 March.
        check_rule(
            CaseKind::Complaint,
            &log,
            rate(datetime!(2025-03-12 00:01 +8), "resident-1", Rating::Satisfied),
            Err("feedback window"),
        );
        let mut rated = log.clone();
        rated.push(rate(at, "resident-1", Rating::Unsatisfied));
        check_rule(
            CaseKind::Complaint,
            &rated,
            rate(at, "resident-1", Rating::Satisfied),
            Err("one rating per reply"),
        );
    }

    #[test]
    fn an_unhappy_resident_may_reopen_but_a_satisfied_one_may_not() {
        let at = datetime!(2025-03-05 10:00 +8);
        let reopen = |who: &str| CaseEvent {
            at,
            actor: who.into(),
            kind: EventKind::Reopened {
                reason: "still broken".into(),
            },
        };
        let mut unhappy = replied_request();
        unhappy.push(rate(at, "resident-1", Rating::Unsatisfied));
        check_rule(CaseKind::Complaint, &unhappy, reopen("resident-1"), Ok(()));
        check_rule(
            CaseKind::Complaint,
            &unhappy,
            reopen("someone"),
            Err("only the resident who filed"),
        );
        let mut happy = replied_request();
        happy.push(rate(at, "resident-1", Rating::Satisfied));
        check_rule(
            CaseKind::Complaint,
            &happy,
            reopen("resident-1"),
            Err("reopen after an unsatisfied rating"),
        );
        let mut petition = petition_in_handling();
        petition.push(replied(datetime!(2025-03-11 10:00 +8)));
        let mut again = reopen("resident-1");
        again.at = datetime!(2025-03-12 10:00 +8);
        check_rule(
            CaseKind::Petition,
            &petition,
            again,
            Err("petitions are reviewed, not reopened"),
        );
    }

    fn reroute(at: OffsetDateTime, from: &str) -> CaseEvent {
        ev(
            at,
            EventKind::Rerouted {
                from_office: from.into(),
                to_office: "330502:housing".into(),
                reason: "building safety is a county matter".into(),
            },
        )
    }

    #[test]
    fn art_23_3_the_receiver_disputes_within_5_working_days_or_keeps_the_case() {
        // Received Thu 2025-09-25; the 5th working day is Thu 9 October (after the National Day holiday).
        let log = [created(datetime!(2025-09-25 16:00 +8))];
        check_rule(
            CaseKind::Complaint,
            &log,
            reroute(datetime!(2025-10-09 17:00 +8), "330502001:gov"),
            Ok(()),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            reroute(datetime!(2025-10-10 09:00 +8), "330502001:gov"),
            Err("dispute window"),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            reroute(datetime!(2025-09-26 09:00 +8), "330502002:gov"),
            Err("first-receiver responsibility"),
        );
    }

    #[test]
    fn a_township_whistles_departments_of_its_own_county() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-03 11:00 +8)),
        ];
        let at = datetime!(2025-03-04 10:00 +8);
        let whistle = |offices: &[&str], due: OffsetDateTime| {
            ev(
                at,
                EventKind::Whistle {
                    offices: offices.iter().map(|s| s.to_string()).collect(),
                    due: due.unix_timestamp(),
                    reason: "illegal construction".into(),
                },
            )
        };
        let due = datetime!(2025-03-06 10:00 +8);
        check_rule(
            CaseKind::Complaint,
            &log,
            whistle(&["330502:urban_management", "330502:housing"], due),
            Ok(()),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            whistle(&["330503:housing"], due),
            Err("whistle summons a county department"),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            whistle(&[], due),
            Err("whistle summons a department"),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            whistle(&["330502:housing"], at),
            Err("whistle needs a future deadline"),
        );
        let mut whistled = log.to_vec();
        whistled.push(whistle(&["330502:housing"], due));
        let report = |office: &str| {
            ev(
                datetime!(2025-03-05 10:00 +8),
                EventKind::DepartmentReported {
                    office: office.into(),
                    text: "on site".into(),
                },
            )
        };
        check_rule(CaseKind::Complaint, &whistled, report("330502:housing"), Ok(()));
        check_rule(
            CaseKind::Complaint,
            &whistled,
            report("330502:health"),
            Err("only a summoned department reports"),
        );
        whistled.push(report("330502:housing"));
        check_rule(
            CaseKind::Complaint,
            &whistled,
            report("330502:housing"),
            Err("one report per summons"),
        );
    }

    #[test]
    fn a_settlement_names_its_parties_and_a_failure_routes_onward() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            accepted(datetime!(2025-03-03 11:00 +8)),
            ev(
                datetime!(2025-03-04 10:00 +8),
                EventKind::MediationStarted { team: "t1".into() },
            ),
        ];
        let at = datetime!(2025-03-05 10:00 +8);
        let settle = |parties: &[&str]| {
            ev(
                at,
                EventKind::MediationSettled {
                    agreement: "the wall is rebuilt at shared cost".into(),
                    parties: parties.iter().map(|s| s.to_string()).collect(),
                },
            )
        };
        check_rule(CaseKind::Dispute, &log, settle(&["Shen", "Lu"]), Ok(()));
        check_rule(
            CaseKind::Dispute,
            &log,
            settle(&["Shen"]),
            Err("settlement binds the parties"),
        );
        let fail = ev(
            at,
            EventKind::MediationFailed {
                route: OnwardRoute::Litigation,
                reason: "boundary contested".into(),
            },
        );
        check_rule(CaseKind::Dispute, &log, fail, Ok(()));
    }

    #[test]
    fn the_state_machine_comes_first_and_time_runs_forward() {
        let log = [created(datetime!(2025-03-03 10:00 +8))];
        check_rule(
            CaseKind::Complaint,
            &log,
            ev(datetime!(2025-03-04 10:00 +8), EventKind::Closed),
            Err("state machine"),
        );
        check_rule(
            CaseKind::Complaint,
            &log,
            accepted(datetime!(2025-03-02 10:00 +8)),
            Err("state machine"),
        );
    }

    fn callback(at: OffsetDateTime, rating: Option<Rating>) -> CaseEvent {
        ev(
            at,
            EventKind::Callback {
                text: "called back; the lamp works".into(),
                rating,
            },
        )
    }

    #[test]
    fn a_call_back_records_the_rating_of_a_resident_who_filed_offline_once_per_reply() {
        let log = replied_request();
        let at = datetime!(2025-03-05 10:00 +8);
        // The context's case came in by hotline.
        check_rule(
            CaseKind::ServiceRequest,
            &log,
            callback(at, Some(Rating::Satisfied)),
            Ok(()),
        );
        let mut rated = log.clone();
        rated.push(callback(at, Some(Rating::Satisfied)));
        check_rule(
            CaseKind::ServiceRequest,
            &rated,
            callback(at, Some(Rating::Unsatisfied)),
            Err("one rating per reply"),
        );
        // A call-back without a rating (a late case explained) is always allowed.
        check_rule(CaseKind::ServiceRequest, &rated, callback(at, None), Ok(()));
        // A web filer rates online: a call-back may not rate for them.
        let cfg = ClockConfig::default();
        let cal = Calendar::china();
        let web = RuleContext {
            channel: Channel::Web,
            ..ctx(CaseKind::ServiceRequest, &cfg, &cal)
        };
        let err = check(&callback(at, Some(Rating::Satisfied)), &log, &web).unwrap_err();
        assert_eq!(err.rule(), "call-back ratings are for residents who cannot rate online");
        // Before the reply there is nothing to rate.
        check_rule(
            CaseKind::ServiceRequest,
            &log[..2],
            callback(at, Some(Rating::Satisfied)),
            Err("state machine"),
        );
    }

    #[test]
    fn only_the_resident_withdraws_and_only_before_the_reply() {
        let log = petition_in_handling();
        let at = datetime!(2025-03-12 10:00 +8);
        let withdraw = |actor: &str| CaseEvent {
            at,
            actor: actor.into(),
            kind: EventKind::Withdrawn {
                reason: "filed by mistake".into(),
            },
        };
        check_rule(CaseKind::Petition, &log, withdraw("resident-1"), Ok(()));
        check_rule(
            CaseKind::Petition,
            &log,
            withdraw("caseworker"),
            Err("only the resident who filed"),
        );
        let mut answered = log.clone();
        answered.push(replied(datetime!(2025-03-11 10:00 +8)));
        check_rule(
            CaseKind::Petition,
            &answered,
            withdraw("resident-1"),
            Err("state machine"),
        );
    }

    #[test]
    fn art_23_3_assigning_keeps_the_case_in_the_holding_office() {
        let log = petition_in_handling();
        let assign = |office: &str| {
            ev(
                datetime!(2025-03-12 10:00 +8),
                EventKind::Assigned {
                    office: office.into(),
                    staff: Some("wang".into()),
                },
            )
        };
        check_rule(CaseKind::Petition, &log, assign("330502001:gov"), Ok(()));
        check_rule(
            CaseKind::Petition,
            &log,
            assign("330502:housing"),
            Err("first-receiver responsibility"),
        );
    }

    #[test]
    fn art_23_a_petition_is_declined_with_the_channel_to_use_instead() {
        let log = vec![created(datetime!(2025-03-03 10:00 +8))];
        let decline = |refer_to: &str| {
            ev(
                datetime!(2025-03-04 10:00 +8),
                EventKind::NotAccepted {
                    reason: "a labour dispute under arbitration".into(),
                    refer_to: refer_to.into(),
                },
            )
        };
        check_rule(
            CaseKind::Petition,
            &log,
            decline("labour arbitration commission"),
            Ok(()),
        );
        let err = check(
            &decline(""),
            &log,
            &ctx(CaseKind::Petition, &ClockConfig::default(), &Calendar::china()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Art. 23"), "{err}");
    }
}
