//! The policy in force over a case: the clocks and the routing that a unit's effective policy sets, applied to the
//! deployment's defaults, so that a township's tighter deadline is the deadline its cases run on and its own routing
//! rule the office they go to.
//!
//! A case runs on the policy in force where it arose on the day it was filed: a later change of the layer does not
//! move the deadlines of cases already running. Keys a policy leaves out keep the deployment's values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use time::Date;

use super::{DayCount, Folded, LayerVersion, PolicyBook, PolicyDocument};
use crate::calendar::Period;
use crate::case::CaseKind;
use crate::clock::ClockConfig;
use crate::routing::{LevelOffice, Route, RoutingTable};
use crate::territory::UnitCode;

/// What a unit's policy puts in force for the cases that arise in it.
#[derive(Debug, Clone, PartialEq)]
pub struct InForce {
    pub clocks: ClockConfig,
    pub routing: RoutingTable,
}

impl InForce {
    /// `base` with what the effective policy `policy` sets: its clocks ([`clock_config`]) and its routing
    /// ([`routing_table`]). Saved layers passed the schema at save time; a folded table that does not is left at the
    /// defaults.
    pub fn of_policy(base: &InForce, policy: &Folded) -> InForce {
        match toml::Value::Table(policy.table.clone()).try_into::<PolicyDocument>() {
            Ok(document) => InForce {
                clocks: clock_config(&base.clocks, &document),
                routing: routing_table(&base.routing, &document),
            },
            Err(_) => base.clone(),
        }
    }
}

/// `base` with the routing of the effective policy `policy` laid over it: `routing.rules.*` (for their kinds, or every
/// kind), `routing.competent.*` (petitions of a category) and `routing.default_office` (the fallback). Office names
/// are `level.key` ([`LevelOffice::parse_policy_name`]); one that does not parse — rejected at save time — is skipped.
pub fn routing_table(base: &RoutingTable, policy: &PolicyDocument) -> RoutingTable {
    let Some(routing) = &policy.routing else {
        return base.clone();
    };
    let mut routes = Vec::new();
    let mut push = |category: &str, office: &str, kinds: Vec<CaseKind>| {
        if let Ok(target) = LevelOffice::parse_policy_name(office) {
            routes.push(Route {
                category: category.to_string(),
                level: target.level,
                office: target.office,
                kinds,
            });
        }
    };
    for rule in routing.rules.iter().flat_map(|rules| rules.values()) {
        if let (Some(category), Some(office)) = (&rule.category, &rule.office) {
            push(category, office, rule.kinds.clone().unwrap_or_default());
        }
    }
    for (category, office) in routing.competent.iter().flatten() {
        push(category, office, vec![CaseKind::Petition]);
    }
    let fallback = routing
        .default_office
        .as_deref()
        .and_then(|o| LevelOffice::parse_policy_name(o).ok())
        .unwrap_or_else(|| base.fallback.clone());
    base.overlay(&RoutingTable {
        answer_at_intake: Vec::new(),
        fallback,
        routes,
        questions: Vec::new(),
    })
}

/// `base` with the clock keys of the effective policy `policy` applied: `clocks.petition.*` (days, counted as
/// `clocks.day_count` says), `clocks.hotline.*` (hours) and `ratings.window_days`.
pub fn clock_config(base: &ClockConfig, document: &PolicyDocument) -> ClockConfig {
    let mut config = base.clone();
    if let Some(clocks) = &document.clocks {
        let days = |n: u32| match clocks.day_count {
            Some(DayCount::Working) => Period::WorkingDays(n),
            _ => Period::Days(n),
        };
        if let Some(count) = clocks.day_count {
            for period in [
                &mut config.petition_acceptance,
                &mut config.petition_handling,
                &mut config.review_request_window,
                &mut config.review_decision,
                &mut config.reexamination_request_window,
                &mut config.reexamination_decision,
            ] {
                *period = match (*period, count) {
                    (Period::Days(n) | Period::WorkingDays(n), DayCount::Working) => Period::WorkingDays(n),
                    (Period::Days(n) | Period::WorkingDays(n), DayCount::Calendar) => Period::Days(n),
                    (hours, _) => hours,
                };
            }
        }
        if let Some(p) = &clocks.petition {
            let set = |target: &mut Period, value: Option<u32>| {
                if let Some(n) = value {
                    *target = days(n);
                }
            };
            set(&mut config.petition_acceptance, p.accept_days);
            set(&mut config.petition_handling, p.handle_days);
            set(&mut config.review_request_window, p.review_request_days);
            set(&mut config.review_decision, p.review_decision_days);
            set(&mut config.reexamination_decision, p.recheck_days);
            if let Some(n) = p.extension_max_days {
                config.max_extension_days = n;
            }
        }
        if let Some(h) = &clocks.hotline {
            for (target, value) in [
                (&mut config.emergency, h.emergency_hours),
                (&mut config.utilities, h.utilities_hours),
                (&mut config.general, h.general_hours),
                (&mut config.complex, h.complex_hours),
            ] {
                if let Some(n) = value {
                    *target = Period::Hours(n);
                }
            }
        }
    }
    if let Some(n) = document.ratings.as_ref().and_then(|r| r.window_days) {
        config.rating_window = Period::Days(n);
    }
    config
}

/// A pilot's change as it applies in one unit (and everything within it): from `from`, until `until` (exclusive)
/// when the pilot stopped (abandoned, sent back for revision or codified into its owner's layer).
#[derive(Debug, Clone, PartialEq)]
pub struct PilotChange {
    pub unit: UnitCode,
    pub from: Date,
    pub until: Option<Date>,
    /// The change as a layer of the unit ([`crate::pilot::Pilot::overlay`]).
    pub change: LayerVersion,
}

/// What is in force for every unit and date, computed once from a policy book: for each unit with a layer of its
/// own (or a pilot), the clocks and routing from each date on which a layer on its chain takes effect.
#[derive(Debug, Clone, Default)]
pub struct PolicyInForce {
    timelines: BTreeMap<UnitCode, Vec<(Date, Arc<InForce>)>>,
}

impl PolicyInForce {
    /// What the layers of `book` make of `base`, unit by unit.
    pub fn new(book: &PolicyBook, base: &InForce) -> PolicyInForce {
        PolicyInForce::with_pilots(book, base, &[])
    }

    /// [`PolicyInForce::new`] with the changes of pilots: each applies its change below the unit's own layer for
    /// the cases filed from its `from` until its `until`. Where two pilots cover a unit, the one started last applies.
    pub fn with_pilots(book: &PolicyBook, base: &InForce, pilots: &[PilotChange]) -> PolicyInForce {
        let mut dates_of: BTreeMap<&UnitCode, BTreeSet<Date>> = BTreeMap::new();
        for version in book.versions() {
            dates_of
                .entry(&version.unit)
                .or_default()
                .insert(version.effective_from);
        }
        let mut overlays_of: BTreeMap<&UnitCode, Vec<&PilotChange>> = BTreeMap::new();
        for pilot in pilots {
            let dates = dates_of.entry(&pilot.unit).or_default();
            dates.insert(pilot.from);
            dates.extend(pilot.until);
            overlays_of.entry(&pilot.unit).or_default().push(pilot);
        }
        let mut timelines = BTreeMap::new();
        for unit in dates_of.keys() {
            let chain = unit.chain();
            let dates: BTreeSet<Date> = chain
                .iter()
                .filter_map(|c| dates_of.get(c))
                .flatten()
                .copied()
                .collect();
            let timeline: Vec<(Date, Arc<InForce>)> = dates
                .into_iter()
                .map(|date| {
                    let overlay = chain.iter().rev().find_map(|c| {
                        let list = overlays_of.get(c)?;
                        list.iter()
                            .filter(|p| p.from <= date && p.until.is_none_or(|until| date < until))
                            .max_by_key(|p| p.from)
                    });
                    let folded = match overlay {
                        Some(pilot) => book.effective_with(unit, date, &pilot.change),
                        None => book.effective(unit, date),
                    };
                    let in_force = InForce::of_policy(base, &folded);
                    (date, Arc::new(in_force))
                })
                .collect();
            timelines.insert((*unit).clone(), timeline);
        }
        PolicyInForce { timelines }
    }

    /// True when no layer or pilot is on record (every case runs on the base).
    pub fn is_empty(&self) -> bool {
        self.timelines.is_empty()
    }

    /// What is in force for a case that arose in `unit` and was filed on `date`: that of the nearest unit on its chain
    /// with a layer, as folded on that date; `None` when no layer was in force there then (the base applies).
    pub fn at(&self, unit: &UnitCode, date: Date) -> Option<&Arc<InForce>> {
        let chain = unit.chain();
        let timeline = chain.iter().rev().find_map(|c| self.timelines.get(c))?;
        timeline
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .map(|(_, in_force)| in_force)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn layer(unit: &str, text: &str) -> LayerVersion {
        let code = UnitCode::parse(unit).expect("code");
        LayerVersion::parse(&code, &format!("{unit}.toml"), text, None).expect("layer")
    }

    #[test]
    fn a_townships_tighter_deadline_is_the_deadline_of_its_cases_from_its_date() {
        let mut book = PolicyBook::new();
        book.save(layer(
            "33",
            "[layer]\neffective_from = 2024-01-01\n[clocks.hotline]\ngeneral_hours = 120\n",
        ))
        .expect("province");
        book.save(layer(
            "330502001",
            // Counting working days, every office deadline must be short enough to end within the statute's
            // calendar days (2022 Regulations Arts. 22-23, 34-36).
            "[layer]\neffective_from = 2025-03-01\n[clocks]\nday_count = \"working\"\n[clocks.petition]\n\
             accept_days = 5\nhandle_days = 30\nreview_decision_days = 15\nrecheck_days = 15\n\
             [ratings]\nwindow_days = 10\n",
        ))
        .expect("township");
        let base = InForce {
            clocks: ClockConfig::default(),
            routing: RoutingTable::default(),
        };
        let in_force = PolicyInForce::new(&book, &base);
        let clocks = |unit: &UnitCode, date: Date| in_force.at(unit, date).map(|f| f.clocks.clone());
        let village = UnitCode::parse("330502001001").expect("code");
        let before = clocks(&village, date!(2025 - 02 - 28)).expect("the province's layer");
        assert_eq!(before.general, Period::Hours(120));
        assert_eq!(before.petition_handling, Period::Days(60));
        let after = clocks(&village, date!(2025 - 03 - 01)).expect("the township's layer");
        assert_eq!(after.petition_handling, Period::WorkingDays(30));
        assert_eq!(after.petition_acceptance, Period::WorkingDays(5));
        assert_eq!(after.review_request_window, Period::WorkingDays(30));
        assert_eq!(after.rating_window, Period::Days(10));
        assert_eq!(
            after.general,
            Period::Hours(120),
            "the province's value still holds below"
        );
        // A neighbouring township keeps the province's policy; before any layer, the base holds.
        let other = UnitCode::parse("330502002").expect("code");
        let province = clocks(&other, date!(2025 - 06 - 01)).expect("the province's layer");
        assert_eq!(province.petition_handling, Period::Days(60));
        assert!(clocks(&other, date!(2023 - 06 - 01)).is_none());
        assert!(!in_force.is_empty() && PolicyInForce::new(&PolicyBook::new(), &base).is_empty());

        // A pilot in the neighbouring township from 1 May tightens petition handling there only.
        let change = layer(
            "330502002",
            "[layer]\neffective_from = 2025-05-01\n[clocks.petition]\nhandle_days = 30\n",
        );
        let pilot = PilotChange {
            unit: other.clone(),
            from: date!(2025 - 05 - 01),
            until: Some(date!(2025 - 07 - 01)),
            change,
        };
        let piloted = PolicyInForce::with_pilots(&book, &base, &[pilot]);
        let in_pilot = UnitCode::parse("330502002003").expect("code");
        let during = &piloted.at(&in_pilot, date!(2025 - 05 - 02)).expect("the pilot").clocks;
        assert_eq!(during.petition_handling, Period::Days(30));
        assert_eq!(
            during.general,
            Period::Hours(120),
            "the province's layer still applies above the pilot"
        );
        let before = piloted
            .at(&in_pilot, date!(2025 - 04 - 30))
            .expect("the province's layer");
        assert_eq!(before.clocks.petition_handling, Period::Days(60));
        let elsewhere = piloted
            .at(&village, date!(2025 - 05 - 02))
            .expect("the township's layer");
        assert_eq!(elsewhere.clocks.petition_handling, Period::WorkingDays(30));
        // Abandoned on 1 July: cases filed from then on are back on the province's clocks.
        let stopped = &piloted
            .at(&in_pilot, date!(2025 - 07 - 01))
            .expect("the province's layer")
            .clocks;
        assert_eq!(stopped.petition_handling, Period::Days(60));
    }

    /// A county sends land petitions to its natural-resources bureau but lets its townships handle land complaints;
    /// a township trials sending noise complaints to its village committees.
    #[test]
    fn routing_rules_of_a_layer_route_the_cases_of_its_units() {
        use crate::routing::Routing;
        let mut book = PolicyBook::new();
        book.save(layer(
            "330502",
            "[layer]\neffective_from = 2025-01-01\n[routing.competent]\nland = \"county.natural_resources\"\n\
             [routing.rules.land_complaints]\ncategory = \"land\"\nkinds = [\"complaint\"]\noffice = \"township.gov\"\n",
        ))
        .expect("county");
        book.save(layer(
            "330502001",
            "[layer]\neffective_from = 2025-03-01\n[routing.rules.noise]\ncategory = \"noise\"\noffice = \"village.committee\"\n",
        ))
        .expect("township");
        let base = InForce {
            clocks: ClockConfig::default(),
            routing: RoutingTable::default(),
        };
        let in_force = PolicyInForce::new(&book, &base);
        let village = UnitCode::parse("330502001001").expect("code");
        let route = |kind: CaseKind, category: &str, date: Date| {
            let table = in_force.at(&village, date).map_or(&base.routing, |f| &f.routing);
            match table.route(kind, category, &village).expect("routes") {
                Routing::Office { office } => office.to_string(),
                Routing::AnswerAtIntake => "intake".to_string(),
            }
        };
        assert_eq!(
            route(CaseKind::Petition, "land", date!(2025 - 02 - 01)),
            "330502:natural_resources"
        );
        assert_eq!(
            route(CaseKind::Complaint, "land", date!(2025 - 02 - 01)),
            "330502001:gov"
        );
        assert_eq!(
            route(CaseKind::Complaint, "noise", date!(2025 - 02 - 01)),
            route(CaseKind::Complaint, "noise", date!(2024 - 02 - 01))
        );
        assert_eq!(
            route(CaseKind::Complaint, "noise", date!(2025 - 03 - 02)),
            "330502001001:committee"
        );
    }
}
