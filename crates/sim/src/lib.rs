//! A seeded, deterministic generator of a region's life: residents per unit, case arrivals by kind and category with
//! weekly and seasonal patterns, and offices with limited staff working through their queues.
//!
//! Every generated log is built by applying events through the domain's state machine ([`domain::CaseStatus::apply`]),
//! so the simulator cannot produce a log that the real system would reject. Same seed, same region.

mod catalogue;
mod people;
mod pilots;
mod region;

pub use catalogue::{CATEGORIES, Category, category};
pub use people::{Population, population, worker_roster};
pub use pilots::{PilotEffect, SimPilot};
pub use region::{SimCase, SimConfig, Simulation, simulate};
