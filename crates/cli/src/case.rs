//! `grassroots case list|show|act|alerts`: a staff member's workbench at a terminal. Every command runs as an explicit
//! account (`--as NAME`, a stored account that is not disabled) through the same `app::workflow` use cases and access
//! rules as the REST API: what the account may not see or do over HTTP it may not see or do here.

use std::io::Write;

use anyhow::{Context, anyhow, bail};
use app::workflow::{self, CaseQuery, Command};
use clap::{Args, Subcommand, ValueEnum};
use domain::access::{Principal, Role};
use domain::calendar::Calendar;
use domain::case::OnwardRoute;
use domain::disclosure::Audience;
use domain::grid::GridIndex;
use domain::{CaseKind, CaseState, Rating, UnitCode};
use store::Store;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Subcommand)]
pub enum CaseCommand {
    /// The cases the account may see, filtered as a workbench needs.
    List(ListArgs),
    /// One case as the account may see it: its log, clocks and the actions open to the account.
    Show(ShowArgs),
    /// Take a step in a case's legal life (the REST actions).
    Act(ActArgs),
    /// The deadline alerts addressed to an office (default: the account's own).
    Alerts(AlertsArgs),
}

#[derive(Args)]
pub struct AsAccount {
    /// The account to act as (a stored account; see `grassroots user`).
    #[arg(long = "as", value_name = "ACCOUNT")]
    account: String,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    who: AsAccount,
    /// Only cases within this unit's subtree.
    #[arg(long)]
    unit: Option<String>,
    /// submitted, accepted, in_progress, in_mediation, replied, closed, not_accepted, under_review,
    /// under_reexamination, final or withdrawn.
    #[arg(long)]
    state: Option<String>,
    /// Only cases this office holds.
    #[arg(long)]
    office: Option<String>,
    /// Only open cases with a clock past its due time.
    #[arg(long)]
    overdue: bool,
    /// Only open cases with a running clock due before this instant (RFC 3339).
    #[arg(long)]
    due_before: Option<String>,
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    category: Option<String>,
    #[arg(long)]
    grid: Option<String>,
    #[arg(long, default_value_t = 1)]
    page: u32,
    #[arg(long, default_value_t = 50)]
    page_size: u32,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    who: AsAccount,
    id: i64,
    #[arg(long)]
    json: bool,
}

/// The actions, named as over REST.
#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Verb {
    Accept,
    NotAccept,
    Assign,
    Transfer,
    Return,
    DisputeDispatch,
    Reply,
    Extend,
    Close,
    Callback,
    MediationStart,
    MediationSettle,
    MediationFail,
    Whistle,
    Report,
    Rate,
    Reopen,
    Withdraw,
    ReviewRequest,
    ReviewDecide,
    ReexaminationRequest,
    ReexaminationDecide,
}

#[derive(Args)]
pub struct ActArgs {
    #[command(flatten)]
    who: AsAccount,
    id: i64,
    #[arg(value_enum)]
    action: Verb,
    /// reply, callback, report, review_decide, reexamination_decide: the text.
    #[arg(long)]
    text: Option<String>,
    /// not_accept, transfer, dispute_dispatch, extend, mediation_fail, whistle, reopen, withdraw: the reason.
    #[arg(long)]
    reason: Option<String>,
    /// not_accept: the channel the resident should use instead (Art. 23).
    #[arg(long)]
    refer_to: Option<String>,
    /// assign: the member of the holding office.
    #[arg(long)]
    staff: Option<String>,
    /// transfer: the office to send the case to.
    #[arg(long)]
    office: Option<String>,
    /// return: the earlier case of the same matter held by the lower office (Art. 19).
    #[arg(long)]
    prior_case: Option<i64>,
    /// extend: days (Art. 34: at most 30, once); whistle: working days to report.
    #[arg(long)]
    days: Option<u32>,
    /// callback (after the reply): the resident's answer; rate: the rating.
    #[arg(long, value_parser = ["satisfied", "basically_satisfied", "unsatisfied"])]
    rating: Option<String>,
    /// mediation_start: the mediation team.
    #[arg(long)]
    team: Option<String>,
    /// mediation_settle: the agreement; the parties in `--parties`.
    #[arg(long)]
    agreement: Option<String>,
    /// mediation_settle: the parties; whistle: the departments summoned (comma-separated).
    #[arg(long, value_delimiter = ',')]
    parties: Vec<String>,
    /// whistle: the county departments summoned (comma-separated office ids).
    #[arg(long, value_delimiter = ',')]
    offices: Vec<String>,
    /// mediation_fail: litigation, arbitration, administrative_review or handling.
    #[arg(long, value_parser = ["litigation", "arbitration", "administrative_review", "handling"])]
    route: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    who: AsAccount,
    #[arg(long)]
    office: Option<String>,
    #[arg(long)]
    json: bool,
}

pub async fn run(db: &str, cmd: &CaseCommand, calendar: &Calendar) -> anyhow::Result<()> {
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    match cmd {
        CaseCommand::List(args) => list(&store, args, calendar).await,
        CaseCommand::Show(args) => show(&store, args, calendar).await,
        CaseCommand::Act(args) => act(&store, args, calendar).await,
        CaseCommand::Alerts(args) => alerts(&store, args, calendar).await,
    }
}

/// The rules in force on `calendar`, warning when a clock started today could run past the days it covers.
async fn rules_today(store: &Store, calendar: &Calendar) -> anyhow::Result<workflow::Rules> {
    crate::workflow::rules_on(store, calendar, calendar.local_date(OffsetDateTime::now_utc())).await
}

/// The account a command runs as: stored, enabled, its role and scope valid.
pub(crate) async fn operator(store: &Store, who: &AsAccount) -> anyhow::Result<Principal> {
    let row = store
        .account(&who.account)
        .await?
        .ok_or_else(|| anyhow!("--as: no account {:?} (see `grassroots user`)", who.account))?;
    if row.disabled {
        bail!("--as: account {:?} is disabled", row.name);
    }
    let role = Role::parse(&row.role).map_err(|e| anyhow!("account {}: {e}", row.name))?;
    let scope = UnitCode::parse(&row.scope).map_err(|e| anyhow!("account {}: {e}", row.name))?;
    Ok(Principal {
        account: row.name,
        role,
        scope,
        office: row.office,
    })
}

/// An instant in the calendar's time zone, as every date the CLI prints.
fn instant(t: OffsetDateTime, calendar: &Calendar) -> String {
    t.to_offset(calendar.offset()).format(&Rfc3339).unwrap_or_default()
}

async fn list(store: &Store, args: &ListArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let principal = operator(store, &args.who).await?;
    let rules = rules_today(store, calendar).await?;
    let parse_time = |flag: &str, s: &Option<String>| -> anyhow::Result<Option<OffsetDateTime>> {
        s.as_deref()
            .map(|s| OffsetDateTime::parse(s, &Rfc3339).map_err(|e| anyhow!("{flag}: {s:?} is not RFC 3339: {e}")))
            .transpose()
    };
    let query = CaseQuery {
        unit: args
            .unit
            .as_deref()
            .map(UnitCode::parse)
            .transpose()
            .context("--unit")?,
        state: args
            .state
            .as_deref()
            .map(|s| CaseState::parse(s).ok_or_else(|| anyhow!("--state: unknown state {s:?}")))
            .transpose()?,
        office: args.office.clone(),
        overdue: args.overdue,
        due_before: parse_time("--due-before", &args.due_before)?,
        kind: args
            .kind
            .as_deref()
            .map(|k| CaseKind::parse(k).ok_or_else(|| anyhow!("--kind: unknown kind {k:?}")))
            .transpose()?,
        category: args.category.clone(),
        grid: args.grid.clone(),
        created_from: None,
        created_to: None,
        page: args.page,
        page_size: args.page_size,
    };
    let rows = workflow::list_cases(store, &rules, &principal, &query, OffsetDateTime::now_utc()).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "kind": r.kind.as_str(), "category": r.category, "unit": r.location.unit.to_string(),
                    "state": r.state, "office": r.office, "created_at": r.created_at,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &items)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>8}  {:<16} {:<20} {:<14} {:<20} office",
        "case", "kind", "category", "unit", "state"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:>8}  {:<16} {:<20} {:<14} {:<20} {}",
            r.id,
            r.kind.as_str(),
            r.category,
            r.location.unit,
            r.state,
            r.office
        )?;
    }
    writeln!(out, "{} case(s) on page {}", rows.len(), args.page)?;
    Ok(())
}

async fn show(store: &Store, args: &ShowArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let principal = operator(store, &args.who).await?;
    let rules = rules_today(store, calendar).await?;
    let grids = GridIndex::build(store.load_grids().await?).map_err(|e| anyhow!("stored grids: {e}"))?;
    let held = workflow::hold(store, args.id).await?;
    let view = workflow::disclose(
        store,
        &rules,
        &grids,
        Audience::Principal(&principal),
        &held,
        "grassroots case show",
        OffsetDateTime::now_utc(),
    )
    .await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({
            "id": view.id, "kind": view.kind.as_str(), "channel": view.channel.as_str(), "category": view.category,
            "unit": view.unit.to_string(), "state": view.state.as_str(), "office": view.office,
            "description": view.description, "point": view.point, "point_is_exact": view.point_is_exact,
            "reporter": view.reporter.as_ref().map(|r| serde_json::json!({"name": r.name, "contact": r.contact})),
            "reporter_withheld": view.reporter_withheld,
            "events": view.events, "deadlines": view.deadlines,
            "actions": view.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "case {}  {} {} in {}  state {}  held by {}",
        view.id,
        view.kind.as_str(),
        view.category,
        view.unit,
        view.state.as_str(),
        view.office
    )?;
    writeln!(
        out,
        "filed {} by {}",
        instant(view.created_at, calendar),
        view.channel.as_str()
    )?;
    match (&view.reporter, view.reporter_withheld) {
        (Some(r), _) => writeln!(out, "reporter: {} {}", r.name, r.contact)?,
        (None, true) => writeln!(out, "reporter: withheld from this account")?,
        (None, false) => {}
    }
    writeln!(out, "\n{}\n", view.description)?;
    writeln!(out, "log")?;
    for e in &view.events {
        let detail = serde_json::to_string(&e.kind)?;
        writeln!(out, "  {}  {:<14} {}", instant(e.at, calendar), e.actor, detail)?;
    }
    writeln!(out, "clocks")?;
    for d in view.deadlines.iter().filter(|d| !d.superseded) {
        let status = match d.met_at {
            Some(at) => format!("met {}", instant(at, calendar)),
            None => "running".to_string(),
        };
        writeln!(
            out,
            "  {:<16} due {}  {}",
            d.clock.as_str(),
            instant(d.due, calendar),
            status
        )?;
    }
    let actions: Vec<&str> = view.actions.iter().map(|a| a.as_str()).collect();
    writeln!(out, "actions open to {}: {}", principal.account, actions.join(", "))?;
    Ok(())
}

fn required<T: Clone>(flag: &str, verb: &str, value: &Option<T>) -> anyhow::Result<T> {
    value.clone().ok_or_else(|| anyhow!("{verb} needs {flag}"))
}

fn rating(value: &str) -> anyhow::Result<Rating> {
    serde_json::from_value(serde_json::Value::String(value.into())).map_err(|_| anyhow!("--rating: {value:?}"))
}

fn command_of(args: &ActArgs) -> anyhow::Result<Command> {
    let verb = args
        .action
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    let verb = verb.as_str();
    let text = || required("--text", verb, &args.text);
    let reason = || required("--reason", verb, &args.reason);
    Ok(match args.action {
        Verb::Accept => Command::Accept,
        Verb::NotAccept => Command::NotAccept {
            reason: reason()?,
            refer_to: args.refer_to.clone().unwrap_or_default(),
        },
        Verb::Assign => Command::Assign {
            staff: required("--staff", verb, &args.staff)?,
        },
        Verb::Transfer => Command::Transfer {
            office: required("--office", verb, &args.office)?,
            reason: reason()?,
        },
        Verb::Return => Command::Return {
            prior_case: required("--prior-case", verb, &args.prior_case)?,
        },
        Verb::DisputeDispatch => Command::DisputeDispatch { reason: reason()? },
        Verb::Reply => Command::Reply { text: text()? },
        Verb::Extend => Command::Extend {
            days: required("--days", verb, &args.days)?,
            reason: reason()?,
        },
        Verb::Close => Command::Close,
        Verb::Callback => Command::Callback {
            text: text()?,
            rating: args.rating.as_deref().map(rating).transpose()?,
        },
        Verb::MediationStart => Command::MediationStart {
            team: required("--team", verb, &args.team)?,
        },
        Verb::MediationSettle => Command::MediationSettle {
            agreement: required("--agreement", verb, &args.agreement)?,
            parties: args.parties.clone(),
        },
        Verb::MediationFail => Command::MediationFail {
            route: serde_json::from_value::<OnwardRoute>(serde_json::Value::String(required(
                "--route",
                verb,
                &args.route,
            )?))?,
            reason: reason()?,
        },
        Verb::Whistle => Command::Whistle {
            offices: args.offices.clone(),
            due_working_days: required("--days", verb, &args.days)?,
            reason: reason()?,
        },
        Verb::Report => Command::Report { text: text()? },
        Verb::Rate => Command::Rate {
            rating: rating(&required("--rating", verb, &args.rating)?)?,
        },
        Verb::Reopen => Command::Reopen { reason: reason()? },
        Verb::Withdraw => Command::Withdraw { reason: reason()? },
        Verb::ReviewRequest => Command::ReviewRequest,
        Verb::ReviewDecide => Command::ReviewDecide { text: text()? },
        Verb::ReexaminationRequest => Command::ReexaminationRequest,
        Verb::ReexaminationDecide => Command::ReexaminationDecide { text: text()? },
    })
}

async fn act(store: &Store, args: &ActArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let command = command_of(args)?;
    let principal = operator(store, &args.who).await?;
    let rules = rules_today(store, calendar).await?;
    let directory = store.load_directory().await?;
    let status = workflow::perform(
        store,
        &rules,
        &directory,
        &principal,
        args.id,
        command,
        OffsetDateTime::now_utc(),
    )
    .await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({"id": args.id, "state": status.state.as_str(), "office": status.office});
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "case {}: {} (held by {})",
            args.id,
            status.state.as_str(),
            status.office
        )?;
    }
    Ok(())
}

async fn alerts(store: &Store, args: &AlertsArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let principal = operator(store, &args.who).await?;
    let office = args
        .office
        .clone()
        .or_else(|| principal.office.clone())
        .ok_or_else(|| anyhow!("--office: required, account {} belongs to no office", principal.account))?;
    let directory = store.load_directory().await?;
    let alerts = workflow::alerts_for(store, &directory, &principal, &office).await?;
    let overloads = workflow::overload_alerts_for(store, &directory, &principal, &office).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let inbox = serde_json::json!({ "deadlines": alerts, "overloads": overloads });
        serde_json::to_writer_pretty(&mut out, &inbox)?;
        writeln!(out)?;
        return Ok(());
    }
    for o in &overloads {
        writeln!(
            out,
            "overload {} {:<28} {} open, {} worker(s): {:.1} per worker above {} ({}, raised {})",
            o.subject.as_str(),
            o.holder,
            o.open_cases,
            o.workers,
            o.per_worker,
            o.threshold,
            o.month,
            instant(o.at, calendar)
        )?;
    }
    for a in &alerts {
        writeln!(
            out,
            "case {:>8}  {:<14} due {}  {}  (held by {})",
            a.case,
            a.clock,
            instant(a.due, calendar),
            if a.overdue { "OVERDUE" } else { "warning" },
            a.holder
        )?;
    }
    writeln!(
        out,
        "{} deadline and {} overload alert(s) addressed to {office}",
        alerts.len(),
        overloads.len()
    )?;
    Ok(())
}
