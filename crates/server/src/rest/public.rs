//! What anyone may read without signing in: the published monthly ranking with unit names, the pilots with their
//! lifecycle, and a pilot's evaluation. Only aggregates and the public record of a trial: no case, no resident, and
//! no staff account name (a pilot's steps show what was done and when, not by whom).

use std::sync::Arc;

use app::governance;
use app::workflow;
use axum::Json;
use axum::extract::{Path, State};
use domain::rates::{Grouping, YearMonth};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::Query;
use super::governance::{PilotBrief, RateView, RatesQuery, grouping, pilot_and_owner, rfc3339, unit_of_row};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// One row of a published ranking, with the unit's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicRate {
    /// The unit's (or, for departments, the office's) name as the territory records it.
    pub name: String,
    #[serde(flatten)]
    pub rates: RateView,
}

/// A month's ranking as published: it does not change after `published_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedRanking {
    pub month: String,
    /// When the month's feedback window closed: the logs are read as they stood then.
    pub published_at: String,
    pub rows: Vec<PublicRate>,
}

/// The published ranking of a month: the three rates, feedback coverage and the composite of every unit of a level,
/// once the month's feedback window has closed.
#[utoipa::path(
    get,
    path = "/api/v1/public/rates",
    tag = "public",
    params(RatesQuery),
    responses(
        (status = 200, description = "The published ranking", body = PublishedRanking),
        (status = 400, description = "The month or grouping is malformed", body = ErrorBody),
        (status = 422, description = "The month's ranking is not published yet; the message says when it will be", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn published_rates(
    State(state): State<AppState>,
    Query(q): Query<RatesQuery>,
) -> Result<Json<PublishedRanking>, ApiError> {
    let month = YearMonth::parse(&q.month).map_err(|e| ApiError::invalid("month", e.to_string()))?;
    let grouping = grouping(q.group.as_deref())?;
    let published = published(&state, month, grouping).await?;
    Ok(Json(PublishedRanking {
        month: published.month.to_string(),
        published_at: published
            .published_at
            .to_offset(state.rules.calendar.offset())
            .format(&Rfc3339)
            .unwrap_or_default(),
        rows: published
            .rows
            .iter()
            .cloned()
            .map(|row| PublicRate {
                name: row_name(&state, &row.key),
                rates: RateView::from(row),
            })
            .collect(),
    }))
}

/// A month's published ranking (`app::workflow::published_rates`), computed once: it does not change after it is
/// published. Before that, the refusal naming the day it will be.
pub(crate) async fn published(
    state: &AppState,
    month: YearMonth,
    grouping: Grouping,
) -> Result<Arc<workflow::PublishedRates>, ApiError> {
    let key = format!("{month} {grouping:?}");
    if let Some(hit) = state.published.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(hit);
    }
    let computed = Arc::new(workflow::published_rates(&state.store, &state.rules, month, grouping, state.now()).await?);
    if let Ok(mut cache) = state.published.lock() {
        cache.insert(key, computed.clone());
    }
    Ok(computed)
}

/// The name a ranking row shows: the unit's name, or for a county office `UNIT:KEY` the unit's name and the office
/// key; the key itself for a unit the territory does not know.
pub(crate) fn row_name(state: &AppState, key: &str) -> String {
    unit_name(state, key)
        .map(|name| match key.split_once(':') {
            Some((_, office)) => format!("{name} {office}"),
            None => name,
        })
        .unwrap_or_else(|| key.to_string())
}

/// The territory's name of the unit a key names (a unit code, or an office `UNIT:KEY`).
fn unit_name(state: &AppState, key: &str) -> Option<String> {
    unit_of_row(key).and_then(|unit| state.territory.get(&unit).map(|u| u.name.clone()))
}

/// A pilot as the public sees it: what was tried, where, its lifecycle, never who signed each step.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicPilot {
    #[serde(flatten)]
    pub pilot: PilotBrief,
    /// The owner's name.
    pub owner_name: String,
    /// The units the pilot first runs in.
    pub units: Vec<String>,
    /// Each lifecycle step: what and when.
    pub steps: Vec<PublicStep>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStep {
    pub action: String,
    pub at: String,
}

/// Every pilot, oldest first, with its lifecycle.
#[utoipa::path(
    get,
    path = "/api/v1/public/pilots",
    tag = "public",
    responses(
        (status = 200, description = "The pilots", body = [PublicPilot]),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn pilots(State(state): State<AppState>) -> Result<Json<Vec<PublicPilot>>, ApiError> {
    Ok(Json(public_pilots(&state).await?))
}

/// Every pilot as the public sees it, oldest first (the JSON above and the portal's pages).
pub(crate) async fn public_pilots(state: &AppState) -> Result<Vec<PublicPilot>, ApiError> {
    let rows = state.store.pilots().await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let (stored, _filings, events) = governance::pilot_record(&state.store, &row.id.to_string()).await?;
        let owner_name = unit_name(state, &row.owner).unwrap_or_default();
        out.push(PublicPilot {
            pilot: PilotBrief::from(row),
            owner_name,
            units: stored.pilot.units.iter().map(ToString::to_string).collect(),
            steps: events
                .into_iter()
                .map(|e| PublicStep {
                    action: e.action,
                    at: rfc3339(e.at),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// A pilot's evaluation as the case store showed it at most 15 minutes ago (an evaluation reads every case of its
/// panel; the portal shows the same one): effects per outcome with confidence intervals, the verdict
/// and the site-selection check. Aggregates only; reading records nothing.
#[utoipa::path(
    get,
    path = "/api/v1/public/pilots/{id}/evaluation",
    tag = "public",
    params(("id" = String, Path, description = "pilot id or name")),
    responses(
        (status = 200, description = "The evaluation", body = Object),
        (status = 404, description = "No such pilot", body = ErrorBody),
        (status = 409, description = "The pilot has not started, or the data held cannot evaluate it", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn evaluation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<governance::PilotEvaluation>, ApiError> {
    let (row, _owner) = pilot_and_owner(&state, &id).await?;
    Ok(Json(state.public_evaluation(row.id).await?.as_ref().clone()))
}
