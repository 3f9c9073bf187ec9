//! The one error type of the HTTP layer, [`ApiError`], and the one place where an error becomes a status code.
//!
//! A handler returns `Result<_, ApiError>` and uses `?` on anything that converts into it. Client errors carry a
//! message meant for the client; server errors carry details that are logged with `tracing` and never sent: the body
//! of a 5xx response says only that something went wrong. The Open311 routes render the same errors in the Open311
//! `errors` format through [`Open311Error`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use domain::access::Denied;
use domain::said::Said;

use crate::open311::Format;
use crate::open311::render;

/// A problem with one input field, named as the client spelled it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    /// In English: the API's wording.
    pub message: String,
    /// The same message as a key with arguments, for the web pages to word in their language.
    #[serde(skip)]
    pub said: Said,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<Said>) -> FieldError {
        let said = message.into();
        FieldError {
            field: field.into(),
            message: said.to_string(),
            said,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more inputs are invalid.
    #[error("invalid request: {}", join(.0))]
    Invalid(Vec<FieldError>),
    /// The body or query could not be read at all.
    #[error("{0}")]
    BadRequest(String),
    /// Well formed, but an input names something that does not exist or may not be used (an unknown office).
    #[error("cannot process: {}", join(.0))]
    Unprocessable(Vec<FieldError>),
    #[error("sign-in required")]
    Unauthenticated,
    /// A sign-in with an unknown name or a wrong password; which of the two is never said.
    #[error("the name or password is wrong")]
    WrongCredentials,
    /// Signed in (or keyed), but not allowed; the message names the rule, never personal data.
    #[error("{0}")]
    Forbidden(Said),
    #[error("{0}")]
    NotFound(String),
    /// The action conflicts with the case's state (an illegal transition) or with existing data.
    #[error("{0}")]
    Conflict(Said),
    /// A policy layer, pilot or adoption that would break guardrails in force: each broken one is named.
    #[error("{message}")]
    GuardrailsBroken {
        message: String,
        violations: Vec<ViolationView>,
    },
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("too many requests; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// Too many failed sign-ins for the name or from the address (`domain::signin`); the message says which.
    #[error("{message}")]
    SignInThrottled { message: String, retry_after_secs: u64 },
    /// A server fault. The string is logged, never returned.
    #[error("internal error")]
    Internal(String),
    #[error("service unavailable")]
    Unavailable(String),
    /// The database node holding the data asked for is down (a Citus worker); the rest is served. The message names
    /// the node, so that an operator reading a client's report knows which one.
    #[error("{0}")]
    NodeUnavailable(String),
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(FieldError::to_string).collect::<Vec<_>>().join("; ")
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<Said>) -> ApiError {
        ApiError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn internal(context: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(context.to_string())
    }

    /// The status code for each error: the only such mapping in the server.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::WrongCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::GuardrailsBroken { .. } | ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } | ApiError::SignInThrottled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) | ApiError::NodeUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Short machine-readable name of the error kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::WrongCredentials => "wrong_credentials",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::GuardrailsBroken { .. } => "guardrail_broken",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::SignInThrottled { .. } => "sign_in_throttled",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::NodeUnavailable(_) => "node_unavailable",
        }
    }

    /// The field errors to show, one per problem. Server errors are logged here and replaced by a generic message.
    pub fn public_errors(&self) -> Vec<FieldError> {
        match self {
            ApiError::Invalid(errors) | ApiError::Unprocessable(errors) => errors.clone(),
            ApiError::Internal(detail) | ApiError::Unavailable(detail) => {
                tracing::error!(kind = self.kind(), detail = %detail, "request failed");
                vec![FieldError::new("", self.to_string())]
            }
            ApiError::Conflict(said) | ApiError::Forbidden(said) => vec![FieldError::new("", said.clone())],
            other => vec![FieldError::new("", other.to_string())],
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests { retry_after_secs } | ApiError::SignInThrottled { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            // A worker restarting is back within seconds; one failing over takes about as long.
            ApiError::NodeUnavailable(_) => Some(5),
            _ => None,
        }
    }
}

/// A refusal by `domain::access` of a step on something the caller sees. A refusal to read a case at all never
/// arrives here as a `Denied`: `app::workflow` answers it as "no such case" (404), like an id never issued.
impl From<Denied> for ApiError {
    fn from(denied: Denied) -> ApiError {
        ApiError::Forbidden(denied.said())
    }
}

impl From<app::signin::SignInError> for ApiError {
    fn from(e: app::signin::SignInError) -> ApiError {
        match e {
            app::signin::SignInError::Throttled(throttled) => ApiError::SignInThrottled {
                message: throttled.to_string(),
                retry_after_secs: u64::try_from(throttled.retry_after_secs()).unwrap_or(1).max(1),
            },
            app::signin::SignInError::Store(e) => e.into(),
        }
    }
}

/// A governance use case's error. The inputs are validated before the call, so a plain `Invalid` is a conflict with
/// the stored state (a pilot name taken, a stored layer that no longer parses, a unit the territory lacks); typed
/// policy and pilot errors say whether the offered text is malformed (400), breaks guardrails (422) or asks for a
/// step the pilot's state refuses (409).
impl From<app::AppError> for ApiError {
    fn from(e: app::AppError) -> ApiError {
        use app::AppError;
        match e {
            AppError::Store(e) => e.into(),
            AppError::Invalid(message) => ApiError::Conflict(message.into()),
            AppError::Policy(e) => policy_error(e),
            AppError::Pilot(e) => pilot_error(e),
            other => ApiError::internal(other),
        }
    }
}

fn policy_error(e: domain::policy::PolicyError) -> ApiError {
    use domain::policy::PolicyError as P;
    let message = e.to_string();
    match e {
        P::Rejected { violations, .. } => ApiError::GuardrailsBroken {
            message,
            violations: violations.iter().map(ViolationView::from).collect(),
        },
        P::Schema { key, .. } | P::UnknownKey { key } => ApiError::invalid(key, message),
        P::Retroactive { .. } | P::ReplacesInForce { .. } => ApiError::invalid("effective_from", message),
        // The layer is well formed but the policy it makes is inconsistent (e.g. a bound below another).
        P::Invalid { key, .. } => ApiError::Invalid(vec![FieldError::new(key, message)]),
        _ => ApiError::invalid("layer", message),
    }
}

fn pilot_error(e: domain::pilot::PilotError) -> ApiError {
    use domain::pilot::PilotError as P;
    let message = e.to_string();
    match e {
        P::BreaksGuardrails { violations, .. } => ApiError::GuardrailsBroken {
            message,
            violations: violations.iter().map(ViolationView::from).collect(),
        },
        P::Policy(e) => policy_error(e),
        P::IllegalTransition { .. }
        | P::NotStarted { .. }
        | P::StartBeforeData { .. }
        | P::NoPrePeriod { .. }
        | P::NoPostPeriod { .. } => ApiError::Conflict(message.into()),
        P::File { key, .. } => ApiError::invalid(key, message),
        _ => ApiError::invalid("spec", message),
    }
}

impl From<domain::case::TransitionError> for ApiError {
    fn from(e: domain::case::TransitionError) -> ApiError {
        ApiError::Conflict(e.to_string().into())
    }
}

/// The JSON error body of the REST API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error kind, e.g. `invalid`, `forbidden`, `not_found`, `guardrail_broken`.
    pub error: String,
    /// A readable summary.
    pub message: String,
    /// One entry per invalid field (empty for errors not about a field).
    pub fields: Vec<FieldError>,
    /// For `guardrail_broken`: every guardrail the change would break (absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub violations: Vec<ViolationView>,
}

/// A guardrail a policy change would break: which guardrail, the unit that owns it, the unit whose effective policy
/// breaks it, the key, and the layer that set the offending value.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ViolationView {
    /// The guardrail's id, as its owner declared it.
    pub guardrail: String,
    /// The unit whose layer declares the guardrail.
    pub owner: String,
    /// The layer (file) that declares it.
    pub owner_source: String,
    /// The rule, e.g. `mediation.max_days <= 30`.
    pub rule: String,
    /// The unit whose effective policy breaks it.
    pub unit: String,
    /// The day the break takes effect, `YYYY-MM-DD`.
    pub date: String,
    /// The dotted key at fault.
    pub key: String,
    /// The offending value as written, if the key is set.
    pub value: Option<String>,
    /// The unit whose layer set the offending value, if any.
    pub set_by: Option<String>,
    /// Why the value breaks the guardrail, in English.
    pub reason: String,
    /// The same reason as a key with arguments, for the web pages to word in their language.
    #[serde(skip)]
    pub reason_said: Said,
}

impl From<&domain::policy::Violation> for ViolationView {
    fn from(v: &domain::policy::Violation) -> ViolationView {
        ViolationView {
            guardrail: v.guardrail.clone(),
            owner: v.owner.to_string(),
            owner_source: v.owner_source.clone(),
            rule: v.rule.clone(),
            unit: v.unit.to_string(),
            date: v.date.to_string(),
            key: v.key.clone(),
            value: v.value.clone(),
            set_by: v.set_by.as_ref().map(|(unit, _)| unit.to_string()),
            reason: v.reason.to_string(),
            reason_said: v.reason.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let errors = self.public_errors();
        let message = if status.is_server_error() {
            self.to_string()
        } else {
            match &self {
                ApiError::Invalid(_) => self.to_string(),
                _ => errors.first().map(|e| e.message.clone()).unwrap_or_default(),
            }
        };
        let violations = match &self {
            ApiError::GuardrailsBroken { violations, .. } => violations.clone(),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: self.kind().to_string(),
            message,
            fields: errors.into_iter().filter(|e| !e.field.is_empty()).collect(),
            violations,
        };
        let mut response = (status, axum::Json(body)).into_response();
        add_retry_after(&mut response, self.retry_after());
        response
    }
}

fn add_retry_after(response: &mut Response, secs: Option<u64>) {
    if let Some(secs) = secs
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

/// An [`ApiError`] on an Open311 route, rendered in the Open311 `errors` format of the requested [`Format`].
#[derive(Debug)]
pub struct Open311Error {
    pub format: Format,
    pub error: ApiError,
}

impl Open311Error {
    pub fn new(format: Format, error: impl Into<ApiError>) -> Open311Error {
        Open311Error {
            format,
            error: error.into(),
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let errors: Vec<render::ErrorItem> = self
            .error
            .public_errors()
            .into_iter()
            .map(|e| render::ErrorItem {
                code: status.as_u16(),
                description: if e.field.is_empty() { e.message } else { e.to_string() },
            })
            .collect();
        let mut response = render::respond(self.format, status, &render::Errors(errors));
        add_retry_after(&mut response, self.error.retry_after());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_come_from_one_mapping() {
        let cases = [
            (ApiError::invalid("lat", "not a number"), 400),
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::Unauthenticated, 401),
            (ApiError::WrongCredentials, 401),
            (ApiError::Forbidden("x".into()), 403),
            (ApiError::NotFound("x".into()), 404),
            (ApiError::Conflict("x".into()), 409),
            (
                ApiError::GuardrailsBroken {
                    message: "x".into(),
                    violations: Vec::new(),
                },
                422,
            ),
            (ApiError::PayloadTooLarge { limit: 1 }, 413),
            (ApiError::TooManyRequests { retry_after_secs: 1 }, 429),
            (ApiError::internal("db down"), 500),
            (ApiError::Unavailable("x".into()), 503),
            (ApiError::NodeUnavailable("x".into()), 503),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn server_error_details_are_never_returned() {
        let errors = ApiError::internal("password=hunter2 at db.rs:12").public_errors();
        assert_eq!(errors, vec![FieldError::new("", "internal error")]);
    }
}
