//! The policy book: every saved layer version of every unit, and the questions asked of it — the effective policy of
//! a unit at a date, `explain`, `diff`, the save-time guardrail check and `check_subtree`.
//!
//! The book is pure and in memory; the store loads it from its tables and persists what [`PolicyBook::save`] accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use time::Date;

use super::PolicyError;
use super::document::{ParsedLayer, SCHEMA, leaf_type, parse_layer};
use super::guardrail::{OwnedGuardrail, Violation};
use super::merge::{Folded, Setter, fold};
use super::statute::statute_violations;
use crate::calendar::Calendar;
use crate::clock::{ClockConfig, STATUTE, StatutoryLimit};
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
    /// The value the workflow runs on when no layer sets the key (the statutory or deployment default), if any.
    pub default: Option<String>,
    /// The national limit on the key, which holds whatever the layers say.
    pub statute: Option<StatutoryLimit>,
}

impl Explanation {
    pub fn value(&self) -> Option<&toml::Value> {
        self.setters.last().map(|s| &s.value)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.setters.split_last() {
            None => match &self.default {
                Some(default) => writeln!(
                    f,
                    "{} = {default}\n  not set by any layer of {} on {}: the default applies",
                    self.key, self.unit, self.date
                )?,
                None => writeln!(f, "{} is not set for {} on {}", self.key, self.unit, self.date)?,
            },
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
        if let (Some(default), false) = (&self.default, self.setters.is_empty()) {
            writeln!(f, "  default without a layer: {default}")?;
        }
        if let Some(limit) = &self.statute {
            writeln!(f, "  bounded by the statute ({}): {}", limit.id, limit.describe())?;
        }
        if self.guardrails.is_empty() && self.statute.is_none() {
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

/// The value a key takes when no layer sets it, as the workflow runs it ([`ClockConfig::default`]: the statute's
/// petition limits and the hotline's usual clocks), with where it comes from.
fn default_of(key: &str) -> Option<String> {
    let clocks = ClockConfig::default();
    let days = |p: crate::calendar::Period| p.describe();
    let hours = |p: crate::calendar::Period| p.describe();
    let statute = |field: &str| STATUTE.iter().find(|l| l.field == field).map(|l| l.article);
    let (value, from) = match key {
        "clocks.day_count" => ("\"calendar\"".to_string(), None),
        "clocks.petition.accept_days" => (days(clocks.petition_acceptance), statute("petition_acceptance")),
        "clocks.petition.handle_days" => (days(clocks.petition_handling), statute("petition_handling")),
        "clocks.petition.extension_max_days" => (
            format!("{} days", clocks.max_extension_days),
            statute("max_extension_days"),
        ),
        "clocks.petition.review_request_days" => (days(clocks.review_request_window), statute("review_request_window")),
        "clocks.petition.review_decision_days" => (days(clocks.review_decision), statute("review_decision")),
        "clocks.petition.recheck_days" => (days(clocks.reexamination_decision), statute("reexamination_decision")),
        "clocks.hotline.emergency_hours" => (hours(clocks.emergency), None),
        "clocks.hotline.utilities_hours" => (hours(clocks.utilities), None),
        "clocks.hotline.general_hours" => (hours(clocks.general), None),
        "clocks.hotline.complex_hours" => (hours(clocks.complex), None),
        "ratings.window_days" => (days(clocks.rating_window), None),
        _ => return None,
    };
    Some(match from {
        Some(article) => format!("{value} (the statute, {article})"),
        None => format!("{value} (the deployment's default)"),
    })
}

/// All layer versions, by unit, each unit's versions in date order, and the holiday calendar through which a limit
/// in working days is compared with the statute's calendar days.
#[derive(Debug, Clone)]
pub struct PolicyBook {
    versions: BTreeMap<UnitCode, Vec<LayerVersion>>,
    calendar: Calendar,
}

impl Default for PolicyBook {
    fn default() -> Self {
        PolicyBook {
            versions: BTreeMap::new(),
            calendar: Calendar::china(),
        }
    }
}

impl PolicyBook {
    /// An empty book on China's holiday calendar.
    pub fn new() -> PolicyBook {
        PolicyBook::default()
    }

    /// The holiday calendar (and local time zone) the book's checks run on.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The same book, comparing working days with the statute through `calendar` (the deployment's).
    pub fn with_calendar(mut self, calendar: Calendar) -> PolicyBook {
        self.calendar = calendar;
        self
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

    /// Every guardrail in force over `policy` that it breaks: the statute's, which hold for every unit, then those
    /// the layers declare.
    pub fn violations_of(&self, policy: &Folded) -> Vec<Violation> {
        let mut out = statute_violations(policy, &self.calendar);
        out.extend(policy.guardrails.iter().flat_map(|g| g.check(policy)));
        out
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
                for v in self.violations_of(&self.effective(&unit, date)) {
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

    /// Refuses a version that would change rules already applied: one that takes effect before `today` (the local
    /// day it is saved), or one that replaces a version of the same unit already in force today, since cases filed
    /// earlier today (`cases_filed_today` in the unit's subtree) ran on that version. A version effective today takes
    /// effect from the moment it is saved.
    pub fn check_not_retroactive(
        &self,
        version: &LayerVersion,
        today: Date,
        cases_filed_today: bool,
    ) -> Result<(), PolicyError> {
        if version.effective_from < today {
            return Err(PolicyError::Retroactive {
                file: version.source.clone(),
                date: version.effective_from,
                today,
            });
        }
        let in_force_today = cases_filed_today
            && self
                .versions_of(&version.unit)
                .iter()
                .any(|v| v.effective_from == version.effective_from && v.effective_from <= today);
        if in_force_today {
            return Err(PolicyError::ReplacesInForce {
                file: version.source.clone(),
                unit: version.unit.clone(),
                date: version.effective_from,
                next: today.next_day().unwrap_or(today),
            });
        }
        Ok(())
    }

    /// Which layers set `key` for `unit` at `date`, which guardrails and statutory limit bound it, and the default it
    /// falls back to. A key naming a table (`clocks.petition`) explains every leaf under it, set or not.
    pub fn explain(&self, unit: &UnitCode, key: &str, date: Date) -> Result<Vec<Explanation>, PolicyError> {
        let policy = self.effective(unit, date);
        let key = key.trim().trim_matches('.');
        let prefix = format!("{key}.");
        let mut keys: BTreeSet<String> = policy
            .leaves
            .keys()
            .filter(|k| k.as_str() == key || k.starts_with(&prefix))
            .cloned()
            .collect();
        // The schema's own leaves under the key (those without a name the document chooses), set or not.
        keys.extend(
            SCHEMA
                .iter()
                .map(|(pattern, _)| *pattern)
                .filter(|p| (*p == key || p.starts_with(&prefix)) && !p.contains('*'))
                .map(str::to_string),
        );
        if keys.is_empty() {
            if leaf_type(key).is_none() {
                return Err(PolicyError::UnknownKey { key: key.to_string() });
            }
            keys.insert(key.to_string());
        }
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
                default: default_of(&k),
                statute: STATUTE.iter().find(|l| l.key == Some(k.as_str())).copied(),
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
    // The overload threshold is read by every tick: an unusable one is refused here, when saved, naming the key.
    if policy.value(crate::overload::THRESHOLD_KEY).is_some() {
        crate::overload::OverloadRule::in_force(policy).map_err(|e| invalid(e.key, e.message))?;
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
