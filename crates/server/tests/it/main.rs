//! Integration tests of the HTTP service, driven in-process (`tower::ServiceExt::oneshot`) over a temporary SQLite
//! store (or, with `GRASSROOTS_TEST_BACKEND=citus`, a Citus cluster) holding a tiny territory: two townships of Wuxing
//! district, one village and one grid each.
//!
//! The role × territory × endpoint matrix is walked in one table; Open311 POST, tokens, errors and updates have their
//! own scenarios.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::grid::{Grid, cell_of};
use domain::territory::{Unit, UnitCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use server::ratelimit::Limit;
use server::{AppState, ServerConfig};
use store::Store;
use tower::ServiceExt;

mod accounts;
mod cadre;
mod hostile;
mod public;
mod steering;
mod web;
mod web_privacy;
mod workflow;

const VILLAGE_A: &str = "330502001001";
const VILLAGE_B: &str = "330502002001";
const POINT_A: (f64, f64) = (30.87, 120.08);
const POINT_B: (f64, f64) = (30.95, 120.20);
const PASSWORD: &str = "integration-pass";

pub(crate) struct World {
    app: Router,
    store: Store,
    api_key: String,
    /// The state the app was built from, to serve it on a real socket (`serve::serve_on`).
    state: AppState,
}

pub(crate) fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

/// The database of a world: a temporary SQLite file, or with `GRASSROOTS_TEST_BACKEND=citus` a fresh database on the
/// Citus cluster of `GRASSROOTS_TEST_CITUS` (scripts/test.sh runs these tests on both).
async fn test_database() -> String {
    let stamp = format!(
        "{}_{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
    );
    match std::env::var("GRASSROOTS_TEST_BACKEND").as_deref() {
        Err(_) | Ok("sqlite") => {
            let path = std::env::temp_dir().join(format!("grassroots-server-it-{stamp}.db"));
            format!("sqlite://{}", path.display())
        }
        Ok("citus") => {
            let admin = std::env::var("GRASSROOTS_TEST_CITUS").expect(
                "GRASSROOTS_TEST_BACKEND=citus needs GRASSROOTS_TEST_CITUS, the URL scripts/cluster.sh start prints",
            );
            // Creating a database touches every node; under load a worker may drop a connection, so try thrice.
            let mut last = None;
            for attempt in 0..3 {
                match store::cluster::create_database(&admin, &format!("server_it_{stamp}_{attempt}"), Some(4)).await {
                    Ok(url) => return url,
                    Err(e) => last = Some(e),
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            panic!("citus database: {}", last.map(|e| e.to_string()).unwrap_or_default())
        }
        Ok(other) => panic!("GRASSROOTS_TEST_BACKEND={other:?}: expected sqlite or citus"),
    }
}

pub(crate) async fn world() -> World {
    world_with(|_| {}).await
}

/// A world whose server configuration `adjust` changes (tighter limits, secure cookies, a short header timeout).
pub(crate) async fn world_with(adjust: impl FnOnce(&mut ServerConfig)) -> World {
    let store = Store::connect(&test_database().await).await.expect("store");
    let units: Vec<Unit> = [
        ("33", "浙江省", None),
        ("3305", "湖州市", Some("33")),
        ("330502", "吴兴区", Some("3305")),
        ("330502001", "月河街道", Some("330502")),
        ("330502002", "朝阳街道", Some("330502")),
        (VILLAGE_A, "甲村", Some("330502001")),
        (VILLAGE_B, "乙村", Some("330502002")),
    ]
    .into_iter()
    .map(|(c, n, p)| Unit::new(code(c), n, p.map(code)).expect("unit"))
    .collect();
    store
        .upsert_units(&units.iter().collect::<Vec<_>>(), &mut |_| {})
        .await
        .expect("units");
    let grid = |unit: &str, (lat, lon): (f64, f64)| Grid {
        id: format!("{unit}-01"),
        unit: code(unit),
        cells: vec![u64::from(cell_of(lat, lon).expect("cell"))],
    };
    store
        .replace_grids(&[grid(VILLAGE_A, POINT_A), grid(VILLAGE_B, POINT_B)], &[])
        .await
        .expect("grids");
    for (name, role, scope, office) in [
        ("resident", "resident", "330502001", None),
        ("other-resident", "resident", "330502001", None),
        ("grid_worker", "grid_worker", "330502001", Some("330502001:gov")),
        ("caseworker", "caseworker", "330502001", Some("330502001:gov")),
        ("mediator", "mediator", "330502001", Some("330502001:gov")),
        ("office_head", "office_head", "330502001", Some("330502001:gov")),
        ("analyst", "analyst", "330502001", None),
        ("administrator", "administrator", "330502001", None),
        ("far-caseworker", "caseworker", "330502002", Some("330502002:gov")),
        ("far-head", "office_head", "330502002", Some("330502002:gov")),
        (
            "village-caseworker",
            "caseworker",
            VILLAGE_A,
            Some("330502001001:committee"),
        ),
        ("wangfang88", "resident", VILLAGE_A, None),
        ("county-head", "office_head", "330502", Some("330502:gov")),
        ("county-caseworker", "caseworker", "330502", Some("330502:gov")),
        ("prefecture-head", "office_head", "3305", Some("3305:gov")),
        (
            "village-b-caseworker",
            "caseworker",
            VILLAGE_B,
            Some("330502002001:committee"),
        ),
    ] {
        server::accounts::add_user(&store, name, role, scope, office, PASSWORD)
            .await
            .expect("account");
    }
    let api_key = server::accounts::create_api_key(&store, "it-client", None)
        .await
        .expect("key");
    let mut config = ServerConfig {
        body_limit: 16 * 1024,
        ip_limit: Limit {
            burst: 1e9,
            per_second: 1e9,
        },
        key_limit: Limit {
            burst: 1e9,
            per_second: 1e9,
        },
        ..ServerConfig::default()
    };
    adjust(&mut config);
    let state = AppState::load(store.clone(), config).await.expect("state");
    World {
        app: server::serve::app(state.clone()),
        store,
        api_key,
        state,
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

pub(crate) async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Body,
    content_type: &str,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let response = app
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub(crate) async fn json_call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
    call(app, method, uri, token, body, "application/json").await
}

pub(crate) async fn form(app: &Router, uri: &str, body: &str) -> Reply {
    call(
        app,
        "POST",
        uri,
        None,
        Body::from(body.to_string()),
        "application/x-www-form-urlencoded",
    )
    .await
}

pub(crate) async fn sign_in(app: &Router, name: &str) -> String {
    let r = json_call(
        app,
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({"name": name, "password": PASSWORD})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "sign in {name}: {}", r.text);
    r.json()["token"].as_str().expect("token").to_string()
}

/// A complaint by `resident` in village A about village A, with a reporter on record.
async fn resident_case(w: &World, token: &str) -> i64 {
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(token),
        Some(json!({
            "kind": "complaint", "category": "street_lighting", "description": "路灯坏了",
            "lat": POINT_A.0, "lon": POINT_A.1, "reporter_name": "王芳", "reporter_contact": "139-0000-0000",
            "complained_unit": VILLAGE_A
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_i64().expect("id")
}

#[tokio::test]
async fn role_territory_endpoint_matrix() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    let case = resident_case(&w, &resident).await;
    let get = format!("/api/v1/cases/{case}");
    // (account, GET case, list sees it, reporter shown, POST accept)
    let matrix: [(&str, u16, bool, bool, u16); 11] = [
        ("resident", 200, true, true, 403),
        // Whoever may not read the case hears that there is none, as for an id never issued (enumeration).
        ("other-resident", 404, false, false, 404),
        ("grid_worker", 200, true, true, 200),
        ("caseworker", 200, true, true, 409),
        ("mediator", 200, true, true, 403),
        ("office_head", 200, true, true, 409),
        ("analyst", 200, true, false, 403),
        ("administrator", 200, true, false, 403),
        ("far-caseworker", 404, false, false, 404),
        ("far-head", 404, false, false, 404),
        // Staff of the village the complaint is about see the case but never who complained, and may not act on it
        // (Art. 47: no one judges their own case).
        ("village-caseworker", 200, true, false, 403),
    ];
    for (account, get_status, listed, reporter, accept_status) in matrix {
        let token = if account == "resident" {
            resident.clone()
        } else {
            sign_in(&w.app, account).await
        };
        let r = json_call(&w.app, "GET", &get, Some(&token), None).await;
        assert_eq!(r.status.as_u16(), get_status, "{account} GET case: {}", r.text);
        if r.status.is_success() {
            let body = r.json();
            assert_eq!(body["reporter"].is_object(), reporter, "{account} reporter: {}", r.text);
            assert_eq!(body["reporter_withheld"].as_bool(), Some(!reporter), "{account}");
            if !reporter {
                assert!(
                    !r.text.contains("王芳") && !r.text.contains("139-0000-0000"),
                    "{account} leaked the reporter"
                );
            }
        }
        let list = json_call(&w.app, "GET", "/api/v1/cases?page_size=100", Some(&token), None).await;
        if listed {
            assert_eq!(list.status, StatusCode::OK, "{account} list: {}", list.text);
        }
        let ids: Vec<i64> = list.json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_i64())
            .collect();
        assert_eq!(ids.contains(&case), listed, "{account} list: {}", list.text);
        // Accept: the first staff member of the holding office with the right role accepts (200); after that the
        // state machine refuses a second acceptance (409). Roles without the verb and the complained village, who see
        // the case, get 403; who may not see it gets 404.
        let act = json_call(
            &w.app,
            "POST",
            &format!("{get}/actions"),
            Some(&token),
            Some(json!({"action": "accept"})),
        )
        .await;
        assert_eq!(act.status.as_u16(), accept_status, "{account} accept: {}", act.text);
    }
    // Every staff read of the reporter was audited: grid worker, caseworker, mediator, head.
    let audit = w.store.audit_entries(Some(case), 100).await.expect("audit");
    let mut readers: Vec<&str> = audit.iter().map(|e| e.account.as_str()).collect();
    readers.sort();
    assert_eq!(readers, ["caseworker", "grid_worker", "mediator", "office_head"]);
}

#[tokio::test]
async fn the_resident_rates_and_nobody_else() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    let case = resident_case(&w, &resident).await;
    let head = sign_in(&w.app, "office_head").await;
    let act = |token: String, body: Value| {
        let app = w.app.clone();
        async move {
            json_call(
                &app,
                "POST",
                &format!("/api/v1/cases/{case}/actions"),
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        act(head.clone(), json!({"action": "accept"})).await.status,
        StatusCode::OK
    );
    let r = act(head.clone(), json!({"action": "reply", "text": "repaired"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["state"], "replied");
    let r = act(head.clone(), json!({"action": "rate", "rating": "satisfied"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = act(resident.clone(), json!({"action": "rate", "rating": "great"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = act(resident.clone(), json!({"action": "rate", "rating": "satisfied"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn sign_in_failures_and_bad_tokens() {
    let w = world().await;
    let wrong = json_call(
        &w.app,
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({"name": "caseworker", "password": "nope-nope"})),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let unknown = json_call(
        &w.app,
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({"name": "ghost", "password": "nope-nope"})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text, unknown.text, "the answer does not reveal which names exist");
    let r = json_call(&w.app, "GET", "/api/v1/cases", Some("grs_forged"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = json_call(&w.app, "GET", "/api/v1/cases", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "unauthenticated");
    let r = call(
        &w.app,
        "POST",
        "/api/v1/sessions",
        None,
        Body::from("{not json"),
        "application/json",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.content_type.starts_with("application/json"), "{}", r.content_type);
    let token = sign_in(&w.app, "caseworker").await;
    assert_eq!(
        json_call(&w.app, "DELETE", "/api/v1/sessions", Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        json_call(&w.app, "GET", "/api/v1/me", Some(&token), None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn open311_post_tokens_errors_and_updates() {
    let w = world().await;
    let key = &w.api_key;
    let body = format!(
        "api_key={key}&service_code=street_lighting&lat={}&long={}&description=dark%20street&email=x%40y.cn&first_name=Li",
        POINT_B.0, POINT_B.1
    );
    let r = form(&w.app, "/open311/v2/requests.json", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let posted = &r.json()[0];
    let id = posted["service_request_id"].as_str().expect("id").to_string();
    let token = posted["token"].as_str().expect("token").to_string();

    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/tokens/{token}.xml"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains(&format!(
            "<service_request_id>{id}</service_request_id><token>{token}</token>"
        )),
        "{}",
        r.text
    );

    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/requests/{id}.xml"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/xml"));
    assert!(
        r.text
            .contains("<agency_responsible>330502002001:committee</agency_responsible>"),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains("x@y.cn") && !r.text.contains("Li<"),
        "public output holds no personal data"
    );

    // Errors, in the Open311 format and with the spec's status codes.
    let cases = [
        (
            "/open311/v2/requests.xml",
            "service_code=street_lighting&lat=1&long=2".to_string(),
            403,
            "<errors><error><code>403</code><description>api_key is required</description></error></errors>",
        ),
        (
            "/open311/v2/requests.json",
            format!(
                "api_key=grk_forged&service_code=street_lighting&lat={}&long={}",
                POINT_A.0, POINT_A.1
            ),
            403,
            "api_key is invalid",
        ),
        (
            "/open311/v2/requests.json",
            format!("api_key={key}&service_code=street_lighting&lat=91&long=2"),
            400,
            "lat: must lie between -90 and 90",
        ),
        (
            "/open311/v2/requests.json",
            format!("api_key={key}&service_code=street_lighting&lat=10&long=10"),
            400,
            "outside every grid",
        ),
        (
            "/open311/v2/requests.json",
            format!("api_key={key}&service_code=unknown&lat=1&long=2"),
            400,
            "service_code: unknown category",
        ),
        (
            "/open311/v2/requests.json",
            format!(
                "api_key={key}&service_code=street_lighting&address_string=%E7%94%B2%E6%9D%91&description={}",
                "x".repeat(4_001)
            ),
            400,
            "description: longer than 4000 characters",
        ),
        ("/open311/v2/nothing.json", String::new(), 404, "no Open311 resource"),
        ("/open311/v2/requests.csv", String::new(), 400, "unsupported format"),
    ];
    for (uri, body, status, needle) in cases {
        let r = form(&w.app, uri, &body).await;
        assert_eq!(r.status.as_u16(), status, "{uri} {body}: {}", r.text);
        assert!(r.text.contains(needle), "{uri}: {}", r.text);
    }
    // An address naming a unit locates the request there.
    let r = form(
        &w.app,
        "/open311/v2/requests.json",
        &format!("api_key={key}&service_code=street_lighting&address_string=%E7%94%B2%E6%9D%91"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Missing, unknown and malformed ids are 404.
    for uri in [
        "/open311/v2/requests/99999.json",
        "/open311/v2/requests/abc.json",
        "/open311/v2/tokens/none.json",
        "/open311/v2/services/none.xml",
    ] {
        let r = call(&w.app, "GET", uri, None, Body::empty(), "").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.text);
    }

    // FixMyStreet updates: POST a note, then find the creation and the note in the feed (only public events).
    let r = form(
        &w.app,
        "/open311/v2/servicerequestupdates.json",
        &format!("api_key={key}&service_request_id={id}&description=seen%20it"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/servicerequestupdates.json?service_request_id={id}"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let updates = r.json();
    let descriptions: Vec<&str> = updates
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["description"].as_str())
        .collect();
    assert_eq!(
        descriptions,
        ["received and routed to 330502002001:committee"],
        "notes are internal: {}",
        r.text
    );
    let r = form(
        &w.app,
        "/open311/v2/servicerequestupdates.xml",
        "service_request_id=1&description=x",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn open311_lists_and_services() {
    let w = world().await;
    let r = call(&w.app, "GET", "/open311/v2/services.json", None, Body::empty(), "").await;
    let all = r.json().as_array().map(Vec::len).unwrap_or(0);
    assert!(all > 5, "{}", r.text);
    let at_a = call(
        &w.app,
        "GET",
        &format!("/open311/v2/services.json?lat={}&long={}", POINT_A.0, POINT_A.1),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert!(at_a.json().as_array().is_some_and(|s| !s.is_empty()), "{}", at_a.text);
    let nowhere = call(
        &w.app,
        "GET",
        "/open311/v2/services.json?lat=1&long=1",
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(nowhere.text, "[]");
    // A petition never appears in public output.
    let resident = sign_in(&w.app, "resident").await;
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&resident),
        Some(json!({
            "kind": "petition", "category": "land", "description": "私事", "lat": POINT_A.0, "lon": POINT_A.1
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let petition = r.json()["id"].as_i64().expect("id");
    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/requests/{petition}.json"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(
        &w.app,
        "GET",
        "/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z",
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("at most 90 days"), "{}", r.text);
}

#[tokio::test]
async fn body_limit_and_openapi() {
    let w = world().await;
    let big = "a".repeat(20 * 1024);
    let r = form(
        &w.app,
        "/open311/v2/requests.json",
        &format!("api_key={}&description={big}", w.api_key),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    let r = call(&w.app, "GET", "/openapi.json", None, Body::empty(), "").await;
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        doc["paths"]["/api/v1/health"]["get"].is_object(),
        "health is documented"
    );
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            for (status, response) in op["responses"].as_object().expect("responses") {
                assert!(
                    response["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
    let r = call(&w.app, "GET", "/docs/", None, Body::empty(), "").await;
    assert_eq!(r.status, StatusCode::OK);
}

/// A district layer and a township pilot, stored through the same use cases as the CLI's.
pub(crate) async fn governance_world() -> World {
    let w = world().await;
    // Saved and filed before they take effect: no layer or pilot applies to the past.
    let now = time::macros::datetime!(2023-12-01 09:00 +8);
    app::governance::set_policy(
        &w.store,
        &domain::calendar::Calendar::china(),
        &code("330502"),
        "wuxing.toml",
        "mediation.max_days = 20\nmediation.first_for = [\"family\"]\n",
        Some(time::macros::date!(2024 - 01 - 01)),
        "it",
        now,
    )
    .await
    .expect("policy");
    let pilot = r#"
        name = "night-patrols"
        owner = "330502001"
        units = ["330502001001"]
        start = 2024-07-01
        hypothesis = "patrols at night answer faster"
        primary_outcome = "median_days_to_close"
        guardrail_outcomes = ["response_rate"]
        officials = ["a head"]
        [change]
        mediation.max_days = 15
    "#;
    app::governance::file_pilot(&w.store, "night.toml", pilot, now)
        .await
        .expect("pilot");
    w
}

#[tokio::test]
async fn governance_reads_are_scoped_and_validated() {
    let w = governance_world().await;
    let analyst = sign_in(&w.app, "analyst").await;
    let far_head = sign_in(&w.app, "far-head").await;
    let caseworker = sign_in(&w.app, "caseworker").await;
    let get = |uri: &'static str, token: Option<String>| {
        let app = w.app.clone();
        async move { json_call(&app, "GET", uri, token.as_deref(), None).await }
    };

    let r = get("/api/v1/units/330502001/policy?date=2025-01-01", Some(analyst.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let values = r.json()["values"].as_array().cloned().unwrap_or_default();
    let max_days = values
        .iter()
        .find(|v| v["key"] == "mediation.max_days")
        .expect("key set");
    assert_eq!(
        (
            max_days["set_by"]["unit"].as_str(),
            max_days["set_by"]["value"].as_i64()
        ),
        (Some("330502"), Some(20))
    );
    let r = get(
        "/api/v1/units/330502001/policy/mediation?date=2025-01-01",
        Some(analyst.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    let keys: Vec<&str> = body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["key"].as_str())
        .collect();
    assert!(
        keys.contains(&"mediation.first_for") && keys.contains(&"mediation.max_days"),
        "{}",
        r.text
    );

    // (uri, token, status): validation before access, access before data, never a 5xx.
    let cases: [(&'static str, Option<String>, u16); 21] = [
        ("/api/v1/units/330502001/policy", None, 401),
        ("/api/v1/units/330502001/policy", Some(caseworker.clone()), 403),
        ("/api/v1/units/330502001/policy", Some(far_head.clone()), 403),
        ("/api/v1/units/330502002/policy", Some(far_head.clone()), 200),
        ("/api/v1/units/x/policy", Some(analyst.clone()), 400),
        ("/api/v1/units/330599/policy", Some(analyst.clone()), 404),
        (
            "/api/v1/units/330502001/policy?date=yesterday",
            Some(analyst.clone()),
            400,
        ),
        ("/api/v1/units/330502001/policy/no.such.key", Some(analyst.clone()), 400),
        ("/api/v1/pilots", Some(caseworker.clone()), 403),
        ("/api/v1/pilots/night-patrols", Some(analyst.clone()), 200),
        ("/api/v1/pilots/1", Some(analyst.clone()), 200),
        ("/api/v1/pilots/night-patrols", Some(far_head.clone()), 403),
        ("/api/v1/pilots/nothing", Some(analyst.clone()), 404),
        ("/api/v1/rates?month=2025-03", Some(analyst.clone()), 200),
        ("/api/v1/rates?month=2025-13", Some(analyst.clone()), 400),
        ("/api/v1/rates?month=2025-03&group=street", Some(analyst.clone()), 400),
        ("/api/v1/rates", Some(analyst.clone()), 400),
        ("/api/v1/workload?month=2025-03", Some(analyst.clone()), 200),
        ("/api/v1/workload?month=2025-03", Some(caseworker.clone()), 403),
        ("/api/v1/workload?month=2025-03&holder=boss", Some(analyst.clone()), 400),
        ("/api/v1/workload", Some(analyst.clone()), 400),
    ];
    for (uri, token, status) in cases {
        let r = get(uri, token).await;
        assert_eq!(r.status.as_u16(), status, "{uri}: {}", r.text);
        assert!(
            r.content_type.starts_with("application/json"),
            "{uri}: {}",
            r.content_type
        );
    }

    let r = get("/api/v1/pilots", Some(analyst.clone())).await;
    assert_eq!(r.json()[0]["name"], "night-patrols", "{}", r.text);
    assert_eq!(
        get("/api/v1/pilots", Some(far_head.clone())).await.text,
        "[]",
        "outside the far head's territory"
    );
    let r = get("/api/v1/pilots/night-patrols", Some(analyst.clone())).await;
    assert_eq!(r.json()["events"][0]["action"], "file", "{}", r.text);
    // A proposed pilot has not started: the lifecycle refuses to read an evaluation; recording one is a step of
    // the lifecycle, which an analyst (who reads statistics) may not take.
    let r = json_call(
        &w.app,
        "GET",
        "/api/v1/pilots/night-patrols/evaluation",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/pilots/night-patrols/evaluation",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

#[tokio::test]
async fn workload_shows_the_open_case_of_the_callers_office_and_nothing_to_a_far_head() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    resident_case(&w, &resident).await;
    let month = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    let uri = format!(
        "/api/v1/workload?month={:04}-{:02}&holder=office",
        month.year(),
        u8::from(month.month())
    );
    let analyst = sign_in(&w.app, "analyst").await;
    let r = json_call(&w.app, "GET", &uri, Some(&analyst), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.json();
    assert_eq!(
        (
            rows[0]["holder"].as_str(),
            rows[0]["open"].as_u64(),
            rows[0]["arrived"].as_u64()
        ),
        (Some("office"), Some(1), Some(1)),
        "{}",
        r.text
    );
    let far = sign_in(&w.app, "far-head").await;
    assert_eq!(json_call(&w.app, "GET", &uri, Some(&far), None).await.text, "[]");
}

#[tokio::test]
async fn rates_rank_the_callers_townships() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    resident_case(&w, &resident).await;
    let month = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    let uri = format!(
        "/api/v1/rates?month={:04}-{:02}&group=township",
        month.year(),
        u8::from(month.month())
    );
    let analyst = sign_in(&w.app, "analyst").await;
    let r = json_call(&w.app, "GET", &uri, Some(&analyst), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.json();
    assert_eq!(
        (rows[0]["key"].as_str(), rows[0]["cases"].as_u64()),
        (Some("330502001"), Some(1)),
        "{}",
        r.text
    );
    // Not replied yet: no feedback to cover, and resolution unknown.
    assert_eq!(
        (rows[0]["replied"].as_u64(), rows[0]["feedback_coverage"].is_null()),
        (Some(0), true),
        "{}",
        r.text
    );
    let far = sign_in(&w.app, "far-head").await;
    assert_eq!(json_call(&w.app, "GET", &uri, Some(&far), None).await.text, "[]");
}

#[tokio::test]
async fn openapi_lists_governance_and_open311_routes() {
    let w = world().await;
    let doc = call(&w.app, "GET", "/openapi.json", None, Body::empty(), "")
        .await
        .json();
    for path in [
        "/api/v1/units/{code}/policy",
        "/api/v1/units/{code}/policy/{key}",
        "/api/v1/pilots",
        "/api/v1/pilots/{id}",
        "/api/v1/pilots/{id}/evaluation",
        "/api/v1/pilots/{id}/actions",
        "/api/v1/pilots/{id}/adoptions",
        "/api/v1/rates",
        "/open311/v2/discovery.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests/{service_request_id}.json",
        "/open311/v2/servicerequestupdates.json",
        "/open311/v2/discovery.xml",
        "/open311/v2/services.xml",
        "/open311/v2/services/{service_code}.xml",
        "/open311/v2/requests.xml",
        "/open311/v2/requests/{service_request_id}.xml",
        "/open311/v2/tokens/{token}.xml",
        "/open311/v2/servicerequestupdates.xml",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    for (path, method) in [
        ("/open311/v2/requests.json", "post"),
        ("/open311/v2/requests.xml", "post"),
        ("/open311/v2/servicerequestupdates.xml", "post"),
        ("/api/v1/units/{code}/policy", "post"),
        ("/api/v1/pilots", "post"),
        ("/api/v1/pilots/{id}/evaluation", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    let xml = &doc["paths"]["/open311/v2/requests.xml"]["get"]["responses"]["200"]["content"];
    assert!(xml["text/xml"].is_object(), "{xml}");
    let refused = &doc["paths"]["/api/v1/units/{code}/policy"]["post"]["responses"]["422"];
    assert!(refused.is_object(), "guardrail refusals are documented");
    let error = &doc["components"]["schemas"]["ErrorBody"];
    let required: Vec<&str> = error["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(!required.contains(&"violations"), "{error}");
}

#[tokio::test]
async fn policy_values_are_documented_as_any_json_value() {
    let w = world().await;
    let doc = call(&w.app, "GET", "/openapi.json", None, Body::empty(), "")
        .await
        .json();
    let value = &doc["components"]["schemas"]["SetterView"]["properties"]["value"];
    assert!(value.get("type").is_none() || value["type"].is_array(), "{value}");
}

/// Issue 11: a category's questions are Open311 attributes of its service, and every interface checks the answers
/// the same way (`domain::questions`): a required question unanswered, a choice outside the list and a question of
/// another category are refused naming the question; the answers are kept on the case.
#[tokio::test]
async fn a_category_s_questions_are_offered_and_checked_on_every_interface() {
    let w = world().await;
    let r = call(
        &w.app,
        "GET",
        "/open311/v2/services/gas_leak.json",
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let attributes = r.json()["attributes"].as_array().cloned().unwrap_or_default();
    let smell = attributes
        .iter()
        .find(|a| a["code"] == "smell_now")
        .unwrap_or_else(|| panic!("no smell_now attribute: {}", r.text));
    assert_eq!(smell["required"], true);
    assert_eq!(smell["datatype"], "singlevaluelist");
    let keys: Vec<&str> = smell["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["key"].as_str())
        .collect();
    assert_eq!(keys, ["yes", "no"]);
    let r = call(
        &w.app,
        "GET",
        "/open311/v2/services/street_lighting.xml",
        None,
        Body::empty(),
        "",
    )
    .await;
    assert!(r.text.contains("<code>lamp_number</code>"), "{}", r.text);

    let key = &w.api_key;
    let open311 = |attributes: &str| {
        format!(
            "api_key={key}&service_code=gas_leak&lat={}&long={}&description=gas{attributes}",
            POINT_A.0, POINT_A.1
        )
    };
    let r = form(&w.app, "/open311/v2/requests.json", &open311("")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.text.contains("attribute[smell_now]") && r.text.contains("required"),
        "{}",
        r.text
    );
    let r = form(
        &w.app,
        "/open311/v2/requests.json",
        &open311("&attribute[smell_now]=maybe"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("not one of yes, no"), "{}", r.text);
    let r = form(
        &w.app,
        "/open311/v2/requests.json",
        &open311("&attribute[smell_now]=yes"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let resident = sign_in(&w.app, "resident").await;
    let file = |category: &str, answers: Value| {
        json!({
            "kind": "service_request", "category": category, "description": "煤气味",
            "lat": POINT_A.0, "lon": POINT_A.1, "answers": answers
        })
    };
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&resident),
        Some(file("gas_leak", json!({}))),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("answers.smell_now"), "{}", r.text);
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&resident),
        Some(file("noise", json!({"smell_now": "yes"}))),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("not a question of category"), "{}", r.text);
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&resident),
        Some(file("gas_leak", json!({"smell_now": "no"}))),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_i64().expect("id");
    let r = json_call(&w.app, "GET", &format!("/api/v1/cases/{id}"), Some(&resident), None).await;
    assert_eq!(r.json()["answers"]["smell_now"], "no", "{}", r.text);
}
