//! Integration tests of the cadre crate: scenarios in, expected outcomes out.

mod grid_design;
mod staffing;
