//! Failed sign-ins per subject (an account name typed, a client address): the counts `domain::signin` turns into
//! waiting time (migration 0130). An attempt is counted before its password is checked, atomically, so a burst of
//! parallel guesses cannot all read the same count; a success takes its count back.

use domain::signin::Failures;
use sqlx::Row;

use crate::{Store, StoreError};

impl Store {
    /// The failures on record for `subject`.
    pub async fn sign_in_failures(&self, subject: &str) -> Result<Failures, StoreError> {
        let row = sqlx::query("SELECT failures, last_at FROM sign_in_failures WHERE subject = $1")
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Failures {
                count: u32::try_from(row.try_get::<i64, _>("failures")?).unwrap_or(u32::MAX),
                last_at: row.try_get("last_at")?,
            },
            None => Failures::default(),
        })
    }

    /// Counts one attempt of `subject` at `now` as a failure (starting again from one when the last failure was at or
    /// before `forget_before`); the count including this one.
    pub async fn count_sign_in_attempt(&self, subject: &str, now: i64, forget_before: i64) -> Result<u32, StoreError> {
        let row = sqlx::query(
            "INSERT INTO sign_in_failures (subject, failures, last_at) VALUES ($1, 1, $2) \
             ON CONFLICT (subject) DO UPDATE SET \
             failures = CASE WHEN sign_in_failures.last_at <= $3 THEN 1 ELSE sign_in_failures.failures + 1 END, \
             last_at = $4 \
             RETURNING failures",
        )
        .bind(subject)
        .bind(now)
        .bind(forget_before)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(row.try_get::<i64, _>("failures")?).unwrap_or(u32::MAX))
    }

    /// Forgets every failure of `subject` (an account that just signed in).
    pub async fn clear_sign_in_failures(&self, subject: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1")
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes back one attempt counted for `subject` (it turned out to be a success).
    pub async fn forgive_sign_in_attempt(&self, subject: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sign_in_failures SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END \
             WHERE subject = $1",
        )
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
