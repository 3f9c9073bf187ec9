//! Support for the people who govern: staffing people to posts and designing grids with balanced workload.
//!
//! Pure and deterministic like `domain`: no IO, no clock, no unseeded randomness. The CLI reads the files and the
//! store, and hands plain values in.
//!
//! - [`grid_design`]: contiguous, compact grids of balanced workload over a unit's H3 cells (issue 14, part 2).
//! - [`staffing`]: the exact maximum-total-fit assignment of people to posts with places (issue 14, part 3).

pub mod grid_design;
pub mod staffing;
