//! Grids: the small areas into which every village or community is divided, each a set of H3 cells with named grid
//! workers, and the point → grid → unit lookup.
//!
//! A grid *is* a set of cells, so looking up a point is exact: the point's cell at [`GRID_RESOLUTION`] either belongs
//! to a grid or it does not. Imported polygon boundaries are handled by `boundary`, not here.

use std::collections::{HashMap, HashSet, VecDeque};

use h3o::{CellIndex, LatLng, Resolution};
use serde::{Deserialize, Serialize};

use crate::territory::{Level, Territory, Unit, UnitCode};

/// H3 resolution of grid cells: about 0.105 km² a cell, so a grid of a few dozen cells covers a few hundred households.
pub const GRID_RESOLUTION: Resolution = Resolution::Nine;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// `{village code}-{two digits}`, e.g. `330502001001-03`.
    pub id: String,
    pub unit: UnitCode,
    pub cells: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridWorker {
    pub id: String,
    pub grid: String,
    pub name: String,
    /// Auxiliary staff (网格辅助员) are staff too, but not on the establishment.
    pub auxiliary: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GeoError {
    #[error("impossible coordinates lat={lat}, lon={lon}: latitude must be in [-90, 90] and longitude in [-180, 180]")]
    BadCoordinates { lat: f64, lon: f64 },
    #[error("cannot outline the cells: {0}")]
    Outline(String),
    #[error("cell {0:#x} is not a valid H3 cell")]
    BadCell(u64),
    #[error("cell {cell:#x} belongs to both grid {first} and grid {second}")]
    Overlap { cell: u64, first: String, second: String },
}

/// Validates a coordinate pair and returns its H3 point.
pub fn lat_lng(lat: f64, lon: f64) -> Result<LatLng, GeoError> {
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(GeoError::BadCoordinates { lat, lon });
    }
    LatLng::new(lat, lon).map_err(|_| GeoError::BadCoordinates { lat, lon })
}

/// The grid cell of a point.
pub fn cell_of(lat: f64, lon: f64) -> Result<CellIndex, GeoError> {
    Ok(lat_lng(lat, lon)?.to_cell(GRID_RESOLUTION))
}

/// Point → grid lookup by cell membership.
impl Grid {
    /// The centre of the grid (the mean of its cells' centres), where public outputs place a case instead of its exact
    /// point; `None` for a grid without valid cells.
    pub fn centre(&self) -> Option<(f64, f64)> {
        let points: Vec<LatLng> = self
            .cells
            .iter()
            .filter_map(|&c| CellIndex::try_from(c).ok())
            .map(LatLng::from)
            .collect();
        if points.is_empty() {
            return None;
        }
        let n = points.len() as f64;
        let lat = points.iter().map(|p| p.lat()).sum::<f64>() / n;
        let lon = points.iter().map(|p| p.lng()).sum::<f64>() / n;
        Some((lat, lon))
    }
}

/// The outline of a set of grid cells (a grid, or every grid of a unit): the cells dissolved into polygons, in
/// longitude/latitude degrees. Invalid or repeated cells are skipped, so a unit's outline is the union of its grids.
pub fn outline(cells: impl IntoIterator<Item = u64>) -> Result<geo::MultiPolygon, GeoError> {
    let cells: HashSet<CellIndex> = cells
        .into_iter()
        .filter_map(|c| CellIndex::try_from(c).ok())
        .filter(|c| c.resolution() == GRID_RESOLUTION)
        .collect();
    h3o::geom::SolventBuilder::new()
        .build()
        .dissolve(cells)
        .map_err(|e| GeoError::Outline(e.to_string()))
}

#[derive(Debug, Default, Clone)]
pub struct GridIndex {
    cell_to_grid: HashMap<u64, usize>,
    by_id: HashMap<String, usize>,
    grids: Vec<Grid>,
}

impl GridIndex {
    pub fn build(grids: Vec<Grid>) -> Result<GridIndex, GeoError> {
        let mut cell_to_grid = HashMap::with_capacity(grids.iter().map(|g| g.cells.len()).sum());
        for (i, grid) in grids.iter().enumerate() {
            for &cell in &grid.cells {
                CellIndex::try_from(cell).map_err(|_| GeoError::BadCell(cell))?;
                if let Some(&j) = cell_to_grid.get(&cell) {
                    let first: &Grid = &grids[j];
                    return Err(GeoError::Overlap {
                        cell,
                        first: first.id.clone(),
                        second: grid.id.clone(),
                    });
                }
                cell_to_grid.insert(cell, i);
            }
        }
        let by_id = grids.iter().enumerate().map(|(i, g)| (g.id.clone(), i)).collect();
        Ok(GridIndex {
            cell_to_grid,
            by_id,
            grids,
        })
    }

    /// The grid of an id.
    pub fn grid(&self, id: &str) -> Option<&Grid> {
        self.by_id.get(id).map(|&i| &self.grids[i])
    }

    pub fn locate(&self, lat: f64, lon: f64) -> Result<Option<&Grid>, GeoError> {
        let cell = u64::from(cell_of(lat, lon)?);
        Ok(self.cell_to_grid.get(&cell).map(|&i| &self.grids[i]))
    }

    pub fn grids(&self) -> &[Grid] {
        &self.grids
    }

    pub fn len(&self) -> usize {
        self.grids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }
}

/// Where a top-level unit of a synthetic layout sits: its approximate seat and its area.
#[derive(Debug, Clone, PartialEq)]
pub struct Seat {
    pub unit: UnitCode,
    pub lat: f64,
    pub lon: f64,
    pub area_km2: f64,
}

/// The result of [`synthetic_layout`]: every unit's cells, and the grids of every village.
#[derive(Debug, Default)]
pub struct Layout {
    pub cells: HashMap<UnitCode, Vec<u64>>,
    pub grids: Vec<Grid>,
}

/// Lays out a territory on H3 cells where no real boundaries exist.
///
/// Method: each seated unit (e.g. a county, placed at its real seat with its real area) grows a contiguous region of
/// cells from its seat by round-robin breadth-first growth until it reaches its area. Inside a region, the children are
/// seeded by farthest-point sampling over the region's cells (the first seed is the cell nearest the parent's seat) and
/// grown the same way with quotas proportional to a weight per kind of unit (urban streets and residents' committees are
/// smaller than towns and villages); cells left over are given to the neighbouring region. Finally every village is cut
/// into grids of about `cells_per_grid` cells. Everything is deterministic: same input, same layout.
pub fn synthetic_layout(territory: &Territory, seats: &[Seat], cells_per_grid: usize) -> Result<Layout, GeoError> {
    let cell_area = GRID_RESOLUTION.area_km2();
    let mut layout = Layout::default();
    let mut seeds = Vec::new();
    for seat in seats {
        let cell = cell_of(seat.lat, seat.lon)?;
        seeds.push((
            seat.unit.clone(),
            cell,
            (seat.area_km2 / cell_area).round().max(1.0) as usize,
        ));
    }
    let top = grow_regions(&seeds, None);
    let mut queue: VecDeque<(UnitCode, Vec<CellIndex>)> = top.into_iter().collect();
    while let Some((code, cells)) = queue.pop_front() {
        layout
            .cells
            .insert(code.clone(), cells.iter().map(|c| u64::from(*c)).collect());
        let children: Vec<&Unit> = territory
            .children(&code)
            .iter()
            .filter_map(|c| territory.get(c))
            .collect();
        if children.is_empty() {
            if code.level() == Level::Village {
                layout.grids.extend(cut_into_grids(&code, &cells, cells_per_grid));
            }
            continue;
        }
        for (child, child_cells) in split_region(&cells, &children) {
            queue.push_back((child, child_cells));
        }
    }
    layout.grids.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(layout)
}

/// Relative size of a unit among its siblings, from the kind its code reveals (see the division-code rules:
/// township digits 001-099 are urban streets, village digits 001-199 are residents' committees).
fn size_weight(unit: &Unit) -> f64 {
    let code = unit.code.as_str();
    match unit.level {
        Level::Township => match code[6..9].parse::<u32>().unwrap_or(100) {
            0..=99 => 0.5,
            100..=199 => 1.5,
            _ => 1.2,
        },
        Level::Village => match code[9..12].parse::<u32>().unwrap_or(200) {
            0..=199 => 0.35,
            _ => 1.0,
        },
        _ => 1.0,
    }
}

fn split_region(cells: &[CellIndex], children: &[&Unit]) -> Vec<(UnitCode, Vec<CellIndex>)> {
    let allowed: HashSet<CellIndex> = cells.iter().copied().collect();
    let k = children.len().min(cells.len());
    if k == 0 {
        return Vec::new();
    }
    let seed_cells = farthest_points(cells, k);
    let total_weight: f64 = children.iter().take(k).map(|u| size_weight(u)).sum();
    let seeds: Vec<(UnitCode, CellIndex, usize)> = children
        .iter()
        .take(k)
        .zip(seed_cells)
        .map(|(u, seed)| {
            let quota = (cells.len() as f64 * size_weight(u) / total_weight).round().max(1.0) as usize;
            (u.code.clone(), seed, quota)
        })
        .collect();
    // Children beyond the number of cells (a tiny region) get no cells; they still exist as units.
    grow_regions(&seeds, Some(&allowed)).into_iter().collect()
}

fn cut_into_grids(village: &UnitCode, cells: &[CellIndex], cells_per_grid: usize) -> Vec<Grid> {
    let n = (cells.len() / cells_per_grid.max(1)).clamp(1, 99);
    let seeds: Vec<(usize, CellIndex, usize)> = farthest_points(cells, n)
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i, c, cells.len().div_ceil(n)))
        .collect();
    let allowed: HashSet<CellIndex> = cells.iter().copied().collect();
    let mut regions: Vec<(usize, Vec<CellIndex>)> = grow_regions(&seeds, Some(&allowed)).into_iter().collect();
    regions.sort_by_key(|(i, _)| *i);
    regions
        .into_iter()
        .map(|(i, cells)| Grid {
            id: format!("{village}-{:02}", i + 1),
            unit: village.clone(),
            cells: cells.into_iter().map(u64::from).collect(),
        })
        .collect()
}

fn planar(cell: CellIndex) -> (f64, f64) {
    let ll = LatLng::from(cell);
    (ll.lat(), ll.lng() * ll.lat().to_radians().cos())
}

/// Picks `k` cells spread over `cells`: the first cell, then repeatedly the cell farthest from those picked.
fn farthest_points(cells: &[CellIndex], k: usize) -> Vec<CellIndex> {
    let points: Vec<(f64, f64)> = cells.iter().map(|c| planar(*c)).collect();
    let mut nearest = vec![f64::INFINITY; cells.len()];
    let mut picked = Vec::with_capacity(k);
    let mut next = 0;
    for _ in 0..k.min(cells.len()) {
        picked.push(cells[next]);
        let (py, px) = points[next];
        let mut best = (0, -1.0);
        for (i, (y, x)) in points.iter().enumerate() {
            let d = (y - py).powi(2) + (x - px).powi(2);
            if d < nearest[i] {
                nearest[i] = d;
            }
            if nearest[i] > best.1 {
                best = (i, nearest[i]);
            }
        }
        next = best.0;
    }
    picked
}

/// Round-robin breadth-first growth of regions from seed cells, each up to its quota, within `allowed` if given.
/// With `allowed`, every allowed cell reachable from a seed ends up in some region.
fn grow_regions<K: Clone + Eq + std::hash::Hash>(
    seeds: &[(K, CellIndex, usize)],
    allowed: Option<&HashSet<CellIndex>>,
) -> HashMap<K, Vec<CellIndex>> {
    let inside = |c: &CellIndex| allowed.is_none_or(|a| a.contains(c));
    let mut owner: HashMap<CellIndex, usize> = HashMap::new();
    let mut regions: Vec<Vec<CellIndex>> = vec![Vec::new(); seeds.len()];
    let mut frontiers: Vec<VecDeque<CellIndex>> = seeds.iter().map(|(_, c, _)| VecDeque::from([*c])).collect();
    let mut active = true;
    while active {
        active = false;
        for (i, (_, _, quota)) in seeds.iter().enumerate() {
            if regions[i].len() >= *quota {
                continue;
            }
            while let Some(cell) = frontiers[i].pop_front() {
                if owner.contains_key(&cell) || !inside(&cell) {
                    continue;
                }
                owner.insert(cell, i);
                regions[i].push(cell);
                frontiers[i].extend(
                    cell.grid_disk::<Vec<_>>(1)
                        .into_iter()
                        .filter(|n| !owner.contains_key(n)),
                );
                active = true;
                break;
            }
        }
    }
    if let Some(allowed) = allowed {
        // Hand the cells no region reached under its quota to a neighbouring region, so the parent is covered.
        let mut sorted: Vec<CellIndex> = allowed.iter().copied().collect();
        sorted.sort();
        let mut changed = true;
        while changed {
            changed = false;
            for cell in &sorted {
                if owner.contains_key(cell) {
                    continue;
                }
                let neighbour = cell
                    .grid_disk::<Vec<_>>(1)
                    .into_iter()
                    .find_map(|n| owner.get(&n).copied());
                if let Some(i) = neighbour {
                    owner.insert(*cell, i);
                    regions[i].push(*cell);
                    changed = true;
                }
            }
        }
    }
    seeds.iter().map(|(k, _, _)| k.clone()).zip(regions).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Neighbouring cells dissolve into one polygon; cells apart stay apart; invalid cells are skipped.
    #[test]
    fn outlines_dissolve_cells_into_polygons() {
        let cell = cell_of(30.87, 120.08).expect("cell");
        let mut neighbours: Vec<u64> = cell.grid_disk::<Vec<_>>(1).into_iter().map(u64::from).collect();
        let one = outline(neighbours.clone()).expect("outline");
        assert_eq!(one.0.len(), 1, "seven touching cells are one polygon");
        assert!(one.0[0].interiors().is_empty());
        let far = u64::from(cell_of(30.95, 120.20).expect("cell"));
        neighbours.extend([far, 0, far]);
        assert_eq!(outline(neighbours).expect("outline").0.len(), 2);
        assert!(outline([]).expect("outline").0.is_empty());
    }

    fn unit(code: &str, name: &str) -> Unit {
        let code = UnitCode::parse(code).unwrap();
        Unit::new(code.clone(), name, code.parent_code()).unwrap()
    }

    fn small_territory() -> Territory {
        Territory::build([
            unit("330502", "吴兴区"),
            unit("330502001", "月河街道"),
            unit("330502100", "织里镇"),
            unit("330502001001", "A社区"),
            unit("330502100201", "B村"),
            unit("330502100202", "C村"),
        ])
        .unwrap()
    }

    #[test]
    fn layout_covers_the_county_and_every_cell_locates_to_its_village() {
        let t = small_territory();
        let seat = Seat {
            unit: UnitCode::parse("330502").unwrap(),
            lat: 30.87,
            lon: 120.09,
            area_km2: 20.0,
        };
        let layout = synthetic_layout(&t, &[seat], 8).unwrap();
        let county_cells = &layout.cells[&UnitCode::parse("330502").unwrap()];
        let village_cells: usize = ["330502001001", "330502100201", "330502100202"]
            .iter()
            .map(|c| layout.cells[&UnitCode::parse(c).unwrap()].len())
            .sum();
        assert_eq!(village_cells, county_cells.len(), "villages partition the county");
        let grid_cells: usize = layout.grids.iter().map(|g| g.cells.len()).sum();
        assert_eq!(grid_cells, county_cells.len(), "grids partition the villages");
        let index = GridIndex::build(layout.grids.clone()).unwrap();
        for grid in &layout.grids {
            for &cell in &grid.cells {
                let ll = LatLng::from(CellIndex::try_from(cell).unwrap());
                let found = index.locate(ll.lat(), ll.lng()).unwrap().unwrap();
                assert_eq!(found.id, grid.id);
            }
        }
    }

    #[test]
    fn layout_is_deterministic() {
        let t = small_territory();
        let seat = Seat {
            unit: UnitCode::parse("330502").unwrap(),
            lat: 30.87,
            lon: 120.09,
            area_km2: 20.0,
        };
        let a = synthetic_layout(&t, std::slice::from_ref(&seat), 8).unwrap();
        let b = synthetic_layout(&t, &[seat], 8).unwrap();
        assert_eq!(a.grids, b.grids);
    }

    #[test]
    fn impossible_coordinates_are_named() {
        let err = cell_of(95.0, 120.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "impossible coordinates lat=95, lon=120: latitude must be in [-90, 90] and longitude in [-180, 180]"
        );
    }
}
