//! Loading a region into the store and simulating its life there.

use domain::{Level, Territory, UnitCode};
use sim::{SimConfig, Simulation};
use store::{NewCaseRecord, Store};

use crate::AppError;
use crate::demo_region::{HUZHOU, huzhou_layout, huzhou_territory};

/// What [`ensure_huzhou`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    Reused,
    Created,
}

const LAYOUT_KEY: &str = "demo.layout";
const LAYOUT_VERSION: &str = "huzhou-1";

/// Loads the embedded Huzhou territory and its grids into the store unless they are there already.
pub async fn ensure_huzhou(store: &Store, seed: u64) -> Result<(Territory, Loaded), AppError> {
    let territory = huzhou_territory()?;
    if store.get_meta(LAYOUT_KEY).await?.as_deref() == Some(LAYOUT_VERSION) {
        return Ok((territory, Loaded::Reused));
    }
    let units = territory.units_sorted();
    store.upsert_units(&units, &mut |_| {}).await?;
    let layout = huzhou_layout(&territory)?;
    let workers = sim::worker_roster(&layout.grids, seed);
    store.replace_grids(&layout.grids, &workers).await?;
    store.set_meta(LAYOUT_KEY, LAYOUT_VERSION).await?;
    Ok((territory, Loaded::Created))
}

/// Simulates `months` months of the region under `root` and stores every case; returns the number stored. Cases from
/// an earlier simulation are replaced, in batches each committed before the next.
pub async fn simulate_into(
    store: &Store,
    territory: &Territory,
    config: &SimConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Simulation, AppError> {
    let grids = store.load_grids().await?;
    let simulation = sim::simulate(territory, &grids, config);
    store.delete_all_cases().await?;
    let records: Vec<NewCaseRecord> = simulation
        .cases
        .iter()
        .map(|c| NewCaseRecord {
            case: c.case.clone(),
            events: c.events.clone(),
        })
        .collect();
    let total = records.len();
    let mut done = 0;
    for chunk in records.chunks(5_000) {
        store.insert_cases(chunk).await?;
        done += chunk.len();
        progress(done, total);
    }
    Ok(simulation)
}

pub fn huzhou_root() -> UnitCode {
    UnitCode::parse(HUZHOU).unwrap_or_else(|_| unreachable!("the demo code is a valid code"))
}

/// Huzhou's townships in `territory`, in code order: where the demo and the calibration site their pilots.
pub fn huzhou_townships(territory: &Territory) -> Vec<UnitCode> {
    let root = huzhou_root();
    territory
        .at_level(Level::Township)
        .into_iter()
        .map(|u| u.code.clone())
        .filter(|c| c.is_within(&root))
        .collect()
}
