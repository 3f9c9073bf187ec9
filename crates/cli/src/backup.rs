//! `grassroots backup --to FILE` and `grassroots restore --from FILE`: a consistent copy of the database taken while
//! it serves, and its restoration into a new database (the global `--db`), with the counts to check it by.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use store::Store;

#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write; it must not exist (SQLite: a database file; PostgreSQL: a pg_dump archive).
    #[arg(long)]
    to: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `grassroots backup`; it is restored into `--db`, which must be a new SQLite file or an empty
    /// PostgreSQL database.
    #[arg(long)]
    from: PathBuf,
}

pub async fn backup(db: &str, args: &BackupArgs) -> anyhow::Result<()> {
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    let report = store.backup_to(&args.to).await?;
    println!(
        "backed up {db} to {}: {} cases, {} events, {} bytes",
        args.to.display(),
        report.cases,
        report.events,
        report.bytes
    );
    Ok(())
}

pub async fn restore(db: &str, args: &RestoreArgs) -> anyhow::Result<()> {
    let (_store, report) = store::restore(&args.from, db).await?;
    println!(
        "restored {} into {db}: {} cases, {} events",
        args.from.display(),
        report.cases,
        report.events
    );
    Ok(())
}
