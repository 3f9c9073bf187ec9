//! The public portal's data without signing in: a month's ranking is refused before its feedback window closes, then
//! published with unit names and frozen (a step taken later does not move it, while the staff report sees it); the
//! pilots and an evaluation answer without a token; no response names a resident.

use axum::http::StatusCode;
use domain::case::{Location, NewCase, Reporter};
use domain::{CaseEvent, CaseKind, Channel, EventKind};
use store::{FixedRules, NewCaseRecord};
use time::macros::datetime;

use super::{VILLAGE_A, code, governance_world, json_call, sign_in};

/// A complaint filed in March 2025 in village A, accepted at once and, when `replied` is given, replied then.
fn march_case(replied: Option<time::OffsetDateTime>) -> NewCaseRecord {
    let created = datetime!(2025-03-05 10:00 +8);
    let mut events = vec![
        CaseEvent {
            at: created,
            actor: "intake".into(),
            kind: EventKind::Created {
                office: "330502001:gov".into(),
            },
        },
        CaseEvent {
            at: created + time::Duration::hours(1),
            actor: "330502001:gov".into(),
            kind: EventKind::Accepted {
                office: "330502001:gov".into(),
            },
        },
    ];
    if let Some(at) = replied {
        events.push(CaseEvent {
            at,
            actor: "330502001:gov".into(),
            kind: EventKind::Replied { text: "fixed".into() },
        });
    }
    NewCaseRecord {
        case: NewCase {
            kind: CaseKind::Complaint,
            channel: Channel::Hotline,
            category: "noise".into(),
            description: "loud at night, call 13912345678".into(),
            location: Location {
                lat: None,
                lon: None,
                unit: code(VILLAGE_A),
                grid: None,
            },
            reporter: Some(Reporter {
                name: "王芳".into(),
                contact: "13912345678".into(),
            }),
            co_signers: 0,
            answers: Default::default(),
        },
        events,
        clocks: Default::default(),
    }
}

#[tokio::test]
async fn the_published_ranking_is_public_named_and_frozen() {
    let w = governance_world().await;
    let rules = FixedRules::default();
    let ids = w
        .store
        .insert_cases(
            &[march_case(Some(datetime!(2025-03-06 10:00 +8))), march_case(None)],
            &rules,
        )
        .await
        .expect("cases");
    let uri = "/api/v1/public/rates?month=2025-03&group=township";
    let before = json_call(&w.app, "GET", uri, None, None).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let body = before.json();
    // The 7-day rating window after March, counted by the calendar as every clock is.
    assert_eq!(body["published_at"], "2025-04-09T00:00:00+08:00", "{}", before.text);
    let row = &body["rows"][0];
    assert_eq!(
        (
            row["key"].as_str(),
            row["name"].as_str(),
            row["cases"].as_u64(),
            row["replied"].as_u64()
        ),
        (Some("330502001"), Some("月河街道"), Some(2), Some(1)),
        "{}",
        before.text
    );
    // The second case is replied today: the staff report sees it, the published ranking does not move.
    w.store
        .append_events(
            ids[1],
            2,
            &[CaseEvent {
                at: time::OffsetDateTime::now_utc(),
                actor: "330502001:gov".into(),
                kind: EventKind::Replied { text: "late".into() },
            }],
            &rules,
        )
        .await
        .expect("late reply");
    let after = json_call(&w.app, "GET", uri, None, None).await;
    assert_eq!(after.text, before.text, "a published ranking never changes");
    let analyst = sign_in(&w.app, "analyst").await;
    let live = json_call(&w.app, "GET", "/api/v1/rates?month=2025-03", Some(&analyst), None).await;
    assert_eq!(live.json()[0]["replied"].as_u64(), Some(2), "{}", live.text);
    // A month whose feedback window is still open is refused, saying when it will be published.
    let next = json_call(&w.app, "GET", "/api/v1/public/rates?month=2099-01", None, None).await;
    assert_eq!(next.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", next.text);
    assert!(next.text.contains("published on 2099-02-10 once"), "{}", next.text);
    let bad = json_call(&w.app, "GET", "/api/v1/public/rates?month=March", None, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    // Pilots and an evaluation answer without a token.
    let pilots = json_call(&w.app, "GET", "/api/v1/public/pilots", None, None).await;
    assert_eq!(pilots.status, StatusCode::OK, "{}", pilots.text);
    assert_eq!(pilots.json()[0]["name"], "night-patrols", "{}", pilots.text);
    assert_eq!(pilots.json()[0]["owner_name"], "月河街道", "{}", pilots.text);
    let evaluation = json_call(
        &w.app,
        "GET",
        "/api/v1/public/pilots/night-patrols/evaluation",
        None,
        None,
    )
    .await;
    assert!(
        matches!(evaluation.status, StatusCode::OK | StatusCode::CONFLICT),
        "{}",
        evaluation.text
    );
    let missing = json_call(&w.app, "GET", "/api/v1/public/pilots/nope/evaluation", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    // Nothing public names the resident or the staff who signed a step.
    for reply in [&before, &after, &pilots, &evaluation] {
        for identifier in ["王芳", "13912345678", "resident", "\"it\""] {
            assert!(!reply.text.contains(identifier), "{identifier} in {}", reply.text);
        }
    }
}
