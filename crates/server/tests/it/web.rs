//! The web pages through the router, as a browser uses them: cookies kept per visitor, forms posted with the CSRF
//! token the page carries. Pages render in both languages; every POST form carries the token and a POST without it
//! is refused; a resident's pages never show another resident's identifiers; a caseworker's case page offers exactly
//! the actions the API lists; a resident reports (sign-in asked at submission), a caseworker accepts and replies, and
//! the resident rates, all through forms.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::{PASSWORD, VILLAGE_A, json_call, sign_in, world};

/// One visitor: the cookies the site set, sent back on every request.
pub(super) struct Browser {
    app: Router,
    pub(super) cookies: BTreeMap<String, String>,
    /// Send `HX-Request: true`, as htmx does when it asks for a fragment.
    pub(super) htmx: bool,
}

pub(super) struct Page {
    pub(super) status: StatusCode,
    pub(super) location: String,
    pub(super) content_type: String,
    pub(super) headers: axum::http::HeaderMap,
    pub(super) body: String,
}

impl Browser {
    pub(super) fn new(app: &Router) -> Browser {
        Browser {
            app: app.clone(),
            cookies: BTreeMap::new(),
            htmx: false,
        }
    }

    pub(super) async fn send(&mut self, method: &str, uri: &str, form: Option<&[(&str, &str)]>) -> Page {
        let body = form.map(|fields| {
            (
                "application/x-www-form-urlencoded".to_string(),
                serde_urlencoded::to_string(fields).expect("form").into_bytes(),
            )
        });
        self.send_body(method, uri, body).await
    }

    /// Sends a request with this visitor's cookies and an optional (content type, body).
    async fn send_body(&mut self, method: &str, uri: &str, body: Option<(String, Vec<u8>)>) -> Page {
        let mut req = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(header::COOKIE, jar.join("; "));
        }
        if self.htmx {
            req = req.header("hx-request", "true");
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("response");
        for value in response.headers().get_all(header::SET_COOKIE) {
            let pair = value.to_str().expect("cookie").split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Page {
            status,
            location,
            content_type,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Posts the report form as the page does (multipart), with the CSRF token and `files` as `photos`.
    async fn post_multipart(&mut self, uri: &str, fields: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Page {
        let boundary = "grassroots-test-boundary";
        let csrf = self.cookies.get("grassroots_csrf").cloned().unwrap_or_default();
        let mut body: Vec<u8> = Vec::new();
        for (name, value) in std::iter::once(("csrf", csrf.as_str())).chain(fields.iter().copied()) {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (file, bytes) in files {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"{file}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.send_body("POST", uri, Some((content_type, body))).await
    }

    pub(super) async fn get(&mut self, uri: &str) -> Page {
        self.send("GET", uri, None).await
    }

    /// Posts a form with the CSRF token of the last page (the cookie's value, as the page's hidden field has it).
    pub(super) async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.cookies.get("grassroots_csrf").cloned().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.send("POST", uri, Some(&all)).await
    }

    pub(super) async fn sign_in(&mut self, name: &str) {
        self.get("/signin").await;
        let page = self
            .post("/signin", &[("name", name), ("password", PASSWORD), ("next", "/")])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "sign in {name}: {}", page.body);
    }
}

/// The value of `attribute` on the element that has `marker`.
fn attribute(body: &str, marker: &str, attribute: &str) -> String {
    let at = body.find(marker).unwrap_or_else(|| panic!("no {marker} in the page"));
    let rest = &body[at..];
    let start = rest.find(&format!("{attribute}=\"")).expect("attribute") + attribute.len() + 2;
    rest[start..].split('"').next().unwrap_or_default().to_string()
}

fn set(words: &str) -> Vec<String> {
    let mut v: Vec<String> = words.split_whitespace().map(str::to_string).collect();
    v.sort();
    v
}

/// The actions of the API's case detail for `token`.
async fn api_actions(app: &Router, token: &str, case: i64) -> Vec<String> {
    let r = json_call(app, "GET", &format!("/api/v1/cases/{case}"), Some(token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut v: Vec<String> = r.json()["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// Files a road repair in village A through the report form; the sign-in is asked at submission and the draft kept.
async fn report_through_the_form(browser: &mut Browser, account: &str, description: &str) -> i64 {
    browser.get("/report").await;
    let draft = [
        ("kind", "service_request"),
        ("category", "road_repair"),
        ("description", description),
        ("unit", VILLAGE_A),
        ("lat", ""),
        ("lon", ""),
        ("reporter_name", "李四"),
        ("reporter_contact", "13900001234"),
        // A different matter from any road repair already open in the village (the duplicates step has its own test).
        ("confirmed", "1"),
    ];
    let asked = browser.post("/report", &draft).await;
    if browser.cookies.contains_key("grassroots_session") {
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
        return asked.location.trim_start_matches("/cases/").parse().expect("case id");
    }
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.body.contains("action=\"/report/signin\""),
        "sign-in asked: {}",
        asked.body
    );
    assert!(asked.body.contains(description), "the draft is kept");
    let mut with_credentials = draft.to_vec();
    with_credentials.extend([("name", account), ("password", PASSWORD)]);
    let filed = browser.post("/report/signin", &with_credentials).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    assert!(
        browser.cookies.contains_key("grassroots_session"),
        "signed in on the way"
    );
    filed.location.trim_start_matches("/cases/").parse().expect("case id")
}

#[tokio::test]
async fn pages_render_in_both_languages_and_remember_the_choice() {
    let w = world().await;
    let mut visitor = Browser::new(&w.app);
    for path in ["/", "/report", "/signin", "/signup"] {
        let zh = visitor.get(path).await;
        assert_eq!(zh.status, StatusCode::OK, "{path}");
        assert!(
            zh.body.contains("lang=\"zh-CN\"") && zh.body.contains("反映问题"),
            "{path} in Chinese"
        );
        let en = visitor.get(&format!("{path}?lang=en")).await;
        assert!(
            en.body.contains("lang=\"en\"") && en.body.contains("Report a problem"),
            "{path} in English"
        );
        assert!(
            en.body.contains(&format!("href=\"{path}?lang=zh-CN\"")),
            "{path} links back to Chinese"
        );
        let remembered = visitor.get(path).await;
        assert!(
            remembered.body.contains("lang=\"en\""),
            "{path}: the cookie keeps English"
        );
        visitor.get(&format!("{path}?lang=zh-CN")).await;
    }
    // The report form lists the catalogue and the villages, so it works without the map's script.
    let report = visitor.get("/report").await;
    assert!(report.body.contains("value=\"road_repair\"") && report.body.contains("道路维修"));
    assert!(report.body.contains(&format!("value=\"{VILLAGE_A}\"")) && report.body.contains("甲村"));
}

#[tokio::test]
async fn every_post_form_carries_the_token_and_a_post_without_it_is_refused() {
    let w = world().await;
    let mut resident = Browser::new(&w.app);
    let case = report_through_the_form(&mut resident, "resident", "门口的路塌了一个坑").await;
    let mut caseworker = Browser::new(&w.app);
    caseworker.sign_in("caseworker").await;
    let pages = [
        (0, "/report".to_string()),
        (0, format!("/cases/{case}")),
        (1, format!("/cases/{case}")),
        (1, "/".to_string()),
    ];
    for (who, path) in pages {
        let browser = if who == 0 { &mut resident } else { &mut caseworker };
        let page = browser.get(&path).await;
        let token = browser.cookies.get("grassroots_csrf").cloned().expect("token cookie");
        let forms: Vec<&str> = page.body.split("<form").skip(1).collect();
        assert!(!forms.is_empty());
        for form in forms.iter().filter(|f| f.starts_with(" method=\"post\"")) {
            let form = form.split("</form>").next().unwrap_or_default();
            assert!(
                form.contains(&format!("name=\"csrf\" value=\"{token}\"")),
                "{path}: a form without the token: {form}"
            );
        }
    }
    // Without the token, or with another one, nothing happens.
    let accept = [("action", "accept")];
    let forged = caseworker
        .send(
            "POST",
            &format!("/cases/{case}/act"),
            Some(&[("csrf", "0123456789abcdef0123456789abcdef"), accept[0]]),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = caseworker
        .send("POST", &format!("/cases/{case}/act"), Some(&accept))
        .await;
    assert!(missing.status.is_client_error(), "{}", missing.status);
    let signin = Browser::new(&w.app)
        .send("POST", "/signin", Some(&[("name", "resident"), ("password", PASSWORD)]))
        .await;
    assert!(signin.status.is_client_error());
    let token = sign_in(&w.app, "caseworker").await;
    let r = json_call(&w.app, "GET", &format!("/api/v1/cases/{case}"), Some(&token), None).await;
    assert_eq!(
        r.json()["case"]["state"],
        "submitted",
        "the forged posts changed nothing"
    );
}

#[tokio::test]
async fn a_resident_never_sees_another_residents_identifiers() {
    let w = world().await;
    let mut other = Browser::new(&w.app);
    other.sign_in("other-resident").await;
    let theirs = report_through_the_form(&mut other, "other-resident", "井盖丢了").await;
    let mut resident = Browser::new(&w.app);
    let mine = report_through_the_form(&mut resident, "resident", "路面开裂").await;
    let list = resident.get("/cases").await;
    assert!(list.body.contains(&format!("/cases/{mine}\"")));
    assert!(!list.body.contains(&format!("/cases/{theirs}\"")));
    // Their public case is shown as the public sees it: what is wrong, never who said so.
    let page = resident.get(&format!("/cases/{theirs}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("井盖丢了"));
    assert!(!list.body.contains("井盖丢了"), "not in my list");
    for secret in ["李四", "13900001234", "other-resident"] {
        assert!(!page.body.contains(secret), "{secret} leaked");
        assert!(!list.body.contains(secret), "{secret} leaked in the list");
    }
    // Their own case shows them what they gave, and their account name only in the header.
    let own = resident.get(&format!("/cases/{mine}")).await;
    assert!(own.body.contains("13900001234") && own.body.contains("路面开裂"));
}

#[tokio::test]
async fn the_case_page_offers_exactly_the_actions_the_api_lists_and_the_journey_runs_on_forms() {
    let w = world().await;
    let mut resident = Browser::new(&w.app);
    let case = report_through_the_form(&mut resident, "resident", "桥头路灯下的路面坑洼").await;
    let path = format!("/cases/{case}");
    let mut caseworker = Browser::new(&w.app);
    caseworker.sign_in("caseworker").await;
    let staff_token = sign_in(&w.app, "caseworker").await;
    let resident_token = sign_in(&w.app, "resident").await;

    // Each step: the page lists the API's actions, and a form for each of them.
    let check = |page: &Page, api: &[String]| {
        assert_eq!(set(&attribute(&page.body, "id=\"case\"", "data-actions")), api);
        for action in api
            .iter()
            .filter(|a| !matches!(a.as_str(), "read_case" | "read_reporter" | "create_case"))
        {
            let forms: Vec<String> = page
                .body
                .split("data-action=\"")
                .skip(1)
                .filter_map(|s| s.split('"').next().map(str::to_string))
                .collect();
            let offered = match action.as_str() {
                "mediate" => forms.iter().any(|f| f.starts_with("mediation_")),
                other => forms.iter().any(|f| f == other),
            };
            assert!(offered, "no form for {action}");
        }
    };
    let page = caseworker.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    check(&page, &api_actions(&w.app, &staff_token, case).await);
    assert!(page.body.contains("data-action=\"accept\""));
    let page = resident.get(&path).await;
    check(&page, &api_actions(&w.app, &resident_token, case).await);
    assert!(
        !page.body.contains("data-action=\"accept\""),
        "a resident is offered no staff action"
    );

    // A refusal is shown beside the form that was sent, naming the rule.
    let refused = caseworker.post(&format!("{path}/act"), &[("action", "close")]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""));
    // In the page's language: the state machine's refusal names the state and the step in Chinese, not in English.
    assert!(refused.body.contains("下不能“办结”"), "{}", refused.body);
    assert!(!refused.body.contains("is not allowed in state"), "{}", refused.body);

    // A refusal of an offered action is shown inside that action's form.
    let refused = caseworker
        .post(
            &format!("{path}/act"),
            &[
                ("action", "transfer"),
                ("office", "330502999:gov"),
                ("reason", "不归本单位"),
            ],
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    let transfer_form = refused
        .body
        .split("data-action=\"transfer\"")
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .expect("the transfer form");
    assert!(transfer_form.contains("role=\"alert\""), "{transfer_form}");

    // The caseworker accepts and replies; htmx gets the case's section alone.
    let accepted = caseworker.post(&format!("{path}/act"), &[("action", "accept")]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let csrf = caseworker.cookies.get("grassroots_csrf").cloned().expect("token");
    let mut req = Request::builder()
        .method("POST")
        .uri(format!("{path}/act"))
        .header("hx-request", "true")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let jar: Vec<String> = caseworker.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    req = req.header(header::COOKIE, jar.join("; "));
    let body = serde_urlencoded::to_string([("csrf", csrf.as_str()), ("action", "reply"), ("text", "已派人修补")])
        .expect("form");
    let fragment = w
        .app
        .clone()
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    assert_eq!(fragment.status(), StatusCode::OK);
    let fragment =
        String::from_utf8_lossy(&fragment.into_body().collect().await.expect("body").to_bytes()).into_owned();
    assert!(
        fragment.starts_with("\n<section id=\"case\"") || fragment.starts_with("<section id=\"case\""),
        "{fragment}"
    );
    assert!(!fragment.contains("<html"));

    // The resident sees the reply and rates it through the form the page offers.
    let page = resident.get(&path).await;
    check(&page, &api_actions(&w.app, &resident_token, case).await);
    assert!(page.body.contains("已派人修补") && page.body.contains("data-action=\"rate\""));
    let rated = resident
        .post(&format!("{path}/act"), &[("action", "rate"), ("rating", "satisfied")])
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    let r = json_call(
        &w.app,
        "GET",
        &path.replace("/cases", "/api/v1/cases"),
        Some(&resident_token),
        None,
    )
    .await;
    assert_eq!(r.json()["rating"], "satisfied");

    // The queue lists it for the caseworker, and the alerts inbox opens.
    assert!(
        caseworker
            .get("/cases?state=")
            .await
            .body
            .contains(&format!("{path}\""))
    );
    assert_eq!(caseworker.get("/alerts").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_up_shows_errors_beside_the_field_and_signs_in() {
    let w = world().await;
    let mut visitor = Browser::new(&w.app);
    visitor.get("/signup").await;
    let short = visitor
        .post("/signup", &[("name", "newcomer"), ("password", "short")])
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("id=\"password-error\""), "{}", short.body);
    let taken = visitor
        .post("/signup", &[("name", "resident"), ("password", "long enough pass")])
        .await;
    assert!(taken.body.contains("id=\"name-error\""));
    let made = visitor
        .post("/signup", &[("name", "newcomer"), ("password", "long enough pass")])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let home = visitor.get("/").await;
    assert!(home.body.contains("newcomer"));
    let out = visitor.post("/signout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!visitor.get("/").await.body.contains("newcomer"));
    // The workbench asks for sign-in.
    assert_eq!(visitor.get("/cases").await.location, "/signin?next=/cases");
}

#[tokio::test]
async fn the_map_draws_the_territorys_units_and_the_assets_are_embedded() {
    let w = world().await;
    let mut visitor = Browser::new(&w.app);
    let areas = visitor.get("/map/areas.geojson").await;
    assert_eq!(areas.status, StatusCode::OK);
    let json: Value = serde_json::from_str(&areas.body).expect("geojson");
    assert_eq!(json["type"], "FeatureCollection");
    let names: Vec<&str> = json["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["name"].as_str())
        .collect();
    assert_eq!(names, ["月河街道", "朝阳街道"]);
    let grids = visitor.get(&format!("/map/areas.geojson?under={VILLAGE_A}")).await;
    assert!(grids.body.contains(&format!("{VILLAGE_A}-01")) && grids.body.contains("MultiPolygon"));
    for asset in [
        "/assets/vendor/leaflet/leaflet.js",
        "/assets/vendor/leaflet/leaflet.css",
        "/assets/vendor/htmx/htmx.min.js",
        "/assets/site.css",
        "/assets/report-map.js",
    ] {
        assert_eq!(visitor.get(asset).await.status, StatusCode::OK, "{asset}");
    }
    assert_eq!(visitor.get("/assets/nothing.js").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_queue_puts_the_least_time_left_first() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    for (kind, category) in [
        ("petition", "road_repair"),
        ("service_request", "road_repair"),
        ("complaint", "noise"),
        ("enquiry", "land"),
    ] {
        let r = json_call(
            &w.app,
            "POST",
            "/api/v1/cases",
            Some(&resident),
            Some(serde_json::json!({"kind": kind, "category": category, "description": "排序", "unit": VILLAGE_A})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let mut caseworker = Browser::new(&w.app);
    caseworker.sign_in("caseworker").await;
    let queue = caseworker.get("/cases").await;
    // The second cell of each row: the badge and the due time (`YYYY-MM-DD HH:MM` sorts as text).
    let dues: Vec<String> = queue
        .body
        .split("<tr><td><a href=\"/cases/")
        .skip(1)
        .filter_map(|row| row.split("<td>").nth(1))
        .map(|cell| cell.rsplit("</span>").next().unwrap_or_default())
        .map(|cell| cell.split("</td>").next().unwrap_or_default().trim().to_string())
        .collect();
    assert!(dues.len() >= 3, "{dues:?}");
    assert!(
        dues.iter().all(|d| !d.is_empty()),
        "every open case has a running clock: {dues:?}"
    );
    assert!(
        dues.windows(2).all(|p| p[0] <= p[1]),
        "not sorted by time left: {dues:?}"
    );
}

#[tokio::test]
async fn a_second_report_of_the_same_matter_offers_the_open_case_and_a_voice_counts_once() {
    let w = world().await;
    let mut first = Browser::new(&w.app);
    first.sign_in("other-resident").await;
    let case = report_through_the_form(&mut first, "other-resident", "村口路面塌陷").await;
    let mut second = Browser::new(&w.app);
    second.sign_in("resident").await;
    second.get("/report").await;
    let draft = [
        ("kind", "service_request"),
        ("category", "road_repair"),
        ("description", "村口有个大坑"),
        ("unit", VILLAGE_A),
        ("reporter_name", "张三"),
        ("reporter_contact", "13700009999"),
    ];
    // The same category in the same village: the open case is offered, with "add my voice", before anything is filed.
    let offered = second.post("/report", &draft).await;
    assert_eq!(offered.status, StatusCode::OK, "{}", offered.body);
    assert!(offered.body.contains(&format!("action=\"/cases/{case}/act\"")));
    assert!(offered.body.contains("村口路面塌陷") && offered.body.contains("file-anyway"));
    for secret in ["李四", "13900001234", "other-resident"] {
        assert!(!offered.body.contains(secret), "{secret} leaked among the duplicates");
    }
    let resident = sign_in(&w.app, "resident").await;
    let mine = json_call(&w.app, "GET", "/api/v1/cases", Some(&resident), None).await;
    assert_eq!(
        mine.json()["items"].as_array().map(Vec::len),
        Some(0),
        "nothing filed yet: {}",
        mine.text
    );

    let before = second.get(&format!("/cases/{case}")).await;
    assert!(before.body.contains("data-action=\"co_sign\""), "{}", before.body);
    let voiced = second
        .post(&format!("/cases/{case}/act"), &[("action", "co_sign")])
        .await;
    assert_eq!(voiced.status, StatusCode::SEE_OTHER, "{}", voiced.body);
    let page = second.get(&format!("/cases/{case}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("附议人数</dt><dd>1</dd>"), "{}", page.body);
    assert!(
        !page.body.contains("data-action=\"co_sign\""),
        "a voice once added is not offered again: {}",
        page.body
    );
    let owner = sign_in(&w.app, "other-resident").await;
    let detail = json_call(&w.app, "GET", &format!("/api/v1/cases/{case}"), Some(&owner), None).await;
    assert_eq!(detail.json()["co_signers"], 1, "{}", detail.text);
    assert!(
        !detail.text.contains("\"resident\""),
        "the co-signer's account is not in the log: {}",
        detail.text
    );

    // One voice per account; never on one's own case; never on a case the public cannot see.
    let again = second
        .post(&format!("/cases/{case}/act"), &[("action", "co_sign")])
        .await;
    assert!(
        again.status.is_client_error() && again.body.contains("每位居民只附议一次"),
        "{}",
        again.body
    );
    let own = json_call(
        &w.app,
        "POST",
        &format!("/api/v1/cases/{case}/actions"),
        Some(&owner),
        Some(serde_json::json!({"action": "co_sign"})),
    )
    .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
    let complaint = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&owner),
        Some(serde_json::json!({
            "kind": "complaint", "category": "road_repair", "description": "施工队扰民", "unit": VILLAGE_A
        })),
    )
    .await;
    assert_eq!(complaint.status, StatusCode::CREATED, "{}", complaint.text);
    let complaint = complaint.json()["id"].as_i64().expect("id");
    let hidden = json_call(
        &w.app,
        "POST",
        &format!("/api/v1/cases/{complaint}/actions"),
        Some(&resident),
        Some(serde_json::json!({"action": "co_sign"})),
    )
    .await;
    // A complaint the resident may not see answers as no case at all (issue 16: ids cannot be probed).
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);
    let detail = json_call(&w.app, "GET", &format!("/api/v1/cases/{complaint}"), Some(&owner), None).await;
    assert_eq!(detail.json()["co_signers"], 0);

    // A different matter after all: filed as new.
    let mut anyway = draft.to_vec();
    anyway.push(("confirmed", "1"));
    let filed = second.post("/report", &anyway).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    assert_ne!(filed.location, format!("/cases/{case}"));
}

/// A JPEG whose EXIF segment carries a position, as a phone writes it.
fn photo_with_position() -> Vec<u8> {
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(40, 30, image::Rgb([200, 80, 40])))
        .write_to(&mut std::io::Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .expect("jpeg");
    let payload = b"Exif\0\0GPSLatitude 30.8703 GPSLongitude 120.0934";
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

#[tokio::test]
async fn photos_are_checked_cleaned_attached_and_shown_only_to_who_may_see_the_case() {
    let w = world().await;
    let mut resident = Browser::new(&w.app);
    resident.sign_in("resident").await;
    resident.get("/report").await;
    let fields = |kind: &'static str| {
        vec![
            ("kind", kind),
            ("category", "road_repair"),
            ("description", "路面塌陷，见照片"),
            ("unit", VILLAGE_A),
            ("confirmed", "1"),
        ]
    };
    // Not an image: refused beside the photo field, nothing filed.
    let refused = resident
        .post_multipart(
            "/report",
            &fields("service_request"),
            &[("notes.txt", b"hello".to_vec())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("photos-error") && refused.body.contains("notes.txt 不是 JPEG 或 PNG 图片"));
    // Six photos: the sixth is refused by name of the limit, and the five are kept with the draft.
    let six: Vec<(&str, Vec<u8>)> = (0..6).map(|_| ("p.jpg", photo_with_position())).collect();
    let over = resident
        .post_multipart("/report", &fields("service_request"), &six)
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST, "{}", over.body);
    assert!(
        over.body.contains("最多附 5 张照片") && over.body.contains("5/5"),
        "{}",
        over.body
    );

    let filed = resident
        .post_multipart(
            "/report",
            &fields("service_request"),
            &[("road.jpg", photo_with_position())],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let case = filed.location.clone();
    let page = resident.get(&case).await;
    let thumb = attribute(&page.body, "class=\"photos\"", "src");
    assert!(thumb.starts_with("/photos/") && thumb.ends_with("/thumb"), "{thumb}");
    let full = thumb.trim_end_matches("/thumb").to_string();
    // Public kind: anyone may see the photo, and the position the phone wrote is gone.
    let mut anyone = Browser::new(&w.app);
    let response = anyone
        .app
        .clone()
        .oneshot(Request::builder().uri(&full).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/jpeg");
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    assert!(image::load_from_memory(&bytes).is_ok());
    assert!(!bytes.windows(11).any(|w| w == b"GPSLatitude") && !bytes.windows(4).any(|w| w == b"Exif"));
    assert_eq!(anyone.get(&thumb).await.status, StatusCode::OK);

    // A complaint's photo: its filer sees it; the public and another resident get the same 404 as for no photo.
    let complaint = resident
        .post_multipart("/report", &fields("complaint"), &[("c.jpg", photo_with_position())])
        .await;
    assert_eq!(complaint.status, StatusCode::SEE_OTHER, "{}", complaint.body);
    let page = resident.get(&complaint.location).await;
    let private = attribute(&page.body, "class=\"photos\"", "src");
    assert_eq!(resident.get(&private).await.status, StatusCode::OK);
    let mut other = Browser::new(&w.app);
    other.sign_in("other-resident").await;
    let hidden = other.get(&private).await;
    let absent = other.get("/photos/999999").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_eq!(anyone.get(&private).await.status, StatusCode::NOT_FOUND);
    assert_eq!(anyone.get("/photos/abc").await.status, StatusCode::NOT_FOUND);
}

/// The dashboard, the policy and the pilots are for the roles that read statistics: a resident and a caseworker are
/// refused, the public is sent to sign in; a head sees the units of their scope only, and every table downloads as CSV.
#[tokio::test]
async fn the_centre_pages_follow_the_roles_and_the_head_sees_only_their_units() {
    let w = super::governance_world().await;
    let mut resident = Browser::new(&w.app);
    let case = report_through_the_form(&mut resident, "resident", "路灯坏了，晚上很黑。").await;
    assert!(case > 0);
    let pages = ["/dashboard", "/policy", "/pilots", "/pilots/night-patrols"];
    let mut public = Browser::new(&w.app);
    for page in pages {
        let p = public.get(page).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{page}");
        assert!(p.location.starts_with("/signin"), "{page}: {}", p.location);
    }
    for account in ["resident", "caseworker"] {
        let mut b = Browser::new(&w.app);
        b.sign_in(account).await;
        for page in pages {
            assert_eq!(b.get(page).await.status, StatusCode::FORBIDDEN, "{account} {page}");
        }
        let home = b.get("/").await;
        assert!(
            !home.body.contains("href=\"/dashboard\""),
            "{account} is offered the dashboard"
        );
    }
    let mut head = Browser::new(&w.app);
    head.sign_in("office_head").await;
    assert!(head.get("/").await.body.contains("href=\"/dashboard\""));
    let today = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    let month = format!("{:04}-{:02}", today.year(), u8::from(today.month()));
    let dashboard = head.get(&format!("/dashboard?month={month}&group=village")).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert!(
        dashboard.body.contains(&format!("data-code=\"{VILLAGE_A}\"")),
        "{}",
        dashboard.body
    );
    let csv = head
        .get(&format!(
            "/dashboard?month={month}&group=village&format=csv&table=rates"
        ))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"rates-{month}-village.csv\"").as_str()
    );
    let mut lines = csv.body.lines();
    assert_eq!(lines.next().map(|l| l.split(',').count()), Some(9), "{}", csv.body);
    assert!(
        lines.all(|l| l.split(',').nth(1).is_some_and(|code| code.starts_with("330502001"))),
        "{}",
        csv.body
    );
    let overdue = head
        .get(&format!(
            "/dashboard?month={month}&group=village&format=csv&table=overdue"
        ))
        .await;
    assert_eq!(overdue.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let pilots = head.get("/pilots?format=csv").await;
    assert!(pilots.body.contains("night-patrols"), "{}", pilots.body);
    // A head of another township sees neither this village nor this pilot.
    let mut far = Browser::new(&w.app);
    far.sign_in("far-head").await;
    let dashboard = far.get(&format!("/dashboard?month={month}&group=village")).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(!dashboard.body.contains(VILLAGE_A), "{}", dashboard.body);
    assert_eq!(far.get("/pilots/night-patrols").await.status, StatusCode::FORBIDDEN);
    assert_eq!(far.get("/policy?unit=330502001").await.status, StatusCode::FORBIDDEN);
    // The pilot's page offers the steps its state allows to those who govern its owner.
    let pilot = head.get("/pilots/night-patrols").await;
    assert_eq!(pilot.status, StatusCode::OK, "{}", pilot.body);
    assert!(pilot.body.contains("data-action=\"start\"") && pilot.body.contains("data-action=\"abandon\""));
    assert!(!pilot.body.contains("data-action=\"expand\""));
}

/// A layer that breaks a guardrail is refused on the policy page, beside the field, naming the guardrail, its owner
/// and the article; nothing is saved.
#[tokio::test]
async fn a_guardrail_refusal_is_shown_beside_the_layer() {
    let w = super::governance_world().await;
    let mut head = Browser::new(&w.app);
    head.sign_in("office_head").await;
    let policy = head.get("/policy").await;
    assert_eq!(policy.status, StatusCode::OK, "{}", policy.body);
    assert!(policy.body.contains("id=\"layer-form\""), "the head governs the unit");
    let refused = head
        .post(
            "/policy/330502001",
            &[
                ("layer", "[clocks.petition]\nhandle_days = 365\n"),
                ("effective_from", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let error = &refused.body[refused
        .body
        .find("id=\"layer-error\"")
        .expect("the error beside the field")..];
    assert!(
        error.contains("data-guardrail=\"statute-petition-handling\""),
        "{error}"
    );
    assert!(error.contains("the statute") && error.contains("Art. 34"), "{error}");
    // Why it breaks the guardrail, in the page's language (Chinese by default).
    assert!(error.contains("这会使时限变为"), "{error}");
    assert!(
        refused.body.contains("handle_days = 365"),
        "the layer is kept in the form"
    );
    let saved = head
        .post(
            "/policy/330502001",
            &[("layer", "mediation.max_days = 18\n"), ("effective_from", "")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let policy = head.get(&saved.location).await;
    assert!(policy.body.contains("mediation.max_days"), "{}", policy.body);
    let mut analyst = Browser::new(&w.app);
    analyst.sign_in("analyst").await;
    let read = analyst.get("/policy?unit=330502001&key=mediation.max_days").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert!(
        !read.body.contains("id=\"layer-form\""),
        "an analyst reads and does not edit"
    );
    assert!(read.body.contains("id=\"explain\""));
    assert!(!read.body.contains("id=\"key-form\""), "nor one key");

    // One key at a time, beside its explanation: the rest of the layer stays; a refusal is shown at the key.
    let explained = head.get("/policy?unit=330502001&key=mediation.max_days").await;
    assert!(explained.body.contains("id=\"key-form\""), "{}", explained.body);
    assert!(
        explained.body.contains("value=\"18\""),
        "the form starts from the value: {}",
        explained.body
    );
    let set = head
        .post(
            "/policy/330502001/key",
            &[
                ("key", "clocks.petition.handle_days"),
                ("value", "365"),
                ("effective_from", ""),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", set.body);
    let error = &set.body[set.body.find("id=\"key-error\"").expect("the error beside the key")..];
    assert!(
        error.contains("data-guardrail=\"statute-petition-handling\""),
        "{error}"
    );
    let set = head
        .post(
            "/policy/330502001/key",
            &[
                ("key", "clocks.petition.handle_days"),
                ("value", "45"),
                ("effective_from", ""),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let policy = head.get(&set.location).await;
    let row = |key: &str| {
        let at = policy
            .body
            .find(&format!("data-key=\"{key}\""))
            .unwrap_or_else(|| panic!("no {key}"));
        policy.body[at..].split("</tr>").next().unwrap_or_default().to_string()
    };
    assert!(
        row("clocks.petition.handle_days").contains("<td>45</td>"),
        "{}",
        policy.body
    );
    assert!(
        row("mediation.max_days").contains("<td>18</td>"),
        "the rest of the layer stays"
    );
    let bad = head
        .post(
            "/policy/330502001/key",
            &[("key", "mediation.max_days.x"), ("value", "1")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("holds a value, not a table"), "{}", bad.body);
}

#[tokio::test]
async fn a_grid_worker_records_a_patrol_event_on_one_of_their_grids() {
    let w = world().await;
    let mut worker = Browser::new(&w.app);
    worker.sign_in("grid_worker").await;
    let home = worker.get("/").await;
    assert!(
        home.body.contains("href=\"/patrol\""),
        "the patrol link for grid workers"
    );
    let form = worker.get("/patrol").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let grid = attribute(&form.body, "<option value=\"330502001", "value");
    assert!(grid.starts_with(VILLAGE_A) || grid.starts_with("330502001"), "{grid}");
    let refused = worker
        .post(
            "/patrol",
            &[
                ("grid", "999-01"),
                ("category", "hazard_patrol"),
                ("description", "井盖缺失"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("grid-error"));
    let filed = worker
        .post(
            "/patrol",
            &[
                ("grid", &grid),
                ("category", "hazard_patrol"),
                ("description", "巡查发现井盖缺失"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let id: i64 = filed.location.trim_start_matches("/cases/").parse().expect("case id");
    let token = sign_in(&w.app, "grid_worker").await;
    let detail = json_call(&w.app, "GET", &format!("/api/v1/cases/{id}"), Some(&token), None).await;
    assert_eq!(detail.json()["case"]["kind"], "patrol_event", "{}", detail.text);
    assert_eq!(detail.json()["case"]["channel"], "patrol", "{}", detail.text);
    let again = worker.get("/patrol").await;
    assert!(
        again.body.contains(&format!("/cases/{id}\"")),
        "listed among the recent patrols"
    );
    // The category's questions, as on the report form: shown without JavaScript by the button, a refused answer
    // beside its field, the answers filed with the event.
    let shown = worker
        .post(
            "/patrol",
            &[
                ("grid", &grid),
                ("category", "street_lighting"),
                ("show_questions", "1"),
            ],
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains("name=\"answer_lamp_number\""), "{}", shown.body);
    let refused = worker
        .post(
            "/patrol",
            &[
                ("grid", &grid),
                ("category", "street_lighting"),
                ("description", "路灯不亮"),
                ("answer_fault", "exploded"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"answer_fault-error\""), "{}", refused.body);
    let filed = worker
        .post(
            "/patrol",
            &[
                ("grid", &grid),
                ("category", "street_lighting"),
                ("description", "路灯不亮"),
                ("answer_fault", "dark"),
                ("answer_lamp_number", "L-0427"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let id: i64 = filed.location.trim_start_matches("/cases/").parse().expect("case id");
    let detail = json_call(&w.app, "GET", &format!("/api/v1/cases/{id}"), Some(&token), None).await;
    assert_eq!(detail.json()["answers"]["fault"], "dark", "{}", detail.text);
    assert_eq!(detail.json()["answers"]["lamp_number"], "L-0427", "{}", detail.text);
    let mut resident = Browser::new(&w.app);
    resident.sign_in("resident").await;
    assert_eq!(resident.get("/patrol").await.status, StatusCode::FORBIDDEN);
    assert!(!resident.get("/").await.body.contains("href=\"/patrol\""));
}

/// Issue 11: the report form asks the chosen category's questions — swapped in by htmx, or by the no-script button
/// that shows the form again without filing — carries the answers through sign-in, shows a refused answer beside its
/// field, and the case page shows them in the page's language.
#[tokio::test]
async fn a_category_s_questions_are_asked_carried_through_sign_in_and_shown_on_the_case() {
    let w = world().await;
    let mut visitor = Browser::new(&w.app);
    let fragment = visitor.get("/report/questions?category=road_repair").await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(
        fragment.body.contains("name=\"answer_hazard\"") && fragment.body.contains("value=\"pothole\""),
        "{}",
        fragment.body
    );
    let none = visitor.get("/report/questions?category=garbage").await;
    assert!(!none.body.contains("answer_"), "garbage asks nothing: {}", none.body);

    visitor.get("/report").await;
    let mut draft = vec![
        ("kind", "service_request"),
        ("category", "road_repair"),
        ("description", "路面有坑"),
        ("unit", VILLAGE_A),
        ("confirmed", "1"),
    ];
    let mut shown = draft.clone();
    shown.push(("show_questions", "1"));
    let page = visitor.post("/report", &shown).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"answer_hazard\""), "{}", page.body);
    assert!(!page.body.contains("/report/signin"), "nothing is filed: {}", page.body);

    let mut wrong = draft.clone();
    wrong.push(("answer_hazard", "volcano"));
    let mut resident = Browser::new(&w.app);
    resident.sign_in("resident").await;
    resident.get("/report").await;
    let refused = resident.post("/report", &wrong).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"answer_hazard-error\"") && refused.body.contains("volcano"),
        "the error is beside the field: {}",
        refused.body
    );

    draft.push(("answer_hazard", "pothole"));
    let asked = visitor.post("/report", &draft).await;
    assert!(
        asked.body.contains("name=\"answer_hazard\" value=\"pothole\""),
        "the answer rides through sign-in: {}",
        asked.body
    );
    let mut with_credentials = draft.clone();
    with_credentials.extend([("name", "resident"), ("password", PASSWORD)]);
    let filed = visitor.post("/report/signin", &with_credentials).await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let case = visitor.get(&filed.location).await;
    assert!(
        case.body.contains("路面问题") && case.body.contains("坑洼"),
        "{}",
        case.body
    );
    let english = visitor.get(&format!("{}?lang=en", filed.location)).await;
    assert!(english.body.contains("Pothole"), "{}", english.body);
}

/// Issue 11: the queue sorts every matching case, not only the oldest page of them: a service request filed after
/// more than a page's worth (500) of petitions, whose clock runs out first, heads the queue.
#[tokio::test]
async fn the_most_urgent_case_heads_the_queue_behind_more_than_a_page_of_older_ones() {
    use domain::case::Location;
    use domain::{CaseEvent, CaseKind, Channel, EventKind, NewCase};

    let w = world().await;
    let now = time::OffsetDateTime::now_utc();
    let record = |kind: CaseKind, minutes_ago: i64| store::NewCaseRecord {
        case: NewCase {
            kind,
            channel: Channel::Visit,
            category: "road_repair".into(),
            description: "排队".into(),
            location: Location {
                lat: None,
                lon: None,
                unit: super::code(VILLAGE_A),
                grid: None,
            },
            reporter: None,
            co_signers: 0,
            answers: Default::default(),
        },
        events: vec![CaseEvent {
            at: now - time::Duration::minutes(minutes_ago),
            actor: "intake".into(),
            kind: EventKind::Created {
                office: "330502001:gov".into(),
            },
        }],
        clocks: Default::default(),
    };
    let older = app::workflow::MAX_PAGE_SIZE as i64 + 5;
    let mut records: Vec<_> = (0..older).map(|i| record(CaseKind::Petition, 600 - i)).collect();
    records.push(record(CaseKind::ServiceRequest, 1));
    let ids = w
        .store
        .insert_cases(&records, &store::FixedRules::default())
        .await
        .expect("cases");
    let urgent = ids.last().copied().expect("the service request");
    let mut caseworker = Browser::new(&w.app);
    caseworker.sign_in("caseworker").await;
    let queue = caseworker.get("/cases").await;
    let first = queue
        .body
        .split("<tr><td><a href=\"/cases/")
        .nth(1)
        .and_then(|row| row.split('"').next())
        .unwrap_or_default()
        .to_string();
    assert_eq!(first, urgent.to_string(), "7 days to answer beat 15 days to accept");
}
