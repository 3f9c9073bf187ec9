//! The domain of grassroots: territory, grids, cases and their lifecycle, clocks, policy layers and pilots.
//!
//! This crate is pure: no IO, no clock, no randomness. Callers pass in time and data; everything here is a function of
//! its inputs, so the simulator, the store and the server all run the same rules.

pub mod access;
pub mod boundary;
pub mod calendar;
pub mod case;
pub mod clock;
pub mod disclosure;
pub mod escalation;
pub mod grid;
pub mod inspection;
pub mod mediation;
pub mod office;
pub mod overload;
pub mod participation;
pub mod pilot;
pub mod policy;
pub mod questions;
pub mod rates;
pub mod routing;
pub mod rules;
pub mod said;
pub mod signin;
pub mod territory;
pub mod whistle;

pub use case::{
    CO_SIGNER_ACTOR, CaseEvent, CaseId, CaseKind, CaseState, CaseStatus, Channel, EventKind, NewCase, RESIDENT_ACTOR,
    Rating,
};
pub use territory::{Level, Territory, Unit, UnitCode};
