//! Signing in and out: a password exchanged for a session token, sent back both as a bearer token and as an
//! HTTP-only cookie.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Json;
use crate::auth;
use crate::caller::{Caller, ClientAddress};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub name: String,
    pub display_name: String,
    /// resident, grid_worker, caseworker, mediator, office_head, analyst or administrator.
    pub role: String,
    /// The territory subtree the account works in.
    pub scope: String,
    pub office: Option<String>,
    /// A disabled account cannot sign in, and its tokens are refused.
    pub disabled: bool,
}

impl From<store::AccountRow> for AccountView {
    /// The account without its password hash, which never leaves the server.
    fn from(row: store::AccountRow) -> AccountView {
        AccountView {
            name: row.name,
            display_name: row.display_name,
            role: row.role,
            scope: row.scope,
            office: row.office,
            disabled: row.disabled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer TOKEN`; also set as the `grassroots_session` cookie.
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub account: AccountView,
}

/// Signs in with a name and password.
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the token is also set as a cookie", body = SessionView),
        (status = 400, description = "The body is not a sign-in request", body = ErrorBody),
        (status = 401, description = "The name or password is wrong (which one is not said)", body = ErrorBody),
        (status = 403, description = "The account is disabled (said only to whoever gave its password)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this name or from this address; Retry-After says how long to wait", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Json(req): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let started = start_session(&state, &req.name, &req.password, &address).await?;
    let body = SessionView {
        token: started.token,
        expires_at: started.expires_at,
        account: AccountView::from(started.account),
    };
    let mut response = axum::Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&started.cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// A session just started: its token (shown once), expiry, `Set-Cookie` value and account.
pub struct StartedSession {
    pub token: String,
    pub expires_at: i64,
    pub cookie: String,
    pub account: store::AccountRow,
}

/// Checks a name and password and starts a session with a new token (never one the client brought: no session
/// fixation): the one sign-in path of the API and the web pages. Guessing is throttled per name and per client
/// `address` (`app::signin`) before the password is even checked.
pub async fn start_session(
    state: &AppState,
    name: &str,
    password: &str,
    address: &str,
) -> Result<StartedSession, ApiError> {
    let attempt = app::signin::begin(&state.store, name, address, state.now().unix_timestamp()).await?;
    let account = state.store.account(name.trim()).await?;
    // Verify against a hash even for an unknown name, so timing does not reveal which names exist.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| auth::hash_password("not anybody's password").unwrap_or_default());
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let verified = auth::verify_password(password, stored.as_deref().unwrap_or(dummy));
    let account = match account {
        Some(a) if verified && stored.is_some() => a,
        _ => return Err(ApiError::WrongCredentials),
    };
    app::signin::succeeded(&state.store, &attempt).await?;
    if account.disabled {
        return Err(crate::caller::disabled(&account.name));
    }
    let secret = auth::new_session_token().map_err(ApiError::internal)?;
    let now = state.now().unix_timestamp();
    let expires_at = now + state.config.session_ttl_secs;
    state
        .store
        .insert_session(&secret.hash, &account.name, now, expires_at)
        .await?;
    let cookie = auth::session_cookie(
        &secret.secret,
        u64::try_from(state.config.session_ttl_secs).unwrap_or(0),
        state.config.secure_cookies,
    );
    Ok(StartedSession {
        token: secret.secret,
        expires_at,
        cookie,
        account,
    })
}

/// Signs out: the session token stops working.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The account is disabled", body = ErrorBody),
    )
)]
pub async fn logout(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    caller.require()?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::bearer_token)
        .or_else(|| {
            headers
                .get(header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(auth::session_from_cookie)
        })
        .ok_or(ApiError::Unauthenticated)?;
    state.store.delete_session(&auth::secret_hash(token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in account", body = AccountView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The account is disabled", body = ErrorBody),
    )
)]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<AccountView>, ApiError> {
    let p = caller.require()?;
    let row = state
        .store
        .account(&p.account)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(axum::Json(AccountView::from(row)))
}
