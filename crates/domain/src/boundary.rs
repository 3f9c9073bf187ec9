//! Real boundaries imported from GeoJSON: polygons keyed by division code, with exact point-in-polygon lookup.
//!
//! An R-tree of bounding boxes narrows the candidates, then `geo::Contains` decides exactly. Used when a deployment
//! has real boundaries; the synthetic cell layout (`grid`) is used otherwise.

use geo::{BoundingRect, Contains, MultiPolygon, Point};
use rstar::{AABB, RTree, RTreeObject};

use crate::territory::UnitCode;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BoundaryError {
    #[error("{file}: not valid GeoJSON: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: the top level must be a FeatureCollection")]
    NotCollection { file: String },
    #[error("{file}: feature {index}: {reason}")]
    Feature { file: String, index: usize, reason: String },
}

#[derive(Debug, Clone)]
pub struct Boundary {
    pub code: UnitCode,
    pub shape: MultiPolygon<f64>,
}

/// Parses a FeatureCollection whose features carry their division code in the property `code`.
pub fn parse_geojson(file: &str, text: &str) -> Result<Vec<Boundary>, BoundaryError> {
    let parsed: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| BoundaryError::Syntax {
        file: file.into(),
        reason: e.to_string(),
    })?;
    let geojson::GeoJson::FeatureCollection(collection) = parsed else {
        return Err(BoundaryError::NotCollection { file: file.into() });
    };
    let mut out = Vec::with_capacity(collection.features.len());
    for (index, feature) in collection.features.into_iter().enumerate() {
        let fail = |reason: String| BoundaryError::Feature {
            file: file.into(),
            index,
            reason,
        };
        let code = match feature.property("code") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => {
                return Err(fail(
                    "property `code` is missing (expected the division code as a string)".into(),
                ));
            }
        };
        let code = UnitCode::parse(&code).map_err(|e| fail(format!("property `code`: {e}")))?;
        let geometry = feature.geometry.ok_or_else(|| fail("no geometry".into()))?;
        check_positions(&geometry.value).map_err(fail)?;
        let geometry: geo::Geometry<f64> = geometry
            .try_into()
            .map_err(|e: geojson::Error| fail(format!("geometry: {e}")))?;
        let shape = match geometry {
            geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
            geo::Geometry::MultiPolygon(m) => m,
            _ => return Err(fail("geometry must be a Polygon or MultiPolygon".into())),
        };
        let rect = shape.bounding_rect().ok_or_else(|| fail("empty polygon".into()))?;
        let (min, max) = (rect.min(), rect.max());
        if min.x < -180.0 || max.x > 180.0 || min.y < -90.0 || max.y > 90.0 {
            return Err(fail(format!(
                "impossible coordinates: bounding box {min:?}..{max:?} (lon, lat)"
            )));
        }
        out.push(Boundary { code, shape });
    }
    Ok(out)
}

/// Refuses a geometry other than a polygon and any position without a longitude and a latitude, before the geojson
/// crate converts it: its conversion indexes the first two numbers of every position and panics on fewer (found by
/// fuzzing, issue 16).
fn check_positions(value: &geojson::GeometryValue) -> Result<(), String> {
    let rings: Vec<&Vec<geojson::Position>> = match value {
        geojson::GeometryValue::Polygon { coordinates } => coordinates.iter().collect(),
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().flatten().collect(),
        _ => return Err("geometry must be a Polygon or MultiPolygon".into()),
    };
    for (ring, positions) in rings.into_iter().enumerate() {
        for (at, position) in positions.iter().enumerate() {
            let numbers = position.as_slice();
            if numbers.len() < 2 {
                return Err(format!(
                    "ring {ring}, position {at}: {} number(s); a position is [longitude, latitude]",
                    numbers.len()
                ));
            }
            if numbers.iter().any(|n| !n.is_finite()) {
                return Err(format!("ring {ring}, position {at}: not a finite number"));
            }
        }
    }
    Ok(())
}

struct Entry {
    index: usize,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Exact point-in-polygon lookup over many boundaries.
pub struct BoundaryIndex {
    boundaries: Vec<Boundary>,
    tree: RTree<Entry>,
}

impl BoundaryIndex {
    pub fn build(boundaries: Vec<Boundary>) -> BoundaryIndex {
        let entries = boundaries
            .iter()
            .enumerate()
            .filter_map(|(index, b)| {
                let r = b.shape.bounding_rect()?;
                Some(Entry {
                    index,
                    envelope: AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                })
            })
            .collect();
        BoundaryIndex {
            boundaries,
            tree: RTree::bulk_load(entries),
        }
    }

    /// The deepest unit whose polygon contains the point.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<&UnitCode> {
        let point = Point::new(lon, lat);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
            .map(|e| &self.boundaries[e.index])
            .filter(|b| b.shape.contains(&point))
            .map(|b| &b.code)
            .max_by_key(|code| code.as_str().len())
    }

    pub fn len(&self) -> usize {
        self.boundaries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.boundaries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARES: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"code":"330502"},"geometry":{"type":"Polygon","coordinates":[[[120,30],[121,30],[121,31],[120,31],[120,30]]]}},
      {"type":"Feature","properties":{"code":"330502001"},"geometry":{"type":"Polygon","coordinates":[[[120,30],[120.5,30],[120.5,30.5],[120,30.5],[120,30]]]}}
    ]}"#;

    /// fuzz/artifacts/geojson_boundaries/crash-9562906…: a position with one number panicked in the geojson crate's
    /// conversion; it is refused, naming the ring and the position.
    #[test]
    fn fuzz_a_position_with_one_number_is_refused() {
        let crash = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"330502001"},"geometry":{"type":"Polygon","coordinates":[[[120.8],[120.1,30.8],[120,1,30.9],[120.0,30.8]]]}}]}"#;
        let error = parse_geojson("crash.geojson", crash).unwrap_err().to_string();
        assert!(error.contains("ring 0, position 0: 1 number(s)"), "{error}");
        let point = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"33"},"geometry":{"type":"Point","coordinates":[120,30]}}]}"#;
        let error = parse_geojson("point.geojson", point).unwrap_err().to_string();
        assert!(error.contains("Polygon or MultiPolygon"), "{error}");
    }

    #[test]
    fn the_deepest_containing_unit_wins() {
        let index = BoundaryIndex::build(parse_geojson("t.geojson", SQUARES).unwrap());
        assert_eq!(index.locate(30.25, 120.25).unwrap().as_str(), "330502001");
        assert_eq!(index.locate(30.75, 120.75).unwrap().as_str(), "330502");
        assert!(index.locate(29.0, 120.25).is_none());
    }

    #[test]
    fn a_feature_without_code_is_named() {
        let text = SQUARES.replace(r#""code":"330502001""#, r#""name":"x""#);
        let err = parse_geojson("t.geojson", &text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.geojson: feature 1: property `code` is missing (expected the division code as a string)"
        );
    }
}
