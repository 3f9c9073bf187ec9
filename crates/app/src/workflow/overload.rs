//! The overload alert (issue 14, part 1), raised by `tick` beside the deadline alerts and read in the same inbox.
//!
//! Each tick counts the open cases of every office and of every staff member last assigned one, compares them with
//! the threshold the policy in force at the office's unit sets (`domain::overload`), and records each overload once
//! per month (the store's key is the memory); the inbox of an office lists the alerts addressed to it or its heads.

use std::collections::BTreeMap;

use domain::access::{self, Principal, UnitAction};
use domain::calendar::Calendar;
use domain::office::{Directory, OfficeId};
use domain::overload::{self, Load, OverloadRule, Subject};
use domain::policy::PolicyBook;
use domain::{CaseEvent, UnitCode};
use serde::Serialize;
use store::{CaseRow, OverloadAlertRow, Store};
use time::OffsetDateTime;

use super::WorkflowError;
use super::workload::assigned_staff;

/// An overload alert as an inbox shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverloadAlertView {
    pub subject: Subject,
    /// The office or staff member overloaded.
    pub holder: String,
    pub office: String,
    /// `YYYY-MM`.
    pub month: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub open_cases: u32,
    pub workers: u32,
    /// Open cases per worker: the figure that passed the threshold.
    pub per_worker: f64,
    pub threshold: u32,
}

/// The open cases of every office and every staff member last assigned one, with the office's workers on record.
fn loads(open: &[(CaseRow, Vec<CaseEvent>)], directory: &Directory) -> Vec<Load> {
    let mut counts: BTreeMap<(Subject, String), (OfficeId, u32)> = BTreeMap::new();
    for (row, log) in open {
        let Ok(office) = OfficeId::parse(&row.office) else {
            continue; // a case not yet routed to an office on record loads nobody
        };
        counts
            .entry((Subject::Office, row.office.clone()))
            .or_insert_with(|| (office.clone(), 0))
            .1 += 1;
        if let Some((staff_office, staff)) = assigned_staff(log)
            && let Ok(staff_office) = OfficeId::parse(&staff_office)
        {
            counts
                .entry((Subject::Staff, staff))
                .or_insert_with(|| (staff_office, 0))
                .1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|((subject, id), (office, open_cases))| Load {
            workers: match subject {
                Subject::Office => overload::workers_of(directory, &office),
                Subject::Staff => 1,
            },
            subject,
            id,
            office,
            open_cases,
        })
        .collect()
}

/// Finds the overloads among the open cases `open` at `now` and records those not yet recorded this month; returns
/// the newly recorded. A unit whose policy sets an unusable threshold is refused naming the key.
pub(crate) async fn raise_overload_alerts(
    store: &Store,
    book: &PolicyBook,
    open: &[(CaseRow, Vec<CaseEvent>)],
    directory: &Directory,
    calendar: &Calendar,
    now: OffsetDateTime,
) -> Result<Vec<OverloadAlertView>, WorkflowError> {
    let today = calendar.local_date(now);
    let mut rules: BTreeMap<UnitCode, Result<OverloadRule, String>> = BTreeMap::new();
    let found = overload::overloads(&loads(open, directory), directory, |office| {
        let rule = rules.entry(office.unit().clone()).or_insert_with(|| {
            OverloadRule::in_force(&book.effective(office.unit(), today)).map_err(|e| e.to_string())
        });
        rule.clone().unwrap_or(OverloadRule::NATIONAL)
    });
    if let Some(Err(bad)) = rules.values().find(|r| r.is_err()) {
        return Err(WorkflowError::Invalid(bad.clone()));
    }
    let month = format!("{:04}-{:02}", today.year(), u8::from(today.month()));
    let rows: Vec<OverloadAlertRow> = found
        .iter()
        .map(|o| OverloadAlertRow {
            subject: o.subject.as_str().to_string(),
            holder: o.id.clone(),
            office: o.office.clone(),
            unit: OfficeId::parse(&o.office)
                .map(|id| id.unit().to_string())
                .unwrap_or_default(),
            month: month.clone(),
            at: now.unix_timestamp(),
            open_cases: i64::from(o.open_cases),
            workers: i64::from(o.workers),
            threshold: i64::from(o.threshold),
            notified: o.notified.clone(),
        })
        .collect();
    Ok(store
        .record_overload_alerts(&rows)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

fn view(row: OverloadAlertRow) -> OverloadAlertView {
    let open_cases = u32::try_from(row.open_cases).unwrap_or(u32::MAX);
    let workers = u32::try_from(row.workers.max(1)).unwrap_or(u32::MAX);
    OverloadAlertView {
        subject: Subject::parse(&row.subject).unwrap_or(Subject::Office),
        holder: row.holder,
        office: row.office,
        month: row.month,
        at: OffsetDateTime::from_unix_timestamp(row.at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        per_worker: f64::from(open_cases) / f64::from(workers),
        open_cases,
        workers,
        threshold: u32::try_from(row.threshold).unwrap_or(u32::MAX),
    }
}

/// The overload alerts addressed to `office` (to the office itself or to one of its heads), newest first: the
/// second half of the office's alert inbox beside [`super::alerts_for`]. The office must lie within the caller's
/// reach.
pub async fn overload_alerts_for(
    store: &Store,
    directory: &Directory,
    principal: &Principal,
    office: &str,
) -> Result<Vec<OverloadAlertView>, WorkflowError> {
    let id = OfficeId::parse(office).map_err(|e| WorkflowError::field("office", e.to_string()))?;
    access::can_at_unit(principal, UnitAction::ListCases, id.unit())?;
    let mut addressees: Vec<String> = directory.heads(&id).into_iter().map(str::to_string).collect();
    addressees.push(id.to_string());
    Ok(store
        .overload_alerts_under(id.unit().as_str())
        .await?
        .into_iter()
        .filter(|row| row.notified.iter().any(|n| addressees.contains(n)))
        .map(view)
        .collect())
}
