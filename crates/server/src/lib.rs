//! The HTTP face of grassroots: a REST API with its OpenAPI document, an Open311 GeoReport v2 endpoint, the web
//! pages ([`web`]), and the accounts that decide who sees what. This is the only crate that knows HTTP, JSON, XML
//! and HTML shapes.
//!
//! Handlers are thin: extract the input, ask `domain::access` whether the caller may, call the use case, map the
//! result. Errors of every kind pass through one type, [`error::ApiError`], which alone decides the status code.
//! Entry points: [`serve::app`] (the router, for tests and the binary), [`serve::run`], and [`accounts`] for the
//! CLI's `user add` and `apikey create`.

pub mod accounts;
pub mod auth;
pub mod caller;
pub mod cases;
pub mod error;
pub mod open311;
pub mod ratelimit;
pub mod rest;
pub mod serve;
pub mod state;
pub mod web;

pub use error::ApiError;
pub use state::{AppState, ServerConfig};
