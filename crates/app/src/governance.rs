//! Policy layers and pilots as use cases: saving a layer (checked against the guardrails, audited either way),
//! filing a pilot, moving it through its lifecycle, and evaluating it from the case store with the stats crate.
//!
//! Evaluation builds a unit × month panel of each outcome at the level of the pilot's units (cases are counted at
//! the unit their location falls in, each summarised by `domain::rates` on the clocks in force for it), treats
//! adopters as staggered cohorts with not-yet-treated units as controls, and hands the simple aggregated ATT to
//! `domain::pilot::verdict`. The estimator needs a balanced panel: a month in which a unit's outcome is undefined
//! (no case, nothing rated…) takes the unit's value over all its months, so it adds no change over time (see
//! [`CaseGrid::values`]); only a unit whose outcome is undefined in every month is left out, and reported.
//! Evaluating reads; recording an evaluation in the pilot's lifecycle is a separate step ([`evaluate_pilot`]).

use std::collections::BTreeMap;

use domain::UnitCode;
use domain::calendar::Calendar;
use domain::pilot::{
    Adoption, Covariate, Effect, Filing, Outcome, OutcomeEffect, PanelCase, Pilot, PilotAction, PilotState,
    SiteSelection, VerdictReport, cohorts, month_index, outcome_value, site_selection, verdict,
};
use domain::policy::{LayerVersion, PilotChange, PolicyBook, PolicyError, Violation};
use domain::rates::RateWeights;
use serde::Serialize;
use store::{AdoptionRow, FilingRow, PilotEventRow, PilotRow, PolicyEventRow, PolicyVersionRow, Store};
use time::{Date, OffsetDateTime};

use crate::AppError;

const DATE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Reads an ISO date (`2026-12-15`), the one form of a date in every CLI and JSON input and output.
pub fn parse_date(s: &str) -> Result<Date, AppError> {
    Date::parse(s.trim(), DATE).map_err(|e| AppError::Invalid(format!("date {s:?}: {e} (expected YYYY-MM-DD)")))
}

/// Writes a date as an ISO date (`2026-12-15`).
pub fn fmt_date(d: Date) -> String {
    d.format(DATE).unwrap_or_else(|_| d.to_string())
}

fn policy_err(e: PolicyError) -> AppError {
    AppError::Invalid(e.to_string())
}

/// The policy book as stored.
pub async fn load_book(store: &Store) -> Result<PolicyBook, AppError> {
    let mut versions = Vec::new();
    for row in store.policy_versions().await? {
        let unit = UnitCode::parse(&row.unit).map_err(|e| AppError::Invalid(e.to_string()))?;
        let date = parse_date(&row.effective_from)?;
        versions.push(LayerVersion::parse(&unit, &row.source, &row.body, Some(date)).map_err(policy_err)?);
    }
    Ok(PolicyBook::from_versions(versions))
}

/// China's default rules with the clocks that the stored policy layers, and the changes of the pilots under way
/// (running, evaluated or expanded, in their units and adopters), set for their units.
pub async fn rules_in_force(store: &Store) -> Result<crate::workflow::Rules, AppError> {
    let rules = crate::workflow::Rules::china();
    rules.set_policies(&load_book(store).await?, &pilots_in_force(store).await?);
    Ok(rules)
}

/// Every unit in which a pilot applies its change, from when and until when: a pilot that was started applies from
/// each cohort's date until it was abandoned, sent back for revision or codified (its owner's layer then holds it).
pub async fn pilots_in_force(store: &Store) -> Result<Vec<PilotChange>, AppError> {
    let mut out = Vec::new();
    for row in store.pilots().await? {
        if matches!(row.state.as_str(), "proposed") {
            continue;
        }
        let events = store.pilot_events(row.id).await?;
        let Some(started) = events.iter().rposition(|e| e.action == "start") else {
            continue;
        };
        let until = events[started..]
            .iter()
            .find(|e| matches!(e.action.as_str(), "abandon" | "revise" | "codify"))
            .and_then(|e| OffsetDateTime::from_unix_timestamp(e.at).ok())
            .map(|t| t.date());
        let stored = checked_pilot(store, row).await?;
        let since = cohorts(&stored.pilot, &stored.adoptions).map_err(AppError::Pilot)?;
        out.extend(since.into_iter().map(|(unit, from)| PilotChange {
            change: stored.pilot.overlay(&unit, from),
            unit,
            from,
            until,
        }));
    }
    Ok(out)
}

/// Saves a layer for `unit` after checking it; a rejected layer is recorded as a `rejected` event and nothing else.
/// Checked: the schema, every guardrail in force and the statute (working days compared through `calendar`), and that
/// it takes effect no earlier than `now`'s local day — nor replaces a version in force today once cases have been
/// filed under it. `fallback_date` (the layer's date when its header names none) defaults to that local day.
#[allow(clippy::too_many_arguments)]
pub async fn set_policy(
    store: &Store,
    calendar: &Calendar,
    unit: &UnitCode,
    source: &str,
    text: &str,
    fallback_date: Option<Date>,
    actor: &str,
    now: OffsetDateTime,
) -> Result<LayerVersion, AppError> {
    let mut book = load_book(store).await?.with_calendar(calendar.clone());
    let today = calendar.local_date(now);
    let start_of_today = today.midnight().assume_offset(calendar.offset());
    let filed_today = !store
        .list_cases(&store::CaseFilter {
            under: Some(unit.clone()),
            created_from: Some(start_of_today.unix_timestamp()),
            limit: 1,
            ..store::CaseFilter::default()
        })
        .await?
        .is_empty();
    let fallback_date = fallback_date.or(Some(today));
    let checked = LayerVersion::parse(unit, source, text, fallback_date).and_then(|v| {
        book.check_not_retroactive(&v, today, filed_today)?;
        book.save(v.clone())?;
        Ok(v)
    });
    match checked {
        Ok(version) => {
            let row = PolicyVersionRow {
                id: 0,
                unit: unit.to_string(),
                effective_from: fmt_date(version.effective_from),
                source: source.to_string(),
                body: text.to_string(),
                saved_at: now.unix_timestamp(),
                saved_by: actor.to_string(),
            };
            let title = version
                .parsed
                .doc
                .layer
                .as_ref()
                .and_then(|h| h.title.clone())
                .unwrap_or_default();
            store.save_policy_version(&row, &title).await?;
            Ok(version)
        }
        Err(e) => {
            store
                .record_policy_event(&PolicyEventRow {
                    unit: unit.to_string(),
                    effective_from: fallback_date.map(fmt_date),
                    kind: "rejected".into(),
                    source: source.to_string(),
                    actor: actor.to_string(),
                    at: now.unix_timestamp(),
                    detail: e.to_string(),
                })
                .await?;
            Err(AppError::Policy(e))
        }
    }
}

/// Every broken guardrail under `root` (everything when `None`), the statute's included, with working days compared
/// through `calendar`.
pub async fn check_policies(
    store: &Store,
    calendar: &Calendar,
    root: Option<&UnitCode>,
) -> Result<Vec<Violation>, AppError> {
    Ok(load_book(store)
        .await?
        .with_calendar(calendar.clone())
        .check_subtree(root))
}

/// Files a pilot: checks it, checks its change against the guardrails, and stores it with its filing record.
pub async fn file_pilot(
    store: &Store,
    source: &str,
    text: &str,
    now: OffsetDateTime,
) -> Result<(i64, Filing), AppError> {
    let pilot = Pilot::parse(source, text).map_err(AppError::Pilot)?;
    if store.pilot(&pilot.name).await?.is_some() {
        return Err(AppError::Invalid(format!(
            "a pilot named {:?} already exists",
            pilot.name
        )));
    }
    let codes: Vec<&UnitCode> = pilot.units.iter().collect();
    let missing = store.missing_units(&codes).await?;
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
        return Err(AppError::Invalid(format!(
            "pilot {:?}: unknown units {}",
            pilot.name,
            list.join(", ")
        )));
    }
    let book = load_book(store).await?;
    let filing = pilot.file(&book, now).map_err(AppError::Pilot)?;
    let record = serde_json::to_string(&filing).map_err(|e| AppError::Invalid(e.to_string()))?;
    let id = store
        .insert_pilot(
            &PilotRow {
                id: 0,
                name: pilot.name.clone(),
                owner: pilot.owner.to_string(),
                spec: text.to_string(),
                state: PilotState::Proposed.as_str().into(),
                created_at: now.unix_timestamp(),
            },
            &FilingRow {
                filed_at: now.unix_timestamp(),
                filed_with: filing.filed_with.as_ref().map(ToString::to_string),
                record,
            },
            &PilotEventRow {
                action: "file".into(),
                actor: pilot.officials.join("; "),
                at: now.unix_timestamp(),
                detail: format!(
                    "filed with {}",
                    filing
                        .filed_with
                        .as_ref()
                        .map_or("the centre".into(), |u| u.to_string())
                ),
            },
        )
        .await?;
    Ok((id, filing))
}

/// A stored pilot, checked again.
pub struct StoredPilot {
    pub row: PilotRow,
    pub pilot: Pilot,
    pub state: PilotState,
    pub adoptions: Vec<Adoption>,
}

pub async fn load_pilot(store: &Store, id_or_name: &str) -> Result<StoredPilot, AppError> {
    let row = store
        .pilot(id_or_name)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("no pilot {id_or_name:?}")))?;
    checked_pilot(store, row).await
}

/// A pilot row already read, parsed and checked again, with its adoptions.
async fn checked_pilot(store: &Store, row: store::PilotRow) -> Result<StoredPilot, AppError> {
    let pilot =
        Pilot::parse(&format!("pilot {}", row.name), &row.spec).map_err(|e| AppError::Invalid(e.to_string()))?;
    let state =
        PilotState::parse(&row.state).ok_or_else(|| AppError::Invalid(format!("pilot state {:?}", row.state)))?;
    let mut adoptions = Vec::new();
    for a in store.pilot_adoptions(row.id).await? {
        let units = a
            .units
            .split(',')
            .map(|u| UnitCode::parse(u).map_err(|e| AppError::Invalid(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        adoptions.push(Adoption {
            units,
            from: parse_date(&a.from_date)?,
        });
    }
    Ok(StoredPilot {
        row,
        pilot,
        state,
        adoptions,
    })
}

/// The fault-tolerance record: the filings, then every lifecycle event.
pub async fn pilot_record(
    store: &Store,
    id_or_name: &str,
) -> Result<(StoredPilot, Vec<Filing>, Vec<PilotEventRow>), AppError> {
    let stored = load_pilot(store, id_or_name).await?;
    let mut filings = Vec::new();
    for f in store.pilot_filings(stored.row.id).await? {
        filings.push(serde_json::from_str(&f.record).map_err(|e| AppError::Invalid(format!("filing record: {e}")))?);
    }
    let events = store.pilot_events(stored.row.id).await?;
    Ok((stored, filings, events))
}

/// Applies a lifecycle action (start, continue, expand, revise, abandon, codify); returns the new state.
pub async fn act(
    store: &Store,
    id_or_name: &str,
    action: PilotAction,
    actor: &str,
    now: OffsetDateTime,
) -> Result<PilotState, AppError> {
    let stored = load_pilot(store, id_or_name).await?;
    let next = stored
        .pilot
        .step(stored.state, action, local_today(now))
        .map_err(AppError::Pilot)?;
    if action == PilotAction::Codify {
        let mut book = load_book(store).await?;
        // The codified layer takes effect from now: today in the local calendar, as every policy date is.
        let calendar = Calendar::china();
        let date = calendar.local_date(now);
        let owner_raw = book
            .layer_at(&stored.pilot.owner, date)
            .map(|v| v.parsed.raw.clone())
            .unwrap_or_default();
        let merged = stored.pilot.codify(&owner_raw);
        let text = toml::to_string(&merged).map_err(|e| AppError::Invalid(e.to_string()))?;
        let source = format!("codified pilot {}", stored.pilot.name);
        let version = LayerVersion::parse(&stored.pilot.owner, &source, &text, Some(date)).map_err(AppError::Policy)?;
        book.save(version).map_err(AppError::Policy)?;
        set_policy(
            store,
            &calendar,
            &stored.pilot.owner,
            &source,
            &text,
            Some(date),
            actor,
            now,
        )
        .await?;
    }
    let event = PilotEventRow {
        action: action.as_str().into(),
        actor: actor.into(),
        at: now.unix_timestamp(),
        detail: String::new(),
    };
    store
        .append_pilot_event(stored.row.id, &event, next.as_str(), None)
        .await?;
    Ok(next)
}

/// Copies an expanded practice into more units from `from`: a new cohort.
pub async fn adopt(
    store: &Store,
    id_or_name: &str,
    units: Vec<UnitCode>,
    from: Date,
    actor: &str,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let stored = load_pilot(store, id_or_name).await?;
    let next = stored
        .state
        .apply(&stored.pilot.name, PilotAction::Adopt)
        .map_err(AppError::Pilot)?;
    // An adoption becomes a cohort of the pilot's evaluation, so its units must exist, sit at the level of the
    // pilot's units and within the pool the evaluation compares them with; a bad adoption once recorded would make
    // every later evaluation fail.
    let codes: Vec<&UnitCode> = units.iter().collect();
    let missing = store.missing_units(&codes).await?;
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
        return Err(AppError::Invalid(format!(
            "pilot {:?}: unknown units {}",
            stored.pilot.name,
            list.join(", ")
        )));
    }
    let level = stored.pilot.units[0].level();
    let pool = evaluation_pool(&stored.pilot);
    if let Some(unit) = units.iter().find(|u| u.level() != level || !u.is_within(&pool)) {
        return Err(AppError::Invalid(format!(
            "pilot {:?}: unit {unit} cannot adopt: adopters must be {level} units within {pool}, where the \
             pilot is evaluated",
            stored.pilot.name
        )));
    }
    let mut adoptions = stored.adoptions.clone();
    adoptions.push(Adoption {
        units: units.clone(),
        from,
    });
    cohorts(&stored.pilot, &adoptions).map_err(AppError::Pilot)?;
    let book = load_book(store).await?;
    for unit in &units {
        let policy = book.effective_with(unit, from, &stored.pilot.overlay(unit, from));
        let broken = book.violations_of(&policy);
        if !broken.is_empty() {
            return Err(AppError::Policy(PolicyError::Rejected {
                file: format!("adoption of pilot {:?}", stored.pilot.name),
                unit: unit.clone(),
                violations: broken,
            }));
        }
    }
    let list: Vec<String> = units.iter().map(ToString::to_string).collect();
    let event = PilotEventRow {
        action: "adopt".into(),
        actor: actor.into(),
        at: now.unix_timestamp(),
        detail: format!("{} from {}", list.join(","), fmt_date(from)),
    };
    let adoption = AdoptionRow {
        units: list.join(","),
        from_date: fmt_date(from),
        at: now.unix_timestamp(),
        actor: actor.into(),
    };
    store
        .append_pilot_event(stored.row.id, &event, next.as_str(), Some(&adoption))
        .await?;
    Ok(())
}

/// The local date of an instant, for the lifecycle's dates (the deployment's calendar day, China time).
fn local_today(now: OffsetDateTime) -> Date {
    domain::calendar::Calendar::china().local_date(now)
}

/// The units a pilot's adopters are compared with: the subtree of the level above its owner (the owner itself for a
/// root).
fn evaluation_pool(pilot: &Pilot) -> UnitCode {
    pilot.owner.parent_code().unwrap_or_else(|| pilot.owner.clone())
}

/// The cases of a pilot's evaluation pool by panel unit (the level of the pilot's units) and month: the one place
/// where the unit × month panel of an outcome is built, for evaluating a pilot on the case store and for checking
/// the evaluation against a simulated truth.
pub struct CaseGrid<'a> {
    /// Month indices ([`month_index`]) from the first case's month to the last's.
    pub months: Vec<i64>,
    pub first_month: i64,
    cells: BTreeMap<(UnitCode, i64), Vec<&'a PanelCase>>,
    /// Every case of a panel unit (the history that repeat petitions look back on).
    pub by_unit: BTreeMap<UnitCode, Vec<&'a PanelCase>>,
    /// The deployment's weights (how much "basically satisfied" counts).
    weights: RateWeights,
}

impl<'a> CaseGrid<'a> {
    /// Groups `cases` for `pilot`, checking that its start leaves a month before and a month after it in the data.
    pub fn build(pilot: &Pilot, cases: &'a [PanelCase], weights: &RateWeights) -> Result<CaseGrid<'a>, AppError> {
        let invalid = |m: String| AppError::Invalid(format!("pilot {:?}: {m}", pilot.name));
        let first = cases
            .iter()
            .map(|c| c.created_at)
            .min()
            .ok_or_else(|| invalid("the case store is empty".into()))?;
        let last = cases.iter().map(|c| c.created_at).max().unwrap_or(first);
        let to_date = |t: i64| {
            OffsetDateTime::from_unix_timestamp(t)
                .map(|d| d.date())
                .map_err(|e| invalid(e.to_string()))
        };
        let (first_date, last_date) = (to_date(first)?, to_date(last)?);
        pilot
            .check_data_window(first_date, last_date)
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let pool = evaluation_pool(pilot);
        let len = pilot.units[0].level().code_len();
        let mut cells: BTreeMap<(UnitCode, i64), Vec<&PanelCase>> = BTreeMap::new();
        let mut by_unit: BTreeMap<UnitCode, Vec<&PanelCase>> = BTreeMap::new();
        for c in cases {
            if c.unit().as_str().len() < len || !c.unit().is_within(&pool) {
                continue;
            }
            let Ok(unit) = UnitCode::parse(&c.unit().as_str()[..len]) else {
                continue;
            };
            let month = month_index(to_date(c.created_at)?);
            cells.entry((unit.clone(), month)).or_default().push(c);
            by_unit.entry(unit).or_default().push(c);
        }
        let first_month = month_index(first_date);
        Ok(CaseGrid {
            months: (first_month..=month_index(last_date)).collect(),
            first_month,
            cells,
            by_unit,
            weights: weights.clone(),
        })
    }

    /// The outcome of `unit` in every month, with the number of months in which it was undefined; `None` when it is
    /// undefined in every month.
    ///
    /// A month without a value — no case that month, or none that decides the outcome (nothing closed, nothing
    /// rated, no answer) — takes the unit's value over all its cases. That keeps the unit in the balanced panel
    /// without inventing a change: such a month moves the unit's trajectory neither up nor down, so an empty month
    /// pulls an estimated effect towards zero, never away from it. A live pilot with a few cases therefore keeps
    /// every unit that had any case, instead of dropping every unit with one empty month.
    pub fn values(&self, unit: &UnitCode, outcome: Outcome) -> Option<(Vec<f64>, usize)> {
        let history = self.by_unit.get(unit)?;
        let overall = outcome_value(outcome, history, history, &self.weights)?;
        let mut filled = 0;
        let values = self
            .months
            .iter()
            .map(|m| {
                let cell = self.cells.get(&(unit.clone(), *m)).map_or(&[][..], Vec::as_slice);
                outcome_value(outcome, cell, history, &self.weights).unwrap_or_else(|| {
                    filled += 1;
                    overall
                })
            })
            .collect();
        Some((values, filled))
    }
}

/// Something the evaluation of a pilot notes about its data, with its numbers, so that each interface words it in
/// its own language ([`EvaluationNote::english`] for the CLI and the JSON's `warnings`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum EvaluationNote {
    /// Units left out of an outcome's panel: no case of theirs defines it in any month.
    UnitsLeftOut { outcome: Outcome, units: usize },
    /// Unit-months without a value that took their unit's overall value.
    MonthsFilled { outcome: Outcome, unit_months: usize },
    /// No adopting unit has a case that defines the outcome.
    NoAdopterValues { outcome: Outcome },
    /// No unit outside the pilot has a case that defines the outcome.
    NoComparisonValues { outcome: Outcome },
    /// A message of the estimator (`stats`), in English as R's `did` words it.
    Estimator { outcome: Outcome, message: String },
}

impl EvaluationNote {
    pub fn english(&self) -> String {
        match self {
            EvaluationNote::UnitsLeftOut { outcome, units } => {
                format!("{outcome}: {units} units left out: no case of theirs defines it in any month")
            }
            EvaluationNote::MonthsFilled { outcome, unit_months } => {
                format!("{outcome}: {unit_months} unit-months without a value took their unit's overall value")
            }
            EvaluationNote::NoAdopterValues { outcome } => {
                format!("{outcome}: no adopting unit has a case that defines it")
            }
            EvaluationNote::NoComparisonValues { outcome } => {
                format!("{outcome}: no unit outside the pilot has a case that defines it, to compare with")
            }
            EvaluationNote::Estimator { outcome, message } => format!("{outcome}: {message}"),
        }
    }
}

/// The name of the site-selection characteristic "the primary outcome before the pilot".
pub fn pre_period_covariate(outcome: Outcome) -> String {
    format!("pre-period {outcome}")
}

/// The name of the site-selection characteristic "cases per month before the pilot".
pub const VOLUME_COVARIATE: &str = "pre-period cases per month (size)";

/// A pilot's evaluation: effects per outcome, the verdict, and the site-selection check.
#[derive(Debug, Clone, Serialize)]
pub struct PilotEvaluation {
    pub pilot: String,
    pub effects: Vec<OutcomeEffect>,
    pub verdict: VerdictReport,
    pub site_selection: SiteSelection,
    pub units_in_panel: usize,
    pub adopters_in_panel: usize,
    pub months: usize,
    /// The notes in English ([`EvaluationNote::english`]).
    pub warnings: Vec<String>,
    /// The same notes with their numbers.
    pub notes: Vec<EvaluationNote>,
    /// The event study of the primary outcome, when it could be estimated; pages draw it in their language
    /// (`stats::EventStudy::svg`); not part of the JSON.
    #[serde(skip)]
    pub event_study: Option<stats::EventStudy>,
}

impl PilotEvaluation {
    /// The evaluation in one line, as recorded with the pilot: the verdict, the effect on the primary outcome and the
    /// size of the evidence.
    pub fn evidence(&self) -> String {
        let primary = self.verdict.reasons.first().map_or("", String::as_str);
        format!(
            "{EVIDENCE_PREFIX}{}; {primary}; {} adopting units of {} in the panel over {} months",
            self.verdict.verdict, self.adopters_in_panel, self.units_in_panel, self.months
        )
    }
}

/// How a recorded evaluation begins (`verdict: expand; …`).
const EVIDENCE_PREFIX: &str = "verdict: ";

/// A practice others are urged to learn from: a pilot expanded or codified, or whose last evaluation said expand.
#[derive(Debug, Clone, Serialize)]
pub struct Practice {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub state: String,
    pub hypothesis: String,
    /// Units that run it: the pilot's own and every adoption's.
    pub units: usize,
    /// The last recorded evaluation (see [`PilotEvaluation::evidence`]) and when it was made.
    pub evidence: String,
    pub evaluated_at: i64,
}

/// The practices to learn from, with their evidence, most recently evaluated first.
pub async fn practices(store: &Store) -> Result<Vec<Practice>, AppError> {
    let mut out = Vec::new();
    for row in store.pilots().await? {
        let events = store.pilot_events(row.id).await?;
        let Some(last) = events.iter().rev().find(|e| e.action == "evaluate") else {
            continue;
        };
        let proven = matches!(row.state.as_str(), "expanded" | "codified")
            || last
                .detail
                .starts_with(&format!("{EVIDENCE_PREFIX}{}", domain::pilot::Verdict::Expand));
        if !proven || row.state == "abandoned" {
            continue;
        }
        let stored = checked_pilot(store, row).await?;
        let units = stored.pilot.units.len() + stored.adoptions.iter().map(|a| a.units.len()).sum::<usize>();
        let row = &stored.row;
        out.push(Practice {
            id: row.id,
            name: row.name.clone(),
            owner: row.owner.clone(),
            state: row.state.clone(),
            hypothesis: stored.pilot.hypothesis.clone(),
            units,
            evidence: last.detail.clone(),
            evaluated_at: last.at,
        });
    }
    out.sort_by(|a, b| b.evaluated_at.cmp(&a.evaluated_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Evaluates a pilot on `cases` (pure: the caller loads the cases).
pub fn evaluate_on(
    pilot: &Pilot,
    adoptions: &[Adoption],
    cases: &[PanelCase],
    weights: &RateWeights,
) -> Result<PilotEvaluation, AppError> {
    let invalid = |m: String| AppError::Invalid(format!("pilot {:?}: {m}", pilot.name));
    let cohort_dates = cohorts(pilot, adoptions).map_err(|e| AppError::Invalid(e.to_string()))?;
    let level = pilot.units[0].level();
    if cohort_dates.keys().any(|u| u.level() != level) {
        return Err(invalid("all adopting units must be at the same level".into()));
    }
    let grid = CaseGrid::build(pilot, cases, weights)?;
    let (first_month, months, by_unit) = (grid.first_month, &grid.months, &grid.by_unit);
    let to_date = |t: i64| {
        OffsetDateTime::from_unix_timestamp(t)
            .map(|d| d.date())
            .map_err(|e| invalid(e.to_string()))
    };
    let mut notes = Vec::new();
    let mut effects = Vec::new();
    let mut pre_means: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut volumes: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut units_in_panel = 0;
    let mut adopters_in_panel = 0;
    let mut event_study = None;
    for outcome in pilot.outcomes() {
        let (mut unit_col, mut time_col, mut group_col, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut dropped = 0;
        let mut filled_months = 0;
        let mut kept = 0;
        let mut kept_adopters = 0;
        for (index, (unit, history)) in by_unit.iter().enumerate() {
            let Some((values, filled)) = grid.values(unit, outcome) else {
                dropped += 1;
                continue;
            };
            filled_months += filled;
            kept += 1;
            let group = cohort_dates.get(unit).map(|d| month_index(*d)).unwrap_or(0);
            kept_adopters += usize::from(group != 0);
            if outcome == pilot.primary {
                let cutoff = if group != 0 { group } else { month_index(pilot.start) };
                let pre: Vec<f64> = months
                    .iter()
                    .zip(&values)
                    .filter(|(m, _)| **m < cutoff)
                    .map(|(_, v)| *v)
                    .collect();
                let volume = history
                    .iter()
                    .filter(|c| to_date(c.created_at).map(month_index).is_ok_and(|m| m < cutoff))
                    .count() as f64
                    / ((cutoff - first_month).max(1)) as f64;
                let mean = pre.iter().sum::<f64>() / pre.len().max(1) as f64;
                let side = if group != 0 {
                    (&mut pre_means.0, &mut volumes.0)
                } else {
                    (&mut pre_means.1, &mut volumes.1)
                };
                side.0.push(mean);
                side.1.push(volume);
            }
            for (m, v) in months.iter().zip(values) {
                unit_col.push(index as i64);
                time_col.push(*m);
                group_col.push(group);
                y.push(v);
            }
        }
        if dropped > 0 {
            notes.push(EvaluationNote::UnitsLeftOut {
                outcome,
                units: dropped,
            });
        }
        if filled_months > 0 {
            notes.push(EvaluationNote::MonthsFilled {
                outcome,
                unit_months: filled_months,
            });
        }
        if outcome == pilot.primary {
            units_in_panel = kept;
            adopters_in_panel = kept_adopters;
        }
        let effect = if kept_adopters == 0 {
            notes.push(EvaluationNote::NoAdopterValues { outcome });
            Effect::normal(f64::NAN, f64::NAN)
        } else if kept == kept_adopters {
            notes.push(EvaluationNote::NoComparisonValues { outcome });
            Effect::normal(f64::NAN, f64::NAN)
        } else {
            let panel =
                stats::Panel::new(unit_col, time_col, group_col, y).map_err(|e| invalid(format!("{outcome}: {e}")))?;
            match simple_effect(&panel, &evaluation_config(), outcome == pilot.primary) {
                Ok((effect, notes_of, chart)) => {
                    event_study = event_study.or(chart);
                    notes.extend(
                        notes_of
                            .into_iter()
                            .map(|message| EvaluationNote::Estimator { outcome, message }),
                    );
                    effect
                }
                Err(e) => {
                    notes.push(EvaluationNote::Estimator {
                        outcome,
                        message: e.to_string(),
                    });
                    Effect::normal(f64::NAN, f64::NAN)
                }
            }
        };
        effects.push(OutcomeEffect { outcome, effect });
    }
    let (primary, rails) = effects.split_first().ok_or_else(|| invalid("no outcome".into()))?;
    let report = verdict(primary, rails);
    let site = site_selection(&[
        Covariate {
            name: pre_period_covariate(pilot.primary),
            adopters: pre_means.0,
            others: pre_means.1,
        },
        Covariate {
            name: VOLUME_COVARIATE.into(),
            adopters: volumes.0,
            others: volumes.1,
        },
    ]);
    Ok(PilotEvaluation {
        pilot: pilot.name.clone(),
        effects,
        verdict: report,
        site_selection: site,
        units_in_panel,
        adopters_in_panel,
        months: months.len(),
        warnings: notes.iter().map(EvaluationNote::english).collect(),
        notes,
        event_study,
    })
}

/// The estimator of every pilot evaluation: not-yet-treated units as controls (adoption is staggered).
fn evaluation_config() -> stats::AttGtConfig {
    stats::AttGtConfig {
        control: stats::ControlGroup::NotYetTreated,
        ..stats::AttGtConfig::default()
    }
}

/// The simple aggregated ATT of a pilot's panel, with small-sample inference: a pilot has few adopting units, for
/// which did's normal interval is too narrow (see [`stats::small_sample`]); the interval and the verdict use the
/// Welch–Satterthwaite standard error and Student's t.
fn simple_effect(
    panel: &stats::Panel,
    config: &stats::AttGtConfig,
    with_chart: bool,
) -> Result<(Effect, Vec<String>, Option<stats::EventStudy>), stats::StatsError> {
    let result = stats::att_gt(panel, config)?;
    let options = stats::AggregationOptions::default();
    let (att, psi) = stats::overall_influence(&result, stats::AggregationKind::Simple, &options)?;
    let effect = match stats::small_sample::welch_satterthwaite(&psi, result.unit_groups()) {
        Some(s) => Effect::student(att, s.se, s.df),
        None => Effect::normal(att, f64::NAN),
    };
    // The chart is the one `grassroots evaluate --plot` draws; an aggregation that fails leaves the page without it.
    let chart = with_chart
        .then(|| stats::Report::from_result(&result, &options).ok())
        .flatten()
        .map(|report| report.event_study());
    Ok((effect, result.warnings, chart))
}

/// Evaluates a stored pilot on the case store and records the evaluation as a step of its lifecycle (evaluated).
pub async fn evaluate_pilot(
    store: &Store,
    id_or_name: &str,
    actor: &str,
    now: OffsetDateTime,
) -> Result<PilotEvaluation, AppError> {
    let (cases, weights) = panel_cases(store).await?;
    record_evaluation(store, id_or_name, actor, now, &cases, &weights).await
}

/// [`evaluate_pilot`] on cases already read with [`panel_cases`] (several pilots evaluated on one read).
pub async fn record_evaluation(
    store: &Store,
    id_or_name: &str,
    actor: &str,
    now: OffsetDateTime,
    cases: &[PanelCase],
    weights: &RateWeights,
) -> Result<PilotEvaluation, AppError> {
    let stored = load_pilot(store, id_or_name).await?;
    let next = stored
        .pilot
        .step(stored.state, PilotAction::Evaluate, local_today(now))
        .map_err(AppError::Pilot)?;
    let evaluation = evaluate_on(&stored.pilot, &stored.adoptions, cases, weights)?;
    let event = PilotEventRow {
        action: PilotAction::Evaluate.as_str().into(),
        actor: actor.into(),
        at: now.unix_timestamp(),
        detail: evaluation.evidence(),
    };
    store
        .append_pilot_event(stored.row.id, &event, next.as_str(), None)
        .await?;
    Ok(evaluation)
}

/// Every stored case as an evaluation panel sees it, with the deployment's rate weights: each summarised by
/// `domain::rates` on the clocks in force where and when it was filed, as its log stands at the end of the data (the
/// last event recorded), so an evaluation of the same store gives the same answer whenever it is run.
pub async fn panel_cases(store: &Store) -> Result<(Vec<PanelCase>, RateWeights), AppError> {
    let rules = rules_in_force(store).await?;
    let everything = store
        .cases_with_logs_created(OffsetDateTime::UNIX_EPOCH, time::macros::datetime!(9999-12-31 0:00 UTC))
        .await?;
    let end = everything
        .iter()
        .filter_map(|(_, log)| log.last().map(|e| e.at))
        .max()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let cases = everything
        .iter()
        .filter_map(|(row, log)| {
            let summary = crate::workflow::summarise(&rules, row, log, end)?;
            Some(PanelCase {
                kind: row.kind,
                category: row.category.clone(),
                created_at: row.created_at,
                closed_at: row.closed_at,
                summary,
            })
        })
        .collect();
    Ok((cases, rules.weights.clone()))
}

/// Evaluates a stored pilot on the case store as it stands, recording nothing: a read for those who follow a pilot
/// without steering it. A pilot not yet started (still proposed, or before its start date) has no effect to estimate
/// and is refused, as recording would be.
pub async fn assess_pilot(store: &Store, id_or_name: &str, now: OffsetDateTime) -> Result<PilotEvaluation, AppError> {
    let stored = load_pilot(store, id_or_name).await?;
    stored
        .pilot
        .step(stored.state, PilotAction::Evaluate, local_today(now))
        .map_err(AppError::Pilot)?;
    let (cases, weights) = panel_cases(store).await?;
    evaluate_on(&stored.pilot, &stored.adoptions, &cases, &weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn empty_store(name: &str) -> Store {
        let path = std::env::temp_dir().join(format!("grassroots-app-governance-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connects")
    }

    /// What `grassroots policy set` runs: with no policy file stored, 365 days of petition handling is refused naming
    /// the article, the refusal is recorded, and a layer dated yesterday is refused naming the field.
    #[tokio::test]
    async fn set_policy_holds_the_statute_and_refuses_the_past_with_no_layer_loaded() {
        let store = empty_store("statute").await;
        let calendar = Calendar::china();
        let unit = UnitCode::parse("330502001").expect("code");
        let now = time::macros::datetime!(2026-12-05 20:00 +8);
        let layer = "[clocks.petition]\nhandle_days = 365\n";
        let err = set_policy(&store, &calendar, &unit, "long.toml", layer, None, "head", now)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("statute-petition-handling") && err.contains("Art. 34"),
            "{err}"
        );
        let history = store.policy_events(Some("330502001")).await.expect("history");
        assert!(history.iter().any(|e| e.kind == "rejected"), "{history:?}");
        let yesterday = Some(time::macros::date!(2026 - 12 - 04));
        let err = set_policy(
            &store,
            &calendar,
            &unit,
            "x.toml",
            "mediation.max_days = 20",
            yesterday,
            "head",
            now,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("effective_from 2026-12-04 is before today (2026-12-05)"),
            "{err}"
        );
        // 20:00 in Beijing is 12:00 UTC: "today" is the local day, and without a date the layer applies from now.
        let saved = set_policy(
            &store,
            &calendar,
            &unit,
            "x.toml",
            "mediation.max_days = 20",
            None,
            "head",
            now,
        )
        .await
        .expect("saved");
        assert_eq!(saved.effective_from, time::macros::date!(2026 - 12 - 05));
        assert!(check_policies(&store, &calendar, None).await.expect("check").is_empty());
    }

    /// A case of `unit` created at `created` (epoch seconds), replied in a day and answered satisfied, closed after
    /// `days`.
    fn case(unit: &UnitCode, created: i64, days: f64) -> PanelCase {
        let at = OffsetDateTime::from_unix_timestamp(created).expect("instant");
        PanelCase {
            kind: domain::CaseKind::Complaint,
            category: "public_facilities".into(),
            created_at: created,
            closed_at: Some(created + (days * 86_400.0) as i64),
            summary: domain::rates::CaseSummary {
                case: created,
                unit: unit.clone(),
                office: format!("{unit}:gov"),
                month: domain::rates::YearMonth::of(at, &domain::calendar::Calendar::china()),
                responded_on_time: Some(true),
                replied: true,
                resolved: Some(true),
                rating: Some(domain::case::Rating::Satisfied),
                overdue: false,
            },
        }
    }

    /// Twenty townships over 2024, ten cases a unit-month; the pilot's five townships close cases three days faster
    /// from July. The known truth is an ATT of −3 days on the median.
    fn region(effect_days: f64) -> Vec<PanelCase> {
        let mut cases = Vec::new();
        let start = time::macros::datetime!(2024-01-01 00:00 UTC).unix_timestamp();
        for town in 1..=20_u32 {
            let unit = UnitCode::parse(&format!("330502{town:03}")).expect("valid code");
            for month in 0..12_i64 {
                for k in 0..10_i64 {
                    let created = start + (month * 31 + k) * 86_400;
                    let noise = ((town as i64 * 7919 + month * 104_729 + k * 13) % 17) as f64 / 4.0;
                    let treated = town <= 5 && month >= 6;
                    let days = 10.0 + noise + f64::from(town % 3) + if treated { effect_days } else { 0.0 };
                    cases.push(case(&unit, created, days));
                }
            }
        }
        cases
    }

    fn pilot() -> Pilot {
        let text = r#"
            name = "faster-closure"
            owner = "330502"
            units = ["330502001", "330502002", "330502003", "330502004", "330502005"]
            start = 2024-07-01
            hypothesis = "closing faster"
            primary_outcome = "median_days_to_close"
            guardrail_outcomes = ["response_rate"]
            officials = ["a head"]
            [change]
            mediation.max_days = 20
        "#;
        Pilot::parse("p.toml", text).expect("valid pilot")
    }

    #[test]
    fn a_pilot_with_a_known_good_effect_is_expanded() {
        let e = evaluate_on(&pilot(), &[], &region(-3.0), &RateWeights::default()).expect("evaluates");
        assert_eq!(e.units_in_panel, 20);
        assert_eq!(e.adopters_in_panel, 5);
        let att = e.effects[0].effect.att;
        assert!((att + 3.0).abs() < 0.75, "ATT {att}");
        assert_eq!(e.verdict.verdict, domain::pilot::Verdict::Expand, "{}", e.verdict);
        // The recorded evidence is what `practices` reads: it must begin with the verdict.
        let evidence = e.evidence();
        assert!(
            evidence.starts_with("verdict: expand; primary outcome better: median_days_to_close fell by"),
            "{evidence}"
        );
        assert!(
            evidence.ends_with("5 adopting units of 20 in the panel over 12 months"),
            "{evidence}"
        );
        // Five adopting townships: few degrees of freedom, a t interval wider than the normal one.
        let effect = e.effects[0].effect;
        assert!(effect.df.is_some_and(|df| df < 30.0), "{effect:?}");
        assert!(effect.ci_high - effect.att > 1.96 * effect.se, "{effect:?}");
    }

    #[test]
    fn a_harmful_pilot_is_abandoned_and_a_useless_one_kept() {
        let e = evaluate_on(&pilot(), &[], &region(4.0), &RateWeights::default()).expect("evaluates");
        assert_eq!(e.verdict.verdict, domain::pilot::Verdict::Abandon, "{}", e.verdict);
        let e = evaluate_on(&pilot(), &[], &region(0.0), &RateWeights::default()).expect("evaluates");
        assert_ne!(e.verdict.verdict, domain::pilot::Verdict::Abandon, "{}", e.verdict);
        assert_ne!(e.verdict.verdict, domain::pilot::Verdict::Expand, "{}", e.verdict);
    }

    #[test]
    fn a_start_before_the_data_is_an_error() {
        let cases: Vec<PanelCase> = region(0.0)
            .into_iter()
            .filter(|c| c.created_at > 1_725_000_000)
            .collect();
        let err = evaluate_on(&pilot(), &[], &cases, &RateWeights::default()).expect_err("start before data");
        assert!(err.to_string().contains("before the case data begins"), "{err}");
    }

    #[test]
    fn months_without_cases_keep_their_units_in_the_panel() {
        // A live pilot a few months in: each township has a case only every second or third month.
        let cases: Vec<PanelCase> = region(-3.0)
            .into_iter()
            .filter(|c| {
                let month = (c.created_at - 1_704_067_200) / (31 * 86_400);
                let town: i64 = c.unit().as_str()[6..].parse().expect("number");
                month % (2 + town % 2) == 0
            })
            .collect();
        let e = evaluate_on(&pilot(), &[], &cases, &RateWeights::default()).expect("evaluates");
        assert_eq!((e.units_in_panel, e.adopters_in_panel), (20, 5), "{:?}", e.warnings);
        assert!(e.effects.iter().all(|o| o.effect.att.is_finite()), "{:?}", e.effects);
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("unit-months without a value took their unit's overall value")),
            "{:?}",
            e.warnings
        );
        assert!(!e.warnings.iter().any(|w| w.contains("left out")), "{:?}", e.warnings);
        // A township without any case is the only one left out.
        let quiet = UnitCode::parse("330502020").expect("code");
        let without: Vec<PanelCase> = cases.into_iter().filter(|c| c.unit() != &quiet).collect();
        let e = evaluate_on(&pilot(), &[], &without, &RateWeights::default()).expect("evaluates");
        assert_eq!(e.units_in_panel, 19, "{:?}", e.warnings);
    }

    /// A store with Wuxing district, one township and village, and four complaints a month in January to April 2025.
    async fn store_with_cases(name: &str) -> Store {
        use domain::case::{Location, NewCase, Reporter};
        let path = std::env::temp_dir().join(format!("grassroots-app-governance-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connects");
        let unit = |code: &str| {
            let code = UnitCode::parse(code).expect("code");
            let parent = code.parent_code();
            domain::Unit::new(code, "x", parent).expect("unit")
        };
        let territory =
            domain::Territory::build(["330502", "330502001", "330502001001", "330502002", "330502002001"].map(unit))
                .expect("territory");
        store
            .upsert_units(&territory.units_sorted(), &mut |_| {})
            .await
            .expect("units");
        crate::workflow::setup_offices(&store, &territory)
            .await
            .expect("offices");
        let dir = store.load_directory().await.expect("directory");
        let rules = crate::workflow::Rules::china();
        for month in 1..=4_u8 {
            for (day, village) in [
                (3, "330502001001"),
                (10, "330502002001"),
                (17, "330502001001"),
                (24, "330502002001"),
            ] {
                let case = NewCase {
                    kind: domain::CaseKind::Complaint,
                    channel: domain::Channel::Hotline,
                    category: "noise".into(),
                    description: "d".into(),
                    location: Location {
                        lat: None,
                        lon: None,
                        unit: UnitCode::parse(village).expect("code"),
                        grid: None,
                    },
                    reporter: Some(Reporter {
                        name: "Shen".into(),
                        contact: "13900000000".into(),
                    }),
                    co_signers: 0,
                    answers: Default::default(),
                };
                let month = time::Month::try_from(month).expect("month");
                let at = time::Date::from_calendar_date(2025, month, day)
                    .expect("date")
                    .with_hms(10, 0, 0)
                    .expect("time")
                    .assume_offset(time::macros::offset!(+8));
                crate::workflow::intake(&store, &rules, &dir, case, at)
                    .await
                    .expect("intake");
            }
        }
        store
    }

    #[tokio::test]
    async fn evaluating_reads_and_only_a_started_pilot_records_an_evaluation() {
        use time::macros::datetime;
        let store = store_with_cases("evaluation").await;
        let spec = "name = \"quiet-nights\"\nowner = \"330502\"\nunits = [\"330502001\"]\nstart = 2025-03-01\n\
                    hypothesis = \"fewer complaints\"\nprimary_outcome = \"response_rate\"\nofficials = [\"head\"]\n\
                    [change]\nclocks.hotline.general_hours = 48\n";
        file_pilot(&store, "pilot.toml", spec, datetime!(2025-02-10 9:00 +8))
            .await
            .expect("filed");
        let state = |store: &Store| {
            let store = store.clone();
            async move {
                let (stored, _, events) = pilot_record(&store, "quiet-nights").await.expect("record");
                let steps: Vec<String> = events.into_iter().map(|e| e.action).collect();
                (stored.state, steps)
            }
        };
        let later = datetime!(2025-05-01 9:00 +8);
        // Proposed: neither a read nor a record.
        let err = assess_pilot(&store, "quiet-nights", later)
            .await
            .expect_err("not started");
        assert!(err.to_string().contains("is proposed: it cannot evaluate"), "{err}");
        let err = evaluate_pilot(&store, "quiet-nights", "head", later)
            .await
            .expect_err("not started");
        assert!(err.to_string().contains("is proposed: it cannot evaluate"), "{err}");
        // Started early, before its start date: still nothing to evaluate.
        act(
            &store,
            "quiet-nights",
            PilotAction::Start,
            "head",
            datetime!(2025-02-20 9:00 +8),
        )
        .await
        .expect("started");
        let err = evaluate_pilot(&store, "quiet-nights", "head", datetime!(2025-02-25 9:00 +8))
            .await
            .expect_err("before the start date");
        assert!(
            err.to_string().contains("cannot be evaluated before it has started"),
            "{err}"
        );
        assert_eq!(
            state(&store).await,
            (PilotState::Running, vec!["file".into(), "start".into()])
        );
        // Reading an evaluation records nothing.
        let read = assess_pilot(&store, "quiet-nights", later).await.expect("evaluates");
        assert_eq!(read.units_in_panel, 2, "{:?}", read.warnings);
        assert_eq!(
            state(&store).await,
            (PilotState::Running, vec!["file".into(), "start".into()])
        );
        // Recording one is a lifecycle step.
        evaluate_pilot(&store, "quiet-nights", "head", later)
            .await
            .expect("recorded");
        assert_eq!(
            state(&store).await,
            (
                PilotState::Evaluated,
                vec!["file".into(), "start".into(), "evaluate".into()]
            )
        );
    }
}
