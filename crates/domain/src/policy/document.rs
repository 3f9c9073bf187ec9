//! The typed shape of one policy layer (a TOML file) and its parser, which names the file, the key path and the rule
//! when a document does not fit.
//!
//! Every field is optional: a layer states only what it refines, and the folded (effective) policy of a unit is the
//! same shape. [`SCHEMA`] lists every leaf key with its type; guardrails and `explain` are checked against it, and a
//! test keeps it in step with the structs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use super::PolicyError;
use super::guardrail::Guardrail;
use crate::case::CaseKind;
use crate::territory::Level;

/// One policy document: a layer as written by a unit, or the effective policy after folding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Who wrote this layer and from when it applies; not merged into the effective policy.
    pub layer: Option<LayerHeader>,
    pub routing: Option<Routing>,
    pub clocks: Option<Clocks>,
    pub mediation: Option<Mediation>,
    pub staffing: Option<Staffing>,
    pub ratings: Option<Ratings>,
    pub rates: Option<RateWeights>,
    pub escalation: Option<Escalation>,
    /// How a village's or community's self-governance compact is commented on and voted (issue 13).
    pub compacts: Option<CompactRules>,
    /// Constraints that this layer imposes on itself and every layer below it; accumulated, never merged.
    #[serde(default, rename = "guardrail", skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<Guardrail>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerHeader {
    /// The unit this layer belongs to; when given it must match the unit the layer is saved for.
    pub unit: Option<String>,
    /// The first day on which this version applies (a TOML local date, `2024-01-01`).
    pub effective_from: Option<toml::value::Datetime>,
    pub title: Option<String>,
    /// Why the change was made; recorded with the version.
    pub reason: Option<String>,
}

/// Where cases go. Category names are the deployment's own (e.g. `land`, `environment`, `neighbour_dispute`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// The office that receives what no rule matches.
    pub default_office: Option<String>,
    /// The competent body (谁主管、谁负责) for petitions of each category.
    pub competent: Option<BTreeMap<String, String>>,
    /// Named routing rules; a lower layer refines a rule by naming it again.
    pub rules: Option<BTreeMap<String, RoutingRule>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    pub category: Option<String>,
    /// The kinds of case the rule applies to; absent means every kind.
    pub kinds: Option<Vec<CaseKind>>,
    /// The office that handles the matter, e.g. `township.gov` or `county.housing`.
    pub office: Option<String>,
    /// The level of that office ("small matters don't leave the village, big matters don't leave the township").
    pub level: Option<Level>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clocks {
    /// Whether day limits count calendar days or working days.
    pub day_count: Option<DayCount>,
    pub petition: Option<PetitionClocks>,
    pub hotline: Option<HotlineClocks>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    Calendar,
    Working,
}

/// Petition limits; the statutory values are in the 2022 Regulations on Letters and Visits Work, Arts. 22, 34–36.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PetitionClocks {
    pub accept_days: Option<u32>,
    pub handle_days: Option<u32>,
    pub extension_max_days: Option<u32>,
    pub review_request_days: Option<u32>,
    pub review_decision_days: Option<u32>,
    pub recheck_days: Option<u32>,
}

/// Hotline-style limits per urgency, in hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotlineClocks {
    pub emergency_hours: Option<u32>,
    pub utilities_hours: Option<u32>,
    pub general_hours: Option<u32>,
    pub complex_hours: Option<u32>,
}

/// Mediation-first rules (the Maple Bridge practice).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mediation {
    /// Mediation is offered, never imposed (People's Mediation Law Art. 3).
    pub voluntary: Option<bool>,
    /// Categories for which mediation is offered before handling.
    pub first_for: Option<Vec<String>>,
    /// Whether a case is accepted only after mediation was tried; a guardrail usually forbids this.
    pub required_before_acceptance: Option<bool>,
    pub max_days: Option<u32>,
    /// Whether respected community members who are not staff may sit on mediation teams.
    pub community_mediators: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Staffing {
    pub auxiliary_workers_per_grid: Option<u32>,
    /// Largest share of grid workers who may be auxiliary staff.
    pub auxiliary_max_share: Option<f64>,
    /// Whether inspectors are recruited from adjoining townships (so nobody inspects their own neighbours).
    pub inspectors_from_adjoining_townships: Option<bool>,
    pub inspector_rotation_months: Option<u32>,
    /// Open cases per worker above which the office and its heads get an overload alert
    /// ([`crate::overload::OverloadRule`]).
    pub overload_open_cases_per_worker: Option<u32>,
}

/// When a resident may rate a reply and reopen the case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ratings {
    pub window_days: Option<u32>,
    pub reopen_window_days: Option<u32>,
    pub callback_after_days: Option<u32>,
}

/// Weights of the composite of the three rates; the effective weights must sum to 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateWeights {
    pub response: Option<f64>,
    pub resolution: Option<f64>,
    pub satisfaction: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub enabled: Option<bool>,
    /// Whether an overdue alert also goes to the level above.
    pub alert_level_above: Option<bool>,
    pub warn_before_days: Option<u32>,
    /// Categories whose overdue cases raise no alert; a guardrail usually forbids any.
    pub exempt_categories: Option<Vec<String>>,
}

/// The rules of a self-governance compact's comment period and vote. Unset keys take the national defaults of
/// [`crate::participation::CompactVoteRules::NATIONAL`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompactRules {
    /// The share of the electorate that must vote for the vote to count.
    pub quorum_share: Option<f64>,
    /// The share of the ballots cast that "yes" must exceed for the compact to be adopted.
    pub majority_share: Option<f64>,
    /// How long the public comment period lasts, in calendar days.
    pub comment_days: Option<u32>,
    /// How long the vote stays open, in calendar days.
    pub vote_days: Option<u32>,
}

/// The type of a leaf key, for guardrail checks and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafType {
    Integer,
    Float,
    Bool,
    Text,
    Date,
    TextList,
}

impl LeafType {
    pub fn is_numeric(self) -> bool {
        matches!(self, LeafType::Integer | LeafType::Float)
    }
}

/// Every leaf key of a policy document. `*` stands for a name the document chooses (a category or a rule name).
pub const SCHEMA: &[(&str, LeafType)] = &[
    ("layer.unit", LeafType::Text),
    ("layer.effective_from", LeafType::Date),
    ("layer.title", LeafType::Text),
    ("layer.reason", LeafType::Text),
    ("routing.default_office", LeafType::Text),
    ("routing.competent.*", LeafType::Text),
    ("routing.rules.*.category", LeafType::Text),
    ("routing.rules.*.kinds", LeafType::TextList),
    ("routing.rules.*.office", LeafType::Text),
    ("routing.rules.*.level", LeafType::Text),
    ("clocks.day_count", LeafType::Text),
    ("clocks.petition.accept_days", LeafType::Integer),
    ("clocks.petition.handle_days", LeafType::Integer),
    ("clocks.petition.extension_max_days", LeafType::Integer),
    ("clocks.petition.review_request_days", LeafType::Integer),
    ("clocks.petition.review_decision_days", LeafType::Integer),
    ("clocks.petition.recheck_days", LeafType::Integer),
    ("clocks.hotline.emergency_hours", LeafType::Integer),
    ("clocks.hotline.utilities_hours", LeafType::Integer),
    ("clocks.hotline.general_hours", LeafType::Integer),
    ("clocks.hotline.complex_hours", LeafType::Integer),
    ("mediation.voluntary", LeafType::Bool),
    ("mediation.first_for", LeafType::TextList),
    ("mediation.required_before_acceptance", LeafType::Bool),
    ("mediation.max_days", LeafType::Integer),
    ("mediation.community_mediators", LeafType::Bool),
    ("staffing.auxiliary_workers_per_grid", LeafType::Integer),
    ("staffing.auxiliary_max_share", LeafType::Float),
    ("staffing.inspectors_from_adjoining_townships", LeafType::Bool),
    ("staffing.inspector_rotation_months", LeafType::Integer),
    ("staffing.overload_open_cases_per_worker", LeafType::Integer),
    ("ratings.window_days", LeafType::Integer),
    ("ratings.reopen_window_days", LeafType::Integer),
    ("ratings.callback_after_days", LeafType::Integer),
    ("rates.response", LeafType::Float),
    ("rates.resolution", LeafType::Float),
    ("rates.satisfaction", LeafType::Float),
    ("escalation.enabled", LeafType::Bool),
    ("escalation.alert_level_above", LeafType::Bool),
    ("escalation.warn_before_days", LeafType::Integer),
    ("escalation.exempt_categories", LeafType::TextList),
    ("compacts.quorum_share", LeafType::Float),
    ("compacts.majority_share", LeafType::Float),
    ("compacts.comment_days", LeafType::Integer),
    ("compacts.vote_days", LeafType::Integer),
];

/// True when a concrete dotted key matches a pattern whose segments may be `*`.
pub fn key_matches(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    p.len() == k.len() && p.iter().zip(&k).all(|(p, k)| *p == "*" || p == k)
}

/// The schema type of a concrete key or a pattern (a pattern matches when it is itself a schema entry).
pub fn leaf_type(key: &str) -> Option<LeafType> {
    SCHEMA
        .iter()
        .find(|(pattern, _)| *pattern == key || key_matches(pattern, key))
        .map(|(_, t)| *t)
}

/// A parsed layer: its typed document and the raw table that folding merges.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLayer {
    pub doc: PolicyDocument,
    pub raw: toml::Table,
}

impl ParsedLayer {
    /// The effective date named in the header, if any.
    pub fn effective_from(&self, file: &str) -> Result<Option<Date>, PolicyError> {
        let Some(dt) = self.doc.layer.as_ref().and_then(|h| h.effective_from) else {
            return Ok(None);
        };
        local_date(&dt).map(Some).ok_or_else(|| bad_date(file, &dt))
    }
}

/// A TOML local date (`2024-01-01`, no time) as a calendar date.
pub fn local_date(dt: &toml::value::Datetime) -> Option<Date> {
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => {
            let month = time::Month::try_from(d.month).ok()?;
            Date::from_calendar_date(i32::from(d.year), month, d.day).ok()
        }
        _ => None,
    }
}

fn bad_date(file: &str, dt: &toml::value::Datetime) -> PolicyError {
    PolicyError::Schema {
        file: file.to_string(),
        key: "layer.effective_from".to_string(),
        line: None,
        message: format!("expected a local date such as 2024-01-01, found {dt}"),
    }
}

/// Parses one layer. `file` names the source in errors (a path, or `<stdin>`).
///
/// Errors: a TOML syntax error (with its line), or a key that is unknown or of the wrong type (with its dotted path
/// and the line), or a malformed guardrail (with its index and id).
pub fn parse_layer(file: &str, text: &str) -> Result<ParsedLayer, PolicyError> {
    let raw: toml::Table = toml::from_str(text).map_err(|e| PolicyError::Syntax {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let deserializer = toml::de::Deserializer::parse(text).map_err(|e| PolicyError::Syntax {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let doc: PolicyDocument = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        PolicyError::Schema {
            file: file.to_string(),
            key: if key == "." { String::new() } else { key },
            line: inner.span().map(|s| line_of(text, s.start)),
            message: inner.message().trim().to_string(),
        }
    })?;
    for (index, guardrail) in doc.guardrails.iter().enumerate() {
        guardrail.validate().map_err(|message| PolicyError::InvalidGuardrail {
            file: file.to_string(),
            index,
            id: guardrail.id.clone(),
            message,
        })?;
    }
    Ok(ParsedLayer { doc, raw })
}

/// Parses a table that has already been built (a pilot's change, a codified merge) as a layer.
pub fn layer_from_table(file: &str, raw: toml::Table) -> Result<ParsedLayer, PolicyError> {
    let text = toml::to_string(&raw).map_err(|e| PolicyError::Syntax {
        file: file.to_string(),
        line: None,
        message: e.to_string(),
    })?;
    parse_layer(file, &text)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|s| s.bytes().filter(|b| *b == b'\n').count() + 1)
        .unwrap_or(1)
}
