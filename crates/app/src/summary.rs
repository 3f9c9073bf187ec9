//! The per-county summary of a region: cases by kind, open and closed, median days to close.

use std::collections::BTreeMap;

use domain::{CaseKind, Level, Territory};
use serde::Serialize;
use store::CaseRow;

#[derive(Debug, Serialize, PartialEq)]
pub struct CountySummary {
    pub code: String,
    pub name: String,
    pub cases: usize,
    pub by_kind: BTreeMap<String, usize>,
    pub open: usize,
    pub closed: usize,
    pub median_days_to_close: Option<f64>,
}

/// Median of a slice (sorted in place); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

pub fn by_county(territory: &Territory, rows: &[CaseRow]) -> Vec<CountySummary> {
    let mut out: BTreeMap<String, (CountySummary, Vec<f64>)> = BTreeMap::new();
    for row in rows {
        let Some(county) = territory.ancestor_at(&row.location.unit, Level::County) else {
            continue;
        };
        let (s, days) = out.entry(county.code.to_string()).or_insert_with(|| {
            let by_kind = CaseKind::ALL.iter().map(|k| (k.as_str().to_string(), 0)).collect();
            (
                CountySummary {
                    code: county.code.to_string(),
                    name: county.name.clone(),
                    cases: 0,
                    by_kind,
                    open: 0,
                    closed: 0,
                    median_days_to_close: None,
                },
                Vec::new(),
            )
        });
        s.cases += 1;
        *s.by_kind.entry(row.kind.as_str().to_string()).or_insert(0) += 1;
        match row.closed_at {
            Some(closed) => {
                s.closed += 1;
                days.push((closed - row.created_at) as f64 / 86_400.0);
            }
            None => s.open += 1,
        }
    }
    out.into_values()
        .map(|(mut s, mut days)| {
            s.median_days_to_close = median(&mut days);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(super::median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(super::median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(super::median(&mut []), None);
    }
}
