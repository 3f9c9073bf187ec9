//! Policy layers: how a unit works (routing, clocks, mediation, staffing, ratings, rate weights), written as TOML,
//! folded from the province down to the village, versioned by effective date, and bounded by guardrails that a
//! higher layer declares for everything below it and by the national statute, which holds with no layer loaded.
//!
//! ```
//! use domain::policy::{LayerVersion, PolicyBook};
//! use domain::territory::UnitCode;
//!
//! let province = UnitCode::parse("33").unwrap();
//! let city = UnitCode::parse("3305").unwrap();
//! let mut book = PolicyBook::new();
//! book.save(LayerVersion::parse(&province, "33.toml", r#"
//!     layer.effective_from = 2024-01-01
//!     clocks.petition.handle_days = 60
//!     [[guardrail]]
//!     id = "handling-limit"
//!     key = "clocks.petition.handle_days"
//!     max = 60
//! "#, None).unwrap()).unwrap();
//! // A city may shorten the limit …
//! book.save(LayerVersion::parse(&city, "3305.toml", "clocks.petition.handle_days = 45",
//!     Some(time::macros::date!(2024 - 03 - 01))).unwrap()).unwrap();
//! // … but not lengthen it.
//! let err = book.save(LayerVersion::parse(&city, "3305.toml", "clocks.petition.handle_days = 75",
//!     Some(time::macros::date!(2024 - 06 - 01))).unwrap()).unwrap_err();
//! assert!(err.to_string().contains("handling-limit"));
//! ```
//!
//! The file format, the merge rule and the guardrail vocabulary are documented in `docs/policy.md`.

mod book;
mod document;
mod guardrail;
mod in_force;
mod merge;
mod statute;

#[cfg(test)]
mod tests;

use time::Date;

use crate::territory::UnitCode;

pub use book::{Change, Explanation, LayerVersion, PolicyBook, structural_check};
pub use document::{
    Clocks, CompactRules, DayCount, Escalation, HotlineClocks, LayerHeader, LeafType, Mediation, ParsedLayer,
    PetitionClocks, PolicyDocument, RateWeights, Ratings, Routing, RoutingRule, SCHEMA, Staffing, key_matches,
    layer_from_table, leaf_type, local_date, parse_layer,
};
pub use guardrail::{Guardrail, GuardrailOwner, GuardrailRule, OwnedGuardrail, Violation};
pub use in_force::{InForce, PilotChange, PolicyInForce, clock_config, routing_table};
pub use merge::{Folded, Setter, deep_merge, flatten, fold};
pub use statute::{STATUTE_SOURCE, statute_violations};

/// Everything that can go wrong with a policy file or a policy change. Every variant names the file (or source).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}{}: invalid TOML: {message}", at_line(*.line))]
    Syntax {
        file: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{file}{}: key `{key}`: {message}", at_line(*.line))]
    Schema {
        file: String,
        key: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{file}: guardrail #{} ({id:?}): {message}", .index + 1)]
    InvalidGuardrail {
        file: String,
        index: usize,
        id: String,
        message: String,
    },
    #[error("{file}: guardrail id {id:?} is declared twice")]
    DuplicateGuardrail { file: String, id: String },
    #[error("{file}: the layer names unit {named} but is being saved for {unit}")]
    UnitMismatch {
        file: String,
        named: String,
        unit: UnitCode,
    },
    #[error("{file}: no effective date: set `layer.effective_from` or give one")]
    MissingDate { file: String },
    #[error("{file}: policy for {unit} rejected: {}", list(.violations))]
    Rejected {
        file: String,
        unit: UnitCode,
        violations: Vec<Violation>,
    },
    #[error("{file}: effective policy of {unit}: key `{key}`: {message}")]
    Invalid {
        file: String,
        unit: UnitCode,
        key: String,
        message: String,
    },
    #[error(
        "{file}: effective_from {date} is before today ({today}): a layer takes effect no earlier than the day it is \
         saved (give {today} to apply it from now)"
    )]
    Retroactive { file: String, date: Date, today: Date },
    #[error(
        "{file}: effective_from {date}: the version of {unit} from {date} is already in force and cases filed under it \
         keep it; a new version may take effect from {next}"
    )]
    ReplacesInForce {
        file: String,
        unit: UnitCode,
        date: Date,
        next: Date,
    },
    #[error("unknown policy key `{key}` (docs/policy.md lists the keys)")]
    UnknownKey { key: String },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

fn list(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
