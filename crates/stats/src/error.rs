//! The one error type of the `stats` crate: bad input, named by column and units.

use thiserror::Error;

/// Shows at most this many unit ids in an error message, then "and N more".
const SHOWN_UNITS: usize = 5;

/// Formats a list of unit ids for an error message ("3, 7, 12 and 40 more").
pub(crate) fn list_units(units: &[i64]) -> String {
    let shown: Vec<String> = units.iter().take(SHOWN_UNITS).map(i64::to_string).collect();
    let mut text = shown.join(", ");
    if units.len() > SHOWN_UNITS {
        text.push_str(&format!(" and {} more", units.len() - SHOWN_UNITS));
    }
    text
}

/// Everything that makes an estimation impossible. Recoverable problems (a small
/// group, units treated before the first period) are warnings in the result instead.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StatsError {
    /// Two input columns have different lengths.
    #[error("column `{column}` has {found} rows, expected {expected}")]
    LengthMismatch {
        column: String,
        expected: usize,
        found: usize,
    },
    /// The panel has no rows.
    #[error("the panel is empty")]
    Empty,
    /// A value is missing (NaN) or infinite.
    #[error("column `{column}` has missing or non-finite values for units {}", list_units(.units))]
    MissingValues { column: String, units: Vec<i64> },
    /// The same (unit, period) pair appears twice.
    #[error("units {} appear more than once in the same period", list_units(.units))]
    DuplicateObservation { units: Vec<i64> },
    /// Some units are not observed in every period.
    #[error(
        "unbalanced panel: units {} are not observed in all {periods} periods (allow an unbalanced panel to drop them)",
        list_units(.units)
    )]
    Unbalanced { units: Vec<i64>, periods: usize },
    /// The group (first treated period) changes over time within a unit: the
    /// treatment switches off, or the coding is inconsistent.
    #[error(
        "column `{column}` changes over time within units {}: treatment must be absorbing (the first treated period is fixed per unit)",
        list_units(.units)
    )]
    TreatmentNotAbsorbing { column: String, units: Vec<i64> },
    /// A group value is neither 0 (never treated) nor one of the observed periods.
    #[error("column `{column}` holds {value} for units {}, which is not a period of the panel (use 0 for never treated)", list_units(.units))]
    GroupNotAPeriod {
        column: String,
        value: i64,
        units: Vec<i64>,
    },
    /// A covariate takes one value only.
    #[error("covariate `{column}` is constant")]
    ConstantCovariate { column: String },
    /// Covariates are linearly dependent (together with the intercept).
    #[error("covariate `{column}` is collinear with the intercept and the covariates before it")]
    CollinearCovariate { column: String },
    /// A covariate name was asked for but not given.
    #[error("unknown covariate `{column}`")]
    UnknownCovariate { column: String },
    /// A cluster variable that changes over time within a unit.
    #[error("cluster column `{column}` changes over time within units {}", list_units(.units))]
    ClusterNotTimeInvariant { column: String, units: Vec<i64> },
    /// Nothing is left to estimate.
    #[error("no valid groups: {reason}")]
    NoValidGroups { reason: String },
    /// The never-treated group is too small for the never-treated comparison.
    #[error("the never-treated group is too small ({size} units); use the not-yet-treated control group")]
    NeverTreatedTooSmall { size: usize },
    /// An aggregation cannot be formed.
    #[error("aggregation `{kind}`: {reason}")]
    Aggregation { kind: &'static str, reason: String },
    /// A configuration value out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
}
