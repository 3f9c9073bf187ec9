//! Loading a region into the store and simulating its life there.

use domain::{Level, Territory, UnitCode};
use sim::{SimConfig, Simulation};
use store::{FixedRules, NewCaseRecord, Store};

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

/// A simulation stored, with the time each step took.
#[derive(Debug)]
pub struct Simulated {
    pub simulation: Simulation,
    /// Running the simulator.
    pub simulating: std::time::Duration,
    /// Checking every log against the rules and storing it, indexes included.
    pub storing: std::time::Duration,
}

/// Simulates `months` months of the region under `root` and stores every case in place of those of an earlier
/// simulation, all in one transaction (`Store::replace_all_cases`).
pub async fn simulate_into(
    store: &Store,
    territory: &Territory,
    config: &SimConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Simulated, AppError> {
    let started = std::time::Instant::now();
    let grids = store.load_grids().await?;
    let simulation = sim::simulate(territory, &grids, config);
    let simulating = started.elapsed();
    let started = std::time::Instant::now();
    let records: Vec<NewCaseRecord> = simulation
        .cases
        .iter()
        .map(|c| NewCaseRecord {
            case: c.case.clone(),
            events: c.events.clone(),
            clocks: simulation.clocks.clone(),
        })
        .collect();
    // The simulated cases ran on the simulation's clocks and calendar: the store holds them to the same rules.
    let rules = FixedRules {
        calendar: simulation.calendar.clone(),
        clocks: simulation.clocks.clone(),
    };
    store.replace_all_cases(&records, &rules, progress).await?;
    Ok(Simulated {
        simulation,
        simulating,
        storing: started.elapsed(),
    })
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

#[cfg(test)]
mod tests {
    use domain::rules::{self, RuleContext};
    use sim::{SimConfig, Simulation};

    use super::*;
    use crate::demo_region::{HUZHOU_RESIDENTS, huzhou_layout, huzhou_territory};

    /// How many events of the simulated logs `domain::rules` refuses when each log is replayed from its start, and
    /// how many events there are in all.
    fn refused_events(simulation: &Simulation) -> (usize, usize) {
        let (mut refused, mut total) = (0, 0);
        for (index, case) in simulation.cases.iter().enumerate() {
            let ctx = RuleContext {
                case: index as i64,
                kind: case.case.kind,
                channel: case.case.channel,
                urgency: simulation.clocks.urgency(case.case.kind, &case.case.category),
                resident: case.case.reporter.as_ref().map(|_| domain::RESIDENT_ACTOR),
                config: &simulation.clocks,
                calendar: &simulation.calendar,
            };
            // The first event is `created`, which the rules check as the start of a log (a replay), not an append.
            total += 1;
            for (n, event) in case.events.iter().enumerate().skip(1) {
                total += 1;
                if let Err(e) = rules::check(event, &case.events[..n], &ctx) {
                    if refused < 40 {
                        eprintln!("case {index}: {} refused: {e}", event.kind.name());
                    }
                    refused += 1;
                }
            }
        }
        (refused, total)
    }

    /// Issue 10 part 8: the demo region as `grassroots demo` simulates it (12 months from 2025-01-01, seed 2024, its
    /// three pilots from the seventh month) produces no event the rules refuse, pilot retiming included.
    #[test]
    fn the_demo_region_produces_no_event_the_rules_refuse() {
        let territory = huzhou_territory().expect("territory");
        let layout = huzhou_layout(&territory).expect("layout");
        let start = time::macros::date!(2025 - 01 - 01);
        let pilots = crate::demo_pilots::huzhou_pilots(&territory, 2024, time::macros::date!(2025 - 07 - 01));
        let config = SimConfig {
            root: huzhou_root(),
            start,
            months: 12,
            seed: 2024,
            residents: HUZHOU_RESIDENTS,
            rate_scale: 1.0,
            pilots: pilots.iter().map(|p| p.sim.clone()).collect(),
        };
        let simulation = sim::simulate(&territory, &layout.grids, &config);
        let (refused, total) = refused_events(&simulation);
        eprintln!(
            "{} cases, {total} events, {refused} refused by the rules",
            simulation.cases.len()
        );
        assert_eq!(refused, 0);
    }
}
