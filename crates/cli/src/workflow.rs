//! `grassroots tick` (the escalation guard) and `grassroots report rates` (the monthly three rates and ranking).

use std::io::Write;

use anyhow::Context;
use app::workflow;
use clap::{Args, Subcommand, ValueEnum};
use domain::Level;
use domain::calendar::Calendar;
use domain::rates::{Grouping, RateRow, YearMonth};
use store::Store;

#[derive(Args)]
pub struct TickArgs {
    /// The instant to run the guard at (RFC 3339, e.g. 2025-12-31T18:00:00+08:00); default: now.
    #[arg(long)]
    now: Option<String>,
    /// How many of the riskiest open cases to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    #[arg(long)]
    json: bool,
}

/// Runs the escalation guard once: records the warning and overdue alerts that are due (never twice), and lists the
/// call-backs due and the riskiest open cases.
pub async fn tick(db: &str, args: &TickArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let now = workflow::instant_or_now(args.now.as_deref())?;
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    if let Some(n) = workflow::ensure_offices(&store).await? {
        eprintln!("no offices on record: staffed the {n} standard offices of the stored territory");
    }
    let rules = rules_on(&store, calendar, calendar.local_date(now)).await?;
    let report = workflow::tick(&store, &rules, now, args.top).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} open cases: {} overdue and {} warning alerts recorded, {} call-backs due{}",
        report.open_cases,
        report.overdue,
        report.warnings,
        report.callbacks_due.len(),
        if report.conflicts > 0 {
            format!(", {} deferred (cases changed meanwhile)", report.conflicts)
        } else {
            String::new()
        }
    )?;
    for o in &report.overloads {
        writeln!(
            out,
            "overload alert: {} {} holds {} open case(s) for {} worker(s), {:.1} per worker above the threshold {}",
            o.subject.as_str(),
            o.holder,
            o.open_cases,
            o.workers,
            o.per_worker,
            o.threshold
        )?;
    }
    if !report.riskiest.is_empty() {
        writeln!(out, "\nriskiest open cases")?;
        for r in &report.riskiest {
            let reasons: Vec<String> = r
                .reasons
                .iter()
                .map(|x| format!("{} (+{})", x.detail, x.points))
                .collect();
            writeln!(
                out,
                "  case {:>8}  score {:>5.1}  {}",
                r.case,
                r.score,
                reasons.join("; ")
            )?;
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Response, resolution and satisfaction rates per township, county or department for one month, ranked.
    Rates(RatesArgs),
    /// One month's workflow outcomes: overdue cases, mediation settled at village and township level, whistles
    /// answered in time by each department, and the top of the rankings.
    Outcomes(OutcomesArgs),
    /// Workload per office, grid and staff member: open and overdue at the month's end, arrived and closed in it,
    /// median handling days.
    Workload(WorkloadArgs),
}

#[derive(Args)]
pub struct WorkloadArgs {
    /// The month, YYYY-MM.
    #[arg(long)]
    month: String,
    /// Only offices, grids or staff members [default: all three].
    #[arg(long, value_enum)]
    holder: Option<HolderArg>,
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum HolderArg {
    Office,
    Grid,
    Staff,
}

#[derive(Args)]
pub struct OutcomesArgs {
    /// The month, YYYY-MM (cases created in it).
    #[arg(long)]
    month: String,
    /// The instant at which the logs are read (RFC 3339); default: now.
    #[arg(long)]
    now: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RateLevel {
    Township,
    County,
    Department,
}

#[derive(Args)]
pub struct RatesArgs {
    /// The month, YYYY-MM (cases created in it).
    #[arg(long)]
    month: String,
    #[arg(long, value_enum, default_value = "township")]
    level: RateLevel,
    /// The instant at which the logs are read (RFC 3339); default: now.
    #[arg(long)]
    now: Option<String>,
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    #[arg(long)]
    json: bool,
}

/// Writes `rows` to stdout as JSON or CSV when one is asked for; `false` when the caller prints its own table.
fn write_json_or_csv<T: serde::Serialize>(rows: &[T], json: bool, csv: bool) -> anyhow::Result<bool> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, rows)?;
        writeln!(out)?;
    } else if csv {
        let mut w = csv::Writer::from_writer(out);
        for row in rows {
            w.serialize(row)?;
        }
        w.flush()?;
    }
    Ok(json || csv)
}

/// The rules in force on `calendar`, warning on stderr when a clock started by `started_by` could run past the days
/// the calendar covers (its due date would count weekends only beyond them).
pub(crate) async fn rules_on(
    store: &Store,
    calendar: &Calendar,
    started_by: time::Date,
) -> anyhow::Result<workflow::Rules> {
    let mut rules = app::governance::rules_in_force(store).await?;
    rules.calendar = calendar.clone();
    if let Some(warning) = domain::clock::coverage_warning(calendar, started_by) {
        eprintln!("warning: {warning}");
    }
    Ok(rules)
}

/// The last local day of `month` or, for the month under way, today: the last day a clock of its cases started.
fn last_day_of(month: YearMonth, now: time::OffsetDateTime, calendar: &Calendar) -> anyhow::Result<time::Date> {
    let m = time::Month::try_from(month.month).with_context(|| format!("month {month}"))?;
    let last = time::Date::from_calendar_date(month.year, m, m.length(month.year))
        .with_context(|| format!("month {month}"))?;
    Ok(last.min(calendar.local_date(now)))
}

pub async fn report(db: &str, cmd: &ReportCommand, calendar: &Calendar) -> anyhow::Result<()> {
    match cmd {
        ReportCommand::Rates(args) => rates(db, args, calendar).await,
        ReportCommand::Outcomes(args) => outcomes(db, args, calendar).await,
        ReportCommand::Workload(args) => workload(db, args, calendar).await,
    }
}

async fn workload(db: &str, args: &WorkloadArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let month = YearMonth::parse(&args.month)?;
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    let now = workflow::instant_or_now(None)?;
    let rules = rules_on(&store, calendar, last_day_of(month, now, calendar)?).await?;
    let wanted = args.holder.map(|h| match h {
        HolderArg::Office => workflow::Holder::Office,
        HolderArg::Grid => workflow::Holder::Grid,
        HolderArg::Staff => workflow::Holder::Staff,
    });
    let rows: Vec<workflow::WorkloadRow> = workflow::workload_report(&store, &rules, month)
        .await?
        .into_iter()
        .filter(|row| wanted.is_none_or(|h| row.holder == h))
        .collect();
    if write_json_or_csv(&rows, args.json, args.csv)? {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "workload in {month}")?;
    writeln!(
        out,
        "{:<7} {:<32} {:>6} {:>8} {:>8} {:>7} {:>13}",
        "holder", "id", "open", "overdue", "arrived", "closed", "median days"
    )?;
    for row in &rows {
        let holder = match row.holder {
            workflow::Holder::Office => "office",
            workflow::Holder::Grid => "grid",
            workflow::Holder::Staff => "staff",
        };
        let median = row.median_handling_days.map_or("-".to_string(), |d| format!("{d:.1}"));
        writeln!(
            out,
            "{holder:<7} {:<32} {:>6} {:>8} {:>8} {:>7} {median:>13}",
            row.id, row.open, row.overdue, row.arrived, row.closed
        )?;
    }
    Ok(())
}

fn share(x: Option<f64>) -> String {
    pct(x)
}

async fn outcomes(db: &str, args: &OutcomesArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let month = YearMonth::parse(&args.month)?;
    let now = workflow::instant_or_now(args.now.as_deref())?;
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    let rules = rules_on(&store, calendar, last_day_of(month, now, calendar)?).await?;
    let o = workflow::outcomes(&store, &rules, month, now).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &o)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{} cases created in {month}", o.cases)?;
    writeln!(
        out,
        "  open and overdue: {}   given an overdue alert: {}   reopened: {}   re-routed after a dispute: {}   extended: {}",
        o.overdue_open, o.alerted, o.reopened, o.rerouted, o.extended
    )?;
    let m = &o.mediation;
    writeln!(
        out,
        "  disputes: {}   settled by mediation at village level: {} ({})   at township level: {} ({})   failed: {}",
        m.disputes,
        m.settled_at_village,
        share(m.village_share()),
        m.settled_at_township,
        share(m.township_share()),
        m.failed
    )?;
    if !o.departments.is_empty() {
        writeln!(out, "\nwhistles: county departments reporting by the deadline")?;
        for r in &o.departments {
            writeln!(
                out,
                "  {:<32} {:>4} summoned {:>4} on time {:>4} late {:>4} pending  {:>7}",
                r.office,
                r.total,
                r.on_time,
                r.late,
                r.pending,
                pct(r.rate())
            )?;
        }
        writeln!(out, "whistles: townships answering by the whistle's deadline")?;
        for r in &o.townships {
            writeln!(
                out,
                "  {:<32} {:>4} whistled {:>4} on time {:>4} late {:>4} pending  {:>7}",
                r.office,
                r.total,
                r.on_time,
                r.late,
                r.pending,
                pct(r.rate())
            )?;
        }
    }
    for (title, rows) in [
        ("townships", &o.township_ranking),
        ("departments", &o.department_ranking),
    ] {
        if rows.is_empty() {
            continue;
        }
        writeln!(
            out,
            "\ntop and bottom {title} by composite (response / resolution / satisfaction / feedback coverage)"
        )?;
        let n = rows.len();
        for row in rows.iter().filter(|r| r.rank <= 3 || r.rank as usize + 3 > n) {
            writeln!(
                out,
                "  {:>3}. {:<24} {:>5} cases  {:>7} {:>7} {:>7} {:>7}  composite {:>7}",
                row.rank,
                row.key,
                row.cases,
                pct(row.response_rate),
                pct(row.resolution_rate),
                pct(row.satisfaction_rate),
                pct(row.feedback_coverage),
                pct(row.composite)
            )?;
        }
    }
    Ok(())
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

async fn rates(db: &str, args: &RatesArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let month = YearMonth::parse(&args.month)?;
    let now = workflow::instant_or_now(args.now.as_deref())?;
    let grouping = match args.level {
        RateLevel::Township => Grouping::Unit(Level::Township),
        RateLevel::County => Grouping::Unit(Level::County),
        RateLevel::Department => Grouping::Department,
    };
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    let rules = rules_on(&store, calendar, last_day_of(month, now, calendar)?).await?;
    let rows = workflow::rates_report(&store, &rules, month, grouping, now).await?;
    if write_json_or_csv(&rows, args.json, args.csv)? {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let territory = store.load_territory(None).await?;
    let name = |row: &RateRow| {
        let unit = row.key.split(':').next().unwrap_or(&row.key);
        let unit_name = territory.lookup(unit).map(|u| u.name.clone()).unwrap_or_default();
        match row.key.split_once(':') {
            Some((_, office)) => format!("{unit_name} {}", office.replace('_', " ")),
            None => unit_name,
        }
    };
    writeln!(
        out,
        "{:>4}  {:<24} {:<28} {:>6} {:>9} {:>10} {:>12} {:>9} {:>9}",
        "rank", "key", "name", "cases", "response", "resolution", "satisfaction", "feedback", "composite"
    )?;
    for row in &rows {
        writeln!(
            out,
            "{:>4}  {:<24} {:<28} {:>6} {:>9} {:>10} {:>12} {:>9} {:>9}",
            row.rank,
            row.key,
            name(row),
            row.cases,
            pct(row.response_rate),
            pct(row.resolution_rate),
            pct(row.satisfaction_rate),
            pct(row.feedback_coverage),
            pct(row.composite)
        )?;
    }
    if rows.is_empty() {
        writeln!(out, "(no cases created in {month})")?;
    } else {
        writeln!(
            out,
            "resolution: of the replied cases whose resident answered (a rating or a call-back), the share resolved; \
             feedback: of the replied cases, the share with an answer. In the composite a case without an answer \
             counts as neither resolved nor satisfied."
        )?;
    }
    Ok(())
}
