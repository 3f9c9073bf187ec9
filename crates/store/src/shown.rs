//! Many cases at once, each with everything a page shows of it: its log, its reporter (to mask in the text), its access
//! facts and its photos — four queries for a whole list instead of six per case.

use std::collections::HashMap;

use domain::CaseId;
use domain::case::Reporter;
use sqlx::{AssertSqlSafe, Row};

use crate::accounts::{ACCESS_COLUMNS, AccessColumns, access_row};
use crate::{CaseAccessRow, CaseRecord, CaseRow, Store, StoreError, batch_rows, placeholders};

/// One case of a list with its whole record, its access facts and the ids of its photos.
#[derive(Debug, Clone)]
pub struct ShownCase {
    pub record: CaseRecord,
    pub access: CaseAccessRow,
    pub photos: Vec<i64>,
}

impl Store {
    /// `rows` (as a listing returned them) with their logs, reporters, access facts and photos, in the same order.
    pub async fn shown_cases(&self, rows: Vec<CaseRow>) -> Result<Vec<ShownCase>, StoreError> {
        let ids: Vec<CaseId> = rows.iter().map(|r| r.id).collect();
        let mut logs = self.load_logs(&ids).await?;
        let mut reporters: HashMap<CaseId, Reporter> = HashMap::new();
        let mut access: HashMap<CaseId, CaseAccessRow> = HashMap::new();
        let mut photos: HashMap<CaseId, Vec<i64>> = HashMap::new();
        // The same `IN` lists as `load_logs`: one row of placeholders, as many ids as it binds in one statement.
        for chunk in ids.chunks(batch_rows(1)) {
            let list = placeholders(self.backend, 1, chunk.len());
            let sql = format!("SELECT case_id, name, contact FROM reporters WHERE case_id IN {list}");
            let mut q = sqlx::query_as::<_, (i64, String, String)>(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for (id, name, contact) in q.fetch_all(&self.pool).await? {
                reporters.insert(id, Reporter { name, contact });
            }
            let sql = format!("SELECT case_id, {ACCESS_COLUMNS} FROM case_access WHERE case_id IN {list}");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                let id: i64 = row.try_get(0)?;
                let columns: AccessColumns = (
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                    row.try_get(5)?,
                );
                access.insert(id, access_row(id, columns)?);
            }
            let sql = format!("SELECT case_id, id FROM case_photos WHERE case_id IN {list} ORDER BY id");
            let mut q = sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for (case, photo) in q.fetch_all(&self.pool).await? {
                photos.entry(case).or_default().push(photo);
            }
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let id = row.id;
                ShownCase {
                    record: CaseRecord {
                        reporter: reporters.remove(&id),
                        events: logs.remove(&id).unwrap_or_default(),
                        row,
                    },
                    access: access.remove(&id).unwrap_or_default(),
                    photos: photos.remove(&id).unwrap_or_default(),
                }
            })
            .collect())
    }
}
