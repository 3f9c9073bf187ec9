//! Who is calling: the [`Caller`] extractor reads a bearer token or the session cookie, finds the account and turns it
//! into a `domain::access::Principal`. It also applies the per-token rate limit. Unknown or expired tokens are a 401,
//! never silently anonymous; the token of a disabled account is a 403 saying so, from the moment it is disabled.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use domain::access::{Principal, Role};
use domain::territory::UnitCode;
use store::AccountRow;

use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller of a request: a signed-in account, or the public.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// The principal, or 401.
    pub fn require(&self) -> Result<&Principal, ApiError> {
        self.0.as_ref().ok_or(ApiError::Unauthenticated)
    }
}

/// Turns a stored account into a principal, refusing rows that do not parse (a corrupt row grants nothing).
pub fn principal_of(row: &AccountRow) -> Result<Principal, ApiError> {
    let role = Role::parse(&row.role).map_err(|e| ApiError::internal(format!("account {}: {e}", row.name)))?;
    let scope = UnitCode::parse(&row.scope).map_err(|e| ApiError::internal(format!("account {}: {e}", row.name)))?;
    Ok(Principal {
        account: row.name.clone(),
        role,
        scope,
        office: row.office.clone(),
    })
}

/// The refusal of a disabled account, at sign-in and on every request with one of its tokens.
pub fn disabled(account: &str) -> ApiError {
    ApiError::Forbidden(format!("account {account} is disabled; an administrator can enable it again").into())
}

/// The client's IP address as the connection gives it; `local` in-process, where there is none. Rate limits and the
/// sign-in throttle key on it.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl ClientAddress {
    pub fn of(extensions: &axum::http::Extensions) -> ClientAddress {
        ClientAddress(
            extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "local".into()),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddress, Self::Rejection> {
        Ok(ClientAddress::of(&parts.extensions))
    }
}

fn token_of(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return auth::bearer_token(value).map(str::to_string);
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::session_from_cookie)
        .map(str::to_string)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let Some(token) = token_of(parts) else {
            return Ok(Caller(None));
        };
        let hash = auth::secret_hash(&token);
        if let Err(wait) = state.key_limiter.check(&hash, std::time::Instant::now()) {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        let now = state.now().unix_timestamp();
        let account = state
            .store
            .session_account(&hash, now)
            .await
            .map_err(ApiError::internal)?;
        match account {
            Some(row) if row.disabled => Err(disabled(&row.name)),
            Some(row) => Ok(Caller(Some(principal_of(&row)?))),
            None => Err(ApiError::Unauthenticated),
        }
    }
}
