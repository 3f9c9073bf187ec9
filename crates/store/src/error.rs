//! The store's error type.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, #[source] sqlx::Error),
    #[error("database error: {0}")]
    Sql(#[source] sqlx::Error),
    /// A node of a Citus cluster that holds the data asked for could not be reached (a worker down or restarting);
    /// the data on other nodes is still served. `node` is its `host:port`.
    #[error("the database node {node} holding this data is unavailable; retry when it is back")]
    NodeUnavailable {
        node: String,
        #[source]
        source: sqlx::Error,
    },
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
    /// A Citus cluster that cannot be set up as asked: names the node and why.
    #[error("{0}")]
    Cluster(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    /// Recognises Citus's "connection to the remote node USER@HOST:PORT failed" (SQLSTATE 08006, raised by the
    /// coordinator for a shard whose worker it cannot reach) as [`StoreError::NodeUnavailable`].
    fn from(e: sqlx::Error) -> StoreError {
        match unreachable_node(&e) {
            Some(node) => StoreError::NodeUnavailable { node, source: e },
            None => StoreError::Sql(e),
        }
    }
}

fn unreachable_node(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error()?;
    let rest = db.message().strip_prefix("connection to the remote node ")?;
    let (node, _) = rest.split_once(" failed")?;
    // Citus names the node as USER@HOST:PORT; the user is no part of where the data lives.
    Some(node.rsplit_once('@').map_or(node, |(_, host)| host).to_string())
}
