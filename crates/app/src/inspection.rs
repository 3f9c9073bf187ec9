//! Peer inspection (issue 14, part 4) as use cases: draw a month's rota and samples for the townships of a unit, and
//! report what the inspectors found.
//!
//! The draw is `domain::inspection`'s (adjacency from the stored grids, candidates from the staff accounts of
//! townships); the store keeps it, once per township and month, so the rota never changes under its inspectors.
//! Findings are recorded on the cases through `workflow::perform` (`Command::Inspect`), which only a drawn
//! inspector passes; the report reads them back from the sampled cases' logs.

use std::collections::BTreeMap;

use domain::access::{self, Principal, UnitAction};
use domain::inspection::{self, Candidate, Finding, InspectionResults};
use domain::office::OfficeId;
use domain::rates::YearMonth;
use domain::{EventKind, Level, UnitCode};
use serde::Serialize;
use store::{CaseFilter, InspectionDrawRow, Store};
use time::OffsetDateTime;

use crate::workflow::{Rules, WorkflowError, month_start};

/// How many closed cases a township's monthly sample holds at most.
pub const SAMPLE_SIZE: usize = 5;
/// How many inspectors are drawn for each township.
pub const INSPECTORS_PER_TOWNSHIP: usize = 2;

/// One township's rota and sample for a month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownshipDraw {
    pub township: String,
    pub month: String,
    /// (inspector account, the adjoining township they come from).
    pub inspectors: Vec<(String, String)>,
    pub sample: Vec<i64>,
    /// Why no inspector could be drawn, when none was.
    pub refused: Option<String>,
}

/// One township's inspection results for a month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownshipResults {
    pub township: String,
    pub inspectors: Vec<String>,
    #[serde(flatten)]
    pub results: InspectionResults,
}

fn townships_under(store_units: &[UnitCode], unit: &UnitCode) -> Vec<UnitCode> {
    if unit.level() == Level::Township {
        return vec![unit.clone()];
    }
    store_units
        .iter()
        .filter(|u| u.level() == Level::Township && u.is_within(unit))
        .cloned()
        .collect()
}

fn month_text(month: YearMonth) -> String {
    month.to_string()
}

/// Draws (or reads, when already drawn) the rota and the sample of every township in `unit`'s subtree for `month`,
/// seeded by `seed`. The caller must govern `unit` (an office head or administrator of it).
pub async fn draw(
    store: &Store,
    rules: &Rules,
    principal: &Principal,
    unit: &UnitCode,
    month: YearMonth,
    seed: u64,
    now: OffsetDateTime,
) -> Result<Vec<TownshipDraw>, WorkflowError> {
    access::can_at_unit(principal, UnitAction::GovernPolicy, unit)?;
    let grids = store.load_grids().await?;
    let adjacency = inspection::adjoining_townships(&grids);
    let units: Vec<UnitCode> = adjacency.keys().cloned().collect();
    let candidates: Vec<Candidate> = store
        .list_accounts()
        .await?
        .into_iter()
        .filter(|a| !a.disabled && matches!(a.role.as_str(), "caseworker" | "office_head"))
        .filter_map(|a| {
            let office = OfficeId::parse(a.office.as_deref()?).ok()?;
            Some(Candidate {
                account: a.name,
                township: inspection::township_of(office.unit())?,
            })
        })
        .collect();
    let from = month_start(month, &rules.calendar)?.unix_timestamp();
    let to = month_start(crate::workflow::next_month(month), &rules.calendar)?.unix_timestamp();
    let month_key = month_text(month);
    let mut out = Vec::new();
    for township in townships_under(&units, unit) {
        if store.inspection_draws(township.as_str(), &month_key).await?.is_empty() {
            let drawn = inspection::draw_inspectors(
                &adjacency,
                &candidates,
                &township,
                &month_key,
                seed,
                INSPECTORS_PER_TOWNSHIP,
            );
            let drawn = match drawn {
                Ok(drawn) => drawn,
                Err(refusal) => {
                    out.push(TownshipDraw {
                        township: township.to_string(),
                        month: month_key.clone(),
                        inspectors: Vec::new(),
                        sample: Vec::new(),
                        refused: Some(refusal.to_string()),
                    });
                    continue;
                }
            };
            let closed: Vec<i64> = store
                .list_cases(&CaseFilter {
                    under: Some(township.clone()),
                    limit: 200_000,
                    ..CaseFilter::default()
                })
                .await?
                .into_iter()
                .filter(|r| r.closed_at.is_some_and(|at| (from..to).contains(&at)))
                .map(|r| r.id)
                .collect();
            let sample = inspection::sample_closed_cases(&closed, &township, &month_key, seed, SAMPLE_SIZE);
            let rows: Vec<InspectionDrawRow> = drawn
                .iter()
                .map(|d| InspectionDrawRow {
                    township: township.to_string(),
                    month: month_key.clone(),
                    inspector: d.inspector.clone(),
                    from_unit: d.from.to_string(),
                    seed: seed as i64,
                    drawn_at: now.unix_timestamp(),
                })
                .collect();
            store
                .record_inspection_draw(&rows, township.as_str(), &month_key, &sample)
                .await?;
        }
        out.push(TownshipDraw {
            township: township.to_string(),
            month: month_key.clone(),
            inspectors: store
                .inspection_draws(township.as_str(), &month_key)
                .await?
                .into_iter()
                .map(|d| (d.inspector, d.from_unit))
                .collect(),
            sample: store.inspection_sample(township.as_str(), &month_key).await?,
            refused: None,
        });
    }
    Ok(out)
}

/// The inspection results of every township drawn in `unit`'s subtree for `month`: sampled, audited (a finding
/// recorded), and findings by kind (the last finding of each case). Reading statistics of `unit` is required.
pub async fn report(
    store: &Store,
    principal: &Principal,
    unit: &UnitCode,
    month: YearMonth,
) -> Result<Vec<TownshipResults>, WorkflowError> {
    access::can_at_unit(principal, UnitAction::ReadStats, unit)?;
    let month_key = month_text(month);
    let mut inspectors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in store.inspection_draws(unit.as_str(), &month_key).await? {
        inspectors.entry(d.township).or_default().push(d.inspector);
    }
    let mut out = Vec::new();
    for (township, who) in inspectors {
        let sample = store.inspection_sample(&township, &month_key).await?;
        let logs = store.load_logs(&sample).await?;
        let findings: Vec<Finding> = sample
            .iter()
            .filter_map(|id| {
                logs.get(id)?.iter().rev().find_map(|e| match &e.kind {
                    EventKind::Inspected { finding, .. } => Some(*finding),
                    _ => None,
                })
            })
            .collect();
        out.push(TownshipResults {
            township,
            inspectors: who,
            results: InspectionResults::tally(sample.len() as u32, findings),
        });
    }
    Ok(out)
}
