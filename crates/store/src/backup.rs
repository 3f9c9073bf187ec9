//! Backups you can restore: a consistent copy of the whole database taken while it serves, and its restoration into
//! an empty database. SQLite's `VACUUM INTO` writes one transaction's snapshot to a new file; PostgreSQL's `pg_dump`
//! (custom format) does the same, and `pg_restore` loads it. A backup never overwrites a file, a restore never
//! touches a database that already holds grassroots data, and either failure leaves nothing half-written behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::Connection;

use crate::{Backend, Store, StoreError};

/// What a backup holds, to print and to check a restore against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    pub cases: i64,
    pub events: i64,
    pub bytes: u64,
}

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

impl Store {
    /// Writes a consistent copy of the whole database to `to`, which must not exist yet.
    pub async fn backup_to(&self, to: &Path) -> Result<BackupReport, StoreError> {
        if to.exists() {
            return Err(StoreError::Backup(format!(
                "{}: exists; a backup never overwrites a file",
                to.display()
            )));
        }
        if self.is_citus().await? {
            // The coordinator holds only the catalogue of a distributed table; its rows are in shards on the workers,
            // and a pg_dump of the coordinator restores into nothing but a cluster of the same shape.
            return Err(StoreError::Backup(format!(
                "{}: not written; this database is a Citus cluster, backed up node by node as docs/scale.md says",
                to.display()
            )));
        }
        let (cases, events) = self.counts().await?;
        let written = match self.backend {
            Backend::Sqlite => {
                let path = to
                    .to_str()
                    .ok_or_else(|| StoreError::Backup(format!("{}: not a UTF-8 path", to.display())))?;
                sqlx::query("VACUUM INTO $1")
                    .bind(path.to_string())
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| StoreError::Backup(format!("{}: {e}", to.display())))
            }
            Backend::Postgres => {
                let url = self.url.clone();
                let target = to.to_path_buf();
                run_tool("pg_dump", move |tool| {
                    Command::new(tool)
                        .args(["--format=custom", "--no-owner", "--file"])
                        .arg(&target)
                        .arg(&url)
                        .output()
                })
                .await
            }
        };
        if let Err(e) = written {
            // Nothing half-written stays behind to be mistaken for a backup.
            let _ = std::fs::remove_file(to);
            return Err(e);
        }
        let bytes = std::fs::metadata(to)
            .map_err(|e| StoreError::Backup(format!("{}: {e}", to.display())))?
            .len();
        Ok(BackupReport { cases, events, bytes })
    }

    async fn counts(&self) -> Result<(i64, i64), StoreError> {
        let (cases,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
            .fetch_one(&self.pool)
            .await?;
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM case_events")
            .fetch_one(&self.pool)
            .await?;
        Ok((cases, events))
    }
}

/// Restores the backup `from` into the database at `url` (`sqlite://PATH` whose file does not exist yet, or an empty
/// PostgreSQL database) and opens it. A SQLite backup restores into SQLite and a `pg_dump` into PostgreSQL.
pub async fn restore(from: &Path, url: &str) -> Result<(Store, BackupReport), StoreError> {
    let bad = |why: String| StoreError::Backup(format!("{}: {why}", from.display()));
    let head = read_head(from).map_err(|e| bad(e.to_string()))?;
    if let Some(path) = url.strip_prefix("sqlite://") {
        if !head.starts_with(SQLITE_MAGIC) {
            return Err(bad(format!("not a SQLite backup, so it cannot be restored into {url}")));
        }
        let path = PathBuf::from(path.split('?').next().unwrap_or(path));
        if path.exists() {
            return Err(StoreError::Backup(format!(
                "{}: exists; restore into a new file",
                path.display()
            )));
        }
        std::fs::copy(from, &path).map_err(|e| bad(format!("copying to {}: {e}", path.display())))?;
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        if !head.starts_with(PG_DUMP_MAGIC) {
            return Err(bad(format!(
                "not a pg_dump backup, so it cannot be restored into {url}"
            )));
        }
        refuse_a_used_database(url).await?;
        let (file, target) = (from.to_path_buf(), url.to_string());
        run_tool("pg_restore", move |tool| {
            Command::new(tool)
                .args(["--no-owner", "--exit-on-error", "--single-transaction", "--dbname"])
                .arg(&target)
                .arg(&file)
                .output()
        })
        .await?;
    } else {
        return Err(StoreError::BadUrl(url.to_string()));
    }
    let store = Store::connect(url).await?;
    let (cases, events) = store.counts().await?;
    let bytes = std::fs::metadata(from).map(|m| m.len()).unwrap_or(0);
    Ok((store, BackupReport { cases, events, bytes }))
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = vec![0; SQLITE_MAGIC.len()];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    head.truncate(n);
    Ok(head)
}

/// A restore into a database that already has grassroots tables would mix two histories: refused.
async fn refuse_a_used_database(url: &str) -> Result<(), StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| StoreError::Connect(url.to_string(), e))?;
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'cases'",
    )
    .fetch_one(&mut conn)
    .await?;
    if tables > 0 {
        return Err(StoreError::Backup(format!(
            "{url}: already holds grassroots data; restore into an empty database"
        )));
    }
    Ok(())
}

/// Runs a PostgreSQL client tool (from PATH, else Debian's newest `/usr/lib/postgresql/*/bin`) off the async
/// runtime; its stderr becomes the error.
async fn run_tool(
    name: &'static str,
    run: impl FnOnce(&Path) -> std::io::Result<std::process::Output> + Send + 'static,
) -> Result<(), StoreError> {
    let output = tokio::task::spawn_blocking(move || run(&postgres_tool(name)))
        .await
        .map_err(|e| StoreError::Backup(format!("{name}: {e}")))?
        .map_err(|e| {
            StoreError::Backup(format!(
                "{name}: cannot run it ({e}); install PostgreSQL's client tools"
            ))
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(StoreError::Backup(format!(
            "{name} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

fn postgres_tool(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    on_path.unwrap_or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| p.is_file())
            .collect();
        versions.sort_by_key(|p| {
            p.components()
                .nth(4)
                .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.pop().unwrap_or_else(|| PathBuf::from(name))
    })
}
