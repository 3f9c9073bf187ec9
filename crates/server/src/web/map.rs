//! The map's layers: the territory's own units and grids as GeoJSON, drawn by Leaflet over a plain background (no
//! tiles, no basemap). `GET /map/areas.geojson?under=CODE` gives the outlines of the children of a unit — each the
//! dissolved union of the grid cells inside it (`domain::grid::outline`) — or, under a village or community, its
//! grids; with `grids=true`, the grids of every village within it (the portal's map of a township). Without `under`,
//! the first unit of the territory with more than one child. Outlines are computed once.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::grid::outline;
use domain::territory::{Level, UnitCode};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct AreasQuery {
    under: Option<String>,
    /// The grids within `under` rather than its children's outlines.
    #[serde(default)]
    grids: bool,
}

/// The unit whose children the map shows first: the top of the territory, skipping levels with a single unit.
pub fn default_unit(state: &AppState) -> Option<UnitCode> {
    let mut code = state.territory.roots().first()?.clone();
    loop {
        let children = state.territory.children(&code);
        if children.len() == 1 {
            code = children[0].clone();
        } else {
            return Some(code);
        }
    }
}

fn feature(geometry: &geo::MultiPolygon, code: &str, name: &str, level: &str) -> geojson::Feature {
    let mut properties = geojson::JsonObject::new();
    properties.insert("code".into(), code.into());
    properties.insert("name".into(), name.into());
    properties.insert("level".into(), level.into());
    geojson::Feature {
        geometry: Some(geojson::Geometry::from(geometry)),
        properties: Some(properties),
        ..geojson::Feature::default()
    }
}

fn outlines(state: &AppState, under: &UnitCode, grids: bool) -> Result<String, ApiError> {
    let mut features = Vec::new();
    if grids || under.level() == Level::Village || state.territory.children(under).is_empty() {
        for grid in state.grids.grids().iter().filter(|g| g.unit.is_within(under)) {
            let shape = outline(grid.cells.iter().copied()).map_err(ApiError::internal)?;
            features.push(feature(&shape, &grid.id, &grid.id, "grid"));
        }
    } else {
        for child in state.territory.children(under) {
            let cells = state
                .grids
                .grids()
                .iter()
                .filter(|g| g.unit.is_within(child))
                .flat_map(|g| g.cells.iter().copied());
            let shape = outline(cells).map_err(ApiError::internal)?;
            if shape.0.is_empty() {
                continue;
            }
            let name = state.territory.get(child).map(|u| u.name.as_str()).unwrap_or_default();
            features.push(feature(&shape, child.as_str(), name, child.level().as_str()));
        }
    }
    let collection = geojson::FeatureCollection {
        features,
        bbox: None,
        foreign_members: None,
    };
    Ok(collection.to_string())
}

/// `GET /map/areas.geojson`: public, as the territory is.
pub async fn areas(State(state): State<AppState>, Query(q): Query<AreasQuery>) -> Result<Response, ApiError> {
    let under = match q.under.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => {
            let code = UnitCode::parse(raw).map_err(|e| ApiError::invalid("under", e.to_string()))?;
            state
                .territory
                .get(&code)
                .ok_or_else(|| ApiError::NotFound(format!("no unit {code}")))?;
            code
        }
        None => default_unit(&state).ok_or_else(|| ApiError::NotFound("the territory is empty".into()))?,
    };
    let key = if q.grids {
        format!("{under}/grids")
    } else {
        under.to_string()
    };
    let cached = state
        .map_outlines
        .lock()
        .ok()
        .and_then(|cache| cache.get(&key).cloned());
    let body = match cached {
        Some(body) => body,
        None => {
            let body = Arc::new(outlines(&state, &under, q.grids)?);
            if let Ok(mut cache) = state.map_outlines.lock() {
                cache.insert(key, body.clone());
            }
            body
        }
    };
    let mut response = body.as_str().to_string().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    Ok(response)
}
