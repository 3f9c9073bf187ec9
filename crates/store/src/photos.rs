//! Photos of reports: saved under the draft's upload token before the case exists, attached when it is filed, read
//! by id. The bytes are already cleaned (re-encoded, no metadata) by `app`; the store only keeps them.

use sqlx::Row;

use crate::{Store, StoreError};

/// A photo as uploaded and cleaned, ready to store.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub image: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// One stored photo (the full image or its thumbnail) and the case it belongs to, if filed.
#[derive(Debug, Clone)]
pub struct PhotoRow {
    pub id: i64,
    pub case_id: Option<i64>,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Keeps `photo` under `token` and returns its id, unless the token already holds `max` photos (then nothing is
    /// stored and `None` comes back).
    pub async fn save_upload(
        &self,
        token: &str,
        photo: &NewPhoto,
        max: usize,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let held: i64 = sqlx::query("SELECT COUNT(*) AS n FROM case_photos WHERE upload_token = $1")
            .bind(token)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if held >= max as i64 {
            return Ok(None);
        }
        let id: i64 = sqlx::query(
            "INSERT INTO case_photos (upload_token, case_id, content_type, width, height, image, thumbnail, created_at) \
             VALUES ($1, NULL, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(token)
        .bind(photo.content_type.as_str())
        .bind(i64::from(photo.width))
        .bind(i64::from(photo.height))
        .bind(photo.image.clone())
        .bind(photo.thumbnail.clone())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The ids of the photos waiting under `token` (not yet attached to a case), oldest first.
    pub async fn uploads_of(&self, token: &str) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT id FROM case_photos WHERE upload_token = $1 AND case_id IS NULL ORDER BY id")
            .bind(token)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Attaches the photos waiting under `token` to `case`; returns how many.
    pub async fn attach_uploads(&self, token: &str, case: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("UPDATE case_photos SET case_id = $1 WHERE upload_token = $2 AND case_id IS NULL")
            .bind(case)
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The ids of a case's photos, in the order they were uploaded.
    pub async fn photo_ids_of(&self, case: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT id FROM case_photos WHERE case_id = $1 ORDER BY id")
            .bind(case)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// One photo, full size or its thumbnail (always JPEG).
    pub async fn photo(&self, id: i64, thumbnail: bool) -> Result<Option<PhotoRow>, StoreError> {
        let sql = if thumbnail {
            "SELECT id, case_id, 'image/jpeg' AS content_type, thumbnail AS bytes FROM case_photos WHERE id = $1"
        } else {
            "SELECT id, case_id, content_type, image AS bytes FROM case_photos WHERE id = $1"
        };
        let Some(row) = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        Ok(Some(PhotoRow {
            id: row.try_get("id")?,
            case_id: row.try_get("case_id")?,
            content_type: row.try_get("content_type")?,
            bytes: row.try_get("bytes")?,
        }))
    }

    /// Deletes uploads never attached to a case and older than `before` (epoch seconds); returns how many.
    pub async fn purge_stale_uploads(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM case_photos WHERE case_id IS NULL AND created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
