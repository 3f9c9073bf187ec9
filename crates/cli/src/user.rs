//! `grassroots user …` (add, set, disable, enable, list), `grassroots apikey create` and `grassroots audit`: the
//! operator's side of accounts, thin wrappers over `server::accounts` — the same checks as the REST API's, without its
//! subtree limit (whoever holds the database is the deployment's operator).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use server::accounts::{self, AccountChange};
use store::{AccountRow, AuditQuery, Store};

/// Where a password comes from: `--password` (or `GRASSROOTS_PASSWORD` for `add`), or one line of standard input.
#[derive(Args, Debug)]
pub struct PasswordArgs {
    /// Read the password from the first line of standard input (keeps it out of the shell history and `ps`).
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("--password-stdin: standard input held no password");
    }
    Ok(password)
}

fn password_of(given: &Option<String>, stdin: bool) -> anyhow::Result<Option<String>> {
    if stdin {
        return read_password_line().map(Some);
    }
    Ok(given.clone())
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. A name that exists is refused: change an account with `user set`.
    Add {
        name: String,
        /// resident, grid_worker, caseworker, mediator, office_head, analyst or administrator.
        #[arg(long)]
        role: String,
        /// The territory subtree the account works in: a stored unit (e.g. 330502001).
        #[arg(long)]
        scope: String,
        /// The office, e.g. 330502001:gov: one of the office directory, inside the scope. Required for grid
        /// workers, caseworkers, mediators and office heads; refused for residents.
        #[arg(long)]
        office: Option<String>,
        /// The password; read from GRASSROOTS_PASSWORD when not given.
        #[arg(long, env = "GRASSROOTS_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[command(flatten)]
        stdin: PasswordArgs,
    },
    /// Change an account: role, scope, office or password. The result is checked as a new account would be.
    Set {
        name: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, conflicts_with = "no_office")]
        office: Option<String>,
        /// Remove the account's office (for roles that need none).
        #[arg(long)]
        no_office: bool,
        /// A new password.
        #[arg(long)]
        password: Option<String>,
        #[command(flatten)]
        stdin: PasswordArgs,
    },
    /// Disable an account: it cannot sign in, and its sessions and bearer tokens are refused from now on.
    Disable { name: String },
    /// Enable a disabled account; the sessions it had stay ended.
    Enable { name: String },
    /// List the accounts (never their password hashes).
    List {
        #[arg(long)]
        json: bool,
    },
}

fn account_json(row: &AccountRow) -> serde_json::Value {
    serde_json::json!({
        "name": row.name,
        "role": row.role,
        "scope": row.scope,
        "office": row.office,
        "disabled": row.disabled,
    })
}

pub async fn user(db: &str, cmd: &UserCommand) -> anyhow::Result<()> {
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    let result = run_user(&store, cmd).await;
    store.close().await;
    result
}

async fn run_user(store: &Store, cmd: &UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            name,
            role,
            scope,
            office,
            password,
            stdin,
        } => {
            let Some(password) = password_of(password, stdin.password_stdin)? else {
                bail!("user add {name}: give --password, GRASSROOTS_PASSWORD or --password-stdin");
            };
            let row = accounts::add_user(store, name, role, scope, office.as_deref(), &password).await?;
            println!("account {} ({}, scope {}) created", row.name, row.role, row.scope);
        }
        UserCommand::Set {
            name,
            role,
            scope,
            office,
            no_office,
            password,
            stdin,
        } => {
            let change = AccountChange {
                role: role.clone(),
                scope: scope.clone(),
                office: if *no_office {
                    Some(None)
                } else {
                    office.clone().map(Some)
                },
                password: password_of(password, stdin.password_stdin)?,
            };
            if change == AccountChange::default() {
                bail!("user set {name}: nothing to change (give --role, --scope, --office, --no-office or a password)");
            }
            let row = accounts::change_user(store, name, &change).await?;
            let office = row.office.as_deref().unwrap_or("no office");
            println!(
                "account {} changed: {}, scope {}, {office}",
                row.name, row.role, row.scope
            );
        }
        UserCommand::Disable { name } => {
            accounts::set_disabled(store, name, true).await?;
            println!("account {name} disabled: it cannot sign in, and its sessions are refused");
        }
        UserCommand::Enable { name } => {
            accounts::set_disabled(store, name, false).await?;
            println!("account {name} enabled; it must sign in again");
        }
        UserCommand::List { json } => {
            let rows = accounts::list_users(store, None).await?;
            if *json {
                let list: Vec<serde_json::Value> = rows.iter().map(account_json).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<24} {:<14} {:<14} {:<28} disabled",
                    "name", "role", "scope", "office"
                );
                for r in &rows {
                    let disabled = if r.disabled { "yes" } else { "no" };
                    let office = r.office.as_deref().unwrap_or("-");
                    println!(
                        "{:<24} {:<14} {:<14} {:<28} {disabled}",
                        r.name, r.role, r.scope, office
                    );
                }
            }
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create an API key for Open311 clients; it is printed once and only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// The office the key's client belongs to.
        #[arg(long)]
        office: Option<String>,
    },
}

pub async fn apikey(db: &str, cmd: &ApiKeyCommand) -> anyhow::Result<()> {
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    match cmd {
        ApiKeyCommand::Create { name, office } => {
            let key = accounts::create_api_key(&store, name, office.as_deref()).await?;
            println!("{key}");
            eprintln!("API key {name} created; it is shown only now");
        }
    }
    store.close().await;
    Ok(())
}

/// `grassroots audit`: the log of staff reads of personal data, newest first.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only reads of this case.
    #[arg(long)]
    pub case: Option<i64>,
    /// Only reads by this account.
    #[arg(long)]
    pub account: Option<String>,
    /// Only reads on or after this local day (YYYY-MM-DD, China time).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
    #[arg(long)]
    pub json: bool,
}

fn rfc3339(epoch: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    let china = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.to_offset(china).format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub async fn audit(db: &str, args: &AuditArgs) -> anyhow::Result<()> {
    if args.limit < 1 {
        bail!("--limit {}: must be at least 1", args.limit);
    }
    let offset = domain::calendar::Calendar::china().offset();
    let since = match &args.since {
        Some(raw) => Some(accounts::day_start("--since", raw, offset)?),
        None => None,
    };
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    let query = AuditQuery {
        case: args.case,
        account: args.account.clone(),
        since,
        within: None,
        limit: args.limit,
    };
    let rows = store.audit_log(&query).await;
    store.close().await;
    let rows = rows?;
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "at": rfc3339(r.entry.at),
                    "account": r.entry.account,
                    "role": r.entry.role,
                    "office": r.office,
                    "action": r.entry.action,
                    "case_id": r.entry.case_id,
                    "detail": r.entry.detail,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if rows.is_empty() {
        println!("no staff read of personal data matches");
    } else {
        for r in &rows {
            let case = r.entry.case_id.map(|c| format!("case {c}")).unwrap_or_default();
            let office = r.office.as_deref().unwrap_or("-");
            println!(
                "{}  {:<20} {:<12} {:<24} {:<14} {case:<10} {}",
                rfc3339(r.entry.at),
                r.entry.account,
                r.entry.role,
                office,
                r.entry.action,
                r.entry.detail
            );
        }
    }
    Ok(())
}
