//! Governance over REST: the effective policy of a unit and the explanation of one key, the pilots with their
//! fault-tolerance record, a pilot's evaluation (read, not recorded), and the monthly rates with their feedback
//! coverage and ranking.
//!
//! Every handler is thin: it reads and validates the input, asks `domain::access` whether the caller may read
//! statistics at the unit concerned (office heads, analysts and administrators, within their territory subtree),
//! calls `app::governance` or `app::workflow`, and maps the result to JSON. None of these outputs holds personal
//! data.

use app::governance;
use app::workflow;
use axum::Json;
use axum::extract::{Path, State};
use domain::access::{self, Principal, UnitAction};
use domain::rates::{Grouping, RateRow, YearMonth};
use domain::territory::{Level, UnitCode};
use serde::{Deserialize, Serialize};
use time::Date;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use super::Query;
use crate::caller::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// A unit of the territory served, named in the path.
pub(super) fn known_unit(state: &AppState, raw: &str) -> Result<UnitCode, ApiError> {
    let code = UnitCode::parse(raw.trim()).map_err(|e| ApiError::invalid("code", e.to_string()))?;
    if state.territory.get(&code).is_none() {
        return Err(ApiError::NotFound(format!("no unit {code}")));
    }
    Ok(code)
}

/// The date a policy is read at: the given `YYYY-MM-DD`, else today in the calendar's time zone.
pub(super) fn policy_date(state: &AppState, raw: Option<&str>) -> Result<Date, ApiError> {
    match raw {
        Some(s) => governance::parse_date(s).map_err(|e| ApiError::invalid("date", e.to_string())),
        None => Ok(state.now().to_offset(state.rules.calendar.offset()).date()),
    }
}

pub(super) fn may_read_stats(principal: &Principal, unit: &UnitCode) -> Result<(), ApiError> {
    Ok(access::can_at_unit(principal, UnitAction::ReadStats, unit)?)
}

fn json_of(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(items) => serde_json::Value::Array(items.iter().map(json_of).collect()),
        toml::Value::Table(t) => serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), json_of(v))).collect()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtDate {
    /// The day the policy is read at, `YYYY-MM-DD` (default: today).
    pub date: Option<String>,
}

/// One layer's setting of a key.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetterView {
    /// The unit whose layer set the value.
    pub unit: String,
    pub effective_from: String,
    pub source: String,
    /// Any JSON value: a number, a string, a boolean or a list, as the layer wrote it.
    pub value: serde_json::Value,
}

impl From<&domain::policy::Setter> for SetterView {
    fn from(s: &domain::policy::Setter) -> SetterView {
        SetterView {
            unit: s.unit.to_string(),
            effective_from: s.effective_from.to_string(),
            source: s.source.clone(),
            value: json_of(&s.value),
        }
    }
}

/// A guardrail in force, with the layer that declared it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuardrailView {
    pub owner: String,
    pub source: String,
    pub effective_from: String,
    /// The guardrail as written: `id`, `key`, bounds, `fixed`, `rule`, `cites`.
    #[schema(value_type = Object)]
    pub guardrail: serde_json::Value,
}

impl From<&domain::policy::OwnedGuardrail> for GuardrailView {
    fn from(g: &domain::policy::OwnedGuardrail) -> GuardrailView {
        GuardrailView {
            owner: g.owner.to_string(),
            source: g.source.clone(),
            effective_from: g.effective_from.to_string(),
            guardrail: serde_json::to_value(&g.guardrail).unwrap_or_default(),
        }
    }
}

/// One leaf of an effective policy: its value and the layer that set it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyValue {
    /// Dotted key, e.g. `clocks.petition.acceptance_days`.
    pub key: String,
    pub set_by: SetterView,
}

/// The effective policy of a unit on a date: every leaf with the layer that set it, and the guardrails in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectivePolicy {
    pub unit: String,
    pub date: String,
    pub values: Vec<PolicyValue>,
    pub guardrails: Vec<GuardrailView>,
}

/// The effective policy of a unit: the layers of its ancestors and its own, folded.
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}/policy",
    tag = "governance",
    params(("code" = String, Path, description = "division code"), AtDate),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The effective policy", body = EffectivePolicy),
        (status = 400, description = "The code or date is malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not read the governance of this unit", body = ErrorBody),
        (status = 404, description = "No such unit in the territory served", body = ErrorBody),
        (status = 409, description = "A stored policy layer no longer parses", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn effective_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<AtDate>,
) -> Result<Json<EffectivePolicy>, ApiError> {
    let principal = caller.require()?;
    Ok(Json(policy_of(&state, principal, &code, q.date.as_deref()).await?))
}

/// The effective policy of the unit `code` on `date` as `principal` may read it (REST and the policy page).
pub(crate) async fn policy_of(
    state: &AppState,
    principal: &Principal,
    code: &str,
    date: Option<&str>,
) -> Result<EffectivePolicy, ApiError> {
    let unit = known_unit(state, code)?;
    let date = policy_date(state, date)?;
    may_read_stats(principal, &unit)?;
    let folded = governance::load_book(&state.store).await?.effective(&unit, date);
    let values = folded
        .leaves
        .iter()
        .filter_map(|(key, setters)| {
            setters.last().map(|s| PolicyValue {
                key: key.clone(),
                set_by: s.into(),
            })
        })
        .collect();
    Ok(EffectivePolicy {
        unit: folded.unit.to_string(),
        date: folded.date.to_string(),
        values,
        guardrails: folded.guardrails.iter().map(GuardrailView::from).collect(),
    })
}

/// Why one key of a unit's policy has its value.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyExplanation {
    pub unit: String,
    pub date: String,
    pub key: String,
    /// The effective value, any JSON value (null when no layer sets the key).
    pub value: Option<serde_json::Value>,
    /// The layers that set the key, from the root down; the last is effective.
    pub setters: Vec<SetterView>,
    /// The guardrails that bound the key.
    pub guardrails: Vec<GuardrailView>,
}

/// Explains one key of a unit's effective policy: who set it, from the root down, and which guardrails bound it. A
/// key naming a table (`clocks.petition`) is answered with one explanation per leaf under it.
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}/policy/{key}",
    tag = "governance",
    params(
        ("code" = String, Path, description = "division code"),
        ("key" = String, Path, description = "dotted policy key, e.g. clocks.petition.acceptance_days"),
        AtDate
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One explanation per leaf the key names", body = [PolicyExplanation]),
        (status = 400, description = "The code, key or date is malformed, or the key is not a policy key", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller may not read the governance of this unit", body = ErrorBody),
        (status = 404, description = "No such unit in the territory served", body = ErrorBody),
        (status = 409, description = "A stored policy layer no longer parses", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn explain_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, key)): Path<(String, String)>,
    Query(q): Query<AtDate>,
) -> Result<Json<Vec<PolicyExplanation>>, ApiError> {
    let principal = caller.require()?;
    Ok(Json(
        explain_of(&state, principal, &code, &key, q.date.as_deref()).await?,
    ))
}

/// Why each leaf under `key` of the unit's policy has its value, as `principal` may read it (REST and the policy page).
pub(crate) async fn explain_of(
    state: &AppState,
    principal: &Principal,
    code: &str,
    key: &str,
    date: Option<&str>,
) -> Result<Vec<PolicyExplanation>, ApiError> {
    let unit = known_unit(state, code)?;
    let date = policy_date(state, date)?;
    if key.trim().is_empty() || key.len() > 200 {
        return Err(ApiError::invalid(
            "key",
            "a policy key is a dotted path of at most 200 bytes",
        ));
    }
    may_read_stats(principal, &unit)?;
    let book = governance::load_book(&state.store).await?;
    let explanations = book
        .explain(&unit, key.trim(), date)
        .map_err(|e| ApiError::invalid("key", e.to_string()))?;
    Ok(explanations.iter().map(PolicyExplanation::from).collect())
}

impl From<&domain::policy::Explanation> for PolicyExplanation {
    fn from(e: &domain::policy::Explanation) -> PolicyExplanation {
        PolicyExplanation {
            unit: e.unit.to_string(),
            date: e.date.to_string(),
            key: e.key.clone(),
            value: e.value().map(json_of),
            setters: e.setters.iter().map(SetterView::from).collect(),
            guardrails: e.guardrails.iter().map(GuardrailView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PilotBrief {
    pub id: i64,
    pub name: String,
    /// The unit that runs the pilot.
    pub owner: String,
    /// filed, running, evaluated, expanded, abandoned or codified.
    pub state: String,
    pub created_at: String,
}

impl From<&store::PilotRow> for PilotBrief {
    fn from(r: &store::PilotRow) -> PilotBrief {
        PilotBrief {
            id: r.id,
            name: r.name.clone(),
            owner: r.owner.clone(),
            state: r.state.clone(),
            created_at: rfc3339(r.created_at),
        }
    }
}

pub(super) fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The pilots whose owner lies within the caller's territory, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/pilots",
    tag = "governance",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pilots the caller may see", body = [PilotBrief]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller's role may not read statistics", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn list_pilots(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<PilotBrief>>, ApiError> {
    let principal = caller.require()?;
    Ok(Json(pilots_of(&state, principal).await?))
}

/// The pilots `principal` may see (REST and the pilots page).
pub(crate) async fn pilots_of(state: &AppState, principal: &Principal) -> Result<Vec<PilotBrief>, ApiError> {
    may_read_stats(principal, &principal.scope)?;
    let rows = state.store.pilots().await?;
    Ok(rows
        .iter()
        .filter(|r| UnitCode::parse(&r.owner).is_ok_and(|owner| may_read_stats(principal, &owner).is_ok()))
        .map(PilotBrief::from)
        .collect())
}

/// The pilot named in a path (by id or name) with its owner unit; 404 when there is none.
pub(super) async fn pilot_and_owner(state: &AppState, raw: &str) -> Result<(store::PilotRow, UnitCode), ApiError> {
    let raw = raw.trim();
    let not_found = || ApiError::NotFound(format!("no pilot {raw:?}"));
    if raw.is_empty() || raw.len() > 200 {
        return Err(not_found());
    }
    let row = state.store.pilot(raw).await?.ok_or_else(not_found)?;
    let owner = UnitCode::parse(&row.owner).map_err(|e| ApiError::internal(format!("pilot {}: {e}", row.name)))?;
    Ok((row, owner))
}

/// The pilot named in a path, after the caller's right to read its owner's statistics is checked.
pub(super) async fn readable_pilot(
    state: &AppState,
    principal: &Principal,
    raw: &str,
) -> Result<store::PilotRow, ApiError> {
    let (row, owner) = pilot_and_owner(state, raw).await?;
    may_read_stats(principal, &owner)?;
    Ok(row)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptionView {
    pub units: Vec<String>,
    pub from: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PilotEventView {
    pub action: String,
    pub actor: String,
    pub at: String,
    pub detail: String,
}

/// A pilot with its fault-tolerance record: the filings, the adoptions and every lifecycle event.
#[derive(Debug, Serialize, ToSchema)]
pub struct PilotRecord {
    pub pilot: PilotBrief,
    /// The units the pilot first runs in.
    pub units: Vec<String>,
    pub adoptions: Vec<AdoptionView>,
    /// The filings, each as recorded: who filed what, when, with whom, within which guardrails.
    #[schema(value_type = Vec<Object>)]
    pub filings: Vec<serde_json::Value>,
    pub events: Vec<PilotEventView>,
}

/// One pilot's record, by id or name.
#[utoipa::path(
    get,
    path = "/api/v1/pilots/{id}",
    tag = "governance",
    params(("id" = String, Path, description = "pilot id or name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pilot and its record", body = PilotRecord),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The pilot's owner lies outside what the caller may read", body = ErrorBody),
        (status = 404, description = "No such pilot", body = ErrorBody),
        (status = 409, description = "The stored pilot no longer parses", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn get_pilot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PilotRecord>, ApiError> {
    let principal = caller.require()?;
    Ok(Json(record_of(&state, principal, &id).await?))
}

/// One pilot's record as `principal` may read it (REST and the pilot page).
pub(crate) async fn record_of(state: &AppState, principal: &Principal, id: &str) -> Result<PilotRecord, ApiError> {
    let row = readable_pilot(state, principal, id).await?;
    let (stored, filings, events) = governance::pilot_record(&state.store, &row.id.to_string()).await?;
    Ok(PilotRecord {
        pilot: PilotBrief::from(&stored.row),
        units: stored.pilot.units.iter().map(ToString::to_string).collect(),
        adoptions: stored
            .adoptions
            .iter()
            .map(|a| AdoptionView {
                units: a.units.iter().map(ToString::to_string).collect(),
                from: a.from.to_string(),
            })
            .collect(),
        filings: filings
            .iter()
            .map(|f| serde_json::to_value(f).unwrap_or_default())
            .collect(),
        events: events
            .into_iter()
            .map(|e| PilotEventView {
                action: e.action,
                actor: e.actor,
                at: rfc3339(e.at),
                detail: e.detail,
            })
            .collect(),
    })
}

/// The pilot's effect as the case store shows it now (difference-in-differences over its adopters, with the
/// site-selection check), recording nothing: effects per outcome, the verdict and the site-selection check. Reading
/// needs the right to read statistics at the pilot's owner; recording the evaluation as a lifecycle step is `POST` on
/// the same path, for those who govern it.
#[utoipa::path(
    get,
    path = "/api/v1/pilots/{id}/evaluation",
    tag = "governance",
    params(("id" = String, Path, description = "pilot id or name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The evaluation: effects per outcome, the verdict and the site-selection check", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The pilot's owner lies outside what the caller may read", body = ErrorBody),
        (status = 404, description = "No such pilot", body = ErrorBody),
        (status = 409, description = "The pilot has not started, or the data held cannot evaluate it", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn assess_pilot(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<governance::PilotEvaluation>, ApiError> {
    let principal = caller.require()?;
    Ok(Json(assessment_of(&state, principal, &id).await?))
}

/// A pilot's evaluation, read and not recorded, as `principal` may read it (REST and the pilot page).
pub(crate) async fn assessment_of(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<governance::PilotEvaluation, ApiError> {
    let row = readable_pilot(state, principal, id).await?;
    Ok(governance::assess_pilot(&state.store, &row.id.to_string(), state.now()).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatesQuery {
    /// The month of creation of the cases counted, `YYYY-MM`.
    pub month: String,
    /// county, township (default) or village: rank units of that level; department: rank county offices.
    pub group: Option<String>,
}

/// One ranked row of the monthly rates.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateView {
    /// Rank in the whole territory served.
    pub rank: u32,
    pub month: String,
    /// The unit code or the county office.
    pub key: String,
    pub cases: u32,
    pub response_rate: Option<f64>,
    /// Of the replied cases whose resident answered (a rating, or a call-back recording one), the share resolved.
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    /// Of the replied cases, the share whose resident answered.
    pub feedback_coverage: Option<f64>,
    /// The weighted composite; a case without an answer counts as neither resolved nor satisfied in it.
    pub composite: Option<f64>,
    pub responded_on_time: u32,
    pub response_decided: u32,
    pub resolved: u32,
    pub replied: u32,
    pub with_feedback: u32,
    pub satisfied: u32,
    pub basically_satisfied: u32,
    pub unsatisfied: u32,
    pub rated: u32,
}

impl From<RateRow> for RateView {
    fn from(r: RateRow) -> RateView {
        RateView {
            rank: r.rank,
            month: r.month.to_string(),
            key: r.key,
            cases: r.cases,
            response_rate: r.response_rate,
            resolution_rate: r.resolution_rate,
            satisfaction_rate: r.satisfaction_rate,
            feedback_coverage: r.feedback_coverage,
            composite: r.composite,
            responded_on_time: r.responded_on_time,
            response_decided: r.response_decided,
            resolved: r.resolved,
            replied: r.replied,
            with_feedback: r.with_feedback,
            satisfied: r.satisfied,
            basically_satisfied: r.basically_satisfied,
            unsatisfied: r.unsatisfied,
            rated: r.rated,
        }
    }
}

pub(crate) fn grouping(raw: Option<&str>) -> Result<Grouping, ApiError> {
    match raw.map(str::trim) {
        None | Some("township") => Ok(Grouping::Unit(Level::Township)),
        Some("county") => Ok(Grouping::Unit(Level::County)),
        Some("village") => Ok(Grouping::Unit(Level::Village)),
        Some("department") => Ok(Grouping::Department),
        Some(other) => Err(ApiError::invalid(
            "group",
            format!("{other:?} is not one of county, township, village, department"),
        )),
    }
}

/// The unit a rates row is about: the row's unit, or the unit of the county office it names.
pub(super) fn unit_of_row(key: &str) -> Option<UnitCode> {
    UnitCode::parse(key.split(':').next().unwrap_or(key)).ok()
}

/// The month's response, resolution and satisfaction rates with the composite ranking (cases created in the month,
/// as their logs stand now), limited to the rows within the caller's territory; ranks are those of the whole
/// territory served.
#[utoipa::path(
    get,
    path = "/api/v1/rates",
    tag = "governance",
    params(RatesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ranked rows the caller may see", body = [RateView]),
        (status = 400, description = "The month or grouping is malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The caller's role may not read statistics", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn rates(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RatesQuery>,
) -> Result<Json<Vec<RateView>>, ApiError> {
    let principal = caller.require()?;
    Ok(Json(rates_of(&state, principal, &q.month, q.group.as_deref()).await?))
}

/// The month's ranked rows within `principal`'s territory (REST and the dashboard).
pub(crate) async fn rates_of(
    state: &AppState,
    principal: &Principal,
    month: &str,
    group: Option<&str>,
) -> Result<Vec<RateView>, ApiError> {
    let month = YearMonth::parse(month).map_err(|e| ApiError::invalid("month", e.to_string()))?;
    let grouping = grouping(group)?;
    may_read_stats(principal, &principal.scope)?;
    let rows = workflow::rates_report(&state.store, &state.rules, month, grouping, state.now()).await?;
    Ok(rows
        .into_iter()
        .filter(|r| unit_of_row(&r.key).is_some_and(|unit| may_read_stats(principal, &unit).is_ok()))
        .map(RateView::from)
        .collect())
}
