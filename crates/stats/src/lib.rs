//! Staggered difference-in-differences (Callaway & Sant'Anna 2021) that reproduces
//! R's `did` package and its Python port csdid: group-time ATT(g,t) with never- or
//! not-yet-treated comparison units, anticipation, varying or universal base
//! periods, outcome-regression / IPW / doubly robust 2×2 estimators with
//! covariates, unit-level influence functions, analytic or multiplier-bootstrap
//! standard errors with uniform (sup-t) bands, clustering, the simple / group /
//! dynamic / calendar aggregations and the Wald pre-test of parallel trends.
//!
//! The crate is pure: no file or network IO, no clock; the bootstrap takes its seed
//! from the caller. Bad input is a typed [`StatsError`] naming the column and units.
//!
//! # Example
//!
//! ```
//! use stats::{AggregationOptions, AttGtConfig, ControlGroup, Panel, evaluate};
//!
//! // Six units over four periods: units 1–2 treated from period 3, unit 3–4 from
//! // period 4, units 5–6 never treated. The treatment adds 2 to the outcome.
//! let mut unit = vec![];
//! let mut time = vec![];
//! let mut group = vec![];
//! let mut y = vec![];
//! for (u, g) in [(1, 3), (2, 3), (3, 4), (4, 4), (5, 0), (6, 0)] {
//!     for t in 1..=4 {
//!         unit.push(u);
//!         time.push(t);
//!         group.push(g);
//!         let effect = if g != 0 && t >= g { 2.0 } else { 0.0 };
//!         y.push(u as f64 + 0.5 * t as f64 + effect + if u % 2 == 0 { 0.1 } else { -0.1 } * t as f64);
//!     }
//! }
//! let panel = Panel::new(unit, time, group, y)?;
//! let config = AttGtConfig { control: ControlGroup::NotYetTreated, ..AttGtConfig::default() };
//! let report = evaluate(&panel, &config, &AggregationOptions::default())?;
//! let simple = report.aggregations.simple.att.unwrap_or(f64::NAN);
//! assert!((simple - 2.0).abs() < 1e-12);
//! println!("{}", report.render_text());
//! # Ok::<(), stats::StatsError>(())
//! ```
//!
//! # Matching the references
//! Without a propensity score every number matches did/csdid to rounding. With one,
//! the logit is fitted by IRLS reproducing either R's `glm.fit` ([`GlmRule::R`], the
//! default) or statsmodels' `GLM.fit` as csdid 0.4.3 uses it
//! ([`GlmRule::Statsmodels`]); the two differ only in when they stop iterating.
//! Bootstrap draws use our own seeded generator, so bootstrap standard errors agree
//! with the references in distribution, not draw by draw.

mod aggregate;
mod att_gt;
mod bootstrap;
mod chart;
mod error;
mod estimators;
mod linalg;
mod logit;
mod panel;
mod report;
pub mod small_sample;

pub use aggregate::{Aggregate, AggregatePoint, AggregationKind, AggregationOptions, aggregate, overall_influence};
pub use att_gt::{AttGtConfig, AttGtResult, BasePeriod, Cell, ControlGroup, Pretest, att_gt};
pub use bootstrap::Bootstrap;
pub use chart::{ChartLabels, EventStudy, EventStudyPoint};
pub use error::StatsError;
pub use estimators::Method;
pub use logit::GlmRule;
pub use panel::{ColumnNames, Panel};
pub use report::{
    Aggregations, AttGtRow, Breakdown, EventRow, GroupRow, Overall, PretestRow, Report, TimeRow, evaluate,
};
