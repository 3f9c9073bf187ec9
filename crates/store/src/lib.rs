//! Storage for grassroots: SQLite (default, WAL) and PostgreSQL through one code path (sqlx's `Any` driver), with
//! numbered migrations for each dialect.
//!
//! Times are stored as epoch seconds (the `Any` driver carries only integers, floats, text and blobs). Every write
//! method runs in one transaction and returns only after it commits. The event log is the truth about a case; the
//! `cases` row holds a projection of it (state, office, times) that is updated in the same transaction as each append.
//!
//! PostgreSQL may be a Citus cluster: the same migrations distribute the case tables there ([`cluster`]).

mod accounts;
mod backup;
mod bulk;
mod cadre;
mod cases;
pub mod cluster;
mod error;
mod guard;
mod intake;
mod matters;
mod participation;
mod photos;
mod policy;
mod public;
mod shown;
mod signin;
mod territory;
mod workflow;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use accounts::{AccountRow, ApiKeyRow, AuditEntry, AuditQuery, AuditRecord, CaseAccessRow};
pub use backup::{BackupReport, restore};
pub use cadre::{InspectionDrawRow, OverloadAlertRow};
pub use cases::{CaseFilter, CaseRecord, CaseRow, NewCaseRecord};
pub use error::StoreError;
pub use guard::{FixedRules, RuleBook, resident};
pub use participation::{
    CommentRow, CompactChange, CompactRow, ConsultationRow, InvitationRow, OpinionRow, ParticipationEventRow,
};
pub use photos::{NewPhoto, PhotoRow};
pub use policy::{AdoptionRow, FilingRow, PilotEventRow, PilotRow, PolicyEventRow, PolicyVersionRow};
pub use public::{FeedEvent, PublicFilter};
pub use shown::ShownCase;

/// Which database is behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool plus the backend it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The URL it was opened with (a backup of PostgreSQL hands it to `pg_dump`).
    url: String,
    /// SQLite's group-committing writer of new cases (`None` on PostgreSQL, which takes concurrent writers).
    intake: Option<intake::IntakeWriter>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `sqlite://PATH` (creating the file) or `postgres://…` and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let given = url.to_string();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(url.to_string()));
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            (Backend::Sqlite, format!("sqlite://{path}{sep}mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let options = AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Connect(url.clone(), e))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; NORMAL sync is durable in WAL mode across
                        // application crashes, and the busy timeout makes concurrent writers queue instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Connect(url.clone(), e))?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        let intake = (backend == Backend::Sqlite).then(|| intake::IntakeWriter::start(pool.clone()));
        Ok(Store {
            pool,
            backend,
            url: given,
            intake,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the database is (the coordinator of) a Citus cluster.
    pub async fn is_citus(&self) -> Result<bool, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(false);
        }
        let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// `($1, $2, …), (…)` for a multi-row insert of `rows` rows of `cols` columns on PostgreSQL, `(?, ?, …), (…)` on
/// SQLite. SQLite finds a numbered parameter's name by a linear scan of every name in the statement, and sqlx asks for
/// each name once per execution: numbered placeholders made binding a 600-parameter insert quadratic (a quarter of the
/// demo's time went to `sqlite3_bind_parameter_name`). Anonymous ones are bound by position at no cost.
pub(crate) fn placeholders(backend: Backend, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match backend {
                Backend::Sqlite => s.push('?'),
                Backend::Postgres => {
                    s.push('$');
                    s.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        s.push(')');
    }
    s
}

/// The backend a connection (or a transaction on it) talks to.
pub(crate) fn backend_of(conn: &sqlx::AnyConnection) -> Backend {
    if conn.backend_name() == "PostgreSQL" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// Rows per multi-row insert. Small, fixed-size statements are prepared once and then served from the statement
/// cache; very long ones are re-parsed every time and were measured 30× slower on SQLite.
pub(crate) fn batch_rows(cols: usize) -> usize {
    (600 / cols).max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_then_columns_on_postgres() {
        assert_eq!(
            super::placeholders(super::Backend::Postgres, 2, 2),
            "($1, $2), ($3, $4)"
        );
    }

    #[test]
    fn placeholders_are_anonymous_on_sqlite() {
        assert_eq!(super::placeholders(super::Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}
