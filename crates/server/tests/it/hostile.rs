//! Hostile clients (issue 16 §4): probing case ids, oversized bodies, floods per address and per key, SQL-like and
//! script-like text in every field, session fixation, forged forms, password guessing, and a client that trickles its
//! headers (slow-loris) against the server on a real socket. Each test is quick; the only waits are generous timeouts
//! that detect a hang.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::web::Browser;
use super::{PASSWORD, POINT_A, VILLAGE_A, World, call, form, json_call, resident_case, sign_in, world, world_with};
use server::ratelimit::Limit;

/// The body with each number that is one of the two ids compared written `{id}`: "no case 7" and "no case 1007" are
/// the same answer about two different ids. Whole digit runs only, so a page's other numbers stay as they are.
fn about_any_id(text: &str, ids: [i64; 2]) -> String {
    let ids = ids.map(|id| id.to_string());
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if ids.contains(digits) {
            out.push_str("{id}");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// A case `audience` may not see and an id never issued get the same status and the same body, on every route that
/// takes a case id.
#[tokio::test]
async fn a_case_not_yours_answers_as_one_that_does_not_exist() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    // A complaint: not public, so only its filer and the staff of its place see it.
    let hidden = resident_case(&w, &resident).await;
    let missing = hidden + 1_000;
    let ids = [hidden, missing];
    for account in [None, Some("other-resident"), Some("far-caseworker"), Some("far-head")] {
        let token = match account {
            Some(name) => Some(sign_in(&w.app, name).await),
            None => None,
        };
        let who = account.unwrap_or("the public");
        let routes: [(&str, &str, Option<Value>); 5] = [
            ("GET", "/api/v1/cases/{id}", None),
            ("POST", "/api/v1/cases/{id}/actions", Some(json!({"action": "accept"}))),
            (
                "POST",
                "/api/v1/cases/{id}/actions",
                Some(json!({"action": "rate", "rating": "satisfied"})),
            ),
            ("POST", "/api/v1/cases/{id}/actions", Some(json!({"action": "co_sign"}))),
            ("GET", "/api/v1/cases/{id}/audit", None),
        ];
        for (method, route, body) in routes {
            let ask = |id: i64| {
                let uri = route.replace("{id}", &id.to_string());
                let (app, token, body) = (w.app.clone(), token.clone(), body.clone());
                async move { json_call(&app, method, &uri, token.as_deref(), body).await }
            };
            let (a, b) = (ask(hidden).await, ask(missing).await);
            assert_eq!(a.status, b.status, "{who} {method} {route}: {} vs {}", a.text, b.text);
            assert_eq!(
                about_any_id(&a.text, ids),
                about_any_id(&b.text, ids),
                "{who} {method} {route}"
            );
            if account.is_none() {
                assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{who} {method} {route}");
            } else if route.ends_with("/audit") && account != Some("other-resident") {
                // Staff never read a resident's audit here, whatever the id: the refusal says nothing of the case.
                assert_eq!(a.status, StatusCode::FORBIDDEN, "{who} {method} {route}: {}", a.text);
            } else {
                assert_eq!(a.status, StatusCode::NOT_FOUND, "{who} {method} {route}: {}", a.text);
            }
        }
        // The web case page, signed in as the same account (or as nobody).
        let mut browser = Browser::new(&w.app);
        // A visit first, for the forms' token: a refusal of the token would answer before the case is looked at.
        browser.get("/").await;
        if let Some(name) = account {
            browser.sign_in(name).await;
        }
        let (a, b) = (
            browser.get(&format!("/cases/{hidden}")).await,
            browser.get(&format!("/cases/{missing}")).await,
        );
        assert_eq!(a.status, b.status, "{who} web case page");
        assert_eq!(
            about_any_id(&a.body, ids),
            about_any_id(&b.body, ids),
            "{who} web case page"
        );
        if account.is_some() {
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{who} web case page");
        }
        // The case's action form, posted with a valid token.
        let (a, b) = (
            browser
                .post(&format!("/cases/{hidden}/act"), &[("action", "accept")])
                .await,
            browser
                .post(&format!("/cases/{missing}/act"), &[("action", "accept")])
                .await,
        );
        assert_eq!(a.status, b.status, "{who} web act");
        assert_eq!(about_any_id(&a.body, ids), about_any_id(&b.body, ids), "{who} web act");
    }
    // Open311 and the portal answer for the public: a complaint is never one of its requests.
    for uri in [
        "/open311/v2/requests/{id}.json",
        "/open311/v2/requests/{id}.xml",
        "/portal/cases/{id}",
    ] {
        let ask = |id: i64| {
            let uri = uri.replace("{id}", &id.to_string());
            let app = w.app.clone();
            async move { call(&app, "GET", &uri, None, Body::empty(), "").await }
        };
        let (a, b) = (ask(hidden).await, ask(missing).await);
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}: {}", a.text);
        assert_eq!(a.status, b.status, "{uri}");
        assert_eq!(about_any_id(&a.text, ids), about_any_id(&b.text, ids), "{uri}");
    }
    // Those who see the case still hear why a step is refused (the mediator's role has no "accept").
    let mediator = sign_in(&w.app, "mediator").await;
    let r = json_call(
        &w.app,
        "POST",
        &format!("/api/v1/cases/{hidden}/actions"),
        Some(&mediator),
        Some(json!({"action": "accept"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

/// A body over the limit is refused with 413 before anything is read into a case; nothing is stored.
#[tokio::test]
async fn an_oversized_body_is_refused_and_nothing_is_stored() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    let before = w.store.count_cases().await.expect("count");
    let huge = "路".repeat(20 * 1024);
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&resident),
        Some(json!({
            "kind": "service_request", "category": "street_lighting", "description": huge,
            "lat": POINT_A.0, "lon": POINT_A.1
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    let body = format!(
        "api_key={}&service_code=street_lighting&lat={}&long={}&description={}",
        w.api_key,
        POINT_A.0,
        POINT_A.1,
        "x".repeat(64 * 1024)
    );
    let r = form(&w.app, "/open311/v2/requests.json", &body).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    // A body that claims to be small but is not: the limit counts the bytes, not the header.
    let r = call(
        &w.app,
        "POST",
        "/api/v1/sessions",
        None,
        Body::from(format!("{{\"name\":\"{}\",\"password\":\"x\"}}", "a".repeat(64 * 1024))),
        "application/json",
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(
        w.store.count_cases().await.expect("count"),
        before,
        "nothing was stored"
    );
}

/// The text a browser shows for HTML: character references (`&#60;`, `&lt;` …) decoded.
fn unescape_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|end| *end <= 10);
        let decoded = end.and_then(|end| match &rest[1..end] {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            numeric => numeric
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| numeric.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        });
        match (decoded, end) {
            (Some(c), Some(end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

const SQL_LIKE: &str = "'); DROP TABLE cases; DELETE FROM case_events WHERE '1'='1'; --";
const SCRIPT_LIKE: &str = "<script>alert(\"x\")</script><img src=x onerror=alert(1)>";

/// Text that looks like SQL or script, in every free-text field of a report: stored and shown exactly as typed (the
/// JSON says it verbatim, the pages escape it), never executed (every table is still there and still written).
#[tokio::test]
async fn sql_and_script_text_is_kept_verbatim_and_never_run() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    let description = format!("{SQL_LIKE} {SCRIPT_LIKE}");
    let name = format!("{SCRIPT_LIKE}'--");
    let contact = format!("{SQL_LIKE}\"");
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&resident),
        Some(json!({
            "kind": "service_request", "category": "street_lighting", "description": description,
            "lat": POINT_A.0, "lon": POINT_A.1, "reporter_name": name, "reporter_contact": contact,
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_i64().expect("id");
    let r = json_call(&w.app, "GET", &format!("/api/v1/cases/{id}"), Some(&resident), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let case = r.json();
    assert_eq!(case["description"], description.as_str(), "{}", r.text);
    assert_eq!(case["reporter"]["name"], name.as_str(), "{}", r.text);
    assert_eq!(case["reporter"]["contact"], contact.as_str(), "{}", r.text);
    // A hostile value where a closed set is expected is refused by name, and nothing is filed.
    for (field, value) in [("category", SQL_LIKE), ("kind", SCRIPT_LIKE), ("unit", SQL_LIKE)] {
        let mut body = json!({
            "kind": "service_request", "category": "street_lighting", "description": "ok",
            "lat": POINT_A.0, "lon": POINT_A.1,
        });
        body[field] = json!(value);
        if field == "unit" {
            body.as_object_mut().map(|o| (o.remove("lat"), o.remove("lon")));
        }
        let r = json_call(&w.app, "POST", "/api/v1/cases", Some(&resident), Some(body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.text);
        assert!(r.text.contains(field), "{field}: the error names the field: {}", r.text);
    }
    // Open311: description, names, e-mail, phone and address.
    let fields = [
        ("api_key", w.api_key.as_str()),
        ("service_code", "street_lighting"),
        ("lat", "30.87"),
        ("long", "120.08"),
        ("description", description.as_str()),
        ("first_name", SCRIPT_LIKE),
        ("last_name", "'; DROP TABLE cases; --"),
        ("email", "x@y.cn"),
        ("phone", "' OR 1=1; --"),
        ("address_string", SCRIPT_LIKE),
    ];
    let body = serde_urlencoded::to_string(fields).expect("form");
    let r = form(&w.app, "/open311/v2/requests.json", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let open311_id = r.json()[0]["service_request_id"].as_str().expect("id").to_string();
    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/requests/{open311_id}.json"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()[0]["description"], description.as_str(), "{}", r.text);
    let xml = call(
        &w.app,
        "GET",
        &format!("/open311/v2/requests/{open311_id}.xml"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert!(!xml.text.contains("<script>"), "XML escapes: {}", xml.text);
    assert!(xml.text.contains("&lt;script&gt;"), "{}", xml.text);
    // The pages show the text escaped: as the filer, and to the public on the portal.
    let mut browser = Browser::new(&w.app);
    browser.sign_in("resident").await;
    let mut pages = vec![browser.get(&format!("/cases/{id}")).await];
    pages.push(Browser::new(&w.app).get(&format!("/portal/cases/{id}")).await);
    for page in pages {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(!page.body.contains("<script>alert"), "unescaped script: {}", page.body);
        assert!(!page.body.contains("<img src=x"), "unescaped tag: {}", page.body);
        let shown = unescape_html(&page.body);
        assert!(shown.contains(&description), "the description as typed: {}", page.body);
    }
    // Nothing ran: every case is there with its log, and the tables still take writes.
    let again = resident_case(&w, &resident).await;
    for case in [id, again, open311_id.parse().expect("numeric id")] {
        let record = w.store.load_case(case).await.expect("case still there");
        assert!(!record.events.is_empty(), "case {case} keeps its log");
    }
    assert_eq!(w.store.count_cases().await.expect("count"), 3);
}

/// A session token a client brings before signing in is never the one it has after; the cookie is HttpOnly and
/// SameSite, and Secure when the server is behind HTTPS.
#[tokio::test]
async fn a_session_is_never_fixed_by_the_client() {
    for secure in [false, true] {
        let w = world_with(|c| c.secure_cookies = secure).await;
        let planted = "grs_0000000000000000000000000000000000000000000000000000000000000000";
        let mut browser = Browser::new(&w.app);
        browser.cookies.insert("grassroots_session".into(), planted.into());
        browser.get("/signin").await;
        let page = browser
            .post(
                "/signin",
                &[("name", "resident"), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let issued = browser.cookies.get("grassroots_session").cloned().unwrap_or_default();
        assert!(issued.starts_with("grs_") && issued != planted, "a new token: {issued}");
        let set_cookie: Vec<&str> = page
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with("grassroots_session="))
            .collect();
        assert_eq!(set_cookie.len(), 1, "{set_cookie:?}");
        let cookie = set_cookie[0];
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
        // The planted token grants nothing; the issued one is the account's.
        let r = json_call(&w.app, "GET", "/api/v1/me", Some(planted), None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        let r = json_call(&w.app, "GET", "/api/v1/me", Some(&issued), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // Signing in again (the API this time) gives yet another token.
        let second = sign_in(&w.app, "resident").await;
        assert_ne!(second, issued);
    }
}

/// A form posted without the page's token, or with another visitor's, is refused and changes nothing.
#[tokio::test]
async fn a_forged_form_changes_nothing() {
    let w = world().await;
    let resident = sign_in(&w.app, "resident").await;
    let case = resident_case(&w, &resident).await;
    let events_before = w.store.load_case(case).await.expect("case").events.len();
    let mut caseworker = Browser::new(&w.app);
    caseworker.sign_in("caseworker").await;
    let mut other = Browser::new(&w.app);
    other.get("/").await;
    let others_token = other.cookies.get("grassroots_csrf").cloned().expect("token");
    let cases_before = w.store.count_cases().await.expect("count");
    let act = format!("/cases/{case}/act");
    let posts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (act.as_str(), vec![("action", "accept")]),
        (act.as_str(), vec![("csrf", ""), ("action", "accept")]),
        (
            act.as_str(),
            vec![("csrf", others_token.as_str()), ("action", "accept")],
        ),
        (
            "/report",
            vec![
                ("csrf", others_token.as_str()),
                ("kind", "service_request"),
                ("category", "road_repair"),
                ("description", "forged"),
                ("unit", VILLAGE_A),
                ("confirmed", "1"),
            ],
        ),
        ("/signout", vec![("csrf", others_token.as_str())]),
    ];
    for (uri, fields) in posts {
        let page = caseworker.send("POST", uri, Some(&fields)).await;
        assert!(
            page.status.is_client_error(),
            "{uri} {fields:?}: {} {}",
            page.status,
            page.body
        );
    }
    assert_eq!(
        w.store.load_case(case).await.expect("case").events.len(),
        events_before,
        "the case's log is unchanged"
    );
    assert_eq!(
        w.store.count_cases().await.expect("count"),
        cases_before,
        "nothing was filed"
    );
    // The forged sign-out did not end the session.
    assert_eq!(caseworker.get("/cases").await.status, StatusCode::OK);
}

async fn try_sign_in(w: &World, name: &str, password: &str) -> super::Reply {
    json_call(
        &w.app,
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({"name": name, "password": password})),
    )
    .await
}

/// Guessing a password: five tries, then each further one waits twice as long (429 with Retry-After), the right
/// password included; an unknown name is throttled the same way (the throttle does not reveal names); parallel
/// guesses get no more tries than sequential ones; many names from one address are throttled by the address.
#[tokio::test]
async fn password_guessing_is_throttled_per_account_and_per_address() {
    let w = world().await;
    for name in ["caseworker", "ghost-account"] {
        for attempt in 1..=5 {
            let r = try_sign_in(&w, name, "wrong-password").await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{name} attempt {attempt}: {}",
                r.text
            );
        }
        let r = try_sign_in(&w, name, "wrong-password").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}: {}", r.text);
        assert_eq!(r.json()["error"], "sign_in_throttled", "{}", r.text);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap_or_default()
                .contains("too many failed sign-ins for this name"),
            "{}",
            r.text
        );
        let r = try_sign_in(&w, name, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the right password waits too: {}",
            r.text
        );
    }
    // Another account is not affected; its successful sign-in does not reset anyone else's count.
    sign_in(&w.app, "office_head").await;
    // Parallel guesses on a fresh name: at most five are checked.
    let guesses = (0..16).map(|_| {
        let app = w.app.clone();
        async move {
            json_call(
                &app,
                "POST",
                "/api/v1/sessions",
                None,
                Some(json!({"name": "mediator", "password": "wrong-password"})),
            )
            .await
            .status
        }
    });
    let statuses = futures_join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + throttled, statuses.len(), "{statuses:?}");
    assert!(checked <= 5, "{checked} parallel guesses were checked: {statuses:?}");
    // One address guessing across many names: 50 failures are free (a village office shares an address), then the
    // address waits whatever name it types. The two names above already failed 10 times and 5 more ran in parallel.
    let mut address_throttled = None;
    for n in 0..60 {
        let r = try_sign_in(&w, &format!("nobody-{n}"), "wrong-password").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            address_throttled = Some((n, r.text));
            break;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    let (n, text) = address_throttled.expect("the address is throttled");
    assert!(n >= 30, "throttled after only {n} fresh names");
    assert!(text.contains("from this address"), "{text}");
}

/// Runs every future as its own task and collects their outputs in order.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

/// Serves `w` on a real loopback socket; its address.
async fn serve(w: &World) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(server::serve::serve_on(
        listener,
        w.state.clone(),
        std::future::pending(),
    ));
    address
}

/// One HTTP/1.1 request from `source` (a loopback address of its own, so the server sees a distinct client); the
/// status code and the whole response.
async fn request_from(source: &str, server: SocketAddr, head: &str) -> (u16, String) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{source}:0").parse().expect("source"))
        .expect("bind source");
    let mut stream = socket.connect(server).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
        .await
        .expect("the server answers")
        .expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

const HEALTH: &str = "GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

/// A flood from one address is refused with 429 and Retry-After while another address is still served; a flood
/// with one session token or API key is refused while another token is served.
#[tokio::test]
async fn floods_are_limited_per_address_and_per_key_and_others_are_served() {
    let w = world_with(|c| {
        c.ip_limit = Limit {
            burst: 20.0,
            per_second: 0.01,
        };
        c.key_limit = Limit {
            burst: 5.0,
            per_second: 0.01,
        };
    })
    .await;
    let server = serve(&w).await;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(request_from("127.0.0.2", server, HEALTH).await);
    }
    let ok = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(
        ok,
        20,
        "the burst and no more: {:?}",
        statuses.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    let (status, text) = statuses.last().expect("last");
    assert_eq!(*status, 429, "{text}");
    assert!(text.to_ascii_lowercase().contains("retry-after:"), "{text}");
    let (status, text) = request_from("127.0.0.3", server, HEALTH).await;
    assert_eq!(status, 200, "another address is served: {text}");

    // Per key: in-process (one address, unlimited here only for keys' sake the address limit is not reached: 5 + 2
    // requests each).
    let w = world_with(|c| {
        c.key_limit = Limit {
            burst: 5.0,
            per_second: 0.01,
        };
    })
    .await;
    let flooder = sign_in(&w.app, "resident").await;
    let other = sign_in(&w.app, "other-resident").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            json_call(&w.app, "GET", "/api/v1/me", Some(&flooder), None)
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    let r = json_call(&w.app, "GET", "/api/v1/me", Some(&other), None).await;
    assert_eq!(r.status, StatusCode::OK, "another token is served: {}", r.text);
    // An Open311 key: its sixth post is refused, and nothing beyond the fifth is filed.
    let before = w.store.count_cases().await.expect("count");
    let body = format!(
        "api_key={}&service_code=street_lighting&lat={}&long={}&description=flood",
        w.api_key, POINT_A.0, POINT_A.1
    );
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(form(&w.app, "/open311/v2/requests.json", &body).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert_eq!(w.store.count_cases().await.expect("count"), before + 5);
}

/// A client that sends its headers a byte at a time is cut off by the header-read timeout, while another client is
/// served meanwhile.
#[tokio::test]
async fn a_slow_loris_is_cut_off_and_others_are_served() {
    let w = world_with(|c| c.header_timeout_secs = 1).await;
    let server = serve(&w).await;
    let mut slow = TcpStream::connect(server).await.expect("connect");
    let trickle = async {
        for byte in b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: "
            .iter()
            .chain(std::iter::repeat(&b'a'))
        {
            if slow.write_all(&[*byte]).await.is_err() {
                return "write refused";
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            // The server closes the connection: a read returns end of stream (or a reset).
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return "closed",
                Ok(Ok(_)) => return "answered",
                Err(_) => {}
            }
        }
        "never"
    };
    let served = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        request_from("127.0.0.1", server, HEALTH).await
    };
    let (outcome, (status, text)) =
        tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(trickle, served) })
            .await
            .expect("the slow client was cut off within 30 s");
    assert_eq!(status, 200, "another client is served meanwhile: {text}");
    assert!(outcome == "closed" || outcome == "write refused", "{outcome}");
}
