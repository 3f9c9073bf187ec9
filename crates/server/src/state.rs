//! What every handler shares: the store, the territory and grids loaded once at start, the workflow rules (routing,
//! clocks, calendar, rate weights), the office directory, the rate limiters and the server's [`ServerConfig`].

use std::sync::Arc;

use app::governance::PilotEvaluation;
use app::workflow::Rules;
use domain::calendar::Calendar;
use domain::grid::GridIndex;
use domain::office::Directory;
use domain::territory::Territory;
use store::Store;
use time::OffsetDateTime;

use crate::ratelimit::{Limit, RateLimiter};

/// Settings of a running server, parsed once by the binary.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The public base URL, used in Open311 discovery (e.g. `http://127.0.0.1:8311`).
    pub base_url: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Requests per client IP address.
    pub ip_limit: Limit,
    /// Requests per API key or session token.
    pub key_limit: Limit,
    /// How long a web session or bearer token lives.
    pub session_ttl_secs: i64,
    /// Mark session cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// How often the escalation guard runs in the background while serving (seconds; 0 = never).
    pub tick_every_secs: u64,
    /// The holiday calendar every clock is computed on (`grassroots --calendar FILE`; China's shipped one by default).
    pub calendar: Calendar,
    /// How long a connection may take to send a request's headers before it is cut off (slow-loris), in seconds.
    pub header_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            base_url: "http://127.0.0.1:8311".into(),
            body_limit: 64 * 1024,
            ip_limit: Limit {
                burst: 200.0,
                per_second: 100.0,
            },
            key_limit: Limit {
                burst: 2_000.0,
                per_second: 1_000.0,
            },
            session_ttl_secs: 12 * 3600,
            secure_cookies: false,
            tick_every_secs: 900,
            calendar: Calendar::china(),
            header_timeout_secs: 10,
        }
    }
}

pub struct Shared {
    pub store: Store,
    pub territory: Territory,
    pub grids: GridIndex,
    /// The rules every use case is called with: the same as the CLI's.
    pub rules: Rules,
    pub directory: Directory,
    pub ip_limiter: RateLimiter,
    pub key_limiter: RateLimiter,
    pub config: ServerConfig,
    /// The map's GeoJSON outlines, computed once per unit (the territory and grids do not change while serving).
    pub map_outlines: std::sync::Mutex<std::collections::HashMap<String, Arc<String>>>,
    /// The portal's pilot evaluations by pilot id, with when each was computed: an evaluation reads every case of the
    /// panel (seconds on a year of a prefecture), so the public page shows one at most [`EVALUATION_TTL`] old.
    pub portal_evaluations: std::sync::Mutex<std::collections::HashMap<i64, (OffsetDateTime, Arc<PilotEvaluation>)>>,
    /// The published rankings computed so far (the JSON and the portal's page share them).
    pub published: PublishedCache,
}

/// A published month's ranking never changes (`app::workflow::published_rates`), so it is computed once per month
/// and grouping and kept, keyed by `"{month} {grouping:?}"`.
pub type PublishedCache = std::sync::Mutex<std::collections::HashMap<String, Arc<app::workflow::PublishedRates>>>;

/// How long the portal shows a pilot's evaluation before computing it again.
pub const EVALUATION_TTL: time::Duration = time::Duration::minutes(15);

/// Cheap to clone: one `Arc`.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the store: {0}")]
    Store(#[from] store::StoreError),
    #[error("cannot staff the offices: {0}")]
    Offices(String),
    #[error("the stored grids are not valid: {0}")]
    Grids(String),
    #[error("the stored policy layers cannot be read: {0}")]
    Policy(String),
}

impl AppState {
    /// Loads territory and grids from the store.
    pub async fn load(store: Store, config: ServerConfig) -> Result<AppState, LoadError> {
        let territory = store.load_territory(None).await?;
        let grids = GridIndex::build(store.load_grids().await?).map_err(|e| LoadError::Grids(e.to_string()))?;
        // One office directory for the server and the escalation guard: the stored one (staffed on first use).
        app::workflow::ensure_offices(&store)
            .await
            .map_err(|e| LoadError::Offices(e.to_string()))?;
        let directory = store.load_directory().await?;
        let mut rules = app::governance::rules_in_force(&store)
            .await
            .map_err(|e| LoadError::Policy(e.to_string()))?;
        rules.calendar = config.calendar.clone();
        Ok(AppState(Arc::new(Shared {
            store,
            territory,
            grids,
            rules,
            directory,
            ip_limiter: RateLimiter::new(config.ip_limit),
            key_limiter: RateLimiter::new(config.key_limit),
            config,
            map_outlines: Default::default(),
            portal_evaluations: Default::default(),
            published: Default::default(),
        })))
    }

    /// A pilot's evaluation (`app::governance::assess_pilot`) as the public sees it, the portal's page and
    /// `GET /api/v1/public/pilots/{id}/evaluation` alike: computed now, or as computed less than [`EVALUATION_TTL`]
    /// ago, since an evaluation reads every case of its panel.
    pub async fn public_evaluation(&self, pilot: i64) -> Result<Arc<PilotEvaluation>, crate::error::ApiError> {
        let now = self.now();
        let cached = self
            .portal_evaluations
            .lock()
            .ok()
            .and_then(|cache| cache.get(&pilot).cloned())
            .filter(|(at, _)| now - *at < EVALUATION_TTL);
        if let Some((_, evaluation)) = cached {
            return Ok(evaluation);
        }
        let evaluation = Arc::new(app::governance::assess_pilot(&self.store, &pilot.to_string(), now).await?);
        if let Ok(mut cache) = self.portal_evaluations.lock() {
            cache.insert(pilot, (now, evaluation.clone()));
        }
        Ok(evaluation)
    }

    /// The time now. The only clock read in the server.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// Today in the calendar's time zone: the one local day of every policy and pilot date, in the API as in the CLI.
    pub fn today(&self) -> time::Date {
        self.rules.calendar.local_date(self.now())
    }
}
