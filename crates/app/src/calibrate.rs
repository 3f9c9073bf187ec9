//! Calibration of pilot evaluation against a known truth: simulate regions in which pilots with known effects run,
//! evaluate each pilot exactly as `grassroots pilot evaluate` would (the same [`CaseGrid`] panel and
//! [`evaluate_on`]), and count how often the 95% interval covers the truth, how often the verdict is right where the
//! design has the power to see the effect, and how often a pilot sited in the most populous townships is flagged.
//!
//! **The truth.** A staggered pilot's estimand is the simple aggregated ATT: the average, over every treated unit and
//! every month from its cohort's start on, of the outcome with the pilot minus the outcome the same unit would have
//! had without it. The simulator keeps each changed case's untreated log ([`sim::Simulation::untreated`]), so both
//! are known: the truth is that average computed from two panels built from the same cases — as simulated and as
//! they would have been — on the outcome's own scale (days for median days to close, a share for rates). It is the
//! sample ATT of this replication, not an assumed effect size: a 20% faster dispute handling moves a township's
//! median days to close by whatever it moves it.
//!
//! Each replication is one region (Huzhou's 72 townships at a fraction of the real case rate, a few months) with
//! several pilots on disjoint townships, each in two cohorts a month apart; each pilot is evaluated with the other
//! pilots' townships left out, so its controls are untreated.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use domain::calendar::Calendar;
use domain::clock::ClockConfig;
use domain::pilot::{Adoption, Effect, Outcome, PanelCase, Pilot, PilotSpec, Verdict, month_index};
use domain::rates::{CaseSummary, RateWeights};
use domain::{CaseStatus, Territory, UnitCode};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Serialize;
use sim::{PilotEffect, SimConfig, SimPilot, Simulation};
use time::Date;

use crate::AppError;
use crate::governance::{CaseGrid, PilotEvaluation, evaluate_on};

/// Where a pilot's townships are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Uniformly at random.
    Random,
    /// Among the most populous (richer, more urban) townships, as many central pilots were.
    Richest,
}

/// A pilot with a known effect, as run in every replication.
#[derive(Debug, Clone, Serialize)]
pub struct Design {
    pub name: &'static str,
    #[serde(skip)]
    pub effect: PilotEffect,
    pub effect_text: String,
    pub primary: Outcome,
    pub guardrails: Vec<Outcome>,
    pub placement: Placement,
    /// What a correct evaluation concludes.
    pub expected: Verdict,
}

impl Design {
    fn new(
        name: &'static str,
        effect: PilotEffect,
        primary: Outcome,
        guardrails: &[Outcome],
        placement: Placement,
        expected: Verdict,
    ) -> Design {
        Design {
            name,
            effect_text: effect.describe(),
            effect,
            primary,
            guardrails: guardrails.to_vec(),
            placement,
            expected,
        }
    }
}

/// The designs of a calibration: a good pilot on the response rate (also sited in the richest townships), a good
/// pilot on days to close (mediation-first, disputes only), a useless one and a harmful one.
pub fn designs() -> Vec<Design> {
    use Outcome as O;
    vec![
        Design::new(
            "auxiliary-grid-workers",
            PilotEffect::auxiliary_grid_workers(),
            O::ResponseRate,
            &[O::SatisfactionRate],
            Placement::Random,
            Verdict::Expand,
        ),
        Design::new(
            "auxiliary-grid-workers-in-rich-townships",
            PilotEffect::auxiliary_grid_workers(),
            O::ResponseRate,
            &[O::SatisfactionRate],
            Placement::Richest,
            Verdict::Expand,
        ),
        Design::new(
            "mediation-first",
            PilotEffect::mediation_first(),
            O::MedianDaysToClose,
            &[O::SatisfactionRate],
            Placement::Random,
            Verdict::Expand,
        ),
        Design::new(
            "useless",
            PilotEffect::useless(),
            O::OverdueShare,
            &[],
            Placement::Random,
            Verdict::KeepPiloting,
        ),
        Design::new(
            "harmful",
            PilotEffect::harmful(),
            O::OverdueShare,
            &[O::SatisfactionRate],
            Placement::Random,
            Verdict::Abandon,
        ),
    ]
}

/// The size of each simulated region.
#[derive(Debug, Clone)]
pub struct CalibrationConfig {
    pub reps: usize,
    pub seed: u64,
    pub start: Date,
    /// Months simulated; the first cohort starts after `months - 3`, the second a month later.
    pub months: u32,
    /// A fraction of Huzhou's real case rate (offices are staffed for it); below 1 is faster but gives noisier
    /// township-month outcomes and so less power.
    pub rate_scale: f64,
    /// Townships per pilot, split into two cohorts.
    pub units_per_pilot: usize,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            reps: 20,
            seed: 1,
            start: time::macros::date!(2025 - 01 - 01),
            months: 6,
            rate_scale: 1.0,
            units_per_pilot: 8,
        }
    }
}

/// One pilot in one replication.
#[derive(Debug, Clone, Serialize)]
pub struct Replication {
    pub rep: usize,
    pub design: &'static str,
    pub truth: f64,
    pub estimate: Effect,
    pub covered: bool,
    /// The power of a two-sided 5% test against the true effect with this standard error (`None` for a null truth).
    pub power: Option<f64>,
    pub verdict: Verdict,
    pub right: bool,
    pub flagged: bool,
}

/// What a calibration measured, per design and overall.
#[derive(Debug, Clone, Serialize)]
pub struct DesignSummary {
    pub design: Design,
    pub reps: usize,
    pub mean_truth: f64,
    pub mean_estimate: f64,
    pub coverage: f64,
    /// Replications with power ≥ 80% (or all, for a null truth) and the share of them with the right verdict.
    pub powered: usize,
    pub verdict_accuracy: Option<f64>,
    /// Share of replications with a site-selection warning.
    pub flagged: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationReport {
    pub reps: usize,
    pub seed: u64,
    pub designs: Vec<DesignSummary>,
    /// Coverage of the 95% interval over every pilot and replication.
    pub coverage: f64,
    /// Right verdicts among non-null pilots with power ≥ 80%.
    pub verdict_accuracy_powered: Option<f64>,
    pub powered: usize,
    /// Share of pilots sited in the richest townships that were flagged, and of randomly sited ones.
    pub flagged_biased: f64,
    pub flagged_random: f64,
    pub replications: Vec<Replication>,
}

/// Runs `config.reps` replications, in parallel (each has its own seed, so the report does not depend on the order
/// they finish in); `progress(done, total)` after each.
pub fn calibrate(
    config: &CalibrationConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CalibrationReport, AppError> {
    if config.reps == 0 {
        return Err(AppError::Invalid("--reps: at least one replication".into()));
    }
    if config.months < 4 {
        return Err(AppError::Invalid("a calibration needs at least 4 months".into()));
    }
    let territory = crate::demo_region::huzhou_territory()?;
    let designs = designs();
    let done = AtomicUsize::new(0);
    let per_rep: Vec<Vec<Replication>> = (0..config.reps)
        .into_par_iter()
        .map(|rep| {
            let seed = config.seed.wrapping_mul(1_000_003).wrapping_add(rep as u64);
            let out = replicate(&territory, &designs, config, rep, seed);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, config.reps);
            out
        })
        .collect::<Result<_, _>>()?;
    Ok(summarise(config, designs, per_rep.into_iter().flatten().collect()))
}

fn replicate(
    territory: &Territory,
    designs: &[Design],
    config: &CalibrationConfig,
    rep: usize,
    seed: u64,
) -> Result<Vec<Replication>, AppError> {
    let root = crate::region::huzhou_root();
    let mut townships = crate::region::huzhou_townships(territory);
    let population = sim::population(territory, &root, crate::demo_region::HUZHOU_RESIDENTS, seed);
    townships.retain(|t| population.of(t) > 0);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5EED_1107);
    let first_start = add_months(config.start, config.months - 3)?;
    let second_start = add_months(config.start, config.months - 2)?;
    let mut taken: BTreeSet<UnitCode> = BTreeSet::new();
    // Biased placements first: they pick from the most populous townships before random ones take them.
    let mut order: Vec<usize> = (0..designs.len()).collect();
    order.sort_by_key(|&i| designs[i].placement != Placement::Richest);
    let mut chosen: BTreeMap<usize, Vec<UnitCode>> = BTreeMap::new();
    for i in order {
        let mut free: Vec<UnitCode> = townships.iter().filter(|t| !taken.contains(*t)).cloned().collect();
        if free.len() < config.units_per_pilot {
            return Err(AppError::Invalid(format!(
                "{} townships are too few for {} pilots of {}",
                townships.len(),
                designs.len(),
                config.units_per_pilot
            )));
        }
        if designs[i].placement == Placement::Richest {
            free.sort_by_key(|t| std::cmp::Reverse(population.of(t)));
            free.truncate(config.units_per_pilot * 3 / 2);
        }
        free.shuffle(&mut rng);
        free.truncate(config.units_per_pilot);
        free.sort();
        taken.extend(free.iter().cloned());
        chosen.insert(i, free);
    }
    let mut sim_pilots = Vec::new();
    let mut cohorts = Vec::new();
    for (i, design) in designs.iter().enumerate() {
        let units = chosen.remove(&i).unwrap_or_default();
        let (first, second) = units.split_at(units.len() / 2);
        for (part, start) in [(first, first_start), (second, second_start)] {
            sim_pilots.push(SimPilot {
                name: design.name.to_string(),
                units: part.to_vec(),
                start,
                effect: design.effect.clone(),
            });
        }
        cohorts.push((first.to_vec(), second.to_vec()));
    }
    let sim_config = SimConfig {
        root: root.clone(),
        start: config.start,
        months: config.months,
        seed,
        residents: crate::demo_region::HUZHOU_RESIDENTS,
        rate_scale: config.rate_scale,
        pilots: sim_pilots,
    };
    let simulation = sim::simulate(territory, &[], &sim_config);
    let (actual, untreated) = case_facts(&simulation);
    let mut out = Vec::new();
    for (i, design) in designs.iter().enumerate() {
        let (first, second) = &cohorts[i];
        let others: Vec<&UnitCode> = cohorts
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, (a, b))| a.iter().chain(b))
            .collect();
        let keep = |c: &&PanelCase| !others.iter().any(|u| c.unit().is_within(u));
        let actual: Vec<PanelCase> = actual.iter().filter(keep).cloned().collect();
        let untreated: Vec<PanelCase> = untreated.iter().filter(keep).cloned().collect();
        let pilot = domain_pilot(design, &root, first, first_start)?;
        let adoptions = [Adoption {
            units: second.clone(),
            from: second_start,
        }];
        let evaluation = evaluate_on(&pilot, &adoptions, &actual, &RateWeights::default())?;
        let truth = true_effect(&pilot, &adoptions, design.primary, &actual, &untreated)?;
        out.push(judge(rep, design, truth, &evaluation));
    }
    Ok(out)
}

/// Every simulated case as an evaluation panel sees it, as simulated and as it would have been without the pilots:
/// summarised by `domain::rates` on the simulator's clocks (the statutory defaults and China's calendar) as the logs
/// stand at the end of the simulation.
pub fn case_facts(simulation: &Simulation) -> (Vec<PanelCase>, Vec<PanelCase>) {
    let clocks = ClockConfig::default();
    let calendar = Calendar::china();
    let end = simulation
        .cases
        .iter()
        .filter_map(|c| c.events.last().map(|e| e.at))
        .chain(simulation.untreated.values().filter_map(|log| log.last().map(|e| e.at)))
        .max()
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let facts = |index: usize, events: &[domain::CaseEvent], case: &sim::SimCase| {
        let status = CaseStatus::replay(index as i64, events).ok()?;
        let kind = case.case.kind;
        let urgency = clocks.urgency(kind, &case.case.category);
        let unit = case.case.location.unit.clone();
        let summary = CaseSummary::from_log(index as i64, unit, kind, urgency, events, end, &clocks, &calendar)?;
        Some(PanelCase {
            kind,
            category: case.case.category.clone(),
            created_at: status.created_at.unix_timestamp(),
            closed_at: status.closed_at.map(|t| t.unix_timestamp()),
            summary,
        })
    };
    let mut actual = Vec::new();
    let mut untreated = Vec::new();
    for (index, case) in simulation.cases.iter().enumerate() {
        let before = simulation.untreated.get(&index).map_or(&case.events[..], |e| &e[..]);
        if let (Some(a), Some(u)) = (facts(index, &case.events, case), facts(index, before, case)) {
            actual.push(a);
            untreated.push(u);
        }
    }
    (actual, untreated)
}

/// The simple ATT the simulation actually caused: over treated units in the panel and months from their cohort's
/// start, the outcome as simulated minus the outcome without the pilot.
pub fn true_effect(
    pilot: &Pilot,
    adoptions: &[Adoption],
    outcome: Outcome,
    actual: &[PanelCase],
    untreated: &[PanelCase],
) -> Result<f64, AppError> {
    let cohorts = domain::pilot::cohorts(pilot, adoptions).map_err(|e| AppError::Invalid(e.to_string()))?;
    let weights = RateWeights::default();
    let with = CaseGrid::build(pilot, actual, &weights)?;
    let without = CaseGrid::build(pilot, untreated, &weights)?;
    let (mut sum, mut n) = (0.0, 0_usize);
    for (unit, since) in &cohorts {
        let (Some((y1, _)), Some((y0, _))) = (with.values(unit, outcome), without.values(unit, outcome)) else {
            continue;
        };
        for ((month, a), b) in with.months.iter().zip(&y1).zip(&y0) {
            if *month >= month_index(*since) {
                sum += a - b;
                n += 1;
            }
        }
    }
    Ok(if n == 0 { f64::NAN } else { sum / n as f64 })
}

fn domain_pilot(design: &Design, owner: &UnitCode, units: &[UnitCode], start: Date) -> Result<Pilot, AppError> {
    let mut change = toml::Table::new();
    change.insert(
        "mediation".into(),
        toml::Value::Table(toml::Table::from_iter([(
            "voluntary".to_string(),
            toml::Value::Boolean(true),
        )])),
    );
    let start = toml::value::Datetime {
        date: Some(toml::value::Date {
            year: u16::try_from(start.year()).map_err(|e| AppError::Invalid(e.to_string()))?,
            month: u8::from(start.month()),
            day: start.day(),
        }),
        time: None,
        offset: None,
    };
    Pilot::new(PilotSpec {
        name: design.name.to_string(),
        owner: owner.to_string(),
        units: units.iter().map(ToString::to_string).collect(),
        start,
        hypothesis: design.effect_text.clone(),
        primary_outcome: design.primary.as_str().to_string(),
        guardrail_outcomes: design.guardrails.iter().map(|o| o.as_str().to_string()).collect(),
        officials: vec!["calibration".into()],
        change,
    })
    .map_err(|e| AppError::Invalid(e.to_string()))
}

fn judge(rep: usize, design: &Design, truth: f64, evaluation: &PilotEvaluation) -> Replication {
    let estimate = evaluation.effects[0].effect;
    let covered = estimate.ci_low <= truth && truth <= estimate.ci_high;
    let null = design.expected == Verdict::KeepPiloting;
    let power = (!null && estimate.se > 0.0).then(|| estimate.power_against(truth));
    let verdict = evaluation.verdict.verdict;
    Replication {
        rep,
        design: design.name,
        truth,
        estimate,
        covered,
        power,
        verdict,
        right: verdict == design.expected,
        flagged: !evaluation.site_selection.warnings.is_empty(),
    }
}

fn summarise(config: &CalibrationConfig, designs: Vec<Design>, replications: Vec<Replication>) -> CalibrationReport {
    let share = |hits: usize, n: usize| if n == 0 { f64::NAN } else { hits as f64 / n as f64 };
    let powered = |r: &Replication| r.power.is_none_or(|p| p >= 0.8);
    let mut summaries = Vec::new();
    for design in designs {
        let rs: Vec<&Replication> = replications.iter().filter(|r| r.design == design.name).collect();
        let p: Vec<&&Replication> = rs.iter().filter(|r| powered(r)).collect();
        let mean = |f: &dyn Fn(&Replication) -> f64| rs.iter().map(|r| f(r)).sum::<f64>() / rs.len().max(1) as f64;
        summaries.push(DesignSummary {
            reps: rs.len(),
            mean_truth: mean(&|r| r.truth),
            mean_estimate: mean(&|r| r.estimate.att),
            coverage: share(rs.iter().filter(|r| r.covered).count(), rs.len()),
            powered: p.len(),
            verdict_accuracy: (!p.is_empty()).then(|| share(p.iter().filter(|r| r.right).count(), p.len())),
            flagged: share(rs.iter().filter(|r| r.flagged).count(), rs.len()),
            design,
        });
    }
    let placed = |placement: Placement| {
        let names: Vec<&str> = summaries
            .iter()
            .filter(|s| s.design.placement == placement)
            .map(|s| s.design.name)
            .collect();
        let rs: Vec<&Replication> = replications.iter().filter(|r| names.contains(&r.design)).collect();
        share(rs.iter().filter(|r| r.flagged).count(), rs.len())
    };
    let non_null_powered: Vec<&Replication> = replications
        .iter()
        .filter(|r| r.power.is_some_and(|p| p >= 0.8))
        .collect();
    CalibrationReport {
        reps: config.reps,
        seed: config.seed,
        coverage: share(replications.iter().filter(|r| r.covered).count(), replications.len()),
        verdict_accuracy_powered: (!non_null_powered.is_empty()).then(|| {
            share(
                non_null_powered.iter().filter(|r| r.right).count(),
                non_null_powered.len(),
            )
        }),
        powered: non_null_powered.len(),
        flagged_biased: placed(Placement::Richest),
        flagged_random: placed(Placement::Random),
        designs: summaries,
        replications,
    }
}

fn add_months(start: Date, months: u32) -> Result<Date, AppError> {
    domain::pilot::month_start(month_index(start) + i64::from(months))
        .ok_or_else(|| AppError::Invalid(format!("{start} + {months} months is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two small replications (seed 1). The truth is exact: zero for the useless pilot, positive for the pilots that
    /// raise the response rate or the overdue share. Where the design has the power to see the good pilot it is
    /// expanded, and it is expanded in some replication; the harmful pilot has about 60% power at this scale (see
    /// `sim calibrate`), so it is only required not to be expanded. Pilots sited in the richest townships are flagged, randomly sited ones not every time.
    #[test]
    fn a_small_calibration_expands_the_good_pilot_and_never_expands_the_harmful_one() {
        let config = CalibrationConfig {
            reps: 2,
            rate_scale: 0.25,
            ..CalibrationConfig::default()
        };
        let report = calibrate(&config, &|_, _| {}).expect("calibrates");
        let of = |name: &'static str| report.replications.iter().filter(move |r| r.design == name);
        assert!(of("useless").all(|r| r.truth == 0.0 && r.verdict == Verdict::KeepPiloting));
        assert!(of("auxiliary-grid-workers").all(|r| r.truth > 0.05));
        assert!(
            of("auxiliary-grid-workers")
                .filter(|r| r.power.is_some_and(|p| p >= 0.8))
                .all(|r| r.verdict == Verdict::Expand)
        );
        // On the statutory response clock the good pilot's effect is about 0.1 with a standard error near 0.05 at this
        // scale (power about one half where it is sited at random): it must be expanded somewhere.
        assert!(
            report
                .replications
                .iter()
                .any(|r| r.design.starts_with("auxiliary-grid-workers") && r.verdict == Verdict::Expand)
        );
        assert!(of("harmful").all(|r| r.truth > 0.08 && r.verdict != Verdict::Expand));
        assert!(of("auxiliary-grid-workers-in-rich-townships").all(|r| r.flagged));
        assert!(report.flagged_random < 0.5, "{}", report.flagged_random);
        // Ten 95% intervals: at most one may miss its truth (39 of 40 covered over eight replications).
        assert!(report.replications.iter().filter(|r| !r.covered).count() <= 1);
    }
}
