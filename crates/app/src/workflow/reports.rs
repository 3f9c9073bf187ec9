//! The monthly reports of the workflow: the three rates and their ranking (`grassroots report rates`, the REST rates
//! report) and the month's outcomes (`grassroots report outcomes`, the demo). Every case is reduced once, by
//! [`summarise`]: `domain::rates` on the clocks in force where and when it was filed — the same reduction a pilot's
//! evaluation panel uses.

use domain::calendar::Calendar;
use domain::rates::{CaseSummary, Grouping, RateRow, YearMonth};
use domain::{CaseEvent, CaseStatus, EventKind};
use serde::Serialize;
use store::{CaseRow, Store};
use time::{Date, OffsetDateTime, Time};

use super::{Rules, WorkflowError};

/// The first instant of a month in the calendar's local time.
pub fn month_start(month: YearMonth, calendar: &Calendar) -> Result<OffsetDateTime, WorkflowError> {
    let m = time::Month::try_from(month.month).map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    let date = Date::from_calendar_date(month.year, m, 1).map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    Ok(date.with_time(Time::MIDNIGHT).assume_offset(calendar.offset()))
}

pub fn next_month(month: YearMonth) -> YearMonth {
    if month.month == 12 {
        YearMonth {
            year: month.year + 1,
            month: 1,
        }
    } else {
        YearMonth {
            year: month.year,
            month: month.month + 1,
        }
    }
}

/// One case reduced for the rates as its log stood at `now` (events after it are not seen, so a report of a past
/// instant reads what was known then), on the clocks in force for it; `None` for a log that does not replay or a case
/// filed after `now`.
pub fn summarise(rules: &Rules, row: &CaseRow, log: &[CaseEvent], now: OffsetDateTime) -> Option<CaseSummary> {
    let standing = log.iter().take_while(|e| e.at <= now).count();
    let clocks = rules.clocks_of(row);
    let urgency = clocks.urgency(row.kind, &row.category);
    CaseSummary::from_log(
        row.id,
        row.location.unit.clone(),
        row.kind,
        urgency,
        &log[..standing],
        now,
        &clocks,
        &rules.calendar,
    )
}

/// The month's rates and ranking: cases created in `month`, as their logs stand at `now`.
pub async fn rates_report(
    store: &Store,
    rules: &Rules,
    month: YearMonth,
    grouping: Grouping,
    now: OffsetDateTime,
) -> Result<Vec<RateRow>, WorkflowError> {
    let from = month_start(month, &rules.calendar)?;
    let to = month_start(next_month(month), &rules.calendar)?;
    let cases = store.cases_with_logs_created(from, to).await?;
    let summaries: Vec<CaseSummary> = cases
        .iter()
        .filter_map(|(row, log)| summarise(rules, row, log, now))
        .collect();
    Ok(domain::rates::rates(&summaries, month, grouping, &rules.weights))
}

/// When a month's ranking is published: once the month is over and its feedback window (the deployment's rating
/// window) has closed after it. It is computed from the logs as they stood at that instant, so it never changes after.
pub fn publication_of(month: YearMonth, rules: &Rules) -> Result<OffsetDateTime, WorkflowError> {
    let end = month_start(next_month(month), &rules.calendar)?;
    Ok(rules
        .calendar
        .due(end, rules.clocks.rating_window, rules.clocks.roll_over_days_off))
}

/// The latest month whose ranking is published at `now` ([`publication_of`]), looking back two years.
pub fn latest_published(rules: &Rules, now: OffsetDateTime) -> Option<YearMonth> {
    let mut month = YearMonth::of(now, &rules.calendar);
    for _ in 0..24 {
        if publication_of(month, rules).is_ok_and(|at| at <= now) {
            return Some(month);
        }
        month = if month.month == 1 {
            YearMonth {
                year: month.year - 1,
                month: 12,
            }
        } else {
            YearMonth {
                year: month.year,
                month: month.month - 1,
            }
        };
    }
    None
}

/// A month's published ranking: the rates of the cases created in it as their logs stood when it was published.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedRates {
    pub month: YearMonth,
    pub published_at: OffsetDateTime,
    pub rows: Vec<RateRow>,
}

/// The public ranking of `month`, once published ([`publication_of`]); before that, `Unprocessable` naming the
/// instant it will be published.
pub async fn published_rates(
    store: &Store,
    rules: &Rules,
    month: YearMonth,
    grouping: Grouping,
    now: OffsetDateTime,
) -> Result<PublishedRates, WorkflowError> {
    let published_at = publication_of(month, rules)?;
    if now < published_at {
        let day = rules.calendar.local_date(published_at);
        return Err(WorkflowError::unprocessable(
            "month",
            domain::said!(
                "refused-ranking-unpublished",
                "the ranking of {month} is published on {day} once its feedback window has closed",
                month = month.to_string(),
                day = day.to_string(),
            ),
        ));
    }
    let rows = rates_report(store, rules, month, grouping, published_at).await?;
    Ok(PublishedRates {
        month,
        published_at,
        rows,
    })
}

/// The workflow outcomes of one month's cases, for the demo summary and `report outcomes`.
#[derive(Debug, Clone, Serialize)]
pub struct Outcomes {
    pub month: YearMonth,
    pub cases: usize,
    /// Cases still open at `now` with a clock past its due instant.
    pub overdue_open: usize,
    /// Cases that received at least one overdue alert.
    pub alerted: usize,
    pub reopened: usize,
    pub rerouted: usize,
    pub extended: usize,
    pub mediation: domain::mediation::MediationTally,
    pub departments: Vec<domain::whistle::OnTimeRecord>,
    pub townships: Vec<domain::whistle::OnTimeRecord>,
    pub township_ranking: Vec<RateRow>,
    pub department_ranking: Vec<RateRow>,
}

/// Overdue counts, mediation shares, whistle records and the rankings of the cases created in `month`, as their logs
/// stand at `now`.
pub async fn outcomes(
    store: &Store,
    rules: &Rules,
    month: YearMonth,
    now: OffsetDateTime,
) -> Result<Outcomes, WorkflowError> {
    let from = month_start(month, &rules.calendar)?;
    let to = month_start(next_month(month), &rules.calendar)?;
    let cases = store.cases_with_logs_created(from, to).await?;
    let has = |log: &[CaseEvent], pred: &dyn Fn(&EventKind) -> bool| log.iter().any(|e| pred(&e.kind));
    let mut overdue_open = 0;
    let mut summaries = Vec::with_capacity(cases.len());
    let mut summonses = Vec::new();
    let mut responses = Vec::new();
    for (row, log) in &cases {
        let clocks = rules.clocks_of(row);
        let urgency = clocks.urgency(row.kind, &row.category);
        let open = CaseStatus::replay(row.id, log).is_ok_and(|s| s.state.is_open());
        let late = domain::clock::deadlines(row.kind, urgency, log, &clocks, &rules.calendar)
            .iter()
            .any(|d| d.is_running() && now > d.due);
        if open && late {
            overdue_open += 1;
        }
        summonses.extend(domain::whistle::summonses(row.id, log));
        responses.extend(domain::whistle::township_response(row.id, log, now));
        summaries.extend(summarise(rules, row, log, now));
    }
    let count = |pred: &dyn Fn(&EventKind) -> bool| cases.iter().filter(|(_, log)| has(log, pred)).count();
    Ok(Outcomes {
        month,
        cases: cases.len(),
        overdue_open,
        alerted: count(&|k| matches!(k, EventKind::DeadlineAlert { overdue: true, .. })),
        reopened: count(&|k| matches!(k, EventKind::Reopened { .. })),
        rerouted: count(&|k| matches!(k, EventKind::Rerouted { .. })),
        extended: count(&|k| matches!(k, EventKind::Extended { .. })),
        mediation: domain::mediation::MediationTally::of(cases.iter().map(|(r, l)| (r.kind, l.as_slice()))),
        departments: domain::whistle::department_records(&summonses, now),
        townships: domain::whistle::township_records(&responses),
        township_ranking: domain::rates::rates(
            &summaries,
            month,
            Grouping::Unit(domain::Level::Township),
            &rules.weights,
        ),
        department_ranking: domain::rates::rates(&summaries, month, Grouping::Department, &rules.weights),
    })
}
