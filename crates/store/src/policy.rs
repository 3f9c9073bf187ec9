//! Policy layer versions with their audit trail, and pilots with their lifecycle events, filings and adoptions.
//!
//! The store keeps text (TOML layers, pilot files, JSON filing records) and lets `domain::policy` and
//! `domain::pilot` interpret it; checks happen before anything is written here.

use crate::{Store, StoreError};

/// One saved version of a unit's layer.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersionRow {
    pub id: i64,
    pub unit: String,
    /// `YYYY-MM-DD`.
    pub effective_from: String,
    pub source: String,
    pub body: String,
    pub saved_at: i64,
    pub saved_by: String,
}

/// An audited policy event: `saved`, `rejected`, `codified`.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyEventRow {
    pub unit: String,
    pub effective_from: Option<String>,
    pub kind: String,
    pub source: String,
    pub actor: String,
    pub at: i64,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PilotRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    /// The pilot file as filed (TOML).
    pub spec: String,
    pub state: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PilotEventRow {
    pub action: String,
    pub actor: String,
    pub at: i64,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilingRow {
    pub filed_at: i64,
    pub filed_with: Option<String>,
    /// The filing as JSON (`domain::pilot::Filing`).
    pub record: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdoptionRow {
    /// Comma-separated unit codes.
    pub units: String,
    pub from_date: String,
    pub at: i64,
    pub actor: String,
}

impl Store {
    /// Stores an accepted version and its `saved` audit event in one transaction; returns the version's id.
    pub async fn save_policy_version(&self, v: &PolicyVersionRow, detail: &str) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO policy_versions (unit, effective_from, source, body, saved_at, saved_by) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&v.unit)
        .bind(&v.effective_from)
        .bind(&v.source)
        .bind(&v.body)
        .bind(v.saved_at)
        .bind(&v.saved_by)
        .fetch_one(&mut *tx)
        .await?;
        insert_event(
            &mut tx,
            &PolicyEventRow {
                unit: v.unit.clone(),
                effective_from: Some(v.effective_from.clone()),
                kind: "saved".into(),
                source: v.source.clone(),
                actor: v.saved_by.clone(),
                at: v.saved_at,
                detail: detail.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records an event that changes no version (e.g. a rejected save).
    pub async fn record_policy_event(&self, e: &PolicyEventRow) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_event(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The versions in force in the book: for each unit and day, the one saved last.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersionRow>, StoreError> {
        let rows: Vec<(i64, String, String, String, String, i64, String)> = sqlx::query_as(
            "SELECT id, unit, effective_from, source, body, saved_at, saved_by FROM policy_versions v \
             WHERE id = (SELECT MAX(id) FROM policy_versions w WHERE w.unit = v.unit AND w.effective_from = v.effective_from) \
             ORDER BY unit, effective_from",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, unit, effective_from, source, body, saved_at, saved_by)| PolicyVersionRow {
                    id,
                    unit,
                    effective_from,
                    source,
                    body,
                    saved_at,
                    saved_by,
                },
            )
            .collect())
    }

    /// The audit trail of policy changes, oldest first, for one unit or all.
    pub async fn policy_events(&self, unit: Option<&str>) -> Result<Vec<PolicyEventRow>, StoreError> {
        type Raw = (String, Option<String>, String, String, String, i64, String);
        let sql = "SELECT unit, effective_from, kind, source, actor, at, detail FROM policy_events \
                   WHERE ($1 = '' OR unit = $1) ORDER BY id";
        let rows: Vec<Raw> = sqlx::query_as(sql)
            .bind(unit.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(unit, effective_from, kind, source, actor, at, detail)| PolicyEventRow {
                    unit,
                    effective_from,
                    kind,
                    source,
                    actor,
                    at,
                    detail,
                },
            )
            .collect())
    }

    /// Creates a pilot with its filing and its first event (`file`) in one transaction; returns its id.
    pub async fn insert_pilot(
        &self,
        pilot: &PilotRow,
        filing: &FilingRow,
        event: &PilotEventRow,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO pilots (name, owner, spec, state, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&pilot.name)
        .bind(&pilot.owner)
        .bind(&pilot.spec)
        .bind(&pilot.state)
        .bind(pilot.created_at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO pilot_filings (pilot_id, filed_at, filed_with, record) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(filing.filed_at)
            .bind(&filing.filed_with)
            .bind(&filing.record)
            .execute(&mut *tx)
            .await?;
        insert_pilot_event(&mut tx, id, event).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn pilots(&self) -> Result<Vec<PilotRow>, StoreError> {
        let rows: Vec<PilotTuple> = sqlx::query_as(PILOT_COLUMNS_ORDERED).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(pilot_row).collect())
    }

    /// A pilot by id or by name.
    pub async fn pilot(&self, id_or_name: &str) -> Result<Option<PilotRow>, StoreError> {
        let id: i64 = id_or_name.parse().unwrap_or(-1);
        let row: Option<PilotTuple> = sqlx::query_as(
            "SELECT id, name, owner, spec, state, created_at FROM pilots WHERE id = $1 OR name = $2 ORDER BY id LIMIT 1",
        )
        .bind(id)
        .bind(id_or_name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(pilot_row))
    }

    /// Appends a lifecycle event and sets the pilot's new state, in one transaction.
    pub async fn append_pilot_event(
        &self,
        pilot_id: i64,
        event: &PilotEventRow,
        new_state: &str,
        adoption: Option<&AdoptionRow>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_pilot_event(&mut tx, pilot_id, event).await?;
        sqlx::query("UPDATE pilots SET state = $1 WHERE id = $2")
            .bind(new_state)
            .bind(pilot_id)
            .execute(&mut *tx)
            .await?;
        if let Some(a) = adoption {
            sqlx::query(
                "INSERT INTO pilot_adoptions (pilot_id, units, from_date, at, actor) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(pilot_id)
            .bind(&a.units)
            .bind(&a.from_date)
            .bind(a.at)
            .bind(&a.actor)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn pilot_events(&self, pilot_id: i64) -> Result<Vec<PilotEventRow>, StoreError> {
        let rows: Vec<(String, String, i64, String)> =
            sqlx::query_as("SELECT action, actor, at, detail FROM pilot_events WHERE pilot_id = $1 ORDER BY id")
                .bind(pilot_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(action, actor, at, detail)| PilotEventRow {
                action,
                actor,
                at,
                detail,
            })
            .collect())
    }

    pub async fn pilot_filings(&self, pilot_id: i64) -> Result<Vec<FilingRow>, StoreError> {
        let rows: Vec<(i64, Option<String>, String)> =
            sqlx::query_as("SELECT filed_at, filed_with, record FROM pilot_filings WHERE pilot_id = $1 ORDER BY id")
                .bind(pilot_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(filed_at, filed_with, record)| FilingRow {
                filed_at,
                filed_with,
                record,
            })
            .collect())
    }

    pub async fn pilot_adoptions(&self, pilot_id: i64) -> Result<Vec<AdoptionRow>, StoreError> {
        let rows: Vec<(String, String, i64, String)> =
            sqlx::query_as("SELECT units, from_date, at, actor FROM pilot_adoptions WHERE pilot_id = $1 ORDER BY id")
                .bind(pilot_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(units, from_date, at, actor)| AdoptionRow {
                units,
                from_date,
                at,
                actor,
            })
            .collect())
    }
}

type PilotTuple = (i64, String, String, String, String, i64);

const PILOT_COLUMNS_ORDERED: &str = "SELECT id, name, owner, spec, state, created_at FROM pilots ORDER BY id";

fn pilot_row((id, name, owner, spec, state, created_at): PilotTuple) -> PilotRow {
    PilotRow {
        id,
        name,
        owner,
        spec,
        state,
        created_at,
    }
}

async fn insert_event(tx: &mut sqlx::Transaction<'_, sqlx::Any>, e: &PolicyEventRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO policy_events (unit, effective_from, kind, source, actor, at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&e.unit)
    .bind(&e.effective_from)
    .bind(&e.kind)
    .bind(&e.source)
    .bind(&e.actor)
    .bind(e.at)
    .bind(&e.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_pilot_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pilot_id: i64,
    e: &PilotEventRow,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO pilot_events (pilot_id, action, actor, at, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(pilot_id)
        .bind(&e.action)
        .bind(&e.actor)
        .bind(e.at)
        .bind(&e.detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
