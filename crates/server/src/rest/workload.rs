//! `GET /api/v1/workload`: the month's workload per office, grid and staff member, for office heads and analysts,
//! limited to the rows within their territory.

use app::workflow::{self, Holder, WorkloadRow};
use axum::Json;
use axum::extract::State;
use domain::access::Principal;
use domain::rates::YearMonth;
use domain::territory::UnitCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Query;
use super::governance::may_read_stats;
use crate::caller::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkloadQuery {
    /// The month, `YYYY-MM`: cases open and overdue at its end, arrived and closed in it.
    pub month: String,
    /// office, grid or staff: only those rows (default: all three).
    pub holder: Option<String>,
}

/// One holder's load in the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkloadView {
    /// office, grid or staff.
    pub holder: String,
    /// An office (`330502001:gov`), a grid (`330502001001-01`) or a staff member with their office
    /// (`330502001:gov/li`).
    pub id: String,
    /// Open at the month's end.
    pub open: u32,
    /// Open at the month's end with a clock missed.
    pub overdue: u32,
    /// Created in the month.
    pub arrived: u32,
    /// Closed in the month.
    pub closed: u32,
    /// Median days from creation to closing of the cases closed in the month.
    pub median_handling_days: Option<f64>,
}

fn holder_name(holder: Holder) -> &'static str {
    match holder {
        Holder::Office => "office",
        Holder::Grid => "grid",
        Holder::Staff => "staff",
    }
}

impl From<WorkloadRow> for WorkloadView {
    fn from(r: WorkloadRow) -> Self {
        WorkloadView {
            holder: holder_name(r.holder).to_string(),
            id: r.id,
            open: r.open,
            overdue: r.overdue,
            arrived: r.arrived,
            closed: r.closed,
            median_handling_days: r.median_handling_days,
        }
    }
}

/// The unit a row belongs to: an office's or a staff member's office's unit (before `:`), a grid's village (before
/// `-`).
pub(crate) fn unit_of_row(id: &str) -> Option<UnitCode> {
    let end = id.find([':', '-']).unwrap_or(id.len());
    UnitCode::parse(&id[..end]).ok()
}

/// The month's workload per office, grid and staff member (open, overdue, arrived, closed, median handling days),
/// limited to the rows within the caller's territory.
#[utoipa::path(
    get,
    path = "/api/v1/workload",
    tag = "governance",
    params(WorkloadQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rows the caller may see", body = [WorkloadView]),
        (status = 400, description = "The month or holder is malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller's role may not read statistics", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn workload(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<WorkloadQuery>,
) -> Result<Json<Vec<WorkloadView>>, ApiError> {
    let principal = caller.require()?;
    Ok(Json(
        workload_of(&state, principal, &q.month, q.holder.as_deref()).await?,
    ))
}

/// The month's workload rows within `principal`'s territory, of one holder kind or all (REST and the dashboard).
pub(crate) async fn workload_of(
    state: &AppState,
    principal: &Principal,
    month: &str,
    holder: Option<&str>,
) -> Result<Vec<WorkloadView>, ApiError> {
    let month = YearMonth::parse(month).map_err(|e| ApiError::invalid("month", e.to_string()))?;
    let wanted = match holder.map(str::trim) {
        None => None,
        Some("office") => Some(Holder::Office),
        Some("grid") => Some(Holder::Grid),
        Some("staff") => Some(Holder::Staff),
        Some(other) => {
            return Err(ApiError::invalid(
                "holder",
                format!("{other:?} is not one of office, grid, staff"),
            ));
        }
    };
    may_read_stats(principal, &principal.scope)?;
    let rows = workflow::workload_report(&state.store, &state.rules, month).await?;
    Ok(rows
        .into_iter()
        .filter(|r| wanted.is_none_or(|h| r.holder == h))
        .filter(|r| unit_of_row(&r.id).is_some_and(|unit| may_read_stats(principal, &unit).is_ok()))
        .map(WorkloadView::from)
        .collect())
}
