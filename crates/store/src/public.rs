//! Queries behind the public Open311 endpoint: cases by id, category, time and status, and the feed of case events
//! (FixMyStreet's `servicerequestupdates`). Only the kinds the caller names are returned, so private matters
//! (petitions, disputes) can be kept out of public output.

use domain::{CaseEvent, CaseId, CaseKind, EventKind, UnitCode};
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::cases::{CASE_COLUMNS, ClockVersions, case_row};
use crate::{CaseRow, Store, StoreError};

/// Filters of `GET requests`. Empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    pub ids: Vec<CaseId>,
    pub categories: Vec<String>,
    /// Only cases of these kinds (never empty: the caller says what is public).
    pub kinds: Vec<CaseKind>,
    /// `created_at` in `[from, to]`, epoch seconds; ignored when `ids` is given.
    pub from: i64,
    pub to: i64,
    /// `Some(true)` open only, `Some(false)` closed only.
    pub open: Option<bool>,
    /// Only cases located within this unit's subtree; ignored when `ids` is given.
    pub under: Option<UnitCode>,
    /// Newest first (a feed, a portal list) instead of oldest first (Open311's paging).
    pub newest_first: bool,
    pub limit: i64,
    pub offset: i64,
}

/// One event of the public feed.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub case_id: CaseId,
    pub seq: i64,
    pub event: CaseEvent,
    /// The case's state now (not at the event).
    pub case_state: String,
}

impl Store {
    pub async fn list_public_cases(&self, f: &PublicFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1");
        let bounded = f.from > i64::MIN || f.to < i64::MAX;
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let list =
            |len: usize, next: &mut dyn FnMut() -> String| (0..len).map(|_| next()).collect::<Vec<_>>().join(", ");
        sql += &format!(" AND kind IN ({})", list(f.kinds.len().max(1), &mut next));
        if !f.ids.is_empty() {
            sql += &format!(" AND id IN ({})", list(f.ids.len(), &mut next));
        } else {
            // Unbounded dates (a unit's whole list) leave the planner free to walk the unit's index.
            if bounded {
                sql += &format!(" AND created_at >= {} AND created_at <= {}", next(), next());
            }
            if !f.categories.is_empty() {
                sql += &format!(" AND category IN ({})", list(f.categories.len(), &mut next));
            }
            match f.open {
                Some(true) => sql += &format!(" AND state NOT IN ({})", crate::cases::closed_states_sql()),
                Some(false) => sql += &format!(" AND state IN ({})", crate::cases::closed_states_sql()),
                None => {}
            }
            if f.under.is_some() {
                // The subtree as a range of codes (a code's descendants extend it with digits, all below `~`), which
                // an index serves on every backend, unlike LIKE.
                sql += &format!(" AND unit >= {} AND unit < {}", next(), next());
            }
        }
        let order = if f.newest_first { "DESC" } else { "ASC" };
        sql += &format!(" ORDER BY id {order} LIMIT {} OFFSET {}", next(), next());
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if f.kinds.is_empty() {
            q = q.bind("none");
        }
        for k in &f.kinds {
            q = q.bind(k.as_str());
        }
        if !f.ids.is_empty() {
            for id in &f.ids {
                q = q.bind(*id);
            }
        } else {
            if bounded {
                q = q.bind(f.from).bind(f.to);
            }
            for c in &f.categories {
                q = q.bind(c.clone());
            }
            if let Some(u) = &f.under {
                q = q.bind(u.to_string()).bind(format!("{u}~"));
            }
        }
        q = q.bind(f.limit).bind(f.offset);
        let versions = ClockVersions::load(&self.pool).await?;
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| case_row(r, &versions))
            .collect()
    }

    /// Events recorded in `[from, to]` (epoch seconds) on cases of the given kinds, oldest first.
    pub async fn public_feed(
        &self,
        from: i64,
        to: i64,
        case: Option<CaseId>,
        kinds: &[CaseKind],
        limit: i64,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let marks: Vec<String> = (0..kinds.len().max(1)).map(|i| format!("${}", i + 4)).collect();
        let case_clause = if case.is_some() {
            format!(" AND e.case_id = ${}", marks.len() + 4)
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT e.case_id, e.seq, e.at, e.actor, e.payload, c.state FROM case_events e JOIN cases c ON c.id = e.case_id \
             WHERE e.at >= $1 AND e.at <= $2 AND c.kind IN ({}){case_clause} ORDER BY e.at, e.case_id, e.seq LIMIT $3",
            marks.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(from).bind(to).bind(limit);
        if kinds.is_empty() {
            q = q.bind("none");
        }
        for k in kinds {
            q = q.bind(k.as_str());
        }
        if let Some(id) = case {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let case_id: i64 = row.try_get("case_id")?;
                let at: i64 = row.try_get("at")?;
                let payload: String = row.try_get("payload")?;
                let kind: EventKind = serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("case {case_id}: event payload: {e}")))?;
                let at = OffsetDateTime::from_unix_timestamp(at)
                    .map_err(|e| StoreError::Corrupt(format!("timestamp {at}: {e}")))?;
                Ok(FeedEvent {
                    case_id,
                    seq: row.try_get("seq")?,
                    event: CaseEvent {
                        at,
                        actor: row.try_get("actor")?,
                        kind,
                    },
                    case_state: row.try_get("state")?,
                })
            })
            .collect()
    }
}
