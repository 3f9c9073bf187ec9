//! Accounts, API keys, sessions, the audit log, and each case's access facts (its reporter account, what it complains
//! about, its Open311 token): the tables of migrations 0010 and 0070, used by the server.
//!
//! Secrets are never stored: only argon2 password hashes and SHA-256 hashes of keys and tokens reach these tables.
//! An account is created once ([`Store::insert_account`] refuses a taken name) and changed explicitly
//! ([`Store::update_account`], [`Store::set_account_disabled`]); nothing here replaces an account silently.

use domain::{CaseId, UnitCode};
use sqlx::Row;

use crate::cases::{CheckedCase, insert_cases_in};
use crate::{NewCaseRecord, Store, StoreError, backend_of, batch_rows, placeholders};

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
    /// A disabled account cannot sign in, and its sessions are refused.
    pub disabled: bool,
    /// When it was last disabled (absent while enabled, and for accounts disabled before migration 0070).
    pub disabled_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub name: String,
    pub office: Option<String>,
    pub created_at: i64,
}

/// A staff read of personal data, as written. The reader's office is recorded from the account by
/// [`Store::write_audit`], so writers name only the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    pub account: String,
    pub role: String,
    pub action: String,
    pub case_id: Option<CaseId>,
    pub detail: String,
}

/// A stored audit entry, as read back: the entry, its position in the log and the reader's office at the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
    /// The reading account's office when it read (absent for entries written before migration 0070).
    pub office: Option<String>,
}

/// Which audit entries to read, newest first. Every filter given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    pub case: Option<CaseId>,
    pub account: Option<String>,
    /// Entries at or after this instant (epoch seconds).
    pub since: Option<i64>,
    /// Only reads of cases that lie in this subtree (an administrator's scope).
    pub within: Option<UnitCode>,
    pub limit: i64,
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
        disabled_at: row.try_get("disabled_at")?,
    })
}

const ACCOUNT_COLUMNS: &str =
    "name, display_name, role, scope, office, password_hash, created_at, disabled, disabled_at";

/// `ACCOUNT_COLUMNS` of the table aliased `a`.
fn account_columns_of_a() -> String {
    ACCOUNT_COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns of `case_access` as read ([`ACCESS_COLUMNS`]): reporter account, complained unit and office, token,
/// API key.
pub(crate) type AccessColumns = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(crate) const ACCESS_COLUMNS: &str = "reporter_account, complained_unit, complained_office, token, api_key";

/// One case's access facts from their columns.
pub(crate) fn access_row(case: CaseId, columns: AccessColumns) -> Result<CaseAccessRow, StoreError> {
    let (reporter_account, complained_unit, complained_office, token, api_key) = columns;
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

impl Store {
    /// Creates an account. Returns false, changing nothing, when the name is taken.
    pub async fn insert_account(&self, a: &AccountRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO accounts \
             (name, display_name, role, scope, office, password_hash, created_at, disabled, disabled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&a.name)
        .bind(&a.display_name)
        .bind(&a.role)
        .bind(&a.scope)
        .bind(&a.office)
        .bind(&a.password_hash)
        .bind(a.created_at)
        .bind(i64::from(a.disabled))
        .bind(a.disabled_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Changes an existing account's display name, role, scope, office and password hash to those of `a` (its
    /// creation time and disabled state are kept). Returns false when there is no such account.
    pub async fn update_account(&self, a: &AccountRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET display_name = $2, role = $3, scope = $4, office = $5, password_hash = $6 \
             WHERE name = $1",
        )
        .bind(&a.name)
        .bind(&a.display_name)
        .bind(&a.role)
        .bind(&a.scope)
        .bind(&a.office)
        .bind(&a.password_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables or enables an account at `at`. Returns false when there is no such account.
    ///
    /// A disabled account's sessions stay on record so that a request carrying one is told the account is disabled
    /// (rather than that the token is unknown); enabling a disabled account deletes them, so a token issued before
    /// the account was disabled never works again.
    pub async fn set_account_disabled(&self, name: &str, disabled: bool, at: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if !disabled {
            // Only the sessions of an account that was disabled: enabling an enabled account changes nothing.
            sqlx::query(
                "DELETE FROM sessions WHERE account = $1 \
                 AND EXISTS (SELECT 1 FROM accounts WHERE name = $1 AND disabled <> 0)",
            )
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        let done = sqlx::query("UPDATE accounts SET disabled = $2, disabled_at = $3 WHERE name = $1")
            .bind(name)
            .bind(i64::from(disabled))
            .bind(disabled.then_some(at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
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

    /// The account of a session that has not expired at `now`, disabled or not: the caller refuses a disabled one
    /// and says why.
    pub async fn session_account(&self, hash: &str, now: i64) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM sessions s JOIN accounts a ON a.name = s.account \
             WHERE s.hash = $1 AND s.expires_at > $2",
            account_columns_of_a()
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

    /// Records a staff read of personal data, with the reading account's office as it is now.
    pub async fn write_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, account, role, action, case_id, detail, office) \
             VALUES ($1, $2, $3, $4, $5, $6, (SELECT office FROM accounts WHERE name = $2))",
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

    /// The newest audit entries first, of one case or of all.
    pub async fn audit_entries(&self, case: Option<CaseId>, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let query = AuditQuery {
            case,
            limit,
            ..AuditQuery::default()
        };
        Ok(self.audit_log(&query).await?.into_iter().map(|r| r.entry).collect())
    }

    /// The audit entries that match every filter of `q`, newest first, at most `q.limit`.
    pub async fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = String::from(
            "SELECT l.id, l.at, l.account, l.role, l.action, l.case_id, l.detail, l.office FROM audit_log l",
        );
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if q.within.is_some() {
            sql += " JOIN cases c ON c.id = l.case_id";
            conditions.push(format!("c.unit LIKE {}", next()));
        }
        if q.case.is_some() {
            conditions.push(format!("l.case_id = {}", next()));
        }
        if q.account.is_some() {
            conditions.push(format!("l.account = {}", next()));
        }
        if q.since.is_some() {
            conditions.push(format!("l.at >= {}", next()));
        }
        if !conditions.is_empty() {
            sql += " WHERE ";
            sql += &conditions.join(" AND ");
        }
        sql += &format!(" ORDER BY l.id DESC LIMIT {}", next());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(scope) = &q.within {
            // Unit codes are digits, so the prefix needs no escaping.
            query = query.bind(format!("{scope}%"));
        }
        if let Some(case) = q.case {
            query = query.bind(case);
        }
        if let Some(account) = &q.account {
            query = query.bind(account.clone());
        }
        if let Some(since) = q.since {
            query = query.bind(since);
        }
        let rows = query.bind(q.limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    id: row.try_get("id")?,
                    entry: AuditEntry {
                        at: row.try_get("at")?,
                        account: row.try_get("account")?,
                        role: row.try_get("role")?,
                        action: row.try_get("action")?,
                        case_id: row.try_get("case_id")?,
                        detail: row.try_get("detail")?,
                    },
                    office: row.try_get("office")?,
                })
            })
            .collect()
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
        let row: Option<AccessColumns> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCESS_COLUMNS} FROM case_access WHERE case_id = $1"
        )))
        .bind(case)
        .fetch_optional(&self.pool)
        .await?;
        row.map_or_else(|| Ok(CaseAccessRow::default()), |row| access_row(case, row))
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
            placeholders(backend_of(tx), chunk.len(), 6)
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
