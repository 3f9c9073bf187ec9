//! The case use cases the server needs: intake (locate, route, store with access facts in one transaction), acting
//! on a case (access check, workflow rules, optimistic append), and loading a case with the facts that decide who
//! may see it. Every write returns only after its transaction commits.

use domain::access::{self, Action, CaseFacts, Principal};
use domain::case::{Location, Reporter};
use domain::clock::Urgency;
use domain::routing::Routing;
use domain::rules::{self, RuleContext};
use domain::territory::UnitCode;
use domain::{CaseEvent, CaseId, CaseKind, CaseStatus, Channel, EventKind, NewCase};
use store::{CaseAccessRow, CaseRecord, NewCaseRecord, StoreError};

use crate::error::ApiError;
use crate::state::AppState;

/// Case kinds that public outputs (Open311, unauthenticated listings) may show. Petitions and disputes concern
/// named people and are never public.
pub const PUBLIC_KINDS: [CaseKind; 6] = [
    CaseKind::Enquiry,
    CaseKind::ServiceRequest,
    CaseKind::Complaint,
    CaseKind::Report,
    CaseKind::Suggestion,
    CaseKind::PatrolEvent,
];

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NoSuchCase(id) => ApiError::NotFound(format!("case {id} does not exist")),
            StoreError::Conflict { .. } => ApiError::Conflict(e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl From<rules::RuleError> for ApiError {
    fn from(e: rules::RuleError) -> ApiError {
        ApiError::Conflict(e.to_string())
    }
}

/// Where a new case is.
#[derive(Debug, Clone)]
pub struct Whereabouts {
    pub point: Option<(f64, f64)>,
    pub unit: Option<UnitCode>,
    /// Free text naming a place (Open311 `address_string`): the deepest unit whose name it contains.
    pub address: Option<String>,
}

/// A new case as a client gives it.
#[derive(Debug, Clone)]
pub struct Intake {
    pub kind: CaseKind,
    pub channel: Channel,
    pub category: String,
    pub description: String,
    pub whereabouts: Whereabouts,
    pub reporter: Option<Reporter>,
    pub co_signers: u32,
    pub access: CaseAccessRow,
    pub actor: String,
}

/// Resolves a location to a unit (and grid): a point through the grid index, else a given unit, else a unit named in
/// the address.
pub fn locate(state: &AppState, w: &Whereabouts) -> Result<Location, ApiError> {
    if let Some((lat, lon)) = w.point {
        let grid = state
            .grids
            .locate(lat, lon)
            .map_err(|e| ApiError::invalid("lat", e.to_string()))?;
        if let Some(grid) = grid {
            return Ok(Location {
                lat: Some(lat),
                lon: Some(lon),
                unit: grid.unit.clone(),
                grid: Some(grid.id.clone()),
            });
        }
        if w.unit.is_none() && w.address.is_none() {
            return Err(ApiError::invalid(
                "lat",
                "the point lies outside every grid of the territory served",
            ));
        }
    }
    let unit = match (&w.unit, &w.address) {
        (Some(unit), _) => {
            state
                .territory
                .get(unit)
                .ok_or_else(|| ApiError::invalid("unit", format!("unknown unit {unit}")))?;
            unit.clone()
        }
        (None, Some(address)) => state
            .territory
            .units_sorted()
            .into_iter()
            .filter(|u| u.name.chars().count() >= 2 && address.contains(u.name.as_str()))
            .max_by_key(|u| u.code.as_str().len())
            .map(|u| u.code.clone())
            .ok_or_else(|| {
                ApiError::invalid(
                    "address_string",
                    "names no unit of the territory served; give lat and long",
                )
            })?,
        (None, None) => return Err(ApiError::invalid("location", "a location is required")),
    };
    Ok(Location {
        lat: w.point.map(|p| p.0),
        lon: w.point.map(|p| p.1),
        unit,
        grid: None,
    })
}

/// Locates, routes and stores a new case; returns its id after the commit.
pub async fn intake(state: &AppState, intake: Intake) -> Result<CaseId, ApiError> {
    let location = locate(state, &intake.whereabouts)?;
    let now = state.now();
    let routing = state
        .routing
        .route_in(intake.kind, &intake.category, &location.unit, &state.directory)
        .map_err(|e| ApiError::invalid("category", e.to_string()))?;
    let mut events = Vec::with_capacity(2);
    match routing {
        Routing::Office { office } => events.push(CaseEvent {
            at: now,
            actor: intake.actor.clone(),
            kind: EventKind::Created {
                office: office.to_string(),
            },
        }),
        Routing::AnswerAtIntake => {
            events.push(CaseEvent {
                at: now,
                actor: intake.actor.clone(),
                kind: EventKind::Created {
                    office: format!("{}:intake", location.unit),
                },
            });
            events.push(CaseEvent {
                at: now,
                actor: intake.actor.clone(),
                kind: EventKind::AnsweredAtIntake {
                    answer: "answered at intake from the published guidance".into(),
                },
            });
        }
    }
    let record = NewCaseRecord {
        case: NewCase {
            kind: intake.kind,
            channel: intake.channel,
            category: intake.category,
            description: intake.description,
            location,
            reporter: intake.reporter,
            co_signers: intake.co_signers,
        },
        events,
    };
    Ok(state.store.insert_case_with_access(&record, &intake.access).await?)
}

/// A case with everything needed to decide who may see what.
pub struct LoadedCase {
    pub record: CaseRecord,
    pub access: CaseAccessRow,
    pub status: CaseStatus,
    pub facts: CaseFacts,
}

pub async fn load(state: &AppState, id: CaseId) -> Result<LoadedCase, ApiError> {
    let record = state.store.load_case(id).await?;
    let access = state.store.case_access(id).await?;
    let status = CaseStatus::replay(id, &record.events).map_err(|e| ApiError::internal(format!("stored log: {e}")))?;
    let mut facts = CaseFacts::from_status(
        record.row.location.unit.clone(),
        &status,
        access.reporter_account.as_deref(),
    );
    facts.complained_unit = access.complained_unit.clone();
    facts.complained_office = access.complained_office.clone();
    Ok(LoadedCase {
        record,
        access,
        status,
        facts,
    })
}

/// Checks access and the workflow rules, then appends `kind` to the case's log.
pub async fn act(
    state: &AppState,
    principal: &Principal,
    id: CaseId,
    action: Action,
    kind: EventKind,
) -> Result<CaseStatus, ApiError> {
    let case = load(state, id).await?;
    access::can(principal, action, &case.facts)?;
    let event = CaseEvent {
        at: state.now().max(
            case.record
                .events
                .last()
                .map(|e| e.at)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        ),
        actor: principal.account.clone(),
        kind,
    };
    let ctx = RuleContext {
        case: id,
        kind: case.record.row.kind,
        urgency: Urgency::General,
        resident: case.access.reporter_account.as_deref(),
        config: &state.clocks,
        calendar: &state.calendar,
    };
    rules::check(&event, &case.record.events, &ctx)?;
    let mut status = case.status;
    status.apply(&event)?;
    state
        .store
        .append_events(id, case.record.row.last_seq, std::slice::from_ref(&event), &status)
        .await?;
    Ok(status)
}

/// Writes an audit record of a staff read of personal data. A failure to audit fails the read.
pub async fn audit_read(state: &AppState, principal: &Principal, id: CaseId, what: &str) -> Result<(), ApiError> {
    state
        .store
        .write_audit(&store::AuditEntry {
            at: state.now().unix_timestamp(),
            account: principal.account.clone(),
            role: principal.role.as_str().to_string(),
            action: "read_reporter".into(),
            case_id: Some(id),
            detail: what.to_string(),
        })
        .await?;
    Ok(())
}
