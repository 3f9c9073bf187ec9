//! Store support for the case workflow: offices, staff and mediation teams (the [`Directory`]), and bulk reads of case
//! logs for the escalation guard and the monthly rates.

use std::collections::HashMap;

use domain::office::{Directory, MediationTeam, Office, OfficeId, OfficeKind, Role, Sector, Staff, TeamMember};
use domain::{CaseEvent, CaseId, CaseState, EventKind};
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::{CaseFilter, CaseRow, Store, StoreError, batch_rows, placeholders};

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn kind_name(kind: OfficeKind) -> (&'static str, Option<&'static str>) {
    match kind {
        OfficeKind::VillageCommittee => ("village_committee", None),
        OfficeKind::TownshipGovernment => ("township_government", None),
        OfficeKind::CountyGovernment => ("county_government", None),
        OfficeKind::CountyDepartment { sector } => ("county_department", Some(sector.key())),
        OfficeKind::PrefectureGovernment => ("prefecture_government", None),
        OfficeKind::ProvinceGovernment => ("province_government", None),
    }
}

fn kind_of(name: &str, sector: Option<&str>) -> Result<OfficeKind, StoreError> {
    Ok(match name {
        "village_committee" => OfficeKind::VillageCommittee,
        "township_government" => OfficeKind::TownshipGovernment,
        "county_government" => OfficeKind::CountyGovernment,
        "prefecture_government" => OfficeKind::PrefectureGovernment,
        "province_government" => OfficeKind::ProvinceGovernment,
        "county_department" => {
            let sector = sector
                .and_then(Sector::from_key)
                .ok_or_else(|| corrupt(format!("office sector {sector:?}")))?;
            OfficeKind::CountyDepartment { sector }
        }
        other => return Err(corrupt(format!("office kind {other:?}"))),
    })
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::GridWorker => "grid_worker",
        Role::Caseworker => "caseworker",
        Role::Mediator => "mediator",
        Role::Head => "head",
    }
}

fn role_of(name: &str) -> Result<Role, StoreError> {
    Ok(match name {
        "grid_worker" => Role::GridWorker,
        "caseworker" => Role::Caseworker,
        "mediator" => Role::Mediator,
        "head" => Role::Head,
        other => return Err(corrupt(format!("staff role {other:?}"))),
    })
}

/// The names of the states in which a case is still open: derived from `CaseState::is_open`, the one definition.
fn open_states() -> impl Iterator<Item = &'static str> {
    CaseState::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(CaseState::as_str)
}

impl Store {
    /// Replaces the stored directory with `dir` in one transaction: offices are upserted, staff and teams rewritten.
    pub async fn save_directory(&self, dir: &Directory) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM mediation_team_members")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM mediation_teams").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM staff").execute(&mut *tx).await?;
        for chunk in dir.offices.chunks(batch_rows(6)) {
            let sql = format!(
                "INSERT INTO offices (id, unit, name, kind, sector, categories) VALUES {} \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 sector = excluded.sector, categories = excluded.categories",
                placeholders(self.backend, chunk.len(), 6)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for o in chunk {
                let (kind, sector) = kind_name(o.kind);
                q = q
                    .bind(o.id.to_string())
                    .bind(o.id.unit().as_str().to_string())
                    .bind(o.name.clone())
                    .bind(kind)
                    .bind(sector)
                    .bind(o.categories.join(","));
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in dir.staff.chunks(batch_rows(5)) {
            let sql = format!(
                "INSERT INTO staff (id, name, office, roles, auxiliary) VALUES {}",
                placeholders(self.backend, chunk.len(), 5)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in chunk {
                let roles: Vec<&str> = s.roles.iter().map(|r| role_name(*r)).collect();
                q = q
                    .bind(s.id.clone())
                    .bind(s.name.clone())
                    .bind(s.office.to_string())
                    .bind(roles.join(","))
                    .bind(i64::from(s.auxiliary));
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in dir.teams.chunks(batch_rows(2)) {
            let sql = format!(
                "INSERT INTO mediation_teams (id, office) VALUES {}",
                placeholders(self.backend, chunk.len(), 2)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for t in chunk {
                q = q.bind(t.id.clone()).bind(t.office.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        let members: Vec<(&str, i64, &TeamMember)> = dir
            .teams
            .iter()
            .flat_map(|t| {
                t.members
                    .iter()
                    .enumerate()
                    .map(move |(i, m)| (t.id.as_str(), i as i64, m))
            })
            .collect();
        for chunk in members.chunks(batch_rows(4)) {
            let sql = format!(
                "INSERT INTO mediation_team_members (team, seq, name, staff) VALUES {}",
                placeholders(self.backend, chunk.len(), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (team, seq, m) in chunk {
                q = q
                    .bind(team.to_string())
                    .bind(*seq)
                    .bind(m.name.clone())
                    .bind(m.staff.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored offices, staff and mediation teams.
    pub async fn load_directory(&self) -> Result<Directory, StoreError> {
        let mut dir = Directory::default();
        for row in sqlx::query("SELECT id, name, kind, sector, categories FROM offices ORDER BY id")
            .fetch_all(&self.pool)
            .await?
        {
            let id: String = row.try_get(0)?;
            let kind: String = row.try_get(2)?;
            let sector: Option<String> = row.try_get(3)?;
            let categories: String = row.try_get(4)?;
            dir.offices.push(Office {
                id: OfficeId::parse(&id).map_err(corrupt)?,
                name: row.try_get(1)?,
                kind: kind_of(&kind, sector.as_deref())?,
                categories: categories
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
            });
        }
        for row in sqlx::query("SELECT id, name, office, roles, auxiliary FROM staff ORDER BY id")
            .fetch_all(&self.pool)
            .await?
        {
            let office: String = row.try_get(2)?;
            let roles: String = row.try_get(3)?;
            let auxiliary: i64 = row.try_get(4)?;
            dir.staff.push(Staff {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                office: OfficeId::parse(&office).map_err(corrupt)?,
                roles: roles
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .map(role_of)
                    .collect::<Result<_, _>>()?,
                auxiliary: auxiliary != 0,
            });
        }
        let mut members: HashMap<String, Vec<TeamMember>> = HashMap::new();
        for row in sqlx::query("SELECT team, name, staff FROM mediation_team_members ORDER BY team, seq")
            .fetch_all(&self.pool)
            .await?
        {
            let team: String = row.try_get(0)?;
            members.entry(team).or_default().push(TeamMember {
                name: row.try_get(1)?,
                staff: row.try_get(2)?,
            });
        }
        for row in sqlx::query("SELECT id, office FROM mediation_teams ORDER BY id")
            .fetch_all(&self.pool)
            .await?
        {
            let id: String = row.try_get(0)?;
            let office: String = row.try_get(1)?;
            dir.teams.push(MediationTeam {
                members: members.remove(&id).unwrap_or_default(),
                office: OfficeId::parse(&office).map_err(corrupt)?,
                id,
            });
        }
        Ok(dir)
    }

    pub async fn count_offices(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM offices")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// The logs of the given cases, in one query per batch of cases.
    pub async fn load_logs(&self, ids: &[CaseId]) -> Result<HashMap<CaseId, Vec<CaseEvent>>, StoreError> {
        let mut logs: HashMap<CaseId, Vec<CaseEvent>> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(batch_rows(1).min(1000)) {
            let sql = format!(
                "SELECT case_id, at, actor, payload FROM case_events WHERE case_id IN {} ORDER BY case_id, seq",
                placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                let id: i64 = row.try_get(0)?;
                let at: i64 = row.try_get(1)?;
                let payload: String = row.try_get(3)?;
                let kind: EventKind = serde_json::from_str(&payload)
                    .map_err(|e| corrupt(format!("case {id}: event payload {payload:?}: {e}")))?;
                let at =
                    OffsetDateTime::from_unix_timestamp(at).map_err(|e| corrupt(format!("timestamp {at}: {e}")))?;
                logs.entry(id).or_default().push(CaseEvent {
                    at,
                    actor: row.try_get(2)?,
                    kind,
                });
            }
        }
        Ok(logs)
    }

    /// For every open case, how many earlier cases the same reporter (same contact) brought on the same category: the
    /// "repeat petitions by the same person on the same matter" of the escalation-risk score. An empty contact names
    /// nobody, so it matches nothing.
    pub async fn repeat_counts_of_open_cases(&self) -> Result<std::collections::HashMap<i64, u32>, StoreError> {
        let open: Vec<String> = open_states().map(|s| format!("'{s}'")).collect();
        // The states are constants of the domain, not input: the SQL is assembled from them only. The open cases and
        // their contacts are gathered first (a materialised CTE), then matched with every earlier case of the same
        // contact and category. On Citus the first part runs on each shard and its result is sent to every shard,
        // where a reporter meets its own case (co-located by case id): no join on the contact across shards, which
        // would need a repartition join (issue 15).
        let sql = format!(
            "WITH open AS MATERIALIZED (\
               SELECT c.id, r.contact, c.category, c.created_at FROM cases c \
               JOIN reporters r ON r.case_id = c.id \
               WHERE c.state IN ({}) AND r.contact <> '') \
             SELECT o.id, COUNT(p.id) FROM open o \
             JOIN reporters rp ON rp.contact = o.contact AND rp.case_id <> o.id \
             JOIN cases p ON p.id = rp.case_id AND p.category = o.category AND p.created_at <= o.created_at \
             GROUP BY o.id",
            open.join(", ")
        );
        let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect())
    }

    /// Every open case with its log, for the escalation guard.
    pub async fn open_cases_with_logs(&self) -> Result<Vec<(CaseRow, Vec<CaseEvent>)>, StoreError> {
        let mut rows = Vec::new();
        for state in open_states() {
            let filter = CaseFilter {
                state: Some(state.to_string()),
                limit: i64::MAX,
                ..CaseFilter::default()
            };
            rows.extend(self.list_cases(&filter).await?);
        }
        rows.sort_by_key(|r| r.id);
        self.with_logs(rows).await
    }

    /// Every case created in `[from, to)` with its log, for the monthly rates.
    pub async fn cases_with_logs_created(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<(CaseRow, Vec<CaseEvent>)>, StoreError> {
        let filter = CaseFilter {
            created_from: Some(from.unix_timestamp()),
            created_to: Some(to.unix_timestamp()),
            limit: i64::MAX,
            ..CaseFilter::default()
        };
        let rows = self.list_cases(&filter).await?;
        self.with_logs(rows).await
    }

    async fn with_logs(&self, rows: Vec<CaseRow>) -> Result<Vec<(CaseRow, Vec<CaseEvent>)>, StoreError> {
        let ids: Vec<CaseId> = rows.iter().map(|r| r.id).collect();
        let mut logs = self.load_logs(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let log = logs.remove(&r.id).unwrap_or_default();
                (r, log)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use domain::case::{Location, NewCase};
    use domain::{CaseKind, Channel, Territory, Unit, UnitCode};
    use time::macros::datetime;

    use super::*;
    use crate::NewCaseRecord;

    fn territory() -> Territory {
        let unit = |code: &str| {
            let code = UnitCode::parse(code).expect("code");
            let parent = code.parent_code();
            Unit::new(code, "x", parent).expect("unit")
        };
        Territory::build(["330502", "330502001", "330502001001"].map(unit)).expect("territory")
    }

    async fn store(name: &str) -> Store {
        let path = std::env::temp_dir().join(format!("grassroots-workflow-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connects");
        let t = territory();
        store.upsert_units(&t.units_sorted(), &mut |_| {}).await.expect("units");
        store
    }

    fn sorted(mut d: Directory) -> Directory {
        d.offices.sort_by_key(|o| o.id.to_string());
        d.staff.sort_by(|a, b| a.id.cmp(&b.id));
        d.teams.sort_by(|a, b| a.id.cmp(&b.id));
        d
    }

    #[tokio::test]
    async fn a_directory_round_trips_and_saving_twice_replaces_it() {
        let store = store("directory").await;
        let dir = Directory::standard(&territory());
        store.save_directory(&dir).await.expect("saves");
        store.save_directory(&dir).await.expect("saves again");
        let back = store.load_directory().await.expect("loads");
        assert_eq!(sorted(back), sorted(dir.clone()));
        assert_eq!(store.count_offices().await.expect("count"), dir.offices.len() as i64);
    }

    #[tokio::test]
    async fn open_cases_come_with_their_logs() {
        let store = store("logs").await;
        let case = |office: &str| NewCaseRecord {
            case: NewCase {
                kind: CaseKind::Complaint,
                channel: Channel::Hotline,
                category: "noise".into(),
                description: "noise at night".into(),
                location: Location {
                    lat: None,
                    lon: None,
                    unit: UnitCode::parse("330502001001").expect("code"),
                    grid: None,
                },
                reporter: None,
                co_signers: 0,
                answers: Default::default(),
            },
            events: vec![
                CaseEvent {
                    at: datetime!(2025-03-03 10:00 +8),
                    actor: "intake".into(),
                    kind: EventKind::Created { office: office.into() },
                },
                CaseEvent {
                    at: datetime!(2025-03-03 11:00 +8),
                    actor: "intake".into(),
                    kind: EventKind::AnsweredAtIntake {
                        answer: "see the notice".into(),
                    },
                },
            ],
            clocks: domain::clock::ClockConfig::default(),
        };
        let mut open = case("330502001:gov");
        open.events.truncate(1);
        let ids = store
            .insert_cases(&[open, case("330502001:gov")], &crate::FixedRules::default())
            .await
            .expect("inserts");
        let logs = store.load_logs(&ids).await.expect("logs");
        assert_eq!(logs[&ids[0]].len(), 1);
        assert_eq!(logs[&ids[1]].len(), 2);
        let open = store.open_cases_with_logs().await.expect("open");
        assert_eq!(
            open.iter().map(|(r, l)| (r.id, l.len())).collect::<Vec<_>>(),
            [(ids[0], 1)]
        );
        let march = store
            .cases_with_logs_created(datetime!(2025-03-01 00:00 +8), datetime!(2025-04-01 00:00 +8))
            .await
            .expect("month");
        assert_eq!(march.len(), 2);
    }
}
