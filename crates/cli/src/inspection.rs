//! `grassroots inspection draw|report` (issue 14, part 4): a month's peer-inspection rota and samples for the
//! townships of a unit, over `app::inspection`, and what the inspectors found.

use std::io::Write;

use anyhow::{Context, anyhow};
use app::inspection;
use clap::{Args, Subcommand};
use domain::UnitCode;
use domain::calendar::Calendar;
use domain::rates::YearMonth;
use store::Store;

use crate::case::{AsAccount, operator};

#[derive(Subcommand)]
pub enum InspectionCommand {
    /// Draw (or show, once drawn) the inspectors of every township of a unit from adjoining townships, and the
    /// sample of each township's cases closed in the month for them to audit.
    Draw(DrawArgs),
    /// The inspection results of a month: sampled, audited, findings by kind, per township.
    Report(ReportArgs),
}

#[derive(Args)]
pub struct DrawArgs {
    #[command(flatten)]
    who: AsAccount,
    /// A township, or a county or city whose townships are all drawn.
    #[arg(long)]
    unit: String,
    /// `YYYY-MM`.
    #[arg(long)]
    month: String,
    /// The seed of the draw: the same seed gives the same rota.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    who: AsAccount,
    #[arg(long)]
    unit: String,
    #[arg(long)]
    month: String,
    #[arg(long)]
    json: bool,
}

fn parse(unit: &str, month: &str) -> anyhow::Result<(UnitCode, YearMonth)> {
    let unit = UnitCode::parse(unit).map_err(|e| anyhow!("--unit: {e}"))?;
    let month = YearMonth::parse(month).map_err(|e| anyhow!("--month: {e}"))?;
    Ok((unit, month))
}

pub async fn run(db: &str, cmd: &InspectionCommand, calendar: &Calendar) -> anyhow::Result<()> {
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    let mut out = std::io::stdout().lock();
    match cmd {
        InspectionCommand::Draw(args) => {
            let principal = operator(&store, &args.who).await?;
            let (unit, month) = parse(&args.unit, &args.month)?;
            let now = time::OffsetDateTime::now_utc();
            let rules = crate::workflow::rules_on(&store, calendar, calendar.local_date(now)).await?;
            let draws = inspection::draw(&store, &rules, &principal, &unit, month, args.seed, now).await?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &draws)?;
                writeln!(out)?;
                return Ok(());
            }
            for d in &draws {
                match &d.refused {
                    Some(why) => writeln!(out, "{} {}: no draw: {why}", d.township, d.month)?,
                    None => {
                        let who: Vec<String> = d
                            .inspectors
                            .iter()
                            .map(|(a, from)| format!("{a} (from {from})"))
                            .collect();
                        let sample: Vec<String> = d.sample.iter().map(i64::to_string).collect();
                        writeln!(
                            out,
                            "{} {}: inspectors {}; sample of closed cases [{}]",
                            d.township,
                            d.month,
                            who.join(", "),
                            sample.join(", ")
                        )?;
                    }
                }
            }
        }
        InspectionCommand::Report(args) => {
            let principal = operator(&store, &args.who).await?;
            let (unit, month) = parse(&args.unit, &args.month)?;
            let results = inspection::report(&store, &principal, &unit, month).await?;
            if args.json {
                serde_json::to_writer_pretty(&mut out, &results)?;
                writeln!(out)?;
                return Ok(());
            }
            for r in &results {
                let findings: Vec<String> = r
                    .results
                    .findings
                    .iter()
                    .map(|(f, n)| format!("{} {n}", f.as_str()))
                    .collect();
                writeln!(
                    out,
                    "{}: {} sampled, {} audited; {} (inspectors {})",
                    r.township,
                    r.results.sampled,
                    r.results.audited,
                    if findings.is_empty() {
                        "no findings yet".to_string()
                    } else {
                        findings.join(", ")
                    },
                    r.inspectors.join(", ")
                )?;
            }
        }
    }
    Ok(())
}
