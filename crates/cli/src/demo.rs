//! `grassroots demo`: the main job. Loads the real divisions of Huzhou, simulates its cases and prints what happened
//! per county.

use anyhow::Context;
use app::demo_region::{ATTRIBUTION, HUZHOU_RESIDENTS};
use app::region::{Loaded, ensure_huzhou, huzhou_root, simulate_into};
use app::summary::{CountySummary, region_summary};
use sim::SimConfig;
use store::Store;

use crate::progress::bar;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Months to simulate.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Seed of the simulation (same seed, same region).
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// First simulated day (YYYY-MM-DD).
    #[arg(long, default_value = "2025-01-01")]
    pub start: String,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not serve the region over HTTP at the end.
    #[arg(long)]
    pub no_serve: bool,
}

pub const DEMO_DB: &str = "sqlite://grassroots-demo.db";

pub async fn run(db: Option<&str>, args: &DemoArgs) -> anyhow::Result<()> {
    let db = db.unwrap_or(DEMO_DB);
    let start = time::Date::parse(&args.start, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("--start {:?}: expected YYYY-MM-DD", args.start))?;
    if args.months == 0 || args.months > 120 {
        anyhow::bail!("--months {}: expected 1 to 120", args.months);
    }
    let store = Store::connect(db).await?;
    let started = std::time::Instant::now();
    let (territory, loaded) = ensure_huzhou(&store, args.seed).await?;
    let (grids, workers) = store.count_grids().await?;
    if !args.json {
        let verb = if loaded == Loaded::Reused { "reused" } else { "loaded" };
        eprintln!(
            "{verb} Huzhou (3305): {} units, {grids} grids, {workers} grid workers, in {db}",
            territory.len()
        );
    }
    let pilots = demo_pilots(&territory, args, start)?;
    let sim_key = format!(
        "{}:{}:{}:{}",
        args.start,
        args.months,
        args.seed,
        app::demo_pilots::cache_key(&pilots)
    );
    let simulated_before = store.get_meta("demo.simulation").await?;
    if simulated_before.as_deref() != Some(sim_key.as_str()) {
        let config = SimConfig {
            root: huzhou_root(),
            start,
            months: args.months,
            seed: args.seed,
            residents: HUZHOU_RESIDENTS,
            rate_scale: 1.0,
            pilots: pilots.iter().map(|p| p.sim.clone()).collect(),
        };
        let progress = bar(0, "storing");
        if args.json {
            progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let simulated = simulate_into(&store, &territory, &config, &mut |done, total| {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        })
        .await?;
        progress.finish_and_clear();
        store.set_meta("demo.simulation", &sim_key).await?;
        if !args.json {
            let cases = &simulated.simulation.cases;
            eprintln!(
                "simulated {} months for {} residents: {} cases, {} events in {:.1}s; stored in {:.1}s",
                args.months,
                HUZHOU_RESIDENTS,
                cases.len(),
                cases.iter().map(|c| c.events.len()).sum::<usize>(),
                simulated.simulating.as_secs_f64(),
                simulated.storing.as_secs_f64()
            );
        }
    } else if !args.json {
        eprintln!("reused the simulation ({sim_key}) already in {db}");
    }
    let summarising = std::time::Instant::now();
    let rules = app::governance::rules_in_force(&store).await?;
    let end = simulation_end(&rules, start, args.months)?;
    let summary = region_summary(&store, &rules, &territory, end).await?;
    let verdicts = evaluate_pilots(&store, &pilots).await?;
    let outcomes = last_month_outcomes(&store, &rules, start, args.months).await?;
    if !args.json {
        eprintln!(
            "summarised in {:.1}s ({:.1}s since the start)",
            summarising.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    if args.json {
        let value = serde_json::json!({ "region": "3305", "months": args.months, "seed": args.seed, "counties": summary, "attribution": ATTRIBUTION, "pilots": verdicts, "last_month": outcomes });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_summary(&summary);
        print_outcomes(&outcomes);
        print_verdicts(&verdicts);
        let practices = app::governance::practices(&store).await?;
        if !practices.is_empty() {
            let names: Vec<&str> = practices.iter().map(|p| p.name.as_str()).collect();
            println!(
                "\npractices to learn from: {} (with their evidence: grassroots pilot practices --db {db})",
                names.join(", ")
            );
        }
        println!("\n{ATTRIBUTION}");
    }
    if !args.no_serve {
        // One account per role in the region's first township, then serve the region (issue 6).
        let township = territory
            .at_level(domain::Level::Township)
            .first()
            .map(|u| u.code.to_string());
        if let Some(township) = township {
            let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 8311));
            return crate::serve::serve_demo(store, &township, listen).await;
        }
    }
    store.close().await;
    Ok(())
}

fn print_summary(summary: &[CountySummary]) {
    println!(
        "{:<8} {:<8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>9}",
        "county",
        "name",
        "cases",
        "enquiry",
        "service",
        "complain",
        "report",
        "suggest",
        "petition",
        "dispute",
        "patrol",
        "open",
        "closed",
        "med.days"
    );
    for s in summary {
        let k = |name: &str| s.by_kind.get(name).copied().unwrap_or(0);
        println!(
            "{:<8} {:<8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>9}",
            s.code,
            s.name,
            s.cases,
            k("enquiry"),
            k("service_request"),
            k("complaint"),
            k("report"),
            k("suggestion"),
            k("petition"),
            k("dispute"),
            k("patrol_event"),
            s.open,
            s.closed,
            s.median_days_to_close
                .map(|d| format!("{d:.1}"))
                .unwrap_or_else(|| "-".into())
        );
    }
    println!(
        "\n{:<8} {:<8} {:>9} {:>10} {:>12} {:>9} {:>9}",
        "county", "name", "response", "resolution", "satisfaction", "feedback", "composite"
    );
    for s in summary {
        let r = &s.rates;
        println!(
            "{:<8} {:<8} {:>9} {:>10} {:>12} {:>9} {:>9}",
            s.code,
            s.name,
            percent(r.response_rate),
            percent(r.resolution_rate),
            percent(r.satisfaction_rate),
            percent(r.feedback_coverage),
            percent(r.composite)
        );
    }
    println!(
        "resolution: of the replied cases whose resident answered (a rating or a call-back), the share resolved; \
         feedback: of the replied cases, the share with an answer"
    );
}

/// The demo's three pilots (issue 5): good, useless and harmful, from the middle of the simulated period (none when
/// it is too short to have a month before and after).
fn demo_pilots(
    territory: &domain::Territory,
    args: &DemoArgs,
    start: time::Date,
) -> anyhow::Result<Vec<app::demo_pilots::DemoPilot>> {
    if args.months < 2 {
        return Ok(Vec::new());
    }
    let middle = domain::pilot::month_index(start) + i64::from(args.months / 2);
    let from = domain::pilot::month_start(middle).context("the pilots' start month is out of range")?;
    Ok(app::demo_pilots::huzhou_pilots(territory, args.seed, from))
}

async fn evaluate_pilots(
    store: &Store,
    pilots: &[app::demo_pilots::DemoPilot],
) -> anyhow::Result<Vec<app::demo_pilots::DemoVerdict>> {
    let now = time::OffsetDateTime::now_utc();
    Ok(app::demo_pilots::evaluate_demo_pilots(store, pilots, now).await?)
}

fn print_verdicts(verdicts: &[app::demo_pilots::DemoVerdict]) {
    for v in verdicts {
        let e = &v.evaluation;
        let primary = &e.effects[0];
        println!(
            "\npilot {} (simulated as {}: {}), {} townships:",
            e.pilot, v.truth, v.effect, e.adopters_in_panel
        );
        println!(
            "  {} ATT {:.3} (95% CI {:.3} to {:.3}) → verdict: {}",
            primary.outcome, primary.effect.att, primary.effect.ci_low, primary.effect.ci_high, e.verdict.verdict
        );
        for w in &e.site_selection.warnings {
            println!("  warning: {w}");
        }
    }
}

fn month_of(index: i64) -> domain::rates::YearMonth {
    domain::rates::YearMonth {
        year: (index / 12) as i32,
        month: (index % 12 + 1) as u8,
    }
}

/// The index of the last simulated month.
fn last_month(start: time::Date, months: u32) -> i64 {
    domain::pilot::month_index(start) + i64::from(months) - 1
}

/// The end of the simulation (the start of the month after the last simulated one): the logs as they stand then.
fn simulation_end(
    rules: &app::workflow::Rules,
    start: time::Date,
    months: u32,
) -> anyhow::Result<time::OffsetDateTime> {
    Ok(app::workflow::month_start(
        month_of(last_month(start, months) + 1),
        &rules.calendar,
    )?)
}

/// Overdue counts, mediation, whistles and the township ranking of the last simulated month, as the logs stand at the
/// end of the simulation (issue 3 item 8).
async fn last_month_outcomes(
    store: &Store,
    rules: &app::workflow::Rules,
    start: time::Date,
    months: u32,
) -> anyhow::Result<app::workflow::Outcomes> {
    let end = simulation_end(rules, start, months)?;
    Ok(app::workflow::outcomes(store, rules, month_of(last_month(start, months)), end).await?)
}

fn percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", 100.0 * v)).unwrap_or_else(|| "-".into())
}

fn print_outcomes(o: &app::workflow::Outcomes) {
    println!(
        "\n{}-{:02}: {} cases; {} open and overdue, {} given an overdue alert, {} reopened, {} re-routed, {} extended (Art. 34)",
        o.month.year, o.month.month, o.cases, o.overdue_open, o.alerted, o.reopened, o.rerouted, o.extended
    );
    let m = &o.mediation;
    let share = |n: u32| percent((m.disputes > 0).then(|| f64::from(n) / f64::from(m.disputes)));
    println!(
        "disputes: {} — settled at village {}, at township {}, mediation failed {}",
        m.disputes,
        share(m.settled_at_village),
        share(m.settled_at_township),
        share(m.failed)
    );
    let (total, on_time) = o
        .departments
        .iter()
        .fold((0, 0), |(t, n), r| (t + r.total, n + r.on_time));
    println!("whistles: {total} department summonses, {on_time} reported on time");
    let show = |rows: &[domain::rates::RateRow]| {
        for r in rows {
            println!(
                "  {:>3}. {:<12} {:>6} cases  response {:>6}  resolution {:>6}  satisfaction {:>6}  feedback {:>6}  \
                 composite {:>6}",
                r.rank,
                r.key,
                r.cases,
                percent(r.response_rate),
                percent(r.resolution_rate),
                percent(r.satisfaction_rate),
                percent(r.feedback_coverage),
                percent(r.composite)
            );
        }
    };
    let n = o.township_ranking.len();
    println!("township ranking (best three, worst three of {n}):");
    show(&o.township_ranking[..n.min(3)]);
    if n > 3 {
        show(&o.township_ranking[n.saturating_sub(3).max(3)..]);
    }
}
