//! server crate (being built).
