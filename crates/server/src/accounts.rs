//! Accounts as an administrator manages them, from the CLI (`grassroots user …`, `grassroots apikey create`) and over
//! REST (`/api/v1/accounts`): create one (never over an existing name), change it, disable and enable it, list them;
//! and the demo's one account per role.
//!
//! Every account is checked against the stored territory and office directory when it is created and each time it is
//! changed: its scope must be a stored unit, its office a stored office inside that scope, and a role that works cases
//! must have an office ([`office_rule`]). The check matters because `domain::access` lets an office's staff act on
//! whatever their office holds: a county caseworker given an office of another county read that county's petitioners.

use domain::access::Role;
use domain::office::{Directory, OfficeId};
use domain::territory::UnitCode;
use store::{AccountRow, Store};
use time::OffsetDateTime;

use crate::auth;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A field with a value the rules refuse; the message names both.
    #[error("{field} {value:?}: {problem}")]
    Field {
        field: &'static str,
        value: String,
        problem: String,
    },
    /// A field the rules require for this account, not given.
    #[error("{field} is required: {problem}")]
    Missing { field: &'static str, problem: String },
    #[error("account name {0:?} must be 1 to 64 letters, digits, '.', '_' or '-'")]
    BadName(String),
    #[error(
        "an account named {0:?} exists already; change it with `grassroots user set` or PATCH /api/v1/accounts/{0}"
    )]
    NameTaken(String),
    #[error("there is no account named {0:?}")]
    NoSuchAccount(String),
    #[error("password: {0}")]
    Auth(#[from] auth::AuthError),
    #[error("office directory: {0}")]
    Directory(#[from] app::workflow::WorkflowError),
    #[error("{0}")]
    Store(#[from] store::StoreError),
}

impl AccountError {
    fn field(field: &'static str, value: &str, problem: impl Into<String>) -> AccountError {
        AccountError::Field {
            field,
            value: value.to_string(),
            problem: problem.into(),
        }
    }
}

fn check_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadName(name.to_string()))
    }
}

/// Whether an account of a role belongs to an office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeRule {
    /// Staff who take cases act for the office that holds them (grid workers, caseworkers, mediators, heads).
    Required,
    /// Analysts and administrators work on a whole subtree; an office, if given, must still lie inside it.
    Optional,
    /// A resident belongs to no office: an office would make them staff of it.
    Forbidden,
}

/// The office rule of each role (every role is named, so a new role must be decided here).
pub fn office_rule(role: Role) -> OfficeRule {
    match role {
        Role::GridWorker | Role::Caseworker | Role::Mediator | Role::OfficeHead => OfficeRule::Required,
        Role::Analyst | Role::Administrator => OfficeRule::Optional,
        Role::Resident => OfficeRule::Forbidden,
    }
}

/// An account's role, scope and office as offered (by the CLI or a REST body), before checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSpec {
    pub role: String,
    pub scope: String,
    pub office: Option<String>,
}

/// A role, scope and office that passed [`check_account`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAccount {
    pub role: Role,
    pub scope: UnitCode,
    pub office: Option<OfficeId>,
}

/// Checks a spec against the territory and office directory: `scope_stored` says whether the store holds the scope's
/// unit. Pure, so every rule has a unit test; [`check_account`] reads the store and calls it.
pub fn check_spec(
    spec: &AccountSpec,
    scope_stored: bool,
    directory: &Directory,
) -> Result<CheckedAccount, AccountError> {
    let role = Role::parse(spec.role.trim()).map_err(|e| AccountError::field("role", &spec.role, e.to_string()))?;
    let scope =
        UnitCode::parse(spec.scope.trim()).map_err(|e| AccountError::field("scope", &spec.scope, e.to_string()))?;
    if !scope_stored {
        return Err(AccountError::field(
            "scope",
            &spec.scope,
            "no such unit in the stored territory (see `grassroots territory show`)",
        ));
    }
    let office = spec.office.as_deref().map(str::trim).filter(|o| !o.is_empty());
    let office = match (office_rule(role), office) {
        (OfficeRule::Required, None) => {
            return Err(AccountError::Missing {
                field: "office",
                problem: format!("a {role} works for an office: give one inside scope {scope} (e.g. {scope}:gov)"),
            });
        }
        (OfficeRule::Forbidden, Some(office)) => {
            return Err(AccountError::field(
                "office",
                office,
                format!("a {role} belongs to no office"),
            ));
        }
        (_, None) => None,
        (_, Some(raw)) => {
            let id = OfficeId::parse(raw).map_err(|e| AccountError::field("office", raw, e.to_string()))?;
            if directory.office(&id).is_none() {
                return Err(AccountError::field(
                    "office",
                    raw,
                    "no such office in the office directory",
                ));
            }
            if !id.unit().is_within(&scope) {
                return Err(AccountError::field(
                    "office",
                    raw,
                    format!(
                        "the office lies in unit {}, outside the account's scope {scope}; an office's staff reach every \
                         case it holds, so its unit must be inside the scope",
                        id.unit()
                    ),
                ));
            }
            Some(id)
        }
    };
    Ok(CheckedAccount { role, scope, office })
}

/// The stored office directory; the standard offices are stored first if none are (as `grassroots tick` does).
async fn office_directory(store: &Store) -> Result<Directory, AccountError> {
    app::workflow::ensure_offices(store).await?;
    Ok(store.load_directory().await?)
}

/// Checks a spec against the stored territory and office directory.
pub async fn check_account(store: &Store, spec: &AccountSpec) -> Result<CheckedAccount, AccountError> {
    let scope_stored = match UnitCode::parse(spec.scope.trim()) {
        Ok(scope) => store.missing_units(&[&scope]).await?.is_empty(),
        // `check_spec` names the malformed scope.
        Err(_) => false,
    };
    let directory = match spec.office.as_deref().map(str::trim) {
        Some(office) if !office.is_empty() => office_directory(store).await?,
        _ => Directory::default(),
    };
    check_spec(spec, scope_stored, &directory)
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn row_of(name: &str, checked: &CheckedAccount, password_hash: Option<String>, created_at: i64) -> AccountRow {
    AccountRow {
        name: name.to_string(),
        display_name: name.to_string(),
        role: checked.role.as_str().to_string(),
        scope: checked.scope.to_string(),
        office: checked.office.as_ref().map(OfficeId::to_string),
        password_hash,
        created_at,
        disabled: false,
        disabled_at: None,
    }
}

/// Creates an account with a password. Refuses a name that exists: an account is changed only by [`change_user`].
pub async fn add_user(
    store: &Store,
    name: &str,
    role: &str,
    scope: &str,
    office: Option<&str>,
    password: &str,
) -> Result<AccountRow, AccountError> {
    check_name(name)?;
    let spec = AccountSpec {
        role: role.to_string(),
        scope: scope.to_string(),
        office: office.map(str::to_string),
    };
    let checked = check_account(store, &spec).await?;
    if store.account(name).await?.is_some() {
        return Err(AccountError::NameTaken(name.to_string()));
    }
    let row = row_of(name, &checked, Some(auth::hash_password(password)?), now());
    if !store.insert_account(&row).await? {
        return Err(AccountError::NameTaken(name.to_string()));
    }
    Ok(row)
}

/// What to change in an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    pub role: Option<String>,
    pub scope: Option<String>,
    /// `Some(None)` removes the office.
    pub office: Option<Option<String>>,
    pub password: Option<String>,
}

impl AccountChange {
    /// The account as it would be after the change (unchecked).
    pub fn apply_to(&self, row: &AccountRow) -> AccountSpec {
        AccountSpec {
            role: self.role.clone().unwrap_or_else(|| row.role.clone()),
            scope: self.scope.clone().unwrap_or_else(|| row.scope.clone()),
            office: self.office.clone().unwrap_or_else(|| row.office.clone()),
        }
    }
}

/// Changes an existing account; the result is checked as a new account would be. Returns the stored account.
pub async fn change_user(store: &Store, name: &str, change: &AccountChange) -> Result<AccountRow, AccountError> {
    let row = store
        .account(name)
        .await?
        .ok_or_else(|| AccountError::NoSuchAccount(name.to_string()))?;
    let checked = check_account(store, &change.apply_to(&row)).await?;
    let password_hash = match &change.password {
        Some(password) => Some(auth::hash_password(password)?),
        None => row.password_hash.clone(),
    };
    let changed = AccountRow {
        display_name: row.display_name.clone(),
        disabled: row.disabled,
        disabled_at: row.disabled_at,
        ..row_of(name, &checked, password_hash, row.created_at)
    };
    if !store.update_account(&changed).await? {
        return Err(AccountError::NoSuchAccount(name.to_string()));
    }
    Ok(changed)
}

/// Disables (`true`) or enables an account. A disabled account cannot sign in and its sessions are refused at once;
/// enabling it ends every session it had, so it must sign in again.
pub async fn set_disabled(store: &Store, name: &str, disabled: bool) -> Result<AccountRow, AccountError> {
    if !store.set_account_disabled(name, disabled, now()).await? {
        return Err(AccountError::NoSuchAccount(name.to_string()));
    }
    store
        .account(name)
        .await?
        .ok_or_else(|| AccountError::NoSuchAccount(name.to_string()))
}

/// The accounts whose scope lies in `within` (all of them when `None`), by name.
pub async fn list_users(store: &Store, within: Option<&UnitCode>) -> Result<Vec<AccountRow>, AccountError> {
    let rows = store.list_accounts().await?;
    Ok(match within {
        None => rows,
        Some(within) => rows
            .into_iter()
            .filter(|row| UnitCode::parse(&row.scope).is_ok_and(|scope| scope.is_within(within)))
            .collect(),
    })
}

/// The start of a local calendar day given as `YYYY-MM-DD` in `field` (e.g. the audit's `since`), in epoch seconds.
pub fn day_start(field: &'static str, raw: &str, offset: time::UtcOffset) -> Result<i64, AccountError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day =
        time::Date::parse(raw.trim(), &format).map_err(|_| AccountError::field(field, raw, "not a date YYYY-MM-DD"))?;
    Ok(day
        .with_time(time::Time::MIDNIGHT)
        .assume_offset(offset)
        .unix_timestamp())
}

/// Creates an API key (for a client of `office`, which must be in the office directory) and returns it: the only
/// time it is ever shown.
pub async fn create_api_key(store: &Store, name: &str, office: Option<&str>) -> Result<String, AccountError> {
    check_name(name)?;
    if let Some(raw) = office {
        let id = OfficeId::parse(raw).map_err(|e| AccountError::field("office", raw, e.to_string()))?;
        if office_directory(store).await?.office(&id).is_none() {
            return Err(AccountError::field(
                "office",
                raw,
                "no such office in the office directory",
            ));
        }
    }
    let key = auth::new_api_key()?;
    store.insert_api_key(name, &key.hash, office, now()).await?;
    Ok(key.secret)
}

/// One demo account per role, scoped to `township` (its county for the analyst and administrator would also do; the
/// township keeps the demo small). A rerun of the demo resets them to these values and enables them. Returns
/// `(name, role, password)` for printing.
pub async fn demo_accounts(store: &Store, township: &UnitCode) -> Result<Vec<(String, Role, String)>, AccountError> {
    let mut made = Vec::new();
    for role in Role::ALL {
        let name = format!("demo-{}", role.as_str().replace('_', "-"));
        let password = format!("{name}-pass");
        let office = match office_rule(role) {
            OfficeRule::Required => Some(format!("{township}:gov")),
            OfficeRule::Optional | OfficeRule::Forbidden => None,
        };
        if store.account(&name).await?.is_some() {
            let change = AccountChange {
                role: Some(role.as_str().to_string()),
                scope: Some(township.to_string()),
                office: Some(office),
                password: Some(password.clone()),
            };
            change_user(store, &name, &change).await?;
            set_disabled(store, &name, false).await?;
        } else {
            add_user(
                store,
                &name,
                role.as_str(),
                township.as_str(),
                office.as_deref(),
                &password,
            )
            .await?;
        }
        made.push((name, role, password));
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use domain::territory::Territory;

    use super::*;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).expect("code")
    }

    /// The standard offices of Wuxing district (330502) with one township and village, and of Nanxun (330503).
    fn directory() -> Directory {
        let unit = |c: &str, n: &str| domain::territory::Unit::new(code(c), n, code(c).parent_code()).expect("unit");
        let territory = Territory::build([
            unit("33", "浙江省"),
            unit("3305", "湖州市"),
            unit("330502", "吴兴区"),
            unit("330502001", "月河街道"),
            unit("330502001001", "甲村"),
            unit("330503", "南浔区"),
            unit("330503001", "南浔镇"),
        ])
        .expect("territory");
        Directory::standard(&territory)
    }

    fn spec(role: &str, scope: &str, office: Option<&str>) -> AccountSpec {
        AccountSpec {
            role: role.into(),
            scope: scope.into(),
            office: office.map(str::to_string),
        }
    }

    /// Checks a spec; `Ok(office)` or the error's message.
    #[track_caller]
    fn check(spec: AccountSpec, scope_stored: bool, expected: Result<Option<&str>, &str>) {
        let got = check_spec(&spec, scope_stored, &directory())
            .map(|c| c.office.map(|o| o.to_string()))
            .map_err(|e| e.to_string());
        match (got, expected) {
            (Ok(office), Ok(want)) => assert_eq!(office.as_deref(), want, "{spec:?}"),
            (Err(message), Err(want)) => assert!(message.contains(want), "{spec:?}: {message:?} lacks {want:?}"),
            (got, want) => panic!("{spec:?}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn a_valid_account_passes() {
        check(
            spec("caseworker", "330502001", Some("330502001:gov")),
            true,
            Ok(Some("330502001:gov")),
        );
        check(
            spec("office_head", "330502", Some("330502001001:committee")),
            true,
            Ok(Some("330502001001:committee")),
        );
        check(spec("analyst", "330502", None), true, Ok(None));
        check(
            spec("administrator", "330502", Some("330502:gov")),
            true,
            Ok(Some("330502:gov")),
        );
        check(spec("resident", "330502001", None), true, Ok(None));
    }

    #[test]
    fn the_scope_must_be_a_stored_unit() {
        check(
            spec("analyst", "999999", None),
            false,
            Err("scope \"999999\": no such unit"),
        );
        check(spec("analyst", "33x", None), true, Err("scope \"33x\""));
    }

    #[test]
    fn the_office_must_exist_in_the_directory() {
        check(
            spec("caseworker", "330502001", Some("township.gov")),
            true,
            Err("office \"township.gov\": office id \"township.gov\" is not of the form UNITCODE:key"),
        );
        check(
            spec("caseworker", "330502001", Some("330502001:police")),
            true,
            Err("office \"330502001:police\": no such office in the office directory"),
        );
    }

    #[test]
    fn the_office_must_lie_inside_the_scope() {
        // The account of the newcomer's report: a Wuxing caseworker holding an office of Nanxun.
        check(
            spec("caseworker", "330502", Some("330503001:gov")),
            true,
            Err("office \"330503001:gov\": the office lies in unit 330503001, outside the account's scope 330502"),
        );
        // An office above the scope is outside it too: it holds cases of the whole county.
        check(
            spec("caseworker", "330502001", Some("330502:gov")),
            true,
            Err("outside the account's scope 330502001"),
        );
    }

    #[test]
    fn roles_that_work_cases_need_an_office_and_residents_have_none() {
        for role in ["grid_worker", "caseworker", "mediator", "office_head"] {
            check(spec(role, "330502001", None), true, Err("office is required: a"));
        }
        check(
            spec("resident", "330502001", Some("330502001:gov")),
            true,
            Err("office \"330502001:gov\": a resident belongs to no office"),
        );
        check(
            spec("caseworker", "330502001", Some("  ")),
            true,
            Err("works for an office"),
        );
    }

    #[test]
    fn an_unknown_role_is_named() {
        check(
            spec("boss", "330502001", None),
            true,
            Err("role \"boss\": unknown role"),
        );
    }

    #[test]
    fn since_is_the_start_of_the_local_day() {
        let china = time::UtcOffset::from_hms(8, 0, 0).expect("offset");
        // 2026-12-05 00:00 +08:00 is 2026-12-04 16:00 UTC.
        assert_eq!(day_start("since", "2026-12-05", china).expect("date"), 1_796_400_000);
        let bad = day_start("since", "5 Dec", china).expect_err("not a date").to_string();
        assert_eq!(bad, "since \"5 Dec\": not a date YYYY-MM-DD");
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name() {
        let row = AccountRow {
            name: "c".into(),
            display_name: "c".into(),
            role: "caseworker".into(),
            scope: "330502001".into(),
            office: Some("330502001:gov".into()),
            password_hash: None,
            created_at: 0,
            disabled: false,
            disabled_at: None,
        };
        let change = AccountChange {
            role: Some("analyst".into()),
            office: Some(None),
            ..AccountChange::default()
        };
        assert_eq!(change.apply_to(&row), spec("analyst", "330502001", None));
        assert_eq!(
            AccountChange::default().apply_to(&row),
            spec("caseworker", "330502001", Some("330502001:gov"))
        );
    }
}
