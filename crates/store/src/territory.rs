//! Territory, grids, grid workers and imported boundaries in the store.

use domain::grid::{Grid, GridWorker};
use domain::{Territory, Unit, UnitCode};
use sqlx::{AssertSqlSafe, Row};

use crate::{Store, StoreError, batch_rows, placeholders};

impl Store {
    /// Inserts or renames units in one transaction; `progress` is told how many rows are done after each batch.
    /// Either every unit is stored or none is.
    pub async fn upsert_units(&self, units: &[&Unit], progress: &mut dyn FnMut(usize)) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut done = 0;
        for chunk in units.chunks(batch_rows(4)) {
            let sql = format!(
                "INSERT INTO units (code, name, level, parent) VALUES {} \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                placeholders(self.backend, chunk.len(), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for u in chunk {
                q = q
                    .bind(u.code.as_str())
                    .bind(u.name.as_str())
                    .bind(u.level.as_str())
                    .bind(u.parent.as_ref().map(|p| p.as_str().to_string()));
            }
            q.execute(&mut *tx).await?;
            done += chunk.len();
            progress(done);
        }
        tx.commit().await?;
        Ok(())
    }

    /// All units, or those under `root` (inclusive) and its ancestors.
    pub async fn load_territory(&self, root: Option<&UnitCode>) -> Result<Territory, StoreError> {
        let rows = match root {
            Some(r) => {
                sqlx::query("SELECT code, name, parent FROM units WHERE code LIKE $1 OR $2 LIKE code || '%'")
                    .bind(format!("{r}%"))
                    .bind(r.as_str())
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT code, name, parent FROM units")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut units = Vec::with_capacity(rows.len());
        for row in rows {
            let code: String = row.try_get(0)?;
            let name: String = row.try_get(1)?;
            let parent: Option<String> = row.try_get(2)?;
            let code = UnitCode::parse(&code).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let parent = parent
                .map(|p| UnitCode::parse(&p))
                .transpose()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            units.push(Unit::new(code, &name, parent).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        Territory::build(units).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    pub async fn count_units_by_level(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT level, COUNT(*) FROM units GROUP BY level ORDER BY MIN(LENGTH(code))")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows)
    }

    /// Replaces all grids, their cells and workers under the given villages, in one transaction.
    pub async fn replace_grids(&self, grids: &[Grid], workers: &[GridWorker]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM grid_workers").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM grid_cells").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM grids").execute(&mut *tx).await?;
        for chunk in grids.chunks(batch_rows(2)) {
            let sql = format!(
                "INSERT INTO grids (id, unit) VALUES {}",
                placeholders(self.backend, chunk.len(), 2)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for g in chunk {
                q = q.bind(g.id.as_str()).bind(g.unit.as_str());
            }
            q.execute(&mut *tx).await?;
        }
        let cells: Vec<(i64, &str)> = grids
            .iter()
            .flat_map(|g| g.cells.iter().map(move |c| (*c as i64, g.id.as_str())))
            .collect();
        for chunk in cells.chunks(batch_rows(2)) {
            let sql = format!(
                "INSERT INTO grid_cells (cell, grid) VALUES {}",
                placeholders(self.backend, chunk.len(), 2)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (cell, grid) in chunk {
                q = q.bind(*cell).bind(*grid);
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in workers.chunks(batch_rows(4)) {
            let sql = format!(
                "INSERT INTO grid_workers (id, grid, name, auxiliary) VALUES {}",
                placeholders(self.backend, chunk.len(), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for w in chunk {
                q = q
                    .bind(w.id.as_str())
                    .bind(w.grid.as_str())
                    .bind(w.name.as_str())
                    .bind(i64::from(w.auxiliary));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn load_grids(&self) -> Result<Vec<Grid>, StoreError> {
        let rows =
            sqlx::query("SELECT g.id, g.unit, c.cell FROM grids g JOIN grid_cells c ON c.grid = g.id ORDER BY g.id")
                .fetch_all(&self.pool)
                .await?;
        let mut grids: Vec<Grid> = Vec::new();
        for row in rows {
            let id: String = row.try_get(0)?;
            let cell: i64 = row.try_get(2)?;
            match grids.last_mut() {
                Some(g) if g.id == id => g.cells.push(cell as u64),
                _ => {
                    let unit: String = row.try_get(1)?;
                    let unit = UnitCode::parse(&unit).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    grids.push(Grid {
                        id,
                        unit,
                        cells: vec![cell as u64],
                    });
                }
            }
        }
        Ok(grids)
    }

    /// The grids of a unit's subtree (grids belong to villages, whose codes extend the unit's).
    pub async fn load_grids_under(&self, unit: &UnitCode) -> Result<Vec<Grid>, StoreError> {
        let prefix = unit.as_str();
        Ok(self
            .load_grids()
            .await?
            .into_iter()
            .filter(|g| g.unit.as_str().starts_with(prefix))
            .collect())
    }

    /// Where the located cases of a unit's grids were reported: the history a grid's workload is read from.
    pub async fn case_points_under(&self, unit: &UnitCode) -> Result<Vec<(f64, f64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.lat, c.lon FROM cases c JOIN grids g ON g.id = c.grid \
             WHERE g.unit LIKE $1 AND c.lat IS NOT NULL AND c.lon IS NOT NULL",
        )
        .bind(format!("{}%", unit.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<f64, _>(0)?, row.try_get::<f64, _>(1)?)))
            .collect()
    }

    pub async fn load_grid_workers(&self, grid: &str) -> Result<Vec<GridWorker>, StoreError> {
        let rows: Vec<(String, String, String, i64)> =
            sqlx::query_as("SELECT id, grid, name, auxiliary FROM grid_workers WHERE grid = $1 ORDER BY id")
                .bind(grid)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, grid, name, aux)| GridWorker {
                id,
                grid,
                name,
                auxiliary: aux != 0,
            })
            .collect())
    }

    pub async fn count_grids(&self) -> Result<(i64, i64), StoreError> {
        let (grids,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM grids")
            .fetch_one(&self.pool)
            .await?;
        let (workers,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM grid_workers")
            .fetch_one(&self.pool)
            .await?;
        Ok((grids, workers))
    }

    /// Stores boundaries (GeoJSON geometry text per code) in one transaction, replacing earlier ones of the same code.
    pub async fn save_boundaries(&self, boundaries: &[(UnitCode, String)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (code, geojson) in boundaries {
            sqlx::query(
                "INSERT INTO boundaries (code, geojson) VALUES ($1, $2) \
                 ON CONFLICT (code) DO UPDATE SET geojson = excluded.geojson",
            )
            .bind(code.as_str())
            .bind(geojson.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Imported boundaries as one GeoJSON FeatureCollection text (empty collection if none).
    pub async fn load_boundaries_geojson(&self) -> Result<String, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT code, geojson FROM boundaries ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        let features: Vec<String> = rows
            .iter()
            .map(|(code, geometry)| {
                format!(r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{geometry}}}"#)
            })
            .collect();
        Ok(format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ))
    }

    /// Units in `codes` that the store does not hold.
    pub async fn missing_units(&self, codes: &[&UnitCode]) -> Result<Vec<UnitCode>, StoreError> {
        let mut missing = Vec::new();
        for code in codes {
            let found: Option<(String,)> = sqlx::query_as("SELECT code FROM units WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await?;
            if found.is_none() {
                missing.push((*code).clone());
            }
        }
        Ok(missing)
    }
}
