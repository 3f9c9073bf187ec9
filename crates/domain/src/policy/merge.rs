//! Folding layers from the root down into an effective policy, remembering which layer set each value.
//!
//! The merge rule, in full: **tables merge key by key, recursively; everything else (numbers, strings, booleans,
//! dates and arrays) is replaced whole by the lower layer.** So a village that names one routing rule refines only
//! that rule, and a village that sets `mediation.first_for` gives the complete list, not an addition. Nothing is ever
//! deleted by a lower layer. The `[layer]` header and the `[[guardrail]]` entries are not merged: guardrails
//! accumulate down the chain instead.

use std::collections::BTreeMap;

use time::Date;

use super::book::LayerVersion;
use super::document::key_matches;
use super::guardrail::OwnedGuardrail;
use crate::territory::UnitCode;

/// Top-level keys that are not part of the effective policy.
const NOT_MERGED: [&str; 2] = ["layer", "guardrail"];

/// Who set a value: the unit, the version's effective date, the source file, and the value it set.
#[derive(Debug, Clone, PartialEq)]
pub struct Setter {
    pub unit: UnitCode,
    pub effective_from: Date,
    pub source: String,
    pub value: toml::Value,
}

/// The effective policy of one unit at one date.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    pub unit: UnitCode,
    pub date: Date,
    /// The merged table (without header and guardrails).
    pub table: toml::Table,
    /// For every leaf key, the layers that set it from the root down; the last one is effective.
    pub leaves: BTreeMap<String, Vec<Setter>>,
    /// The guardrails in force, from the root down.
    pub guardrails: Vec<OwnedGuardrail>,
}

impl Folded {
    pub fn setters(&self, key: &str) -> &[Setter] {
        self.leaves.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The layer whose value is effective for `key`.
    pub fn setter(&self, key: &str) -> Option<&Setter> {
        self.setters(key).last()
    }

    pub fn value(&self, key: &str) -> Option<&toml::Value> {
        self.setter(key).map(|s| &s.value)
    }

    /// Effective leaves whose key matches a pattern (`*` for any name).
    pub fn matching<'a>(&'a self, pattern: &'a str) -> impl Iterator<Item = (&'a str, &'a Setter)> + 'a {
        self.leaves.iter().filter_map(move |(key, setters)| {
            let last = setters.last()?;
            key_matches(pattern, key).then_some((key.as_str(), last))
        })
    }

    /// The effective leaves as `key → value`.
    pub fn flat(&self) -> BTreeMap<String, toml::Value> {
        self.leaves
            .iter()
            .filter_map(|(k, s)| s.last().map(|s| (k.clone(), s.value.clone())))
            .collect()
    }
}

/// Folds `layers` (ordered from the root down, each the version in force at `date`) into the policy of `unit`.
pub fn fold(unit: &UnitCode, date: Date, layers: &[&LayerVersion]) -> Folded {
    let mut folded = Folded {
        unit: unit.clone(),
        date,
        table: toml::Table::new(),
        leaves: BTreeMap::new(),
        guardrails: Vec::new(),
    };
    for layer in layers {
        let mut body = layer.parsed.raw.clone();
        for key in NOT_MERGED {
            body.remove(key);
        }
        deep_merge(&mut folded.table, &body);
        for (key, value) in flatten(&body) {
            folded.leaves.entry(key).or_default().push(Setter {
                unit: layer.unit.clone(),
                effective_from: layer.effective_from,
                source: layer.source.clone(),
                value,
            });
        }
        for guardrail in &layer.parsed.doc.guardrails {
            folded.guardrails.push(OwnedGuardrail {
                guardrail: guardrail.clone(),
                owner: layer.unit.clone(),
                source: layer.source.clone(),
                effective_from: layer.effective_from,
            });
        }
    }
    folded
}

/// Merges `over` into `base` by the rule in the module documentation.
pub fn deep_merge(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(below)), toml::Value::Table(above)) => deep_merge(below, above),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The leaves of a table as dotted keys; arrays are leaves.
pub fn flatten(table: &toml::Table) -> BTreeMap<String, toml::Value> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, toml::Value>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) => walk(&path, inner, out),
                leaf => {
                    out.insert(path, leaf.clone());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", table, &mut out);
    out
}
