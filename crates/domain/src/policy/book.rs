//! The policy book: every saved layer version of every unit, and the questions asked of it — the effective policy of
//! a unit at a date, `explain`, `diff`, the save-time guardrail check and `check_subtree`.
//!
//! The book is pure and in memory; the store loads it from its tables and persists what [`PolicyBook::save`] accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use time::Date;

use super::PolicyError;
use super::document::{ParsedLayer, leaf_type, parse_layer};
use super::guardrail::{OwnedGuardrail, Violation};
use super::merge::{Folded, Setter, fold};
use crate::territory::UnitCode;

/// One version of one unit's layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerVersion {
    pub unit: UnitCode,
    pub effective_from: Date,
    /// The file (or other source) the layer came from; quoted in every error and explanation.
    pub source: String,
    pub parsed: ParsedLayer,
}

impl LayerVersion {
    /// Parses a layer for `unit`. The effective date is the header's `layer.effective_from`, else `fallback_date`.
    pub fn parse(
        unit: &UnitCode,
        source: &str,
        text: &str,
        fallback_date: Option<Date>,
    ) -> Result<LayerVersion, PolicyError> {
        let parsed = parse_layer(source, text)?;
        LayerVersion::from_parsed(unit, source, parsed, fallback_date)
    }

    pub fn from_parsed(
        unit: &UnitCode,
        source: &str,
        parsed: ParsedLayer,
        fallback_date: Option<Date>,
    ) -> Result<LayerVersion, PolicyError> {
        if let Some(named) = parsed.doc.layer.as_ref().and_then(|h| h.unit.as_deref())
            && named != unit.as_str()
        {
            return Err(PolicyError::UnitMismatch {
                file: source.to_string(),
                named: named.to_string(),
                unit: unit.clone(),
            });
        }
        let effective_from =
            parsed
                .effective_from(source)?
                .or(fallback_date)
                .ok_or_else(|| PolicyError::MissingDate {
                    file: source.to_string(),
                })?;
        let mut ids = BTreeSet::new();
        for g in &parsed.doc.guardrails {
            if !ids.insert(g.id.as_str()) {
                return Err(PolicyError::DuplicateGuardrail {
                    file: source.to_string(),
                    id: g.id.clone(),
                });
            }
        }
        Ok(LayerVersion {
            unit: unit.clone(),
            effective_from,
            source: source.to_string(),
            parsed,
        })
    }
}

/// Why a value is what it is at a unit: the layers that set it and the guardrails that bound it.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub unit: UnitCode,
    pub date: Date,
    pub key: String,
    /// The layers that set the key, from the root down; the last is effective. Empty when nothing sets it.
    pub setters: Vec<Setter>,
    pub guardrails: Vec<OwnedGuardrail>,
}

impl Explanation {
    pub fn value(&self) -> Option<&toml::Value> {
        self.setters.last().map(|s| &s.value)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.setters.split_last() {
            None => writeln!(f, "{} is not set for {} on {}", self.key, self.unit, self.date)?,
            Some((last, earlier)) => {
                writeln!(f, "{} = {}", self.key, last.value)?;
                writeln!(
                    f,
                    "  set by {} in {} (version from {})",
                    last.unit, last.source, last.effective_from
                )?;
                for s in earlier.iter().rev() {
                    writeln!(
                        f,
                        "  refines {} = {} from {} ({})",
                        s.unit, s.value, s.source, s.effective_from
                    )?;
                }
            }
        }
        if self.guardrails.is_empty() {
            writeln!(f, "  no guardrail bounds this key")?;
        }
        for g in &self.guardrails {
            writeln!(
                f,
                "  bounded by guardrail \"{}\" of {} ({}): {}",
                g.guardrail.id,
                g.owner,
                g.source,
                g.guardrail.describe()
            )?;
        }
        Ok(())
    }
}

/// One difference between the effective policy at two dates.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Who set the later value (`unit`, source), when there is one.
    pub set_by: Option<(UnitCode, String)>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = "(unset)";
        write!(
            f,
            "{}: {} -> {}",
            self.key,
            self.before.as_deref().unwrap_or(none),
            self.after.as_deref().unwrap_or(none)
        )?;
        if let Some((unit, source)) = &self.set_by {
            write!(f, "  [{unit}, {source}]")?;
        }
        Ok(())
    }
}

/// All layer versions, by unit, each unit's versions in date order.
#[derive(Debug, Clone, Default)]
pub struct PolicyBook {
    versions: BTreeMap<UnitCode, Vec<LayerVersion>>,
}

impl PolicyBook {
    pub fn new() -> PolicyBook {
        PolicyBook::default()
    }

    /// Builds a book from versions already accepted (e.g. loaded from the store), without checking them again.
    pub fn from_versions(versions: impl IntoIterator<Item = LayerVersion>) -> PolicyBook {
        let mut book = PolicyBook::new();
        for v in versions {
            book.insert(v);
        }
        book
    }

    pub fn versions(&self) -> impl Iterator<Item = &LayerVersion> {
        self.versions.values().flatten()
    }

    pub fn versions_of(&self, unit: &UnitCode) -> &[LayerVersion] {
        self.versions.get(unit).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Inserts a version, replacing one of the same unit and date; returns the replaced one.
    fn insert(&mut self, version: LayerVersion) -> Option<LayerVersion> {
        let list = self.versions.entry(version.unit.clone()).or_default();
        match list.binary_search_by_key(&version.effective_from, |v| v.effective_from) {
            Ok(i) => Some(std::mem::replace(&mut list[i], version)),
            Err(i) => {
                list.insert(i, version);
                None
            }
        }
    }

    fn remove(&mut self, unit: &UnitCode, date: Date) {
        if let Some(list) = self.versions.get_mut(unit) {
            list.retain(|v| v.effective_from != date);
            if list.is_empty() {
                self.versions.remove(unit);
            }
        }
    }

    /// The version of `unit`'s own layer in force at `date`.
    pub fn layer_at(&self, unit: &UnitCode, date: Date) -> Option<&LayerVersion> {
        self.versions_of(unit).iter().rev().find(|v| v.effective_from <= date)
    }

    /// The layers in force at `date` from the root down to `unit`.
    fn chain_at(&self, unit: &UnitCode, date: Date) -> Vec<&LayerVersion> {
        unit.chain().iter().filter_map(|c| self.layer_at(c, date)).collect()
    }

    /// The effective policy of `unit` at `date`.
    pub fn effective(&self, unit: &UnitCode, date: Date) -> Folded {
        fold(unit, date, &self.chain_at(unit, date))
    }

    /// The effective policy of `unit` at `date` with `overlay` applied below its own layer (a pilot's change).
    pub fn effective_with(&self, unit: &UnitCode, date: Date, overlay: &LayerVersion) -> Folded {
        let mut chain = self.chain_at(unit, date);
        chain.push(overlay);
        fold(unit, date, &chain)
    }

    /// Every guardrail in force over `policy` that it breaks.
    pub fn violations_of(policy: &Folded) -> Vec<Violation> {
        policy.guardrails.iter().flat_map(|g| g.check(policy)).collect()
    }

    /// The dates at which the effective policy of `unit` can change: the start of every version in its chain.
    fn change_dates(&self, unit: &UnitCode) -> BTreeSet<Date> {
        unit.chain()
            .iter()
            .flat_map(|c| self.versions_of(c).iter().map(|v| v.effective_from))
            .collect()
    }

    fn units_within(&self, root: Option<&UnitCode>) -> Vec<UnitCode> {
        self.versions
            .keys()
            .filter(|u| root.is_none_or(|r| u.is_within(r)))
            .cloned()
            .collect()
    }

    /// Checks every unit with a layer under `root` (all units when `None`) at every date its policy changes, and
    /// returns each broken guardrail once (at the first date it is broken).
    pub fn check_subtree(&self, root: Option<&UnitCode>) -> Vec<Violation> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for unit in self.units_within(root) {
            for date in self.change_dates(&unit) {
                for v in Self::violations_of(&self.effective(&unit, date)) {
                    if seen.insert(v.identity()) {
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    /// Saves a version after checking that it breaks no guardrail in force — its ancestors' and its own — for itself
    /// or any unit below it, at its date or any later change. A rejected version leaves the book as it was. Problems
    /// that existed before this save do not block it (`check_subtree` reports them).
    pub fn save(&mut self, version: LayerVersion) -> Result<(), PolicyError> {
        let unit = version.unit.clone();
        let date = version.effective_from;
        let source = version.source.clone();
        let before: BTreeSet<_> = self
            .check_subtree(Some(&unit))
            .iter()
            .map(Violation::identity)
            .collect();
        let replaced = self.insert(version);
        let restore = |book: &mut PolicyBook| {
            book.remove(&unit, date);
            if let Some(old) = replaced.clone() {
                book.insert(old);
            }
        };
        let fresh: Vec<Violation> = self
            .check_subtree(Some(&unit))
            .into_iter()
            .filter(|v| !before.contains(&v.identity()))
            .collect();
        if !fresh.is_empty() {
            restore(self);
            return Err(PolicyError::Rejected {
                file: source,
                unit,
                violations: fresh,
            });
        }
        if let Err(e) = structural_check(&self.effective(&unit, date), &source) {
            restore(self);
            return Err(e);
        }
        Ok(())
    }

    /// Which layers set `key` for `unit` at `date` and which guardrails bound it. A key naming a table explains
    /// every leaf under it.
    pub fn explain(&self, unit: &UnitCode, key: &str, date: Date) -> Result<Vec<Explanation>, PolicyError> {
        let policy = self.effective(unit, date);
        let key = key.trim().trim_matches('.');
        let prefix = format!("{key}.");
        let keys: Vec<&String> = policy
            .leaves
            .keys()
            .filter(|k| k.as_str() == key || k.starts_with(&prefix))
            .collect();
        let keys: Vec<String> = if !keys.is_empty() {
            keys.into_iter().cloned().collect()
        } else if leaf_type(key).is_some() {
            vec![key.to_string()]
        } else {
            return Err(PolicyError::UnknownKey { key: key.to_string() });
        };
        Ok(keys
            .into_iter()
            .map(|k| Explanation {
                unit: unit.clone(),
                date,
                setters: policy.setters(&k).to_vec(),
                guardrails: policy
                    .guardrails
                    .iter()
                    .filter(|g| g.guardrail.covers(&k))
                    .cloned()
                    .collect(),
                key: k,
            })
            .collect())
    }

    /// How the effective policy of `unit` differs between `from` and `to`, guardrails included (as keys
    /// `guardrail.OWNER.ID`).
    pub fn diff(&self, unit: &UnitCode, from: Date, to: Date) -> Vec<Change> {
        let a = self.effective(unit, from);
        let b = self.effective(unit, to);
        let mut keys: BTreeSet<&String> = a.leaves.keys().collect();
        keys.extend(b.leaves.keys());
        let mut out: Vec<Change> = keys
            .into_iter()
            .filter_map(|k| {
                let before = a.value(k);
                let after = b.value(k);
                (before != after).then(|| Change {
                    key: k.clone(),
                    before: before.map(ToString::to_string),
                    after: after.map(ToString::to_string),
                    set_by: b.setter(k).map(|s| (s.unit.clone(), s.source.clone())),
                })
            })
            .collect();
        let rails = |p: &Folded| -> BTreeMap<String, (String, String)> {
            p.guardrails
                .iter()
                .map(|g| {
                    let key = format!("guardrail.{}.{}", g.owner, g.guardrail.id);
                    (key, (g.guardrail.describe(), g.source.clone()))
                })
                .collect()
        };
        let (ra, rb) = (rails(&a), rails(&b));
        let mut keys: BTreeSet<&String> = ra.keys().collect();
        keys.extend(rb.keys());
        for k in keys {
            let before = ra.get(k).map(|(d, _)| d.clone());
            let after = rb.get(k).map(|(d, _)| d.clone());
            if before != after {
                let set_by = rb.get(k).and_then(|(_, source)| {
                    let owner = k.split('.').nth(1)?;
                    Some((UnitCode::parse(owner).ok()?, source.clone()))
                });
                out.push(Change {
                    key: k.clone(),
                    before,
                    after,
                    set_by,
                });
            }
        }
        out
    }
}

/// Checks that hold for any effective policy, guardrails or not: rate weights sum to 1,
/// shares are shares, every routing rule names a category and an office, and every office named exists at its level.
pub fn structural_check(policy: &Folded, source: &str) -> Result<(), PolicyError> {
    let invalid = |key: &str, message: String| PolicyError::Invalid {
        file: source.to_string(),
        unit: policy.unit.clone(),
        key: key.to_string(),
        message,
    };
    let number = |key: &str| match policy.value(key) {
        Some(toml::Value::Float(f)) => Some(*f),
        Some(toml::Value::Integer(i)) => Some(*i as f64),
        _ => None,
    };
    let weights: Vec<Option<f64>> = ["rates.response", "rates.resolution", "rates.satisfaction"]
        .iter()
        .map(|k| number(k))
        .collect();
    for (key, w) in ["rates.response", "rates.resolution", "rates.satisfaction"]
        .iter()
        .zip(&weights)
    {
        if let Some(w) = w
            && !(0.0..=1.0).contains(w)
        {
            return Err(invalid(key, format!("a weight must lie in [0, 1], found {w}")));
        }
    }
    if weights.iter().all(Option::is_some) {
        let sum: f64 = weights.iter().flatten().sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(invalid(
                "rates",
                format!("the three weights must sum to 1, they sum to {sum}"),
            ));
        }
    }
    if let Some(share) = number("staffing.auxiliary_max_share")
        && !(0.0..=1.0).contains(&share)
    {
        return Err(invalid(
            "staffing.auxiliary_max_share",
            format!("a share must lie in [0, 1], found {share}"),
        ));
    }
    // Every office a routing key names must be one that units of its level have, so that no case is ever routed to
    // an office that does not exist.
    let office_keys: Vec<&String> = policy
        .leaves
        .keys()
        .filter(|k| {
            k.as_str() == "routing.default_office"
                || k.starts_with("routing.competent.")
                || (k.starts_with("routing.rules.") && k.ends_with(".office"))
        })
        .collect();
    for key in office_keys {
        if let Some(toml::Value::String(name)) = policy.value(key) {
            crate::routing::LevelOffice::parse_policy_name(name).map_err(|m| invalid(key, m))?;
        }
    }
    let rule_names: BTreeSet<&str> = policy
        .leaves
        .keys()
        .filter_map(|k| k.strip_prefix("routing.rules."))
        .filter_map(|rest| rest.split('.').next())
        .collect();
    for name in rule_names {
        for field in ["category", "office"] {
            let key = format!("routing.rules.{name}.{field}");
            if policy.value(&key).is_none() {
                return Err(invalid(
                    &key,
                    format!("routing rule {name:?} has no {field} in any layer"),
                ));
            }
        }
    }
    Ok(())
}
