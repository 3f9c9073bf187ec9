//! Self-governance compacts (versions, clauses, comments, the secret ballot, the lifecycle trail) and consultations
//! (invitations, opinions with their replies, residents' comments).
//!
//! The store holds what `domain::participation` decided; every write is one transaction. The ballot is secret by the
//! shape of the tables: `compact_voters` says who voted (no time, no choice) and `compact_tallies` only how many voted
//! each way, both changed in the same transaction, so no row ties a ballot to a voter.

use sqlx::AssertSqlSafe;

use crate::{Store, StoreError};

/// One version of a compact.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactRow {
    pub id: i64,
    pub unit: String,
    pub version: i64,
    pub title: String,
    pub state: String,
    pub drafted_by: String,
    pub drafted_at: i64,
    pub comment_until: Option<i64>,
    pub vote_closes: Option<i64>,
    pub electorate: Option<i64>,
    pub filed_at: Option<i64>,
}

/// A lifecycle event of a compact version, or of a consultation.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipationEventRow {
    pub action: String,
    pub actor: String,
    pub at: i64,
    pub detail: String,
}

/// A comment of a resident (on a compact clause or a consultation).
#[derive(Debug, Clone, PartialEq)]
pub struct CommentRow {
    pub id: i64,
    /// The clause commented on, for a compact.
    pub clause: Option<i64>,
    pub author: String,
    pub body: String,
    pub at: i64,
}

/// The change a lifecycle step makes to a compact version; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompactChange {
    pub comment_until: Option<i64>,
    pub vote_closes: Option<i64>,
    pub electorate: Option<i64>,
    pub filed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsultationRow {
    pub id: i64,
    pub unit: String,
    pub subject_kind: String,
    pub subject_ref: String,
    pub title: String,
    pub draft: String,
    pub state: String,
    pub opened_by: String,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub adopted_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvitationRow {
    pub account: String,
    pub display_name: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpinionRow {
    pub id: i64,
    pub account: String,
    pub body: String,
    pub at: i64,
    pub verdict: Option<String>,
    pub reason: Option<String>,
    pub replied_at: Option<i64>,
    pub replied_by: Option<String>,
}

type CompactTuple = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

const COMPACT_COLUMNS: &str =
    "id, unit, version, title, state, drafted_by, drafted_at, comment_until, vote_closes, electorate, filed_at";

fn compact_row(t: CompactTuple) -> CompactRow {
    let (id, unit, version, title, state, drafted_by, drafted_at, comment_until, vote_closes, electorate, filed_at) = t;
    CompactRow {
        id,
        unit,
        version,
        title,
        state,
        drafted_by,
        drafted_at,
        comment_until,
        vote_closes,
        electorate,
        filed_at,
    }
}

type ConsultationTuple = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

const CONSULTATION_COLUMNS: &str =
    "id, unit, subject_kind, subject_ref, title, draft, state, opened_by, opened_at, closed_at, adopted_at";

fn consultation_row(t: ConsultationTuple) -> ConsultationRow {
    let (id, unit, subject_kind, subject_ref, title, draft, state, opened_by, opened_at, closed_at, adopted_at) = t;
    ConsultationRow {
        id,
        unit,
        subject_kind,
        subject_ref,
        title,
        draft,
        state,
        opened_by,
        opened_at,
        closed_at,
        adopted_at,
    }
}

impl Store {
    /// Stores a new draft version of `unit`'s compact (the next version number) with its clauses and a `drafted`
    /// event; returns the new row.
    pub async fn insert_compact(
        &self,
        unit: &str,
        title: &str,
        clauses: &[String],
        drafted_by: &str,
        at: i64,
    ) -> Result<CompactRow, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM compacts WHERE unit = $1")
            .bind(unit)
            .fetch_one(&mut *tx)
            .await?;
        let version = last.unwrap_or(0) + 1;
        let row: CompactTuple = sqlx::query_as(AssertSqlSafe(format!(
            "INSERT INTO compacts (unit, version, title, state, drafted_by, drafted_at) \
             VALUES ($1, $2, $3, 'draft', $4, $5) RETURNING {COMPACT_COLUMNS}"
        )))
        .bind(unit)
        .bind(version)
        .bind(title)
        .bind(drafted_by)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let row = compact_row(row);
        for (i, body) in clauses.iter().enumerate() {
            sqlx::query("INSERT INTO compact_clauses (compact_id, number, body) VALUES ($1, $2, $3)")
                .bind(row.id)
                .bind(i as i64 + 1)
                .bind(body)
                .execute(&mut *tx)
                .await?;
        }
        insert_compact_event(
            &mut tx,
            row.id,
            "drafted",
            drafted_by,
            at,
            &format!("version {version}"),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn compact(&self, id: i64) -> Result<Option<CompactRow>, StoreError> {
        let row: Option<CompactTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COMPACT_COLUMNS} FROM compacts WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(compact_row))
    }

    /// Every version of every compact in the subtree of `under` (all when `None`), by unit then version.
    pub async fn compacts(&self, under: Option<&str>) -> Result<Vec<CompactRow>, StoreError> {
        let rows: Vec<CompactTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COMPACT_COLUMNS} FROM compacts WHERE unit LIKE $1 ORDER BY unit, version"
        )))
        .bind(format!("{}%", under.unwrap_or_default()))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(compact_row).collect())
    }

    /// The clauses of a version, in order: (number, text).
    pub async fn compact_clauses(&self, id: i64) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT number, body FROM compact_clauses WHERE compact_id = $1 ORDER BY number")
                .bind(id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn compact_events(&self, id: i64) -> Result<Vec<ParticipationEventRow>, StoreError> {
        let rows: Vec<(String, String, i64, String)> =
            sqlx::query_as("SELECT action, actor, at, detail FROM compact_events WHERE compact_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(action, actor, at, detail)| ParticipationEventRow {
                action,
                actor,
                at,
                detail,
            })
            .collect())
    }

    /// Moves a version from `from` to `to`, setting the columns `change` names and recording the event, only if it is
    /// still in `from`: `Ok(false)` when someone else moved it first (nothing written).
    pub async fn step_compact(
        &self,
        id: i64,
        from: &str,
        to: &str,
        change: &CompactChange,
        event: &ParticipationEventRow,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE compacts SET state = $1, comment_until = COALESCE($2, comment_until), \
             vote_closes = COALESCE($3, vote_closes), electorate = COALESCE($4, electorate), \
             filed_at = COALESCE($5, filed_at) WHERE id = $6 AND state = $7",
        )
        .bind(to)
        .bind(change.comment_until)
        .bind(change.vote_closes)
        .bind(change.electorate)
        .bind(change.filed_at)
        .bind(id)
        .bind(from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        if to == "filed" {
            // The version in force before this one is superseded in the same transaction: one compact in force.
            let (unit,): (String,) = sqlx::query_as("SELECT unit FROM compacts WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let old: Vec<(i64,)> =
                sqlx::query_as("SELECT id FROM compacts WHERE unit = $1 AND state = 'filed' AND id <> $2")
                    .bind(&unit)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            for (old_id,) in old {
                sqlx::query("UPDATE compacts SET state = 'superseded' WHERE id = $1")
                    .bind(old_id)
                    .execute(&mut *tx)
                    .await?;
                let detail = format!("superseded by compact {id}");
                insert_compact_event(&mut tx, old_id, "superseded", &event.actor, event.at, &detail).await?;
            }
        }
        insert_compact_event(&mut tx, id, &event.action, &event.actor, event.at, &event.detail).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The active resident accounts whose home lies in `unit`'s subtree: a vote's electorate.
    pub async fn count_residents(&self, unit: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE role = 'resident' AND disabled = 0 AND scope LIKE $1")
                .bind(format!("{unit}%"))
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    pub async fn add_compact_comment(
        &self,
        id: i64,
        clause: Option<i64>,
        author: &str,
        body: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        let (comment,): (i64,) = sqlx::query_as(
            "INSERT INTO compact_comments (compact_id, clause, author, body, at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(id)
        .bind(clause)
        .bind(author)
        .bind(body)
        .bind(at)
        .fetch_one(&self.pool)
        .await?;
        Ok(comment)
    }

    pub async fn compact_comments(&self, id: i64) -> Result<Vec<CommentRow>, StoreError> {
        let rows: Vec<(i64, Option<i64>, String, String, i64)> = sqlx::query_as(
            "SELECT id, clause, author, body, at FROM compact_comments WHERE compact_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, clause, author, body, at)| CommentRow {
                id,
                clause,
                author,
                body,
                at,
            })
            .collect())
    }

    /// Whether `account` is in the register of voters of a version.
    pub async fn has_voted(&self, id: i64, account: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM compact_voters WHERE compact_id = $1 AND account = $2")
            .bind(id)
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Casts a secret ballot: adds `account` to the register of voters and one to the count of `choice`, both or
    /// neither, while the version is `voting` and its vote closes after `now`. `Ok(false)` when the account had
    /// already voted or the vote is no longer open (nothing written).
    pub async fn cast_ballot(&self, id: i64, account: &str, choice: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let registered = sqlx::query(
            "INSERT INTO compact_voters (compact_id, account) SELECT $1, $2 WHERE EXISTS \
             (SELECT 1 FROM compacts WHERE id = $1 AND state = 'voting' AND vote_closes > $3) \
             ON CONFLICT (compact_id, account) DO NOTHING",
        )
        .bind(id)
        .bind(account)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if registered == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO compact_tallies (compact_id, choice, votes) VALUES ($1, $2, 1) \
             ON CONFLICT (compact_id, choice) DO UPDATE SET votes = compact_tallies.votes + 1",
        )
        .bind(id)
        .bind(choice)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The counts of a version's vote: (choice, votes).
    pub async fn compact_tally(&self, id: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT choice, votes FROM compact_tallies WHERE compact_id = $1 ORDER BY choice")
                .bind(id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// How many accounts are in the register of voters of a version.
    pub async fn count_voters(&self, id: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM compact_voters WHERE compact_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Opens a consultation with its invitations and an `opened` event; returns its id.
    pub async fn insert_consultation(
        &self,
        c: &ConsultationRow,
        invitations: &[InvitationRow],
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO consultations (unit, subject_kind, subject_ref, title, draft, state, opened_by, opened_at) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) RETURNING id",
        )
        .bind(&c.unit)
        .bind(&c.subject_kind)
        .bind(&c.subject_ref)
        .bind(&c.title)
        .bind(&c.draft)
        .bind(&c.opened_by)
        .bind(c.opened_at)
        .fetch_one(&mut *tx)
        .await?;
        for invitation in invitations {
            sqlx::query(
                "INSERT INTO consultation_invitations (consultation_id, account, display_name, kind) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(&invitation.account)
            .bind(&invitation.display_name)
            .bind(&invitation.kind)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn consultation(&self, id: i64) -> Result<Option<ConsultationRow>, StoreError> {
        let row: Option<ConsultationTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(consultation_row))
    }

    /// The consultations of `under`'s subtree (all when `None`), newest first.
    pub async fn consultations(&self, under: Option<&str>) -> Result<Vec<ConsultationRow>, StoreError> {
        let rows: Vec<ConsultationTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CONSULTATION_COLUMNS} FROM consultations WHERE unit LIKE $1 ORDER BY id DESC"
        )))
        .bind(format!("{}%", under.unwrap_or_default()))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(consultation_row).collect())
    }

    /// Adds an invitation; `Ok(false)` when the account was already invited.
    pub async fn invite(&self, id: i64, invitation: &InvitationRow) -> Result<bool, StoreError> {
        let added = sqlx::query(
            "INSERT INTO consultation_invitations (consultation_id, account, display_name, kind) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (consultation_id, account) DO NOTHING",
        )
        .bind(id)
        .bind(&invitation.account)
        .bind(&invitation.display_name)
        .bind(&invitation.kind)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(added > 0)
    }

    pub async fn invitations(&self, id: i64) -> Result<Vec<InvitationRow>, StoreError> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT account, display_name, kind FROM consultation_invitations WHERE consultation_id = $1 \
             ORDER BY display_name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account, display_name, kind)| InvitationRow {
                account,
                display_name,
                kind,
            })
            .collect())
    }

    /// Records an opinion while the consultation is still open; `Ok(None)` when it is not (nothing written).
    pub async fn add_opinion(&self, id: i64, account: &str, body: &str, at: i64) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO consultation_opinions (consultation_id, account, body, at) SELECT $1, $2, $3, $4 \
             WHERE EXISTS (SELECT 1 FROM consultations WHERE id = $1 AND state = 'open') RETURNING id",
        )
        .bind(id)
        .bind(account)
        .bind(body)
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    pub async fn opinions(&self, id: i64) -> Result<Vec<OpinionRow>, StoreError> {
        type Tuple = (
            i64,
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Tuple> = sqlx::query_as(
            "SELECT id, account, body, at, verdict, reason, replied_at, replied_by FROM consultation_opinions \
             WHERE consultation_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, account, body, at, verdict, reason, replied_at, replied_by)| OpinionRow {
                    id,
                    account,
                    body,
                    at,
                    verdict,
                    reason,
                    replied_at,
                    replied_by,
                },
            )
            .collect())
    }

    /// Publishes the reply to an opinion of consultation `id` while it is closed (a later reply replaces an earlier
    /// one until adoption); `Ok(false)` when there is no such opinion or the consultation is not closed.
    pub async fn reply_to_opinion(
        &self,
        id: i64,
        opinion: i64,
        verdict: &str,
        reason: &str,
        by: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE consultation_opinions SET verdict = $1, reason = $2, replied_by = $3, replied_at = $4 \
             WHERE id = $5 AND consultation_id = $6 \
             AND EXISTS (SELECT 1 FROM consultations WHERE id = $6 AND state = 'closed')",
        )
        .bind(verdict)
        .bind(reason)
        .bind(by)
        .bind(at)
        .bind(opinion)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done > 0)
    }

    pub async fn add_consultation_comment(
        &self,
        id: i64,
        author: &str,
        body: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        let (comment,): (i64,) = sqlx::query_as(
            "INSERT INTO consultation_comments (consultation_id, author, body, at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(id)
        .bind(author)
        .bind(body)
        .bind(at)
        .fetch_one(&self.pool)
        .await?;
        Ok(comment)
    }

    pub async fn consultation_comments(&self, id: i64) -> Result<Vec<CommentRow>, StoreError> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT id, author, body, at FROM consultation_comments WHERE consultation_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, author, body, at)| CommentRow {
                id,
                clause: None,
                author,
                body,
                at,
            })
            .collect())
    }

    /// Closes (`open` → `closed`) or adopts (`closed` → `adopted`) a consultation. Adoption re-checks in the same
    /// statement that no opinion lacks a reply. `Ok(false)` when the state had moved or a reply is missing.
    pub async fn step_consultation(&self, id: i64, from: &str, to: &str, at: i64) -> Result<bool, StoreError> {
        let sql = match to {
            "adopted" => {
                "UPDATE consultations SET state = $1, adopted_at = $2 WHERE id = $3 AND state = $4 AND NOT EXISTS \
                 (SELECT 1 FROM consultation_opinions WHERE consultation_id = $3 AND verdict IS NULL)"
            }
            _ => "UPDATE consultations SET state = $1, closed_at = $2 WHERE id = $3 AND state = $4",
        };
        let moved = sqlx::query(sql)
            .bind(to)
            .bind(at)
            .bind(id)
            .bind(from)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(moved > 0)
    }
}

async fn insert_compact_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    action: &str,
    actor: &str,
    at: i64,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO compact_events (compact_id, action, actor, at, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(action)
        .bind(actor)
        .bind(at)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
