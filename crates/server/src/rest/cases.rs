//! Cases over REST: create, list (filtered, paginated, limited to what the caller may see), get (the reporter only
//! when the privacy rule allows, and then audited), and act (the workflow verbs, checked by `domain::access` and
//! `domain::rules`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::access::{self, Action, CaseFacts, Disclosure, ListScope, UnitAction};
use domain::case::{OnwardRoute, Reporter};
use domain::territory::UnitCode;
use domain::{CaseId, CaseKind, Channel, EventKind, Rating};
use serde::{Deserialize, Serialize};
use store::{CaseAccessRow, CaseFilter, CaseRow};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::{Json, Query};
use crate::caller::Caller;
use crate::cases::{self, Intake, Whereabouts};
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
pub struct ListQuery {
    /// Only cases within this unit's subtree (must lie within the caller's own).
    pub unit: Option<String>,
    /// A state name such as `submitted`, `in_progress`, `closed`.
    pub state: Option<String>,
    /// A case kind such as `complaint`.
    pub kind: Option<String>,
    /// Created at or after (RFC 3339).
    pub from: Option<String>,
    /// Created before (RFC 3339).
    pub to: Option<String>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Rows per page, 1 to 500 (default 50).
    pub page_size: Option<u32>,
}

fn parse_time(field: &str, value: &Option<String>) -> Result<Option<i64>, ApiError> {
    value
        .as_deref()
        .map(|s| {
            crate::open311::parse::parse_w3c_datetime(s.trim())
                .map(|t| t.unix_timestamp())
                .ok_or_else(|| ApiError::invalid(field, format!("{s:?} is not an RFC 3339 date-time")))
        })
        .transpose()
}

fn parse_kind(field: &str, value: &str) -> Result<CaseKind, ApiError> {
    CaseKind::parse(value.trim()).ok_or_else(|| ApiError::invalid(field, format!("unknown case kind {value:?}")))
}

/// Lists the cases the caller may see: a resident's own; for staff, those in their subtree and those their office
/// holds or was summoned to by a whistle elsewhere (narrowed to one unit of the subtree with `unit`).
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of cases, oldest first", body = CaseList),
        (status = 400, description = "A filter is invalid", body = ErrorBody),
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
    let page = q.page.unwrap_or(1);
    let page_size = q.page_size.unwrap_or(50);
    if page == 0 || page > 1_000_000 {
        return Err(ApiError::invalid("page", "must be from 1 to 1000000"));
    }
    if !(1..=500).contains(&page_size) {
        return Err(ApiError::invalid("page_size", "must be from 1 to 500"));
    }
    let offset = i64::from(page - 1) * i64::from(page_size);
    let rows: Vec<CaseRow> = match access::list_scope(principal) {
        ListScope::ReportedBy(account) => {
            let ids = state
                .store
                .cases_reported_by(&account, i64::from(page_size), offset)
                .await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.push(state.store.load_case(id).await?.row);
            }
            rows
        }
        ListScope::Subtree { scope, office } => {
            // Without a unit filter the listing is the caller's whole reach: the subtree, plus the cases their
            // office holds or was summoned to elsewhere (a whistle summons departments across territory).
            let (under, or_office) = match &q.unit {
                Some(u) => (
                    UnitCode::parse(u).map_err(|e| ApiError::invalid("unit", e.to_string()))?,
                    None,
                ),
                None => (scope, office),
            };
            access::can_at_unit(principal, UnitAction::ListCases, &under)?;
            let filter = CaseFilter {
                under: Some(under),
                or_office,
                state: q.state.clone(),
                kind: q.kind.as_deref().map(|k| parse_kind("kind", k)).transpose()?,
                created_from: parse_time("from", &q.from)?,
                created_to: parse_time("to", &q.to)?,
                limit: i64::from(page_size),
                offset,
            };
            state.store.list_cases(&filter).await?
        }
    };
    let full = rows.len() == page_size as usize;
    Ok(axum::Json(CaseList {
        items: rows.iter().map(CaseSummary::from).collect(),
        page,
        page_size,
        next_page: full.then_some(page + 1),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCase {
    /// enquiry, service_request, complaint, report, suggestion, petition, dispute or patrol_event.
    pub kind: String,
    /// A category of the routing table, e.g. `road_repair`.
    pub category: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// A division code, when there is no point.
    pub unit: Option<String>,
    /// Staff recording a case for someone: the channel it came by (visit, letter, hotline, patrol). Residents: web.
    pub channel: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    /// For a complaint or petition: the unit it is about (its staff never see the reporter).
    pub complained_unit: Option<String>,
    /// For a complaint or petition: the office it is about.
    pub complained_office: Option<String>,
    pub co_signers: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("longer than {max} characters")));
    }
    Ok(value.to_string())
}

/// Files a new case. Residents file their own; staff record cases that came by visit, letter, hotline or patrol.
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
        (status = 413, description = "Body too large", body = ErrorBody),
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
    let category = text("category", &req.category, 100)?;
    if category.is_empty() {
        return Err(ApiError::invalid("category", "required"));
    }
    let description = text(
        "description",
        &req.description,
        crate::open311::parse::MAX_DESCRIPTION_CHARS,
    )?;
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
    let resident = !principal.role.is_staff();
    let channel = match (&req.channel, resident) {
        (_, true) | (None, false) => {
            if resident {
                Channel::Web
            } else {
                Channel::Visit
            }
        }
        (Some(c), false) => {
            Channel::parse(c.trim()).ok_or_else(|| ApiError::invalid("channel", format!("unknown channel {c:?}")))?
        }
    };
    let whereabouts = Whereabouts {
        point,
        unit,
        address: None,
    };
    let location = cases::locate(&state, &whereabouts)?;
    let reporter_account = resident.then(|| principal.account.clone());
    let facts = CaseFacts {
        unit: Some(location.unit.clone()),
        reporter_account: reporter_account.clone(),
        ..CaseFacts::default()
    };
    access::can(principal, Action::CreateCase, &facts)?;
    let reporter = match (&req.reporter_name, &req.reporter_contact) {
        (None, None) if resident => Some(Reporter {
            name: principal.account.clone(),
            contact: String::new(),
        }),
        (None, None) => None,
        (name, contact) => Some(Reporter {
            name: text("reporter_name", name.as_deref().unwrap_or_default(), 100)?,
            contact: text("reporter_contact", contact.as_deref().unwrap_or_default(), 200)?,
        }),
    };
    let id = cases::intake(
        &state,
        Intake {
            kind,
            channel,
            category,
            description,
            whereabouts,
            reporter,
            co_signers: req.co_signers.unwrap_or(0).min(100_000),
            access: CaseAccessRow {
                reporter_account,
                complained_unit,
                complained_office: req.complained_office.clone(),
                token: None,
                api_key: None,
            },
            actor: principal.account.clone(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(Created { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub at: String,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    pub case: CaseSummary,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub co_signers: u32,
    pub rating: Option<String>,
    pub events: Vec<EventView>,
    /// Present only when the caller may see it (never for staff of the unit complained about; every staff read is
    /// audited).
    pub reporter: Option<ReporterView>,
    /// True when a reporter is on record but withheld from this caller.
    pub reporter_withheld: bool,
}

fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    raw.trim()
        .parse::<CaseId>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no case {raw:?}")))
}

/// One case with its log; the reporter when the privacy rule allows.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = String, Path, description = "case id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case", body = CaseDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The case lies outside what the caller may see", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<CaseDetail>, ApiError> {
    let principal = caller.require()?;
    let id = case_id(&id)?;
    let case = cases::load(&state, id).await?;
    access::can(principal, Action::ReadCase, &case.facts)?;
    let mut reporter = None;
    let mut withheld = false;
    if let Some(r) = &case.record.reporter {
        let allowed = access::can(principal, Action::ReadReporter, &case.facts).is_ok()
            && access::reporter_disclosure(Some(principal), &case.facts) == Disclosure::Shown;
        if allowed {
            if principal.role.is_staff() {
                cases::audit_read(
                    &state,
                    principal,
                    id,
                    "reporter name and contact via GET /api/v1/cases/{id}",
                )
                .await?;
            }
            reporter = Some(ReporterView {
                name: r.name.clone(),
                contact: r.contact.clone(),
            });
        } else {
            withheld = true;
        }
    }
    let row = &case.record.row;
    Ok(axum::Json(CaseDetail {
        case: CaseSummary::from(row),
        description: row.description.clone(),
        lat: row.location.lat,
        lon: row.location.lon,
        co_signers: row.co_signers,
        rating: row.rating.clone(),
        events: case
            .record
            .events
            .iter()
            .map(|e| EventView {
                at: e.at.format(&Rfc3339).unwrap_or_default(),
                actor: e.actor.clone(),
                event: serde_json::to_value(&e.kind).unwrap_or_default(),
            })
            .collect(),
        reporter,
        reporter_withheld: withheld,
    }))
}

/// A workflow verb on a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActRequest {
    /// The holding office accepts the case.
    Accept,
    Assign {
        office: String,
        staff: Option<String>,
    },
    Reply {
        text: String,
    },
    /// Extend the time limit (office heads; petitions once, by up to 30 days, Art. 34).
    Extend {
        days: u32,
        reason: String,
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
    /// Summon offices (街乡吹哨), each to report within `due_days`.
    Whistle {
        offices: Vec<String>,
        due_days: u32,
        reason: String,
    },
    /// A summoned department reports.
    Report {
        text: String,
    },
    /// `rating`: satisfied, basically_satisfied or unsatisfied.
    Rate {
        rating: String,
    },
    Reopen {
        reason: String,
    },
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActResult {
    pub id: i64,
    pub state: String,
    pub office: String,
}

fn enum_value<T: serde::de::DeserializeOwned>(field: &str, value: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_string()))
        .map_err(|_| ApiError::invalid(field, format!("{value:?} is not an accepted value")))
}

/// Takes a workflow action on a case. The caller's role and territory, and the workflow rules, decide.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/actions",
    tag = "cases",
    params(("id" = String, Path, description = "case id")),
    request_body = ActRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Recorded; the case's new state", body = ActResult),
        (status = 400, description = "The action is malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not take this action on this case", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The case's state or a workflow rule forbids the action (the rule is named)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
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
    let now = state.now();
    let long = |field: &str, v: &str| text(field, v, crate::open311::parse::MAX_DESCRIPTION_CHARS);
    let (action, kind) = match req {
        ActRequest::Accept => {
            let held = cases::load(&state, id).await?;
            (
                Action::Accept,
                EventKind::Accepted {
                    office: held.status.office.clone(),
                },
            )
        }
        ActRequest::Assign { office, staff } => (
            Action::Assign,
            EventKind::Assigned {
                office: text("office", &office, 100)?,
                staff: staff.map(|s| text("staff", &s, 100)).transpose()?,
            },
        ),
        ActRequest::Reply { text: t } => (
            Action::Reply,
            EventKind::Replied {
                text: long("text", &t)?,
            },
        ),
        ActRequest::Extend { days, reason } => (
            Action::Extend,
            EventKind::Extended {
                days: days.min(3_650),
                reason: long("reason", &reason)?,
                approver: principal.account.clone(),
            },
        ),
        ActRequest::MediationStart { team } => (
            Action::Mediate,
            EventKind::MediationStarted {
                team: text("team", &team, 100)?,
            },
        ),
        ActRequest::MediationSettle { agreement, parties } => (
            Action::Mediate,
            EventKind::MediationSettled {
                agreement: long("agreement", &agreement)?,
                parties: parties.into_iter().take(100).collect(),
            },
        ),
        ActRequest::MediationFail { route, reason } => (
            Action::Mediate,
            EventKind::MediationFailed {
                route: enum_value::<OnwardRoute>("route", &route)?,
                reason: long("reason", &reason)?,
            },
        ),
        ActRequest::Whistle {
            offices,
            due_days,
            reason,
        } => (
            Action::Whistle,
            EventKind::Whistle {
                offices: offices.into_iter().take(50).collect(),
                due: (now + Duration::days(i64::from(due_days.min(365)))).unix_timestamp(),
                reason: long("reason", &reason)?,
            },
        ),
        ActRequest::Report { text: t } => (
            Action::Report,
            EventKind::DepartmentReported {
                office: principal
                    .office
                    .clone()
                    .ok_or_else(|| ApiError::Forbidden("only an office's staff may report for it".into()))?,
                text: long("text", &t)?,
            },
        ),
        ActRequest::Rate { rating } => (
            Action::Rate,
            EventKind::Rated {
                rating: enum_value::<Rating>("rating", &rating)?,
                by: principal.account.clone(),
            },
        ),
        ActRequest::Reopen { reason } => (
            Action::Reopen,
            EventKind::Reopened {
                reason: long("reason", &reason)?,
            },
        ),
    };
    let status = cases::act(&state, principal, id, action, kind).await?;
    Ok(axum::Json(ActResult {
        id,
        state: status.state.as_str().into(),
        office: status.office,
    }))
}
