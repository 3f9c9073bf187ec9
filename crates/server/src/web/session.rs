//! Signing in, signing up (residents only) and signing out on the pages, on the accounts and sessions of the API: the
//! same sign-in path (`rest::session::start_session`) and the same HttpOnly, SameSite=Lax session cookie (Secure when
//! the server is configured behind HTTPS).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{Ctx, Failure, FieldErrors};
use crate::accounts::{self, AccountError};
use crate::auth;
use crate::error::ApiError;
use crate::rest::session::start_session;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage<'a> {
    ctx: &'a Ctx,
    next: String,
    name: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage<'a> {
    ctx: &'a Ctx,
    next: String,
    name: String,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only a path of this site is a place to go back to (never another site).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn signin_form(ctx: Ctx, Query(q): Query<Next>) -> Response {
    ctx.render(&SigninPage {
        ctx: &ctx,
        next: safe_next(q.next.as_deref()),
        name: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn signup_form(ctx: Ctx, Query(q): Query<Next>) -> Response {
    ctx.render(&SignupPage {
        ctx: &ctx,
        next: safe_next(q.next.as_deref()),
        name: String::new(),
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    pub csrf: String,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

/// Starts a session; the `Set-Cookie` value, or the error to show beside the form.
pub async fn sign_in(state: &AppState, ctx: &Ctx, name: &str, password: &str) -> Result<String, FieldErrors> {
    match start_session(state, name, password, &ctx.client).await {
        Ok(started) => Ok(started.cookie),
        Err(ApiError::WrongCredentials) => Err(FieldErrors(vec![("password".into(), ctx.t.t("signin-wrong"))])),
        Err(ApiError::SignInThrottled { retry_after_secs, .. }) => Err(FieldErrors(vec![(
            "password".into(),
            ctx.t
                .with("signin-throttled", &[("seconds", retry_after_secs.to_string())]),
        )])),
        Err(other) => Err(FieldErrors::from_error(&ctx.t, &other, &[])),
    }
}

/// Creates a resident account (scoped to the whole territory served) and signs it in.
pub async fn sign_up(state: &AppState, ctx: &Ctx, name: &str, password: &str) -> Result<String, FieldErrors> {
    let scope = state
        .territory
        .roots()
        .first()
        .map(|c| c.to_string())
        .unwrap_or_default();
    match accounts::add_user(&state.store, name.trim(), "resident", &scope, None, password).await {
        Ok(_) => sign_in(state, ctx, name, password).await,
        Err(AccountError::BadName(_)) => Err(FieldErrors(vec![("name".into(), ctx.t.t("signup-bad-name"))])),
        Err(AccountError::NameTaken(_)) => Err(FieldErrors(vec![("name".into(), ctx.t.t("signup-name-taken"))])),
        Err(AccountError::Auth(auth::AuthError::PasswordTooShort | auth::AuthError::PasswordTooLong)) => Err(
            FieldErrors(vec![("password".into(), ctx.t.t("signup-password-length"))]),
        ),
        Err(other) => {
            tracing::error!(error = %other, "sign-up failed");
            Err(FieldErrors(vec![(String::new(), ctx.t.t("error-internal"))]))
        }
    }
}

/// A redirect that also sets the session cookie.
pub fn redirect_with_cookie(ctx: &Ctx, to: &str, cookie: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    ctx.with_cookies(response)
}

pub async fn signin(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Credentials>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let next = safe_next(form.next.as_deref());
    Ok(match sign_in(&state, &ctx, &form.name, &form.password).await {
        Ok(cookie) => redirect_with_cookie(&ctx, &next, &cookie),
        Err(errors) => ctx.render_with(
            StatusCode::UNAUTHORIZED,
            &SigninPage {
                ctx: &ctx,
                next,
                name: form.name,
                errors,
            },
        ),
    })
}

pub async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Credentials>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let next = safe_next(form.next.as_deref());
    Ok(match sign_up(&state, &ctx, &form.name, &form.password).await {
        Ok(cookie) => redirect_with_cookie(&ctx, &next, &cookie),
        Err(errors) => ctx.render_with(
            StatusCode::BAD_REQUEST,
            &SignupPage {
                ctx: &ctx,
                next,
                name: form.name,
                errors,
            },
        ),
    })
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}

/// Ends the session: the token stops working and the cookie is cleared.
pub async fn signout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::session_from_cookie);
    if let Some(token) = token {
        state
            .store
            .delete_session(&auth::secret_hash(token))
            .await
            .map_err(|e| ctx.fail(ApiError::from(e)))?;
    }
    let secure = state.config.secure_cookies;
    Ok(redirect_with_cookie(&ctx, "/", &auth::session_cookie("", 0, secure)))
}
