//! Compacts as use cases: drafting a version, its lifecycle steps (comment period, vote, count, filing with the
//! township's review against the forbidden-content guardrails) and the secret ballot. Every decision is
//! `domain::participation`'s; this module reads what it needs, asks, and writes in one transaction.

use domain::UnitCode;
use domain::access::{self, Principal, UnitAction};
use domain::participation::{
    Choice, Clause, CompactState, CompactStep, CompactVoteRules, ParticipationError, Tally, content_rules, count_votes,
    is_compact_unit, may_vote, parse_clauses, review_filing,
};
use store::{CompactChange, CompactRow, ParticipationEventRow, Store};
use time::OffsetDateTime;

use crate::AppError;

fn refused(e: ParticipationError) -> AppError {
    AppError::Invalid(e.to_string())
}

fn unit_of(row: &CompactRow) -> Result<UnitCode, AppError> {
    UnitCode::parse(&row.unit).map_err(|e| AppError::Invalid(e.to_string()))
}

async fn load(store: &Store, id: i64) -> Result<(CompactRow, CompactState), AppError> {
    let row = store
        .compact(id)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("compact {id} does not exist")))?;
    let state = CompactState::parse(&row.state)
        .ok_or_else(|| AppError::Invalid(format!("compact {id}: unknown state {:?}", row.state)))?;
    Ok((row, state))
}

/// Drafts a new version of `unit`'s compact (the committee: whoever governs the unit). Refused while another version
/// is in progress.
pub async fn draft_compact(
    store: &Store,
    principal: &Principal,
    unit: &UnitCode,
    title: &str,
    text: &str,
    now: OffsetDateTime,
) -> Result<CompactRow, AppError> {
    is_compact_unit(unit).map_err(refused)?;
    access::can_at_unit(principal, UnitAction::GovernPolicy, unit).map_err(|e| AppError::Invalid(e.to_string()))?;
    let clauses: Vec<String> = parse_clauses(text)
        .map_err(refused)?
        .into_iter()
        .map(|c| c.text)
        .collect();
    if let Some(open) = store
        .compacts(Some(unit.as_str()))
        .await?
        .into_iter()
        .filter(|c| c.unit == unit.as_str())
        .find(|c| CompactState::parse(&c.state).is_some_and(CompactState::in_progress))
    {
        return Err(refused(ParticipationError::InProgress {
            unit: unit.clone(),
            version: open.version,
            state: CompactState::parse(&open.state).unwrap_or(CompactState::Draft),
        }));
    }
    Ok(store
        .insert_compact(
            unit.as_str(),
            title.trim(),
            &clauses,
            &principal.account,
            now.unix_timestamp(),
        )
        .await?)
}

/// Takes a lifecycle step; returns the new state. Closing the vote publishes the count; filing reviews every clause
/// against the forbidden-content guardrails in force and refuses the filing, naming each clause, if one breaks them.
pub async fn step_compact(
    store: &Store,
    principal: &Principal,
    id: i64,
    step: CompactStep,
    now: OffsetDateTime,
) -> Result<CompactState, AppError> {
    let (row, state) = load(store, id).await?;
    let unit = unit_of(&row)?;
    access::can_at_unit(principal, UnitAction::GovernPolicy, &unit).map_err(|e| AppError::Invalid(e.to_string()))?;
    let at = now.unix_timestamp();
    step.check(id, state, at, row.comment_until, row.vote_closes)
        .map_err(refused)?;
    let policy = crate::governance::load_book(store)
        .await?
        .effective(&unit, domain::calendar::Calendar::china().local_date(now));
    let rules = CompactVoteRules::in_force(&policy).map_err(refused)?;
    let mut change = CompactChange::default();
    let mut detail = String::new();
    let to = match step {
        CompactStep::OpenComments => {
            change.comment_until = Some(at + i64::from(rules.comment_days) * 86_400);
            CompactState::Comment
        }
        CompactStep::OpenVote => {
            change.vote_closes = Some(at + i64::from(rules.vote_days) * 86_400);
            change.electorate = Some(store.count_residents(unit.as_str()).await?);
            CompactState::Voting
        }
        CompactStep::CloseVote => {
            let mut tally = Tally::default();
            for (choice, votes) in store.compact_tally(id).await? {
                let votes = votes.max(0) as u64;
                match Choice::parse(&choice).map_err(refused)? {
                    Choice::Yes => tally.yes = votes,
                    Choice::No => tally.no = votes,
                    Choice::Abstain => tally.abstain = votes,
                }
            }
            let outcome = count_votes(tally, row.electorate.unwrap_or(0).max(0) as u64, &rules);
            detail = serde_json::to_string(&outcome).map_err(|e| AppError::Invalid(e.to_string()))?;
            if outcome.adopted {
                CompactState::Adopted
            } else {
                CompactState::NotAdopted
            }
        }
        CompactStep::File => {
            let clauses: Vec<Clause> = store
                .compact_clauses(id)
                .await?
                .into_iter()
                .map(|(number, text)| Clause {
                    number: number as u32,
                    text,
                })
                .collect();
            let forbidden = review_filing(&clauses, &content_rules(&policy));
            if !forbidden.is_empty() {
                let error = ParticipationError::ForbiddenContent { clauses: forbidden };
                // The township's refusal is itself on record: the version is refused, whole, with the clauses named.
                let event = ParticipationEventRow {
                    action: "refused".into(),
                    actor: principal.account.clone(),
                    at,
                    detail: error.to_string(),
                };
                store
                    .step_compact(id, state.as_str(), "refused", &change, &event)
                    .await?;
                return Err(refused(error));
            }
            change.filed_at = Some(at);
            CompactState::Filed
        }
    };
    let event = ParticipationEventRow {
        action: step.as_str().into(),
        actor: principal.account.clone(),
        at,
        detail,
    };
    if !store
        .step_compact(id, state.as_str(), to.as_str(), &change, &event)
        .await?
    {
        return Err(AppError::Invalid(format!(
            "compact {id} was changed by someone else; reload and retry"
        )));
    }
    Ok(to)
}

/// Casts `principal`'s secret ballot on compact `id`.
pub async fn vote(
    store: &Store,
    principal: &Principal,
    id: i64,
    choice: Choice,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let (row, state) = load(store, id).await?;
    let unit = unit_of(&row)?;
    let at = now.unix_timestamp();
    let voted = store.has_voted(id, &principal.account).await?;
    may_vote(principal, id, &unit, state, row.vote_closes, voted, at).map_err(refused)?;
    if !store.cast_ballot(id, &principal.account, choice.as_str(), at).await? {
        // Between the check and the write the account voted or the vote closed: ask the rules again on fresh data.
        let (row, state) = load(store, id).await?;
        let voted = store.has_voted(id, &principal.account).await?;
        may_vote(principal, id, &unit, state, row.vote_closes, voted, at).map_err(refused)?;
        return Err(AppError::Invalid(format!(
            "compact {id}: the ballot was not cast; retry"
        )));
    }
    Ok(())
}

/// The share of villages and communities with a compact in force (filed), by township and county, with each one's
/// age at `now`, over the stored territory (the subtree of `root` when given).
pub async fn compact_coverage(
    store: &Store,
    root: Option<&UnitCode>,
    now: OffsetDateTime,
) -> Result<domain::participation::CompactCoverage, AppError> {
    let territory = store.load_territory(None).await?;
    let mut in_force = Vec::new();
    for row in store.compacts(root.map(UnitCode::as_str)).await? {
        if row.state == CompactState::Filed.as_str() {
            in_force.push((unit_of(&row)?, row.version, row.filed_at.unwrap_or(row.drafted_at)));
        }
    }
    Ok(domain::participation::coverage(
        &territory,
        root,
        &in_force,
        now.unix_timestamp(),
    ))
}

#[cfg(test)]
mod tests {
    use domain::access::Role;
    use time::macros::datetime;

    use super::*;

    const VILLAGE: &str = "330502001001";

    async fn setup(name: &str) -> Store {
        let path = std::env::temp_dir().join(format!("grassroots-app-compact-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connects");
        for (i, home) in [VILLAGE, VILLAGE, VILLAGE, "330502001002"].into_iter().enumerate() {
            let account = store::AccountRow {
                name: format!("r{i}"),
                display_name: format!("r{i}"),
                role: "resident".into(),
                scope: home.into(),
                office: None,
                password_hash: None,
                created_at: 0,
                disabled: false,
                disabled_at: None,
            };
            assert!(store.insert_account(&account).await.expect("account"));
        }
        store
    }

    fn head() -> Principal {
        Principal::staff("head", Role::Administrator, UnitCode::parse("330502001").unwrap(), None)
    }

    fn resident(i: usize, home: &str) -> Principal {
        Principal::resident(&format!("r{i}"), UnitCode::parse(home).unwrap())
    }

    #[tokio::test]
    async fn a_compact_is_voted_once_per_account_by_its_residents_only_and_a_forbidden_clause_is_refused() {
        let store = setup("vote").await;
        let unit = UnitCode::parse(VILLAGE).unwrap();
        let t0 = datetime!(2026-03-01 9:00 +8);
        let draft = draft_compact(&store, &head(), &unit, "村规民约", "爱护环境\n乱倒垃圾者罚款200元", t0)
            .await
            .expect("drafted");
        let id = draft.id;
        step_compact(&store, &head(), id, CompactStep::OpenComments, t0)
            .await
            .expect("comments");
        let t1 = t0 + time::Duration::days(15);
        step_compact(&store, &head(), id, CompactStep::OpenVote, t1)
            .await
            .expect("vote opens");
        vote(&store, &resident(0, VILLAGE), id, Choice::Yes, t1)
            .await
            .expect("votes");
        let second = vote(&store, &resident(0, VILLAGE), id, Choice::No, t1)
            .await
            .unwrap_err();
        assert!(second.to_string().contains("compact-one-account-one-vote"), "{second}");
        let outside = vote(&store, &resident(3, "330502001002"), id, Choice::Yes, t1)
            .await
            .unwrap_err();
        assert!(outside.to_string().contains("compact-residents-only"), "{outside}");
        vote(&store, &resident(1, VILLAGE), id, Choice::Yes, t1)
            .await
            .expect("votes");
        let t2 = t1 + time::Duration::days(7);
        let late = vote(&store, &resident(2, VILLAGE), id, Choice::No, t2)
            .await
            .unwrap_err();
        assert!(late.to_string().contains("compact-vote-window"), "{late}");
        // Only the two ballots cast are counted, and the register of voters holds no choice.
        assert_eq!(store.compact_tally(id).await.unwrap(), vec![("yes".to_string(), 2)]);
        assert_eq!(store.count_voters(id).await.unwrap(), 2);
        let state = step_compact(&store, &head(), id, CompactStep::CloseVote, t2)
            .await
            .expect("counted");
        assert_eq!(state, CompactState::Adopted);
        let err = step_compact(&store, &head(), id, CompactStep::File, t2)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("clause 2 breaks guardrail \"no-fines-or-detention\""),
            "{err}"
        );
        let row = store.compact(id).await.unwrap().unwrap();
        assert_eq!((row.state.as_str(), row.filed_at), ("refused", None));
        // The amendment is a new version that takes the same steps.
        let amended = draft_compact(&store, &head(), &unit, "村规民约", "爱护环境", t2)
            .await
            .expect("amended");
        assert_eq!(amended.version, 2);
    }
}
