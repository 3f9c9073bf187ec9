//! Integration tests of the domain crate: one binary, one module per theme (matklad's "one test binary per crate").

mod workflow;
