//! Setting up a Citus cluster for grassroots: the extension on every node, the workers registered with the
//! coordinator, the schema migrated and distributed (`grassroots cluster init`), and a new database made on every node
//! of a running cluster (Citus does not propagate `CREATE DATABASE`).
//!
//! The distribution itself is SQL, in migration 0090 (`grassroots_distribute()`), so that plain PostgreSQL and Citus
//! run the same migrations; this module only prepares the nodes and calls it.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{AnyConnection, AssertSqlSafe, Connection};

use crate::{Backend, Store, StoreError};

/// What `init` set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterReport {
    /// Every worker as `host:port` with the number of shards placed on it.
    pub workers: Vec<(String, i64)>,
    /// The tables distributed by case id.
    pub distributed: Vec<String>,
    /// The tables with a copy on every node.
    pub reference: Vec<String>,
}

/// The `host:port` of a PostgreSQL URL, as the coordinator will use it to reach that node.
fn node_of(url: &str) -> Result<(String, u16), StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Connect(url.to_string(), e))?;
    Ok((options.get_host().to_string(), options.get_port()))
}

async fn connect(url: &str) -> Result<AnyConnection, StoreError> {
    sqlx::any::install_default_drivers();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::BadUrl(url.to_string()));
    }
    AnyConnection::connect(url)
        .await
        .map_err(|e| StoreError::Connect(url.to_string(), e))
}

async fn create_extension(url: &str) -> Result<(), StoreError> {
    let mut conn = connect(url).await?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS citus")
        .execute(&mut conn)
        .await
        .map_err(|e| citus_missing(url, e))?;
    conn.close().await?;
    Ok(())
}

fn citus_missing(url: &str, e: sqlx::Error) -> StoreError {
    StoreError::Cluster(format!(
        "{url}: cannot create the citus extension ({e}); the server needs citus built and in shared_preload_libraries"
    ))
}

/// Sets up the database of `coordinator` as the coordinator of a Citus cluster whose workers are the databases of
/// `workers` (same database name on each, reachable from the coordinator at the host and port of their URLs): the
/// extension on every node, the workers registered, `shards` shards per distributed table if given (Citus's default,
/// 32, otherwise; see docs/scale.md), the schema migrated and distributed. Running it again changes nothing.
pub async fn init(coordinator: &str, workers: &[String], shards: Option<u32>) -> Result<ClusterReport, StoreError> {
    if workers.is_empty() {
        return Err(StoreError::Cluster("a cluster needs at least one worker".into()));
    }
    for worker in workers {
        create_extension(worker).await?;
    }
    create_extension(coordinator).await?;
    let mut conn = connect(coordinator).await?;
    let (host, port) = node_of(coordinator)?;
    sqlx::query("SELECT citus_set_coordinator_host($1, $2)")
        .bind(host)
        .bind(i32::from(port))
        .execute(&mut conn)
        .await?;
    for worker in workers {
        let (host, port) = node_of(worker)?;
        sqlx::query("SELECT citus_add_node($1, $2)")
            .bind(host.clone())
            .bind(i32::from(port))
            .execute(&mut conn)
            .await
            .map_err(|e| StoreError::Cluster(format!("cannot add the worker {host}:{port} ({worker}): {e}")))?;
    }
    if let Some(shards) = shards {
        if shards == 0 {
            return Err(StoreError::Cluster("--shards must be at least 1".into()));
        }
        // Set on the database, so that the migrations' connections (opened next) distribute with it.
        let (db,): (String,) = sqlx::query_as("SELECT current_database()::text")
            .fetch_one(&mut conn)
            .await?;
        let sql = format!(
            "ALTER DATABASE \"{}\" SET citus.shard_count = {shards}",
            db.replace('"', "\"\"")
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await?;
    }
    conn.close().await?;
    let store = Store::connect(coordinator).await?;
    if store.backend() != Backend::Postgres {
        return Err(StoreError::BadUrl(coordinator.to_string()));
    }
    // The migrations distribute a new database; one migrated before the extension existed is distributed here.
    sqlx::query("SELECT grassroots_distribute()")
        .execute(store.pool())
        .await?;
    let report = report(&store).await;
    store.close().await;
    report
}

async fn report(store: &Store) -> Result<ClusterReport, StoreError> {
    let workers: Vec<(String, i32, i64)> = sqlx::query_as(
        "SELECT n.nodename, n.nodeport, \
         (SELECT count(*) FROM pg_dist_placement p JOIN pg_dist_shard s ON s.shardid = p.shardid \
          JOIN pg_dist_partition t ON t.logicalrelid = s.logicalrelid \
          WHERE p.groupid = n.groupid AND t.partmethod = 'h') \
         FROM pg_dist_node n WHERE n.groupid <> 0 AND n.noderole = 'primary' ORDER BY n.nodename, n.nodeport",
    )
    .fetch_all(store.pool())
    .await?;
    let tables = |method: &'static str| async move {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT logicalrelid::regclass::text FROM pg_dist_partition WHERE partmethod = $1 ORDER BY 1",
        )
        .bind(method)
        .fetch_all(store.pool())
        .await?;
        Ok::<_, StoreError>(rows.into_iter().map(|r| r.0).collect::<Vec<_>>())
    };
    Ok(ClusterReport {
        workers: workers
            .into_iter()
            .map(|(host, port, shards)| (format!("{host}:{port}"), shards))
            .collect(),
        distributed: tables("h").await?,
        reference: tables("n").await?,
    })
}

/// Creates the database `name` on the coordinator that `admin` (a URL of another database on it) points to and on
/// every worker registered there, then sets it up as a cluster of the same nodes ([`init`]) with `shards` shards per
/// table; returns the new database's URL on the coordinator. For tests and for a second deployment on one cluster.
pub async fn create_database(admin: &str, name: &str, shards: Option<u32>) -> Result<String, StoreError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Cluster(format!(
            "database name {name:?}: letters, digits and _ only"
        )));
    }
    let mut conn = connect(admin).await?;
    let nodes: Vec<(String, i32)> = sqlx::query_as(
        "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeid",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| StoreError::Cluster(format!("{admin} is not the coordinator of a Citus cluster: {e}")))?;
    conn.close().await?;
    if nodes.is_empty() {
        return Err(StoreError::Cluster(format!("{admin}: the coordinator has no workers")));
    }
    let (base, _) = admin
        .rsplit_once('/')
        .ok_or_else(|| StoreError::BadUrl(admin.to_string()))?;
    let user = PgConnectOptions::from_str(admin)
        .map_err(|e| StoreError::Connect(admin.to_string(), e))?
        .get_username()
        .to_string();
    let worker_admins: Vec<String> = nodes
        .iter()
        .map(|(host, port)| format!("postgres://{user}@{host}:{port}/postgres"))
        .collect();
    for url in std::iter::once(admin.to_string()).chain(worker_admins.iter().cloned()) {
        let mut conn = connect(&url).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .map_err(|e| StoreError::Cluster(format!("creating database {name} on {url}: {e}")))?;
        conn.close().await?;
    }
    let coordinator = format!("{base}/{name}");
    let workers: Vec<String> = nodes
        .iter()
        .map(|(host, port)| format!("postgres://{user}@{host}:{port}/{name}"))
        .collect();
    init(&coordinator, &workers, shards).await?;
    Ok(coordinator)
}
