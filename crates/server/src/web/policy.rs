//! A unit's policy on the pages, `GET /policy?unit=CODE&key=KEY`: the effective value of every key with the layer
//! that set it, the explanation of one key (every layer that set it from the root down, and the guardrails that bound
//! it — `rest::governance::explain_of`), the guardrails in force; and for those who govern the unit
//! (`domain::access`: office heads and administrators in their subtree), the unit's own layer as a TOML form,
//! `POST /policy/{unit}`, saved through the same `rest::steering::save_layer` as the REST route. A refusal is shown
//! beside the field: each broken guardrail with its id, its owner, the layer or article it comes from and the key.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{self, Principal, UnitAction};
use domain::territory::UnitCode;
use serde::Deserialize;

use super::intake::Choice;
use super::page::{Ctx, Failure};
use crate::error::ApiError;
use crate::rest::governance::{EffectivePolicy, GuardrailView, PolicyExplanation, explain_of, policy_of};
use crate::rest::steering::{SetPolicy, save_layer};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct PolicyQuery {
    unit: Option<String>,
    key: Option<String>,
    saved: Option<String>,
}

/// One key of the effective policy and the layer that set it.
pub struct ValueLine {
    pub key: String,
    pub value: String,
    pub unit: String,
    pub source: String,
    pub effective_from: String,
    /// The key is named by a refusal of the last save.
    pub broken: bool,
}

/// A guardrail in force, as written.
pub struct GuardrailLine {
    pub id: String,
    pub key: String,
    pub bound: String,
    pub owner: String,
    pub source: String,
    pub cites: String,
}

/// One broken guardrail of a refused save.
pub struct Refusal {
    pub guardrail: String,
    pub owner: String,
    /// Where the guardrail comes from: the layer that declares it, and the article it cites.
    pub origin: String,
    pub key: String,
    pub value: String,
    pub rule: String,
    pub reason: String,
}

/// The explanation of one leaf.
pub struct Explained {
    pub key: String,
    pub value: String,
    /// The effective value as a TOML literal, to start the per-key form from.
    pub literal: String,
    pub setters: Vec<ValueLine>,
    pub guardrails: Vec<GuardrailLine>,
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage<'a> {
    ctx: &'a Ctx,
    unit: String,
    unit_name: String,
    date: String,
    units: Vec<Choice>,
    values: Vec<ValueLine>,
    guardrails: Vec<GuardrailLine>,
    key: String,
    explained: Vec<Explained>,
    explain_error: String,
    may_govern: bool,
    /// The layer text in the form: the unit's own layer in force, or what was posted.
    layer: String,
    effective_from: String,
    refusals: Vec<Refusal>,
    layer_error: String,
    date_error: String,
    key_error: String,
    saved: bool,
}

fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn unit_label(state: &AppState, code: &str) -> String {
    UnitCode::parse(code)
        .ok()
        .and_then(|c| state.territory.get(&c).map(|u| format!("{} ({code})", u.name)))
        .unwrap_or_else(|| code.to_string())
}

fn guardrail_line(state: &AppState, g: &GuardrailView) -> GuardrailLine {
    let field = |k: &str| {
        g.guardrail
            .get(k)
            .filter(|v| !v.is_null())
            .map(shown)
            .unwrap_or_default()
    };
    let mut bound = Vec::new();
    for (name, sign) in [("min", "≥"), ("max", "≤")] {
        let v = field(name);
        if !v.is_empty() {
            bound.push(format!("{sign} {v}"));
        }
    }
    for name in ["one_of", "fixed", "rule"] {
        let v = field(name);
        if !v.is_empty() {
            bound.push(format!("{name}: {v}"));
        }
    }
    GuardrailLine {
        id: field("id"),
        key: field("key"),
        bound: bound.join(", "),
        owner: unit_label(state, &g.owner),
        source: g.source.clone(),
        cites: field("cites"),
    }
}

fn may_govern(principal: &Principal, unit: &str) -> bool {
    UnitCode::parse(unit).is_ok_and(|u| access::can_at_unit(principal, UnitAction::GovernPolicy, &u).is_ok())
}

/// The units offered by the picker: the caller's scope and the units right below it, and the unit shown.
fn unit_choices(state: &AppState, principal: &Principal, shown_unit: &str) -> Vec<Choice> {
    let mut codes = vec![principal.scope.clone()];
    codes.extend(state.territory.children(&principal.scope).iter().cloned());
    if let Ok(code) = UnitCode::parse(shown_unit)
        && !codes.contains(&code)
    {
        codes.push(code);
    }
    codes
        .iter()
        .map(|c| Choice {
            value: c.to_string(),
            label: unit_label(state, c.as_str()),
            selected: c.as_str() == shown_unit,
        })
        .collect()
}

/// What a refused or malformed save left to show beside the fields.
#[derive(Default)]
struct Outcome {
    layer: Option<String>,
    effective_from: String,
    refusals: Vec<Refusal>,
    layer_error: String,
    date_error: String,
    /// Why the per-key form's key or value could not be set.
    key_error: String,
}

async fn page<'a>(
    state: &AppState,
    ctx: &'a Ctx,
    principal: &Principal,
    unit: &str,
    key: &str,
    saved: bool,
    outcome: Outcome,
) -> Result<PolicyPage<'a>, Failure> {
    let policy: EffectivePolicy = policy_of(state, principal, unit, None).await.map_err(|e| ctx.fail(e))?;
    let broken: Vec<&str> = outcome.refusals.iter().map(|r| r.key.as_str()).collect();
    let values = policy
        .values
        .iter()
        .map(|v| ValueLine {
            key: v.key.clone(),
            value: shown(&v.set_by.value),
            unit: unit_label(state, &v.set_by.unit),
            source: v.set_by.source.clone(),
            effective_from: v.set_by.effective_from.clone(),
            broken: broken.contains(&v.key.as_str()),
        })
        .collect();
    let guardrails = policy.guardrails.iter().map(|g| guardrail_line(state, g)).collect();
    let (explained, explain_error) = if key.is_empty() {
        (Vec::new(), String::new())
    } else {
        match explain_of(state, principal, unit, key, None).await {
            Ok(list) => (list.iter().map(|e| explained(state, e)).collect(), String::new()),
            Err(e) if e.status().is_client_error() => (Vec::new(), ctx.say_error(&e)),
            Err(e) => return Err(ctx.fail(e)),
        }
    };
    let governs = may_govern(principal, unit);
    let layer = match outcome.layer {
        Some(text) => text,
        None if governs => own_layer(state, unit).await.map_err(|e| ctx.fail(e))?,
        None => String::new(),
    };
    Ok(PolicyPage {
        ctx,
        unit_name: unit_label(state, unit),
        unit: unit.to_string(),
        date: policy.date.clone(),
        units: unit_choices(state, principal, unit),
        values,
        guardrails,
        key: key.to_string(),
        explained,
        explain_error,
        may_govern: governs,
        layer,
        effective_from: outcome.effective_from,
        refusals: outcome.refusals,
        layer_error: outcome.layer_error,
        date_error: outcome.date_error,
        key_error: outcome.key_error,
        saved,
    })
}

fn explained(state: &AppState, e: &PolicyExplanation) -> Explained {
    Explained {
        key: e.key.clone(),
        value: e.value.as_ref().map(shown).unwrap_or_else(|| "—".to_string()),
        literal: e
            .value
            .as_ref()
            .and_then(|v| toml::Value::try_from(v).ok())
            .map(|v| v.to_string())
            .unwrap_or_default(),
        setters: e
            .setters
            .iter()
            .map(|s| ValueLine {
                key: e.key.clone(),
                value: shown(&s.value),
                unit: unit_label(state, &s.unit),
                source: s.source.clone(),
                effective_from: s.effective_from.clone(),
                broken: false,
            })
            .collect(),
        guardrails: e.guardrails.iter().map(|g| guardrail_line(state, g)).collect(),
    }
}

/// The unit's own layer in force today, as TOML (empty when it has none).
async fn own_layer(state: &AppState, unit: &str) -> Result<String, ApiError> {
    let Ok(code) = UnitCode::parse(unit) else {
        return Ok(String::new());
    };
    let book = app::governance::load_book(&state.store).await?;
    let today = state.rules.calendar.local_date(state.now());
    let Some(version) = book.layer_at(&code, today).filter(|v| v.unit == code) else {
        return Ok(String::new());
    };
    // The form's date field says when the edit takes effect: the stored version's own date is left out.
    let mut raw = version.parsed.raw.clone();
    if let Some(toml::Value::Table(header)) = raw.get_mut("layer") {
        header.remove("effective_from");
        if header.is_empty() {
            raw.remove("layer");
        }
    }
    Ok(toml::to_string(&raw).unwrap_or_default())
}

/// `GET /policy`: the policy of a unit (the caller's scope unless `unit` names another).
pub async fn show(State(state): State<AppState>, ctx: Ctx, Query(q): Query<PolicyQuery>) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    let unit = q
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(|| principal.scope.to_string(), str::to_string);
    let key = q.key.as_deref().map(str::trim).unwrap_or_default().to_string();
    let page = page(
        &state,
        &ctx,
        principal,
        &unit,
        &key,
        q.saved.is_some(),
        Outcome::default(),
    )
    .await?;
    Ok(ctx.render(&page))
}

#[derive(Debug, Deserialize)]
pub struct LayerForm {
    csrf: String,
    layer: String,
    #[serde(default)]
    effective_from: String,
}

/// `POST /policy/{unit}`: saves the unit's layer; back to the policy with the new values, or the form again with
/// each refusal beside the field it concerns.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(unit): Path<String>,
    Form(form): Form<LayerForm>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let principal = ctx.require()?;
    save_text(&state, &ctx, principal, &unit, form.layer, form.effective_from, "").await
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    csrf: String,
    key: String,
    value: String,
    #[serde(default)]
    effective_from: String,
}

/// A value as typed in the per-key form: a TOML literal (`15`, `true`, `["a", "b"]`, `"text"`), else the text itself.
fn typed_value(text: &str) -> toml::Value {
    let text = text.trim();
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// `layer` with the dotted `key` set to `value`, the tables on its path made where missing; an error names the part
/// of the key that is a value, not a table.
fn with_key(layer: &str, key: &str, value: toml::Value) -> Result<String, String> {
    let mut table: toml::Table = toml::from_str(layer).map_err(|e| e.to_string())?;
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("{key:?} is not a dotted key such as clocks.general"));
    }
    let (last, path) = parts.split_last().ok_or_else(|| "the key is empty".to_string())?;
    let mut at = &mut table;
    for part in path {
        let entry = at
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = entry
            .as_table_mut()
            .ok_or_else(|| format!("{part:?} in {key:?} holds a value, not a table of keys"))?;
    }
    at.insert(last.to_string(), value);
    toml::to_string(&table).map_err(|e| e.to_string())
}

/// `POST /policy/{unit}/key`: sets one key in the unit's own layer in force (the rest of the layer unchanged) and
/// saves it as a whole, through the same checks as the layer form; a refusal is shown beside the key.
pub async fn save_key(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(unit): Path<String>,
    Form(form): Form<KeyForm>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let principal = ctx.require()?;
    let key = form.key.trim().to_string();
    let current = if may_govern(principal, &unit) {
        own_layer(&state, &unit).await.map_err(|e| ctx.fail(e))?
    } else {
        String::new()
    };
    let layer = match with_key(&current, &key, typed_value(&form.value)) {
        Ok(layer) => layer,
        Err(message) => {
            let outcome = Outcome {
                key_error: format!("{key}: {message}"),
                ..Outcome::default()
            };
            let page = page(&state, &ctx, principal, &unit, &key, false, outcome).await?;
            return Ok(ctx.render_with(StatusCode::BAD_REQUEST, &page));
        }
    };
    save_text(&state, &ctx, principal, &unit, layer, form.effective_from, &key).await
}

/// Saves `layer` as the unit's layer through `rest::steering::save_layer`; the page again with the refusals when it is
/// refused (`key`: the key the per-key form set, whose explanation is shown with them).
async fn save_text(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    unit: &str,
    layer: String,
    effective_from: String,
    key: &str,
) -> Result<Response, Failure> {
    let request = SetPolicy {
        layer: layer.clone(),
        effective_from: Some(effective_from.trim().to_string()).filter(|s| !s.is_empty()),
        source: None,
    };
    let error = match save_layer(state, principal, unit, &request).await {
        Ok(saved) => {
            let mut query = vec![("unit", saved.unit.as_str()), ("saved", "1")];
            if !key.is_empty() {
                query.push(("key", key));
            }
            let to = format!("/policy?{}", serde_urlencoded::to_string(query).unwrap_or_default());
            return Ok(ctx.with_cookies(Redirect::to(&to).into_response()));
        }
        Err(error) => error,
    };
    let status = error.status();
    let mut outcome = Outcome {
        layer: Some(layer),
        effective_from,
        ..Outcome::default()
    };
    match error {
        ApiError::GuardrailsBroken { violations, .. } => {
            // The article a guardrail cites is part of the guardrail as its owner wrote it.
            let policy = policy_of(state, principal, unit, None).await.map_err(|e| ctx.fail(e))?;
            outcome.refusals = violations
                .into_iter()
                .map(|v| {
                    let cites = policy
                        .guardrails
                        .iter()
                        .find(|g| {
                            g.owner == v.owner && g.guardrail.get("id").and_then(|i| i.as_str()) == Some(&v.guardrail)
                        })
                        .and_then(|g| g.guardrail.get("cites").and_then(|c| c.as_str()).map(str::to_string))
                        .unwrap_or_default();
                    Refusal {
                        guardrail: v.guardrail,
                        owner: unit_label(state, &v.owner),
                        origin: [v.owner_source, cites]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" · "),
                        key: v.key,
                        value: v.value.unwrap_or_default(),
                        rule: v.rule,
                        reason: ctx.t.say(&v.reason_said),
                    }
                })
                .collect();
        }
        ApiError::Invalid(fields) => {
            for f in fields {
                if matches!(f.field.as_str(), "date" | "effective_from") {
                    outcome.date_error = f.message;
                } else if f.field == "layer" || f.field.is_empty() {
                    outcome.layer_error = f.message;
                } else {
                    outcome.layer_error = format!("{}: {}", f.field, f.message);
                }
            }
        }
        other if status.is_client_error() && status != StatusCode::FORBIDDEN && status != StatusCode::NOT_FOUND => {
            outcome.layer_error = other.to_string();
        }
        other => return Err(ctx.fail(other)),
    }
    if !key.is_empty() {
        outcome.key_error = outcome.layer_error.clone();
    }
    let page = page(state, ctx, principal, unit, key, false, outcome).await?;
    Ok(ctx.render_with(status, &page))
}

#[cfg(test)]
mod tests {
    use super::{typed_value, with_key};

    #[test]
    fn one_key_is_set_and_the_rest_of_the_layer_kept() {
        let layer = "[mediation]\nmax_days = 18\n";
        let got = with_key(layer, "clocks.petition.handle_days", typed_value("45")).unwrap();
        let table: toml::Table = toml::from_str(&got).unwrap();
        assert_eq!(table["mediation"]["max_days"].as_integer(), Some(18));
        assert_eq!(table["clocks"]["petition"]["handle_days"].as_integer(), Some(45));
        let err = with_key(layer, "mediation.max_days.x", typed_value("1")).unwrap_err();
        assert!(err.contains("holds a value, not a table"), "{err}");
        assert_eq!(typed_value("abc"), toml::Value::String("abc".into()));
        assert_eq!(typed_value("[\"a\"]").as_array().map(Vec::len), Some(1));
        assert!(with_key(layer, "mediation..x", typed_value("1")).is_err());
    }
}
