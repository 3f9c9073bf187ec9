//! The per-county summary of a region: cases by kind, open and closed, median days to close, and the three rates
//! with their feedback coverage over the whole period (`domain::rates`, as the monthly report defines them).

use std::collections::BTreeMap;

use domain::rates::{CaseSummary, RateFigures, RateWeights};
use domain::{CaseKind, Level, Territory};
use serde::Serialize;
use store::{CaseRow, Store};
use time::OffsetDateTime;

use crate::AppError;
use crate::workflow::Rules;

#[derive(Debug, Serialize, PartialEq)]
pub struct CountySummary {
    pub code: String,
    pub name: String,
    pub cases: usize,
    pub by_kind: BTreeMap<String, usize>,
    pub open: usize,
    pub closed: usize,
    pub median_days_to_close: Option<f64>,
    /// The three rates, feedback coverage and composite of the county's cases.
    pub rates: RateFigures,
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

/// Every stored case summarised per county, the rates as the logs stand at `now` on each case's clocks in force.
pub async fn region_summary(
    store: &Store,
    rules: &Rules,
    territory: &Territory,
    now: OffsetDateTime,
) -> Result<Vec<CountySummary>, AppError> {
    let cases = store
        .cases_with_logs_created(OffsetDateTime::UNIX_EPOCH, time::macros::datetime!(9999-12-31 0:00 UTC))
        .await?;
    let summaries: Vec<CaseSummary> = cases
        .iter()
        .filter_map(|(row, log)| crate::workflow::summarise(rules, row, log, now))
        .collect();
    let rows: Vec<CaseRow> = cases.into_iter().map(|(row, _)| row).collect();
    Ok(by_county(territory, &rows, &summaries, &rules.weights))
}

/// The county summaries of `rows`, with the rates of `summaries` (the same cases, reduced by `domain::rates`).
pub fn by_county(
    territory: &Territory,
    rows: &[CaseRow],
    summaries: &[CaseSummary],
    weights: &RateWeights,
) -> Vec<CountySummary> {
    let mut by_county_code: BTreeMap<String, Vec<&CaseSummary>> = BTreeMap::new();
    for s in summaries {
        if let Some(county) = territory.ancestor_at(&s.unit, Level::County) {
            by_county_code.entry(county.code.to_string()).or_default().push(s);
        }
    }
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
                    rates: RateFigures::default(),
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
            let cases = by_county_code.get(&s.code).map_or(&[][..], Vec::as_slice);
            s.rates = RateFigures::of(cases.iter().copied(), weights);
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
