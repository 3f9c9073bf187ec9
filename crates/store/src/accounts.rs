//! Accounts, API keys, sessions, the audit log, and each case's access facts (its reporter account, what it complains
//! about, its Open311 token): the tables of migration 0010, used by the server.
//!
//! Secrets are never stored: only argon2 password hashes and SHA-256 hashes of keys and tokens reach these tables.

use domain::{CaseId, UnitCode};
use sqlx::Row;

use crate::cases::{CheckedCase, insert_cases_in};
use crate::{NewCaseRecord, Store, StoreError, batch_rows, placeholders};

/// A stored account. `role` and `scope` are checked by `domain::access` when the server loads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub name: String,
    pub display_name: String,
    pub role: String,
    pub scope: String,
    pub office: Option<String>,
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub name: String,
    pub office: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    pub account: String,
    pub role: String,
    pub action: String,
    pub case_id: Option<CaseId>,
    pub detail: String,
}

/// What decides who besides a territory's staff may see a case, and from whom its reporter is shielded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseAccessRow {
    pub reporter_account: Option<String>,
    pub complained_unit: Option<UnitCode>,
    pub complained_office: Option<String>,
    /// The Open311 token for `GET tokens/{token}`.
    pub token: Option<String>,
    /// The name of the API key the case came in with.
    pub api_key: Option<String>,
}

fn account_row(row: &sqlx::any::AnyRow) -> Result<AccountRow, StoreError> {
    let disabled: i64 = row.try_get("disabled")?;
    Ok(AccountRow {
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        role: row.try_get("role")?,
        scope: row.try_get("scope")?,
        office: row.try_get("office")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        disabled: disabled != 0,
    })
}

const ACCOUNT_COLUMNS: &str = "name, display_name, role, scope, office, password_hash, created_at, disabled";

impl Store {
    /// Creates an account, or replaces the one of the same name (role, scope, office, password).
    pub async fn upsert_account(&self, a: &AccountRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO accounts (name, display_name, role, scope, office, password_hash, created_at, disabled) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO UPDATE SET \
             display_name = excluded.display_name, role = excluded.role, scope = excluded.scope, \
             office = excluded.office, password_hash = excluded.password_hash, disabled = excluded.disabled",
        )
        .bind(&a.name)
        .bind(&a.display_name)
        .bind(&a.role)
        .bind(&a.scope)
        .bind(&a.office)
        .bind(&a.password_hash)
        .bind(a.created_at)
        .bind(i64::from(a.disabled))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn account(&self, name: &str) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_row).transpose()
    }

    pub async fn list_accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(account_row).collect()
    }

    /// Stores a new API key by its hash. Fails if the name is taken.
    pub async fn insert_api_key(
        &self,
        name: &str,
        hash: &str,
        office: Option<&str>,
        created_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_keys (hash, name, office, created_at) VALUES ($1, $2, $3, $4)")
            .bind(hash)
            .bind(name)
            .bind(office)
            .bind(created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The live (not revoked) key with this hash.
    pub async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        let row: Option<(String, Option<String>, i64)> =
            sqlx::query_as("SELECT name, office, created_at FROM api_keys WHERE hash = $1 AND revoked_at IS NULL")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(name, office, created_at)| ApiKeyRow {
            name,
            office,
            created_at,
        }))
    }

    pub async fn insert_session(
        &self,
        hash: &str,
        account: &str,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(hash)
            .bind(account)
            .bind(created_at)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The enabled account of a session that has not expired at `now`.
    pub async fn session_account(&self, hash: &str, now: i64) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM sessions s JOIN accounts a ON a.name = s.account \
             WHERE s.hash = $1 AND s.expires_at > $2 AND a.disabled = 0",
            ACCOUNT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_row).transpose()
    }

    pub async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn write_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, account, role, action, case_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(e.at)
        .bind(&e.account)
        .bind(&e.role)
        .bind(&e.action)
        .bind(e.case_id)
        .bind(&e.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest audit entries first.
    pub async fn audit_entries(&self, case: Option<CaseId>, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<(i64, String, String, String, Option<i64>, String)> = match case {
            Some(id) => {
                sqlx::query_as(
                    "SELECT at, account, role, action, case_id, detail FROM audit_log WHERE case_id = $1 \
                     ORDER BY id DESC LIMIT $2",
                )
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT at, account, role, action, case_id, detail FROM audit_log ORDER BY id DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(at, account, role, action, case_id, detail)| AuditEntry {
                at,
                account,
                role,
                action,
                case_id,
                detail,
            })
            .collect())
    }

    /// Stores a case, its log and its access facts in one transaction; returns after the commit.
    ///
    /// On SQLite, concurrent calls are group-committed by one writer task (see `intake.rs`): each still returns only
    /// after the transaction holding its case commits.
    /// Every event of the log must pass `domain::rules` on the clocks the case records (see [`Store::insert_cases`]).
    pub async fn insert_case_with_access(
        &self,
        record: &NewCaseRecord,
        access: &CaseAccessRow,
        rules: &impl crate::RuleBook,
    ) -> Result<CaseId, StoreError> {
        let checked = CheckedCase::new(record.clone(), 0, Some(access), rules.calendar())?;
        if let Some(writer) = &self.intake {
            return writer.insert(checked, access).await;
        }
        let mut tx = self.pool.begin().await?;
        let ids = insert_cases_in(&mut tx, &[&checked]).await?;
        let id = ids
            .first()
            .copied()
            .ok_or_else(|| StoreError::Corrupt("insert returned no id".into()))?;
        insert_access_in(&mut tx, &[(id, access)]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A case's access facts; the default (nobody extra, nothing complained about) when none were recorded.
    pub async fn case_access(&self, case: CaseId) -> Result<CaseAccessRow, StoreError> {
        type Row = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT reporter_account, complained_unit, complained_office, token, api_key FROM case_access \
             WHERE case_id = $1",
        )
        .bind(case)
        .fetch_optional(&self.pool)
        .await?;
        let Some((reporter_account, complained_unit, complained_office, token, api_key)) = row else {
            return Ok(CaseAccessRow::default());
        };
        let complained_unit = complained_unit
            .map(|u| UnitCode::parse(&u).map_err(|e| StoreError::Corrupt(format!("case {case}: {e}"))))
            .transpose()?;
        Ok(CaseAccessRow {
            reporter_account,
            complained_unit,
            complained_office,
            token,
            api_key,
        })
    }

    /// The case created with an Open311 token.
    pub async fn case_by_token(&self, token: &str) -> Result<Option<CaseId>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT case_id FROM case_access WHERE token = $1")
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// The ids of the cases a resident account reported, newest first.
    pub async fn cases_reported_by(&self, account: &str, limit: i64, offset: i64) -> Result<Vec<CaseId>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT case_id FROM case_access WHERE reporter_account = $1 ORDER BY case_id DESC LIMIT $2 OFFSET $3",
        )
        .bind(account)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

/// Inserts the access facts of new cases, in multi-row statements.
pub(crate) async fn insert_access_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rows: &[(CaseId, &CaseAccessRow)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(batch_rows(6)) {
        let sql = format!(
            "INSERT INTO case_access (case_id, reporter_account, complained_unit, complained_office, token, api_key) \
             VALUES {}",
            placeholders(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, access) in chunk {
            q = q
                .bind(*id)
                .bind(access.reporter_account.clone())
                .bind(access.complained_unit.as_ref().map(|u| u.as_str().to_string()))
                .bind(access.complained_office.clone())
                .bind(access.token.clone())
                .bind(access.api_key.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
