//! The dashboard of office heads and analysts (the roles `domain::access` lets read statistics), `GET /dashboard`:
//! for a month (a month picker) and a level, the ranked rates of the units within the caller's territory with their
//! feedback coverage (the rows of the REST rates report, `rest::governance::rates_of`), the open and overdue cases at
//! the month's end by the place they arose (the grid rows of the workload report, `rest::workload::workload_of`,
//! summed per unit of that level), a link to the alerts inbox, and a map of the caller's units coloured by a rate or
//! by overdue cases. The map's script reads its figures from the tables, which are always on the page, so nothing
//! is lost without JavaScript. `?format=csv&table=rates|overdue` downloads either table.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::territory::Level;
use serde::Deserialize;

use super::export::{csv_response, wants_csv};
use super::intake::Choice;
use super::page::{Ctx, Failure};
use crate::rest::governance::{RateView, rates_of};
use crate::rest::workload::{unit_of_row, workload_of};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    month: Option<String>,
    group: Option<String>,
    measure: Option<String>,
    format: Option<String>,
    table: Option<String>,
}

/// The groupings of the rates report, as its REST parameter names them.
const GROUPS: [&str; 4] = ["county", "township", "village", "department"];
/// What the map may be coloured by: a rate of the rates table, or overdue cases of the workload table.
const MEASURES: [&str; 5] = [
    "composite",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "overdue",
];

/// One ranked unit, its rates as percentages for reading and as fractions for the map.
pub struct RateLine {
    pub rank: u32,
    pub code: String,
    pub name: String,
    pub cases: u32,
    pub response: String,
    pub resolution: String,
    pub satisfaction: String,
    pub coverage: String,
    pub composite: String,
    /// (measure, fraction) for the map's colours.
    pub values: Vec<(&'static str, String)>,
}

/// One unit's open and overdue cases at the month's end.
pub struct LoadLine {
    pub code: String,
    pub name: String,
    pub open: u32,
    pub overdue: u32,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    ctx: &'a Ctx,
    month: String,
    groups: Vec<Choice>,
    measures: Vec<Choice>,
    measure: String,
    rates: Vec<RateLine>,
    loads: Vec<LoadLine>,
    /// The unit whose children the map draws, when the rows are at their level; empty otherwise (no map).
    map_under: String,
    /// The query string of this view, for the CSV links.
    query: String,
    /// Whether the caller has an office, whose alerts inbox the page links to.
    has_office: bool,
}

/// A rate as a page shows it: a percentage, or a dash when undefined.
pub(super) fn percent(value: Option<f64>) -> String {
    value
        .map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".to_string())
}

fn fraction(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.4}")).unwrap_or_default()
}

/// The level of the units just below `level` (the level itself at the bottom).
fn child_level(level: Level) -> Level {
    Level::ALL
        .iter()
        .position(|l| *l == level)
        .and_then(|i| Level::ALL.get(i + 1))
        .copied()
        .unwrap_or(level)
}

fn rate_line(state: &AppState, r: &RateView) -> RateLine {
    RateLine {
        rank: r.rank,
        code: r.key.clone(),
        name: crate::rest::public::row_name(state, &r.key),
        cases: r.cases,
        response: percent(r.response_rate),
        resolution: percent(r.resolution_rate),
        satisfaction: percent(r.satisfaction_rate),
        coverage: percent(r.feedback_coverage),
        composite: percent(r.composite),
        values: vec![
            ("composite", fraction(r.composite)),
            ("response_rate", fraction(r.response_rate)),
            ("resolution_rate", fraction(r.resolution_rate)),
            ("satisfaction_rate", fraction(r.satisfaction_rate)),
        ],
    }
}

/// The grid rows of the workload summed per unit of `level` (the township for the department grouping).
fn loads_by_unit(state: &AppState, grids: &[crate::rest::workload::WorkloadView], level: Level) -> Vec<LoadLine> {
    let mut by_unit: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for row in grids {
        let Some(unit) = unit_of_row(&row.id) else { continue };
        let Some(area) = state.territory.ancestor_at(&unit, level) else {
            continue;
        };
        let tally = by_unit.entry(area.code.to_string()).or_default();
        tally.0 += row.open;
        tally.1 += row.overdue;
    }
    let mut lines: Vec<LoadLine> = by_unit
        .into_iter()
        .map(|(code, (open, overdue))| LoadLine {
            name: crate::rest::public::row_name(state, &code),
            code,
            open,
            overdue,
        })
        .collect();
    lines.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(b.open.cmp(&a.open))
            .then(a.code.cmp(&b.code))
    });
    lines
}

fn choices(ctx: &Ctx, prefix: &str, names: &[&str], selected: &str) -> Vec<Choice> {
    names
        .iter()
        .map(|n| Choice {
            value: n.to_string(),
            label: ctx.t.name(prefix, n),
            selected: *n == selected,
        })
        .collect()
}

/// `GET /dashboard`: the month's rates, ranking and overdue cases of the caller's units; 403 for a role that may
/// not read statistics, as the REST rates report answers.
pub async fn dashboard(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let month = given(&q.month).unwrap_or_else(|| {
        let today = state.rules.calendar.local_date(state.now());
        format!("{:04}-{:02}", today.year(), u8::from(today.month()))
    });
    let group = given(&q.group).unwrap_or_else(|| child_level(principal.scope.level()).as_str().to_string());
    let measure = given(&q.measure)
        .filter(|m| MEASURES.contains(&m.as_str()))
        .unwrap_or_else(|| MEASURES[0].to_string());
    let rates = rates_of(&state, principal, &month, Some(&group))
        .await
        .map_err(|e| ctx.fail(e))?;
    let grids = workload_of(&state, principal, &month, Some("grid"))
        .await
        .map_err(|e| ctx.fail(e))?;
    let level = Level::parse(&group).unwrap_or(Level::Township);
    let rates: Vec<RateLine> = rates.iter().map(|r| rate_line(&state, r)).collect();
    let loads = loads_by_unit(&state, &grids, level);
    if wants_csv(q.format.as_deref()) {
        let t = |k: &str| ctx.t.t(k);
        return Ok(if q.table.as_deref() == Some("overdue") {
            let header = [t("col-code"), t("col-unit"), t("col-open"), t("col-overdue")];
            let rows: Vec<Vec<String>> = loads
                .iter()
                .map(|l| {
                    vec![
                        l.code.clone(),
                        l.name.clone(),
                        l.open.to_string(),
                        l.overdue.to_string(),
                    ]
                })
                .collect();
            csv_response(&format!("overdue-{month}-{group}"), &header, &rows)
        } else {
            let header = [
                t("col-rank"),
                t("col-code"),
                t("col-unit"),
                t("col-cases"),
                t("rate-response"),
                t("rate-resolution"),
                t("rate-satisfaction"),
                t("rate-coverage"),
                t("rate-composite"),
            ];
            let rows: Vec<Vec<String>> = rates
                .iter()
                .map(|r| {
                    vec![
                        r.rank.to_string(),
                        r.code.clone(),
                        r.name.clone(),
                        r.cases.to_string(),
                        r.response.clone(),
                        r.resolution.clone(),
                        r.satisfaction.clone(),
                        r.coverage.clone(),
                        r.composite.clone(),
                    ]
                })
                .collect();
            csv_response(&format!("rates-{month}-{group}"), &header, &rows)
        });
    }
    let map_under =
        if group != "department" && child_level(principal.scope.level()) == level && level != principal.scope.level() {
            principal.scope.to_string()
        } else {
            String::new()
        };
    let query = serde_urlencoded::to_string([("month", month.as_str()), ("group", group.as_str())]).unwrap_or_default();
    Ok(ctx.render(&DashboardPage {
        ctx: &ctx,
        groups: choices(&ctx, "group", &GROUPS, &group),
        measures: choices(&ctx, "measure", &MEASURES, &measure),
        measure,
        month,
        rates,
        loads,
        map_under,
        query,
        has_office: principal.office.is_some(),
    }))
}
