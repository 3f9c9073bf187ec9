//! The monthly workload report (issue 14, part 1): per office, grid and staff member, the cases open and overdue at
//! the month's end, the cases that arrived and closed in it, and the median handling time of those closed.
//!
//! Every case is read as its log stood at the month's end (events after it are left out), reduced by the same
//! [`summarise`](super::summarise) as the rates, so "overdue" means what it means there: a clock missed.

use std::collections::BTreeMap;

use domain::EventKind;
use domain::rates::YearMonth;
use serde::Serialize;
use store::Store;

use super::reports::{month_start, next_month, summarise};
use super::{Rules, WorkflowError};

/// Who carries the load: an office, a grid, or a staff member named on the case's last assignment (with the office
/// that assigned them: `330502001:gov/li`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Holder {
    Office,
    Grid,
    Staff,
}

/// One holder's load in the month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadRow {
    pub holder: Holder,
    pub id: String,
    /// Open at the month's end.
    pub open: u32,
    /// Open at the month's end with a clock missed.
    pub overdue: u32,
    /// Arrived (were created) in the month.
    pub arrived: u32,
    /// Closed in the month.
    pub closed: u32,
    /// Median days from creation to closing of the cases closed in the month.
    pub median_handling_days: Option<f64>,
}

#[derive(Default)]
struct Tally {
    open: u32,
    overdue: u32,
    arrived: u32,
    handling_days: Vec<f64>,
}

/// The workload of every office, grid and staff member with a case open, arrived or closed in `month`.
pub async fn workload_report(
    store: &Store,
    rules: &Rules,
    month: YearMonth,
) -> Result<Vec<WorkloadRow>, WorkflowError> {
    let from = month_start(month, &rules.calendar)?;
    let to = month_start(next_month(month), &rules.calendar)?;
    let (from_epoch, to_epoch) = (from.unix_timestamp(), to.unix_timestamp());
    let cases = store
        .cases_with_logs_created(time::OffsetDateTime::UNIX_EPOCH, to)
        .await?;
    let mut tallies: BTreeMap<(Holder, String), Tally> = BTreeMap::new();
    for (row, log) in &cases {
        let closed_at = row.closed_at.filter(|&at| at < to_epoch);
        if closed_at.is_some_and(|at| at < from_epoch) {
            continue; // closed before the month: no load in it
        }
        let cut = log.partition_point(|event| event.at < to);
        let log = &log[..cut];
        let Some(summary) = summarise(rules, row, log, to) else {
            continue;
        };
        let open = closed_at.is_none();
        let arrived = row.created_at >= from_epoch;
        let handling_days = closed_at.map(|at| (at - row.created_at) as f64 / 86_400.0);
        let staff = assigned_staff(log).map(|(_, staff)| staff);
        let holders = [
            Some((Holder::Office, summary.office.clone())),
            row.location.grid.clone().map(|grid| (Holder::Grid, grid)),
            staff.map(|staff| (Holder::Staff, staff)),
        ];
        for key in holders.into_iter().flatten() {
            let tally = tallies.entry(key).or_default();
            tally.open += u32::from(open);
            tally.overdue += u32::from(open && summary.overdue);
            tally.arrived += u32::from(arrived);
            tally.handling_days.extend(handling_days);
        }
    }
    Ok(tallies
        .into_iter()
        .map(|((holder, id), mut tally)| {
            tally.handling_days.sort_by(f64::total_cmp);
            WorkloadRow {
                holder,
                id,
                open: tally.open,
                overdue: tally.overdue,
                arrived: tally.arrived,
                closed: tally.handling_days.len() as u32,
                median_handling_days: median(&tally.handling_days),
            }
        })
        .collect())
}

/// The staff member a case was last assigned to, with the office that assigned them: (office, `office/staff`). Staff
/// are named with their office (`330502001:gov/li`), as alerts name the people they notify.
pub(crate) fn assigned_staff(log: &[domain::CaseEvent]) -> Option<(String, String)> {
    log.iter().rev().find_map(|event| match &event.kind {
        EventKind::Assigned {
            office,
            staff: Some(staff),
        } => Some((office.clone(), format!("{office}/{staff}"))),
        _ => None,
    })
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}
