//! app crate (being built).

pub mod workflow;
