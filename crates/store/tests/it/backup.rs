//! Backups you can restore, on both backends: a backup taken while the store is open restores into a fresh database
//! with every case and every event of every log equal; a backup never overwrites a file; a restore refuses a database
//! in use, a file of the other backend, and a file that is no backup, naming it.

use store::{CaseFilter, Store, StoreError};

use super::{backends, case, huzhou_bit, rules};

#[tokio::test]
async fn a_backup_restores_every_case_log() {
    let backends = backends("backup").await;
    let dir = tempfile::tempdir().expect("dir");
    for store in &backends.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let records: Vec<_> = (0..25).map(|_| case("330502001:gov")).collect();
        store.insert_cases(&records, &rules()).await.expect("cases");
        let backend = format!("{:?}", store.backend()).to_lowercase();
        if store.is_citus().await.expect("citus?") {
            // A cluster is backed up node by node (docs/scale.md): the one-file backup refuses, writing nothing.
            let file = dir.path().join("citus.backup");
            let err = store.backup_to(&file).await.expect_err("a cluster");
            assert!(err.to_string().contains("Citus cluster"), "{err}");
            assert!(!file.exists());
            continue;
        }
        let file = dir.path().join(format!("{backend}.backup"));
        let report = store.backup_to(&file).await.expect("backup");
        assert_eq!(report.cases, 25);
        assert!(report.bytes > 0);
        let again = store.backup_to(&file).await.expect_err("never overwrites");
        assert!(again.to_string().contains("exists"), "{again}");

        let target = fresh_target(&backend, dir.path()).await;
        let (restored, restored_report) = store::restore(&file, &target).await.expect("restore");
        assert_eq!(
            (restored_report.cases, restored_report.events),
            (report.cases, report.events)
        );
        assert_logs_equal(store, &restored).await;
        // The restored database is in use now: a second restore into it is refused.
        let twice = store::restore(&file, &target).await.expect_err("in use");
        assert!(matches!(twice, StoreError::Backup(_)), "{twice}");
    }
    // A file of the other backend, and a file that is no backup, are refused naming the file.
    let sqlite_file = dir.path().join("sqlite.backup");
    let pg_target = fresh_target("postgres", dir.path()).await;
    let wrong = store::restore(&sqlite_file, &pg_target)
        .await
        .expect_err("other backend");
    assert!(wrong.to_string().contains("not a pg_dump backup"), "{wrong}");
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello").expect("junk");
    let target = format!("sqlite://{}", dir.path().join("from-junk.db").display());
    let err = store::restore(&junk, &target).await.expect_err("junk");
    assert!(
        err.to_string().contains("junk.txt") && err.to_string().contains("not a SQLite backup"),
        "{err}"
    );
    assert!(!dir.path().join("from-junk.db").exists(), "nothing half-restored");
}

/// A new empty database of the backend: a SQLite path that does not exist, or a new PostgreSQL database.
async fn fresh_target(backend: &str, dir: &std::path::Path) -> String {
    if backend == "sqlite" {
        return format!("sqlite://{}", dir.join("restored.db").display());
    }
    let admin = std::env::var("GRASSROOTS_TEST_PG").expect("GRASSROOTS_TEST_PG");
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("admin");
    let db = format!("it_restored_{}_{}", std::process::id(), rand_suffix());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut conn)
        .await
        .expect("create");
    let base = admin.rsplit_once('/').map_or(admin.clone(), |(b, _)| b.to_string());
    format!("{base}/{db}")
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

async fn assert_logs_equal(original: &Store, restored: &Store) {
    let all = CaseFilter {
        limit: i64::MAX,
        ..CaseFilter::default()
    };
    let cases = original.list_cases(&all).await.expect("cases");
    let copies = restored.list_cases(&all).await.expect("restored cases");
    assert_eq!(
        cases.iter().map(|c| c.id).collect::<Vec<_>>(),
        copies.iter().map(|c| c.id).collect::<Vec<_>>()
    );
    for (case, copy) in cases.iter().zip(&copies) {
        assert_eq!(format!("{case:?}"), format!("{copy:?}"));
        assert_eq!(
            original.load_events(case.id).await.expect("log"),
            restored.load_events(copy.id).await.expect("restored log"),
            "case {}",
            case.id
        );
    }
}
