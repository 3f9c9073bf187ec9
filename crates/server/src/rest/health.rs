//! `GET /api/v1/health`: the service is up, and how far its holiday calendar reaches (past it, every clock counts
//! weekends only as days off, so operators must load next year's calendar in time).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    status: &'static str,
    calendar: CalendarHealth,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarHealth {
    /// The first day whose holidays the calendar knows (`YYYY-MM-DD`); absent for a weekends-only calendar.
    covers_from: Option<String>,
    /// The last day whose holidays the calendar knows (`YYYY-MM-DD`).
    covers_until: Option<String>,
    /// Set when a clock started today could end past the last covered day.
    warning: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "service",
    responses((status = 200, description = "The service is up; the holiday calendar's coverage", body = Health))
)]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    let calendar = &state.rules.calendar;
    Json(Health {
        status: "ok",
        calendar: CalendarHealth {
            covers_from: calendar.covers().map(|(first, _)| first.to_string()),
            covers_until: calendar.covers_until().map(|d| d.to_string()),
            warning: domain::clock::coverage_warning(calendar, state.today()),
        },
    })
}
