//! Guardrails: constraints that a layer declares for itself and every layer below it, and their check against an
//! effective (folded) policy.
//!
//! The vocabulary is small on purpose, so that a reader of a policy file can tell what it forbids:
//! a numeric bound on a key (`min`, `max`), a closed set of values (`one_of`), a value that lower layers may not
//! change (`fixed`), and three named rules that protect residents' rights (`rule = "escalation_not_suppressed"`,
//! `"petitions_to_competent_body"`, `"mediation_voluntary"`). A fourth rule, `"compact_content"`, constrains no
//! policy key: it lists words (`forbid`) that no clause of a self-governance compact filed in the owner's subtree may
//! contain, and is checked when a compact is filed ([`crate::participation::review_filing`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use super::document::{key_matches, leaf_type};
use super::merge::{Folded, Setter};
use crate::said;
use crate::said::{Said, name};
use crate::territory::UnitCode;

/// One `[[guardrail]]` entry of a policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    /// A short name, unique within its layer, that errors quote.
    pub id: String,
    /// The key (dotted path; `*` for any name) that a bound, a set or `fixed` applies to.
    pub key: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub one_of: Option<Vec<String>>,
    /// Lower layers may not change the value that this layer (or one above it) sets.
    pub fixed: Option<bool>,
    pub rule: Option<GuardrailRule>,
    /// For `rule = "compact_content"`: the words that no clause of a compact may contain.
    pub forbid: Option<Vec<String>>,
    /// Where the constraint comes from (a regulation and article).
    pub cites: Option<String>,
}

/// The named rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailRule {
    /// Escalation stays on, alerts still reach the level above, and no category is exempt.
    EscalationNotSuppressed,
    /// A routing rule that applies to petitions of a category with a competent body routes them to that body, and
    /// lower layers do not redefine the competent bodies (谁主管、谁负责; 2022 Regulations Art. 4).
    PetitionsToCompetentBody,
    /// Mediation is offered, never a condition of acceptance (People's Mediation Law Art. 3).
    MediationVoluntary,
    /// No clause of a self-governance compact contains any of the `forbid` words (checked at filing; the national
    /// list is [`crate::participation::national_compact_guardrails`]).
    CompactContent,
}

impl GuardrailRule {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailRule::EscalationNotSuppressed => "escalation_not_suppressed",
            GuardrailRule::PetitionsToCompetentBody => "petitions_to_competent_body",
            GuardrailRule::MediationVoluntary => "mediation_voluntary",
            GuardrailRule::CompactContent => "compact_content",
        }
    }

    /// The keys this rule constrains (patterns).
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            GuardrailRule::EscalationNotSuppressed => &[
                "escalation.enabled",
                "escalation.alert_level_above",
                "escalation.exempt_categories",
            ],
            GuardrailRule::PetitionsToCompetentBody => &[
                "routing.competent.*",
                "routing.rules.*.office",
                "routing.rules.*.kinds",
                "routing.rules.*.category",
            ],
            GuardrailRule::MediationVoluntary => &["mediation.voluntary", "mediation.required_before_acceptance"],
            GuardrailRule::CompactContent => &[],
        }
    }
}

impl Guardrail {
    /// Checks that the entry uses the vocabulary consistently; the message names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("a guardrail needs a non-empty `id`".into());
        }
        let has_key_test =
            self.min.is_some() || self.max.is_some() || self.one_of.is_some() || self.fixed == Some(true);
        match (self.rule, &self.forbid) {
            (Some(GuardrailRule::CompactContent), None) => {
                return Err("rule `compact_content` needs `forbid`, the words no clause may contain".into());
            }
            (Some(GuardrailRule::CompactContent), Some(words)) if words.iter().any(|w| w.trim().is_empty()) => {
                return Err("`forbid` may not contain an empty word".into());
            }
            (Some(GuardrailRule::CompactContent), Some(_)) | (_, None) => {}
            (_, Some(_)) => return Err("`forbid` belongs only to rule `compact_content`".into()),
        }
        match (&self.key, self.rule) {
            (Some(_), Some(_)) => Err("give either `key` (with min/max/one_of/fixed) or `rule`, not both".into()),
            (None, None) => Err("give `key` with min/max/one_of/fixed, or `rule`".into()),
            (None, Some(_)) if has_key_test => Err("min/max/one_of/fixed need a `key`, not a `rule`".into()),
            (None, Some(_)) => Ok(()),
            (Some(key), None) => {
                let Some(kind) = leaf_type(key) else {
                    return Err(format!("unknown key `{key}` (see docs/policy.md for the keys)"));
                };
                if !has_key_test {
                    return Err(format!("key `{key}` needs min, max, one_of or fixed = true"));
                }
                if (self.min.is_some() || self.max.is_some()) && !kind.is_numeric() {
                    return Err(format!("min/max need a numeric key; `{key}` is not numeric"));
                }
                if let (Some(min), Some(max)) = (self.min, self.max)
                    && min > max
                {
                    return Err(format!("min {min} is above max {max}"));
                }
                Ok(())
            }
        }
    }

    /// True when this guardrail constrains `key` (a concrete dotted key).
    pub fn covers(&self, key: &str) -> bool {
        match (&self.key, self.rule) {
            (Some(pattern), _) => key_matches(pattern, key),
            (None, Some(rule)) => rule.keys().iter().any(|p| key_matches(p, key)),
            (None, None) => false,
        }
    }

    /// A one-line statement of the constraint, e.g. `clocks.petition.handle_days <= 60`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(rule) = self.rule {
            match &self.forbid {
                Some(words) => parts.push(format!("{}: no clause contains [{}]", rule.as_str(), words.join(", "))),
                None => parts.push(rule.as_str().to_string()),
            }
        }
        if let Some(key) = &self.key {
            match (self.min, self.max) {
                (Some(min), Some(max)) => parts.push(format!("{min} <= {key} <= {max}")),
                (Some(min), None) => parts.push(format!("{key} >= {min}")),
                (None, Some(max)) => parts.push(format!("{key} <= {max}")),
                (None, None) => {}
            }
            if let Some(set) = &self.one_of {
                parts.push(format!("{key} in [{}]", set.join(", ")));
            }
            if self.fixed == Some(true) {
                parts.push(format!("{key} is fixed"));
            }
        }
        let mut text = parts.join("; ");
        if let Some(cites) = &self.cites {
            text.push_str(&format!(" ({cites})"));
        }
        text
    }
}

/// A guardrail together with the layer that declared it.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedGuardrail {
    pub guardrail: Guardrail,
    pub owner: UnitCode,
    pub source: String,
    pub effective_from: Date,
}

/// Who declared a guardrail: a unit's layer, or the national statute that holds for every unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum GuardrailOwner {
    Unit(UnitCode),
    /// The 2022 Regulations on Letters and Visits Work ([`crate::clock::STATUTE`]).
    Statute,
}

impl fmt::Display for GuardrailOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardrailOwner::Unit(unit) => write!(f, "{unit}"),
            GuardrailOwner::Statute => f.write_str("the statute"),
        }
    }
}

/// A broken guardrail: which one, who owns it, which unit's effective policy breaks it, at which key, and which
/// layer set the offending value.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub guardrail: String,
    pub rule: String,
    pub owner: GuardrailOwner,
    pub owner_source: String,
    pub unit: UnitCode,
    pub date: Date,
    pub key: String,
    pub value: Option<String>,
    pub set_by: Option<(UnitCode, String)>,
    pub reason: Said,
}

impl Violation {
    /// The identity of a violation, ignoring the date at which it was found.
    pub fn identity(&self) -> (String, GuardrailOwner, UnitCode, String) {
        (
            self.guardrail.clone(),
            self.owner.clone(),
            self.unit.clone(),
            self.key.clone(),
        )
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "guardrail \"{}\" owned by {} ({}) is broken at unit {}: key {}",
            self.guardrail, self.owner, self.owner_source, self.unit, self.key
        )?;
        if let Some(value) = &self.value {
            write!(f, " = {value}")?;
        }
        if let Some((unit, source)) = &self.set_by {
            write!(f, " (set by {unit} in {source})")?;
        }
        write!(f, ": {}; the guardrail requires {}", self.reason, self.rule)
    }
}

impl OwnedGuardrail {
    /// All the ways `policy` (the effective policy of a unit in the owner's subtree) breaks this guardrail.
    pub fn check(&self, policy: &Folded) -> Vec<Violation> {
        let g = &self.guardrail;
        let mut out = Vec::new();
        let mut violate = |key: &str, setter: Option<&Setter>, reason: Said| {
            out.push(Violation {
                guardrail: g.id.clone(),
                rule: g.describe(),
                owner: GuardrailOwner::Unit(self.owner.clone()),
                owner_source: self.source.clone(),
                unit: policy.unit.clone(),
                date: policy.date,
                key: key.to_string(),
                value: setter.map(|s| s.value.to_string()),
                set_by: setter.map(|s| (s.unit.clone(), s.source.clone())),
                reason,
            })
        };
        if let Some(pattern) = &g.key {
            for (key, setter) in policy.matching(pattern) {
                if let Some(reason) = self.key_test(key, setter, policy) {
                    violate(key, Some(setter), reason);
                }
            }
        }
        match g.rule {
            // Checked against a compact's clauses when it is filed, not against policy keys.
            None | Some(GuardrailRule::CompactContent) => {}
            Some(GuardrailRule::EscalationNotSuppressed) => {
                for key in ["escalation.enabled", "escalation.alert_level_above"] {
                    if let Some(s) = policy.setter(key)
                        && s.value.as_bool() == Some(false)
                    {
                        violate(
                            key,
                            Some(s),
                            said!("guardrail-escalation-off", "escalation must not be switched off"),
                        );
                    }
                }
                if let Some(s) = policy.setter("escalation.exempt_categories")
                    && s.value.as_array().is_some_and(|a| !a.is_empty())
                {
                    let reason = said!(
                        "guardrail-escalation-exempt",
                        "no category may be exempt from escalation"
                    );
                    violate("escalation.exempt_categories", Some(s), reason);
                }
            }
            Some(GuardrailRule::MediationVoluntary) => {
                if let Some(s) = policy.setter("mediation.voluntary")
                    && s.value.as_bool() == Some(false)
                {
                    violate(
                        "mediation.voluntary",
                        Some(s),
                        said!("guardrail-mediation-voluntary", "mediation must stay voluntary"),
                    );
                }
                if let Some(s) = policy.setter("mediation.required_before_acceptance")
                    && s.value.as_bool() == Some(true)
                {
                    let reason = said!("guardrail-mediation-first", "acceptance may not wait for mediation");
                    violate("mediation.required_before_acceptance", Some(s), reason);
                }
            }
            Some(GuardrailRule::PetitionsToCompetentBody) => {
                for (key, setter) in policy.matching("routing.competent.*") {
                    if let Some(reason) = self.changed_below_owner(key, setter, policy) {
                        violate(key, Some(setter), reason);
                    }
                }
                for (rule_name, category, office_setter) in petition_rules(policy) {
                    let competent = policy
                        .value(&format!("routing.competent.{category}"))
                        .and_then(|v| v.as_str());
                    let office = office_setter.and_then(|s| s.value.as_str());
                    if let (Some(competent), Some(office)) = (competent, office)
                        && competent != office
                    {
                        let key = format!("routing.rules.{rule_name}.office");
                        let reason = said!(
                            "guardrail-petition-competent",
                            "petitions of category {category} go to {office}, not to their competent body {competent}",
                            category = name("category", &category),
                            office = format!("{office:?}"),
                            competent = format!("{competent:?}"),
                        );
                        violate(&key, office_setter, reason);
                    }
                }
            }
        }
        out
    }

    fn key_test(&self, key: &str, setter: &Setter, policy: &Folded) -> Option<Said> {
        let g = &self.guardrail;
        if let Some(number) = as_number(&setter.value) {
            if let Some(min) = g.min
                && number < min
            {
                return Some(said!(
                    "guardrail-below-min",
                    "{number} is below the minimum {min}",
                    number = number,
                    min = min,
                ));
            }
            if let Some(max) = g.max
                && number > max
            {
                return Some(said!(
                    "guardrail-above-max",
                    "{number} is above the maximum {max}",
                    number = number,
                    max = max,
                ));
            }
        }
        if let Some(set) = &g.one_of {
            let text = setter
                .value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| setter.value.to_string());
            if !set.contains(&text) {
                return Some(said!(
                    "guardrail-not-one-of",
                    "{text} is not one of [{set}]",
                    text = format!("{text:?}"),
                    set = set.join(", "),
                ));
            }
        }
        if g.fixed == Some(true) {
            return self.changed_below_owner(key, setter, policy);
        }
        None
    }

    /// For a fixed key: the effective value was set below the owner and differs from the value at the owner's level.
    fn changed_below_owner(&self, key: &str, setter: &Setter, policy: &Folded) -> Option<Said> {
        let at_owner = policy.setters(key).iter().rev().find(|s| self.owner.is_within(&s.unit));
        let below_owner = setter.unit != self.owner && setter.unit.is_within(&self.owner);
        if !below_owner {
            return None;
        }
        match at_owner {
            Some(owner_setter) if owner_setter.value == setter.value => None,
            Some(owner_setter) => Some(said!(
                "guardrail-fixed",
                "the value {value} set at {owner} or above may not be changed below it",
                value = owner_setter.value.to_string(),
                owner = self.owner.to_string(),
            )),
            None => Some(said!(
                "guardrail-owner-only",
                "only {owner} or a layer above it may set this key",
                owner = self.owner.to_string(),
            )),
        }
    }
}

/// The routing rules that apply to petitions: (rule name, category, setter of the office).
fn petition_rules(policy: &Folded) -> Vec<(String, String, Option<&Setter>)> {
    let mut names: Vec<String> = policy
        .matching("routing.rules.*.category")
        .map(|(key, _)| key.split('.').nth(2).unwrap_or_default().to_string())
        .collect();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let category = policy
                .value(&format!("routing.rules.{name}.category"))?
                .as_str()?
                .to_string();
            let applies = match policy.value(&format!("routing.rules.{name}.kinds")) {
                None => true,
                Some(kinds) => kinds
                    .as_array()
                    .is_some_and(|a| a.iter().any(|k| k.as_str() == Some("petition"))),
            };
            let office = policy.setter(&format!("routing.rules.{name}.office"));
            applies.then_some((name, category, office))
        })
        .collect()
}

fn as_number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}
