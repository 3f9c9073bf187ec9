//! The `grassroots` command-line binary: one entry point with subcommands for every job.
//!
//! Conventions: a global `--db URL` (`sqlite://PATH` by default, or `postgres://…`) and `--calendar FILE` (the holiday
//! calendar every clock and every local "today" is computed on), `--json` wherever output is tabular, ISO dates
//! (`2026-12-15`) in the calendar's time zone, progress bars on long jobs, and on failure a one-line error on stderr
//! with a non-zero exit code.

use anyhow::Context;
use clap::{Parser, Subcommand};
use domain::calendar::Calendar;

mod backup;
mod barometer;
mod case;
mod cluster;
mod compact;
mod demo;
mod evaluate;
mod grids;
mod inspection;
mod pilot;
mod policy;
mod progress;
mod serve;
mod sim;
mod staffing;
mod territory;
mod user;
mod workflow;

#[derive(Parser)]
#[command(
    name = "grassroots",
    version,
    about = "Governance from below: cases, clocks, local trials and their evidence"
)]
struct Cli {
    /// Database URL: sqlite://PATH or postgres://… [default: sqlite://grassroots.db; the demo uses
    /// sqlite://grassroots-demo.db]
    #[arg(long, global = true, env = "GRASSROOTS_DB")]
    db: Option<String>,
    /// Holiday calendar file (TOML: holidays, workdays, covers, utc_offset; see docs/policy.md) [default: China's
    /// official 2025 and 2026 calendar, shipped]
    #[arg(long, global = true, env = "GRASSROOTS_CALENDAR")]
    calendar: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load Huzhou, simulate its cases and print a summary per county.
    Demo(demo::DemoArgs),
    /// Administrative units, grids and boundaries.
    #[command(subcommand)]
    Territory(territory::TerritoryCommand),
    /// Staggered difference-in-differences on a CSV panel (Callaway & Sant'Anna, as R's `did`).
    Evaluate(evaluate::EvaluateArgs),
    /// Policy layers: show, set, explain, diff, check.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Self-governance compacts of villages and communities (coverage).
    #[command(subcommand)]
    Compact(compact::CompactCommand),
    /// Pilots: file, record, act, evaluate, adopt.
    #[command(subcommand)]
    Pilot(pilot::PilotCommand),
    /// Simulation: `sim calibrate --reps N` checks pilot evaluation against pilots of known effect.
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Serve the REST API, its OpenAPI document and docs, and Open311 over the store.
    Serve(serve::ServeArgs),
    /// Accounts: add, set, disable, enable, list.
    #[command(subcommand)]
    User(user::UserCommand),
    /// API keys for Open311 and machine clients.
    #[command(subcommand)]
    Apikey(user::ApiKeyCommand),
    /// The audit log of staff reads of personal data: `audit [--case ID] [--account NAME] [--since DATE] [--json]`.
    Audit(user::AuditArgs),
    /// Run the escalation guard once: record due warning and overdue alerts, list call-backs and risky cases.
    Tick(workflow::TickArgs),
    /// Monthly reports: `report rates --month YYYY-MM [--level township|county|department] [--csv|--json]`.
    #[command(subcommand)]
    Report(workflow::ReportCommand),
    /// A staff workbench: list, show and act on cases as an account (`--as NAME`), under the same rules as the API.
    #[command(subcommand)]
    Case(case::CaseCommand),
    /// Copy the whole database, consistently, while it serves: `backup --to FILE`.
    Backup(backup::BackupArgs),
    /// Restore a backup into a new database (`--db`): `restore --from FILE`.
    Restore(backup::RestoreArgs),
    /// Staffing: `staffing match --people FILE --posts FILE [--max-km 50] [--json]` places people in posts exactly.
    #[command(subcommand)]
    Staffing(staffing::StaffingCommand),
    /// Grids: `grids design --unit CODE [--grids N] [--json]` proposes grids of balanced workload beside today's.
    #[command(subcommand)]
    Grids(grids::GridsCommand),
    /// Peer inspection: `inspection draw --as ACCOUNT --unit CODE --month YYYY-MM [--seed N]` draws each township's
    /// inspectors from adjoining townships and a sample of its closed cases; `inspection report` tallies findings.
    #[command(subcommand)]
    Inspection(inspection::InspectionCommand),
    /// A Citus cluster: `cluster init --coordinator URL --worker URL… [--shards N]` (docs/scale.md).
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// The barometer: `barometer evaluate --data FILE.tsv [--folds 5] [--seed 0] [--json]` scores the text classifier.
    #[command(subcommand)]
    Barometer(barometer::BarometerCommand),
}

const DEFAULT_DB: &str = "sqlite://grassroots.db";

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GRASSROOTS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = load_calendar(cli.calendar.as_deref()).and_then(|calendar| run(&cli, &calendar));
    if let Err(err) = result {
        // A reader that stopped early (`grassroots report rates --csv | head`) is not an error.
        let closed_pipe = err
            .chain()
            .filter_map(|e| e.downcast_ref::<std::io::Error>())
            .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
        if closed_pipe {
            return;
        }
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// The calendar of `--calendar FILE`, else China's shipped one.
fn load_calendar(path: Option<&std::path::Path>) -> anyhow::Result<Calendar> {
    let Some(path) = path else {
        return Ok(Calendar::china());
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading --calendar {}", path.display()))?;
    Ok(Calendar::load(&path.display().to_string(), &text)?)
}

fn run(cli: &Cli, calendar: &Calendar) -> anyhow::Result<()> {
    match &cli.command {
        Command::Evaluate(args) => evaluate::run(args),
        Command::Sim(cmd) => sim::run(cmd),
        Command::Staffing(cmd) => staffing::run(cmd),
        Command::Barometer(cmd) => barometer::run(cmd),
        Command::Demo(args) => runtime().and_then(|rt| rt.block_on(demo::run(cli.db.as_deref(), args))),
        Command::Territory(cmd) => runtime().and_then(|rt| rt.block_on(territory::run(db_url(&cli.db), cmd))),
        Command::Serve(args) => runtime().and_then(|rt| rt.block_on(serve::serve(db_url(&cli.db), args, calendar))),
        Command::User(cmd) => runtime().and_then(|rt| rt.block_on(user::user(db_url(&cli.db), cmd))),
        Command::Apikey(cmd) => runtime().and_then(|rt| rt.block_on(user::apikey(db_url(&cli.db), cmd))),
        Command::Audit(args) => runtime().and_then(|rt| rt.block_on(user::audit(db_url(&cli.db), args))),
        Command::Compact(cmd) => runtime().and_then(|rt| rt.block_on(compact::run(db_url(&cli.db), cmd))),
        Command::Policy(cmd) => runtime().and_then(|rt| rt.block_on(policy::run(db_url(&cli.db), cmd, calendar))),
        Command::Pilot(cmd) => runtime().and_then(|rt| rt.block_on(pilot::run(db_url(&cli.db), cmd, calendar))),
        Command::Tick(args) => runtime().and_then(|rt| rt.block_on(workflow::tick(db_url(&cli.db), args, calendar))),
        Command::Report(cmd) => runtime().and_then(|rt| rt.block_on(workflow::report(db_url(&cli.db), cmd, calendar))),
        Command::Grids(cmd) => runtime().and_then(|rt| rt.block_on(grids::run(db_url(&cli.db), cmd))),
        Command::Inspection(cmd) => {
            runtime().and_then(|rt| rt.block_on(inspection::run(db_url(&cli.db), cmd, calendar)))
        }
        Command::Case(cmd) => runtime().and_then(|rt| rt.block_on(case::run(db_url(&cli.db), cmd, calendar))),
        Command::Cluster(command) => runtime().and_then(|rt| rt.block_on(cluster::run(command))),
        Command::Backup(args) => runtime().and_then(|rt| rt.block_on(backup::backup(db_url(&cli.db), args))),
        Command::Restore(args) => runtime().and_then(|rt| rt.block_on(backup::restore(db_url(&cli.db), args))),
    }
}

fn db_url(db: &Option<String>) -> &str {
    db.as_deref().unwrap_or(DEFAULT_DB)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
