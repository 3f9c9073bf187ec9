//! Grids (being built).
