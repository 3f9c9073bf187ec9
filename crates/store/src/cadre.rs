//! Cadre support (issue 14): the overload alerts the guard raised, one per office or staff member per month.
//!
//! The store keeps what `domain::overload` decided; the unique key (subject, holder, month) is the guard's memory,
//! so a second tick in the same month records nothing new.

use crate::{Store, StoreError};

/// An overload alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OverloadAlertRow {
    /// `office` or `staff`.
    pub subject: String,
    /// The office id or the staff member's id.
    pub holder: String,
    pub office: String,
    /// The office's unit, for reading the alerts of a subtree.
    pub unit: String,
    /// `YYYY-MM`: the month the alert stands for.
    pub month: String,
    pub at: i64,
    pub open_cases: i64,
    pub workers: i64,
    pub threshold: i64,
    pub notified: Vec<String>,
}

type OverloadTuple = (String, String, String, String, String, i64, i64, i64, i64, String);

impl Store {
    /// Records the alerts not yet recorded for their subject, holder and month; returns those newly recorded. All in
    /// one transaction.
    pub async fn record_overload_alerts(
        &self,
        alerts: &[OverloadAlertRow],
    ) -> Result<Vec<OverloadAlertRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut recorded = Vec::new();
        for a in alerts {
            let done = sqlx::query(
                "INSERT INTO overload_alerts \
                 (subject, holder, office, unit, month, at, open_cases, workers, threshold, notified) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (subject, holder, month) DO NOTHING",
            )
            .bind(&a.subject)
            .bind(&a.holder)
            .bind(&a.office)
            .bind(&a.unit)
            .bind(&a.month)
            .bind(a.at)
            .bind(a.open_cases)
            .bind(a.workers)
            .bind(a.threshold)
            .bind(a.notified.join("\n"))
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 {
                recorded.push(a.clone());
            }
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// The overload alerts of the offices in the subtree of `under`, newest first.
    pub async fn overload_alerts_under(&self, under: &str) -> Result<Vec<OverloadAlertRow>, StoreError> {
        let rows: Vec<OverloadTuple> = sqlx::query_as(
            "SELECT subject, holder, office, unit, month, at, open_cases, workers, threshold, notified \
             FROM overload_alerts WHERE unit LIKE $1 ORDER BY at DESC, holder",
        )
        .bind(format!("{under}%"))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(subject, holder, office, unit, month, at, open_cases, workers, threshold, notified)| {
                    OverloadAlertRow {
                        subject,
                        holder,
                        office,
                        unit,
                        month,
                        at,
                        open_cases,
                        workers,
                        threshold,
                        notified: notified.lines().map(str::to_string).collect(),
                    }
                },
            )
            .collect())
    }
}
