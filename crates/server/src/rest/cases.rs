//! Cases over REST: create, list (filtered, paginated, limited to what the caller may see), get (what
//! `app::workflow::disclose` lets the caller see, audited), act (the verbs of a case's legal life, each an
//! `app::workflow::Command`), and the alerts addressed to an office. Handlers parse and map; `app` decides.

use app::workflow::{self, CaseQuery, CaseView, Command, Filer, Filing};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::case::OnwardRoute;
use domain::disclosure::Audience;
use domain::territory::UnitCode;
use domain::{CaseId, CaseKind, CaseState, Channel, Rating};
use serde::{Deserialize, Serialize};
use store::CaseRow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use super::{Json, Query};
use crate::caller::Caller;
use crate::cases::{self, Whereabouts};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

fn rfc3339(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: i64,
    /// enquiry, service_request, complaint, report, suggestion, petition, dispute or patrol_event.
    pub kind: String,
    pub channel: String,
    pub category: String,
    /// The unit where the case lies.
    pub unit: String,
    pub grid: Option<String>,
    pub state: String,
    /// The office holding the case.
    pub office: String,
    pub created_at: String,
    pub closed_at: Option<String>,
}

fn instant(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl From<&CaseView> for CaseSummary {
    fn from(v: &CaseView) -> CaseSummary {
        CaseSummary {
            id: v.id,
            kind: v.kind.as_str().into(),
            channel: v.channel.as_str().into(),
            category: v.category.clone(),
            unit: v.unit.to_string(),
            grid: v.grid.clone(),
            state: v.state.as_str().into(),
            office: v.office.clone(),
            created_at: instant(v.created_at),
            closed_at: v.closed_at.map(instant),
        }
    }
}

impl From<&CaseRow> for CaseSummary {
    fn from(r: &CaseRow) -> CaseSummary {
        CaseSummary {
            id: r.id,
            kind: r.kind.as_str().into(),
            channel: r.channel.as_str().into(),
            category: r.category.clone(),
            unit: r.location.unit.to_string(),
            grid: r.location.grid.clone(),
            state: r.state.clone(),
            office: r.office.clone(),
            created_at: rfc3339(r.created_at),
            closed_at: r.closed_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub page: u32,
    pub page_size: u32,
    /// The next page, when this one was full.
    pub next_page: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only cases within this unit's subtree (must lie within the caller's own).
    pub unit: Option<String>,
    /// A state: submitted, accepted, in_progress, in_mediation, replied, closed, not_accepted, under_review,
    /// under_reexamination, final or withdrawn.
    pub state: Option<String>,
    /// Only cases this office holds, e.g. `330502001:gov`.
    pub office: Option<String>,
    /// `true`: only open cases with a clock past its due time.
    pub overdue: Option<bool>,
    /// Only open cases with a running clock due before this time (RFC 3339).
    pub due_before: Option<String>,
    /// A case kind such as `complaint`.
    pub kind: Option<String>,
    /// A category of the catalogue, e.g. `road_repair`.
    pub category: Option<String>,
    /// A grid id, e.g. `330502001001-03`.
    pub grid: Option<String>,
    /// Created at or after (RFC 3339).
    pub from: Option<String>,
    /// Created before (RFC 3339).
    pub to: Option<String>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Rows per page, 1 to 500 (default 50).
    pub page_size: Option<u32>,
}

fn parse_time(field: &str, value: &Option<String>) -> Result<Option<OffsetDateTime>, ApiError> {
    value
        .as_deref()
        .map(|s| {
            crate::open311::parse::parse_w3c_datetime(s.trim())
                .ok_or_else(|| ApiError::invalid(field, format!("{s:?} is not an RFC 3339 date-time")))
        })
        .transpose()
}

fn parse_kind(field: &str, value: &str) -> Result<CaseKind, ApiError> {
    CaseKind::parse(value.trim()).ok_or_else(|| {
        let kinds: Vec<&str> = CaseKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::invalid(
            field,
            format!("unknown case kind {value:?}; expected one of {}", kinds.join(", ")),
        )
    })
}

fn parse_state(value: &str) -> Result<CaseState, ApiError> {
    CaseState::parse(value.trim()).ok_or_else(|| {
        let states: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::invalid(
            "state",
            format!("unknown state {value:?}; expected one of {}", states.join(", ")),
        )
    })
}

/// Lists the cases the caller may see: a resident's own; for staff, those in their subtree and those their office
/// holds or was summoned to by a whistle elsewhere, filtered as a workbench needs. Unknown filters are refused.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of cases, oldest first", body = CaseList),
        (status = 400, description = "A filter is invalid or unknown", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The unit lies outside the caller's subtree, or the role may not list", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<CaseList>, ApiError> {
    let principal = caller.require()?;
    let query = CaseQuery {
        unit: q
            .unit
            .as_deref()
            .map(|u| UnitCode::parse(u).map_err(|e| ApiError::invalid("unit", e.to_string())))
            .transpose()?,
        state: q.state.as_deref().map(parse_state).transpose()?,
        office: q.office.clone(),
        overdue: q.overdue.unwrap_or(false),
        due_before: parse_time("due_before", &q.due_before)?,
        kind: q.kind.as_deref().map(|k| parse_kind("kind", k)).transpose()?,
        category: q.category.clone(),
        grid: q.grid.clone(),
        created_from: parse_time("from", &q.from)?,
        created_to: parse_time("to", &q.to)?,
        page: q.page.unwrap_or(1),
        page_size: q.page_size.unwrap_or(50),
    };
    let rows = workflow::list_cases(&state.store, &state.rules, principal, &query, state.now()).await?;
    let full = rows.len() == query.page_size as usize;
    Ok(axum::Json(CaseList {
        items: rows.iter().map(CaseSummary::from).collect(),
        page: query.page,
        page_size: query.page_size,
        next_page: full.then_some(query.page + 1),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// enquiry, service_request, complaint, report, suggestion, petition, dispute or patrol_event.
    pub kind: String,
    /// A category of the catalogue, e.g. `road_repair` (GET /open311/v2/services lists them).
    pub category: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// A division code, when there is no point.
    pub unit: Option<String>,
    /// Staff recording a case for someone: the channel it came by (visit, letter, hotline, patrol). Residents: web.
    pub channel: Option<String>,
    /// The reporter's name as they give it (never taken from the account).
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    /// For a complaint or petition: the unit it is about (its staff never see the reporter).
    pub complained_unit: Option<String>,
    /// For a complaint or petition: the office it is about.
    pub complained_office: Option<String>,
    pub co_signers: Option<u32>,
    /// Answers to the category's questions, by code (GET /open311/v2/services/{code}.json lists them as attributes).
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn parse_channel(value: &str) -> Result<Channel, ApiError> {
    Channel::parse(value.trim()).ok_or_else(|| {
        let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        ApiError::invalid(
            "channel",
            format!(
                "unknown channel {value:?}; expected one of {} (a phone call is `hotline`)",
                channels.join(", ")
            ),
        )
    })
}

/// Files a new case. Residents file their own (the reporter is what they type, never their account); staff record
/// cases that came by visit, letter, hotline or patrol.
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "cases",
    request_body = CreateCase,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored; the case's id", body = Created),
        (status = 400, description = "An input is invalid or the place is not served", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role may not file cases there", body = ErrorBody),
        (status = 409, description = "A petition on a matter final after re-examination (Art. 36)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "The complained office does not exist", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn create_case(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateCase>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let principal = caller.require()?;
    let kind = parse_kind("kind", &req.kind)?;
    let point = match (req.lat, req.lon) {
        (Some(lat), Some(lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => Some((lat, lon)),
        (None, None) => None,
        _ => {
            return Err(ApiError::invalid(
                "lat",
                "lat and lon must be given together, in degrees",
            ));
        }
    };
    let unit = req
        .unit
        .as_deref()
        .map(|u| UnitCode::parse(u).map_err(|e| ApiError::invalid("unit", e.to_string())))
        .transpose()?;
    let complained_unit = req
        .complained_unit
        .as_deref()
        .map(|u| UnitCode::parse(u).map_err(|e| ApiError::invalid("complained_unit", e.to_string())))
        .transpose()?;
    let channel = req.channel.as_deref().map(parse_channel).transpose()?;
    let location = cases::locate(
        &state,
        &Whereabouts {
            point,
            unit,
            address: None,
        },
    )?;
    let filing = Filing {
        kind,
        channel,
        category: req.category,
        description: req.description,
        location,
        reporter_name: req.reporter_name,
        reporter_contact: req.reporter_contact,
        complained_unit,
        complained_office: req.complained_office,
        co_signers: req.co_signers.unwrap_or(0),
        answers: req.answers,
        photos_upload: None,
    };
    let (id, _) = workflow::file_case(
        &state.store,
        &state.rules,
        &state.directory,
        Filer::Principal(principal),
        filing,
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(Created { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub at: String,
    /// `(resident)` for the resident who filed, a staff account for staff (or `staff` where names are withheld).
    pub actor: String,
    /// The event: `type` names it (created, accepted, replied …), the other fields are its data.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterView {
    pub name: String,
    pub contact: String,
}

/// One clock of the case.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    /// acceptance, handling, response, review, reexamination …
    pub clock: String,
    pub due: String,
    /// When its duty was done; absent while it runs.
    pub met_at: Option<String>,
    pub extended_days: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    pub case: CaseSummary,
    /// As written for the reporter and staff within reach; with phone and ID numbers and the reporter's name masked
    /// for anyone else.
    pub description: String,
    /// The answers to the category's questions, by code; masked like the description.
    pub answers: std::collections::BTreeMap<String, String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// False when the point is the centre of the case's grid (the exact point is withheld from this caller).
    pub point_is_exact: bool,
    pub co_signers: u32,
    pub rating: Option<String>,
    pub events: Vec<EventView>,
    pub deadlines: Vec<DeadlineView>,
    /// Present only when the caller may see it (never for staff of the unit complained about; every staff read is
    /// audited).
    pub reporter: Option<ReporterView>,
    /// True when a reporter is on record but withheld from this caller.
    pub reporter_withheld: bool,
    /// The actions the caller may take on the case (the workflow rules may still refuse one in its state).
    pub actions: Vec<String>,
}

impl From<CaseView> for CaseDetail {
    fn from(v: CaseView) -> CaseDetail {
        CaseDetail {
            case: CaseSummary::from(&v),
            description: v.description,
            answers: v.answers,
            lat: v.point.map(|p| p.0),
            lon: v.point.map(|p| p.1),
            point_is_exact: v.point_is_exact,
            co_signers: v.co_signers,
            rating: v.rating.map(|r| rating_name(r).to_string()),
            events: v
                .events
                .iter()
                .map(|e| EventView {
                    at: instant(e.at),
                    actor: e.actor.clone(),
                    event: serde_json::to_value(&e.kind).unwrap_or_default(),
                })
                .collect(),
            deadlines: v
                .deadlines
                .iter()
                .filter(|d| !d.superseded)
                .map(|d| DeadlineView {
                    clock: d.clock.as_str().to_string(),
                    due: instant(d.due),
                    met_at: d.met_at.map(instant),
                    extended_days: d.extended_days,
                })
                .collect(),
            reporter: v.reporter.map(|r| ReporterView {
                name: r.name,
                contact: r.contact,
            }),
            reporter_withheld: v.reporter_withheld,
            actions: v.actions.iter().map(|a| a.as_str().to_string()).collect(),
        }
    }
}

pub fn rating_name(r: Rating) -> &'static str {
    match r {
        Rating::Satisfied => "satisfied",
        Rating::BasicallySatisfied => "basically_satisfied",
        Rating::Unsatisfied => "unsatisfied",
    }
}

pub fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    raw.trim()
        .parse::<CaseId>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no case {raw:?}")))
}

/// One case as the caller may see it: its log, clocks and the actions the caller may take; the reporter when the
/// privacy rule allows (every staff read of it is audited).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = String, Path, description = "case id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case", body = CaseDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such case, or none the caller may see (the same answer, so ids cannot be probed)", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<CaseDetail>, ApiError> {
    let principal = caller.require()?;
    let held = workflow::hold(&state.store, case_id(&id)?).await?;
    let view = workflow::disclose(
        &state.store,
        &state.rules,
        &state.grids,
        Audience::Principal(principal),
        &held,
        "GET /api/v1/cases/{id}",
        state.now(),
    )
    .await?;
    Ok(axum::Json(CaseDetail::from(view)))
}

/// A step in a case's legal life. `action` names it; the other fields are its inputs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActRequest {
    /// The holding office accepts the case.
    Accept,
    /// The holding office declines it (Art. 23), saying why and which channel the resident should use instead.
    NotAccept {
        reason: String,
        refer_to: String,
    },
    /// Give the case to a member of the holding office (a staff id of the directory or a staff account).
    Assign {
        staff: String,
    },
    /// Send the case to another office of the directory that takes its category, within the 5-working-day dispute
    /// window of the first receiver (Art. 23 §3).
    Transfer {
        office: String,
        reason: String,
    },
    /// Return this matter to the lower office that accepted it earlier as `prior_case` and is handling it in time
    /// (Art. 19).
    Return {
        prior_case: i64,
    },
    /// Dispute a wrong dispatch within 5 working days; the routing table sends the case on (Art. 23 §3).
    DisputeDispatch {
        reason: String,
    },
    /// The written handling opinion.
    Reply {
        text: String,
    },
    /// Extend the time limit (office heads; petitions once, by up to 30 days, Art. 34).
    Extend {
        days: u32,
        reason: String,
    },
    /// Close a replied case.
    Close,
    /// Record a call to the resident; after the reply, `rating` records their answer (satisfied,
    /// basically_satisfied, unsatisfied) for a case filed by hotline, letter, visit or Open311.
    Callback {
        text: String,
        rating: Option<String>,
    },
    MediationStart {
        team: String,
    },
    MediationSettle {
        agreement: String,
        parties: Vec<String>,
    },
    /// `route`: litigation, arbitration, administrative_review or handling.
    MediationFail {
        route: String,
        reason: String,
    },
    /// Summon county departments (街乡吹哨), each to report within `due_days` working days.
    Whistle {
        offices: Vec<String>,
        due_days: u32,
        reason: String,
    },
    /// A summoned department reports.
    Report {
        text: String,
    },
    /// The resident rates the reply: satisfied, basically_satisfied or unsatisfied.
    Rate {
        rating: String,
    },
    /// The resident reopens a request after an unsatisfied rating.
    Reopen {
        reason: String,
    },
    /// The resident withdraws a case filed by mistake, before it is answered.
    Withdraw {
        reason: String,
    },
    /// The petitioner requests a review within 30 days of the reply (Art. 35).
    ReviewRequest,
    /// The level above the handling office decides the review (Art. 35).
    ReviewDecide {
        text: String,
    },
    /// The petitioner requests a re-examination within 30 days of the review decision (Art. 36).
    ReexaminationRequest,
    /// The level above the reviewing office decides; the matter is then final (Art. 36).
    ReexaminationDecide {
        text: String,
    },
    /// Another resident adds their voice to an open public case ("add my voice"); it counts once per account.
    CoSign,
    /// A peer inspector drawn for the case's township records what the audit of the closed case found: `finding`
    /// is sound, minor_lapse or serious_lapse (issue 14).
    Inspect {
        finding: String,
        #[serde(default)]
        note: String,
    },
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActResult {
    pub id: i64,
    pub state: String,
    pub office: String,
}

fn enum_value<T: serde::de::DeserializeOwned>(field: &str, value: &str, expected: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_string()))
        .map_err(|_| ApiError::invalid(field, format!("{value:?} is not one of {expected}")))
}

const RATINGS: &str = "satisfied, basically_satisfied, unsatisfied";

impl ActRequest {
    /// The workflow command, with enumerated inputs parsed.
    pub fn command(self) -> Result<Command, ApiError> {
        Ok(match self {
            ActRequest::Accept => Command::Accept,
            ActRequest::NotAccept { reason, refer_to } => Command::NotAccept { reason, refer_to },
            ActRequest::Assign { staff } => Command::Assign { staff },
            ActRequest::Transfer { office, reason } => Command::Transfer { office, reason },
            ActRequest::Return { prior_case } => Command::Return { prior_case },
            ActRequest::DisputeDispatch { reason } => Command::DisputeDispatch { reason },
            ActRequest::Reply { text } => Command::Reply { text },
            ActRequest::Extend { days, reason } => Command::Extend { days, reason },
            ActRequest::Close => Command::Close,
            ActRequest::Callback { text, rating } => Command::Callback {
                text,
                rating: rating
                    .map(|r| enum_value::<Rating>("rating", &r, RATINGS))
                    .transpose()?,
            },
            ActRequest::MediationStart { team } => Command::MediationStart { team },
            ActRequest::MediationSettle { agreement, parties } => Command::MediationSettle { agreement, parties },
            ActRequest::MediationFail { route, reason } => Command::MediationFail {
                route: enum_value::<OnwardRoute>(
                    "route",
                    &route,
                    "litigation, arbitration, administrative_review, handling",
                )?,
                reason,
            },
            ActRequest::Whistle {
                offices,
                due_days,
                reason,
            } => Command::Whistle {
                offices,
                due_working_days: due_days,
                reason,
            },
            ActRequest::Report { text } => Command::Report { text },
            ActRequest::Rate { rating } => Command::Rate {
                rating: enum_value::<Rating>("rating", &rating, RATINGS)?,
            },
            ActRequest::Reopen { reason } => Command::Reopen { reason },
            ActRequest::Withdraw { reason } => Command::Withdraw { reason },
            ActRequest::ReviewRequest => Command::ReviewRequest,
            ActRequest::ReviewDecide { text } => Command::ReviewDecide { text },
            ActRequest::ReexaminationRequest => Command::ReexaminationRequest,
            ActRequest::ReexaminationDecide { text } => Command::ReexaminationDecide { text },
            ActRequest::CoSign => Command::CoSign,
            ActRequest::Inspect { finding, note } => Command::Inspect {
                finding: domain::inspection::Finding::parse(finding.trim())
                    .map_err(|message| ApiError::invalid("finding", message))?,
                note,
            },
        })
    }
}

/// Takes a step in a case's legal life. The caller's role and relation to the case (`domain::access`) and the
/// workflow rules of the Regulations (`domain::rules`) decide; a refusal names the rule and its article.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/actions",
    tag = "cases",
    params(("id" = String, Path, description = "case id")),
    request_body = ActRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Recorded; the case's new state", body = ActResult),
        (status = 400, description = "The action is malformed or an input is over its limit", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller sees the case but may not take this action on it", body = ErrorBody),
        (status = 404, description = "No such case, or none the caller may see", body = ErrorBody),
        (status = 409, description = "The case's state or a workflow rule forbids the action (the rule is named)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "An input names an office, member or case that does not exist or may not take the case", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn act(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<ActRequest>,
) -> Result<axum::Json<ActResult>, ApiError> {
    let principal = caller.require()?;
    let id = case_id(&id)?;
    let command = req.command()?;
    let status = workflow::perform(
        &state.store,
        &state.rules,
        &state.directory,
        principal,
        id,
        command,
        state.now(),
    )
    .await?;
    Ok(axum::Json(ActResult {
        id,
        state: status.state.as_str().into(),
        office: status.office,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// The office, e.g. `330502001:gov` (default: the caller's own).
    pub office: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertItem {
    pub case: i64,
    /// The clock that is near or past its due time.
    pub clock: String,
    pub at: String,
    pub due: String,
    pub overdue: bool,
    /// The office holding the case now.
    pub holder: String,
}

/// The deadline alerts on open cases addressed to an office (to it or to its heads), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = "cases",
    params(AlertsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The alerts", body = Vec<AlertItem>),
        (status = 400, description = "No office given and the caller has none, or a bad office id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The office lies outside the caller's subtree", body = ErrorBody),
    )
)]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertsQuery>,
) -> Result<axum::Json<Vec<AlertItem>>, ApiError> {
    let principal = caller.require()?;
    let office = q
        .office
        .or_else(|| principal.office.clone())
        .ok_or_else(|| ApiError::invalid("office", "required: the caller belongs to no office"))?;
    let alerts = workflow::alerts_for(&state.store, &state.directory, principal, &office).await?;
    Ok(axum::Json(
        alerts
            .into_iter()
            .map(|a| AlertItem {
                case: a.case,
                clock: a.clock,
                at: instant(a.at),
                due: instant(a.due),
                overdue: a.overdue,
                holder: a.holder,
            })
            .collect(),
    ))
}

/// An overload alert: an office's open cases per worker on record, or one staff member's open cases, above the
/// threshold of `staffing.overload_open_cases_per_worker` in force at the office's unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverloadAlertItem {
    /// `office` or `staff`.
    pub subject: String,
    /// The office or staff member overloaded (`330502001:gov/caseworker`).
    pub holder: String,
    pub office: String,
    /// The month the alert stands for, `YYYY-MM` (one alert per holder a month).
    pub month: String,
    pub at: String,
    pub open_cases: u32,
    pub workers: u32,
    /// Open cases per worker: the figure that passed the threshold.
    pub per_worker: f64,
    pub threshold: u32,
}

/// The overload alerts addressed to an office (to it or to its heads), newest first: the other half of its alert
/// inbox, raised by the escalation guard's tick.
#[utoipa::path(
    get,
    path = "/api/v1/alerts/overload",
    tag = "cases",
    params(AlertsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The overload alerts", body = Vec<OverloadAlertItem>),
        (status = 400, description = "No office given and the caller has none, or a bad office id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The office lies outside the caller's subtree", body = ErrorBody),
    )
)]
pub async fn overload_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertsQuery>,
) -> Result<axum::Json<Vec<OverloadAlertItem>>, ApiError> {
    let principal = caller.require()?;
    let office = q
        .office
        .or_else(|| principal.office.clone())
        .ok_or_else(|| ApiError::invalid("office", "required: the caller belongs to no office"))?;
    let alerts = workflow::overload_alerts_for(&state.store, &state.directory, principal, &office).await?;
    Ok(axum::Json(
        alerts
            .into_iter()
            .map(|a| OverloadAlertItem {
                subject: a.subject.as_str().to_string(),
                holder: a.holder,
                office: a.office,
                month: a.month,
                at: instant(a.at),
                open_cases: a.open_cases,
                workers: a.workers,
                per_worker: a.per_worker,
                threshold: a.threshold,
            })
            .collect(),
    ))
}
