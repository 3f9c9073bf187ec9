//! The demo's three pilots in Huzhou — one good, one useless, one harmful — run by the simulator with known effects,
//! then filed, started and evaluated through the same use cases as `grassroots pilot …`.

use domain::Territory;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use serde::Serialize;
use sim::{PilotEffect, SimPilot};
use store::Store;
use time::{Date, OffsetDateTime};

use crate::AppError;
use crate::governance::{PilotEvaluation, act, file_pilot, panel_cases, record_evaluation};

/// A demo pilot: what the simulator does in its units, and the pilot file the district files.
#[derive(Debug, Clone)]
pub struct DemoPilot {
    pub sim: SimPilot,
    /// What the simulator knows: "good", "useless" or "harmful".
    pub truth: &'static str,
    pub file: String,
}

/// Townships per demo pilot.
const UNITS_PER_PILOT: usize = 8;

/// The three pilots, each in its own townships of Huzhou chosen at random from `seed`, from `start`.
pub fn huzhou_pilots(territory: &Territory, seed: u64, start: Date) -> Vec<DemoPilot> {
    let root = crate::region::huzhou_root();
    let mut townships = crate::region::huzhou_townships(territory);
    townships.sort();
    townships.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xD3_40_91_07));
    let specs: [(&str, &str, PilotEffect, &str, &str, &str); 3] = [
        (
            "auxiliary-grid-workers",
            "good",
            PilotEffect::auxiliary_grid_workers(),
            "Two auxiliary workers per grid answer residents within the day",
            "response_rate",
            "staffing.auxiliary_workers_per_grid = 2",
        ),
        (
            "weekly-case-review",
            "useless",
            PilotEffect::useless(),
            "A weekly review meeting of open cases closes them sooner",
            "overdue_share",
            "escalation.warn_before_days = 5",
        ),
        (
            "rotating-inspectors",
            "harmful",
            PilotEffect::harmful(),
            "Inspectors recruited from adjoining townships, rotated monthly, handle cases more impartially",
            "overdue_share",
            "staffing.inspectors_from_adjoining_townships = true\nstaffing.inspector_rotation_months = 1",
        ),
    ];
    specs
        .into_iter()
        .zip(townships.chunks(UNITS_PER_PILOT))
        .map(|((name, truth, effect, hypothesis, primary, change), units)| {
            let mut units = units.to_vec();
            units.sort();
            let list: Vec<String> = units.iter().map(|u| format!("\"{u}\"")).collect();
            let file = format!(
                "name = \"{name}\"\nowner = \"{root}\"\nunits = [{}]\nstart = {start}\nhypothesis = \"{hypothesis}\"\n\
                 primary_outcome = \"{primary}\"\nguardrail_outcomes = [\"satisfaction_rate\"]\n\
                 officials = [\"demo: head of Huzhou city\"]\n[change]\n{change}\n",
                list.join(", ")
            );
            DemoPilot {
                sim: SimPilot {
                    name: name.to_string(),
                    units,
                    start,
                    effect,
                },
                truth,
                file,
            }
        })
        .collect()
}

/// A demo pilot's evaluation beside what the simulator knows.
#[derive(Debug, Clone, Serialize)]
pub struct DemoVerdict {
    pub truth: &'static str,
    pub effect: String,
    pub evaluation: PilotEvaluation,
}

/// Files and starts each pilot unless it is already in the store, then evaluates it on the stored cases.
pub async fn evaluate_demo_pilots(
    store: &Store,
    pilots: &[DemoPilot],
    now: OffsetDateTime,
) -> Result<Vec<DemoVerdict>, AppError> {
    let mut out = Vec::new();
    if pilots.is_empty() {
        return Ok(out);
    }
    let (cases, weights) = panel_cases(store).await?;
    for p in pilots {
        if store.pilot(&p.sim.name).await?.is_none() {
            // The simulated pilot was filed before it started (a pilot takes effect no earlier than it is filed).
            let filed = p
                .sim
                .start
                .midnight()
                .assume_offset(domain::calendar::Calendar::china().offset());
            file_pilot(store, &format!("demo pilot {}", p.sim.name), &p.file, filed).await?;
            act(store, &p.sim.name, domain::pilot::PilotAction::Start, "demo", now).await?;
        }
        let evaluation = record_evaluation(store, &p.sim.name, "demo", now, &cases, &weights).await?;
        // A practice shown to work is expanded, so that it is listed among the practices to learn from.
        let state = store.pilot(&p.sim.name).await?.map(|r| r.state);
        if evaluation.verdict.verdict == domain::pilot::Verdict::Expand && state.as_deref() == Some("evaluated") {
            act(store, &p.sim.name, domain::pilot::PilotAction::Expand, "demo", now).await?;
        }
        out.push(DemoVerdict {
            truth: p.truth,
            effect: p.sim.effect.describe(),
            evaluation,
        });
    }
    Ok(out)
}

/// The part of the demo's cache key that names its pilots, so a change of pilots simulates again.
pub fn cache_key(pilots: &[DemoPilot]) -> String {
    pilots
        .iter()
        .map(|p| format!("{}@{}:{}", p.sim.name, p.sim.start, p.sim.effect.describe()))
        .collect::<Vec<_>>()
        .join(";")
}
