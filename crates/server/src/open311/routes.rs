//! The Open311 GeoReport v2 routes under `/open311/v2/`, each answering in XML or JSON by its extension.
//!
//! Services are the categories of the routing table; a request is a case of a public kind (never a complaint, a
//! petition or a dispute), shown as `app::workflow::disclose` shows it to the public: its grid's centre instead of the
//! exact point, its text with phone and ID numbers masked, no staff names, its true status.

use app::workflow::{self, CaseView, Filer, Filing, WorkflowError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use domain::disclosure::{self, Audience};
use domain::questions::{self, AnswerType, Question};
use domain::territory::UnitCode;
use domain::{CaseEvent, CaseId, CaseKind, CaseState, EventKind};
use store::PublicFilter;
use time::format_description::well_known::Rfc3339;

use super::Format;
use super::parse;
use super::render::{self, *};
use crate::auth;
use crate::cases::{self, Whereabouts};
use crate::error::{ApiError, Open311Error};
use crate::state::AppState;

type Result311 = Result<Response, Open311Error>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(get_root).post(post_root))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

fn split(file: &str) -> Result<(&str, Format), Open311Error> {
    Format::split(file).map_err(|(format, error)| Open311Error::new(format, error))
}

fn ok(format: Format, doc: &impl Document) -> Result311 {
    Ok(render::respond(format, StatusCode::OK, doc))
}

fn not_found(format: Format, what: String) -> Open311Error {
    Open311Error::new(format, ApiError::NotFound(what))
}

async fn get_root(State(state): State<AppState>, Path(file): Path<String>, RawQuery(query): RawQuery) -> Result311 {
    let (name, format) = split(&file)?;
    let query = query.unwrap_or_default();
    match name {
        "discovery" => ok(format, &discovery(&state)),
        "services" => services(&state, format, &query),
        "requests" => requests(&state, format, &query).await,
        "servicerequestupdates" => updates(&state, format, &query).await,
        other => Err(not_found(format, format!("no Open311 resource {other:?}"))),
    }
}

async fn post_root(State(state): State<AppState>, Path(file): Path<String>, body: Bytes) -> Result311 {
    let (name, format) = split(&file)?;
    if body.trim_ascii_start().first() == Some(&b'{') {
        return Err(Open311Error::new(
            format,
            ApiError::BadRequest(
                "Open311 takes a form (application/x-www-form-urlencoded), not JSON; the JSON API is /api/v1".into(),
            ),
        ));
    }
    match name {
        "requests" => post_request(&state, format, &body).await,
        "servicerequestupdates" => post_update(&state, format, &body).await,
        other => Err(not_found(format, format!("no Open311 resource {other:?} accepts POST"))),
    }
}

fn discovery(state: &AppState) -> Discovery {
    let url = format!("{}/open311/v2", state.config.base_url.trim_end_matches('/'));
    Discovery {
        changeset: "2025-01-01T00:00:00Z".into(),
        contact: "grassroots operators; see the project README".into(),
        key_service: "grassroots apikey create --name NAME".into(),
        endpoints: vec![Endpoint {
            specification: "http://wiki.open311.org/GeoReport_v2".into(),
            url,
            changeset: "2025-01-01T00:00:00Z".into(),
            kind: "production".into(),
            formats: vec!["text/xml".into(), "application/json".into()],
        }],
    }
}

/// Every category a resident can report: the routing table's catalogue.
fn categories(state: &AppState) -> Vec<&str> {
    state.rules.routing.categories()
}

fn service_name(category: &str) -> String {
    let words = category.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn service(state: &AppState, category: &str) -> Service {
    let enquiry = state.rules.routing.answer_at_intake.iter().any(|c| c == category);
    Service {
        service_code: category.to_string(),
        service_name: service_name(category),
        description: if enquiry {
            "An enquiry answered at intake.".into()
        } else {
            "Routed to the competent office at the lowest capable level.".into()
        },
        metadata: true,
        kind: ServiceType::Realtime,
        keywords: category.replace('_', ","),
        group: if enquiry { "enquiry".into() } else { "request".into() },
    }
}

fn services(state: &AppState, format: Format, query: &str) -> Result311 {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let place = match (get("lat"), get("long")) {
        (Some(lat), Some(long)) => {
            let lat: f64 = lat
                .parse()
                .map_err(|_| Open311Error::new(format, ApiError::invalid("lat", "not a number")))?;
            let long: f64 = long
                .parse()
                .map_err(|_| Open311Error::new(format, ApiError::invalid("long", "not a number")))?;
            let grid = state
                .grids
                .locate(lat, long)
                .map_err(|e| Open311Error::new(format, ApiError::invalid("lat", e.to_string())))?;
            Some(grid.map(|g| g.unit.clone()))
        }
        (None, None) => None,
        _ => {
            return Err(Open311Error::new(
                format,
                ApiError::invalid("long", "lat and long must be given together"),
            ));
        }
    };
    let list = categories(state)
        .into_iter()
        .filter(|c| match &place {
            None => true,
            // Only the categories some office at that place can take; nothing outside the territory served.
            Some(None) => false,
            Some(Some(unit)) => state
                .rules
                .routing
                .route_in(CaseKind::ServiceRequest, c, unit, &state.directory)
                .is_ok(),
        })
        .map(|c| service(state, c))
        .collect();
    ok(format, &Services(list))
}

const KIND_CHOICES: [CaseKind; 5] = [
    CaseKind::ServiceRequest,
    CaseKind::Complaint,
    CaseKind::Report,
    CaseKind::Suggestion,
    CaseKind::Enquiry,
];

async fn service_definition(State(state): State<AppState>, Path(file): Path<String>) -> Result311 {
    let (code, format) = split(&file)?;
    if !categories(&state).contains(&code) {
        return Err(not_found(format, format!("no service {code:?}")));
    }
    let definition = ServiceDefinition {
        service_code: code.to_string(),
        attributes: vec![
            Attribute {
                variable: true,
                code: "kind".into(),
                datatype: Datatype::Singlevaluelist,
                required: false,
                datatype_description: None,
                order: 1,
                description: "What kind of matter this is (default: service_request).".into(),
                values: KIND_CHOICES
                    .iter()
                    .map(|k| AttributeValue {
                        key: k.as_str().into(),
                        name: service_name(k.as_str()),
                    })
                    .collect(),
            },
            Attribute {
                variable: true,
                code: "complained_unit".into(),
                datatype: Datatype::String,
                required: false,
                datatype_description: Some("a division code, e.g. 330502001".into()),
                order: 2,
                description: "For a complaint: the unit complained about. Its staff never see who complained.".into(),
                values: Vec::new(),
            },
        ]
        .into_iter()
        .chain(
            state
                .rules
                .routing
                .questions_of(code)
                .into_iter()
                .zip(3..)
                .map(question_attribute),
        )
        .collect(),
    };
    ok(format, &definition)
}

/// A category's question ([`domain::questions`]) as a service attribute, worded in English.
fn question_attribute((q, order): (&Question, u32)) -> Attribute {
    Attribute {
        variable: true,
        code: q.code.clone(),
        datatype: match q.datatype {
            AnswerType::String => Datatype::String,
            AnswerType::Number => Datatype::Number,
            AnswerType::Singlevaluelist => Datatype::Singlevaluelist,
        },
        required: q.required,
        datatype_description: None,
        order,
        description: q.en.clone(),
        values: q
            .choices
            .iter()
            .map(|c| AttributeValue {
                key: c.key.clone(),
                name: c.en.clone(),
            })
            .collect(),
    }
}

/// The kinds of case Open311 may show: those `domain::disclosure` makes public.
fn public_kinds() -> Vec<CaseKind> {
    CaseKind::ALL
        .into_iter()
        .filter(|k| disclosure::is_public_kind(*k))
        .collect()
}

/// Open311's two statuses from a case state: closed for every state that is not open (`CaseState::is_open`).
fn status_of(state: CaseState) -> Status {
    if state.is_open() { Status::Open } else { Status::Closed }
}

fn status_of_name(state: &str) -> Status {
    CaseState::parse(state).map_or(Status::Open, status_of)
}

fn to_request(state: &AppState, view: &CaseView) -> ServiceRequest {
    let address = state
        .territory
        .ancestry(&view.unit)
        .iter()
        .map(|u| u.name.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let updated = view.events.last().map(|e| e.at).filter(|at| *at > view.created_at);
    ServiceRequest {
        service_request_id: view.id.to_string(),
        status: status_of(view.state),
        status_notes: Some(view.state.as_str().to_string()),
        service_name: Some(service_name(&view.category)),
        service_code: view.category.clone(),
        description: Some(view.description.clone()).filter(|d| !d.is_empty()),
        agency_responsible: Some(view.office.clone()),
        service_notice: None,
        requested_datetime: view.created_at.format(&Rfc3339).unwrap_or_default(),
        updated_datetime: updated.and_then(|t| t.format(&Rfc3339).ok()),
        expected_datetime: None,
        address: Some(address).filter(|a| !a.is_empty()),
        address_id: Some(view.unit.to_string()),
        zipcode: None,
        lat: view.point.map(|p| p.0),
        long: view.point.map(|p| p.1),
        media_url: None,
    }
}

/// The cases `filter` selects as the public sees them (`app::workflow::public_views`, as the portal shows them).
async fn public_views(state: &AppState, filter: &PublicFilter) -> Result<Vec<CaseView>, ApiError> {
    Ok(workflow::public_views(&state.store, &state.rules, &state.grids, filter, "Open311", state.now()).await?)
}

async fn requests(state: &AppState, format: Format, query: &str) -> Result311 {
    let q = parse::parse_requests_query(query, state.now()).map_err(|e| Open311Error::new(format, e))?;
    let open = match (q.statuses.contains(&Status::Open), q.statuses.contains(&Status::Closed)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let filter = PublicFilter {
        ids: q.ids.clone(),
        categories: q.service_codes.clone(),
        kinds: public_kinds(),
        from: q.start.unix_timestamp(),
        to: q.end.unix_timestamp(),
        open,
        under: None,
        newest_first: false,
        limit: i64::from(q.page_size),
        offset: i64::try_from(q.offset()).unwrap_or(i64::MAX),
    };
    let views = public_views(state, &filter)
        .await
        .map_err(|e| Open311Error::new(format, e))?;
    ok(format, &Requests(views.iter().map(|v| to_request(state, v)).collect()))
}

async fn one_request(State(state): State<AppState>, Path(file): Path<String>) -> Result311 {
    let (id, format) = split(&file)?;
    let missing = || not_found(format, format!("no service request {id:?}"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    let filter = PublicFilter {
        ids: vec![id],
        kinds: public_kinds(),
        from: i64::MIN,
        to: i64::MAX,
        limit: 1,
        ..PublicFilter::default()
    };
    let views = public_views(&state, &filter).await.map_err(|e| match e {
        ApiError::NotFound(_) => missing(),
        other => Open311Error::new(format, other),
    })?;
    let view = views.first().ok_or_else(missing)?;
    ok(format, &Requests(vec![to_request(&state, view)]))
}

async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Result311 {
    let (token, format) = split(&file)?;
    if token.is_empty() || token.len() > 100 {
        return Err(not_found(format, "no such token".into()));
    }
    let id = state
        .store
        .case_by_token(token)
        .await
        .map_err(|e| Open311Error::new(format, e))?;
    let id = id.ok_or_else(|| not_found(format, "no such token".into()))?;
    ok(
        format,
        &Tokens(vec![TokenStatus {
            service_request_id: Some(id.to_string()),
            token: token.to_string(),
        }]),
    )
}

/// Checks the per-key rate limit and the key itself; returns the key's name.
async fn check_key(state: &AppState, format: Format, api_key: &str) -> Result<String, Open311Error> {
    let hash = auth::secret_hash(api_key);
    if let Err(wait) = state.key_limiter.check(&hash, std::time::Instant::now()) {
        return Err(Open311Error::new(
            format,
            ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            },
        ));
    }
    let key = state
        .store
        .api_key_by_hash(&hash)
        .await
        .map_err(|e| Open311Error::new(format, e))?;
    key.map(|k| k.name)
        .ok_or_else(|| Open311Error::new(format, ApiError::Forbidden("api_key is invalid".into())))
}

async fn post_request(state: &AppState, format: Format, body: &[u8]) -> Result311 {
    let err = |e: ApiError| Open311Error::new(format, e);
    let req = parse::parse_new_request(body).map_err(err)?;
    let key_name = check_key(state, format, &req.api_key).await?;
    if let Err(unknown) = state.rules.routing.check_category(&req.service_code) {
        return Err(err(ApiError::invalid(
            "service_code",
            format!("{unknown}; GET services.json lists them"),
        )));
    }
    let kind = match req.attributes.get("kind").and_then(|v| v.first()) {
        None => CaseKind::ServiceRequest,
        Some(k) => KIND_CHOICES.into_iter().find(|c| c.as_str() == k).ok_or_else(|| {
            let listed: Vec<&str> = KIND_CHOICES.iter().map(|c| c.as_str()).collect();
            err(ApiError::invalid(
                "attribute[kind]",
                format!("{k:?} is not one of {}", listed.join(", ")),
            ))
        })?,
    };
    let complained_unit = match req.attributes.get("complained_unit").and_then(|v| v.first()) {
        None => None,
        Some(code) => Some(
            UnitCode::parse(code).map_err(|e| err(ApiError::invalid("attribute[complained_unit]", e.to_string())))?,
        ),
    };
    let mut answers = std::collections::BTreeMap::new();
    for (code, values) in &req.attributes {
        if questions::RESERVED_CODES.contains(&code.as_str()) {
            continue;
        }
        match values.as_slice() {
            [one] => {
                answers.insert(code.clone(), one.clone());
            }
            _ => {
                return Err(err(ApiError::invalid(
                    format!("attribute[{code}]"),
                    "one value expected: the service's questions are single-valued",
                )));
            }
        }
    }
    let location = cases::locate(
        state,
        &Whereabouts {
            point: req.place.point,
            unit: None,
            address: req.place.address_string.clone(),
        },
    )
    .map_err(err)?;
    let token = auth::new_request_token().map_err(|e| err(ApiError::internal(e)))?;
    let (reporter_name, reporter_contact) = if req.reporter.is_empty() {
        (None, None)
    } else {
        (req.reporter.full_name(), req.reporter.contact())
    };
    let filing = Filing {
        kind,
        channel: None,
        category: req.service_code.clone(),
        description: req.description.clone().unwrap_or_default(),
        location,
        reporter_name,
        reporter_contact,
        complained_unit,
        complained_office: None,
        co_signers: 0,
        answers,
        photos_upload: None,
    };
    let filer = Filer::Client {
        api_key: &key_name,
        token: &token,
    };
    let (id, _) = workflow::file_case(&state.store, &state.rules, &state.directory, filer, filing, state.now())
        .await
        .map_err(|e| match e {
            // Open311 names an answer by its attribute.
            WorkflowError::Answer(a) => err(ApiError::invalid(format!("attribute[{}]", a.code), a.reason)),
            other => err(other.into()),
        })?;
    ok(
        format,
        &Posted(vec![PostedRequest {
            service_request_id: Some(id.to_string()),
            token: Some(token),
            service_notice: Some("Received; routed to the competent office.".into()),
            account_id: None,
        }]),
    )
}

/// The public description of an event already reduced for the public, or `None` for events the public record does
/// not describe.
fn public_update(kind: &EventKind) -> Option<String> {
    Some(match kind {
        EventKind::Created { office } => format!("received and routed to {office}"),
        EventKind::AnsweredAtIntake { answer } => format!("answered at intake: {answer}"),
        EventKind::Accepted { office } => format!("accepted by {office}"),
        EventKind::NotAccepted { reason, refer_to } if refer_to.is_empty() => format!("not accepted: {reason}"),
        EventKind::NotAccepted { reason, refer_to } => format!("not accepted: {reason}; see {refer_to}"),
        EventKind::Assigned { office, .. } => format!("assigned within {office}"),
        EventKind::Rerouted { to_office, .. } => format!("re-routed to {to_office}"),
        EventKind::Returned { to_office, .. } => format!("returned to {to_office}"),
        EventKind::Extended { days, .. } => format!("time limit extended by {days} days"),
        EventKind::Replied { text } => format!("replied: {text}"),
        EventKind::Closed => "closed".into(),
        EventKind::Reopened { .. } => "reopened".into(),
        EventKind::Withdrawn { .. } => "withdrawn by the resident".into(),
        _ => return None,
    })
}

async fn updates(state: &AppState, format: Format, query: &str) -> Result311 {
    let q = parse::parse_updates_query(query, state.now()).map_err(|e| Open311Error::new(format, e))?;
    let feed = state
        .store
        .public_feed(
            q.start.unix_timestamp(),
            q.end.unix_timestamp(),
            q.service_request_id,
            &public_kinds(),
            1_000,
        )
        .await
        .map_err(|e| Open311Error::new(format, e))?;
    // Each case's identifiers, to mask them in the text of its events as its public view does.
    let mut known: std::collections::HashMap<CaseId, Vec<String>> = std::collections::HashMap::new();
    for f in &feed {
        if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(f.case_id) {
            let held = workflow::hold(&state.store, f.case_id)
                .await
                .map_err(|e| Open311Error::new(format, e))?;
            slot.insert(held.identifiers().into_iter().map(str::to_string).collect());
        }
    }
    let public = disclosure::reduction(Audience::Public, &domain::access::CaseFacts::default());
    let list = feed
        .iter()
        .filter_map(|f| {
            let ids: Vec<&str> = known
                .get(&f.case_id)
                .map_or_else(Vec::new, |k| k.iter().map(String::as_str).collect());
            let event: CaseEvent = disclosure::disclose_event(&f.event, public, &ids)?;
            let description = public_update(&event.kind)?;
            Some(RequestUpdate {
                update_id: format!("{}-{}", f.case_id, f.seq),
                service_request_id: f.case_id.to_string(),
                status: status_of_name(&f.case_state),
                updated_datetime: event.at.format(&Rfc3339).unwrap_or_default(),
                description,
                media_url: None,
            })
        })
        .collect();
    ok(format, &Updates(list))
}

/// FixMyStreet's `POST servicerequestupdates`: a keyed client adds a note to a public case.
async fn post_update(state: &AppState, format: Format, body: &[u8]) -> Result311 {
    let err = |e: ApiError| Open311Error::new(format, e);
    let update = parse::parse_new_update(body).map_err(err)?;
    let key_name = check_key(state, format, &update.api_key).await?;
    let id = update.service_request_id;
    let missing = || not_found(format, format!("no service request \"{id}\""));
    let held = workflow::hold(&state.store, id).await.map_err(|e| match e {
        workflow::WorkflowError::Store(store::StoreError::NoSuchCase(_)) => missing(),
        other => err(other.into()),
    })?;
    // A key adds notes only to the cases its own client filed; any other case answers as one that does not exist.
    let filed_by_this_client = held.access.api_key.as_deref() == Some(key_name.as_str());
    if !disclosure::is_public_kind(held.record.row.kind) || !filed_by_this_client {
        return Err(missing());
    }
    let note = CaseEvent {
        at: held.next_instant(state.now()),
        actor: format!("open311:{key_name}"),
        kind: EventKind::Note {
            text: update.description.clone(),
        },
    };
    workflow::act_on(&state.store, &state.rules, &held, note)
        .await
        .map_err(|e| err(e.into()))?;
    let seq = held.record.row.last_seq + 1;
    ok(
        format,
        &PostedUpdates(vec![PostedUpdate {
            update_id: format!("{id}-{seq}"),
        }]),
    )
}
