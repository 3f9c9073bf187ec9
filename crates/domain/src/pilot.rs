//! Pilots: a named policy change tried in a set of units from a start date, filed with the level above, carried
//! through its lifecycle, evaluated and — when it works — adopted elsewhere and codified.
//!
//! A pilot is **filed**, not approved: the filing is a recorded notification to the level above, and it is the
//! officials' fault-tolerance record (容错纠错): who filed what, when, and within which guardrails. Filing checks that
//! the change keeps every guardrail in force over every pilot unit, exactly as saving a layer would.
//!
//! The verdict on a pilot is a pure function of the estimated effects ([`verdict`]); building the panel and
//! estimating the effects is the app's job.

mod lifecycle;
mod outcome;
mod verdict;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::policy::{
    LayerVersion, ParsedLayer, PolicyBook, PolicyError, Violation, deep_merge, flatten, layer_from_table, local_date,
};
use crate::territory::UnitCode;

pub use lifecycle::{PilotAction, PilotState};
pub use outcome::{PanelCase, outcome_value};
pub use verdict::{
    Balance, Covariate, Effect, Finding, MDE_MULTIPLIER, OutcomeEffect, STD_DIFF_WARNING, SiteNote, SiteSelection,
    Verdict, VerdictReport, site_selection, verdict,
};

/// What a pilot sets out to change, measured per unit and month from the case store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    MedianDaysToClose,
    OverdueShare,
    SatisfactionRate,
    RepeatPetitionRate,
    ResponseRate,
    ResolutionRate,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::MedianDaysToClose,
        Outcome::OverdueShare,
        Outcome::SatisfactionRate,
        Outcome::RepeatPetitionRate,
        Outcome::ResponseRate,
        Outcome::ResolutionRate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::MedianDaysToClose => "median_days_to_close",
            Outcome::OverdueShare => "overdue_share",
            Outcome::SatisfactionRate => "satisfaction_rate",
            Outcome::RepeatPetitionRate => "repeat_petition_rate",
            Outcome::ResponseRate => "response_rate",
            Outcome::ResolutionRate => "resolution_rate",
        }
    }

    pub fn parse(name: &str) -> Result<Outcome, PilotError> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == name.trim())
            .ok_or_else(|| PilotError::UnknownOutcome {
                name: name.to_string(),
                known: Outcome::ALL.map(Outcome::as_str).join(", "),
            })
    }

    /// The direction of improvement: a higher response rate is better, a higher overdue share is worse.
    pub fn higher_is_better(self) -> bool {
        match self {
            Outcome::MedianDaysToClose | Outcome::OverdueShare | Outcome::RepeatPetitionRate => false,
            Outcome::SatisfactionRate | Outcome::ResponseRate | Outcome::ResolutionRate => true,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pilot as written in a TOML file (`grassroots pilot file FILE`).
///
/// ```toml
/// name = "mediation-first"
/// owner = "330502"
/// units = ["330502001", "330502002"]
/// start = 2024-07-01
/// hypothesis = "Offering mediation first closes neighbour disputes faster"
/// primary_outcome = "median_days_to_close"
/// guardrail_outcomes = ["satisfaction_rate", "overdue_share"]
/// officials = ["Wang Fang, head of Wuxing district"]
/// [change]
/// mediation.first_for = ["neighbour_dispute", "family", "property_management"]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PilotSpec {
    pub name: String,
    /// The unit that runs the pilot; it files with the level above it.
    pub owner: String,
    pub units: Vec<String>,
    pub start: toml::value::Datetime,
    pub hypothesis: String,
    pub primary_outcome: String,
    #[serde(default)]
    pub guardrail_outcomes: Vec<String>,
    pub officials: Vec<String>,
    /// The policy change: a layer fragment, applied below each pilot unit's own layer.
    pub change: toml::Table,
}

/// A checked pilot.
#[derive(Debug, Clone, PartialEq)]
pub struct Pilot {
    pub name: String,
    pub owner: UnitCode,
    pub units: Vec<UnitCode>,
    pub start: Date,
    pub hypothesis: String,
    pub primary: Outcome,
    pub guardrail_outcomes: Vec<Outcome>,
    pub officials: Vec<String>,
    pub change: ParsedLayer,
}

impl Pilot {
    /// Parses and checks a pilot file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Pilot, PilotError> {
        let deserializer = toml::de::Deserializer::parse(text).map_err(|e| PilotError::File {
            file: file.to_string(),
            key: String::new(),
            message: e.message().trim().to_string(),
        })?;
        let spec: PilotSpec = serde_path_to_error::deserialize(deserializer).map_err(|e| PilotError::File {
            file: file.to_string(),
            key: e.path().to_string(),
            message: e.inner().message().trim().to_string(),
        })?;
        Pilot::new(spec)
    }

    /// Checks a pilot: a name, at least one unit, every unit within the owner, known outcomes, named officials, and a
    /// change that is a valid layer fragment without header or guardrails.
    pub fn new(spec: PilotSpec) -> Result<Pilot, PilotError> {
        let name = spec.name.trim().to_string();
        if name.is_empty() {
            return Err(PilotError::Invalid {
                pilot: name,
                message: "a pilot needs a name".into(),
            });
        }
        let invalid = |message: String| PilotError::Invalid {
            pilot: name.clone(),
            message,
        };
        let owner = UnitCode::parse(&spec.owner).map_err(|e| invalid(format!("owner: {e}")))?;
        if spec.units.is_empty() {
            return Err(PilotError::NoUnits { pilot: name });
        }
        let mut units = Vec::new();
        let mut seen = BTreeSet::new();
        for raw in &spec.units {
            let unit = UnitCode::parse(raw).map_err(|e| invalid(format!("units: {e}")))?;
            if !unit.is_within(&owner) {
                return Err(invalid(format!("unit {unit} is not within the owner {owner}")));
            }
            if !seen.insert(unit.clone()) {
                return Err(invalid(format!("unit {unit} is listed twice")));
            }
            units.push(unit);
        }
        units.sort();
        let start = local_date(&spec.start).ok_or_else(|| invalid(format!("start {} is not a date", spec.start)))?;
        if spec.hypothesis.trim().is_empty() {
            return Err(invalid("a pilot needs a hypothesis".into()));
        }
        let primary = Outcome::parse(&spec.primary_outcome)?;
        let mut guardrail_outcomes = Vec::new();
        for raw in &spec.guardrail_outcomes {
            let outcome = Outcome::parse(raw)?;
            if outcome == primary || guardrail_outcomes.contains(&outcome) {
                return Err(invalid(format!("outcome {outcome} is listed twice")));
            }
            guardrail_outcomes.push(outcome);
        }
        let officials: Vec<String> = spec
            .officials
            .iter()
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if officials.is_empty() {
            return Err(invalid("a pilot names its responsible officials".into()));
        }
        for forbidden in ["layer", "guardrail"] {
            if spec.change.contains_key(forbidden) {
                return Err(invalid(format!(
                    "the change may not contain `{forbidden}`: a pilot changes how units work, not its own filing"
                )));
            }
        }
        if spec.change.is_empty() {
            return Err(invalid("the change is empty".into()));
        }
        let change = layer_from_table(&format!("pilot {name} [change]"), spec.change).map_err(PilotError::Policy)?;
        Ok(Pilot {
            name,
            owner,
            units,
            start,
            hypothesis: spec.hypothesis.trim().to_string(),
            primary,
            guardrail_outcomes,
            officials,
            change,
        })
    }

    /// Every outcome the pilot watches, the primary first.
    pub fn outcomes(&self) -> Vec<Outcome> {
        std::iter::once(self.primary)
            .chain(self.guardrail_outcomes.iter().copied())
            .collect()
    }

    /// The change as a layer version of `unit` from the pilot's start, for folding below the unit's own layer.
    pub fn overlay(&self, unit: &UnitCode, from: Date) -> LayerVersion {
        LayerVersion {
            unit: unit.clone(),
            effective_from: from,
            source: format!("pilot {}", self.name),
            parsed: self.change.clone(),
        }
    }

    /// Checks the pilot against the months the case store covers, `first_month ..= last_month` (first days of
    /// months): an evaluation needs at least one month before the start and the start within the data.
    pub fn check_data_window(&self, first_month: Date, last_month: Date) -> Result<(), PilotError> {
        if self.start < first_month {
            return Err(PilotError::StartBeforeData {
                pilot: self.name.clone(),
                start: self.start,
                first: first_month,
            });
        }
        if month_index(self.start) <= month_index(first_month) {
            return Err(PilotError::NoPrePeriod {
                pilot: self.name.clone(),
                start: self.start,
                first: first_month,
            });
        }
        if month_index(self.start) > month_index(last_month) {
            return Err(PilotError::NoPostPeriod {
                pilot: self.name.clone(),
                start: self.start,
                last: last_month,
            });
        }
        Ok(())
    }

    /// Files the pilot with the level above its owner: checks that the change keeps every guardrail in force over
    /// each pilot unit at the start date, and returns the record to keep. Filing is a notification, not an approval:
    /// the only reason it fails is a broken guardrail.
    pub fn file(&self, book: &PolicyBook, filed_at: OffsetDateTime) -> Result<Filing, PilotError> {
        // No retroactive rules: a pilot takes effect no earlier than the local day it is filed.
        let filed_on = book.calendar().local_date(filed_at);
        if self.start < filed_on {
            return Err(PilotError::Invalid {
                pilot: self.name.clone(),
                message: format!(
                    "start {} is before the day it is filed ({filed_on}): a pilot takes effect no earlier than it is filed",
                    self.start
                ),
            });
        }
        let mut violations = Vec::new();
        let mut guardrails = BTreeMap::new();
        for unit in &self.units {
            let policy = book.effective_with(unit, self.start, &self.overlay(unit, self.start));
            violations.extend(book.violations_of(&policy));
            for g in &policy.guardrails {
                guardrails
                    .entry((g.owner.clone(), g.guardrail.id.clone()))
                    .or_insert_with(|| GuardrailKept {
                        id: g.guardrail.id.clone(),
                        owner: g.owner.clone(),
                        source: g.source.clone(),
                        rule: g.guardrail.describe(),
                    });
            }
        }
        if !violations.is_empty() {
            return Err(PilotError::BreaksGuardrails {
                pilot: self.name.clone(),
                violations,
            });
        }
        Ok(Filing {
            pilot: self.name.clone(),
            owner: self.owner.clone(),
            filed_with: self.owner.parent_code(),
            filed_by: self.officials.clone(),
            filed_at,
            start: self.start,
            units: self.units.clone(),
            hypothesis: self.hypothesis.clone(),
            primary: self.primary,
            guardrail_outcomes: self.guardrail_outcomes.clone(),
            change: flatten(&self.change.raw)
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
            guardrails_kept: guardrails.into_values().collect(),
        })
    }

    /// Codifies the pilot: its change merged into the owner's layer (`owner_layer`, the raw table of the owner's
    /// version in force), giving the table of the owner's next version. The caller saves it through
    /// [`PolicyBook::save`], so the guardrails are checked once more.
    pub fn codify(&self, owner_layer: &toml::Table) -> toml::Table {
        let mut merged = owner_layer.clone();
        merged.remove("layer");
        deep_merge(&mut merged, &self.change.raw);
        merged
    }
}

/// The months since year 0 of a date (for month arithmetic on panels).
pub fn month_index(date: Date) -> i64 {
    i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1
}

/// The first day of the month with this index.
pub fn month_start(index: i64) -> Option<Date> {
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(year, month, 1).ok()
}

/// Units that take up a proven practice later: a new cohort from its own date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adoption {
    pub units: Vec<UnitCode>,
    #[serde(with = "crate::calendar::iso_date")]
    pub from: Date,
}

/// The adopting units and the month each began (the pilot's units from its start, then each adoption), for a
/// staggered evaluation. A unit adopting twice is an error: treatment is absorbing.
pub fn cohorts(pilot: &Pilot, adoptions: &[Adoption]) -> Result<BTreeMap<UnitCode, Date>, PilotError> {
    let mut out: BTreeMap<UnitCode, Date> = pilot.units.iter().map(|u| (u.clone(), pilot.start)).collect();
    for adoption in adoptions {
        if adoption.units.is_empty() {
            return Err(PilotError::NoUnits {
                pilot: pilot.name.clone(),
            });
        }
        if adoption.from < pilot.start {
            return Err(PilotError::Invalid {
                pilot: pilot.name.clone(),
                message: format!(
                    "an adoption from {} precedes the pilot's start {}",
                    adoption.from, pilot.start
                ),
            });
        }
        for unit in &adoption.units {
            if let Some(since) = out.get(unit) {
                return Err(PilotError::Invalid {
                    pilot: pilot.name.clone(),
                    message: format!("unit {unit} already follows the practice since {since}"),
                });
            }
            out.insert(unit.clone(), adoption.from);
        }
    }
    Ok(out)
}

/// A guardrail that the pilot's change was checked against when filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailKept {
    pub id: String,
    pub owner: UnitCode,
    pub source: String,
    pub rule: String,
}

/// The fault-tolerance record of a pilot: who filed what, when, with whom, and within which guardrails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filing {
    pub pilot: String,
    pub owner: UnitCode,
    /// The level above the owner; `None` when a province files with the centre.
    pub filed_with: Option<UnitCode>,
    pub filed_by: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub filed_at: OffsetDateTime,
    #[serde(with = "crate::calendar::iso_date")]
    pub start: Date,
    pub units: Vec<UnitCode>,
    pub hypothesis: String,
    pub primary: Outcome,
    pub guardrail_outcomes: Vec<Outcome>,
    /// The change, key by key.
    pub change: BTreeMap<String, String>,
    pub guardrails_kept: Vec<GuardrailKept>,
}

impl fmt::Display for Filing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = self
            .filed_with
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "the centre".into());
        writeln!(
            f,
            "pilot {} run by {}, filed with {} on {}",
            self.pilot,
            self.owner,
            with,
            self.filed_at.date()
        )?;
        writeln!(f, "  filed by: {}", self.filed_by.join("; "))?;
        let units: Vec<&str> = self.units.iter().map(UnitCode::as_str).collect();
        writeln!(f, "  units ({}) from {}: {}", units.len(), self.start, units.join(", "))?;
        writeln!(f, "  hypothesis: {}", self.hypothesis)?;
        let rails: Vec<&str> = self.guardrail_outcomes.iter().map(|o| o.as_str()).collect();
        writeln!(
            f,
            "  primary outcome: {}; must not worsen: {}",
            self.primary,
            rails.join(", ")
        )?;
        writeln!(f, "  change:")?;
        for (key, value) in &self.change {
            writeln!(f, "    {key} = {value}")?;
        }
        writeln!(f, "  within {} guardrails, all kept:", self.guardrails_kept.len())?;
        for g in &self.guardrails_kept {
            writeln!(f, "    \"{}\" of {} ({}): {}", g.id, g.owner, g.source, g.rule)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PilotError {
    #[error("{file}: key `{key}`: {message}")]
    File { file: String, key: String, message: String },
    #[error("pilot {pilot:?}: {message}")]
    Invalid { pilot: String, message: String },
    #[error("pilot {pilot:?} has no units: name at least one unit that adopts the change")]
    NoUnits { pilot: String },
    #[error("unknown outcome {name:?} (known outcomes: {known})")]
    UnknownOutcome { name: String, known: String },
    #[error("pilot {pilot:?} starts on {start}, before the case data begins ({first})")]
    StartBeforeData { pilot: String, start: Date, first: Date },
    #[error(
        "pilot {pilot:?} starts on {start}, in the first month of data ({first}): no month before it to compare with"
    )]
    NoPrePeriod { pilot: String, start: Date, first: Date },
    #[error("pilot {pilot:?} starts on {start}, after the last month of data ({last}): nothing to evaluate yet")]
    NoPostPeriod { pilot: String, start: Date, last: Date },
    #[error("pilot {pilot:?} cannot be filed: {}", list(.violations))]
    BreaksGuardrails { pilot: String, violations: Vec<Violation> },
    #[error("pilot {pilot:?} starts on {start}: it cannot be evaluated before it has started (today is {today})")]
    NotStarted { pilot: String, start: Date, today: Date },
    #[error("pilot {pilot:?} is {state}: it cannot {action}")]
    IllegalTransition {
        pilot: String,
        state: PilotState,
        action: &'static str,
    },
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

fn list(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
