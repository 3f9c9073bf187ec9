//! Accounts and the audit trail over REST. Administrators list, create and change the accounts of their subtree
//! (`/api/v1/accounts`, asking `domain::access::can_at_unit` for `UnitAction::ManageAccounts` at each scope involved)
//! and read the audit log of staff reads of personal data there (`/api/v1/audit`). A resident reads who read the
//! personal data of a case they filed (`/api/v1/cases/{id}/audit`).
//!
//! What the resident is shown of each read: when, the reader's role and office, and what was read — not the reading
//! staff member's account name. The office is who answers for the read (the resident can complain to it or about it,
//! and the administrator's log names the person); naming individual staff to every petitioner would expose them to
//! pressure outside the procedure. Residents' own reads are not audited, so no other resident ever appears.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::access::{self, Role, UnitAction};
use domain::territory::UnitCode;
use serde::{Deserialize, Deserializer, Serialize};
use store::{AuditQuery, AuditRecord};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use super::session::AccountView;
use super::{Json, Query};
use crate::accounts::{self, AccountChange, AccountError};
use crate::auth::AuthError;
use crate::caller::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The most audit entries one request returns.
pub const MAX_AUDIT_ENTRIES: i64 = 1_000;
const DEFAULT_AUDIT_ENTRIES: i64 = 100;

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        let message = e.to_string();
        match e {
            AccountError::Field { field, .. } | AccountError::Missing { field, .. } => {
                ApiError::invalid(field, message)
            }
            AccountError::BadName(_) => ApiError::invalid("name", message),
            AccountError::NameTaken(_) => ApiError::Conflict(message.into()),
            AccountError::NoSuchAccount(_) => ApiError::NotFound(message),
            AccountError::Auth(AuthError::PasswordTooShort | AuthError::PasswordTooLong) => {
                ApiError::invalid("password", message)
            }
            AccountError::Store(e) => e.into(),
            AccountError::Auth(_) | AccountError::Directory(_) => ApiError::internal(message),
        }
    }
}

/// The caller, if it may manage accounts at `unit`.
fn manager_at<'a>(caller: &'a Caller, unit: &UnitCode) -> Result<&'a domain::access::Principal, ApiError> {
    let principal = caller.require()?;
    access::can_at_unit(principal, UnitAction::ManageAccounts, unit)?;
    Ok(principal)
}

fn scope_field(raw: &str) -> Result<UnitCode, ApiError> {
    UnitCode::parse(raw.trim()).map_err(|e| ApiError::invalid("scope", format!("scope {raw:?}: {e}")))
}

/// The accounts whose scope lies in the administrator's subtree, by name. Password hashes are never shown.
#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The accounts of the caller's subtree", body = [AccountView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the account is disabled", body = ErrorBody),
    )
)]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<AccountView>>, ApiError> {
    let principal = caller.require()?;
    let admin = manager_at(&caller, &principal.scope)?;
    let rows = accounts::list_users(&state.store, Some(&admin.scope)).await?;
    Ok(axum::Json(rows.into_iter().map(AccountView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 1 to 64 letters, digits, '.', '_' or '-'; must not be taken.
    pub name: String,
    /// resident, grid_worker, caseworker, mediator, office_head, analyst or administrator.
    pub role: String,
    /// The territory subtree the account works in: a stored unit within the administrator's own.
    pub scope: String,
    /// The office, `UNITCODE:key`, from the office directory and inside `scope`. Required for grid workers,
    /// caseworkers, mediators and office heads; refused for residents.
    pub office: Option<String>,
    /// At least 8 characters.
    pub password: String,
}

/// Creates an account in the administrator's subtree. A taken name is refused, never replaced.
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    request_body = NewAccount,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AccountView),
        (status = 400, description = "A field is invalid: the role, a scope not stored, an office not in the directory \
                                      or outside the scope, a missing office, a short password", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
        (status = 403, description = "Not an administrator of the scope", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    )
)]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewAccount>,
) -> Result<(StatusCode, axum::Json<AccountView>), ApiError> {
    manager_at(&caller, &scope_field(&req.scope)?)?;
    let row = accounts::add_user(
        &state.store,
        req.name.trim(),
        &req.role,
        &req.scope,
        req.office.as_deref(),
        &req.password,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(AccountView::from(row))))
}

/// Reads a field that may be absent (leave as is), `null` (remove) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub role: Option<String>,
    /// A stored unit within the administrator's own subtree.
    pub scope: Option<String>,
    /// A new office, or `null` to remove it (refused for roles that need one).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub office: Option<Option<String>>,
    /// A new password (at least 8 characters).
    pub password: Option<String>,
    /// `true` disables the account (it cannot sign in; its sessions are refused at once); `false` enables it and
    /// ends every session it had.
    pub disabled: Option<bool>,
}

/// Changes an account of the administrator's subtree: any of role, scope, office, password, disabled. The result is
/// checked as a new account would be.
#[utoipa::path(
    patch,
    path = "/api/v1/accounts/{name}",
    tag = "accounts",
    params(("name" = String, Path, description = "account name")),
    request_body = AccountPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account as changed", body = AccountView),
        (status = 400, description = "A field is invalid (see POST)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
        (status = 403, description = "Not an administrator of the new scope", body = ErrorBody),
        (status = 404, description = "No such account in the caller's subtree", body = ErrorBody),
        (status = 409, description = "An administrator may not disable their own account", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    )
)]
pub async fn change_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(req): Json<AccountPatch>,
) -> Result<axum::Json<AccountView>, ApiError> {
    let principal = caller.require()?;
    manager_at(&caller, &principal.scope)?;
    // An account outside the administrator's subtree is answered as if it did not exist.
    let no_such = || {
        ApiError::NotFound(format!(
            "there is no account named {name:?} in scope {}",
            principal.scope
        ))
    };
    let row = state.store.account(&name).await?.ok_or_else(no_such)?;
    let reachable = UnitCode::parse(&row.scope).is_ok_and(|scope| scope.is_within(&principal.scope));
    if !reachable {
        return Err(no_such());
    }
    if let Some(scope) = &req.scope {
        manager_at(&caller, &scope_field(scope)?)?;
    }
    if req.disabled == Some(true) && name == principal.account {
        return Err(ApiError::Conflict(
            format!("account {name}: an administrator may not disable their own account (another administrator can)")
                .into(),
        ));
    }
    let change = AccountChange {
        role: req.role,
        scope: req.scope,
        office: req.office,
        password: req.password,
    };
    let mut row = row;
    if change != AccountChange::default() {
        row = accounts::change_user(&state.store, &name, &change).await?;
    }
    if let Some(disabled) = req.disabled {
        row = accounts::set_disabled(&state.store, &name, disabled).await?;
    }
    Ok(axum::Json(AccountView::from(row)))
}

/// One staff read of personal data, as an administrator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// The entry's position in the log (newest first in every listing).
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// The reading account.
    pub account: String,
    pub role: String,
    /// The reader's office when it read, if it had one.
    pub office: Option<String>,
    /// What kind of read, e.g. `read_reporter`.
    pub action: String,
    pub case_id: Option<i64>,
    /// What was read and through which route.
    pub detail: String,
}

fn rfc3339(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> AuditView {
        AuditView {
            id: r.id,
            at: rfc3339(r.entry.at),
            account: r.entry.account,
            role: r.entry.role,
            office: r.office,
            action: r.entry.action,
            case_id: r.entry.case_id,
            detail: r.entry.detail,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only reads of this case.
    pub case: Option<i64>,
    /// Only reads by this account.
    pub account: Option<String>,
    /// Only reads on or after this day (`YYYY-MM-DD`, the deployment's local calendar day).
    pub since: Option<String>,
    /// At most this many entries, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// The audit log of staff reads of personal data about cases in the administrator's subtree, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "accounts",
    params(AuditParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Audit entries, newest first", body = [AuditView]),
        (status = 400, description = "An unknown filter or a malformed value", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    )
)]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditParams>,
) -> Result<axum::Json<Vec<AuditView>>, ApiError> {
    let principal = caller.require()?;
    let admin = manager_at(&caller, &principal.scope)?;
    let limit = q.limit.unwrap_or(DEFAULT_AUDIT_ENTRIES);
    if !(1..=MAX_AUDIT_ENTRIES).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("{limit} is not between 1 and {MAX_AUDIT_ENTRIES}"),
        ));
    }
    let since = match &q.since {
        Some(raw) => Some(accounts::day_start("since", raw, state.rules.calendar.offset())?),
        None => None,
    };
    let query = AuditQuery {
        case: q.case,
        account: q.account.map(|a| a.trim().to_string()),
        since,
        within: Some(admin.scope.clone()),
        limit,
    };
    let rows = state.store.audit_log(&query).await?;
    Ok(axum::Json(rows.into_iter().map(AuditView::from).collect()))
}

/// One staff read of the resident's personal data, as the resident sees it: no staff account name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadOfMyData {
    /// RFC 3339.
    pub at: String,
    /// The reader's role, e.g. `caseworker`.
    pub role: String,
    /// The reader's office, e.g. `330502001:gov`, if it had one.
    pub office: Option<String>,
    /// What was read, e.g. `read_reporter`.
    pub action: String,
}

/// Who read my data: every staff read of the personal data of a case the caller filed, newest first (role, office
/// and time; the staff member's account name is not shown).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/audit",
    tag = "cases",
    params(("id" = String, Path, description = "case id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Staff reads of the case's personal data, newest first", body = [ReadOfMyData]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
        (status = 403, description = "Not the resident who filed the case", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
    )
)]
pub async fn reads_of_my_data(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<ReadOfMyData>>, ApiError> {
    let principal = caller.require()?;
    let id: i64 = id
        .trim()
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no case {id:?}")))?;
    if principal.role != Role::Resident {
        return Err(ApiError::Forbidden(format!(
            "only the resident who filed case {id} reads its audit here; administrators read GET /api/v1/audit?case={id}"
        ).into()));
    }
    let case = app::workflow::hold(&state.store, id).await?;
    // A resident reads only a case they reported; another's answers as one that does not exist.
    case.readable_by(principal)?;
    let query = AuditQuery {
        case: Some(id),
        limit: MAX_AUDIT_ENTRIES,
        ..AuditQuery::default()
    };
    let rows = state.store.audit_log(&query).await?;
    Ok(axum::Json(
        rows.into_iter()
            // Only staff reads are audited; should a resident's ever be, it is not shown to another resident.
            .filter(|r| r.entry.role != Role::Resident.as_str())
            .map(|r| ReadOfMyData {
                at: rfc3339(r.entry.at),
                role: r.entry.role,
                office: r.office,
                action: r.entry.action,
            })
            .collect(),
    ))
}
