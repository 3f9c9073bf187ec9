//! Compact coverage: the share of villages and communities with a compact in force (filed), by township and county,
//! and how old each one is.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::territory::{Level, Territory, UnitCode};

/// A village's compact in force: the version and the day (epoch seconds) it was filed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VillageCompact {
    pub unit: String,
    pub name: String,
    pub version: i64,
    pub filed_at: i64,
    pub age_days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownshipCoverage {
    pub unit: String,
    pub name: String,
    pub villages: usize,
    pub with_compact: usize,
    pub share: f64,
    pub compacts: Vec<VillageCompact>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountyCoverage {
    pub unit: String,
    pub name: String,
    pub villages: usize,
    pub with_compact: usize,
    pub share: f64,
    pub townships: Vec<TownshipCoverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompactCoverage {
    pub villages: usize,
    pub with_compact: usize,
    pub share: f64,
    pub counties: Vec<CountyCoverage>,
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Coverage of `territory` (or of its subtree under `root`) given the compacts in force, `(unit, version,
/// filed_at)`, at `now` (epoch seconds). Ages are whole days since filing.
pub fn coverage(
    territory: &Territory,
    root: Option<&UnitCode>,
    in_force: &[(UnitCode, i64, i64)],
    now: i64,
) -> CompactCoverage {
    let filed: BTreeMap<&UnitCode, (i64, i64)> = in_force.iter().map(|(u, v, at)| (u, (*v, *at))).collect();
    let mut counties = Vec::new();
    for county in territory.at_level(Level::County) {
        if root.is_some_and(|r| !county.code.is_within(r) && !r.is_within(&county.code)) {
            continue;
        }
        let mut townships = Vec::new();
        for township_code in territory.children(&county.code) {
            if root.is_some_and(|r| !township_code.is_within(r) && !r.is_within(township_code)) {
                continue;
            }
            let Some(township) = territory.get(township_code) else {
                continue;
            };
            let villages: Vec<&UnitCode> = territory
                .children(township_code)
                .iter()
                .filter(|v| root.is_none_or(|r| v.is_within(r)))
                .collect();
            let compacts: Vec<VillageCompact> = villages
                .iter()
                .filter_map(|v| {
                    let (version, filed_at) = filed.get(v)?;
                    Some(VillageCompact {
                        unit: v.to_string(),
                        name: territory.get(v).map(|u| u.name.clone()).unwrap_or_default(),
                        version: *version,
                        filed_at: *filed_at,
                        age_days: (now - filed_at).max(0) / 86_400,
                    })
                })
                .collect();
            townships.push(TownshipCoverage {
                unit: township_code.to_string(),
                name: township.name.clone(),
                villages: villages.len(),
                with_compact: compacts.len(),
                share: share(compacts.len(), villages.len()),
                compacts,
            });
        }
        let villages = townships.iter().map(|t| t.villages).sum();
        let with_compact = townships.iter().map(|t| t.with_compact).sum();
        counties.push(CountyCoverage {
            unit: county.code.to_string(),
            name: county.name.clone(),
            villages,
            with_compact,
            share: share(with_compact, villages),
            townships,
        });
    }
    let villages = counties.iter().map(|c| c.villages).sum();
    let with_compact = counties.iter().map(|c| c.with_compact).sum();
    CompactCoverage {
        villages,
        with_compact,
        share: share(with_compact, villages),
        counties,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::Unit;

    fn territory() -> Territory {
        let unit = |code: &str, name: &str| {
            let code = UnitCode::parse(code).unwrap();
            let parent = code.parent_code();
            Unit::new(code, name, parent).unwrap()
        };
        Territory::build([
            unit("33", "P"),
            unit("3305", "C"),
            unit("330502", "County"),
            unit("330502001", "Town A"),
            unit("330502001001", "V1"),
            unit("330502001002", "V2"),
            unit("330502002", "Town B"),
            unit("330502002001", "V3"),
        ])
        .unwrap()
    }

    #[test]
    fn shares_by_township_and_county_with_ages() {
        let v1 = UnitCode::parse("330502001001").unwrap();
        let report = coverage(&territory(), None, &[(v1, 2, 0)], 10 * 86_400 + 5);
        assert_eq!((report.villages, report.with_compact), (3, 1));
        let county = &report.counties[0];
        assert_eq!(county.townships[0].share, 0.5);
        assert_eq!(county.townships[1].share, 0.0);
        assert_eq!(county.townships[0].compacts[0].age_days, 10);
        assert_eq!(county.townships[0].compacts[0].version, 2);
    }

    #[test]
    fn a_root_limits_the_report_to_its_subtree() {
        let root = UnitCode::parse("330502002").unwrap();
        let report = coverage(&territory(), Some(&root), &[], 0);
        assert_eq!(report.villages, 1);
        assert_eq!(report.counties[0].townships.len(), 1);
    }
}
