//! A case's whole legal life over REST, one scenario per article: acceptance, assignment, transfer, extension
//! (Art. 34), reply, review (Art. 35) and re-examination (Art. 36) by the levels above, finality; declines (Art. 23);
//! call-backs that record a caller's rating; withdrawal; no one judging their own case; workbench filters; and the
//! disclosure sweep: every identifier of a reporter looked for in every response each audience gets.

use axum::body::Body;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{POINT_A, POINT_B, Reply, VILLAGE_A, World, call, form, json_call, sign_in, world};

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

#[track_caller]
fn expect(r: &Reply, status: StatusCode, contains: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(r.text.contains(contains), "expected {contains:?} in {}", r.text);
}

async fn file(w: &World, token: &str, body: Value) -> i64 {
    let r = json_call(&w.app, "POST", "/api/v1/cases", Some(token), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json()["id"].as_i64().expect("id")
}

fn visit_petition() -> Value {
    json!({
        "kind": "petition", "category": "land", "channel": "visit", "unit": VILLAGE_A,
        "description": "土地承包纠纷，身份证 330502199001011234", "reporter_name": "赵六", "reporter_contact": "13700000000"
    })
}

#[tokio::test]
async fn a_petition_runs_to_its_final_end_and_a_new_petition_on_it_is_refused() {
    let w = world().await;
    let caseworker = sign_in(&w.app, "caseworker").await;
    let head = sign_in(&w.app, "office_head").await;
    let case = file(&w, &caseworker, visit_petition()).await;
    let r = json_call(&w.app, "GET", &format!("/api/v1/cases/{case}"), Some(&caseworker), None).await;
    expect(&r, StatusCode::OK, "\"office\":\"330502001:gov\"");

    // Only the holding office acts: a caseworker of another office gets 403.
    let village = sign_in(&w.app, "village-caseworker").await;
    let r = act(&w, &village, case, json!({"action": "accept"})).await;
    expect(
        &r,
        StatusCode::FORBIDDEN,
        "only the office holding the case (330502001:gov)",
    );
    expect(
        &act(&w, &caseworker, case, json!({"action": "accept"})).await,
        StatusCode::OK,
        "accepted",
    );

    // Transfers name an office of the directory; assignments a member of the holding office.
    let r = act(
        &w,
        &caseworker,
        case,
        json!({"action": "transfer", "office": "330502001:nowhere", "reason": "x"}),
    )
    .await;
    expect(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no office 330502001:nowhere in the directory",
    );
    let r = act(
        &w,
        &caseworker,
        case,
        json!({"action": "assign", "staff": "far-caseworker"}),
    )
    .await;
    expect(&r, StatusCode::UNPROCESSABLE_ENTITY, "is not a member of 330502001:gov");
    expect(
        &act(
            &w,
            &caseworker,
            case,
            json!({"action": "assign", "staff": "caseworker"}),
        )
        .await,
        StatusCode::OK,
        "in_progress",
    );

    // Art. 34: the head extends once, by at most 30 days.
    let r = act(
        &w,
        &caseworker,
        case,
        json!({"action": "extend", "days": 30, "reason": "survey"}),
    )
    .await;
    expect(&r, StatusCode::FORBIDDEN, "may not extend the time limit");
    let r = act(
        &w,
        &head,
        case,
        json!({"action": "extend", "days": 31, "reason": "survey"}),
    )
    .await;
    expect(&r, StatusCode::CONFLICT, "Art. 34");
    expect(
        &act(
            &w,
            &head,
            case,
            json!({"action": "extend", "days": 30, "reason": "survey"}),
        )
        .await,
        StatusCode::OK,
        "",
    );
    let r = act(
        &w,
        &head,
        case,
        json!({"action": "extend", "days": 5, "reason": "again"}),
    )
    .await;
    expect(&r, StatusCode::CONFLICT, "one extension only");
    expect(
        &act(&w, &head, case, json!({"action": "reply", "text": "按合同处理"})).await,
        StatusCode::OK,
        "replied",
    );

    // Art. 35: the review is decided by the level above the handling office (the county government), not higher.
    let county = sign_in(&w.app, "county-caseworker").await;
    let county_head = sign_in(&w.app, "county-head").await;
    let prefecture = sign_in(&w.app, "prefecture-head").await;
    let r = act(&w, &head, case, json!({"action": "review_decide", "text": "x"})).await;
    expect(&r, StatusCode::FORBIDDEN, "only 330502:gov, the level above");
    // The petitioner came in person: the review body records the request.
    expect(
        &act(&w, &county, case, json!({"action": "review_request"})).await,
        StatusCode::OK,
        "under_review",
    );
    let r = act(&w, &prefecture, case, json!({"action": "review_decide", "text": "x"})).await;
    expect(&r, StatusCode::FORBIDDEN, "Art. 35");
    expect(
        &act(
            &w,
            &county_head,
            case,
            json!({"action": "review_decide", "text": "维持"}),
        )
        .await,
        StatusCode::OK,
        "closed",
    );

    // Art. 36: the re-examination by the level above the review body; then the matter is final.
    let r = act(
        &w,
        &county_head,
        case,
        json!({"action": "reexamination_decide", "text": "x"}),
    )
    .await;
    expect(&r, StatusCode::FORBIDDEN, "Art. 36");
    expect(
        &act(&w, &prefecture, case, json!({"action": "reexamination_request"})).await,
        StatusCode::OK,
        "under_reexamination",
    );
    expect(
        &act(
            &w,
            &prefecture,
            case,
            json!({"action": "reexamination_decide", "text": "维持"}),
        )
        .await,
        StatusCode::OK,
        "final",
    );
    let r = act(&w, &county, case, json!({"action": "review_request"})).await;
    assert!(
        r.status.is_client_error(),
        "a final matter is not reviewed again: {}",
        r.text
    );

    // A new petition by the same person on the same matter is refused, citing Art. 36.
    let r = json_call(
        &w.app,
        "POST",
        "/api/v1/cases",
        Some(&caseworker),
        Some(visit_petition()),
    )
    .await;
    expect(&r, StatusCode::CONFLICT, "Art. 36");
    // Another person's petition on the same category is accepted.
    let mut other = visit_petition();
    other["reporter_contact"] = json!("13600000000");
    file(&w, &caseworker, other).await;
}

#[tokio::test]
async fn art_23_a_petition_is_declined_with_the_channel_to_use() {
    let w = world().await;
    let caseworker = sign_in(&w.app, "caseworker").await;
    let case = file(&w, &caseworker, visit_petition()).await;
    let r = act(
        &w,
        &caseworker,
        case,
        json!({"action": "not_accept", "reason": "劳动争议", "refer_to": ""}),
    )
    .await;
    expect(&r, StatusCode::CONFLICT, "Art. 23");
    let r = act(
        &w,
        &caseworker,
        case,
        json!({"action": "not_accept", "reason": "劳动争议", "refer_to": "劳动人事争议仲裁委员会"}),
    )
    .await;
    expect(&r, StatusCode::OK, "not_accepted");
}

#[tokio::test]
async fn art_23_3_a_dispute_reroutes_through_the_table_and_restarts_acceptance() {
    let w = world().await;
    let caseworker = sign_in(&w.app, "caseworker").await;
    let case = file(&w, &caseworker, visit_petition()).await;
    let r = act(
        &w,
        &caseworker,
        case,
        json!({"action": "dispute_dispatch", "reason": "不属本单位"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let office = r.json()["office"].as_str().unwrap_or_default().to_string();
    assert_ne!(office, "330502001:gov", "the case left the disputing office");
    assert_eq!(
        r.json()["state"],
        "submitted",
        "the acceptance clock restarts at the new office"
    );
    // The disputing office no longer holds it.
    let r = act(&w, &caseworker, case, json!({"action": "accept"})).await;
    expect(&r, StatusCode::FORBIDDEN, "only the office holding the case");
}

#[tokio::test]
async fn the_complained_unit_neither_sees_the_resident_nor_acts_and_the_resident_may_withdraw() {
    let w = world().await;
    let resident = sign_in(&w.app, "wangfang88").await;
    let case = file(
        &w,
        &resident,
        json!({"kind": "complaint", "category": "street_lighting", "description": "村委不修路灯",
               "lat": POINT_A.0, "lon": POINT_A.1, "complained_unit": VILLAGE_A}),
    )
    .await;
    let staff = sign_in(&w.app, "caseworker").await;
    let r = json_call(&w.app, "GET", &format!("/api/v1/cases/{case}"), Some(&staff), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    // Routed away from the village it complains about, to the township.
    assert_eq!(body["case"]["office"], "330502001:gov");
    // No reporter was typed, so none is on record: never the account name.
    assert!(
        body["reporter"].is_null() && body["reporter_withheld"] == json!(false),
        "{}",
        r.text
    );
    assert_eq!(body["events"][0]["actor"], "(resident)");
    assert!(!r.text.contains("wangfang88"), "{}", r.text);

    let village = sign_in(&w.app, "village-caseworker").await;
    for action in [json!({"action": "accept"}), json!({"action": "reply", "text": "x"})] {
        let r = act(&w, &village, case, action).await;
        expect(&r, StatusCode::FORBIDDEN, "no one judges their own case");
    }
    let r = act(
        &w,
        &staff,
        case,
        json!({"action": "transfer", "office": "330502001001:committee", "reason": "x"}),
    )
    .await;
    expect(&r, StatusCode::UNPROCESSABLE_ENTITY, "complains about");

    let other = sign_in(&w.app, "other-resident").await;
    // Another resident may not even see the case: it answers as one that does not exist.
    let r = act(&w, &other, case, json!({"action": "withdraw", "reason": "mistake"})).await;
    expect(&r, StatusCode::NOT_FOUND, &format!("no case {case}"));
    let r = act(
        &w,
        &resident,
        case,
        json!({"action": "withdraw", "reason": "filed by mistake"}),
    )
    .await;
    expect(&r, StatusCode::OK, "withdrawn");
}

#[tokio::test]
async fn a_call_back_records_the_rating_of_a_caller_who_never_signs_in() {
    let w = world().await;
    let body = format!(
        "api_key={}&service_code=street_lighting&lat={}&long={}&description=dark&phone=13500000000",
        w.api_key, POINT_B.0, POINT_B.1
    );
    let r = form(&w.app, "/open311/v2/requests.json", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let case: i64 = r.json()[0]["service_request_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let staff = sign_in(&w.app, "village-b-caseworker").await;
    expect(
        &act(&w, &staff, case, json!({"action": "accept"})).await,
        StatusCode::OK,
        "",
    );
    let r = act(
        &w,
        &staff,
        case,
        json!({"action": "callback", "text": "修好了吗", "rating": "satisfied"}),
    )
    .await;
    expect(&r, StatusCode::CONFLICT, "not allowed in state `accepted`");
    expect(
        &act(&w, &staff, case, json!({"action": "reply", "text": "已修复"})).await,
        StatusCode::OK,
        "",
    );
    let r = act(
        &w,
        &staff,
        case,
        json!({"action": "callback", "text": "居民满意", "rating": "satisfied"}),
    )
    .await;
    expect(&r, StatusCode::OK, "replied");
    let r = act(
        &w,
        &staff,
        case,
        json!({"action": "callback", "text": "again", "rating": "unsatisfied"}),
    )
    .await;
    expect(&r, StatusCode::CONFLICT, "one rating per reply");
    expect(
        &act(&w, &staff, case, json!({"action": "close"})).await,
        StatusCode::OK,
        "closed",
    );
    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/requests/{case}.json"),
        None,
        Body::empty(),
        "",
    )
    .await;
    expect(&r, StatusCode::OK, "\"status\":\"closed\"");

    // A resident who filed on the web rates online: staff may not rate for them.
    let resident = sign_in(&w.app, "resident").await;
    let web = file(
        &w,
        &resident,
        json!({"kind": "service_request", "category": "street_lighting", "description": "灯", "lat": POINT_A.0, "lon": POINT_A.1}),
    )
    .await;
    let holder = sign_in(&w.app, "village-caseworker").await;
    expect(
        &act(&w, &holder, web, json!({"action": "accept"})).await,
        StatusCode::OK,
        "",
    );
    expect(
        &act(&w, &holder, web, json!({"action": "reply", "text": "ok"})).await,
        StatusCode::OK,
        "",
    );
    let r = act(
        &w,
        &holder,
        web,
        json!({"action": "callback", "text": "x", "rating": "satisfied"}),
    )
    .await;
    expect(&r, StatusCode::CONFLICT, "cannot rate online");
    expect(
        &act(&w, &resident, web, json!({"action": "rate", "rating": "satisfied"})).await,
        StatusCode::OK,
        "",
    );
}

#[tokio::test]
async fn a_workbench_filters_and_refuses_unknown_filters() {
    let w = world().await;
    let caseworker = sign_in(&w.app, "caseworker").await;
    let case = file(&w, &caseworker, visit_petition()).await;
    let list = |q: &str| {
        let app = w.app.clone();
        let token = caseworker.clone();
        let uri = format!("/api/v1/cases?{q}");
        async move { json_call(&app, "GET", &uri, Some(&token), None).await }
    };
    expect(&list("bogus=1").await, StatusCode::BAD_REQUEST, "bogus");
    expect(
        &list("state=bogus").await,
        StatusCode::BAD_REQUEST,
        "under_reexamination",
    );
    let ids = |r: &Reply| -> Vec<i64> {
        r.json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_i64())
            .collect()
    };
    assert_eq!(ids(&list("office=330502001:gov").await), vec![case]);
    assert!(ids(&list("office=330502002:gov").await).is_empty());
    assert_eq!(ids(&list("kind=petition&state=submitted").await), vec![case]);
    assert!(ids(&list("overdue=true").await).is_empty(), "nothing is late yet");
    // The acceptance clock (15 days) runs: due before a date a year ahead.
    let next_year = (time::OffsetDateTime::now_utc() + time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("date");
    assert_eq!(ids(&list(&format!("due_before={next_year}")).await), vec![case]);
    let head = sign_in(&w.app, "office_head").await;
    let r = json_call(&w.app, "GET", "/api/v1/alerts", Some(&head), None).await;
    expect(&r, StatusCode::OK, "[]");
    let r = json_call(&w.app, "GET", "/api/v1/alerts?office=330502002:gov", Some(&head), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

#[tokio::test]
async fn bad_input_is_named() {
    let w = world().await;
    let caseworker = sign_in(&w.app, "caseworker").await;
    let mut phone = visit_petition();
    phone["channel"] = json!("phone");
    let r = json_call(&w.app, "POST", "/api/v1/cases", Some(&caseworker), Some(phone)).await;
    expect(&r, StatusCode::BAD_REQUEST, "hotline");
    let r = call(
        &w.app,
        "POST",
        "/open311/v2/requests.json",
        None,
        Body::from("{\"api_key\": \"x\"}"),
        "application/json",
    )
    .await;
    expect(&r, StatusCode::BAD_REQUEST, "takes a form");
    let case = file(&w, &caseworker, visit_petition()).await;
    let long = "长".repeat(4_001);
    let r = act(
        &w,
        &caseworker,
        case,
        json!({"action": "not_accept", "reason": long, "refer_to": "court"}),
    )
    .await;
    expect(&r, StatusCode::BAD_REQUEST, "the limit is 4000");
    let r = act(&w, &caseworker, case, json!({"action": "launch"})).await;
    expect(&r, StatusCode::BAD_REQUEST, "reexamination_decide");
}

/// Every response an audience gets about the cases, to sweep for identifiers.
async fn responses(w: &World, token: Option<&str>, cases: &[i64]) -> Vec<(String, Reply)> {
    let mut uris: Vec<String> = cases.iter().map(|c| format!("/api/v1/cases/{c}")).collect();
    uris.push("/api/v1/cases?page_size=500".into());
    uris.push("/api/v1/alerts?office=330502001:gov".into());
    for c in cases {
        uris.push(format!("/open311/v2/requests/{c}.json"));
        uris.push(format!("/open311/v2/requests/{c}.xml"));
    }
    uris.push("/open311/v2/requests.json".into());
    uris.push("/open311/v2/servicerequestupdates.json".into());
    uris.push("/open311/v2/servicerequestupdates.xml".into());
    let mut out = Vec::new();
    for uri in uris {
        let r = json_call(&w.app, "GET", &uri, token, None).await;
        out.push((uri, r));
    }
    out
}

#[tokio::test]
async fn no_audience_sees_an_identifier_it_may_not() {
    let w = world().await;
    // 1. A resident's complaint about their village, with their name, phone and ID number typed in.
    let resident = sign_in(&w.app, "wangfang88").await;
    let complaint = file(
        &w,
        &resident,
        json!({"kind": "complaint", "category": "street_lighting", "lat": POINT_A.0, "lon": POINT_A.1,
               "description": "我是王芳，电话13900000000，身份证330502199001011234，村委不修路灯",
               "reporter_name": "王芳", "reporter_contact": "13900000000", "complained_unit": VILLAGE_A,
               "answers": {"lamp_number": "王芳 13900000000 330502199001011234"}}),
    )
    .await;
    // 2. A public service request by the same resident, answered with a reply that repeats the phone number.
    let request = file(
        &w,
        &resident,
        json!({"kind": "service_request", "category": "street_lighting", "lat": POINT_A.0, "lon": POINT_A.1,
               "description": "路灯坏了 请回电13900000000 王芳", "reporter_name": "王芳", "reporter_contact": "13900000000",
               "answers": {"lamp_number": "灯杆旁 王芳 13900000000 330502199001011234"}}),
    )
    .await;
    let holder = sign_in(&w.app, "village-caseworker").await;
    expect(
        &act(&w, &holder, request, json!({"action": "accept"})).await,
        StatusCode::OK,
        "",
    );
    let r = act(
        &w,
        &holder,
        request,
        json!({"action": "reply", "text": "已致电王芳13900000000，明日修复"}),
    )
    .await;
    expect(&r, StatusCode::OK, "");
    expect(
        &act(&w, &resident, request, json!({"action": "rate", "rating": "satisfied"})).await,
        StatusCode::OK,
        "",
    );
    let cases = [complaint, request];
    let identifiers = ["wangfang88", "王芳", "13900000000", "330502199001011234"];

    // Who may see the person behind case 1 (identifiers other than the account) and case 2: the resident, and staff
    // of the township within reach. Nobody but the resident ever sees the account name in a case output.
    let audiences: [(Option<&str>, bool); 13] = [
        (None, false),
        (Some("wangfang88"), true),
        (Some("other-resident"), false),
        (Some("grid_worker"), true),
        (Some("caseworker"), true),
        (Some("mediator"), true),
        (Some("office_head"), true),
        (Some("analyst"), false),
        (Some("administrator"), false),
        (Some("far-caseworker"), false),
        (Some("village-caseworker"), false),
        (Some("county-head"), true),
        (Some("prefecture-head"), true),
    ];
    let mut checked = 0;
    for (account, may_see) in audiences {
        let token = match account {
            Some(a) => Some(sign_in(&w.app, a).await),
            None => None,
        };
        for (uri, reply) in responses(&w, token.as_deref(), &cases).await {
            assert!(reply.status.as_u16() < 500, "{account:?} {uri}: {}", reply.text);
            // The village complained about may read the service request of its own village (nobody complains about
            // it there), so it sees that reporter; case 1's identity never.
            let of_request_only = account == Some("village-caseworker") && uri.contains(&format!("/{request}"));
            for id in identifiers {
                let found = reply.text.contains(id);
                let allowed = match id {
                    "wangfang88" => account == Some("wangfang88") && uri.ends_with("/me"),
                    _ => may_see || of_request_only,
                };
                assert!(
                    !found || allowed,
                    "{account:?} got {id:?} from {uri} ({}): {}",
                    reply.status,
                    reply.text
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "swept {checked} (audience, response, identifier) cells");
    // The public record shows the service request, on its grid's centre, without the exact point.
    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/requests/{request}.json"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let published = (r.json()[0]["lat"].as_f64(), r.json()[0]["long"].as_f64());
    assert!(published.0.is_some(), "the grid's centre is shown: {}", r.text);
    assert_ne!(
        published,
        (Some(POINT_A.0), Some(POINT_A.1)),
        "exact point published: {}",
        r.text
    );
    // The complaint is not public at all: the same 404 as a case that does not exist.
    let r = call(
        &w.app,
        "GET",
        &format!("/open311/v2/requests/{complaint}.json"),
        None,
        Body::empty(),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[tokio::test]
async fn art_19_a_higher_office_returns_a_matter_the_lower_office_handles_in_time() {
    let w = world().await;
    let recorder = sign_in(&w.app, "caseworker").await;
    let village = sign_in(&w.app, "village-caseworker").await;
    let township = sign_in(&w.app, "office_head").await;
    let dispute = || {
        json!({"kind": "dispute", "category": "neighbour_dispute", "channel": "visit", "unit": VILLAGE_A,
               "description": "宅基地边界", "reporter_name": "钱七", "reporter_contact": "13800000001"})
    };
    // The village committee accepted the matter and is within its limit.
    let prior = file(&w, &recorder, dispute()).await;
    expect(
        &act(&w, &village, prior, json!({"action": "accept"})).await,
        StatusCode::OK,
        "330502001001:committee",
    );
    // The same person brings it again; it reaches the township (the village disputes the dispatch).
    let again = file(&w, &recorder, dispute()).await;
    let r = act(
        &w,
        &village,
        again,
        json!({"action": "dispute_dispatch", "reason": "已在办理"}),
    )
    .await;
    expect(&r, StatusCode::OK, "330502001:gov");
    // Another person's case is not the same matter.
    let mut stranger = dispute();
    stranger["reporter_contact"] = json!("13800000002");
    let other = file(&w, &recorder, stranger).await;
    let r = act(&w, &township, again, json!({"action": "return", "prior_case": other})).await;
    expect(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not an earlier case of the same person",
    );
    // The township returns it to the village that handles it (Art. 19).
    let r = act(&w, &township, again, json!({"action": "return", "prior_case": prior})).await;
    expect(&r, StatusCode::OK, "330502001001:committee");
    // A matter nobody below has accepted cannot be returned.
    let r = act(&w, &township, again, json!({"action": "return", "prior_case": other})).await;
    assert!(r.status.is_client_error(), "{}", r.text);
}
