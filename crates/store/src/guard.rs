//! The rules at the store's door: every event the store writes — the log of a new case, an append — passes
//! [`domain::rules`] against the log it joins, in the transaction that writes it, on the clocks the case runs on.
//!
//! A case records the clocks it runs on when it is stored (the clocks in force where and when it was filed, decided
//! at intake), content-addressed in `clock_versions`: a later policy layer or pilot never moves its deadlines, and
//! the version stays loadable whatever is saved after. The store cannot know a calendar or the clocks of a case
//! stored before cases recorded theirs; the caller lends them through [`RuleBook`], but never the decision.

use std::borrow::Cow;

use domain::calendar::Calendar;
use domain::case::Reporter;
use domain::clock::ClockConfig;
use domain::rules::{self, RuleContext, RuleError};
use domain::{CaseEvent, CaseId, CaseKind, CaseStatus};

use crate::{CaseAccessRow, CaseRow, StoreError};

/// What the store needs, beyond what it holds, to check an event against [`domain::rules`].
pub trait RuleBook: Sync {
    /// The calendar on which the clocks count working days.
    fn calendar(&self) -> &Calendar;

    /// The clocks of a case whose row records none (stored before cases recorded the clocks they run on).
    fn unrecorded_clocks(&self, row: &CaseRow) -> Cow<'_, ClockConfig>;
}

/// A rule book of one calendar and one set of clocks for every case whose row records none: for tools and tests that
/// run on one set of clocks.
#[derive(Debug, Clone, Default)]
pub struct FixedRules {
    pub calendar: Calendar,
    pub clocks: ClockConfig,
}

impl RuleBook for FixedRules {
    fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    fn unrecorded_clocks(&self, _row: &CaseRow) -> Cow<'_, ClockConfig> {
        Cow::Borrowed(&self.clocks)
    }
}

/// The resident the rules protect (only they may rate, reopen or withdraw a case), as their own events name them: the
/// opaque [`domain::RESIDENT_ACTOR`], when the case has a resident on record (a signed-in filer or a reporter).
pub fn resident(access: Option<&CaseAccessRow>, reporter: Option<&Reporter>) -> Option<&'static str> {
    let on_record = access.is_some_and(|a| a.reporter_account.is_some()) || reporter.is_some();
    on_record.then_some(domain::RESIDENT_ACTOR)
}

/// What a log is checked against: the case as the rules see it.
pub(crate) struct Subject<'a> {
    pub case: CaseId,
    pub kind: CaseKind,
    pub channel: domain::Channel,
    pub category: &'a str,
    pub resident: Option<&'a str>,
    pub clocks: &'a ClockConfig,
    pub calendar: &'a Calendar,
}

/// The status of `log` after checking each of its events from `first_new` on against the events before it (those
/// before are already on record and only replayed; the first event, `created`, starts a log and is replayed).
pub(crate) fn check_log(subject: &Subject<'_>, log: &[CaseEvent], first_new: usize) -> Result<CaseStatus, StoreError> {
    let known = first_new.clamp(1, log.len().max(1));
    let mut status = CaseStatus::replay(subject.case, log.get(..known).unwrap_or(log)).map_err(RuleError::from)?;
    let ctx = RuleContext {
        case: subject.case,
        kind: subject.kind,
        channel: subject.channel,
        urgency: subject.clocks.urgency(subject.kind, subject.category),
        resident: subject.resident,
        config: subject.clocks,
        calendar: subject.calendar,
    };
    for (n, event) in log.iter().enumerate().skip(known) {
        rules::check_with_status(event, &log[..n], &status, &ctx)?;
        status.apply(event).map_err(RuleError::from)?;
    }
    Ok(status)
}

/// The version under which `clocks` are recorded: a hash of their JSON (FNV-1a, 64 bits, stable across builds), so
/// equal clocks share one row and a version names its clocks for good.
pub(crate) fn clocks_version(clocks: &ClockConfig) -> Result<(String, String), StoreError> {
    let json = serde_json::to_string(clocks).map_err(|e| StoreError::Corrupt(format!("clocks: {e}")))?;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in json.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Ok((format!("{hash:016x}"), json))
}

#[cfg(test)]
mod tests {
    use domain::calendar::Period;

    use super::*;

    #[test]
    fn equal_clocks_share_a_version_and_different_ones_do_not() {
        let base = ClockConfig::default();
        let mut tighter = base.clone();
        tighter.petition_handling = Period::Days(45);
        let version = |c: &ClockConfig| clocks_version(c).expect("serialises").0;
        assert_eq!(version(&base), version(&ClockConfig::default()));
        assert_ne!(version(&base), version(&tighter));
        assert_eq!(version(&base).len(), 16);
    }
}
