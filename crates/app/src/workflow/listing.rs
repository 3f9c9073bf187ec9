//! A workbench's lists: the cases a principal may see, filtered as a workbench needs (state, office, overdue, due
//! before, kind, category, grid, creation time), and the deadline alerts addressed to an office.
//!
//! The store filters what SQL can; overdue and due-before need each case's clocks (those in force when it was filed),
//! so those filters read the open candidates' logs and decide here.

use domain::access::{self, ListScope, Principal, UnitAction};
use domain::clock;
use domain::office::{Directory, OfficeId};
use domain::{CaseId, CaseKind, CaseState, EventKind, UnitCode};
use serde::Serialize;
use store::{CaseFilter, CaseRow, Store};
use time::OffsetDateTime;

use super::{Rules, WorkflowError};

/// The most rows one page holds.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The most open cases the overdue and due-before filters examine in one listing.
const MAX_CANDIDATES: i64 = 200_000;

/// What a workbench asks for. Every field is optional; `page` is 1-based.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// Within this unit's subtree (inside the caller's own).
    pub unit: Option<UnitCode>,
    pub state: Option<CaseState>,
    /// Held by this office.
    pub office: Option<String>,
    /// Open with a clock past its due instant.
    pub overdue: bool,
    /// Open with a running clock due before this instant.
    pub due_before: Option<OffsetDateTime>,
    pub kind: Option<CaseKind>,
    pub category: Option<String>,
    pub grid: Option<String>,
    pub created_from: Option<OffsetDateTime>,
    pub created_to: Option<OffsetDateTime>,
    pub page: u32,
    pub page_size: u32,
}

/// A page number from 1 and a page size from 1 to [`MAX_PAGE_SIZE`], or the field at fault.
fn check_paging(q: &CaseQuery) -> Result<(), WorkflowError> {
    if q.page == 0 {
        return Err(WorkflowError::field(
            "page",
            domain::said!("refused-page-from-one", "pages count from 1"),
        ));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&q.page_size) {
        return Err(WorkflowError::field(
            "page_size",
            format!("{}; a page holds 1 to {MAX_PAGE_SIZE} rows", q.page_size),
        ));
    }
    Ok(())
}

/// One page of the cases `principal` may see that match `q`, oldest first.
pub async fn list_cases(
    store: &Store,
    rules: &Rules,
    principal: &Principal,
    q: &CaseQuery,
    now: OffsetDateTime,
) -> Result<Vec<CaseRow>, WorkflowError> {
    check_paging(q)?;
    let offset = i64::from(q.page - 1) * i64::from(q.page_size);
    let limit = i64::from(q.page_size);
    let by_clock = q.overdue || q.due_before.is_some();
    let rows = match access::list_scope(principal) {
        ListScope::ReportedBy(account) => {
            // A resident has few cases: filter their own in memory.
            let ids = store
                .cases_reported_by(&account, i64::from(MAX_PAGE_SIZE) * 20, 0)
                .await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.push(store.load_case(id).await?.row);
            }
            rows.retain(|r| {
                q.state.is_none_or(|s| r.state == s.as_str())
                    && q.kind.is_none_or(|k| r.kind == k)
                    && q.category.as_ref().is_none_or(|c| &r.category == c)
            });
            rows.sort_by_key(|r| r.id);
            rows
        }
        ListScope::Subtree { scope, office } => {
            let (under, or_office) = match &q.unit {
                Some(u) => (u.clone(), None),
                None => (scope, office),
            };
            access::can_at_unit(principal, UnitAction::ListCases, &under)?;
            let filter = CaseFilter {
                under: Some(under),
                or_office,
                state: q.state.map(|s| s.as_str().to_string()),
                open_only: by_clock,
                office: q.office.clone(),
                kind: q.kind,
                category: q.category.clone(),
                grid: q.grid.clone(),
                created_from: q.created_from.map(|t| t.unix_timestamp()),
                created_to: q.created_to.map(|t| t.unix_timestamp()),
                limit: if by_clock { MAX_CANDIDATES } else { limit },
                offset: if by_clock { 0 } else { offset },
            };
            let rows = store.list_cases(&filter).await?;
            if !by_clock {
                return Ok(rows);
            }
            rows
        }
    };
    let rows = if by_clock {
        let logs = store.load_logs(&rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        rows.into_iter()
            .filter(|row| {
                let Some(log) = logs.get(&row.id) else {
                    return false;
                };
                let clocks = rules.clocks_of(row);
                clock::deadlines(
                    row.kind,
                    clocks.urgency(row.kind, &row.category),
                    log,
                    &clocks,
                    &rules.calendar,
                )
                .iter()
                .filter(|d| d.is_running())
                .any(|d| (!q.overdue || now > d.due) && q.due_before.is_none_or(|before| d.due < before))
            })
            .collect()
    } else {
        rows
    };
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    Ok(rows.into_iter().skip(start).take(q.page_size as usize).collect())
}

/// One row of a workbench queue: the case and the due instant of its earliest running clock (none when no clock
/// runs, e.g. a closed case).
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub row: CaseRow,
    pub due: Option<OffsetDateTime>,
}

/// One page of a workbench queue: every case of [`list_cases`] matching `q`, each with the due instant of its earliest
/// running clock (on the clocks in force for it), sorted by time left — the most urgent first, cases without a
/// running clock last — and then cut into pages. The cases are read [`MAX_PAGE_SIZE`] at a time and only the cases
/// up to the end of the page asked for are kept, so a long queue costs reading it, not holding it.
pub async fn queue(
    store: &Store,
    rules: &Rules,
    principal: &Principal,
    q: &CaseQuery,
    now: OffsetDateTime,
) -> Result<Vec<QueueItem>, WorkflowError> {
    check_paging(q)?;
    let start = (q.page as usize - 1) * q.page_size as usize;
    let keep = start + q.page_size as usize;
    let mut kept: Vec<QueueItem> = Vec::new();
    for batch in 1.. {
        let candidates = CaseQuery {
            page: batch,
            page_size: MAX_PAGE_SIZE,
            ..q.clone()
        };
        let rows = list_cases(store, rules, principal, &candidates, now).await?;
        let last = rows.len() < MAX_PAGE_SIZE as usize;
        let logs = store.load_logs(&rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        kept.extend(rows.into_iter().map(|row| {
            let clocks = rules.clocks_of(&row);
            let events = logs.get(&row.id).map(Vec::as_slice).unwrap_or_default();
            let due = clock::deadlines(
                row.kind,
                clocks.urgency(row.kind, &row.category),
                events,
                &clocks,
                &rules.calendar,
            )
            .into_iter()
            .filter(|d| !d.superseded && d.met_at.is_none())
            .map(|d| d.due)
            .min();
            QueueItem { row, due }
        }));
        kept.sort_by_key(|i| (i.due.is_none(), i.due, i.row.id));
        kept.truncate(keep);
        if last {
            break;
        }
    }
    Ok(kept.into_iter().skip(start).collect())
}

/// A deadline alert addressed to an office.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub case: CaseId,
    pub clock: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    pub overdue: bool,
    /// The office holding the case now.
    pub holder: String,
}

/// The deadline alerts on open cases addressed to `office` (to the office itself or to one of its heads), newest
/// first. The caller must be staff of that office or its head; the office must lie within the caller's reach.
pub async fn alerts_for(
    store: &Store,
    directory: &Directory,
    principal: &Principal,
    office: &str,
) -> Result<Vec<AlertView>, WorkflowError> {
    let id = OfficeId::parse(office).map_err(|e| WorkflowError::field("office", e.to_string()))?;
    access::can_at_unit(principal, UnitAction::ListCases, id.unit())?;
    let mut addressees: Vec<String> = directory.heads(&id).into_iter().map(str::to_string).collect();
    addressees.push(id.to_string());
    // Alerts go to an office about the cases it holds and those of the offices it supervises (one level down), so
    // the candidates are the open cases of the office's unit subtree.
    let filter = CaseFilter {
        under: Some(id.unit().clone()),
        open_only: true,
        limit: MAX_CANDIDATES,
        ..CaseFilter::default()
    };
    let rows = store.list_cases(&filter).await?;
    let logs = store.load_logs(&rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    let mut alerts = Vec::new();
    for row in &rows {
        for event in logs.get(&row.id).into_iter().flatten() {
            if let EventKind::DeadlineAlert {
                clock,
                due,
                overdue,
                notified,
            } = &event.kind
                && notified.iter().any(|n| addressees.contains(n))
            {
                alerts.push(AlertView {
                    case: row.id,
                    clock: clock.clone(),
                    at: event.at,
                    due: OffsetDateTime::from_unix_timestamp(*due).unwrap_or(event.at),
                    overdue: *overdue,
                    holder: row.office.clone(),
                });
            }
        }
    }
    alerts.sort_by(|a, b| b.at.cmp(&a.at).then(a.case.cmp(&b.case)));
    Ok(alerts)
}
