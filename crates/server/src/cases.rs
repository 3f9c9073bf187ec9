//! The case use cases as the server calls them: intake (the server resolves a client's whereabouts to a unit, then
//! `app::workflow` routes the case and stores it with its access facts in one transaction), loading a case with the
//! facts that decide who may see it, and acting on a case (`domain::access` first, then `app::workflow`'s rule-checked
//! append). Every write returns only after its transaction commits; routing and the rules live in `app` alone.

use app::workflow::{self, HeldCase, WorkflowError};
use domain::access::{self, Action, CaseFacts, Principal};
use domain::case::{Location, Reporter};
use domain::rules;
use domain::territory::UnitCode;
use domain::{CaseEvent, CaseId, CaseKind, CaseStatus, Channel, EventKind, NewCase};
use store::{CaseAccessRow, StoreError};

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

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> ApiError {
        match e {
            WorkflowError::Rule(e) => e.into(),
            // Routing fails only for a category no office at the place takes: the client's choice of category.
            WorkflowError::Routing(e) => ApiError::invalid("category", e.to_string()),
            WorkflowError::Store(e) => e.into(),
            WorkflowError::Invalid(message) => ApiError::BadRequest(message),
        }
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
    let case = NewCase {
        kind: intake.kind,
        channel: intake.channel,
        category: intake.category,
        description: intake.description,
        location,
        reporter: intake.reporter,
        co_signers: intake.co_signers,
    };
    let (id, _routing) = workflow::intake_with_access(
        &state.store,
        &state.rules,
        &state.directory,
        case,
        &intake.access,
        &intake.actor,
        state.now(),
    )
    .await?;
    Ok(id)
}

/// A case with everything needed to decide who may see what.
pub struct LoadedCase {
    pub held: HeldCase,
    pub facts: CaseFacts,
}

impl std::ops::Deref for LoadedCase {
    type Target = HeldCase;
    fn deref(&self) -> &HeldCase {
        &self.held
    }
}

pub async fn load(state: &AppState, id: CaseId) -> Result<LoadedCase, ApiError> {
    let held = workflow::hold(&state.store, id).await?;
    let mut facts = CaseFacts::from_status(
        held.record.row.location.unit.clone(),
        &held.status,
        held.access.reporter_account.as_deref(),
    );
    facts.complained_unit = held.access.complained_unit.clone();
    facts.complained_office = held.access.complained_office.clone();
    Ok(LoadedCase { held, facts })
}

/// Appends an event by `actor` to a loaded case through the workflow rules.
pub async fn append(state: &AppState, case: &LoadedCase, actor: &str, kind: EventKind) -> Result<CaseStatus, ApiError> {
    let event = CaseEvent {
        at: case.next_instant(state.now()),
        actor: actor.to_string(),
        kind,
    };
    Ok(workflow::act_on(&state.store, &state.rules, &case.held, event).await?)
}

/// Checks access, then appends `kind` to the case's log through the workflow rules.
pub async fn act(
    state: &AppState,
    principal: &Principal,
    id: CaseId,
    action: Action,
    kind: EventKind,
) -> Result<CaseStatus, ApiError> {
    let case = load(state, id).await?;
    access::can(principal, action, &case.facts)?;
    append(state, &case, &principal.account, kind).await
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
