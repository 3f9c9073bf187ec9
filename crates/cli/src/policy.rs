//! `grassroots policy …`: show, set, explain, diff and check the policy layers of units. "Today" is the local day of
//! the holiday calendar (`--calendar`, UTC+8 by default), as in the REST API, and every date is an ISO date.

use anyhow::Context;
use app::governance::{check_policies, fmt_date, load_book, parse_date, set_policy};
use clap::Subcommand;
use domain::UnitCode;
use domain::calendar::Calendar;
use store::Store;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Print the effective policy of a unit, each value with the unit that set it.
    Show {
        unit: String,
        /// The day to show (YYYY-MM-DD; default today, in the calendar's time zone).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Save FILE as a new version of UNIT's layer, after checking every guardrail in force.
    Set {
        unit: String,
        file: std::path::PathBuf,
        /// Effective date when the file has no `layer.effective_from` (default today, meaning from now). A layer
        /// may not take effect before today.
        #[arg(long)]
        from: Option<String>,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Say which layer set KEY (a key, or a table such as `clocks.petition`) for UNIT, the default it falls back to,
    /// and which guardrails and statutory limit bound it.
    Explain {
        unit: String,
        key: String,
        #[arg(long)]
        at: Option<String>,
    },
    /// What changed in UNIT's effective policy between --since (default: the day before --at) and --at.
    Diff {
        unit: String,
        #[arg(long)]
        at: String,
        #[arg(long)]
        since: Option<String>,
    },
    /// Check every layer under UNIT (or all) against the guardrails; exit code 1 when any is broken.
    Check { unit: Option<String> },
    /// The audit trail of policy changes (saved and rejected).
    History { unit: Option<String> },
}

/// The given ISO date, else today in the calendar's time zone.
fn day(at: &Option<String>, calendar: &Calendar) -> anyhow::Result<time::Date> {
    match at {
        Some(s) => Ok(parse_date(s)?),
        None => Ok(calendar.local_date(OffsetDateTime::now_utc())),
    }
}

pub async fn run(db: &str, cmd: &PolicyCommand, calendar: &Calendar) -> anyhow::Result<()> {
    let store = Store::connect(db).await?;
    match cmd {
        PolicyCommand::Show { unit, at, json } => {
            let unit = UnitCode::parse(unit)?;
            let policy = load_book(&store).await?.effective(&unit, day(at, calendar)?);
            if *json {
                let map: serde_json::Map<String, serde_json::Value> = policy
                    .leaves
                    .iter()
                    .filter_map(|(k, s)| {
                        let last = s.last()?;
                        Some((k.clone(), serde_json::json!({"value": last.value.to_string(), "set_by": last.unit.to_string(), "source": last.source})))
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&map)?);
            } else {
                println!("effective policy of {} on {}", policy.unit, fmt_date(policy.date));
                for (key, setters) in &policy.leaves {
                    if let Some(s) = setters.last() {
                        println!("  {key} = {}    [{}]", s.value, s.unit);
                    }
                }
                println!("guardrails in force: {}", policy.guardrails.len());
                for g in &policy.guardrails {
                    println!("  \"{}\" of {}: {}", g.guardrail.id, g.owner, g.guardrail.describe());
                }
            }
        }
        PolicyCommand::Set {
            unit,
            file,
            from,
            actor,
        } => {
            let unit = UnitCode::parse(unit)?;
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            let fallback = from.as_ref().map(|f| parse_date(f)).transpose()?;
            let source = file.display().to_string();
            let v = set_policy(
                &store,
                calendar,
                &unit,
                &source,
                &text,
                fallback,
                actor,
                OffsetDateTime::now_utc(),
            )
            .await?;
            println!(
                "saved {} as the layer of {} from {}",
                source,
                v.unit,
                fmt_date(v.effective_from)
            );
        }
        PolicyCommand::Explain { unit, key, at } => {
            let unit = UnitCode::parse(unit)?;
            for e in load_book(&store)
                .await?
                .with_calendar(calendar.clone())
                .explain(&unit, key, day(at, calendar)?)?
            {
                print!("{e}");
            }
        }
        PolicyCommand::Diff { unit, at, since } => {
            let unit = UnitCode::parse(unit)?;
            let to = parse_date(at)?;
            let from = match since {
                Some(s) => parse_date(s)?,
                None => to.previous_day().context("--at has no day before it")?,
            };
            let changes = load_book(&store).await?.diff(&unit, from, to);
            println!("{} changes to the policy of {unit} from {from} to {to}", changes.len());
            for c in changes {
                println!("  {c}");
            }
        }
        PolicyCommand::Check { unit } => {
            let root = unit.as_deref().map(UnitCode::parse).transpose()?;
            let broken = check_policies(&store, calendar, root.as_ref()).await?;
            if broken.is_empty() {
                println!("all layers keep their guardrails");
            } else {
                for v in &broken {
                    println!("{} (from {})", v, fmt_date(v.date));
                }
                anyhow::bail!("{} guardrail(s) broken", broken.len());
            }
        }
        PolicyCommand::History { unit } => {
            for e in store.policy_events(unit.as_deref()).await? {
                let at = OffsetDateTime::from_unix_timestamp(e.at)
                    .ok()
                    .and_then(|t| t.to_offset(calendar.offset()).format(&Rfc3339).ok())
                    .unwrap_or_default();
                println!("{at}  {} {} {} by {}: {}", e.unit, e.kind, e.source, e.actor, e.detail);
            }
        }
    }
    Ok(())
}
