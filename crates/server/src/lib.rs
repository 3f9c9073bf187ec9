//! The HTTP face of grassroots: a REST API with its OpenAPI document, an Open311 GeoReport v2 endpoint, and the
//! accounts that decide who sees what. This is the only crate that knows HTTP, JSON and XML shapes.
//!
//! Handlers are thin: extract the input, ask `domain::access` whether the caller may, call the app layer, map the
//! result. Errors of every kind pass through one type, [`error::ApiError`], which alone decides the status code.

pub mod auth;
pub mod error;
pub mod open311;
pub mod ratelimit;

pub use error::ApiError;
