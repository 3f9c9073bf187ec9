//! The `grassroots` command-line binary: one entry point with subcommands for every job.

use clap::{Parser, Subcommand};

mod evaluate;
mod workflow;

#[derive(Parser)]
#[command(
    name = "grassroots",
    version,
    about = "Governance from below: cases, clocks, local trials and their evidence"
)]
struct Cli {
    /// Database URL: sqlite://PATH (default) or postgres://…
    #[arg(
        long,
        global = true,
        env = "GRASSROOTS_DB",
        default_value = "sqlite://grassroots.db"
    )]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Staggered difference-in-differences on a CSV panel (Callaway & Sant'Anna, as R's `did`).
    Evaluate(evaluate::EvaluateArgs),
    /// Run the escalation guard once: record due warning and overdue alerts, list call-backs and risky cases.
    Tick(workflow::TickArgs),
    /// Monthly reports.
    #[command(subcommand)]
    Report(workflow::ReportCommand),
}

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Evaluate(args) => evaluate::run(args),
        Command::Tick(args) => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(workflow::tick(&cli.db, args))),
        Command::Report(cmd) => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(workflow::report(&cli.db, cmd))),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
