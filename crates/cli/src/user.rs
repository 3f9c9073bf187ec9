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

/// An instant in the deployment's local time (the calendar's offset, as `--since` is read).
fn local_rfc3339(epoch: i64, offset: time::UtcOffset) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.to_offset(offset).format(&Rfc3339).ok())
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
                    "at": local_rfc3339(r.entry.at, offset),
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
                local_rfc3339(r.entry.at, offset),
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

#[cfg(test)]
mod tests {
    use clap::Parser;
    use domain::territory::{Unit, UnitCode};

    use super::*;

    #[derive(Parser)]
    struct UserCli {
        #[command(subcommand)]
        command: UserCommand,
    }

    fn parse(args: &[&str]) -> Result<UserCommand, clap::Error> {
        UserCli::try_parse_from(std::iter::once("user").chain(args.iter().copied())).map(|c| c.command)
    }

    async fn township_store() -> Store {
        let path = std::env::temp_dir().join(format!(
            "grassroots-cli-user-{}-{}.db",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("store");
        let code = |c: &str| UnitCode::parse(c).expect("code");
        let units: Vec<Unit> = [
            ("33", "浙江省"),
            ("3305", "湖州市"),
            ("330502", "吴兴区"),
            ("330502001", "月河街道"),
        ]
        .into_iter()
        .map(|(c, n)| Unit::new(code(c), n, code(c).parent_code()).expect("unit"))
        .collect();
        store
            .upsert_units(&units.iter().collect::<Vec<_>>(), &mut |_| {})
            .await
            .expect("units");
        store
    }

    #[tokio::test]
    async fn add_refuses_a_taken_name_and_set_disable_enable_change_it() {
        let store = township_store().await;
        let add = |role: &str| {
            parse(&[
                "add",
                "li",
                "--role",
                role,
                "--scope",
                "330502001",
                "--office",
                "330502001:gov",
                "--password",
                "secret-pass",
            ])
            .expect("parses")
        };
        run_user(&store, &add("caseworker")).await.expect("created");
        let again = run_user(&store, &add("office_head")).await.expect_err("taken");
        assert!(again.to_string().contains("\"li\" exists already"), "{again}");
        let row = store.account("li").await.expect("read").expect("kept");
        assert_eq!(row.role, "caseworker", "not replaced");

        let set = parse(&["set", "li", "--role", "analyst", "--no-office"]).expect("parses");
        run_user(&store, &set).await.expect("changed");
        let row = store.account("li").await.expect("read").expect("kept");
        assert_eq!((row.role.as_str(), row.office), ("analyst", None));
        let nothing = run_user(&store, &parse(&["set", "li"]).expect("parses"))
            .await
            .expect_err("nothing to change");
        assert!(nothing.to_string().contains("nothing to change"), "{nothing}");

        run_user(&store, &parse(&["disable", "li"]).expect("parses"))
            .await
            .expect("disabled");
        assert!(store.account("li").await.expect("read").expect("kept").disabled);
        run_user(&store, &parse(&["enable", "li"]).expect("parses"))
            .await
            .expect("enabled");
        assert!(!store.account("li").await.expect("read").expect("kept").disabled);
        let ghost = run_user(&store, &parse(&["disable", "ghost"]).expect("parses"))
            .await
            .expect_err("no such account");
        assert!(ghost.to_string().contains("no account named \"ghost\""), "{ghost}");
        store.close().await;
    }

    #[test]
    fn office_and_no_office_exclude_each_other_as_do_both_password_sources() {
        assert!(parse(&["set", "li", "--office", "330502001:gov", "--no-office"]).is_err());
        assert!(parse(&["set", "li", "--password", "x", "--password-stdin"]).is_err());
        assert!(parse(&["list", "--json"]).is_ok());
    }

    #[test]
    fn an_account_lists_without_its_password_hash() {
        let row = AccountRow {
            name: "li".into(),
            display_name: "li".into(),
            role: "caseworker".into(),
            scope: "330502001".into(),
            office: Some("330502001:gov".into()),
            password_hash: Some("$argon2id$secret".into()),
            created_at: 0,
            disabled: true,
            disabled_at: Some(1),
        };
        let shown = account_json(&row).to_string();
        assert!(
            !shown.contains("argon2") && shown.contains("\"disabled\":true"),
            "{shown}"
        );
    }
}
