//! Use cases of the case workflow: staffing the offices of a territory, intake with routing, acting on a case through
//! the rules guard, the escalation tick, and the monthly rates report.
//!
//! Every write goes through [`domain::rules::check`] first: an action the rules refuse returns an error naming the rule
//! and its article, and nothing is recorded. Appends carry the log position they were checked against, so a concurrent
//! writer makes the store refuse the append instead of two checks passing on stale logs.

use domain::access::{self, Action, Denied, Principal};
use domain::calendar::Calendar;
use domain::case::NewCase;
use domain::clock::ClockConfig;
use domain::escalation::{self, Alert, CallbackDue, CaseView as EscalationView, RiskConfig, RiskScore};
use domain::office::Directory;
use domain::policy::{InForce, PilotChange, PolicyBook, PolicyInForce};
use domain::rates::RateWeights;
use domain::routing::{Routing, RoutingError, RoutingTable};
use domain::rules::{self, RuleContext, RuleError};
use domain::said::Said;
use domain::{CaseEvent, CaseId, CaseStatus, EventKind, Territory, UnitCode};
use serde::Serialize;
use std::sync::{Arc, RwLock};
use store::{CaseAccessRow, CaseRecord, CaseRow, NewCaseRecord, Store, StoreError};
use time::OffsetDateTime;

mod command;
mod disclose;
mod duplicates;
mod filing;
mod listing;
mod photos;
mod public;

pub use command::{Command, perform};
pub use disclose::{CaseView, disclose};
pub use duplicates::{DUPLICATE_WINDOW_DAYS, possible_duplicates};
pub use filing::{Filer, Filing, file_case};
pub use listing::{AlertView, CaseQuery, MAX_PAGE_SIZE, QueueItem, alerts_for, list_cases, queue};
pub use photos::{MAX_PHOTO_BYTES, MAX_PHOTOS, photo_for, upload_photo};
pub use public::{public_cases, public_views};

/// Why a workflow action failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Routing(#[from] RoutingError),
    /// An answer to one of the category's questions is refused (names the question's code).
    #[error(transparent)]
    Answer(#[from] domain::questions::AnswerError),
    #[error(transparent)]
    Store(StoreError),
    /// The caller may not do this (`domain::access`).
    #[error(transparent)]
    Denied(#[from] domain::access::Denied),
    /// An input is malformed or over its limit: names the field.
    #[error("{field}: {message}")]
    Field { field: &'static str, message: Said },
    /// An input is well formed but names something that does not exist or may not be used: names the field.
    #[error("{field}: {message}")]
    Unprocessable { field: &'static str, message: Said },
    #[error("{0}")]
    Invalid(String),
}

impl From<StoreError> for WorkflowError {
    /// The store holds every write to the rules too: its refusal is the rule's, not a storage failure.
    fn from(error: StoreError) -> WorkflowError {
        match error {
            StoreError::Rule(rule) => WorkflowError::Rule(rule),
            other => WorkflowError::Store(other),
        }
    }
}

impl WorkflowError {
    pub(crate) fn field(field: &'static str, message: impl Into<Said>) -> WorkflowError {
        WorkflowError::Field {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn unprocessable(field: &'static str, message: impl Into<Said>) -> WorkflowError {
        WorkflowError::Unprocessable {
            field,
            message: message.into(),
        }
    }
}

/// The rules a deployment runs: clocks, calendar, routing and the weights of risk and rates, and what policy layers
/// and pilots put in force for their units.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub clocks: ClockConfig,
    pub calendar: Calendar,
    pub routing: RoutingTable,
    pub risk: RiskConfig,
    pub weights: RateWeights,
    /// The clocks and routing of the policy layers and pilots in force ([`Rules::set_policies`]); empty: `clocks` and
    /// `routing` everywhere. Shared by clones, so a server that saves a layer makes it take effect for every request
    /// from then on.
    in_force: Arc<RwLock<PolicyInForce>>,
}

impl Rules {
    /// The defaults: statutory clocks, China's holiday calendar, the shipped routing table.
    pub fn china() -> Rules {
        Rules {
            calendar: Calendar::china(),
            ..Rules::default()
        }
    }

    /// Replaces what policy puts in force (after a layer is saved or a pilot moves): the layers of `book` and the
    /// pilot changes `pilots`. A case runs on the policy in force where it arose on the day it was filed.
    pub fn set_policies(&self, book: &PolicyBook, pilots: &[PilotChange]) {
        let base = InForce {
            clocks: self.clocks.clone(),
            routing: self.routing.clone(),
        };
        let fresh = PolicyInForce::with_pilots(book, &base, pilots);
        match self.in_force.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    /// What policy puts in force at `unit` on the day of `at`, if any layer does.
    fn in_force_at(&self, unit: &UnitCode, at: OffsetDateTime) -> Option<Arc<InForce>> {
        let in_force = match self.in_force.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if in_force.is_empty() {
            return None;
        }
        in_force.at(unit, at.to_offset(self.calendar.offset()).date()).cloned()
    }

    /// The clocks of one case: those it recorded when it was filed (the clocks then in force where it arose), so a
    /// layer or pilot saved later never moves its deadlines. A case stored before cases recorded their clocks runs
    /// on those the policy on record puts in force at its filing date.
    pub fn clocks_of(&self, row: &CaseRow) -> CaseClocks<'_> {
        if let Some(recorded) = &row.clocks {
            return CaseClocks::Recorded(Arc::clone(recorded));
        }
        let filed = OffsetDateTime::from_unix_timestamp(row.created_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        self.clocks_at(&row.location.unit, filed)
    }

    /// The clocks in force for a case arising at `unit` at `at`: what intake records on the case.
    pub fn clocks_at(&self, unit: &UnitCode, at: OffsetDateTime) -> CaseClocks<'_> {
        match self.in_force_at(unit, at) {
            Some(policy) => CaseClocks::Policy(policy),
            None => CaseClocks::Base(&self.clocks),
        }
    }

    /// The routing table for a case arising at `unit` at `at`.
    pub fn routing_at(&self, unit: &UnitCode, at: OffsetDateTime) -> CaseRouting<'_> {
        match self.in_force_at(unit, at) {
            Some(policy) => CaseRouting::Policy(policy),
            None => CaseRouting::Base(&self.routing),
        }
    }
}

impl store::RuleBook for Rules {
    fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    fn unrecorded_clocks(&self, row: &CaseRow) -> std::borrow::Cow<'_, ClockConfig> {
        match self.clocks_of(row) {
            CaseClocks::Base(clocks) => std::borrow::Cow::Borrowed(clocks),
            other => std::borrow::Cow::Owned(ClockConfig::clone(&other)),
        }
    }
}

/// The clocks a case runs on: the deployment's, those a policy layer puts in force, or those the case recorded when
/// it was filed.
#[derive(Debug, Clone)]
pub enum CaseClocks<'a> {
    Base(&'a ClockConfig),
    Policy(Arc<InForce>),
    Recorded(Arc<ClockConfig>),
}

impl std::ops::Deref for CaseClocks<'_> {
    type Target = ClockConfig;
    fn deref(&self) -> &ClockConfig {
        match self {
            CaseClocks::Base(c) => c,
            CaseClocks::Policy(p) => &p.clocks,
            CaseClocks::Recorded(c) => c,
        }
    }
}

/// The routing table of a new case: the deployment's, or the one a policy layer puts in force.
#[derive(Debug, Clone)]
pub enum CaseRouting<'a> {
    Base(&'a RoutingTable),
    Policy(Arc<InForce>),
}

impl std::ops::Deref for CaseRouting<'_> {
    type Target = RoutingTable;
    fn deref(&self) -> &RoutingTable {
        match self {
            CaseRouting::Base(r) => r,
            CaseRouting::Policy(p) => &p.routing,
        }
    }
}

/// Staffs every village, township and county of the stored territory with its conventional offices, heads,
/// caseworkers and mediation teams (replacing staff and teams already stored). Returns the number of offices.
pub async fn setup_offices(store: &Store, territory: &Territory) -> Result<usize, WorkflowError> {
    let dir = Directory::standard(territory);
    store.save_directory(&dir).await?;
    Ok(dir.offices.len())
}

/// Staffs the standard offices when none are stored yet (a database made before offices existed, or a fresh demo).
/// Returns the number of offices created, or `None` when offices were already there.
pub async fn ensure_offices(store: &Store) -> Result<Option<usize>, WorkflowError> {
    if store.count_offices().await? > 0 {
        return Ok(None);
    }
    let territory = store.load_territory(None).await?;
    if territory.is_empty() {
        return Ok(None);
    }
    Ok(Some(setup_offices(store, &territory).await?))
}

/// Routes a new case and records it: `created` at the competent office, and for an enquiry the table answers at
/// intake, the answer too.
pub async fn intake(
    store: &Store,
    rules: &Rules,
    directory: &Directory,
    case: NewCase,
    at: OffsetDateTime,
) -> Result<(CaseId, Routing), WorkflowError> {
    let (record, routing) = route(rules, directory, case, "intake", at)?;
    let ids = store.insert_cases(&[record], rules).await?;
    let id = ids
        .first()
        .copied()
        .ok_or_else(|| WorkflowError::Invalid("the store returned no id for the new case".into()))?;
    Ok((id, routing))
}

/// [`intake`] for a case that comes with access facts (the resident account that filed it, the unit it complains
/// about, an Open311 token): the case, its log and the facts are written in one transaction, so no reader ever sees
/// a case without the facts that decide who may read it. `actor` is recorded as the author of the first events.
pub async fn intake_with_access(
    store: &Store,
    rules: &Rules,
    directory: &Directory,
    case: NewCase,
    access: &CaseAccessRow,
    actor: &str,
    at: OffsetDateTime,
) -> Result<(CaseId, Routing), WorkflowError> {
    let (record, routing) = route(rules, directory, case, actor, at)?;
    Ok((store.insert_case_with_access(&record, access, rules).await?, routing))
}

/// The one routing decision of intake and the first events it records. A category the catalogue in force where
/// the case arises does not know is refused here ([`domain::routing::RoutingTable::check_category`]), for every
/// interface alike: REST, Open311 and the CLI file through this.
fn route(
    rules: &Rules,
    directory: &Directory,
    mut case: NewCase,
    actor: &str,
    at: OffsetDateTime,
) -> Result<(NewCaseRecord, Routing), WorkflowError> {
    let table = rules.routing_at(&case.location.unit, at);
    let routing = table.route_in(case.kind, &case.category, &case.location.unit, directory)?;
    // The category's questions in force where the case arises, answered as they ask.
    case.answers = table.check_answers(&case.category, &case.answers)?;
    let office = match &routing {
        Routing::Office { office } => office.to_string(),
        // Recorded at the township of the location, which answered on the spot.
        Routing::AnswerAtIntake => table
            .fallback_office(&case.location.unit)
            .map_or_else(|_| case.location.unit.to_string(), |office| office.to_string()),
    };
    let mut events = vec![CaseEvent {
        at,
        actor: actor.into(),
        kind: EventKind::Created { office },
    }];
    if routing == Routing::AnswerAtIntake {
        events.push(CaseEvent {
            at,
            actor: actor.into(),
            kind: EventKind::AnsweredAtIntake {
                answer: format!("answered at intake ({})", case.category),
            },
        });
    }
    // The case runs for good on the clocks in force where and when it is filed.
    let clocks = ClockConfig::clone(&rules.clocks_at(&case.location.unit, at));
    Ok((NewCaseRecord { case, events, clocks }, routing))
}

/// A case as loaded for a decision: its record, its access facts and the status its log replays to.
#[derive(Debug, Clone)]
pub struct HeldCase {
    pub record: CaseRecord,
    pub access: CaseAccessRow,
    pub status: CaseStatus,
    /// The accounts drawn to inspect the case (issue 14, peer inspection); empty when it is in no sample.
    pub inspectors: Vec<String>,
}

impl HeldCase {
    /// The resident the rules protect (only they may rate, reopen, withdraw): the opaque actor of their own events,
    /// when the case has a resident on record (a signed-in filer or a reporter).
    pub fn resident(&self) -> Option<&'static str> {
        store::resident(Some(&self.access), self.record.reporter.as_ref())
    }

    /// What `domain::access` needs to decide who may see and do what on this case.
    pub fn facts(&self) -> domain::access::CaseFacts {
        let mut facts = domain::access::CaseFacts::from_status(
            self.record.row.location.unit.clone(),
            &self.status,
            self.access.reporter_account.as_deref(),
        );
        facts.complained_unit = self.access.complained_unit.clone();
        facts.complained_office = self.access.complained_office.clone();
        facts.public = domain::disclosure::is_public_kind(self.record.row.kind);
        facts.inspectors = self.inspectors.clone();
        facts
    }

    /// The reporter's identifiers (typed name, contact, account) that outputs mask in free text.
    pub fn identifiers(&self) -> Vec<&str> {
        let mut known: Vec<&str> = Vec::new();
        if let Some(r) = &self.record.reporter {
            known.push(&r.name);
            known.push(&r.contact);
        }
        if let Some(account) = &self.access.reporter_account {
            known.push(account);
        }
        known.retain(|k| !k.trim().is_empty());
        known
    }

    /// The refusal `denied` as `principal` should hear it. Whoever may not read the case, nor see it on the public
    /// portal, hears that there is no such case, exactly as for an id never issued: a 403 would tell them the id is
    /// taken (enumeration of case ids). Whoever may see the case hears the rule that refuses the step.
    pub fn refusal(&self, principal: &Principal, denied: Denied) -> WorkflowError {
        let facts = self.facts();
        if facts.public || access::can(principal, Action::ReadCase, &facts).is_ok() {
            WorkflowError::Denied(denied)
        } else {
            WorkflowError::Store(StoreError::NoSuchCase(self.record.row.id))
        }
    }

    /// `principal` may read the case; else the refusal as [`HeldCase::refusal`] words it.
    pub fn readable_by(&self, principal: &Principal) -> Result<(), WorkflowError> {
        access::can(principal, Action::ReadCase, &self.facts()).map_err(|denied| self.refusal(principal, denied))
    }

    /// The instant a new event is recorded at: `now`, but never before the end of the log (clocks of two writers may
    /// disagree by a little, and a log never goes back in time).
    pub fn next_instant(&self, now: OffsetDateTime) -> OffsetDateTime {
        self.record.events.last().map_or(now, |e| e.at.max(now))
    }
}

/// Loads a case with its access facts and replayed status.
pub async fn hold(store: &Store, case: CaseId) -> Result<HeldCase, WorkflowError> {
    let record = store.load_case(case).await?;
    let access = store.case_access(case).await?;
    let status = CaseStatus::replay(case, &record.events).map_err(RuleError::from)?;
    let inspectors = store.inspectors_of_case(case).await?;
    Ok(HeldCase {
        record,
        access,
        status,
        inspectors,
    })
}

/// Appends one event to a case after the rules allow it; on any error nothing is recorded.
pub async fn act(store: &Store, rules: &Rules, case: CaseId, event: CaseEvent) -> Result<CaseStatus, WorkflowError> {
    let held = hold(store, case).await?;
    act_on(store, rules, &held, event).await
}

/// [`act`] on a case the caller has already loaded (to decide, say, whether its user may act at all). The append
/// carries the log position `held` was read at, so a write in between makes the store refuse this one.
pub async fn act_on(
    store: &Store,
    rules: &Rules,
    held: &HeldCase,
    event: CaseEvent,
) -> Result<CaseStatus, WorkflowError> {
    let row = &held.record.row;
    let clocks = rules.clocks_of(row);
    let ctx = RuleContext {
        case: row.id,
        kind: row.kind,
        channel: row.channel,
        urgency: clocks.urgency(row.kind, &row.category),
        resident: held.resident(),
        config: &clocks,
        calendar: &rules.calendar,
    };
    rules::check(&event, &held.record.events, &ctx)?;
    // The store checks the event again, on the log as it reads it in the transaction that writes it.
    Ok(store
        .append_events(row.id, row.last_seq, std::slice::from_ref(&event), rules)
        .await?)
}

/// What one tick of the escalation guard found and recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TickReport {
    pub open_cases: usize,
    pub warnings: usize,
    pub overdue: usize,
    /// Alerts not recorded because the case changed under the tick; the next tick retries them.
    pub conflicts: usize,
    pub alerts: Vec<Alert>,
    pub callbacks_due: Vec<CallbackDue>,
    /// The riskiest open cases, highest first.
    pub riskiest: Vec<RiskScore>,
    /// Photos uploaded with a report that was never filed, deleted after a day.
    pub stale_uploads_purged: u64,
    /// Overload alerts recorded by this tick (at most one per office or staff member a month).
    pub overloads: Vec<OverloadAlertView>,
}

fn view<'a>(row: &'a CaseRow, log: &'a [CaseEvent], clocks: &'a ClockConfig, repeats: u32) -> EscalationView<'a> {
    EscalationView {
        case: row.id,
        kind: row.kind,
        urgency: clocks.urgency(row.kind, &row.category),
        category: &row.category,
        co_signers: row.co_signers,
        repeats,
        log,
        clocks,
    }
}

/// Runs the escalation guard at `now`: records the warning and overdue alerts that are due as `deadline_alert` events
/// (each at most once: the log remembers), the overload alerts of offices and staff over the threshold in force
/// (each at most once a month), lists the call-backs due and the riskiest open cases.
pub async fn tick(store: &Store, rules: &Rules, now: OffsetDateTime, top: usize) -> Result<TickReport, WorkflowError> {
    let open = store.open_cases_with_logs().await?;
    let directory = store.load_directory().await?;
    let repeats = store.repeat_counts_of_open_cases().await?;
    let clocks: Vec<CaseClocks<'_>> = open.iter().map(|(row, _)| rules.clocks_of(row)).collect();
    let views: Vec<EscalationView<'_>> = open
        .iter()
        .zip(&clocks)
        .map(|((row, log), clocks)| view(row, log, clocks, repeats.get(&row.id).copied().unwrap_or(0)))
        .collect();
    let alerts = escalation::alerts_due(&views, now, &rules.calendar, &directory);
    let callbacks_due = escalation::callbacks_due(&views, now, &rules.calendar);
    let mut riskiest: Vec<RiskScore> = views
        .iter()
        .map(|v| escalation::risk(v, now, &rules.calendar, &rules.risk))
        .filter(|r| r.score > 0.0)
        .collect();
    riskiest.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.case.cmp(&b.case)));
    riskiest.truncate(top);
    let stale_uploads_purged = store
        .purge_stale_uploads((now - time::Duration::days(1)).unix_timestamp())
        .await?;
    let book = crate::governance::load_book(store)
        .await
        .map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    let overloads = overload::raise_overload_alerts(store, &book, &open, &directory, &rules.calendar, now).await?;
    let mut report = TickReport {
        overloads,
        stale_uploads_purged,
        open_cases: open.len(),
        callbacks_due,
        riskiest,
        ..TickReport::default()
    };
    // Alerts of one case are appended together, checked against the log they were computed from.
    let mut i = 0;
    while i < alerts.len() {
        let case = alerts[i].case;
        let j = alerts[i..]
            .iter()
            .position(|a| a.case != case)
            .map_or(alerts.len(), |n| i + n);
        let Some((row, log)) = open.iter().find(|(r, _)| r.id == case) else {
            i = j;
            continue;
        };
        // A tick run for a past instant (a replay of the demo) must not write before the end of the log.
        let at = log.last().map_or(now, |e| e.at.max(now));
        let events: Vec<CaseEvent> = alerts[i..j].iter().map(|a| a.event(at, "escalation-guard")).collect();
        match store.append_events(case, row.last_seq, &events, rules).await {
            Ok(_) => {
                for a in &alerts[i..j] {
                    if a.overdue {
                        report.overdue += 1;
                    } else {
                        report.warnings += 1;
                    }
                    report.alerts.push(a.clone());
                }
            }
            Err(StoreError::Conflict { .. }) => report.conflicts += j - i,
            Err(e) => return Err(e.into()),
        }
        i = j;
    }
    Ok(report)
}

/// Reads `--now`-style input: an RFC 3339 instant, or the current time when absent.
pub fn instant_or_now(s: Option<&str>) -> Result<OffsetDateTime, WorkflowError> {
    match s {
        Some(s) => OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|e| {
            WorkflowError::Invalid(format!(
                "{s:?} is not an RFC 3339 time such as 2025-12-31T18:00:00+08:00: {e}"
            ))
        }),
        None => Ok(OffsetDateTime::now_utc()),
    }
}

mod reports;
pub use reports::{
    Outcomes, PublishedRates, latest_published, month_start, next_month, outcomes, publication_of, published_rates,
    rates_report, summarise,
};
mod workload;
pub use workload::{Holder, WorkloadRow, workload_report};
mod overload;
pub use overload::{OverloadAlertView, overload_alerts_for};

#[cfg(test)]
mod tests {
    use domain::case::{Location, Rating, Reporter};
    use domain::rates::{Grouping, YearMonth};
    use domain::{CaseKind, Channel, Level, Unit, UnitCode};
    use time::macros::datetime;

    use super::*;

    fn territory() -> Territory {
        let unit = |code: &str| {
            let code = UnitCode::parse(code).expect("code");
            let parent = code.parent_code();
            Unit::new(code, "x", parent).expect("unit")
        };
        Territory::build(["330502", "330502001", "330502001001"].map(unit)).expect("territory")
    }

    async fn setup(name: &str) -> (Store, Rules, Directory) {
        let path = std::env::temp_dir().join(format!("grassroots-app-workflow-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connects");
        let t = territory();
        store.upsert_units(&t.units_sorted(), &mut |_| {}).await.expect("units");
        assert!(setup_offices(&store, &t).await.expect("offices") > 3);
        let dir = store.load_directory().await.expect("directory");
        (store, Rules::china(), dir)
    }

    fn new_case(kind: CaseKind, category: &str) -> NewCase {
        NewCase {
            kind,
            channel: Channel::Hotline,
            category: category.into(),
            description: "d".into(),
            location: Location {
                lat: None,
                lon: None,
                unit: UnitCode::parse("330502001001").expect("code"),
                grid: None,
            },
            reporter: Some(Reporter {
                name: "Shen".into(),
                contact: "13900000000".into(),
            }),
            co_signers: 0,
            answers: Default::default(),
        }
    }

    fn event(at: OffsetDateTime, actor: &str, kind: EventKind) -> CaseEvent {
        CaseEvent {
            at,
            actor: actor.into(),
            kind,
        }
    }

    #[tokio::test]
    async fn intake_routes_and_the_guard_refuses_what_the_rules_forbid() {
        let (store, rules, dir) = setup("intake").await;
        let created = datetime!(2025-03-03 10:00 +8);
        let (enquiry, routing) = intake(
            &store,
            &rules,
            &dir,
            new_case(CaseKind::Enquiry, "policy_enquiry"),
            created,
        )
        .await
        .expect("intake");
        assert_eq!(routing, Routing::AnswerAtIntake);
        assert_eq!(store.load_case(enquiry).await.expect("case").row.state, "closed");

        let (noise, routing) = intake(&store, &rules, &dir, new_case(CaseKind::Complaint, "noise"), created)
            .await
            .expect("intake");
        assert_eq!(
            routing.clone(),
            Routing::Office {
                office: "330502001:gov".parse_office()
            }
        );
        act(
            &store,
            &rules,
            noise,
            event(
                created,
                "330502001:gov",
                EventKind::Accepted {
                    office: "330502001:gov".into(),
                },
            ),
        )
        .await
        .expect("accept");
        let replied = datetime!(2025-03-04 10:00 +8);
        act(
            &store,
            &rules,
            noise,
            event(
                replied,
                "330502001:gov",
                EventKind::Replied {
                    text: "quiet now".into(),
                },
            ),
        )
        .await
        .expect("reply");
        let before = store.load_events(noise).await.expect("log").len();
        let by_neighbour = EventKind::Rated {
            rating: Rating::Satisfied,
            by: "13800000000".into(),
        };
        let err = act(&store, &rules, noise, event(replied, "x", by_neighbour))
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("only the resident who filed"), "{err}");
        let closed_too_early = act(&store, &rules, noise, event(replied, "x", EventKind::ReviewRequested))
            .await
            .unwrap_err();
        assert!(closed_too_early.to_string().contains("Art. 35"), "{closed_too_early}");
        assert_eq!(
            store.load_events(noise).await.expect("log").len(),
            before,
            "nothing recorded"
        );
        let by_resident = EventKind::Rated {
            rating: Rating::Unsatisfied,
            by: domain::RESIDENT_ACTOR.into(),
        };
        act(
            &store,
            &rules,
            noise,
            event(replied, domain::RESIDENT_ACTOR, by_resident),
        )
        .await
        .expect("rated");
        act(
            &store,
            &rules,
            noise,
            event(
                replied,
                domain::RESIDENT_ACTOR,
                EventKind::Reopened {
                    reason: "still noisy".into(),
                },
            ),
        )
        .await
        .expect("reopened");
    }

    #[tokio::test]
    async fn the_tick_records_alerts_once_and_the_rates_rank_townships() {
        let (store, rules, dir) = setup("tick").await;
        let created = datetime!(2025-03-03 10:00 +8);
        let (road, _) = intake(
            &store,
            &rules,
            &dir,
            new_case(CaseKind::ServiceRequest, "road_repair"),
            created,
        )
        .await
        .expect("intake");
        // The general response clock ends with 10 March.
        let now = datetime!(2025-03-12 09:00 +8);
        let first = tick(&store, &rules, now, 5).await.expect("tick");
        assert_eq!((first.open_cases, first.overdue, first.warnings), (1, 1, 0));
        assert_eq!(first.alerts[0].notified, ["330502001:gov/head", "330502:gov/head"]);
        assert_eq!(first.callbacks_due.len(), 1);
        assert_eq!(first.riskiest[0].case, road);
        let second = tick(&store, &rules, now, 5).await.expect("tick");
        assert_eq!((second.overdue, second.warnings), (0, 0), "idempotent");
        let status = CaseStatus::replay(road, &store.load_events(road).await.expect("log")).expect("replays");
        assert_eq!(status.overdue_alerts, 1);

        let month = YearMonth::parse("2025-03").expect("month");
        let rows = rates_report(&store, &rules, month, Grouping::Unit(Level::Township), now)
            .await
            .expect("rates");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].key.as_str(), rows[0].response_rate), ("330502001", Some(0.0)));
        let out = outcomes(&store, &rules, month, now).await.expect("outcomes");
        assert_eq!((out.cases, out.overdue_open, out.alerted), (1, 1, 1));
        assert_eq!(out.township_ranking.len(), 1);
        let april = YearMonth::parse("2025-04").expect("month");
        assert!(
            rates_report(&store, &rules, april, Grouping::Department, now)
                .await
                .expect("rates")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_workload_counts_open_overdue_and_arrived_cases_per_office_grid_and_staff() {
        let (store, rules, dir) = setup("workload").await;
        let created = datetime!(2025-03-03 10:00 +8);
        let mut road_repair = new_case(CaseKind::ServiceRequest, "road_repair");
        road_repair.location.grid = Some("330502001001-01".into());
        let (road, _) = intake(&store, &rules, &dir, road_repair, created)
            .await
            .expect("intake");
        let office = "330502001:gov";
        let accepted = event(created, office, EventKind::Accepted { office: office.into() });
        act(&store, &rules, road, accepted).await.expect("accept");
        let assigned = event(
            created,
            office,
            EventKind::Assigned {
                office: office.into(),
                staff: Some("li".into()),
            },
        );
        act(&store, &rules, road, assigned).await.expect("assign");
        // Unanswered at the end of March: open and past its response clock (10 March), for all three holders.
        let march = YearMonth::parse("2025-03").expect("month");
        let rows = workload_report(&store, &rules, march).await.expect("workload");
        let got: Vec<(Holder, &str, u32, u32, u32, u32)> = rows
            .iter()
            .map(|r| (r.holder, r.id.as_str(), r.open, r.overdue, r.arrived, r.closed))
            .collect();
        assert_eq!(
            got,
            vec![
                (Holder::Office, office, 1, 1, 1, 0),
                (Holder::Grid, "330502001001-01", 1, 1, 1, 0),
                (Holder::Staff, "330502001:gov/li", 1, 1, 1, 0),
            ]
        );
        // February: the case did not exist yet.
        let february = YearMonth::parse("2025-02").expect("month");
        assert!(
            workload_report(&store, &rules, february)
                .await
                .expect("workload")
                .is_empty()
        );
    }

    /// A township that trials a 48-hour response clock and its own routing of noise complaints: its cases filed from
    /// the layer's date run on the clock, a case filed before keeps the 7 days it was filed under, the escalation
    /// guard and the rates use the same clocks, and noise complaints go to the village committee from that date.
    #[tokio::test]
    async fn a_policy_layer_sets_the_clocks_of_its_units_cases() {
        let (store, _, dir) = setup("policy-clocks").await;
        let township = UnitCode::parse("330502001").expect("code");
        let layer = "[layer]\neffective_from = 2025-03-01\n[clocks.hotline]\ngeneral_hours = 48\n\
                     [routing.rules.noise]\ncategory = \"noise\"\noffice = \"village.committee\"\n";
        crate::governance::set_policy(
            &store,
            &Calendar::china(),
            &township,
            "48h.toml",
            layer,
            None,
            "head",
            datetime!(2025-02-20 9:00 +8),
        )
        .await
        .expect("layer saved");
        let rules = crate::governance::rules_in_force(&store).await.expect("rules");
        let before = datetime!(2025-02-27 10:00 +8);
        let after = datetime!(2025-03-03 10:00 +8);
        let (old, _) = intake(
            &store,
            &rules,
            &dir,
            new_case(CaseKind::ServiceRequest, "road_repair"),
            before,
        )
        .await
        .expect("intake");
        let (new, _) = intake(
            &store,
            &rules,
            &dir,
            new_case(CaseKind::ServiceRequest, "road_repair"),
            after,
        )
        .await
        .expect("intake");
        let row = |id| {
            let store = &store;
            async move { store.load_case(id).await.expect("case").row }
        };
        assert_eq!(
            rules.clocks_of(&row(new).await).general,
            domain::calendar::Period::Hours(48)
        );
        assert_eq!(
            rules.clocks_of(&row(old).await).general,
            domain::calendar::Period::Days(7)
        );
        // Three days after the second filing: 48 hours have run out, 7 days (from 27 February) have not.
        let now = datetime!(2025-03-06 10:00 +8);
        let report = tick(&store, &rules, now, 5).await.expect("tick");
        let overdue: Vec<CaseId> = report.alerts.iter().filter(|a| a.overdue).map(|a| a.case).collect();
        assert_eq!(overdue, [new]);
        // Without the layer the same tick finds nothing overdue (checked on a fresh store with the same cases).
        let (plain_store, plain, plain_dir) = setup("policy-clocks-plain").await;
        intake(
            &plain_store,
            &plain,
            &plain_dir,
            new_case(CaseKind::ServiceRequest, "road_repair"),
            after,
        )
        .await
        .expect("intake");
        assert_eq!(tick(&plain_store, &plain, now, 5).await.expect("tick").overdue, 0);
        let out = outcomes(&store, &rules, YearMonth::parse("2025-03").expect("month"), now)
            .await
            .expect("outcomes");
        assert_eq!(out.overdue_open, 1);
        // The layer's routing rule: noise complaints go to the village committee from its date on.
        let noise = |at| intake(&store, &rules, &dir, new_case(CaseKind::Complaint, "noise"), at);
        let (_, routed_before) = noise(before).await.expect("intake");
        let (_, routed_after) = noise(after).await.expect("intake");
        assert_eq!(
            routed_before,
            Routing::Office {
                office: "330502001:gov".parse_office()
            }
        );
        assert_eq!(
            routed_after,
            Routing::Office {
                office: "330502001001:committee".parse_office()
            }
        );
    }

    /// A pilot's change applies to the cases of its units filed while it runs, and no longer once it is abandoned.
    #[tokio::test]
    async fn a_running_pilot_sets_the_clocks_of_its_units_until_it_is_abandoned() {
        let (store, _, dir) = setup("pilot-clocks").await;
        let spec = "name = \"two-day-replies\"\nowner = \"330502\"\nunits = [\"330502001\"]\nstart = 2025-03-01\n\
                    hypothesis = \"faster\"\nprimary_outcome = \"response_rate\"\nofficials = [\"head\"]\n\
                    [change]\nclocks.hotline.general_hours = 48\n";
        let filed = datetime!(2025-02-20 9:00 +8);
        crate::governance::file_pilot(&store, "pilot.toml", spec, filed)
            .await
            .expect("filed");
        let general = |rules: &Rules, row: &CaseRow| rules.clocks_of(row).general;
        let proposed = crate::governance::rules_in_force(&store).await.expect("rules");
        let at = datetime!(2025-03-03 10:00 +8);
        let file = |rules: &Rules, at: OffsetDateTime| {
            let (store, rules, dir) = (&store, rules.clone(), &dir);
            async move {
                let (case, _) = intake(
                    store,
                    &rules,
                    dir,
                    new_case(CaseKind::ServiceRequest, "road_repair"),
                    at,
                )
                .await
                .expect("intake");
                store.load_case(case).await.expect("case").row
            }
        };
        let before_start = file(&proposed, at).await;
        assert_eq!(
            general(&proposed, &before_start),
            domain::calendar::Period::Days(7),
            "a proposed pilot changes nothing"
        );
        crate::governance::act(
            &store,
            "two-day-replies",
            domain::pilot::PilotAction::Start,
            "head",
            filed,
        )
        .await
        .expect("started");
        let running = crate::governance::rules_in_force(&store).await.expect("rules");
        assert_eq!(
            general(&running, &before_start),
            domain::calendar::Period::Days(7),
            "a case filed before the pilot ran keeps its clocks"
        );
        let row = file(&running, at).await;
        assert_eq!(general(&running, &row), domain::calendar::Period::Hours(48));
        let stop = datetime!(2025-04-01 9:00 +8);
        crate::governance::act(
            &store,
            "two-day-replies",
            domain::pilot::PilotAction::Abandon,
            "head",
            stop,
        )
        .await
        .expect("abandoned");
        let after = crate::governance::rules_in_force(&store).await.expect("rules");
        assert_eq!(
            general(&after, &row),
            domain::calendar::Period::Hours(48),
            "filed while it ran"
        );
        let late_row = file(&after, stop).await;
        assert_eq!(general(&after, &late_row), domain::calendar::Period::Days(7));
    }

    /// Issue 10 part 5: a case keeps the clocks in force where and when it was filed. A layer saved later — even one
    /// dated before the filing, or a replacement of the layer in force — never moves its deadlines; a case filed
    /// after the layer runs on it.
    #[tokio::test]
    async fn a_layer_saved_later_never_moves_the_deadlines_of_cases_filed_before() {
        let (store, rules, dir) = setup("no-retroaction").await;
        let township = UnitCode::parse("330502001").expect("code");
        let petition = |rules: &Rules, at: OffsetDateTime| {
            let (store, rules, dir) = (&store, rules.clone(), &dir);
            async move {
                let (case, _) = intake(store, &rules, dir, new_case(CaseKind::Petition, "wage_arrears"), at)
                    .await
                    .expect("intake");
                let office = store.load_case(case).await.expect("case").row.office;
                // Accepted the next day, so the handling clock runs.
                let accept = event(at + time::Duration::DAY, "caseworker", EventKind::Accepted { office });
                act(store, &rules, case, accept).await.expect("accepted");
                store.load_case(case).await.expect("case")
            }
        };
        let filed = petition(&rules, datetime!(2025-03-03 10:00 +8)).await;
        let deadlines = |rules: &Rules, record: &CaseRecord| {
            let clocks = rules.clocks_of(&record.row);
            let urgency = clocks.urgency(record.row.kind, &record.row.category);
            domain::clock::deadlines(record.row.kind, urgency, &record.events, &clocks, &rules.calendar)
        };
        let before = deadlines(&rules, &filed);
        assert!(
            before.iter().any(|d| d.clock == domain::clock::ClockName::Handling),
            "{before:?}"
        );
        let save = |handle_days: u32| {
            let (store, township) = (&store, &township);
            async move {
                let layer =
                    format!("[layer]\neffective_from = 2025-03-01\n[clocks.petition]\nhandle_days = {handle_days}\n");
                crate::governance::set_policy(
                    store,
                    &domain::calendar::Calendar::china(),
                    township,
                    "handling.toml",
                    &layer,
                    None,
                    "head",
                    datetime!(2025-02-25 9:00 +8),
                )
                .await
                .expect("layer saved");
                crate::governance::rules_in_force(store).await.expect("rules")
            }
        };
        let with_layer = save(30).await;
        assert_eq!(
            deadlines(&with_layer, &filed),
            before,
            "the earlier case keeps its deadlines"
        );
        assert_eq!(
            with_layer.clocks_of(&filed.row).petition_handling,
            domain::calendar::Period::Days(60)
        );
        let later = petition(&with_layer, datetime!(2025-03-10 10:00 +8)).await;
        assert_eq!(
            with_layer.clocks_of(&later.row).petition_handling,
            domain::calendar::Period::Days(30)
        );
        // The layer is replaced (a second version for the same day): both cases keep what they were filed under.
        let replaced = save(20).await;
        assert_eq!(deadlines(&replaced, &filed), before);
        assert_eq!(
            replaced.clocks_of(&later.row).petition_handling,
            domain::calendar::Period::Days(30)
        );
    }

    /// Issue 10 part 11: one validation of the category for every interface: intake refuses a category the catalogue
    /// does not know, with or without access facts (REST and Open311 both file through these), and stores nothing.
    #[tokio::test]
    async fn intake_refuses_a_category_outside_the_catalogue() {
        let (store, rules, dir) = setup("catalogue").await;
        let at = datetime!(2025-03-03 10:00 +8);
        let err = intake(&store, &rules, &dir, new_case(CaseKind::Complaint, "asdfgh"), at)
            .await
            .expect_err("unknown category");
        assert!(
            matches!(&err, WorkflowError::Routing(RoutingError::UnknownCategory { category, .. }) if category == "asdfgh"),
            "{err}"
        );
        let access = CaseAccessRow::default();
        let err = intake_with_access(
            &store,
            &rules,
            &dir,
            new_case(CaseKind::ServiceRequest, "streetlight"),
            &access,
            "resident",
            at,
        )
        .await
        .expect_err("a near-twin is no category");
        assert!(err.to_string().contains("street_lighting"), "{err}");
        assert_eq!(store.count_cases().await.expect("count"), 0);
    }

    trait ParseOffice {
        fn parse_office(&self) -> domain::office::OfficeId;
    }

    impl ParseOffice for str {
        fn parse_office(&self) -> domain::office::OfficeId {
            domain::office::OfficeId::parse(self).expect("office")
        }
    }
}
