//! Public read-only endpoints for territory, grids and offices. They hold no personal data.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use axum::Json;
use domain::territory::{Unit, UnitCode};

use super::Query;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitBrief {
    /// Official division code (GB/T 2260 and statistical division codes).
    pub code: String,
    pub name: String,
    /// province, prefecture, county, township or village.
    pub level: String,
}

impl From<&Unit> for UnitBrief {
    fn from(u: &Unit) -> UnitBrief {
        UnitBrief {
            code: u.code.to_string(),
            name: u.name.clone(),
            level: u.level.as_str().to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    pub unit: UnitBrief,
    /// The chain from the top of the territory down to the unit's parent.
    pub ancestors: Vec<UnitBrief>,
    pub children: Vec<UnitBrief>,
}

fn unit_code(code: &str) -> Result<UnitCode, ApiError> {
    UnitCode::parse(code).map_err(|e| ApiError::invalid("code", e.to_string()))
}

/// One administrative unit with its ancestors and children.
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}",
    tag = "territory",
    params(("code" = String, Path, description = "division code, e.g. 3305")),
    responses(
        (status = 200, description = "The unit", body = UnitView),
        (status = 400, description = "The code is not a division code", body = ErrorBody),
        (status = 404, description = "No such unit in the territory served", body = ErrorBody),
    )
)]
pub async fn get_unit(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<UnitView>, ApiError> {
    let code = unit_code(&code)?;
    let unit = state
        .territory
        .get(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no unit {code}")))?;
    let ancestors = state
        .territory
        .ancestry(&code)
        .into_iter()
        .filter(|u| u.code != code)
        .map(UnitBrief::from)
        .collect();
    let children = state
        .territory
        .children(&code)
        .iter()
        .filter_map(|c| state.territory.get(c))
        .map(UnitBrief::from)
        .collect();
    Ok(Json(UnitView {
        unit: unit.into(),
        ancestors,
        children,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    /// Latitude, WGS 84 degrees.
    pub lat: f64,
    /// Longitude, WGS 84 degrees.
    pub lon: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocateView {
    /// From the top of the territory down to the village.
    pub chain: Vec<UnitBrief>,
    pub grid: String,
}

/// The grid and chain of units at a point.
#[utoipa::path(
    get,
    path = "/api/v1/locate",
    tag = "territory",
    params(LocateQuery),
    responses(
        (status = 200, description = "The grid and units at the point", body = LocateView),
        (status = 400, description = "Missing or impossible coordinates", body = ErrorBody),
        (status = 404, description = "The point lies outside every grid", body = ErrorBody),
    )
)]
pub async fn locate(State(state): State<AppState>, Query(q): Query<LocateQuery>) -> Result<Json<LocateView>, ApiError> {
    let grid = state
        .grids
        .locate(q.lat, q.lon)
        .map_err(|e| ApiError::invalid("lat", e.to_string()))?
        .ok_or_else(|| ApiError::NotFound("the point lies outside every grid".into()))?;
    Ok(Json(LocateView {
        chain: state
            .territory
            .ancestry(&grid.unit)
            .into_iter()
            .map(UnitBrief::from)
            .collect(),
        grid: grid.id.clone(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GridView {
    pub id: String,
    /// The village or community the grid belongs to.
    pub unit: String,
    /// Number of H3 cells (resolution 9).
    pub cells: usize,
}

/// The grids of a unit's subtree (at most 1,000).
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}/grids",
    tag = "territory",
    params(("code" = String, Path, description = "division code")),
    responses(
        (status = 200, description = "The grids in the unit's subtree", body = [GridView]),
        (status = 400, description = "The code is not a division code", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
    )
)]
pub async fn grids(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<Vec<GridView>>, ApiError> {
    let code = unit_code(&code)?;
    state
        .territory
        .get(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no unit {code}")))?;
    Ok(Json(
        state
            .grids
            .grids()
            .iter()
            .filter(|g| g.unit.is_within(&code))
            .take(1_000)
            .map(|g| GridView {
                id: g.id.clone(),
                unit: g.unit.to_string(),
                cells: g.cells.len(),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficeView {
    /// `UNIT:KEY`, e.g. `330502001:gov`.
    pub id: String,
    pub name: String,
    pub unit: String,
    pub categories: Vec<String>,
}

/// The offices of a unit (not of its subtree).
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}/offices",
    tag = "territory",
    params(("code" = String, Path, description = "division code")),
    responses(
        (status = 200, description = "The unit's offices", body = [OfficeView]),
        (status = 400, description = "The code is not a division code", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
    )
)]
pub async fn offices(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Vec<OfficeView>>, ApiError> {
    let code = unit_code(&code)?;
    state
        .territory
        .get(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no unit {code}")))?;
    Ok(Json(
        state
            .directory
            .offices
            .iter()
            .filter(|o| o.id.unit() == &code)
            .map(|o| OfficeView {
                id: o.id.to_string(),
                name: o.name.clone(),
                unit: o.id.unit().to_string(),
                categories: o.categories.clone(),
            })
            .collect(),
    ))
}
