//! Accounts and the audit trail over REST and through `server::accounts` (the CLI's path): names are never reused
//! silently, every account is checked against the territory and the office directory, disabled accounts stop at once,
//! administrators manage and audit their subtree, a resident sees who read their data, and an Open311 key updates
//! only its own client's cases.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{PASSWORD, POINT_A, VILLAGE_A, World, form, json_call, resident_case, sign_in, world};

async fn sign_in_reply(w: &World, name: &str, password: &str) -> super::Reply {
    json_call(
        &w.app,
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({"name": name, "password": password})),
    )
    .await
}

fn message(reply: &super::Reply) -> String {
    reply.json()["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_taken_name_is_refused_not_replaced() {
    let w = world().await;
    let refused = server::accounts::add_user(&w.store, "caseworker", "analyst", "330502", None, "another-password")
        .await
        .expect_err("the name is taken");
    assert!(
        refused.to_string().contains("\"caseworker\" exists already"),
        "{refused}"
    );
    // The account is as it was: same role, and the old password still signs in.
    let row = w.store.account("caseworker").await.expect("read").expect("kept");
    assert_eq!((row.role.as_str(), row.scope.as_str()), ("caseworker", "330502001"));
    sign_in(&w.app, "caseworker").await;
}

/// The newcomer's report: a county caseworker given an office of another county read that county's petitioners.
#[tokio::test]
async fn a_county_caseworker_cannot_hold_an_office_of_another_county() {
    let w = world().await;
    let nanxun = [("330503", "南浔区", "3305"), ("330503001", "南浔镇", "330503")];
    let units: Vec<domain::territory::Unit> = nanxun
        .iter()
        .map(|(c, n, p)| domain::territory::Unit::new(super::code(c), n, Some(super::code(p))).expect("unit"))
        .collect();
    w.store
        .upsert_units(&units.iter().collect::<Vec<_>>(), &mut |_| {})
        .await
        .expect("units");
    let territory = w.store.load_territory(None).await.expect("territory");
    app::workflow::setup_offices(&w.store, &territory)
        .await
        .expect("offices");
    let refused = server::accounts::add_user(
        &w.store,
        "wuxing-cw",
        "caseworker",
        "330502",
        Some("330503:gov"),
        PASSWORD,
    )
    .await
    .expect_err("an office of another county");
    assert!(
        refused
            .to_string()
            .starts_with("office \"330503:gov\": the office lies in unit 330503, outside the account's scope 330502"),
        "{refused}"
    );
    assert_eq!(w.store.account("wuxing-cw").await.expect("read"), None);
    // The same caseworker with an office of their own county is fine.
    server::accounts::add_user(
        &w.store,
        "wuxing-cw",
        "caseworker",
        "330502",
        Some("330502:gov"),
        PASSWORD,
    )
    .await
    .expect("an office of their county");
}

#[tokio::test]
async fn a_caseworker_cannot_be_given_an_office_outside_their_scope() {
    let w = world().await;
    let refused = server::accounts::add_user(
        &w.store,
        "intruder",
        "caseworker",
        "330502002",
        Some("330502001:gov"),
        PASSWORD,
    )
    .await
    .expect_err("office outside the scope");
    assert!(
        refused.to_string().starts_with(
            "office \"330502001:gov\": the office lies in unit 330502001, outside the account's scope 330502002"
        ),
        "{refused}"
    );
    assert_eq!(w.store.account("intruder").await.expect("read"), None);
    // Nor can an existing account be moved there.
    let change = server::accounts::AccountChange {
        office: Some(Some("330502001:gov".into())),
        ..Default::default()
    };
    let refused = server::accounts::change_user(&w.store, "far-caseworker", &change)
        .await
        .expect_err("office outside the scope");
    assert!(refused.to_string().contains("outside the account's scope"), "{refused}");
}

#[tokio::test]
async fn scope_office_and_role_are_checked_and_named() {
    let w = world().await;
    let cases = [
        (
            "caseworker",
            "999999",
            Some("330502001:gov"),
            "scope \"999999\": no such unit",
        ),
        (
            "caseworker",
            "330502001",
            Some("township.gov"),
            "office \"township.gov\"",
        ),
        (
            "caseworker",
            "330502001",
            Some("330502001:police"),
            "no such office in the office directory",
        ),
        ("caseworker", "330502001", None, "a caseworker works for an office"),
        (
            "resident",
            "330502001",
            Some("330502001:gov"),
            "a resident belongs to no office",
        ),
        ("chief", "330502001", None, "role \"chief\""),
    ];
    for (role, scope, office, expected) in cases {
        let refused = server::accounts::add_user(&w.store, "newcomer", role, scope, office, PASSWORD)
            .await
            .expect_err("refused");
        assert!(
            refused.to_string().contains(expected),
            "{role} {scope} {office:?}: {refused}"
        );
    }
}

#[tokio::test]
async fn a_rerun_demo_resets_its_accounts_instead_of_failing_on_their_names() {
    let w = world().await;
    let township = super::code("330502001");
    server::accounts::demo_accounts(&w.store, &township)
        .await
        .expect("first run");
    server::accounts::set_disabled(&w.store, "demo-caseworker", true)
        .await
        .expect("disable");
    let again = server::accounts::demo_accounts(&w.store, &township)
        .await
        .expect("second run");
    assert_eq!(again.len(), 7);
    let r = sign_in_reply(&w, "demo-caseworker", "demo-caseworker-pass").await;
    assert_eq!(r.status, StatusCode::OK, "enabled again: {}", r.text);
    assert_eq!(r.json()["account"]["office"], "330502001:gov");
}

#[tokio::test]
async fn a_wrong_password_says_so_without_saying_which() {
    let w = world().await;
    let wrong = sign_in_reply(&w, "caseworker", "wrong-password").await;
    let unknown = sign_in_reply(&w, "nobody", "wrong-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&wrong), "the name or password is wrong");
    assert_eq!(wrong.text, unknown.text);
}

#[tokio::test]
async fn a_disabled_account_stops_at_once_and_its_old_tokens_stay_dead() {
    let w = world().await;
    let admin = sign_in(&w.app, "administrator").await;
    let token = sign_in(&w.app, "caseworker").await;
    let patch = |disabled: bool| json!({ "disabled": disabled });
    let r = json_call(
        &w.app,
        "PATCH",
        "/api/v1/accounts/caseworker",
        Some(&admin),
        Some(patch(true)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["disabled"], true);
    // The session of a moment ago is refused, saying why.
    let r = json_call(&w.app, "GET", "/api/v1/cases", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(message(&r).contains("account caseworker is disabled"), "{}", r.text);
    // Signing in with the right password says the account is disabled; with a wrong one, nothing about it.
    let r = sign_in_reply(&w, "caseworker", PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(message(&r).contains("is disabled"), "{}", r.text);
    let r = sign_in_reply(&w, "caseworker", "wrong-password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&r), "the name or password is wrong");
    // Enabled again, the account signs in anew; the token from before it was disabled never works again.
    let r = json_call(
        &w.app,
        "PATCH",
        "/api/v1/accounts/caseworker",
        Some(&admin),
        Some(patch(false)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = json_call(&w.app, "GET", "/api/v1/cases", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let fresh = sign_in(&w.app, "caseworker").await;
    let r = json_call(&w.app, "GET", "/api/v1/cases", Some(&fresh), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // An administrator cannot lock themselves out.
    let r = json_call(
        &w.app,
        "PATCH",
        "/api/v1/accounts/administrator",
        Some(&admin),
        Some(patch(true)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
}

#[tokio::test]
async fn administrators_manage_the_accounts_of_their_subtree_only() {
    let w = world().await;
    let admin = sign_in(&w.app, "administrator").await;
    let r = json_call(&w.app, "GET", "/api/v1/accounts", Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.json();
    let names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(
        names.contains(&"caseworker") && names.contains(&"village-caseworker"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"far-caseworker"),
        "township B is outside the admin's scope: {names:?}"
    );
    assert!(!r.text.contains("argon2") && !r.text.contains("password"), "{}", r.text);

    let new = |name: &str, scope: &str, office: Option<&str>| json!({"name": name, "role": "caseworker", "scope": scope, "office": office, "password": PASSWORD});
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/accounts",
        Some(&admin),
        Some(new("new-caseworker", VILLAGE_A, Some("330502001001:committee"))),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["office"], "330502001001:committee");
    sign_in(&w.app, "new-caseworker").await;
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/accounts",
        Some(&admin),
        Some(new("new-caseworker", VILLAGE_A, Some("330502001001:committee"))),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/accounts",
        Some(&admin),
        Some(new("elsewhere", "330502002", Some("330502002:gov"))),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/accounts",
        Some(&admin),
        Some(new("no-office", "330502001", None)),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json()["fields"][0]["field"], "office", "{}", r.text);

    // Changing: a role and office together; an account outside the subtree is not found.
    let r = json_call(
        &w.app,
        "PATCH",
        "/api/v1/accounts/new-caseworker",
        Some(&admin),
        Some(json!({"role": "analyst", "office": null})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.json()["role"].clone(), r.json()["office"].clone()),
        (json!("analyst"), Value::Null)
    );
    let r = json_call(
        &w.app,
        "PATCH",
        "/api/v1/accounts/far-caseworker",
        Some(&admin),
        Some(json!({"role": "analyst"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = json_call(
        &w.app,
        "PATCH",
        "/api/v1/accounts/caseworker",
        Some(&admin),
        Some(json!({"scope": "330502002"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // Other roles do not manage accounts.
    let head = sign_in(&w.app, "office_head").await;
    for (method, uri, body) in [
        ("GET", "/api/v1/accounts", None),
        (
            "POST",
            "/api/v1/accounts",
            Some(new("x", "330502001", Some("330502001:gov"))),
        ),
        ("PATCH", "/api/v1/accounts/caseworker", Some(json!({"disabled": true}))),
        ("GET", "/api/v1/audit", None),
    ] {
        let r = json_call(&w.app, method, uri, Some(&head), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {uri}: {}", r.text);
    }
}

#[tokio::test]
async fn administrators_read_the_audit_and_residents_see_who_read_their_data() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    let case = resident_case(&w, &resident).await;
    let caseworker = sign_in(&w.app, "caseworker").await;
    let r = json_call(&w.app, "GET", &format!("/api/v1/cases/{case}"), Some(&caseworker), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.json()["reporter"].is_object(),
        "the caseworker read the reporter: {}",
        r.text
    );

    let admin = sign_in(&w.app, "administrator").await;
    let r = json_call(&w.app, "GET", &format!("/api/v1/audit?case={case}"), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let entries = r.json();
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "{}", r.text);
    assert_eq!(entries[0]["account"], "caseworker");
    assert_eq!(entries[0]["office"], "330502001:gov");
    assert_eq!(entries[0]["action"], "read_reporter");
    for (query, expected) in [
        ("account=caseworker", 1),
        ("account=mediator", 0),
        ("since=2999-01-01", 0),
    ] {
        let r = json_call(&w.app, "GET", &format!("/api/v1/audit?{query}"), Some(&admin), None).await;
        assert_eq!(r.json().as_array().map(Vec::len), Some(expected), "{query}: {}", r.text);
    }
    for query in ["bogus=1", "since=yesterday", "limit=0"] {
        let r = json_call(&w.app, "GET", &format!("/api/v1/audit?{query}"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text);
    }

    // The resident who filed the case sees role, office and time of each read, not the staff account.
    let r = json_call(
        &w.app,
        "GET",
        &format!("/api/v1/cases/{case}/audit"),
        Some(&resident),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let reads = r.json();
    assert_eq!(reads.as_array().map(Vec::len), Some(1), "{}", r.text);
    assert_eq!(reads[0]["role"], "caseworker");
    assert_eq!(reads[0]["office"], "330502001:gov");
    assert!(
        reads[0]["at"].is_string() && reads[0].get("account").is_none(),
        "{}",
        r.text
    );
    // Nobody else reads it there: another resident, or staff (who have the administrators' log).
    for who in ["other-resident", "caseworker", "administrator"] {
        let token = sign_in(&w.app, who).await;
        let r = json_call(
            &w.app,
            "GET",
            &format!("/api/v1/cases/{case}/audit"),
            Some(&token),
            None,
        )
        .await;
        // Another resident hears that there is no such case (issue 16: ids cannot be probed); staff are refused
        // whatever the id.
        let expected = if who == "other-resident" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status, expected, "{who}: {}", r.text);
    }
    let r = json_call(&w.app, "GET", "/api/v1/cases/999999/audit", Some(&resident), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[tokio::test]
async fn an_api_keys_office_must_be_in_the_directory() {
    let w = world().await;
    let refused = server::accounts::create_api_key(&w.store, "city-app", Some("330502001:police"))
        .await
        .expect_err("no such office");
    assert!(
        refused.to_string().contains("no such office in the office directory"),
        "{refused}"
    );
    server::accounts::create_api_key(&w.store, "city-app", Some("330502001:gov"))
        .await
        .expect("a stored office");
}

#[tokio::test]
async fn an_open311_key_updates_only_its_own_clients_cases() {
    let w = world().await;
    let other_key = server::accounts::create_api_key(&w.store, "other-client", None)
        .await
        .expect("key");
    let body = format!(
        "api_key={}&service_code=street_lighting&lat={}&long={}&description=dark%20street",
        w.api_key, POINT_A.0, POINT_A.1
    );
    let r = form(&w.app, "/open311/v2/requests.json", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = r.json()[0]["service_request_id"].as_str().expect("id").to_string();
    let update = |key: &str, id: &str| format!("api_key={key}&service_request_id={id}&description=seen%20it");
    let foreign = form(
        &w.app,
        "/open311/v2/servicerequestupdates.json",
        &update(&other_key, &id),
    )
    .await;
    let missing = form(
        &w.app,
        "/open311/v2/servicerequestupdates.json",
        &update(&other_key, "999999"),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    assert_eq!(
        foreign.text.replace(&id, "ID"),
        missing.text.replace("999999", "ID"),
        "a case of another client answers as one that does not exist"
    );
    let own = form(
        &w.app,
        "/open311/v2/servicerequestupdates.json",
        &update(&w.api_key, &id),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
}
