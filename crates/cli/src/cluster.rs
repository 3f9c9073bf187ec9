//! `grassroots cluster init --coordinator URL --worker URL…`: sets up a Citus cluster for grassroots (the extension on
//! every node, the workers registered, the schema migrated and distributed) over `store::cluster`.

use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum ClusterCommand {
    /// Set up the coordinator's database with its workers: extension, nodes, migrations, distribution. Idempotent.
    Init(InitArgs),
}

#[derive(Args)]
pub struct InitArgs {
    /// The coordinator's database, e.g. postgres://app@10.0.0.1:5432/grassroots.
    #[arg(long)]
    coordinator: String,
    /// A worker's database of the same name, at the host and port the coordinator reaches it by; repeat per worker.
    #[arg(long = "worker", required = true)]
    workers: Vec<String>,
    /// Shards per distributed table (Citus's default is 32; docs/scale.md gives the rule). Only takes effect on a
    /// database not distributed yet.
    #[arg(long)]
    shards: Option<u32>,
}

pub async fn run(command: &ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Init(args) => {
            let report = store::cluster::init(&args.coordinator, &args.workers, args.shards).await?;
            println!("cluster at {}", args.coordinator);
            for (node, shards) in &report.workers {
                println!("  worker {node}: {shards} shards");
            }
            println!("  distributed by case id: {}", report.distributed.join(", "));
            println!("  reference tables: {}", report.reference.join(", "));
            Ok(())
        }
    }
}
