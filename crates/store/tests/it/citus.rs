//! A worker of the Citus cluster stops during reads and intake and comes back: the cases on its shards fail with
//! `NodeUnavailable` naming it, the others are served and filed, and every case acknowledged before, during and after
//! is there once it returns.
//!
//! It stops a worker of the shared test cluster, so it runs alone: scripts/test.sh runs every other test first and
//! then this one (`-E 'test(/a_worker_restart/)'`). It needs `GRASSROOTS_TEST_CITUS_DIR`, the cluster's directory.

use std::process::Command;

use store::{CaseAccessRow, StoreError};

use super::{case, citus_database, huzhou_bit, rules};

fn cluster(args: &[&str]) {
    let dir = std::env::var("GRASSROOTS_TEST_CITUS_DIR")
        .expect("GRASSROOTS_TEST_CITUS_DIR is not set: the directory given to scripts/cluster.sh start");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/cluster.sh");
    let status = Command::new(script)
        .arg(args[0])
        .arg(&dir)
        .args(&args[1..])
        .status()
        .expect("scripts/cluster.sh");
    assert!(status.success(), "scripts/cluster.sh {args:?} failed");
}

#[tokio::test]
async fn a_worker_restart_fails_only_its_shards_and_loses_nothing() {
    let store = store::Store::connect(&citus_database("restart").await)
        .await
        .expect("citus");
    store
        .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
        .await
        .expect("units");
    let before: Vec<_> = (0..16).map(|_| case("330502001:gov")).collect();
    let mut acknowledged = store.insert_cases(&before, &rules()).await.expect("before");
    let dir = std::env::var("GRASSROOTS_TEST_CITUS_DIR").unwrap_or_default();
    let port = std::fs::read_to_string(format!("{dir}/worker1/port")).expect("worker1's port");
    let node = format!("127.0.0.1:{}", port.trim());

    cluster(&["stop", "worker1"]);
    let (mut served, mut refused) = (0, 0);
    for id in &acknowledged {
        match store.load_case(*id).await {
            Ok(record) => {
                assert_eq!(record.row.id, *id);
                served += 1;
            }
            Err(StoreError::NodeUnavailable { node: named, .. }) => {
                assert_eq!(named, node, "the error names the stopped worker");
                refused += 1;
            }
            Err(other) => panic!("case {id}: {other}"),
        }
    }
    assert!(served > 0 && refused > 0, "served {served}, refused {refused}");
    // Intake goes on for the cases whose shard is up; the others are refused, never half-stored.
    let mut filed_during = 0;
    for i in 0..16 {
        let access = CaseAccessRow {
            token: Some(format!("during{i}")),
            ..CaseAccessRow::default()
        };
        match store
            .insert_case_with_access(&case("330502001:gov"), &access, &rules())
            .await
        {
            Ok(id) => {
                acknowledged.push(id);
                filed_during += 1;
            }
            Err(StoreError::NodeUnavailable { node: named, .. }) => assert_eq!(named, node),
            Err(other) => panic!("intake during the outage: {other}"),
        }
    }
    assert!(filed_during > 0, "no intake reached a live shard");
    let err = store.count_cases().await.expect_err("a count needs every shard");
    assert!(err.to_string().contains(&node), "{err}");

    cluster(&["start"]);
    let after = store
        .insert_cases(&[case("330502001:gov")], &rules())
        .await
        .expect("after");
    acknowledged.extend(after);
    for id in &acknowledged {
        store
            .load_case(*id)
            .await
            .unwrap_or_else(|e| panic!("case {id} after the restart: {e}"));
    }
    assert_eq!(
        store.count_cases().await.expect("count"),
        acknowledged.len() as i64,
        "every acknowledged case, and nothing refused"
    );
}
