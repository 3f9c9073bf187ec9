//! The day-by-day simulation of a region: arrivals, office queues with limited capacity, replies, ratings, reopenings,
//! mediation and reviews, each event applied through the domain state machine.

use std::collections::{BTreeMap, HashMap, VecDeque};

use domain::case::{Location, OnwardRoute, Reporter};
use domain::grid::Grid;
use domain::{CaseEvent, CaseKind, CaseStatus, Channel, EventKind, Level, NewCase, Rating, Territory, UnitCode};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, Poisson};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset, Weekday};

use crate::catalogue::{CATEGORIES, Category};
use crate::people::{Population, name, population};
use crate::pilots::SimPilot;
use domain::office::GOVERNMENT;
use domain::routing::{Routing, RoutingTable};

mod workflow;

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The unit whose subtree is simulated (e.g. Huzhou, `3305`).
    pub root: UnitCode,
    pub start: Date,
    pub months: u32,
    pub seed: u64,
    /// Residents of the whole subtree.
    pub residents: u64,
    /// Multiplies every arrival rate (1.0 = the catalogue's rates).
    pub rate_scale: f64,
    /// Pilots with known effects, applied to the finished logs (see [`crate::pilots`]); empty for none.
    pub pilots: Vec<SimPilot>,
}

/// A generated case with its whole log (truncated at the end of the simulated period).
#[derive(Debug, Clone)]
pub struct SimCase {
    pub case: NewCase,
    pub events: Vec<CaseEvent>,
}

#[derive(Debug)]
pub struct Simulation {
    pub cases: Vec<SimCase>,
    pub population: Population,
    pub end: OffsetDateTime,
    /// The untreated log of every case a pilot changed, by index into `cases`: the counterfactual that gives each
    /// pilot's true effect.
    pub untreated: BTreeMap<usize, Vec<CaseEvent>>,
    /// The clocks every simulated case ran on (the rules checked each event against them): what the store records as
    /// the clocks of each case.
    pub clocks: domain::clock::ClockConfig,
    /// The calendar the clocks count working days on.
    pub calendar: domain::calendar::Calendar,
}

/// China Standard Time: offices open and residents call by the local clock.
pub(crate) const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

struct Live {
    category: &'static Category,
    status: CaseStatus,
    events: Vec<CaseEvent>,
    case: NewCase,
    effort_left: f64,
    satisfaction_bias: f64,
}

struct Office {
    /// Staff-days of case work per working day.
    capacity: f64,
    queue: VecDeque<usize>,
}

fn at(date: Date, hour: u8, minute: u8) -> OffsetDateTime {
    let time = Time::from_hms(hour.min(23), minute.min(59), 0).unwrap_or(Time::MIDNIGHT);
    date.with_time(time).assume_offset(CST)
}

/// The office a case of `category` arising in `village` is first dispatched to: the domain's routing table, as at
/// intake (an enquiry answered on the spot is recorded at the township government, as intake records it).
fn office_for(routing: &RoutingTable, category: &Category, village: &UnitCode) -> String {
    match routing.route(category.kind, category.code, village) {
        Ok(Routing::Office { office }) => office.to_string(),
        Ok(Routing::AnswerAtIntake) | Err(_) => {
            let township = village.chain().into_iter().find(|c| c.level() == Level::Township);
            format!("{}:{GOVERNMENT}", township.as_ref().unwrap_or(village))
        }
    }
}

fn channel_for(kind: CaseKind, rng: &mut Xoshiro256PlusPlus) -> Channel {
    match kind {
        CaseKind::PatrolEvent => Channel::Patrol,
        CaseKind::Petition => {
            if rng.random_bool(0.6) {
                Channel::Letter
            } else {
                Channel::Visit
            }
        }
        _ => match rng.random_range(0..10) {
            0..=5 => Channel::Hotline,
            6..=7 => Channel::Web,
            8 => Channel::Api,
            _ => Channel::Open311,
        },
    }
}

impl Live {
    fn push(&mut self, at: OffsetDateTime, actor: &str, kind: EventKind) -> bool {
        let event = CaseEvent {
            at,
            actor: actor.to_string(),
            kind,
        };
        // The domain decides; the simulator only proposes. A proposal the rules reject (the state machine, the
        // statutory limits, who may rate) is simply not recorded.
        if domain::rules::check_with_status(&event, &self.events, &self.status, &rule_context(&self.case)).is_ok()
            && self.status.apply(&event).is_ok()
        {
            self.events.push(event);
            true
        } else {
            false
        }
    }

    /// The resident who filed: only they may rate or reopen (patrol events have none).
    fn resident(&self) -> String {
        domain::RESIDENT_ACTOR.to_string()
    }
}

/// What the rules need to know of a simulated case beyond its log: the region's clocks and calendar, and the reporter
/// as the resident who alone may rate or reopen it.
fn rule_context(case: &NewCase) -> domain::rules::RuleContext<'_> {
    domain::rules::RuleContext {
        case: 0,
        kind: case.kind,
        channel: case.channel,
        urgency: workflow::CLOCKS.urgency(case.kind, &case.category),
        resident: case.reporter.as_ref().map(|_| domain::RESIDENT_ACTOR),
        config: &workflow::CLOCKS,
        calendar: &workflow::CALENDAR,
    }
}

/// True when the domain's rules allow every event of `events` in turn (the first, `created`, by replaying it): how a
/// log changed after the fact (a pilot's retiming) is held to the rules its events were first proposed under.
pub(crate) fn rules_allow(case: &NewCase, events: &[CaseEvent]) -> bool {
    let ctx = rule_context(case);
    let Ok(mut status) = CaseStatus::replay(0, events.get(..1).unwrap_or_default()) else {
        return false;
    };
    for (n, event) in events.iter().enumerate().skip(1) {
        if domain::rules::check_with_status(event, &events[..n], &status, &ctx).is_err() || status.apply(event).is_err()
        {
            return false;
        }
    }
    true
}

/// Runs the region for `config.months` months.
pub fn simulate(territory: &Territory, grids: &[Grid], config: &SimConfig) -> Simulation {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
    let population = population(territory, &config.root, config.residents, config.seed);
    let mut grids_of: HashMap<&UnitCode, Vec<&Grid>> = HashMap::new();
    for g in grids {
        grids_of.entry(&g.unit).or_default().push(g);
    }
    let townships: Vec<&UnitCode> = territory
        .at_level(Level::Township)
        .into_iter()
        .map(|u| &u.code)
        .filter(|c| c.is_within(&config.root))
        .collect();
    let villages_of: BTreeMap<&UnitCode, Vec<(&UnitCode, u64)>> = townships
        .iter()
        .map(|t| {
            (
                *t,
                territory
                    .children(t)
                    .iter()
                    .map(|v| (v, population.of(v)))
                    .filter(|(_, p)| *p > 0)
                    .collect(),
            )
        })
        .collect();

    let end_date = add_months(config.start, config.months);
    let end = at(end_date, 0, 0);
    let mut live: Vec<Live> = Vec::new();
    let mut offices: BTreeMap<String, Office> = BTreeMap::new();
    // The shipped routing table: the simulator routes as intake does and keeps no competence table of its own.
    let routing = RoutingTable::default();
    let mut effort_exp: HashMap<&str, Exp<f64>> = HashMap::new();
    for c in CATEGORIES {
        effort_exp.insert(c.code, Exp::new(1.0 / c.effort).expect("positive effort"));
    }
    // Offices are staffed for their expected load, some generously and some too thinly: the thin ones fall behind,
    // which is where overdue cases come from.
    for villages in villages_of.values() {
        for (village, pop) in villages {
            for c in CATEGORIES {
                let office = office_for(&routing, c, village);
                let daily_effort = *pop as f64 * c.rate / 1000.0 / 250.0 * c.effort * config.rate_scale;
                let entry = offices.entry(office).or_insert(Office {
                    capacity: 0.0,
                    queue: VecDeque::new(),
                });
                entry.capacity += daily_effort;
            }
        }
    }
    for office in offices.values_mut() {
        let utilisation: f64 = rng.random_range(0.72..1.04);
        office.capacity = (office.capacity / utilisation).max(0.05);
    }

    let mut guard = workflow::Guard::default();
    let mut date = config.start;
    while date < end_date {
        let weekday = date.weekday();
        let working = !matches!(weekday, Weekday::Saturday | Weekday::Sunday);
        let week = if working { 1.15 } else { 0.62 };
        let doy = f64::from(date.ordinal());
        let season = 1.0 + 0.15 * (2.0 * std::f64::consts::PI * (doy - 100.0) / 365.0).sin();
        // Arrivals.
        for villages in villages_of.values() {
            let township_pop: u64 = villages.iter().map(|(_, p)| p).sum();
            if township_pop == 0 {
                continue;
            }
            for category in CATEGORIES {
                let lambda = township_pop as f64 * category.rate / 1000.0 / 365.0 * week * season * config.rate_scale;
                let n = Poisson::new(lambda).map(|p| p.sample(&mut rng) as u64).unwrap_or(0);
                for _ in 0..n {
                    let mut pick = rng.random_range(0..township_pop);
                    let village = villages
                        .iter()
                        .find(|(_, p)| {
                            if pick < *p {
                                true
                            } else {
                                pick -= p;
                                false
                            }
                        })
                        .map(|(v, _)| *v)
                        .unwrap_or(villages[0].0);
                    let idx = arrive(&mut rng, &mut live, &routing, category, village, &grids_of, date);
                    let Some(idx) = idx else { continue };
                    let effort = effort_exp[category.code].sample(&mut rng);
                    live[idx].effort_left = effort;
                    let office = live[idx].status.office.clone();
                    if live[idx].status.state.is_open()
                        && let Some(o) = offices.get_mut(&office)
                    {
                        o.queue.push_back(idx);
                    }
                }
            }
        }
        // The escalation guard's morning run, whistles and department reports (see `workflow`).
        workflow::morning(&mut rng, &mut live, &mut guard, date, working);
        // Work.
        if working {
            for (office_id, office) in offices.iter_mut() {
                let mut capacity = office.capacity;
                while capacity > 0.0 {
                    let Some(&idx) = office.queue.front() else { break };
                    let case = &mut live[idx];
                    let used = case.effort_left.min(capacity);
                    case.effort_left -= used;
                    capacity -= used;
                    if case.effort_left <= 1e-9 {
                        office.queue.pop_front();
                        if let Some(requeue) = finish(&mut rng, case, office_id, date) {
                            case.effort_left = requeue;
                            office.queue.push_back(idx);
                        }
                    } else {
                        break;
                    }
                }
            }
        }
        date = date.next_day().unwrap_or(end_date);
    }
    let mut cases: Vec<SimCase> = live
        .into_iter()
        .map(|l| SimCase {
            case: l.case,
            events: l.events,
        })
        .collect();
    // Pilots act on the finished logs, before the cut at the end of the period (see `pilots`).
    let mut untreated = crate::pilots::apply(&config.pilots, config.seed, &mut cases);
    for events in cases.iter_mut().map(|c| &mut c.events).chain(untreated.values_mut()) {
        events.retain(|e| e.at < end);
    }
    Simulation {
        cases,
        population,
        end,
        untreated,
        clocks: workflow::CLOCKS.clone(),
        calendar: workflow::CALENDAR.clone(),
    }
}

fn add_months(start: Date, months: u32) -> Date {
    let total = i64::from(start.year()) * 12 + i64::from(u8::from(start.month())) - 1 + i64::from(months);
    let year = (total / 12) as i32;
    let month = time::Month::try_from((total % 12 + 1) as u8).unwrap_or(time::Month::January);
    Date::from_calendar_date(year, month, 1).unwrap_or(start)
}

fn arrive(
    rng: &mut Xoshiro256PlusPlus,
    live: &mut Vec<Live>,
    routing: &RoutingTable,
    category: &'static Category,
    village: &UnitCode,
    grids_of: &HashMap<&UnitCode, Vec<&Grid>>,
    date: Date,
) -> Option<usize> {
    let created = at(date, rng.random_range(8..21), rng.random_range(0..60));
    let (lat, lon, grid) = match grids_of.get(village) {
        Some(gs) if !gs.is_empty() => {
            let g = gs[rng.random_range(0..gs.len())];
            let cell = g.cells[rng.random_range(0..g.cells.len())];
            match h3o::CellIndex::try_from(cell) {
                Ok(c) => {
                    let ll = h3o::LatLng::from(c);
                    (Some(ll.lat()), Some(ll.lng()), Some(g.id.clone()))
                }
                Err(_) => (None, None, None),
            }
        }
        _ => (None, None, None),
    };
    let kind = category.kind;
    let channel = channel_for(kind, rng);
    // Petitions are received by the township's letters-and-visits desk, other cases by the competent office
    // through the hotline dispatch; both are recorded as the first receiver.
    let office = office_for(routing, category, village);
    let reporter = (kind != CaseKind::PatrolEvent).then(|| Reporter {
        name: name(rng),
        contact: format!(
            "1{}{:09}",
            rng.random_range(3..10),
            rng.random_range(0..1_000_000_000u64)
        ),
    });
    let co_signers = if kind == CaseKind::Petition && rng.random_bool(0.08) {
        rng.random_range(2..40)
    } else {
        0
    };
    let case = NewCase {
        kind,
        channel,
        category: category.code.to_string(),
        description: format!("{}：{}", category.name_zh, village),
        location: Location {
            lat,
            lon,
            unit: village.clone(),
            grid,
        },
        reporter,
        co_signers,
        answers: Default::default(),
    };
    let misrouted = workflow::misroute(rng, &office, village);
    let first = CaseEvent {
        at: created,
        actor: "intake".into(),
        kind: EventKind::Created {
            office: misrouted.clone().unwrap_or_else(|| office.clone()),
        },
    };
    let status = CaseStatus::replay(live.len() as i64, std::slice::from_ref(&first)).ok()?;
    let mut l = Live {
        category,
        status,
        events: vec![first],
        case,
        effort_left: 0.0,
        satisfaction_bias: rng.random_range(-0.1..0.1),
    };
    if let Some(wrong) = misrouted {
        l.push(
            created + Duration::minutes(30),
            &wrong,
            EventKind::Rerouted {
                from_office: wrong.clone(),
                to_office: office.clone(),
                reason: "not within the township's competence".into(),
            },
        );
    }
    if kind == CaseKind::Enquiry && rng.random_bool(0.85) {
        l.push(
            created + Duration::minutes(8),
            "intake",
            EventKind::AnsweredAtIntake {
                answer: "answered at intake".into(),
            },
        );
    } else {
        let accept_at = created + Duration::hours(rng.random_range(1..30));
        l.push(accept_at, &office, EventKind::Accepted { office: office.clone() });
        if kind == CaseKind::Dispute {
            l.push(
                accept_at + Duration::hours(2),
                &office,
                EventKind::MediationStarted {
                    team: format!("{office}:mediation"),
                },
            );
        } else {
            l.push(
                accept_at + Duration::hours(1),
                &office,
                EventKind::Assigned {
                    office: office.clone(),
                    staff: None,
                },
            );
        }
    }
    live.push(l);
    Some(live.len() - 1)
}

/// The share of residents called back after the reply (hotline, letter, visit, Open311) who answer.
const CALLED_BACK_ANSWER: f64 = 0.85;
/// The share of residents who filed online (web, API) and rate the reply themselves.
const ONLINE_RATING: f64 = 0.55;

/// The office finishes its work on a case on `date`: reply (or mediation outcome), then the resident's rating and
/// possibly a reopening. Returns the effort of a reopened case that goes back into the queue.
fn finish(rng: &mut Xoshiro256PlusPlus, case: &mut Live, office: &str, date: Date) -> Option<f64> {
    let reply_at = at(date, rng.random_range(9..18), rng.random_range(0..60));
    let reply_at = reply_at.max(case.events.last().map(|e| e.at).unwrap_or(reply_at) + Duration::minutes(5));
    if case.status.state == domain::CaseState::InMediation {
        case.push(
            reply_at - Duration::minutes(2),
            office,
            EventKind::MediationSession {
                notes: "session held".into(),
                attendees: vec!["parties".into(), "mediator".into()],
            },
        );
        if rng.random_bool(0.7) {
            case.push(
                reply_at,
                office,
                EventKind::MediationSettled {
                    agreement: "agreement signed".into(),
                    parties: vec!["party a".into(), "party b".into()],
                },
            );
        } else {
            let route = match rng.random_range(0..10) {
                0..=4 => OnwardRoute::Litigation,
                5..=6 => OnwardRoute::Arbitration,
                _ => OnwardRoute::Handling,
            };
            case.push(
                reply_at,
                office,
                EventKind::MediationFailed {
                    route,
                    reason: "no agreement".into(),
                },
            );
            if route != OnwardRoute::Handling {
                return None;
            }
            case.push(
                reply_at + Duration::minutes(30),
                office,
                EventKind::Replied {
                    text: "handled after mediation".into(),
                },
            );
        }
    } else {
        case.push(reply_at, office, EventKind::Replied { text: "handled".into() });
    }
    let days = (reply_at - case.status.created_at).whole_days() as f64;
    let sat = (0.78 - 0.006 * days + case.satisfaction_bias).clamp(0.2, 0.95);
    // Who answers on the reply: a resident who filed by phone, letter, visit or a third-party app is called back by
    // the office (the 12345 回访) and most answer; one who filed online rates it themselves, less often; a patrol
    // event has no resident to ask.
    let called_back = matches!(
        case.case.channel,
        Channel::Hotline | Channel::Letter | Channel::Visit | Channel::Open311
    );
    let answers = match case.case.channel {
        Channel::Hotline | Channel::Letter | Channel::Visit | Channel::Open311 => CALLED_BACK_ANSWER,
        Channel::Web | Channel::Api => ONLINE_RATING,
        Channel::Patrol => 0.0,
    };
    if !rng.random_bool(answers) {
        case.push(reply_at + Duration::days(7), "system", EventKind::Closed);
        return None;
    }
    let u: f64 = rng.random();
    let rating = if u < sat {
        Rating::Satisfied
    } else if u < sat + 0.5 * (1.0 - sat) {
        Rating::BasicallySatisfied
    } else {
        Rating::Unsatisfied
    };
    let resident = case.resident();
    // One answer per reply, recorded while the case is replied (or closed) and within the rating window.
    let (rated_at, answered) = if called_back {
        let at = reply_at + Duration::hours(rng.random_range(20..96));
        let event = EventKind::Callback {
            text: "called the resident back after the reply and recorded their answer".into(),
            rating: Some(rating),
        };
        (at, case.push(at, office, event))
    } else {
        let at = reply_at + Duration::hours(rng.random_range(2..72));
        let event = EventKind::Rated {
            rating,
            by: resident.clone(),
        };
        (at, case.push(at, &resident, event))
    };
    if !answered {
        case.push(reply_at + Duration::days(7), "system", EventKind::Closed);
        return None;
    }
    if rating == Rating::Unsatisfied {
        if case.case.kind == CaseKind::Petition && rng.random_bool(0.3) {
            case.push(
                rated_at + Duration::days(rng.random_range(3..25)),
                &resident,
                EventKind::ReviewRequested,
            );
            let decided = rated_at + Duration::days(rng.random_range(26..55));
            case.push(
                decided,
                "county:review",
                EventKind::ReviewDecided {
                    text: "original handling upheld".into(),
                },
            );
            return None;
        }
        // A reopening the rules refuse (a petition is reviewed, not reopened: Art. 35) leaves the case replied.
        if case.status.reopened < 2
            && rng.random_bool(0.4)
            && case.push(
                rated_at + Duration::hours(1),
                &resident,
                EventKind::Reopened {
                    reason: "not resolved".into(),
                },
            )
        {
            return Some(case.category.effort * rng.random_range(0.3..1.0));
        }
    }
    case.push(rated_at + Duration::hours(1), "system", EventKind::Closed);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Unit;
    use time::macros::date;

    /// Two townships of Wuxing with three villages: the small region the simulator's tests run.
    pub(super) fn territory() -> Territory {
        let codes = [
            "3305",
            "330502",
            "330502001",
            "330502001001",
            "330502001201",
            "330502100",
            "330502100201",
        ];
        Territory::build(codes.iter().map(|c| {
            let code = UnitCode::parse(c).expect("code");
            Unit::new(code.clone(), "x", code.parent_code()).expect("unit")
        }))
        .expect("territory")
    }

    fn config(seed: u64) -> SimConfig {
        SimConfig {
            root: UnitCode::parse("3305").unwrap(),
            start: date!(2025 - 01 - 01),
            months: 3,
            seed,
            residents: 60_000,
            rate_scale: 1.0,
            pilots: Vec::new(),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_region() {
        let t = territory();
        let a = simulate(&t, &[], &config(7));
        let b = simulate(&t, &[], &config(7));
        assert_eq!(a.cases.len(), b.cases.len());
        assert!(
            a.cases
                .iter()
                .zip(&b.cases)
                .all(|(x, y)| x.events == y.events && x.case == y.case)
        );
        let c = simulate(&t, &[], &config(8));
        assert_ne!(a.cases.len(), c.cases.len());
    }

    #[test]
    fn every_log_replays_through_the_domain_and_volumes_are_plausible() {
        let sim = simulate(&territory(), &[], &config(1));
        // 60,000 residents × ~55 cases per 1,000 a year × a quarter ≈ 800.
        assert!((500..1300).contains(&sim.cases.len()), "{} cases", sim.cases.len());
        for (i, c) in sim.cases.iter().enumerate() {
            CaseStatus::replay(i as i64, &c.events).unwrap();
        }
        let closed = sim
            .cases
            .iter()
            .filter(|c| !CaseStatus::replay(0, &c.events).unwrap().state.is_open())
            .count();
        assert!(
            closed * 10 > sim.cases.len() * 6,
            "most cases close within the quarter: {closed}"
        );
        assert!(
            sim.cases
                .iter()
                .any(|c| c.events.iter().any(|e| matches!(e.kind, EventKind::Reopened { .. })))
        );
        assert!(sim.cases.iter().any(|c| {
            c.events
                .iter()
                .any(|e| matches!(e.kind, EventKind::MediationSettled { .. }))
        }));
    }
}
