//! `grassroots pilot …`: file a pilot, show its fault-tolerance record, move it through its lifecycle, evaluate it
//! from the case store, and copy a proven practice into more units.

use anyhow::Context;
use app::governance::{act, adopt, assess_pilot, evaluate_pilot, file_pilot, fmt_date, parse_date, pilot_record};
use clap::Subcommand;
use domain::UnitCode;
use domain::calendar::Calendar;
use domain::pilot::PilotAction;
use store::Store;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum PilotCommand {
    /// File a pilot (a TOML file, see docs/policy.md) with the level above its owner.
    File { file: std::path::PathBuf },
    /// List pilots and their states.
    List,
    /// The fault-tolerance record: who filed what, when, within which guardrails, and every step since.
    Record { id: String },
    /// A lifecycle step: start, continue, expand, revise, abandon or codify.
    Act {
        id: String,
        action: String,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Estimate the pilot's effects from the case store and give the verdict with its reasons. Reads only, unless
    /// `--record` records the evaluation as a step of the pilot's lifecycle (it becomes `evaluated`).
    Evaluate {
        id: String,
        #[arg(long)]
        json: bool,
        /// Record the evaluation in the pilot's lifecycle, by `--actor`.
        #[arg(long)]
        record: bool,
        #[arg(long, default_value = "cli", requires = "record")]
        actor: String,
    },
    /// Practices others are urged to learn from: pilots expanded, codified or last evaluated "expand", with their
    /// evidence.
    Practices {
        #[arg(long)]
        json: bool,
    },
    /// Copy an expanded practice into more units from a date (a new cohort).
    Adopt {
        id: String,
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        #[arg(long)]
        from: String,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
}

pub async fn run(db: &str, cmd: &PilotCommand, calendar: &Calendar) -> anyhow::Result<()> {
    let store = Store::connect(db).await?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        PilotCommand::File { file } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let (id, filing) = file_pilot(&store, &file.display().to_string(), &text, now).await?;
            println!("pilot {id} filed");
            print!("{filing}");
        }
        PilotCommand::List => {
            for p in store.pilots().await? {
                println!("{:>4}  {:<30} {:<12} {}", p.id, p.name, p.owner, p.state);
            }
        }
        PilotCommand::Practices { json } => {
            let list = app::governance::practices(&store).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no practice has been shown to work yet (none expanded, codified or evaluated \"expand\")");
            } else {
                for p in &list {
                    println!(
                        "{} (pilot {}, {}, {} units, owner {})",
                        p.name, p.id, p.state, p.units, p.owner
                    );
                    println!("  hypothesis: {}", p.hypothesis);
                    println!("  evidence: {}", p.evidence);
                }
            }
        }
        PilotCommand::Record { id } => {
            let (stored, filings, events) = pilot_record(&store, id).await?;
            println!("pilot {} ({}) is {}", stored.row.id, stored.pilot.name, stored.state);
            for f in filings {
                print!("{f}");
            }
            println!("  steps:");
            for e in events {
                // The local day of the step, an ISO date like every date printed.
                let at = OffsetDateTime::from_unix_timestamp(e.at)
                    .map(|t| fmt_date(calendar.local_date(t)))
                    .unwrap_or_default();
                println!("    {at} {} by {} {}", e.action, e.actor, e.detail);
            }
        }
        PilotCommand::Act { id, action, actor } => {
            let action = PilotAction::parse(action).with_context(|| {
                format!("unknown action {action:?} (start, continue, expand, revise, abandon, codify)")
            })?;
            let state = act(&store, id, action, actor, now).await?;
            println!("pilot {id} is now {state}");
        }
        PilotCommand::Evaluate {
            id,
            json,
            record,
            actor,
        } => {
            let e = if *record {
                evaluate_pilot(&store, id, actor, now).await?
            } else {
                assess_pilot(&store, id, now).await?
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!(
                    "pilot {}: {} units in the panel ({} adopting), {} months",
                    e.pilot, e.units_in_panel, e.adopters_in_panel, e.months
                );
                for o in &e.effects {
                    let f = &o.effect;
                    println!(
                        "  {:<22} ATT {:>9.3}  SE {:>7.3}  95% CI [{:.3}, {:.3}]",
                        o.outcome.as_str(),
                        f.att,
                        f.se,
                        f.ci_low,
                        f.ci_high
                    );
                }
                print!("{}", e.verdict);
                for w in e.site_selection.warnings.iter().chain(&e.warnings) {
                    println!("  warning: {w}");
                }
                if *record {
                    println!("recorded: pilot {id} is evaluated");
                } else {
                    println!("(not recorded; add --record to record this evaluation in the pilot's lifecycle)");
                }
            }
        }
        PilotCommand::Adopt { id, units, from, actor } => {
            let units = units
                .iter()
                .map(|u| UnitCode::parse(u))
                .collect::<Result<Vec<_>, _>>()?;
            anyhow::ensure!(!units.is_empty(), "--units: name at least one unit");
            adopt(&store, id, units, parse_date(from)?, actor, now).await?;
            println!("pilot {id}: adoption recorded");
        }
    }
    Ok(())
}
