//! The REST API under `/api/v1`, documented by the OpenAPI 3.1 document that utoipa builds from the handlers.
//!
//! Inputs are read by [`Query`] and [`Json`], which turn every malformed input into an [`ApiError`] (so a client
//! always gets the JSON error body the document describes, never a bare text rejection).

pub mod accounts;
pub mod cases;
pub mod governance;
pub mod health;
pub mod public;
pub mod session;
pub mod steering;
pub mod territory;
pub mod workload;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// A query string parsed with `serde_urlencoded`; a bad one is a 400 naming the problem.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|e| ApiError::BadRequest(format!("query string: {e}")))
    }
}

/// A JSON body; a bad one is a 400 naming the problem (with its line and column).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status().as_u16() {
                413 => ApiError::PayloadTooLarge { limit: 0 },
                _ => ApiError::BadRequest(format!("body: {e}")),
            })?;
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| ApiError::BadRequest(format!("JSON body: {e}")))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "grassroots",
        description = "Residents' requests, petitions and disputes handled at the lowest level that can resolve them. \
                       Staff see only their territory subtree; petitioners' identities are shielded."
    ),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The REST routes and the OpenAPI document describing them and the Open311 routes.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(territory::get_unit))
        .routes(routes!(territory::locate))
        .routes(routes!(territory::grids))
        .routes(routes!(territory::offices))
        .routes(routes!(cases::list_cases, cases::create_case))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::act))
        .routes(routes!(cases::alerts))
        .routes(routes!(cases::overload_alerts))
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::me))
        .routes(routes!(accounts::list_accounts, accounts::create_account))
        .routes(routes!(accounts::change_account))
        .routes(routes!(accounts::audit_log))
        .routes(routes!(accounts::reads_of_my_data))
        .routes(routes!(governance::effective_policy, steering::set_policy))
        .routes(routes!(governance::explain_policy))
        .routes(routes!(governance::list_pilots, steering::file_pilot))
        .routes(routes!(governance::get_pilot))
        .routes(routes!(governance::assess_pilot, steering::record_evaluation))
        .routes(routes!(steering::act_on_pilot))
        .routes(routes!(steering::adopt_pilot))
        .routes(routes!(governance::rates))
        .routes(routes!(public::published_rates))
        .routes(routes!(public::pilots))
        .routes(routes!(public::evaluation))
        .routes(routes!(workload::workload))
        .split_for_parts();
    doc.merge(crate::open311::doc::Open311Doc::openapi());
    (router, doc)
}
