//! Cadre support (issue 14): the overload alerts the guard raised, one per office or staff member per month, and
//! the peer-inspection rota (inspectors drawn per township and month, the sample of closed cases they audit).
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

/// One inspector drawn for a township and a month.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionDrawRow {
    pub township: String,
    pub month: String,
    pub inspector: String,
    pub from_unit: String,
    pub seed: i64,
    pub drawn_at: i64,
}

impl Store {
    /// Records a township's draw and sample for a month, all or nothing; a month already drawn is kept as it was
    /// (returns false), so a rota once published never changes under its inspectors.
    pub async fn record_inspection_draw(
        &self,
        draws: &[InspectionDrawRow],
        township: &str,
        month: &str,
        sample: &[i64],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (existing,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM inspection_draws WHERE township = $1 AND month = $2")
                .bind(township)
                .bind(month)
                .fetch_one(&mut *tx)
                .await?;
        if existing > 0 {
            return Ok(false);
        }
        for d in draws {
            sqlx::query(
                "INSERT INTO inspection_draws (township, month, inspector, from_unit, seed, drawn_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&d.township)
            .bind(&d.month)
            .bind(&d.inspector)
            .bind(&d.from_unit)
            .bind(d.seed)
            .bind(d.drawn_at)
            .execute(&mut *tx)
            .await?;
        }
        for case in sample {
            sqlx::query("INSERT INTO inspection_samples (township, month, case_id) VALUES ($1, $2, $3)")
                .bind(township)
                .bind(month)
                .bind(case)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The inspectors drawn for the townships under `under` in `month`, by township then inspector.
    pub async fn inspection_draws(&self, under: &str, month: &str) -> Result<Vec<InspectionDrawRow>, StoreError> {
        let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT township, month, inspector, from_unit, seed, drawn_at FROM inspection_draws \
             WHERE township LIKE $1 AND month = $2 ORDER BY township, inspector",
        )
        .bind(format!("{under}%"))
        .bind(month)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(township, month, inspector, from_unit, seed, drawn_at)| InspectionDrawRow {
                    township,
                    month,
                    inspector,
                    from_unit,
                    seed,
                    drawn_at,
                },
            )
            .collect())
    }

    /// The cases sampled for a township's audit in `month`, in id order.
    pub async fn inspection_sample(&self, township: &str, month: &str) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT case_id FROM inspection_samples WHERE township = $1 AND month = $2 ORDER BY case_id",
        )
        .bind(township)
        .bind(month)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The accounts drawn to inspect a case: the inspectors of every township-month whose sample holds it.
    pub async fn inspectors_of_case(&self, case: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT d.inspector FROM inspection_samples s JOIN inspection_draws d \
             ON d.township = s.township AND d.month = s.month WHERE s.case_id = $1 ORDER BY d.inspector",
        )
        .bind(case)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }
}
