//! Integration tests of the cadre crate: scenarios in, expected outcomes out.

mod staffing;
