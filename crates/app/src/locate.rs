//! Point → grid → unit: the chain of units and the grid at a point, from imported boundaries where they exist and
//! from the cell grids otherwise.

use domain::boundary::{BoundaryIndex, parse_geojson};
use domain::grid::{GeoError, GridIndex};
use domain::{Territory, Unit, UnitCode};
use serde::Serialize;
use store::Store;

use crate::AppError;

pub struct Locator {
    pub territory: Territory,
    pub grids: GridIndex,
    pub boundaries: BoundaryIndex,
}

#[derive(Debug, Serialize)]
pub struct Located {
    pub lat: f64,
    pub lon: f64,
    pub units: Vec<Unit>,
    pub grid: Option<String>,
    /// `boundary` when an imported polygon decided, `grid` when a grid cell did.
    pub method: &'static str,
}

impl Locator {
    pub async fn load(store: &Store) -> Result<Locator, AppError> {
        let territory = store.load_territory(None).await?;
        let grids = GridIndex::build(store.load_grids().await?)?;
        let text = store.load_boundaries_geojson().await?;
        let boundaries = BoundaryIndex::build(
            parse_geojson("stored boundaries", &text).map_err(|e| AppError::Invalid(e.to_string()))?,
        );
        Ok(Locator {
            territory,
            grids,
            boundaries,
        })
    }

    pub fn locate(&self, lat: f64, lon: f64) -> Result<Option<Located>, GeoError> {
        let grid = self.grids.locate(lat, lon)?;
        let polygon = self.boundaries.locate(lat, lon);
        let (unit, method): (Option<&UnitCode>, _) = match (polygon, grid) {
            // A real boundary beats the synthetic layout; the grid is kept only if it lies inside that unit.
            (Some(code), _) => (Some(code), "boundary"),
            (None, Some(g)) => (Some(&g.unit), "grid"),
            (None, None) => (None, "none"),
        };
        let Some(unit) = unit else { return Ok(None) };
        let grid = grid.filter(|g| g.unit.is_within(unit)).map(|g| g.id.clone());
        let units = self.territory.ancestry(unit).into_iter().cloned().collect();
        Ok(Some(Located {
            lat,
            lon,
            units,
            grid,
            method,
        }))
    }
}
