//! Cases, their reporters and their append-only event logs in the store.

use std::collections::HashMap;
use std::sync::Arc;

use domain::case::{Location, Reporter};
use domain::clock::ClockConfig;
use domain::{CaseEvent, CaseId, CaseKind, CaseStatus, Channel, EventKind, NewCase, UnitCode};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use time::OffsetDateTime;

use crate::guard::{RuleBook, Subject, check_log, clocks_version, resident};
use crate::{CaseAccessRow, Store, StoreError, backend_of, batch_rows, placeholders};

/// A case to store with the events that have already happened to it (the first must be `created`).
#[derive(Debug, Clone)]
pub struct NewCaseRecord {
    pub case: NewCase,
    pub events: Vec<CaseEvent>,
    /// The clocks the case runs on for good: those in force where and when it was filed (decided at intake). Its
    /// events are checked against them, and they are recorded with it.
    pub clocks: ClockConfig,
}

/// A new case whose log the rules allowed, with the status it replays to.
pub(crate) struct CheckedCase {
    pub record: NewCaseRecord,
    pub status: CaseStatus,
}

impl CheckedCase {
    /// Checks every event of `record`'s log against the events before it, on its clocks; `index` names the case in
    /// errors (its id is not known yet).
    pub(crate) fn new(
        record: NewCaseRecord,
        index: usize,
        access: Option<&CaseAccessRow>,
        calendar: &domain::calendar::Calendar,
    ) -> Result<CheckedCase, StoreError> {
        let subject = Subject {
            case: index as i64,
            kind: record.case.kind,
            channel: record.case.channel,
            category: &record.case.category,
            resident: resident(access, record.case.reporter.as_ref()),
            clocks: &record.clocks,
            calendar,
        };
        let status = check_log(&subject, &record.events, 1)?;
        Ok(CheckedCase { record, status })
    }
}

/// The stored row of a case: what it is plus the projection of its log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CaseRow {
    pub id: CaseId,
    pub kind: CaseKind,
    pub channel: Channel,
    pub category: String,
    pub description: String,
    pub location: Location,
    pub co_signers: u32,
    /// The answers to the category's questions, by code.
    pub answers: std::collections::BTreeMap<String, String>,
    pub state: String,
    pub office: String,
    pub created_at: i64,
    pub first_reply_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub rating: Option<String>,
    pub last_seq: i64,
    /// The clocks the case runs on, recorded when it was stored; `None` for a case stored before cases recorded
    /// theirs (it runs on the clocks its filing date and place resolve to).
    #[serde(skip)]
    pub clocks: Option<Arc<ClockConfig>>,
}

/// A case with its reporter and whole log.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub row: CaseRow,
    pub reporter: Option<Reporter>,
    pub events: Vec<CaseEvent>,
}

fn epoch(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn from_epoch(s: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(s).map_err(|e| StoreError::Corrupt(format!("timestamp {s}: {e}")))
}

fn rating_name(status: &CaseStatus) -> Option<String> {
    status
        .rating
        .and_then(|r| serde_json::to_value(r).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

pub(crate) const CASE_COLUMNS: &str = "id, kind, channel, category, description, unit, grid, lat, lon, co_signers, state, office, \
                            created_at, first_reply_at, closed_at, rating, last_seq, clocks_version, answers";

/// The clocks on record by version, each parsed once per read (there are as many as distinct policies ever in force).
#[derive(Debug, Default)]
pub(crate) struct ClockVersions(HashMap<String, Arc<ClockConfig>>);

impl ClockVersions {
    pub(crate) async fn load<'e, E: sqlx::Executor<'e, Database = Any>>(
        executor: E,
    ) -> Result<ClockVersions, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT version, clocks FROM clock_versions")
            .fetch_all(executor)
            .await?;
        rows.into_iter()
            .map(|(version, json)| {
                let clocks: ClockConfig = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("clock version {version}: {e}")))?;
                Ok((version, Arc::new(clocks)))
            })
            .collect::<Result<_, StoreError>>()
            .map(ClockVersions)
    }
}

pub(crate) fn case_row(row: &AnyRow, versions: &ClockVersions) -> Result<CaseRow, StoreError> {
    let clocks_version: Option<String> = row.try_get("clocks_version")?;
    let clocks = match clocks_version {
        Some(version) => Some(
            versions
                .0
                .get(&version)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("clock version {version} is not on record")))?,
        ),
        None => None,
    };
    let kind: String = row.try_get("kind")?;
    let channel: String = row.try_get("channel")?;
    let unit: String = row.try_get("unit")?;
    let co_signers: i64 = row.try_get("co_signers")?;
    let answers: Option<String> = row.try_get("answers")?;
    let answers = match answers {
        Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("answers {json:?}: {e}")))?,
        None => Default::default(),
    };
    Ok(CaseRow {
        id: row.try_get("id")?,
        kind: CaseKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown case kind {kind:?}")))?,
        channel: Channel::parse(&channel).ok_or_else(|| StoreError::Corrupt(format!("unknown channel {channel:?}")))?,
        category: row.try_get("category")?,
        description: row.try_get("description")?,
        location: Location {
            lat: row.try_get("lat")?,
            lon: row.try_get("lon")?,
            unit: UnitCode::parse(&unit).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            grid: row.try_get("grid")?,
        },
        co_signers: u32::try_from(co_signers).unwrap_or(0),
        answers,
        state: row.try_get("state")?,
        office: row.try_get("office")?,
        created_at: row.try_get("created_at")?,
        first_reply_at: row.try_get("first_reply_at")?,
        closed_at: row.try_get("closed_at")?,
        rating: row.try_get("rating")?,
        last_seq: row.try_get("last_seq")?,
        clocks,
    })
}

/// Filters for listing cases.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Cases located in this unit's subtree.
    pub under: Option<UnitCode>,
    /// Also the cases this office holds or was summoned to by a whistle, wherever they lie: the reach of a staff
    /// member's listing (`domain::access::ListScope::Subtree`). Only with `under`.
    pub or_office: Option<String>,
    pub state: Option<String>,
    /// Only open cases (states with `CaseState::is_open`).
    pub open_only: bool,
    /// Only the cases this office holds.
    pub office: Option<String>,
    pub kind: Option<CaseKind>,
    pub category: Option<String>,
    pub grid: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// The SQL list of the closed states, derived from the one definition `CaseState::is_open`.
pub(crate) fn closed_states_sql() -> String {
    domain::CaseState::ALL
        .into_iter()
        .filter(|s| !s.is_open())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Stores cases with their logs in one transaction and returns their ids in input order. Every event of each log
    /// must pass [`domain::rules`] against the events before it, on the clocks the case records; a log the rules
    /// refuse is an error naming the rule, and nothing is written.
    pub async fn insert_cases(
        &self,
        cases: &[NewCaseRecord],
        rules: &impl RuleBook,
    ) -> Result<Vec<CaseId>, StoreError> {
        let checked = cases
            .iter()
            .enumerate()
            .map(|(i, c)| CheckedCase::new(c.clone(), i, None, rules.calendar()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.pool.begin().await?;
        let refs: Vec<&CheckedCase> = checked.iter().collect();
        let ids = insert_cases_in(&mut tx, &refs).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Appends events to a case's log if nobody else appended since `expected_last_seq`, and returns the status the
    /// log now replays to. In one transaction the store reads the case and its log, checks each event against
    /// [`domain::rules`] on the clocks the case runs on, and writes the events with the projection: an event the rules
    /// refuse is an error naming the rule, and nothing is written.
    pub async fn append_events(
        &self,
        case: CaseId,
        expected_last_seq: i64,
        events: &[CaseEvent],
        rules: &impl RuleBook,
    ) -> Result<CaseStatus, StoreError> {
        let mut tx = self.pool.begin().await?;
        let versions = ClockVersions::load(&mut *tx).await?;
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(case)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NoSuchCase(case))?;
        let row = case_row(&row, &versions)?;
        if row.last_seq != expected_last_seq {
            return Err(StoreError::Conflict {
                case,
                expected: expected_last_seq,
            });
        }
        let reporter: Option<(String, String)> =
            sqlx::query_as("SELECT name, contact FROM reporters WHERE case_id = $1")
                .bind(case)
                .fetch_optional(&mut *tx)
                .await?;
        let reporter = reporter.map(|(name, contact)| Reporter { name, contact });
        let account: Option<(Option<String>,)> =
            sqlx::query_as("SELECT reporter_account FROM case_access WHERE case_id = $1")
                .bind(case)
                .fetch_optional(&mut *tx)
                .await?;
        let access = CaseAccessRow {
            reporter_account: account.and_then(|a| a.0),
            ..CaseAccessRow::default()
        };
        let mut log = events_in(&mut tx, case).await?;
        let first_new = log.len();
        log.extend(events.iter().cloned());
        let unrecorded;
        let clocks: &ClockConfig = match &row.clocks {
            Some(clocks) => clocks,
            None => {
                unrecorded = rules.unrecorded_clocks(&row);
                &unrecorded
            }
        };
        let subject = Subject {
            case,
            kind: row.kind,
            channel: row.channel,
            category: &row.category,
            resident: resident(Some(&access), reporter.as_ref()),
            clocks,
            calendar: rules.calendar(),
        };
        let status = check_log(&subject, &log, first_new)?;
        let new_last = expected_last_seq + events.len() as i64;
        let updated = sqlx::query(
            "UPDATE cases SET state = $1, office = $2, first_reply_at = $3, closed_at = $4, rating = $5, last_seq = $6, \
             co_signers = co_signers + $9 WHERE id = $7 AND last_seq = $8",
        )
        .bind(status.state.as_str())
        .bind(status.office.as_str())
        .bind(status.first_reply_at.map(epoch))
        .bind(status.closed_at.map(epoch))
        .bind(rating_name(&status))
        .bind(new_last)
        .bind(case)
        .bind(expected_last_seq)
        // The voices this append adds (the column starts at the co-signers counted at intake).
        .bind(
            events
                .iter()
                .filter(|e| matches!(e.kind, domain::EventKind::CoSigned { .. }))
                .count() as i64,
        )
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                case,
                expected: expected_last_seq,
            });
        }
        let rows: Vec<(CaseId, i64, &CaseEvent)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (case, expected_last_seq + 1 + i as i64, e))
            .collect();
        insert_events(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(status)
    }

    pub async fn load_case(&self, id: CaseId) -> Result<CaseRecord, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NoSuchCase(id))?;
        let row = case_row(&row, &ClockVersions::load(&self.pool).await?)?;
        let reporter: Option<(String, String)> =
            sqlx::query_as("SELECT name, contact FROM reporters WHERE case_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let events = self.load_events(id).await?;
        Ok(CaseRecord {
            row,
            reporter: reporter.map(|(name, contact)| Reporter { name, contact }),
            events,
        })
    }

    pub async fn load_events(&self, id: CaseId) -> Result<Vec<CaseEvent>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        events_of(&mut conn, id).await
    }

    pub async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        match (&filter.under, &filter.or_office) {
            (Some(_), Some(_)) => {
                // A whistle's payload is `{"type":"whistle","offices":[…],"due":…,"reason":…}`: the office's quoted
                // id before `],"due":` can only be an element of `offices` (a quote inside the reason is escaped).
                sql += &format!(
                    " AND (unit LIKE {} OR office = {} OR id IN (SELECT case_id FROM case_events \
                     WHERE kind = 'whistle' AND payload LIKE {} ESCAPE '\\'))",
                    next(),
                    next(),
                    next()
                );
            }
            (Some(_), None) => sql += &format!(" AND unit LIKE {}", next()),
            _ => {}
        }
        if filter.state.is_some() {
            sql += &format!(" AND state = {}", next());
        }
        if filter.open_only {
            sql += &format!(" AND state NOT IN ({})", closed_states_sql());
        }
        if filter.office.is_some() {
            sql += &format!(" AND office = {}", next());
        }
        if filter.kind.is_some() {
            sql += &format!(" AND kind = {}", next());
        }
        if filter.category.is_some() {
            sql += &format!(" AND category = {}", next());
        }
        if filter.grid.is_some() {
            sql += &format!(" AND grid = {}", next());
        }
        if filter.created_from.is_some() {
            sql += &format!(" AND created_at >= {}", next());
        }
        if filter.created_to.is_some() {
            sql += &format!(" AND created_at < {}", next());
        }
        sql += &format!(" ORDER BY id LIMIT {} OFFSET {}", next(), next());
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(u) = &filter.under {
            q = q.bind(format!("{u}%"));
            if let Some(office) = &filter.or_office {
                let quoted = serde_json::to_string(office).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let escaped = quoted.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                q = q
                    .bind(office.clone())
                    .bind(format!("%\"offices\":[%{escaped}%],\"due\":%"));
            }
        }
        if let Some(s) = &filter.state {
            q = q.bind(s.clone());
        }
        if let Some(o) = &filter.office {
            q = q.bind(o.clone());
        }
        if let Some(k) = filter.kind {
            q = q.bind(k.as_str());
        }
        if let Some(c) = &filter.category {
            q = q.bind(c.clone());
        }
        if let Some(g) = &filter.grid {
            q = q.bind(g.clone());
        }
        if let Some(t) = filter.created_from {
            q = q.bind(t);
        }
        if let Some(t) = filter.created_to {
            q = q.bind(t);
        }
        q = q.bind(filter.limit).bind(filter.offset);
        let versions = ClockVersions::load(&self.pool).await?;
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| case_row(r, &versions))
            .collect()
    }

    /// Every case row (projection only, no logs), for reports and panels.
    pub async fn all_case_rows(&self) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases ORDER BY id");
        let versions = ClockVersions::load(&self.pool).await?;
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| case_row(r, &versions))
            .collect()
    }

    pub async fn count_cases(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

/// Writes cases whose logs the rules allowed, with the clocks each runs on; their ids in input order.
pub(crate) async fn insert_cases_in(
    tx: &mut Transaction<'_, Any>,
    checked: &[&CheckedCase],
) -> Result<Vec<CaseId>, StoreError> {
    // A batch holds few distinct clocks (usually one): each is serialised and hashed once.
    let mut versions: Vec<(&ClockConfig, String, String)> = Vec::new();
    let mut version_of = Vec::with_capacity(checked.len());
    for c in checked {
        let clocks = &c.record.clocks;
        let version = match versions.iter().find(|(known, _, _)| *known == clocks) {
            Some((_, version, _)) => version.clone(),
            None => {
                let (version, json) = clocks_version(clocks)?;
                versions.push((clocks, version.clone(), json));
                version
            }
        };
        version_of.push(version);
    }
    for (_, version, json) in &versions {
        sqlx::query("INSERT INTO clock_versions (version, clocks) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING")
            .bind(version.clone())
            .bind(json.clone())
            .execute(&mut **tx)
            .await?;
    }
    let mut ids = Vec::with_capacity(checked.len());
    // PostgreSQL (and Citus, where the rows of one insert land on different shards and RETURNING comes back in no
    // particular order) takes ids drawn beforehand from the column's sequence, in one query; SQLite, a single
    // writer, numbers the rows of one insert in VALUES order.
    let drawn = draw_case_ids(tx, checked.len()).await?;
    const COLS: usize = 19;
    for (i, (chunk, chunk_versions)) in checked
        .chunks(batch_rows(COLS))
        .zip(version_of.chunks(batch_rows(COLS)))
        .enumerate()
    {
        // Without drawn ids, the id is bound to NULL and SQLite picks it (a NULL INTEGER PRIMARY KEY is the next rowid).
        let chunk_drawn = drawn.as_ref().map(|d| &d[i * batch_rows(COLS)..][..chunk.len()]);
        let sql = format!(
            "INSERT INTO cases (id, kind, channel, category, description, unit, grid, lat, lon, co_signers, state, \
             office, created_at, first_reply_at, closed_at, rating, last_seq, clocks_version, answers) VALUES {} RETURNING id",
            placeholders(backend_of(tx), chunk.len(), COLS)
        );
        let mut q = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql));
        for (k, (checked, version)) in chunk.iter().zip(chunk_versions).enumerate() {
            let (c, s) = (&checked.record, &checked.status);
            let loc = &c.case.location;
            q = q
                .bind(chunk_drawn.map(|d| d[k]))
                .bind(c.case.kind.as_str())
                .bind(c.case.channel.as_str())
                .bind(c.case.category.clone())
                .bind(c.case.description.clone())
                .bind(loc.unit.as_str().to_string())
                .bind(loc.grid.clone())
                .bind(loc.lat)
                .bind(loc.lon)
                .bind(i64::from(c.case.co_signers))
                .bind(s.state.as_str())
                .bind(s.office.clone())
                .bind(epoch(s.created_at))
                .bind(s.first_reply_at.map(epoch))
                .bind(s.closed_at.map(epoch))
                .bind(rating_name(s))
                .bind(c.events.len() as i64)
                .bind(version.clone())
                .bind((!c.case.answers.is_empty()).then(|| serde_json::to_string(&c.case.answers).unwrap_or_default()));
        }
        let mut chunk_ids: Vec<i64> = q.fetch_all(&mut **tx).await?.into_iter().map(|r| r.0).collect();
        match chunk_drawn {
            Some(drawn) => ids.extend_from_slice(drawn),
            None => {
                // SQLite assigns the ids of one multi-row insert in VALUES order; sorting makes the mapping independent
                // of the order in which RETURNING hands them back.
                chunk_ids.sort_unstable();
                ids.extend(chunk_ids);
            }
        }
    }
    let cases: Vec<&NewCaseRecord> = checked.iter().map(|c| &c.record).collect();
    let reporters: Vec<(CaseId, &Reporter)> = ids
        .iter()
        .zip(&cases)
        .filter_map(|(id, c)| c.case.reporter.as_ref().map(|r| (*id, r)))
        .collect();
    for chunk in reporters.chunks(batch_rows(3)) {
        let sql = format!(
            "INSERT INTO reporters (case_id, name, contact) VALUES {}",
            placeholders(backend_of(tx), chunk.len(), 3)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, r) in chunk {
            q = q.bind(*id).bind(r.name.clone()).bind(r.contact.clone());
        }
        q.execute(&mut **tx).await?;
    }
    let events: Vec<(CaseId, i64, &CaseEvent)> = ids
        .iter()
        .zip(&cases)
        .flat_map(|(id, c)| c.events.iter().enumerate().map(move |(i, e)| (*id, i as i64 + 1, e)))
        .collect();
    insert_events(tx, &events).await?;
    Ok(ids)
}

/// `n` new case ids drawn from the sequence of `cases.id` in one query on PostgreSQL; `None` on SQLite.
async fn draw_case_ids(tx: &mut Transaction<'_, Any>, n: usize) -> Result<Option<Vec<i64>>, StoreError> {
    if tx.backend_name() != "PostgreSQL" {
        return Ok(None);
    }
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1)")
            .bind(n as i64)
            .fetch_all(&mut **tx)
            .await?;
    Ok(Some(rows.into_iter().map(|r| r.0).collect()))
}

async fn insert_events(tx: &mut Transaction<'_, Any>, events: &[(CaseId, i64, &CaseEvent)]) -> Result<(), StoreError> {
    for chunk in events.chunks(batch_rows(6)) {
        let sql = format!(
            "INSERT INTO case_events (case_id, seq, at, actor, kind, payload) VALUES {}",
            placeholders(backend_of(tx), chunk.len(), 6)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, seq, e) in chunk {
            let payload = serde_json::to_string(&e.kind).map_err(|err| StoreError::Corrupt(err.to_string()))?;
            q = q
                .bind(*id)
                .bind(*seq)
                .bind(epoch(e.at))
                .bind(e.actor.clone())
                .bind(e.kind.name())
                .bind(payload);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The log of case `id` as the transaction `tx` sees it.
async fn events_in(tx: &mut Transaction<'_, Any>, id: CaseId) -> Result<Vec<CaseEvent>, StoreError> {
    events_of(tx, id).await
}

async fn events_of(conn: &mut sqlx::AnyConnection, id: CaseId) -> Result<Vec<CaseEvent>, StoreError> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT at, actor, payload FROM case_events WHERE case_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    rows.into_iter()
        .map(|(at, actor, payload)| {
            let kind: EventKind = serde_json::from_str(&payload)
                .map_err(|e| StoreError::Corrupt(format!("case {id}: event payload {payload:?}: {e}")))?;
            Ok(CaseEvent {
                at: from_epoch(at)?,
                actor,
                kind,
            })
        })
        .collect()
}
