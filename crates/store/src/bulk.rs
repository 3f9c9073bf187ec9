//! Loading a whole region's cases at once (the demo's simulated year): the store's own append path — the rules
//! checked on every log, `insert_cases_in` writing cases, reporters and events — in one transaction, with the case
//! tables' secondary indexes dropped for the load and built again, from their own stored definitions, before it
//! commits.
//!
//! Building an index once over sorted keys is far cheaper than updating it at each of a million inserts, and the one
//! transaction keeps the load all or nothing: a failure leaves the cases and indexes as they were.

use domain::CaseId;
use sqlx::{Any, AssertSqlSafe, Transaction};

use crate::cases::{CheckedCase, insert_cases_in};
use crate::guard::RuleBook;
use crate::{Backend, NewCaseRecord, Store, StoreError};

/// The tables a load of cases writes: their secondary indexes are rebuilt after it.
const CASE_TABLES: [&str; 3] = ["cases", "reporters", "case_events"];

/// Cases checked and written per round: bounds the memory of checked copies, not the transaction.
const ROUND: usize = 20_000;

/// A secondary index as the database itself describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexDefinition {
    pub name: String,
    pub create: String,
}

impl Store {
    /// Replaces every stored case by `records`, in one transaction: the old cases, logs and reporters are deleted,
    /// the secondary indexes of the case tables dropped, each log checked against [`domain::rules`] and written
    /// through the same path as [`Store::insert_cases`], and the indexes built again. Returns the ids in input order;
    /// `progress(done, total)` is called after each round of cases. A log the rules refuse is an error naming the
    /// rule and the case's index, and nothing changes.
    pub async fn replace_all_cases(
        &self,
        records: &[NewCaseRecord],
        rules: &impl RuleBook,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<CaseId>, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in ["case_events", "reporters", "case_access", "cases", "clock_versions"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await?;
        }
        let indexes = secondary_indexes(&mut tx, self.backend).await?;
        for index in &indexes {
            sqlx::query(AssertSqlSafe(format!("DROP INDEX {}", index.name)))
                .execute(&mut *tx)
                .await?;
        }
        let mut ids = Vec::with_capacity(records.len());
        for (round, chunk) in records.chunks(ROUND).enumerate() {
            let checked = chunk
                .iter()
                .enumerate()
                .map(|(i, c)| CheckedCase::new(c.clone(), round * ROUND + i, None, rules.calendar()))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<&CheckedCase> = checked.iter().collect();
            ids.extend(insert_cases_in(&mut tx, &refs).await?);
            progress(ids.len(), records.len());
        }
        for index in &indexes {
            sqlx::query(AssertSqlSafe(index.create.clone()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }
}

/// The secondary indexes of the case tables (not those that back a primary key or a unique constraint), as the
/// statements that create them.
pub(crate) async fn secondary_indexes(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
) -> Result<Vec<IndexDefinition>, StoreError> {
    let tables = CASE_TABLES.map(|t| format!("'{t}'")).join(", ");
    let sql = match backend {
        // Automatic indexes (primary keys, UNIQUE) have no SQL in sqlite_master.
        Backend::Sqlite => format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables}) \
             ORDER BY name"
        ),
        Backend::Postgres => format!(
            "SELECT i.indexname::text, i.indexdef::text FROM pg_indexes i WHERE i.schemaname = current_schema() \
             AND i.tablename IN ({tables}) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) \
             ORDER BY i.indexname"
        ),
    };
    let rows: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    Ok(rows
        .into_iter()
        .map(|(name, create)| IndexDefinition { name, create })
        .collect())
}
