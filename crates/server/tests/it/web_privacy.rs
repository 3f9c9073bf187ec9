//! The privacy sweep of the web pages: a resident with a distinctive account files a public service request through
//! the report form and a complaint about their village, both carrying their typed name, phone and ID number; then every
//! page, fragment and feed the router serves (home, report, sign-in and sign-up, my cases or the queue, each case page
//! and its htmx fragment, alerts, the map's GeoJSON, the portal's pages, the unit map's GeoJSON, the Atom feed and the
//! public case pages) is fetched as each audience, and each identifier is looked for where that audience may not see
//! it. The REST and Open311 sweep (`workflow::no_audience_sees_an_identifier_it_may_not`) is the same matrix.

use axum::http::StatusCode;
use serde_json::json;

use super::web::Browser;
use super::{POINT_A, VILLAGE_A, json_call, sign_in, world};

const ACCOUNT: &str = "wangfang88";
const NAME: &str = "王芳";
const PHONE: &str = "13900000000";
const ID_NUMBER: &str = "330502199001011234";

/// What a page shows as its own: the `<main>` element of an HTML page (the header names the signed-in account), else
/// the whole body (GeoJSON, Atom).
fn shown(content_type: &str, body: &str) -> String {
    if !content_type.starts_with("text/html") {
        return body.to_string();
    }
    match (body.find("<main"), body.rfind("</main>")) {
        (Some(start), Some(end)) if start < end => body[start..end].to_string(),
        _ => body.to_string(),
    }
}

/// One audience of the sweep: who, and whether staff rules let them see the person behind each case.
struct Audience {
    account: Option<&'static str>,
    /// Sees the reporter of the public service request (in the village complained about in the other case).
    sees_request: bool,
    /// Sees the reporter of the complaint about the village.
    sees_complaint: bool,
}

const fn audience(account: Option<&'static str>, sees_request: bool, sees_complaint: bool) -> Audience {
    Audience {
        account,
        sees_request,
        sees_complaint,
    }
}

#[tokio::test]
async fn no_web_page_shows_an_identifier_to_an_audience_that_may_not_see_it() {
    let w = world().await;
    // 1. The resident reports a broken street light through the form, pinned on the map, with their identifiers.
    let mut filer = Browser::new(&w.app);
    filer.sign_in(ACCOUNT).await;
    filer.get("/report").await;
    let description = format!("路灯坏了 请回电{PHONE} {NAME} 身份证{ID_NUMBER}");
    let lat = POINT_A.0.to_string();
    let lon = POINT_A.1.to_string();
    // The identifiers typed into an answer to the category's question too: answers are free text like the description.
    let lamp = format!("{NAME} {PHONE} {ID_NUMBER}");
    let filed = filer
        .post(
            "/report",
            &[
                ("kind", "service_request"),
                ("category", "street_lighting"),
                ("description", &description),
                ("unit", ""),
                ("lat", &lat),
                ("lon", &lon),
                ("reporter_name", NAME),
                ("reporter_contact", PHONE),
                ("answer_lamp_number", &lamp),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let request: i64 = filed.location.trim_start_matches("/cases/").parse().expect("case id");
    // 2. A complaint about their village (the report form offers no complained unit: the API files it, through the
    //    same intake).
    let token = sign_in(&w.app, ACCOUNT).await;
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&token),
        Some(
            json!({"kind": "complaint", "category": "street_lighting", "lat": POINT_A.0, "lon": POINT_A.1,
                    "description": format!("我是{NAME}，电话{PHONE}，身份证{ID_NUMBER}，村委不修路灯"),
                    "reporter_name": NAME, "reporter_contact": PHONE, "complained_unit": VILLAGE_A,
                    "answers": {"lamp_number": lamp}}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let complaint = r.json()["id"].as_i64().expect("id");
    // 3. The village accepts the request and replies repeating the phone number; the resident rates.
    let holder = sign_in(&w.app, "village-caseworker").await;
    for (who, body) in [
        (&holder, json!({"action": "accept"})),
        (
            &holder,
            json!({"action": "reply", "text": format!("已致电{NAME}{PHONE}，明日修复")}),
        ),
        (&token, json!({"action": "rate", "rating": "satisfied"})),
    ] {
        let r = json_call(
            &w.app,
            "POST",
            &format!("/api/v1/cases/{request}/actions"),
            Some(who),
            Some(body),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    let pages: Vec<String> = [
        "/",
        "/?lang=en",
        "/report",
        "/signin",
        "/signup",
        "/cases",
        "/cases?state=",
        "/alerts",
        "/map/areas.geojson",
        "/map/areas.geojson?under=330502001&grids=true",
        "/portal",
        "/portal/rates",
        "/portal/rates?group=village",
        "/portal/pilots",
        "/portal/units/3305",
        "/portal/units/330502001",
        "/portal/units/330502001?lang=en",
        "/portal/units/330502001/cases.geojson",
        "/portal/units/330502001/feed.atom",
    ]
    .into_iter()
    .map(str::to_string)
    .chain(
        [request, complaint]
            .into_iter()
            .flat_map(|c| [format!("/cases/{c}"), format!("/portal/cases/{c}")]),
    )
    .chain([
        format!("/portal/units/{VILLAGE_A}"),
        format!("/portal/units/{VILLAGE_A}/cases.geojson"),
        format!("/portal/units/{VILLAGE_A}/feed.atom"),
    ])
    .collect();
    let audiences = [
        audience(None, false, false),
        audience(Some(ACCOUNT), true, true),
        audience(Some("other-resident"), false, false),
        audience(Some("grid_worker"), true, true),
        audience(Some("caseworker"), true, true),
        audience(Some("mediator"), true, true),
        audience(Some("office_head"), true, true),
        audience(Some("analyst"), false, false),
        audience(Some("administrator"), false, false),
        audience(Some("far-caseworker"), false, false),
        audience(Some("far-head"), false, false),
        // The village office complained about: it holds the request, so it sees that reporter, never the complaint's.
        audience(Some("village-caseworker"), true, false),
        audience(Some("county-head"), true, true),
        audience(Some("prefecture-head"), true, true),
    ];
    let mut checked = 0;
    let mut seen = 0;
    for who in &audiences {
        let mut browser = Browser::new(&w.app);
        if let Some(account) = who.account {
            browser.sign_in(account).await;
        }
        for fragment in [false, true] {
            browser.htmx = fragment;
            for uri in &pages {
                let page = browser.get(uri).await;
                assert!(
                    page.status.as_u16() < 500,
                    "{:?} {uri}: {} {}",
                    who.account,
                    page.status,
                    page.body
                );
                let text = shown(&page.content_type, &page.body);
                // Only the staff case page and the filer's own case page may show the person; the portal's pages are
                // the public's, whoever looks.
                let may_show = |case: i64, sees: bool| sees && *uri == format!("/cases/{case}");
                let allowed = may_show(request, who.sees_request) || may_show(complaint, who.sees_complaint);
                // Those who may see the person do (the sweep looks where the identifiers are).
                if allowed {
                    assert!(
                        text.contains(PHONE),
                        "{:?} misses the phone on {uri}: {text}",
                        who.account
                    );
                    seen += 1;
                }
                for id in [NAME, PHONE, ID_NUMBER] {
                    assert!(
                        allowed || !text.contains(id),
                        "{:?} got {id:?} from {uri} (htmx {fragment}, {}): {text}",
                        who.account,
                        page.status
                    );
                    checked += 1;
                }
                // The account name never shows in what a page says about a case, not even to the filer.
                assert!(
                    !text.contains(ACCOUNT),
                    "{:?} got the account from {uri}: {text}",
                    who.account
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 2_000, "swept {checked} (audience, page, identifier) cells");
    assert!(seen >= 30, "the person was shown where allowed {seen} times");

    // The portal shows the request, at its grid's centre, and never the complaint.
    let mut public = Browser::new(&w.app);
    let list = public.get("/portal/units/330502001").await;
    assert!(
        list.body.contains(&format!("href=\"/portal/cases/{request}\"")),
        "{}",
        list.body
    );
    assert!(!list.body.contains(&format!("/portal/cases/{complaint}\"")));
    assert!(
        list.body
            .contains("<link rel=\"alternate\" type=\"application/atom+xml\"")
            && list.body.contains("href=\"/portal/units/330502001/feed.atom\""),
        "the unit page links its feed"
    );
    let feed = public.get("/portal/units/330502001/feed.atom").await;
    assert!(feed.content_type.starts_with("application/atom+xml"));
    assert!(
        feed.body.contains(&format!("urn:grassroots:case:{request}")),
        "{}",
        feed.body
    );
    assert!(!feed.body.contains(&format!("urn:grassroots:case:{complaint}")));
    let points = public.get("/portal/units/330502001/cases.geojson").await;
    let geo: serde_json::Value = serde_json::from_str(&points.body).expect("geojson");
    let features = geo["features"].as_array().expect("features");
    assert_eq!(features.len(), 1, "{}", points.body);
    let at = &features[0]["geometry"]["coordinates"];
    let shown_point = (at[1].as_f64().expect("lat"), at[0].as_f64().expect("lon"));
    assert_ne!(shown_point, POINT_A, "the exact point is published");
    let case = public.get(&format!("/portal/cases/{request}")).await;
    assert_eq!(case.status, StatusCode::OK);
    assert!(
        case.body.contains("路灯坏了"),
        "the public sees what was asked: {}",
        case.body
    );
    assert_eq!(
        public.get(&format!("/portal/cases/{complaint}")).await.status,
        StatusCode::NOT_FOUND,
        "a complaint is not public: the same answer as a case that does not exist"
    );
}
