//! app crate (being built).
