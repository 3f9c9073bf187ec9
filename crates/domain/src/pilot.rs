//! Pilots (work in progress).
