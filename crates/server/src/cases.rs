//! What the server adds to the case use cases of `app::workflow`: resolving a client's whereabouts to a unit (points
//! through the grid index, a unit code, or a place named in an address), and mapping workflow errors to statuses.
//! Filing, acting, listing and disclosure are decided in `app` alone.

use app::workflow::WorkflowError;
use domain::case::Location;
use domain::rules;
use domain::territory::UnitCode;
use store::StoreError;

use crate::error::{ApiError, FieldError};
use crate::state::AppState;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NoSuchCase(id) => ApiError::NotFound(format!("no case {id}")),
            StoreError::Conflict { .. } => ApiError::Conflict(e.to_string().into()),
            StoreError::NodeUnavailable { .. } => {
                tracing::warn!(error = %e, "a database node is unavailable");
                ApiError::NodeUnavailable(e.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<rules::RuleError> for ApiError {
    fn from(e: rules::RuleError) -> ApiError {
        ApiError::Conflict(e.said())
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> ApiError {
        match e {
            WorkflowError::Rule(e) => e.into(),
            // Routing fails only for a category no office at the place takes: the client's choice of category.
            WorkflowError::Routing(e) => ApiError::invalid("category", e.said()),
            WorkflowError::Answer(e) => ApiError::invalid(format!("answers.{}", e.code), e.reason),
            WorkflowError::Store(e) => e.into(),
            WorkflowError::Denied(e) => e.into(),
            WorkflowError::Field { field, message } => ApiError::invalid(field, message),
            WorkflowError::Unprocessable { field, message } => {
                ApiError::Unprocessable(vec![FieldError::new(field, message)])
            }
            WorkflowError::Invalid(message) => ApiError::BadRequest(message),
        }
    }
}

/// Where a new case is.
#[derive(Debug, Clone)]
pub struct Whereabouts {
    pub point: Option<(f64, f64)>,
    pub unit: Option<UnitCode>,
    /// Free text naming a place (Open311 `address_string`): the deepest unit whose name it contains.
    pub address: Option<String>,
}

/// Resolves a location to a unit (and grid): a point through the grid index, else a given unit, else a unit named in
/// the address.
pub fn locate(state: &AppState, w: &Whereabouts) -> Result<Location, ApiError> {
    if let Some((lat, lon)) = w.point {
        let grid = state
            .grids
            .locate(lat, lon)
            .map_err(|e| ApiError::invalid("lat", e.to_string()))?;
        if let Some(grid) = grid {
            return Ok(Location {
                lat: Some(lat),
                lon: Some(lon),
                unit: grid.unit.clone(),
                grid: Some(grid.id.clone()),
            });
        }
        if w.unit.is_none() && w.address.is_none() {
            return Err(ApiError::invalid(
                "lat",
                "the point lies outside every grid of the territory served",
            ));
        }
    }
    let unit = match (&w.unit, &w.address) {
        (Some(unit), _) => {
            state
                .territory
                .get(unit)
                .ok_or_else(|| ApiError::invalid("unit", format!("unknown unit {unit}")))?;
            unit.clone()
        }
        (None, Some(address)) => state
            .territory
            .units_sorted()
            .into_iter()
            .filter(|u| u.name.chars().count() >= 2 && address.contains(u.name.as_str()))
            .max_by_key(|u| u.code.as_str().len())
            .map(|u| u.code.clone())
            .ok_or_else(|| {
                ApiError::invalid(
                    "address_string",
                    "names no unit of the territory served; give lat and long",
                )
            })?,
        (None, None) => return Err(ApiError::invalid("location", "a location is required")),
    };
    Ok(Location {
        lat: w.point.map(|p| p.0),
        lon: w.point.map(|p| p.1),
        unit,
        grid: None,
    })
}
