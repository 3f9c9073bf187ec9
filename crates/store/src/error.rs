//! The store's error type.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, #[source] sqlx::Error),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("case {0} does not exist")]
    NoSuchCase(i64),
    #[error("case {case} was changed by someone else (expected event {expected}); reload and retry")]
    Conflict { case: i64, expected: i64 },
    /// An event `domain::rules` forbids (named with its rule and article); nothing was written.
    #[error(transparent)]
    Rule(#[from] domain::rules::RuleError),
    /// A backup or restore that cannot be made: names the file or database and why; nothing was overwritten.
    #[error("{0}")]
    Backup(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
