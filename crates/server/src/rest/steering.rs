//! Governance writes over REST: a unit's policy layer, filing a pilot, its lifecycle steps (recording an evaluation
//! among them) and adoptions by more units.
//!
//! Every handler is thin: it validates the input, asks `domain::access` whether the caller may govern the units
//! concerned (office heads and administrators, within their territory subtree), calls the same `app::governance`
//! use case as `grassroots policy set` and `grassroots pilot …`, and maps the result. A change that would break a
//! guardrail is refused with 422 and one entry per broken guardrail (its id, the owner unit and the key); a rejected
//! layer is still recorded in the policy history by the use case.

use app::governance;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::access::{self, Principal, UnitAction};
use domain::pilot::{Pilot, PilotAction};
use domain::territory::UnitCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Json;
use super::governance::{AdoptionView, PilotBrief, known_unit, pilot_and_owner, policy_date};
use crate::caller::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The largest policy layer or pilot text accepted, in bytes.
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The most units one adoption may name.
const MAX_ADOPTERS: usize = 500;

pub(crate) fn may_govern(principal: &Principal, unit: &UnitCode) -> Result<(), ApiError> {
    Ok(access::can_at_unit(principal, UnitAction::GovernPolicy, unit)?)
}

/// Reloads the clocks that policy layers and pilots under way set, after one of them changed.
async fn refresh_rules(state: &AppState) -> Result<(), ApiError> {
    let book = governance::load_book(&state.store).await?;
    let pilots = governance::pilots_in_force(&state.store).await?;
    state.rules.set_policies(&book, &pilots);
    Ok(())
}

fn text_field<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::invalid(field, "required"));
    }
    if value.len() > MAX_TEXT_BYTES {
        return Err(ApiError::invalid(field, format!("longer than {MAX_TEXT_BYTES} bytes")));
    }
    Ok(value)
}

/// Where a text came from, for the record: the client's label (at most 200 bytes) or `api:ACCOUNT`.
fn source_label(given: Option<&str>, principal: &Principal) -> Result<String, ApiError> {
    match given.map(str::trim) {
        Some(s) if s.len() > 200 => Err(ApiError::invalid("source", "longer than 200 bytes")),
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Ok(format!("api:{}", principal.account)),
    }
}

/// A new version of a unit's policy layer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetPolicy {
    /// The layer in TOML, as `grassroots policy set` reads it from a file (docs/policy.md).
    pub layer: String,
    /// `YYYY-MM-DD`, used when the layer has no `layer.effective_from` (default: today).
    pub effective_from: Option<String>,
    /// A label for the record, e.g. the file name (default: `api:ACCOUNT`).
    pub source: Option<String>,
}

/// A saved layer version.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedLayer {
    pub unit: String,
    pub effective_from: String,
    pub source: String,
    pub saved_by: String,
}

/// Saves a new version of the unit's policy layer after checking every guardrail in force above and within it.
#[utoipa::path(
    post,
    path = "/api/v1/units/{code}/policy",
    tag = "governance",
    params(("code" = String, Path, description = "division code")),
    request_body = SetPolicy,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Saved", body = SavedLayer),
        (status = 400, description = "The code, date or layer is malformed (the field names the key at fault)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not govern this unit", body = ErrorBody),
        (status = 404, description = "No such unit in the territory served", body = ErrorBody),
        (status = 409, description = "A stored policy layer no longer parses", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "The layer would break guardrails in force: each is named with its owner and key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(req): Json<SetPolicy>,
) -> Result<(StatusCode, axum::Json<SavedLayer>), ApiError> {
    let principal = caller.require()?;
    Ok((
        StatusCode::CREATED,
        axum::Json(save_layer(&state, principal, &code, &req).await?),
    ))
}

/// Saves a new version of the layer of the unit `code` as `principal` (REST and the policy page).
pub(crate) async fn save_layer(
    state: &AppState,
    principal: &Principal,
    code: &str,
    req: &SetPolicy,
) -> Result<SavedLayer, ApiError> {
    let unit = known_unit(state, code)?;
    let layer = text_field("layer", &req.layer)?;
    let fallback = policy_date(state, req.effective_from.as_deref())?;
    let source = source_label(req.source.as_deref(), principal)?;
    may_govern(principal, &unit)?;
    let version = governance::set_policy(
        &state.store,
        &state.rules.calendar,
        &unit,
        &source,
        layer,
        Some(fallback),
        &principal.account,
        state.now(),
    )
    .await?;
    // Cases filed from now on run on the new clocks.
    refresh_rules(state).await?;
    Ok(SavedLayer {
        unit: version.unit.to_string(),
        effective_from: governance::fmt_date(version.effective_from),
        source,
        saved_by: principal.account.clone(),
    })
}

/// A pilot to file.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FilePilot {
    /// The pilot in TOML, as `grassroots pilot file` reads it (docs/policy.md): name, owner, units, start,
    /// hypothesis, outcomes, officials and the `[change]`.
    pub spec: String,
    /// A label for the record, e.g. the file name (default: `api:ACCOUNT`).
    pub source: Option<String>,
}

/// A filed pilot with its filing record.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiledPilot {
    pub pilot: PilotBrief,
    /// The level above the owner the pilot is filed with (absent when a province files with the centre).
    pub filed_with: Option<String>,
    /// The filing as recorded: who filed what, when, within which guardrails.
    #[schema(value_type = Object)]
    pub filing: serde_json::Value,
}

/// Files a pilot run by a unit the caller governs: checked, its change checked against the guardrails of every
/// pilot unit, and recorded with the level above (the fault-tolerance record).
#[utoipa::path(
    post,
    path = "/api/v1/pilots",
    tag = "governance",
    request_body = FilePilot,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Filed, in state proposed", body = FiledPilot),
        (status = 400, description = "The pilot text is malformed (the field names the key at fault)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not govern the pilot's owner", body = ErrorBody),
        (status = 404, description = "The owner is not in the territory served", body = ErrorBody),
        (status = 409, description = "A pilot of that name exists, or a pilot unit is unknown", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "The change would break guardrails in force: each is named with its owner and key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn file_pilot(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<FilePilot>,
) -> Result<(StatusCode, axum::Json<FiledPilot>), ApiError> {
    let principal = caller.require()?;
    let spec = text_field("spec", &req.spec)?;
    let source = source_label(req.source.as_deref(), principal)?;
    // Parsed here only to learn the owner to authorize; the use case checks the pilot again in full.
    let pilot = Pilot::parse(&source, spec).map_err(|e| ApiError::from(app::AppError::Pilot(e)))?;
    known_unit(&state, pilot.owner.as_str())?;
    may_govern(principal, &pilot.owner)?;
    let (id, filing) = governance::file_pilot(&state.store, &source, spec, state.now()).await?;
    let row = state
        .store
        .pilot(&id.to_string())
        .await?
        .ok_or_else(|| ApiError::internal(format!("pilot {id} vanished after filing")))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FiledPilot {
            pilot: PilotBrief::from(&row),
            filed_with: filing.filed_with.as_ref().map(ToString::to_string),
            filing: serde_json::to_value(&filing).unwrap_or_default(),
        }),
    ))
}

/// The pilot named in a path, after the caller's right to govern its owner is checked.
async fn governable_pilot(state: &AppState, principal: &Principal, raw: &str) -> Result<store::PilotRow, ApiError> {
    let (row, owner) = pilot_and_owner(state, raw).await?;
    may_govern(principal, &owner)?;
    Ok(row)
}

/// A lifecycle step.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PilotStep {
    /// start, continue, expand, revise, abandon or codify (evaluations and adoptions have their own routes).
    pub action: String,
}

/// A pilot after a step.
#[derive(Debug, Serialize, ToSchema)]
pub struct PilotStepped {
    pub pilot: PilotBrief,
}

/// Takes a lifecycle step on a pilot whose owner the caller governs. `codify` merges the practice into the owner's
/// policy layer, checked against the guardrails like any layer.
#[utoipa::path(
    post,
    path = "/api/v1/pilots/{id}/actions",
    tag = "governance",
    params(("id" = String, Path, description = "pilot id or name")),
    request_body = PilotStep,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The step is recorded; the pilot in its new state", body = PilotStepped),
        (status = 400, description = "The action is not one of the steps", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not govern the pilot's owner", body = ErrorBody),
        (status = 404, description = "No such pilot", body = ErrorBody),
        (status = 409, description = "The pilot's state refuses the step, or the stored pilot no longer parses", body = ErrorBody),
        (status = 422, description = "Codifying would break guardrails in force: each is named with its owner and key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn act_on_pilot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<PilotStep>,
) -> Result<axum::Json<PilotStepped>, ApiError> {
    let principal = caller.require()?;
    Ok(axum::Json(step_pilot(&state, principal, &id, &req).await?))
}

/// Takes a lifecycle step on the pilot `id` as `principal` (REST and the pilot page).
pub(crate) async fn step_pilot(
    state: &AppState,
    principal: &Principal,
    id: &str,
    req: &PilotStep,
) -> Result<PilotStepped, ApiError> {
    let action = PilotAction::parse(req.action.trim())
        .filter(|a| !matches!(a, PilotAction::Evaluate | PilotAction::Adopt))
        .ok_or_else(|| {
            ApiError::invalid(
                "action",
                format!(
                    "{:?} is not one of start, continue, expand, revise, abandon, codify",
                    req.action
                ),
            )
        })?;
    let row = governable_pilot(state, principal, id).await?;
    governance::act(
        &state.store,
        &row.id.to_string(),
        action,
        &principal.account,
        state.now(),
    )
    .await?;
    // A pilot that starts, stops or is codified changes the clocks of its units' new cases.
    refresh_rules(state).await?;
    let row = state
        .store
        .pilot(&row.id.to_string())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pilot {id:?}")))?;
    Ok(PilotStepped {
        pilot: PilotBrief::from(&row),
    })
}

/// Units taking up an expanded practice.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Adopt {
    /// Division codes, at the level of the pilot's units and within the pool it is evaluated in.
    pub units: Vec<String>,
    /// The day the units start, `YYYY-MM-DD`.
    pub from: String,
}

/// A recorded adoption.
#[derive(Debug, Serialize, ToSchema)]
pub struct Adopted {
    pub pilot: PilotBrief,
    pub adoption: AdoptionView,
}

/// Copies an expanded practice into more units from a date (a new cohort of the pilot's evaluation). The caller must
/// govern every adopting unit; the practice itself may come from elsewhere: spreading a proven practice is the point.
#[utoipa::path(
    post,
    path = "/api/v1/pilots/{id}/adoptions",
    tag = "governance",
    params(("id" = String, Path, description = "pilot id or name")),
    request_body = Adopt,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The adoption is recorded", body = Adopted),
        (status = 400, description = "A unit code or the date is malformed, a unit is not in the territory, or no unit is named", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not govern every adopting unit", body = ErrorBody),
        (status = 404, description = "No such pilot", body = ErrorBody),
        (status = 409, description = "The pilot is not expanded, or a unit cannot adopt it (level, pool, already adopting)", body = ErrorBody),
        (status = 422, description = "An adopting unit's policy would break guardrails in force: each is named with its owner and key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn adopt_pilot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(req): Json<Adopt>,
) -> Result<(StatusCode, axum::Json<Adopted>), ApiError> {
    let principal = caller.require()?;
    Ok((
        StatusCode::CREATED,
        axum::Json(adopt(&state, principal, &id, &req).await?),
    ))
}

/// Records units of `principal`'s adopting the expanded practice `id` (REST and the practices page).
pub(crate) async fn adopt(state: &AppState, principal: &Principal, id: &str, req: &Adopt) -> Result<Adopted, ApiError> {
    if req.units.is_empty() || req.units.len() > MAX_ADOPTERS {
        return Err(ApiError::invalid(
            "units",
            format!("name from 1 to {MAX_ADOPTERS} units"),
        ));
    }
    let mut units = Vec::with_capacity(req.units.len());
    for raw in &req.units {
        let unit = known_unit(state, raw).map_err(|e| match e {
            ApiError::NotFound(message) => ApiError::invalid("units", message),
            ApiError::Invalid(_) => ApiError::invalid("units", format!("{raw:?} is not a division code")),
            other => other,
        })?;
        if !units.contains(&unit) {
            units.push(unit);
        }
    }
    let from = governance::parse_date(&req.from).map_err(|e| ApiError::invalid("from", e.to_string()))?;
    let not_found = || ApiError::NotFound(format!("no pilot {:?}", id.trim()));
    if id.trim().is_empty() || id.len() > 200 {
        return Err(not_found());
    }
    let row = state.store.pilot(id.trim()).await?.ok_or_else(not_found)?;
    for unit in &units {
        may_govern(principal, unit)?;
    }
    governance::adopt(
        &state.store,
        &row.id.to_string(),
        units.clone(),
        from,
        &principal.account,
        state.now(),
    )
    .await
    .map_err(|e| match e {
        // The cohorts refuse a unit that already follows the practice: a conflict with the pilot's record.
        app::AppError::Pilot(e @ domain::pilot::PilotError::Invalid { .. }) => ApiError::Conflict(e.to_string().into()),
        other => other.into(),
    })?;
    refresh_rules(state).await?;
    let row = state.store.pilot(&row.id.to_string()).await?.ok_or_else(not_found)?;
    Ok(Adopted {
        pilot: PilotBrief::from(&row),
        adoption: AdoptionView {
            units: units.iter().map(ToString::to_string).collect(),
            from: from.to_string(),
        },
    })
}

/// Evaluates a pilot on the case store and records the evaluation as a step of its lifecycle (it becomes
/// `evaluated`): a decision for those who govern the pilot's owner. Reading an evaluation without recording it is
/// `GET` on the same path.
#[utoipa::path(
    post,
    path = "/api/v1/pilots/{id}/evaluation",
    tag = "governance",
    params(("id" = String, Path, description = "pilot id or name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The evaluation recorded: effects per outcome, the verdict and the site-selection check", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not govern the pilot's owner", body = ErrorBody),
        (status = 404, description = "No such pilot", body = ErrorBody),
        (status = 409, description = "The pilot cannot be evaluated in its state (not started, or before its start date) or on the data held", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn record_evaluation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<governance::PilotEvaluation>, ApiError> {
    let principal = caller.require()?;
    Ok(axum::Json(record_of_evaluation(&state, principal, &id).await?))
}

/// Evaluates the pilot `id` and records it as `principal` (REST and the pilot page).
pub(crate) async fn record_of_evaluation(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<governance::PilotEvaluation, ApiError> {
    let row = governable_pilot(state, principal, id).await?;
    Ok(governance::evaluate_pilot(&state.store, &row.id.to_string(), &principal.account, state.now()).await?)
}
