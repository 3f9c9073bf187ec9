//! The Open311 routes as the OpenAPI document lists them, in their JSON form and in their XML form (`.xml`, the
//! format the GeoReport v2 spec requires; no extension answers XML too). The routes themselves are served by
//! [`super::routes`], which dispatches on the file name (`requests.json`, `42.xml`), so these functions only carry
//! the descriptions: the router never calls them.
//!
//! An XML body is described as a string with its root element named: the elements mirror the JSON fields, inside a
//! list element (`<services><service>…</service></services>`); errors are `<errors><error><code/><description/>
//! </error></errors>`.

use utoipa::{IntoParams, OpenApi, ToSchema};

use super::types::{
    Discovery, ErrorItem, PostedRequest, PostedUpdate, RequestUpdate, Service, ServiceDefinition, ServiceRequest,
    TokenStatus,
};

/// The form of `POST requests`. `attribute[CODE]=VALUE` pairs answer the service's attributes (`attribute[kind]`,
/// `attribute[complained_unit]`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewRequestForm {
    /// Required; without a valid key the answer is 403.
    api_key: String,
    service_code: String,
    /// With `long`, or give `address_string`.
    lat: Option<f64>,
    long: Option<f64>,
    address_string: Option<String>,
    /// At most 4,000 characters.
    description: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

/// The form of FixMyStreet's `POST servicerequestupdates`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewUpdateForm {
    api_key: String,
    service_request_id: String,
    description: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ServicesQuery {
    /// With `long`: only the services of the offices at that place.
    lat: Option<f64>,
    long: Option<f64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RequestsQuery {
    /// Comma-separated ids; other filters are then ignored.
    service_request_id: Option<String>,
    /// Comma-separated service codes.
    service_code: Option<String>,
    /// W3C date-time; the span to `end_date` is at most 90 days (default: the last 90 days).
    start_date: Option<String>,
    end_date: Option<String>,
    /// `open`, `closed` or both, comma-separated.
    status: Option<String>,
    /// Extension: the page, from 1.
    page: Option<u32>,
    /// Extension: requests per page, at most 1,000.
    page_size: Option<u32>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UpdatesQuery {
    service_request_id: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

/// Where the endpoint lives and which formats it speaks.
#[utoipa::path(get, path = "/open311/v2/discovery.json", tag = "open311",
    responses((status = 200, description = "The discovery document", body = Discovery)))]
pub async fn discovery() {}

/// The services (categories) residents can report; with `lat` and `long`, those of the offices at that place.
#[utoipa::path(get, path = "/open311/v2/services.json", tag = "open311", params(ServicesQuery),
    responses(
        (status = 200, description = "The services", body = [Service]),
        (status = 400, description = "lat or long is malformed", body = [ErrorItem]),
    ))]
pub async fn services() {}

/// One service with its attributes.
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.json", tag = "open311",
    params(("service_code" = String, Path, description = "the service's code")),
    responses(
        (status = 200, description = "The service definition", body = ServiceDefinition),
        (status = 400, description = "The format is not xml or json", body = [ErrorItem]),
        (status = 404, description = "No such service", body = [ErrorItem]),
    ))]
pub async fn service_definition() {}

/// Public service requests (never petitions or disputes, never personal data).
#[utoipa::path(get, path = "/open311/v2/requests.json", tag = "open311", params(RequestsQuery),
    responses(
        (status = 200, description = "The requests", body = [ServiceRequest]),
        (status = 400, description = "A filter is malformed or the dates span more than 90 days", body = [ErrorItem]),
    ))]
pub async fn requests() {}

/// Files a service request: located, routed to the competent office and stored before the answer.
#[utoipa::path(post, path = "/open311/v2/requests.json", tag = "open311",
    request_body(content = NewRequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Filed; the new id and a token", body = [PostedRequest]),
        (status = 400, description = "A field is missing or malformed, or the place lies outside the territory", body = [ErrorItem]),
        (status = 403, description = "api_key is missing or invalid", body = [ErrorItem]),
        (status = 413, description = "Body too large", body = [ErrorItem]),
        (status = 429, description = "Rate limit exceeded", body = [ErrorItem]),
    ))]
pub async fn post_request() {}

/// One public service request.
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.json", tag = "open311",
    params(("service_request_id" = String, Path, description = "the request's id")),
    responses(
        (status = 200, description = "The request, as a list of one", body = [ServiceRequest]),
        (status = 400, description = "The format is not xml or json", body = [ErrorItem]),
        (status = 404, description = "No such public request", body = [ErrorItem]),
    ))]
pub async fn one_request() {}

/// The request a token (from `POST requests`) stands for.
#[utoipa::path(get, path = "/open311/v2/tokens/{token}.json", tag = "open311",
    params(("token" = String, Path, description = "the token")),
    responses(
        (status = 200, description = "The token and its request", body = [TokenStatus]),
        (status = 400, description = "The format is not xml or json", body = [ErrorItem]),
        (status = 404, description = "No such token", body = [ErrorItem]),
    ))]
pub async fn token() {}

/// FixMyStreet's feed of public updates.
#[utoipa::path(get, path = "/open311/v2/servicerequestupdates.json", tag = "open311", params(UpdatesQuery),
    responses(
        (status = 200, description = "The updates", body = [RequestUpdate]),
        (status = 400, description = "A filter is malformed", body = [ErrorItem]),
    ))]
pub async fn updates() {}

/// FixMyStreet's note on a public request (internal: it does not appear in the public feed).
#[utoipa::path(post, path = "/open311/v2/servicerequestupdates.json", tag = "open311",
    request_body(content = NewUpdateForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Recorded", body = [PostedUpdate]),
        (status = 400, description = "A field is missing or malformed", body = [ErrorItem]),
        (status = 403, description = "api_key is missing or invalid", body = [ErrorItem]),
        (status = 404, description = "No such public request", body = [ErrorItem]),
        (status = 409, description = "The request's state refuses the note", body = [ErrorItem]),
        (status = 413, description = "Body too large", body = [ErrorItem]),
        (status = 429, description = "Rate limit exceeded", body = [ErrorItem]),
    ))]
pub async fn post_update() {}

/// The discovery document in XML (`<discovery>`).
#[utoipa::path(get, path = "/open311/v2/discovery.xml", tag = "open311",
    responses((status = 200, description = "The discovery document, `<discovery>`", body = String, content_type = "text/xml")))]
pub async fn discovery_xml() {}

/// The services in XML; with `lat` and `long`, those of the offices at that place.
#[utoipa::path(get, path = "/open311/v2/services.xml", tag = "open311", params(ServicesQuery),
    responses(
        (status = 200, description = "The services, `<services><service>…`", body = String, content_type = "text/xml"),
        (status = 400, description = "lat or long is malformed, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn services_xml() {}

/// One service with its attributes, in XML.
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.xml", tag = "open311",
    params(("service_code" = String, Path, description = "the service's code")),
    responses(
        (status = 200, description = "The service definition, `<service_definition>`", body = String, content_type = "text/xml"),
        (status = 400, description = "The format is not xml or json, `<errors>`", body = String, content_type = "text/xml"),
        (status = 404, description = "No such service, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn service_definition_xml() {}

/// Public service requests in XML (never petitions or disputes, never personal data).
#[utoipa::path(get, path = "/open311/v2/requests.xml", tag = "open311", params(RequestsQuery),
    responses(
        (status = 200, description = "The requests, `<service_requests><request>…`", body = String, content_type = "text/xml"),
        (status = 400, description = "A filter is malformed or the dates span more than 90 days, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn requests_xml() {}

/// Files a service request, answered in XML.
#[utoipa::path(post, path = "/open311/v2/requests.xml", tag = "open311",
    request_body(content = NewRequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Filed; the new id and a token, `<service_requests><request>…`", body = String, content_type = "text/xml"),
        (status = 400, description = "A field is missing or malformed, or the place lies outside the territory, `<errors>`", body = String, content_type = "text/xml"),
        (status = 403, description = "api_key is missing or invalid, `<errors>`", body = String, content_type = "text/xml"),
        (status = 413, description = "Body too large, `<errors>`", body = String, content_type = "text/xml"),
        (status = 429, description = "Rate limit exceeded, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn post_request_xml() {}

/// One public service request in XML.
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.xml", tag = "open311",
    params(("service_request_id" = String, Path, description = "the request's id")),
    responses(
        (status = 200, description = "The request, `<service_requests><request>…`", body = String, content_type = "text/xml"),
        (status = 400, description = "The format is not xml or json, `<errors>`", body = String, content_type = "text/xml"),
        (status = 404, description = "No such public request, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn one_request_xml() {}

/// The request a token stands for, in XML.
#[utoipa::path(get, path = "/open311/v2/tokens/{token}.xml", tag = "open311",
    params(("token" = String, Path, description = "the token")),
    responses(
        (status = 200, description = "The token and its request, `<service_requests><request>…`", body = String, content_type = "text/xml"),
        (status = 400, description = "The format is not xml or json, `<errors>`", body = String, content_type = "text/xml"),
        (status = 404, description = "No such token, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn token_xml() {}

/// FixMyStreet's feed of public updates, in XML.
#[utoipa::path(get, path = "/open311/v2/servicerequestupdates.xml", tag = "open311", params(UpdatesQuery),
    responses(
        (status = 200, description = "The updates, `<service_request_updates><request_update>…`", body = String, content_type = "text/xml"),
        (status = 400, description = "A filter is malformed, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn updates_xml() {}

/// FixMyStreet's note on a public request, answered in XML.
#[utoipa::path(post, path = "/open311/v2/servicerequestupdates.xml", tag = "open311",
    request_body(content = NewUpdateForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Recorded, `<service_request_updates><request_update>…`", body = String, content_type = "text/xml"),
        (status = 400, description = "A field is missing or malformed, `<errors>`", body = String, content_type = "text/xml"),
        (status = 403, description = "api_key is missing or invalid, `<errors>`", body = String, content_type = "text/xml"),
        (status = 404, description = "No such public request, `<errors>`", body = String, content_type = "text/xml"),
        (status = 409, description = "The request's state refuses the note, `<errors>`", body = String, content_type = "text/xml"),
        (status = 413, description = "Body too large, `<errors>`", body = String, content_type = "text/xml"),
        (status = 429, description = "Rate limit exceeded, `<errors>`", body = String, content_type = "text/xml"),
    ))]
pub async fn post_update_xml() {}

/// The Open311 part of the OpenAPI document, merged into the REST API's.
#[derive(OpenApi)]
#[openapi(paths(
    discovery,
    services,
    service_definition,
    requests,
    post_request,
    one_request,
    token,
    updates,
    post_update,
    discovery_xml,
    services_xml,
    service_definition_xml,
    requests_xml,
    post_request_xml,
    one_request_xml,
    token_xml,
    updates_xml,
    post_update_xml
))]
pub struct Open311Doc;
