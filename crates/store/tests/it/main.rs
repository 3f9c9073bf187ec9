//! Store integration tests: every scenario runs against a fresh SQLite file, a fresh PostgreSQL database and a fresh
//! database on a Citus cluster.
//!
//! PostgreSQL comes from `GRASSROOTS_TEST_PG` (an admin URL such as `postgres://app@127.0.0.1:54329/postgres`), which
//! `scripts/test.sh` sets after starting a server; Citus from `GRASSROOTS_TEST_CITUS` (the URL `scripts/cluster.sh
//! start` prints). Without them these tests fail: they are never skipped.

use domain::case::{Location, Reporter};
use domain::clock::ClockConfig;
use domain::{CaseEvent, CaseKind, Channel, EventKind, NewCase, Territory, Unit, UnitCode};
use store::{FixedRules, NewCaseRecord, Store, StoreError};
use time::macros::datetime;

mod accounts;
mod backup;
mod citus;

struct Backends {
    _dir: tempfile::TempDir,
    stores: Vec<Store>,
}

async fn backends(test: &str) -> Backends {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .expect("sqlite");
    let admin = std::env::var("GRASSROOTS_TEST_PG")
        .expect("GRASSROOTS_TEST_PG is not set: run scripts/test.sh, which starts PostgreSQL for these tests");
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("postgres admin connection");
    let db = format!("it_{test}_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
        .execute(&mut conn)
        .await
        .expect("drop");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut conn)
        .await
        .expect("create");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin.clone());
    let postgres = Store::connect(&format!("{base}/{db}")).await.expect("postgres");
    let citus = Store::connect(&citus_database(test).await).await.expect("citus");
    Backends {
        _dir: dir,
        stores: vec![sqlite, postgres, citus],
    }
}

/// A fresh database on the Citus cluster of `GRASSROOTS_TEST_CITUS` (the coordinator's admin URL), on every node,
/// distributed over 4 shards.
pub(crate) async fn citus_database(test: &str) -> String {
    let admin = std::env::var("GRASSROOTS_TEST_CITUS").expect(
        "GRASSROOTS_TEST_CITUS is not set: run scripts/test.sh, or scripts/cluster.sh start DIR and set it to the URL it prints",
    );
    // A worker under the load of many tests can drop the connection that adds it to a new database: up to three
    // tries, each on a fresh name, as the server's tests do.
    let mut failures = Vec::new();
    for attempt in 0..3 {
        let db = format!("it_{test}_{}_{}_{attempt}", std::process::id(), rand_suffix());
        match store::cluster::create_database(&admin, &db, Some(4)).await {
            Ok(url) => return url,
            Err(e) => failures.push(format!("{db}: {e}")),
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("citus database for {test}: {}", failures.join("; "))
}

fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos % 1_000_000
}

fn unit(code: &str, name: &str) -> Unit {
    let code = UnitCode::parse(code).expect("code");
    Unit::new(code.clone(), name, code.parent_code()).expect("unit")
}

fn huzhou_bit() -> Territory {
    Territory::build([
        unit("33", "浙江省"),
        unit("3305", "湖州市"),
        unit("330502", "吴兴区"),
        unit("330502001", "月河街道"),
        unit("330502001001", "A社区"),
    ])
    .expect("territory")
}

fn case(office: &str) -> NewCaseRecord {
    let at = datetime!(2025-03-01 09:00 UTC);
    NewCaseRecord {
        case: NewCase {
            kind: CaseKind::Petition,
            channel: Channel::Letter,
            category: "wage_arrears".into(),
            description: "工资被拖欠三个月".into(),
            location: Location {
                lat: Some(30.87),
                lon: Some(120.09),
                unit: UnitCode::parse("330502001001").expect("code"),
                grid: None,
            },
            reporter: Some(Reporter {
                name: "王芳".into(),
                contact: "13800000000".into(),
            }),
            co_signers: 3,
            answers: Default::default(),
        },
        events: vec![CaseEvent {
            at,
            actor: "intake".into(),
            kind: EventKind::Created { office: office.into() },
        }],
        clocks: ClockConfig::default(),
    }
}

/// The statutory clocks on a calendar of weekends only.
fn rules() -> FixedRules {
    FixedRules::default()
}

#[tokio::test]
async fn territory_round_trips_and_import_is_idempotent() {
    for store in backends("territory").await.stores {
        let t = huzhou_bit();
        store
            .upsert_units(&t.units_sorted(), &mut |_| {})
            .await
            .expect("first import");
        store
            .upsert_units(&t.units_sorted(), &mut |_| {})
            .await
            .expect("second import");
        let loaded = store.load_territory(None).await.expect("load");
        assert_eq!(loaded.len(), 5, "{:?}", store.backend());
        let sub = store
            .load_territory(Some(&UnitCode::parse("330502").expect("code")))
            .await
            .expect("subtree");
        assert_eq!(sub.len(), 5, "ancestors and descendants of 330502");
    }
}

#[tokio::test]
async fn a_case_log_appends_with_optimistic_concurrency() {
    for store in backends("cases").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let ids = store
            .insert_cases(&[case("330502001:gov"), case("330502001:gov")], &rules())
            .await
            .expect("insert");
        assert_eq!(ids.len(), 2);
        assert!(ids[0] < ids[1]);
        let record = store.load_case(ids[0]).await.expect("load");
        assert_eq!(record.reporter.as_ref().map(|r| r.name.as_str()), Some("王芳"));
        assert_eq!(record.row.co_signers, 3);
        let accept = CaseEvent {
            at: datetime!(2025-03-02 09:00 UTC),
            actor: "caseworker".into(),
            kind: EventKind::Accepted {
                office: "330502001:gov".into(),
            },
        };
        let status = store
            .append_events(ids[0], 1, std::slice::from_ref(&accept), &rules())
            .await
            .expect("append");
        assert_eq!(status.state, domain::CaseState::Accepted);
        // A second writer that read the same log loses.
        let err = store
            .append_events(ids[0], 1, &[accept], &rules())
            .await
            .expect_err("stale writer");
        assert!(matches!(err, StoreError::Conflict { expected: 1, .. }), "{err}");
        let reloaded = store.load_case(ids[0]).await.expect("reload");
        assert_eq!(reloaded.events.len(), 2);
        assert_eq!(reloaded.row.state, "accepted");
        assert!(matches!(
            store.load_case(999_999).await,
            Err(StoreError::NoSuchCase(999_999))
        ));
    }
}

/// The demo's bulk load: every case replaced in one transaction, the case tables' indexes dropped and built again;
/// a log the rules refuse leaves the cases as they were, and the store works on afterwards.
#[tokio::test]
async fn replacing_all_cases_is_all_or_nothing() {
    for store in backends("replace").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let old = store
            .insert_cases(&[case("330502001:gov")], &rules())
            .await
            .expect("insert");
        let ids = store
            .replace_all_cases(
                &[case("330502001:gov"), case("330502001:gov"), case("330502001:gov")],
                &rules(),
                &mut |_, _| {},
            )
            .await
            .expect("replace");
        assert_eq!(ids.len(), 3);
        assert_eq!(store.count_cases().await.expect("count"), 3);
        if !ids.contains(&old[0]) {
            assert!(matches!(store.load_case(old[0]).await, Err(StoreError::NoSuchCase(_))));
        }
        let mut bad = case("o");
        bad.events.push(CaseEvent {
            at: datetime!(2025-03-02 09:00 UTC),
            actor: "x".into(),
            kind: EventKind::Closed,
        });
        let err = store
            .replace_all_cases(&[case("o"), bad], &rules(), &mut |_, _| {})
            .await
            .expect_err("illegal log");
        assert!(err.to_string().contains("not allowed in state `submitted`"), "{err}");
        assert_eq!(store.count_cases().await.expect("count"), 3, "nothing changed");
        // The indexes are back: a listing by unit and an append still work.
        let listed = store
            .list_cases(&store::CaseFilter {
                under: Some(UnitCode::parse("330502001").expect("code")),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(listed.len(), 3);
        let more = store
            .insert_cases(&[case("330502001:gov")], &rules())
            .await
            .expect("insert after");
        assert_eq!(store.load_case(more[0]).await.expect("load").events.len(), 1);
    }
}

#[tokio::test]
async fn an_illegal_log_stores_nothing() {
    for store in backends("illegal").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let mut bad = case("o");
        bad.events.push(CaseEvent {
            at: datetime!(2025-03-02 09:00 UTC),
            actor: "x".into(),
            kind: EventKind::Closed,
        });
        let err = store
            .insert_cases(&[case("o"), bad], &rules())
            .await
            .expect_err("illegal log");
        assert!(err.to_string().contains("not allowed in state `submitted`"), "{err}");
        assert_eq!(store.count_cases().await.expect("count"), 0, "nothing half-stored");
    }
}

#[tokio::test]
async fn offices_staff_and_mediation_teams_round_trip_and_open_cases_come_with_their_logs() {
    for store in backends("workflow").await.stores {
        let t = huzhou_bit();
        store.upsert_units(&t.units_sorted(), &mut |_| {}).await.expect("units");
        let dir = domain::office::Directory::standard(&t);
        store.save_directory(&dir).await.expect("save");
        store.save_directory(&dir).await.expect("save again replaces");
        let back = store.load_directory().await.expect("load");
        assert_eq!(back.offices.len(), dir.offices.len(), "{:?}", store.backend());
        assert_eq!(back.staff.len(), dir.staff.len());
        let team = back
            .teams
            .iter()
            .find(|t| t.office.to_string() == "330502001001:committee")
            .expect("village team");
        assert_eq!(team.community_members(), 2);
        assert!(back.staff.iter().any(|s| s.auxiliary));
        let ids = store
            .insert_cases(&[case("330502001:gov"), case("330502001:gov")], &rules())
            .await
            .expect("insert");
        let open = store.open_cases_with_logs().await.expect("open");
        assert_eq!(
            open.iter().map(|(r, l)| (r.id, l.len())).collect::<Vec<_>>(),
            [(ids[0], 1), (ids[1], 1)]
        );
        let march = store
            .cases_with_logs_created(datetime!(2025-03-01 00:00 UTC), datetime!(2025-04-01 00:00 UTC))
            .await
            .expect("month");
        assert_eq!(march.len(), 2);
    }
}

#[tokio::test]
async fn repeat_cases_by_the_same_person_on_the_same_matter_are_counted() {
    for store in backends("repeats").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let mut other_person = case("o");
        other_person.case.reporter = Some(Reporter {
            name: "李强".into(),
            contact: "13900000000".into(),
        });
        let mut other_matter = case("o");
        other_matter.case.category = "noise".into();
        // Two filers who gave no contact are not the same person.
        let anonymous = || {
            let mut record = case("o");
            record.case.reporter = Some(Reporter {
                name: String::new(),
                contact: String::new(),
            });
            record
        };
        let ids = store
            .insert_cases(
                &[
                    case("o"),
                    case("o"),
                    other_person,
                    other_matter,
                    anonymous(),
                    anonymous(),
                ],
                &rules(),
            )
            .await
            .expect("insert");
        let counts = store.repeat_counts_of_open_cases().await.expect("counts");
        assert_eq!(counts.get(&ids[0]), Some(&1), "{:?}", store.backend());
        assert_eq!(counts.get(&ids[1]), Some(&1));
        assert_eq!(counts.get(&ids[2]), None, "another person's case is no repeat");
        assert_eq!(counts.get(&ids[3]), None, "another matter is no repeat");
        assert_eq!(counts.get(&ids[5]), None, "an empty contact names nobody");
    }
}

/// `case(office)` whistled to `offices`, with `reason` as the whistle's reason.
fn whistled(office: &str, offices: &[&str], reason: &str) -> NewCaseRecord {
    let mut record = case(office);
    record.events.push(CaseEvent {
        at: datetime!(2025-03-01 10:00 UTC),
        actor: "330502001:gov".into(),
        kind: EventKind::Whistle {
            offices: offices.iter().map(|o| o.to_string()).collect(),
            due: datetime!(2025-03-04 10:00 UTC).unix_timestamp(),
            reason: reason.into(),
        },
    });
    record
}

#[tokio::test]
async fn a_staff_listing_reaches_the_cases_its_office_holds_or_was_summoned_to() {
    for store in backends("reach").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let ids = store
            .insert_cases(
                &[
                    whistled("330502001:gov", &["330502:housing", "330502:roads"], "lamp posts"),
                    // The reason quotes the housing office, but only roads is summoned.
                    whistled(
                        "330502001:gov",
                        &["330502:roads"],
                        "not \"330502:housing\"], \"due\": 1 at all",
                    ),
                    case("330502:housing"),
                    case("330502001:gov"),
                    // `_` is a LIKE wildcard: an office id with one in it matches only itself.
                    whistled("330502001:gov", &["330502:housingx"], "near miss"),
                ],
                &rules(),
            )
            .await
            .expect("insert");
        let listed = |or_office: Option<&str>| {
            let filter = store::CaseFilter {
                under: Some(UnitCode::parse("330502002").expect("code")),
                or_office: or_office.map(str::to_string),
                limit: 100,
                ..store::CaseFilter::default()
            };
            let store = store.clone();
            async move {
                let rows = store.list_cases(&filter).await.expect("list");
                rows.iter().map(|r| r.id).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            listed(Some("330502:housing")).await,
            [ids[0], ids[2]],
            "{:?}",
            store.backend()
        );
        assert_eq!(
            listed(Some("330502:housin_")).await,
            Vec::<i64>::new(),
            "{:?}",
            store.backend()
        );
        assert_eq!(listed(None).await, Vec::<i64>::new());
    }
}

#[tokio::test]
async fn concurrent_intakes_each_get_their_own_committed_case() {
    for store in backends("intake").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let access = store::CaseAccessRow {
                        token: Some(format!("t{i}")),
                        ..store::CaseAccessRow::default()
                    };
                    let id = store
                        .insert_case_with_access(&case("330502001:gov"), &access, &rules())
                        .await
                        .expect("insert");
                    (i, id)
                })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            let (i, id) = t.await.expect("task");
            assert_eq!(store.case_by_token(&format!("t{i}")).await.expect("token"), Some(id));
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 40, "{:?}", store.backend());
        // A case the state machine refuses fails alone, and stores nothing.
        let mut bad = case("330502001:gov");
        bad.events.clear();
        let err = store
            .insert_case_with_access(&bad, &store::CaseAccessRow::default(), &rules())
            .await
            .expect_err("no created event");
        assert!(matches!(err, StoreError::Rule(_)), "{err}");
        assert_eq!(store.count_cases().await.expect("count"), 40);
    }
}

/// Issue 10 part 8: the store refuses to append an event `domain::rules` forbids (here a rating by someone other than
/// the resident who filed), and writes nothing; the refusal names the rule.
#[tokio::test]
async fn the_store_refuses_an_event_the_rules_forbid() {
    for store in backends("rules").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let mut replied = case("330502001:gov");
        replied.case.kind = CaseKind::Complaint;
        replied.events.push(CaseEvent {
            at: datetime!(2025-03-01 10:00 UTC),
            actor: "330502001:gov".into(),
            kind: EventKind::Accepted {
                office: "330502001:gov".into(),
            },
        });
        replied.events.push(CaseEvent {
            at: datetime!(2025-03-02 09:00 UTC),
            actor: "330502001:gov".into(),
            kind: EventKind::Replied { text: "fixed".into() },
        });
        let ids = store.insert_cases(&[replied], &rules()).await.expect("insert");
        let rate = |by: &str| CaseEvent {
            at: datetime!(2025-03-03 09:00 UTC),
            actor: by.into(),
            kind: EventKind::Rated {
                rating: domain::Rating::Satisfied,
                by: by.into(),
            },
        };
        let err = store
            .append_events(ids[0], 3, &[rate("a neighbour")], &rules())
            .await
            .expect_err("only the resident rates");
        assert!(matches!(err, StoreError::Rule(_)), "{err}");
        assert!(err.to_string().contains("only the resident who filed"), "{err}");
        assert_eq!(
            store.load_events(ids[0]).await.expect("log").len(),
            3,
            "{:?}",
            store.backend()
        );
        store
            .append_events(ids[0], 3, &[rate(domain::RESIDENT_ACTOR)], &rules())
            .await
            .expect("the resident rates");
        // A log with a forbidden event is not inserted either (a second rating of the same reply).
        let mut twice = case("330502001:gov");
        twice.case.kind = CaseKind::Complaint;
        twice
            .events
            .extend(store.load_events(ids[0]).await.expect("log").into_iter().skip(1));
        twice.events.push(rate(domain::RESIDENT_ACTOR));
        let err = store
            .insert_cases(&[twice], &rules())
            .await
            .expect_err("one rating per reply");
        assert!(err.to_string().contains("one rating per reply"), "{err}");
        assert_eq!(store.count_cases().await.expect("count"), 1);
    }
}

/// Issue 10 part 5: a case records the clocks it was filed under, and the store checks its events on them, not on the
/// clocks the caller would lend today (here a 10-day extension limit recorded; 30 days lent).
#[tokio::test]
async fn a_case_runs_on_the_clocks_it_was_stored_with() {
    for store in backends("clocks").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let mut tight = case("330502001:gov");
        tight.clocks.max_extension_days = 10;
        tight.events.push(CaseEvent {
            at: datetime!(2025-03-02 09:00 UTC),
            actor: "330502001:gov".into(),
            kind: EventKind::Accepted {
                office: "330502001:gov".into(),
            },
        });
        let ids = store
            .insert_cases(&[tight, case("330502001:gov")], &rules())
            .await
            .expect("insert");
        let recorded = store
            .load_case(ids[0])
            .await
            .expect("load")
            .row
            .clocks
            .expect("recorded clocks");
        assert_eq!(recorded.max_extension_days, 10, "{:?}", store.backend());
        let listed = store.all_case_rows().await.expect("rows");
        assert_eq!(listed[1].clocks.as_deref(), Some(&ClockConfig::default()));
        let extend = CaseEvent {
            at: datetime!(2025-03-10 09:00 UTC),
            actor: "330502001:gov".into(),
            kind: EventKind::Extended {
                days: 20,
                reason: "survey".into(),
                approver: "head".into(),
            },
        };
        let err = store
            .append_events(ids[0], 2, std::slice::from_ref(&extend), &rules())
            .await
            .expect_err("the recorded limit holds");
        assert!(err.to_string().contains("extension limit"), "{err}");
    }
}
