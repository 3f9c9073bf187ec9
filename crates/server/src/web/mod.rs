//! The web interface, served at `/` by the same router as `/api/v1` and `/open311/v2`: server-rendered pages
//! (askama templates in `crates/server/templates/`), in Chinese or English (`i18n`), with the vendored Leaflet and
//! htmx embedded under `/assets/`. The public portal (`portal`, under `/portal`) needs no sign-in.
//!
//! Pages are thin in the same way as the REST handlers: each extracts the caller ([`Ctx`]), calls the same `app`
//! function (`file_case`, `perform`, `list_cases`, `alerts_for`) — or, for the dashboard, the policy and the pilots,
//! the same `rest::governance`, `rest::workload` and `rest::steering` functions as the REST routes — and builds what it shows of a case only from the
//! `CaseView` that `app::workflow::disclose` returns; the forms a page offers are the actions that view lists. With
//! `HX-Request` set a handler answers the fragment that changed, otherwise the whole page; every page works without
//! JavaScript. Every POST form carries a CSRF token checked against a cookie (double submit).

pub mod assets;
pub mod cases;
pub mod dashboard;
pub mod export;
pub mod i18n;
pub mod intake;
pub mod map;
pub mod page;
pub mod patrol;
pub mod pilots;
pub mod policy;
pub mod portal;
pub mod session;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The routes of the web interface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page::home))
        .route("/signin", get(session::signin_form).post(session::signin))
        .route("/signup", get(session::signup_form).post(session::signup))
        .route("/signout", post(session::signout))
        .route("/report/questions", get(intake::questions))
        .route("/report/signin", post(intake::signin_and_submit))
        .route("/report/signup", post(intake::signup_and_submit))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::detail))
        .route("/cases/{id}/act", post(cases::act))
        .route("/alerts", get(cases::alerts))
        .route("/patrol", get(patrol::form).post(patrol::record))
        .route("/photos/{id}", get(cases::photo))
        .route("/photos/{id}/thumb", get(cases::thumbnail))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/policy", get(policy::show))
        .route("/policy/{unit}", post(policy::save))
        .route("/policy/{unit}/key", post(policy::save_key))
        .route("/pilots", get(pilots::list))
        .route("/pilots/{id}", get(pilots::detail))
        .route("/pilots/{id}/act", post(pilots::act))
        .route("/pilots/{id}/evaluation", post(pilots::record))
        .route("/pilots/{id}/adoptions", post(pilots::adoption))
        .route("/pilots/{id}/event-study.svg", get(pilots::event_study))
        .route("/map/areas.geojson", get(map::areas))
        .route("/portal", get(portal::index))
        .route("/portal/rates", get(portal::rates))
        .route("/portal/pilots", get(portal::pilots))
        .route("/portal/pilots/{id}", get(portal::pilot))
        .route("/portal/units/{code}", get(portal::unit))
        .route("/portal/units/{code}/cases.geojson", get(portal::unit_geojson))
        .route("/portal/units/{code}/feed.atom", get(portal::feed))
        .route("/portal/cases/{id}", get(portal::case))
        .route("/assets/{*path}", get(assets::serve))
}

/// The largest report form: every photo at its limit, and the text fields.
pub const UPLOAD_LIMIT: usize = app::workflow::MAX_PHOTOS * app::workflow::MAX_PHOTO_BYTES + 1024 * 1024;

/// The report form, whose body carries photos and so has its own size limit ([`UPLOAD_LIMIT`]).
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/report", get(intake::form).post(intake::submit))
}

pub use page::Ctx;
