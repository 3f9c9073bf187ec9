//! End-to-end scenarios of the case workflow through the public API only: routing, the guard, clocks, the escalation
//! guard, whistles, mediation and the three rates, as a township office lives them.

use domain::calendar::Calendar;
use domain::case::{CaseEvent, CaseKind, CaseState, CaseStatus, EventKind, OnwardRoute, Rating};
use domain::clock::{ClockConfig, ClockName, Urgency};
use domain::escalation::{CaseView, alerts_due};
use domain::mediation::MediationTally;
use domain::office::{Directory, OfficeId, Role, Staff};
use domain::rates::{CaseSummary, Grouping, RateWeights, YearMonth, rates};
use domain::routing::{Routing, RoutingTable};
use domain::rules::{RuleContext, append};
use domain::territory::{Level, UnitCode};
use domain::whistle::{department_records, summonses};
use time::OffsetDateTime;
use time::macros::datetime;

struct Case {
    id: i64,
    kind: CaseKind,
    urgency: Urgency,
    unit: UnitCode,
    log: Vec<CaseEvent>,
}

struct World {
    config: ClockConfig,
    calendar: Calendar,
    table: RoutingTable,
    directory: Directory,
    cases: Vec<Case>,
}

impl World {
    fn new() -> World {
        let office = |s: &str| OfficeId::parse(s).expect("office");
        World {
            config: ClockConfig::default(),
            calendar: Calendar::china(),
            table: RoutingTable::default(),
            directory: Directory {
                staff: vec![
                    Staff::new("town-head", "Li", office("330502001:gov"), &[Role::Head], false).expect("staff"),
                    Staff::new("county-head", "Zhao", office("330502:gov"), &[Role::Head], false).expect("staff"),
                ],
                ..Directory::default()
            },
            cases: Vec::new(),
        }
    }

    /// Files a case: routes it and records `created` (or answers it at intake).
    fn file(&mut self, kind: CaseKind, category: &str, unit: &str, at: OffsetDateTime) -> usize {
        let unit = UnitCode::parse(unit).expect("unit");
        let routed = self.table.route(kind, category, &unit).expect("routes");
        let office = match &routed {
            Routing::AnswerAtIntake => "330502001:gov".to_string(),
            Routing::Office { office } => office.to_string(),
        };
        let id = self.cases.len() as i64 + 1;
        let mut log = vec![CaseEvent {
            at,
            actor: "intake".into(),
            kind: EventKind::Created { office },
        }];
        if routed == Routing::AnswerAtIntake {
            log.push(CaseEvent {
                at,
                actor: "intake".into(),
                kind: EventKind::AnsweredAtIntake {
                    answer: "see the notice".into(),
                },
            });
        }
        let urgency = self.config.urgency(kind, category);
        self.cases.push(Case {
            id,
            kind,
            urgency,
            unit,
            log,
        });
        self.cases.len() - 1
    }

    fn act(&mut self, i: usize, at: OffsetDateTime, actor: &str, kind: EventKind) -> Result<(), String> {
        let case = &mut self.cases[i];
        let ctx = RuleContext {
            case: case.id,
            kind: case.kind,
            channel: domain::Channel::Hotline,
            urgency: case.urgency,
            resident: Some("resident"),
            config: &self.config,
            calendar: &self.calendar,
        };
        append(
            &mut case.log,
            CaseEvent {
                at,
                actor: actor.into(),
                kind,
            },
            &ctx,
        )
        .map_err(|e| e.to_string())
    }

    fn ok(&mut self, i: usize, at: OffsetDateTime, kind: EventKind) {
        let actor = if matches!(kind, EventKind::Reopened { .. }) {
            "resident"
        } else {
            "staff"
        };
        if let Err(e) = self.act(i, at, actor, kind) {
            panic!("case {}: {e}", i + 1);
        }
    }

    fn status(&self, i: usize) -> CaseStatus {
        CaseStatus::replay(self.cases[i].id, &self.cases[i].log).expect("replays")
    }
}

fn accepted(office: &str) -> EventKind {
    EventKind::Accepted { office: office.into() }
}

fn replied() -> EventKind {
    EventKind::Replied { text: "fixed".into() }
}

fn rated(rating: Rating) -> EventKind {
    EventKind::Rated {
        rating,
        by: "resident".into(),
    }
}

#[test]
fn a_month_in_a_township() {
    let mut w = World::new();
    let village = "330502001001";

    // An enquiry answered at intake, a noise complaint handled by the township, an unhappy resident who reopens.
    let enquiry = w.file(CaseKind::Enquiry, "procedure", village, datetime!(2025-03-03 09:00 +8));
    assert_eq!(w.status(enquiry).state, CaseState::Closed);

    let noise = w.file(CaseKind::Complaint, "noise", village, datetime!(2025-03-03 10:00 +8));
    w.ok(noise, datetime!(2025-03-03 11:00 +8), accepted("330502001:gov"));
    w.ok(noise, datetime!(2025-03-05 10:00 +8), replied());
    w.ok(noise, datetime!(2025-03-06 10:00 +8), rated(Rating::Unsatisfied));
    w.ok(
        noise,
        datetime!(2025-03-06 11:00 +8),
        EventKind::Reopened {
            reason: "still noisy at night".into(),
        },
    );
    w.ok(noise, datetime!(2025-03-08 10:00 +8), replied());
    w.ok(noise, datetime!(2025-03-09 10:00 +8), rated(Rating::BasicallySatisfied));
    w.ok(noise, datetime!(2025-03-09 11:00 +8), EventKind::Closed);

    // Someone else may not rate, and nothing is recorded when they try.
    let before = w.cases[noise].log.len();
    let err = w.act(
        noise,
        datetime!(2025-03-09 12:00 +8),
        "x",
        EventKind::Rated {
            rating: Rating::Satisfied,
            by: "neighbour".into(),
        },
    );
    assert!(err.is_err_and(|e| e.starts_with("only the resident who filed")));
    assert_eq!(w.cases[noise].log.len(), before);

    // Illegal construction: the township whistles two county departments; housing reports late.
    let building = w.file(
        CaseKind::Complaint,
        "illegal_construction",
        village,
        datetime!(2025-03-10 09:00 +8),
    );
    w.ok(building, datetime!(2025-03-10 10:00 +8), accepted("330502001:gov"));
    w.ok(
        building,
        datetime!(2025-03-11 10:00 +8),
        EventKind::Whistle {
            offices: vec!["330502:urban_management".into(), "330502:housing".into()],
            due: datetime!(2025-03-13 10:00 +8).unix_timestamp(),
            reason: "extension built over a shared lane".into(),
        },
    );
    w.ok(
        building,
        datetime!(2025-03-12 10:00 +8),
        EventKind::DepartmentReported {
            office: "330502:urban_management".into(),
            text: "on site".into(),
        },
    );
    w.ok(
        building,
        datetime!(2025-03-14 10:00 +8),
        EventKind::DepartmentReported {
            office: "330502:housing".into(),
            text: "permit checked".into(),
        },
    );
    w.ok(building, datetime!(2025-03-15 10:00 +8), replied());
    let records = department_records(&summonses(3, &w.cases[building].log), datetime!(2025-03-31 10:00 +8));
    let on_time: Vec<_> = records.iter().map(|r| (r.office.as_str(), r.rate())).collect();
    assert_eq!(
        on_time,
        [("330502:housing", Some(0.0)), ("330502:urban_management", Some(1.0))]
    );

    // A neighbour dispute stays in the village and is settled by mediation; another fails and goes to court.
    let wall = w.file(
        CaseKind::Dispute,
        "neighbour_dispute",
        village,
        datetime!(2025-03-12 09:00 +8),
    );
    assert_eq!(w.status(wall).office, "330502001001:committee");
    w.ok(wall, datetime!(2025-03-12 10:00 +8), accepted("330502001001:committee"));
    w.ok(
        wall,
        datetime!(2025-03-13 10:00 +8),
        EventKind::MediationStarted { team: "elders".into() },
    );
    w.ok(
        wall,
        datetime!(2025-03-14 10:00 +8),
        EventKind::MediationSettled {
            agreement: "the wall is rebuilt".into(),
            parties: vec!["Shen".into(), "Lu".into()],
        },
    );
    let land = w.file(
        CaseKind::Dispute,
        "neighbour_dispute",
        village,
        datetime!(2025-03-12 09:30 +8),
    );
    w.ok(land, datetime!(2025-03-12 10:00 +8), accepted("330502001001:committee"));
    w.ok(
        land,
        datetime!(2025-03-13 10:00 +8),
        EventKind::MediationStarted { team: "elders".into() },
    );
    w.ok(
        land,
        datetime!(2025-03-20 10:00 +8),
        EventKind::MediationFailed {
            route: OnwardRoute::Litigation,
            reason: "title contested".into(),
        },
    );
    let tally = MediationTally::of(w.cases.iter().map(|c| (c.kind, c.log.as_slice())));
    assert_eq!((tally.disputes, tally.settled_at_village, tally.failed), (2, 1, 1));
    assert_eq!(tally.village_share(), Some(0.5));

    // A petition on wage arrears goes to the county; it is extended once, and a second extension is refused.
    let wages = w.file(
        CaseKind::Petition,
        "wage_arrears",
        village,
        datetime!(2025-03-17 09:00 +8),
    );
    assert_eq!(w.status(wages).office, "330502:human_resources");
    w.ok(
        wages,
        datetime!(2025-03-18 10:00 +8),
        accepted("330502:human_resources"),
    );
    let extend = |days| EventKind::Extended {
        days,
        reason: "audit of the employer".into(),
        approver: "county-head".into(),
    };
    w.ok(wages, datetime!(2025-04-20 10:00 +8), extend(20));
    let second = w.act(wages, datetime!(2025-04-21 10:00 +8), "staff", extend(5));
    assert!(second.is_err_and(|e| e.contains("Art. 34")));

    // A road repair left unanswered at the township becomes overdue; the guard alerts once, idempotently.
    let road = w.file(
        CaseKind::ServiceRequest,
        "road_repair",
        village,
        datetime!(2025-03-20 09:00 +8),
    );
    w.ok(road, datetime!(2025-03-20 10:00 +8), accepted("330502001:gov"));
    let now = datetime!(2025-03-31 10:00 +8);
    let views: Vec<_> = w
        .cases
        .iter()
        .map(|c| CaseView {
            case: c.id,
            kind: c.kind,
            urgency: c.urgency,
            category: "",
            co_signers: 0,
            repeats: 0,
            log: &c.log,
            clocks: &w.config,
        })
        .collect();
    let alerts = alerts_due(&views, now, &w.calendar, &w.directory);
    let got: Vec<_> = alerts.iter().map(|a| (a.case, a.clock, a.overdue)).collect();
    assert_eq!(got, [(7, ClockName::Response, true)]);
    assert_eq!(alerts[0].notified, ["town-head", "county-head"]);
    let event = alerts[0].event(now, "guard");
    w.ok(road, now, event.kind);
    let views: Vec<_> = w
        .cases
        .iter()
        .map(|c| CaseView {
            case: c.id,
            kind: c.kind,
            urgency: c.urgency,
            category: "",
            co_signers: 0,
            repeats: 0,
            log: &c.log,
            clocks: &w.config,
        })
        .collect();
    assert!(alerts_due(&views, now, &w.calendar, &w.directory).is_empty());

    // The month's ranking of townships: one township, all of March's cases.
    let summaries: Vec<_> = w
        .cases
        .iter()
        .filter_map(|c| {
            CaseSummary::from_log(
                c.id,
                c.unit.clone(),
                c.kind,
                c.urgency,
                &c.log,
                now,
                &w.config,
                &w.calendar,
            )
        })
        .collect();
    let month = YearMonth::parse("2025-03").expect("month");
    let rows = rates(
        &summaries,
        month,
        Grouping::Unit(Level::Township),
        &RateWeights::default(),
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key, "330502001");
    assert_eq!(rows[0].cases, 7);
    assert_eq!((rows[0].rated, rows[0].basically_satisfied), (1, 1));
    assert!(rows[0].composite.is_some());
}
