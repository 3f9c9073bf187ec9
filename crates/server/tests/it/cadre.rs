//! Cadre support (issue 14) over HTTP: the overload alert in the office's inbox (REST and the web page).

use super::*;

/// Saves `layer` as the policy of township 330502001 through the API, as its office head.
async fn township_policy(w: &World, layer: &str) {
    let head = sign_in(&w.app, "office_head").await;
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/units/330502001/policy",
        Some(&head),
        Some(json!({"layer": layer, "source": "330502001.toml"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

async fn run_tick(w: &World) -> app::workflow::TickReport {
    let rules = app::governance::rules_in_force(&w.store).await.expect("rules");
    app::workflow::tick(&w.store, &rules, time::OffsetDateTime::now_utc(), 5)
        .await
        .expect("tick")
}

#[tokio::test]
async fn an_office_over_the_policy_threshold_finds_an_overload_alert_in_its_inbox_once_a_month() {
    let w = world().await;
    township_policy(&w, "staffing.overload_open_cases_per_worker = 1\n").await;
    let resident = sign_in(&w.app, "resident").await;
    for _ in 0..4 {
        resident_case(&w, &resident).await;
    }
    let first = run_tick(&w).await;
    assert_eq!(first.overloads.len(), 1, "{:?}", first.overloads);
    assert_eq!(run_tick(&w).await.overloads, [], "one alert a month");

    let head = sign_in(&w.app, "office_head").await;
    let r = json_call(&w.app, "GET", "/api/v1/alerts/overload", Some(&head), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let alerts = r.json();
    let alert = &alerts[0];
    assert_eq!(
        (
            alert["subject"].as_str(),
            alert["holder"].as_str(),
            alert["open_cases"].as_u64(),
            alert["threshold"].as_u64()
        ),
        (Some("office"), Some("330502001:gov"), Some(4), Some(1)),
        "{}",
        r.text
    );
    let workers = alert["workers"].as_f64().expect("workers");
    assert_eq!(alert["per_worker"].as_f64(), Some(4.0 / workers), "{}", r.text);

    // The web inbox shows the same alert; the office of the other township hears nothing of it.
    let page = call(&w.app, "GET", "/alerts", Some(&head), Body::empty(), "text/html").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("330502001:gov") && page.text.contains("badge overdue"),
        "{}",
        page.text
    );
    let far = sign_in(&w.app, "far-head").await;
    let r = json_call(&w.app, "GET", "/api/v1/alerts/overload", Some(&far), None).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "[]"));
    let r = json_call(
        &w.app,
        "GET",
        "/api/v1/alerts/overload?office=330502001:gov",
        Some(&far),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

#[tokio::test]
async fn below_the_national_default_no_overload_is_raised() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    resident_case(&w, &resident).await;
    assert_eq!(run_tick(&w).await.overloads, []);
}

#[tokio::test]
async fn a_threshold_of_zero_is_refused_when_saved() {
    let w = world().await;
    let head = sign_in(&w.app, "office_head").await;
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/units/330502001/policy",
        Some(&head),
        Some(json!({"layer": "staffing.overload_open_cases_per_worker = 0\n", "source": "330502001.toml"})),
    )
    .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
}

/// The grids of the world moved so that village A's cell and village B's touch: townships 330502001 and 330502002
/// adjoin.
async fn adjoining_grids(w: &World) {
    let a = cell_of(POINT_A.0, POINT_A.1).expect("cell");
    let b = a
        .grid_disk::<Vec<_>>(1)
        .into_iter()
        .find(|c| *c != a)
        .expect("a neighbour");
    let grid = |unit: &str, cell: u64| Grid {
        id: format!("{unit}-01"),
        unit: code(unit),
        cells: vec![cell],
    };
    w.store
        .replace_grids(&[grid(VILLAGE_A, u64::from(a)), grid(VILLAGE_B, u64::from(b))], &[])
        .await
        .expect("grids");
}

async fn act(w: &World, token: &str, case: i64, body: Value) -> Reply {
    json_call(
        &w.app,
        "POST",
        &format!("/api/v1/cases/{case}/actions"),
        Some(token),
        Some(body),
    )
    .await
}

async fn principal(w: &World, account: &str) -> domain::access::Principal {
    let row = w.store.account(account).await.expect("read").expect("account");
    domain::access::Principal {
        account: row.name,
        role: domain::access::Role::parse(&row.role).expect("role"),
        scope: code(&row.scope),
        office: row.office,
    }
}

#[tokio::test]
async fn a_peer_inspector_from_the_adjoining_township_audits_a_sampled_closed_case_and_nobody_else_may() {
    let w = world().await;
    adjoining_grids(&w).await;
    let resident = sign_in(&w.app, "resident").await;
    let case = resident_case(&w, &resident).await;
    let head = sign_in(&w.app, "office_head").await;
    for body in [
        json!({"action": "accept"}),
        json!({"action": "reply", "text": "repaired"}),
        json!({"action": "close"}),
    ] {
        let r = act(&w, &head, case, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    let now = time::OffsetDateTime::now_utc();
    let month = domain::rates::YearMonth::parse(&format!(
        "{:04}-{:02}",
        now.to_offset(time::macros::offset!(+8)).year(),
        u8::from(now.to_offset(time::macros::offset!(+8)).month())
    ))
    .expect("month");
    let rules = app::governance::rules_in_force(&w.store).await.expect("rules");
    let county = principal(&w, "county-head").await;
    let draws = app::inspection::draw(&w.store, &rules, &county, &code("330502"), month, 7, now)
        .await
        .expect("drawn");
    let township = draws
        .iter()
        .find(|d| d.township == "330502001")
        .expect("township drawn");
    // Two staff of the adjoining township (its government or its village committee), none of the township's own.
    let inspectors: Vec<&str> = township.inspectors.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(inspectors.len(), 2, "{draws:?}");
    assert!(
        inspectors
            .iter()
            .all(|a| ["far-caseworker", "far-head", "village-b-caseworker"].contains(a)),
        "{draws:?}"
    );
    assert!(township.inspectors.iter().all(|(_, from)| from == "330502002"));
    assert_eq!(township.sample, [case]);
    // Drawn once: a second draw with another seed reads the same rota.
    let again = app::inspection::draw(&w.store, &rules, &county, &code("330502"), month, 8, now)
        .await
        .expect("read");
    assert_eq!(again, draws);
    // Only a head governing the unit draws.
    let caseworker = principal(&w, "caseworker").await;
    assert!(
        app::inspection::draw(&w.store, &rules, &caseworker, &code("330502001"), month, 7, now)
            .await
            .is_err()
    );

    // The township's own staff may not record a finding; the drawn inspector may, through the one action path.
    let own = sign_in(&w.app, "caseworker").await;
    let finding = json!({"action": "inspect", "finding": "minor_lapse", "note": "the reply names no date"});
    let r = act(&w, &own, case, finding.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let inspector = sign_in(&w.app, inspectors[0]).await;
    let r = act(&w, &inspector, case, json!({"action": "inspect", "finding": "fine"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = act(&w, &inspector, case, finding).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["state"], "closed", "an audit changes nothing of the case");

    let report = app::inspection::report(&w.store, &county, &code("330502"), month)
        .await
        .expect("report");
    let results = report.iter().find(|r| r.township == "330502001").expect("results");
    assert_eq!((results.results.sampled, results.results.audited), (1, 1));
    assert_eq!(
        results.results.findings.get(&domain::inspection::Finding::MinorLapse),
        Some(&1)
    );
}
