//! Bootstrapping accounts and API keys from the CLI (`grassroots user add`, `grassroots apikey create`), and the
//! demo's one account per role.

use domain::access::Role;
use domain::territory::UnitCode;
use store::{AccountRow, Store};
use time::OffsetDateTime;

use crate::auth;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Access(#[from] domain::access::AccessError),
    #[error("scope: {0}")]
    Scope(#[from] domain::territory::TerritoryError),
    #[error("account name {0:?} must be 1 to 64 letters, digits, '.', '_' or '-'")]
    BadName(String),
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    #[error("{0}")]
    Store(#[from] store::StoreError),
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

/// Creates or replaces an account with a password.
pub async fn add_user(
    store: &Store,
    name: &str,
    role: &str,
    scope: &str,
    office: Option<&str>,
    password: &str,
) -> Result<(), AccountError> {
    check_name(name)?;
    let role = Role::parse(role)?;
    let scope = UnitCode::parse(scope)?;
    let hash = auth::hash_password(password)?;
    store
        .upsert_account(&AccountRow {
            name: name.to_string(),
            display_name: name.to_string(),
            role: role.as_str().to_string(),
            scope: scope.to_string(),
            office: office.map(str::to_string),
            password_hash: Some(hash),
            created_at: OffsetDateTime::now_utc().unix_timestamp(),
            disabled: false,
        })
        .await?;
    Ok(())
}

/// Creates an API key and returns it: the only time it is ever shown.
pub async fn create_api_key(store: &Store, name: &str, office: Option<&str>) -> Result<String, AccountError> {
    check_name(name)?;
    let key = auth::new_api_key()?;
    store
        .insert_api_key(name, &key.hash, office, OffsetDateTime::now_utc().unix_timestamp())
        .await?;
    Ok(key.secret)
}

/// One demo account per role, scoped to `township` (its county for the analyst and administrator would also do; the
/// township keeps the demo small). Returns `(name, role, password)` for printing.
pub async fn demo_accounts(store: &Store, township: &UnitCode) -> Result<Vec<(String, Role, String)>, AccountError> {
    let mut made = Vec::new();
    for role in Role::ALL {
        let name = format!("demo-{}", role.as_str().replace('_', "-"));
        let password = format!("{name}-pass");
        let office = match role {
            Role::Resident | Role::Analyst | Role::Administrator => None,
            _ => Some(format!("{township}:gov")),
        };
        add_user(
            store,
            &name,
            role.as_str(),
            township.as_str(),
            office.as_deref(),
            &password,
        )
        .await?;
        made.push((name, role, password));
    }
    Ok(made)
}
