//! Accounts, sessions and the audit log on both backends: a taken name is refused, not replaced; a disabled account's
//! sessions are still found (so the server can say why it refuses them) until enabling ends them; each audit entry
//! records the reader's office, and the log is filtered by case, account, time and subtree.

use domain::UnitCode;
use store::{AccountRow, AuditEntry, AuditQuery, Store};

use super::{backends, case, huzhou_bit, rules};

fn account(name: &str, role: &str, office: Option<&str>) -> AccountRow {
    AccountRow {
        name: name.into(),
        display_name: name.into(),
        role: role.into(),
        scope: "330502001".into(),
        office: office.map(str::to_string),
        password_hash: Some("$argon2id$stand-in".into()),
        created_at: 1_700_000_000,
        disabled: false,
        disabled_at: None,
    }
}

fn read_by(account: &str, role: &str, case_id: i64, at: i64) -> AuditEntry {
    AuditEntry {
        at,
        account: account.into(),
        role: role.into(),
        action: "read_reporter".into(),
        case_id: Some(case_id),
        detail: "reporter name and contact".into(),
    }
}

async fn names_of(store: &Store, query: &AuditQuery) -> Vec<String> {
    let rows = store.audit_log(query).await.expect("audit");
    rows.into_iter().map(|r| r.entry.account).collect()
}

#[tokio::test]
async fn a_taken_name_is_refused_and_a_change_is_explicit() {
    for store in backends("accounts_names").await.stores {
        let first = account("li", "caseworker", Some("330502001:gov"));
        assert!(store.insert_account(&first).await.expect("insert"));
        let second = account("li", "administrator", None);
        assert!(
            !store.insert_account(&second).await.expect("insert"),
            "{:?}",
            store.backend()
        );
        assert_eq!(store.account("li").await.expect("read"), Some(first.clone()));
        assert!(store.update_account(&second).await.expect("update"));
        let changed = store.account("li").await.expect("read").expect("stored");
        assert_eq!((changed.role.as_str(), changed.office), ("administrator", None));
        assert_eq!(changed.created_at, first.created_at, "a change keeps the creation time");
        assert!(
            !store
                .update_account(&account("nobody", "analyst", None))
                .await
                .expect("update")
        );
        let names: Vec<String> = store
            .list_accounts()
            .await
            .expect("list")
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["li"]);
    }
}

#[tokio::test]
async fn disabling_refuses_sessions_and_enabling_ends_them() {
    for store in backends("accounts_disabled").await.stores {
        store
            .insert_account(&account("li", "caseworker", None))
            .await
            .expect("insert");
        store.insert_session("h1", "li", 100, 10_000).await.expect("session");
        assert!(
            store
                .set_account_disabled("li", false, 200)
                .await
                .expect("enable an enabled account")
        );
        assert!(
            store.session_account("h1", 300).await.expect("read").is_some(),
            "enabling an enabled account ends no session ({:?})",
            store.backend()
        );
        assert!(store.set_account_disabled("li", true, 500).await.expect("disable"));
        let row = store
            .session_account("h1", 600)
            .await
            .expect("read")
            .expect("still found");
        assert!(row.disabled, "{:?}", store.backend());
        assert_eq!(row.disabled_at, Some(500));
        assert!(store.set_account_disabled("li", false, 700).await.expect("enable"));
        assert_eq!(
            store.session_account("h1", 800).await.expect("read"),
            None,
            "enabling ends old sessions"
        );
        let row = store.account("li").await.expect("read").expect("stored");
        assert_eq!((row.disabled, row.disabled_at), (false, None));
        assert!(
            !store
                .set_account_disabled("nobody", true, 900)
                .await
                .expect("no such account")
        );
    }
}

#[tokio::test]
async fn the_audit_log_records_the_readers_office_and_is_filtered() {
    for store in backends("accounts_audit").await.stores {
        store
            .upsert_units(&huzhou_bit().units_sorted(), &mut |_| {})
            .await
            .expect("units");
        let ids = store
            .insert_cases(&[case("330502001:gov"), case("330502001:gov")], &rules())
            .await
            .expect("cases");
        store
            .insert_account(&account("li", "caseworker", Some("330502001:gov")))
            .await
            .expect("li");
        store
            .insert_account(&account("wang", "office_head", None))
            .await
            .expect("wang");
        store
            .write_audit(&read_by("li", "caseworker", ids[0], 1_000))
            .await
            .expect("audit");
        store
            .write_audit(&read_by("wang", "office_head", ids[1], 2_000))
            .await
            .expect("audit");
        store
            .write_audit(&read_by("li", "caseworker", ids[1], 3_000))
            .await
            .expect("audit");

        let all = store
            .audit_log(&AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .expect("audit");
        let offices: Vec<Option<&str>> = all.iter().map(|r| r.office.as_deref()).collect();
        assert_eq!(
            offices,
            [Some("330502001:gov"), None, Some("330502001:gov")],
            "{:?}",
            store.backend()
        );
        assert!(all[0].id > all[1].id && all[1].id > all[2].id, "newest first");

        let query = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            };
            f(&mut q);
            q
        };
        let second = ids[1];
        assert_eq!(
            names_of(&store, &query(|q| q.account = Some("li".into()))).await,
            ["li", "li"]
        );
        assert_eq!(
            names_of(&store, &query(|q| q.since = Some(2_000))).await,
            ["li", "wang"]
        );
        let mut by_case = query(|_| {});
        by_case.case = Some(second);
        assert_eq!(names_of(&store, &by_case).await, ["li", "wang"]);
        let within = |code: &str| {
            let mut q = query(|_| {});
            q.within = Some(UnitCode::parse(code).expect("code"));
            q
        };
        assert_eq!(names_of(&store, &within("330502001")).await.len(), 3);
        assert!(
            names_of(&store, &within("330503")).await.is_empty(),
            "cases of another county"
        );
        assert_eq!(names_of(&store, &query(|q| q.limit = 1)).await, ["li"]);
        // The old reader still answers, through the same query.
        assert_eq!(store.audit_entries(Some(ids[0]), 10).await.expect("audit").len(), 1);
    }
}

/// The sign-in throttle's counts on every backend: an attempt is counted atomically (parallel attempts each get their
/// own count), a count lapses after the quiet period, a success takes one back or clears the name.
#[tokio::test]
async fn failed_sign_ins_are_counted_atomically_and_forgotten() {
    let b = backends("sign_in_failures").await;
    for store in &b.stores {
        let subject = "account:caseworker";
        assert_eq!(store.sign_in_failures(subject).await.expect("read").count, 0);
        let counts = futures_counts(store, subject, 8).await;
        assert_eq!(counts, (1..=8).collect::<Vec<u32>>(), "each attempt its own count");
        let f = store.sign_in_failures(subject).await.expect("read");
        assert_eq!((f.count, f.last_at), (8, 1_000));
        // The last failure at or before `forget_before`: counting starts again.
        assert_eq!(
            store.count_sign_in_attempt(subject, 5_000, 1_000).await.expect("count"),
            1
        );
        store.forgive_sign_in_attempt(subject).await.expect("forgive");
        store
            .forgive_sign_in_attempt(subject)
            .await
            .expect("forgive again stays at zero");
        assert_eq!(store.sign_in_failures(subject).await.expect("read").count, 0);
        store.count_sign_in_attempt(subject, 5_001, 0).await.expect("count");
        store.clear_sign_in_failures(subject).await.expect("clear");
        assert_eq!(store.sign_in_failures(subject).await.expect("read").count, 0);
    }
}

/// `n` attempts at once on one subject at time 1000; their counts, sorted.
async fn futures_counts(store: &Store, subject: &str, n: usize) -> Vec<u32> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (store, subject) = (store.clone(), subject.to_string());
        tasks.spawn(async move { store.count_sign_in_attempt(&subject, 1_000, 0).await.expect("count") });
    }
    let mut counts = tasks.join_all().await;
    counts.sort_unstable();
    counts
}
