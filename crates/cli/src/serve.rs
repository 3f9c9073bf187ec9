//! `grassroots serve` and the demo's serving hook: thin wrappers over the `server` crate. Accounts and API keys are
//! in `user.rs`.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;
use domain::calendar::Calendar;
use server::ratelimit::Limit;
use server::{AppState, ServerConfig};
use store::Store;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8311")]
    pub listen: SocketAddr,
    /// Public base URL for Open311 discovery [default: http://LISTEN].
    #[arg(long)]
    pub base_url: Option<String>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// Requests per second per client IP address (bursts of twice this).
    #[arg(long, default_value_t = 100.0)]
    pub rate_per_ip: f64,
    /// Requests per second per API key or session token (bursts of twice this).
    #[arg(long, default_value_t = 1000.0)]
    pub rate_per_key: f64,
    /// Seconds a connection may take to send a request's headers before it is cut off (slow clients, slow-loris).
    #[arg(long, default_value_t = 10)]
    pub header_timeout: u64,
}

impl ServeArgs {
    pub fn with_listen(listen: SocketAddr) -> ServeArgs {
        ServeArgs {
            listen,
            base_url: None,
            body_limit: 64 * 1024,
            rate_per_ip: 100.0,
            rate_per_key: 1000.0,
            header_timeout: 10,
        }
    }

    fn config(&self, calendar: &Calendar) -> ServerConfig {
        let limit = |per_second: f64| Limit {
            burst: (per_second * 2.0).max(1.0),
            per_second: per_second.max(0.001),
        };
        ServerConfig {
            base_url: self
                .base_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.listen)),
            body_limit: self.body_limit,
            ip_limit: limit(self.rate_per_ip),
            key_limit: limit(self.rate_per_key),
            calendar: calendar.clone(),
            header_timeout_secs: self.header_timeout,
            ..ServerConfig::default()
        }
    }
}

pub async fn serve(db: &str, args: &ServeArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let store = Store::connect(db).await.with_context(|| format!("opening {db}"))?;
    serve_store(store, args, calendar).await
}

/// Serves an open store until Ctrl-C or SIGTERM, every clock on `calendar`.
pub async fn serve_store(store: Store, args: &ServeArgs, calendar: &Calendar) -> anyhow::Result<()> {
    let state = AppState::load(store.clone(), args.config(calendar))
        .await
        .context("loading territory and grids")?;
    eprintln!(
        "serving on http://{0}  (web pages /, REST /api/v1, docs /docs, OpenAPI /openapi.json, Open311 /open311/v2/discovery.json); Ctrl-C stops",
        args.listen
    );
    let today = calendar.local_date(state.now());
    if let Some(warning) = domain::clock::coverage_warning(calendar, today) {
        eprintln!("warning: {warning}");
    }
    server::serve::run(state, args.listen)
        .await
        .with_context(|| format!("serving on {}", args.listen))?;
    store.close().await;
    Ok(())
}

/// The end of `grassroots demo`: one account per role in a township of the region, then serve.
pub async fn serve_demo(store: Store, township: &str, listen: SocketAddr) -> anyhow::Result<()> {
    let township = domain::UnitCode::parse(township)?;
    let accounts = server::accounts::demo_accounts(&store, &township).await?;
    eprintln!("\nweb interface: http://{listen}/ (sign in at http://{listen}/signin)");
    eprintln!(
        "demo accounts, one per role (scope {township}); sign in on the web or with POST /api/v1/sessions \
         {{\"name\":…,\"password\":…}}:"
    );
    for (name, role, password) in &accounts {
        eprintln!("  {:<14} {name:<22} password {password}", role.as_str());
    }
    serve_store(store, &ServeArgs::with_listen(listen), &Calendar::china()).await
}
