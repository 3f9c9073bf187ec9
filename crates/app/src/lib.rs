//! Use cases of grassroots, between the pure crates and the edges (CLI, HTTP): importing territory, laying out and
//! locating grids, simulating a region into the store, and summarising it. This crate owns transactions: each use
//! case decides what is written together.

pub mod calibrate;
pub mod demo_pilots;
pub mod demo_region;
pub mod governance;
pub mod import;
pub mod inspection;
pub mod locate;
pub mod participation;
pub mod region;
pub mod signin;
pub mod summary;
pub mod workflow;

/// The error of a use case: the input at fault or the layer below that failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Import(#[from] import::ImportError),
    #[error(transparent)]
    Geo(#[from] domain::grid::GeoError),
    #[error("{0}")]
    Invalid(String),
    /// A policy layer offered that does not parse or breaks a guardrail in force (typed, so that the edges can name
    /// the guardrail, its owner and the key).
    #[error(transparent)]
    Policy(domain::policy::PolicyError),
    /// A pilot offered that does not parse or breaks a guardrail, or a lifecycle step its state refuses.
    #[error(transparent)]
    Pilot(domain::pilot::PilotError),
}
