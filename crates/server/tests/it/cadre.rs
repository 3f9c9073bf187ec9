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
