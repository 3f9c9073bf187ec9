//! `grassroots compact …`: self-governance compacts of villages and communities; for now the coverage report.

use clap::Subcommand;
use domain::UnitCode;
use store::Store;
use time::OffsetDateTime;

#[derive(Debug, Subcommand)]
pub enum CompactCommand {
    /// The share of villages and communities with a compact in force, by county and township, and each one's age.
    Coverage {
        /// Limit the report to this unit's subtree.
        #[arg(long)]
        unit: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(db: &str, cmd: &CompactCommand) -> anyhow::Result<()> {
    let store = Store::connect(db).await?;
    match cmd {
        CompactCommand::Coverage { unit, json } => {
            let root = unit.as_deref().map(UnitCode::parse).transpose()?;
            let report = app::participation::compact_coverage(&store, root.as_ref(), OffsetDateTime::now_utc()).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            println!(
                "{} of {} villages and communities have a compact in force ({:.1}%)",
                report.with_compact,
                report.villages,
                report.share * 100.0
            );
            for county in &report.counties {
                println!(
                    "{} {}: {}/{} ({:.1}%)",
                    county.unit,
                    county.name,
                    county.with_compact,
                    county.villages,
                    county.share * 100.0
                );
                for township in &county.townships {
                    println!(
                        "  {} {}: {}/{} ({:.1}%)",
                        township.unit,
                        township.name,
                        township.with_compact,
                        township.villages,
                        township.share * 100.0
                    );
                    for compact in &township.compacts {
                        println!(
                            "    {} {}: version {}, {} days old",
                            compact.unit, compact.name, compact.version, compact.age_days
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
