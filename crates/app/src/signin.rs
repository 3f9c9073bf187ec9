//! The password-guessing throttle around every sign-in (REST, the web pages): [`begin`] before the password is
//! checked, [`succeeded`] after it is accepted. The rule is `domain::signin`; the counts live in the store.

use domain::signin::{self, Failures, PER_ACCOUNT, PER_ADDRESS, Throttled};
use store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Throttled(#[from] Throttled),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A sign-in attempt admitted and counted as a failure until [`succeeded`] says otherwise.
#[derive(Debug, Clone)]
pub struct Attempt {
    account: String,
    address: String,
}

fn account_subject(name: &str) -> String {
    format!("account:{}", name.trim())
}

fn address_subject(address: &str) -> String {
    format!("address:{address}")
}

/// Counts the attempt of `name` from `address` at `now` and admits it, or says how long to wait. The attempt is
/// counted first, atomically, then judged on the failures before it: of parallel guesses each sees a different count,
/// so a burst gets no more free tries than one guess after another.
pub async fn begin(store: &Store, name: &str, address: &str, now: i64) -> Result<Attempt, SignInError> {
    let attempt = Attempt {
        account: account_subject(name),
        address: address_subject(address),
    };
    let before_account = store.sign_in_failures(&attempt.account).await?;
    let before_address = store.sign_in_failures(&attempt.address).await?;
    // While a wait is in force nothing is counted, so trying again early does not lengthen it.
    signin::admit(before_account, before_address, now)?;
    let account_count = store
        .count_sign_in_attempt(&attempt.account, now, now - PER_ACCOUNT.forget_after_secs)
        .await?;
    let address_count = store
        .count_sign_in_attempt(&attempt.address, now, now - PER_ADDRESS.forget_after_secs)
        .await?;
    let prior = |read: Failures, counted: u32, backoff: &signin::Backoff| {
        let read = backoff.current(read, now);
        let count = counted.saturating_sub(1);
        // Another attempt was counted between the read and ours: it failed (or is failing) just now.
        let last_at = if count > read.count { now } else { read.last_at };
        Failures { count, last_at }
    };
    let admitted = signin::admit(
        prior(before_account, account_count, &PER_ACCOUNT),
        prior(before_address, address_count, &PER_ADDRESS),
        now,
    );
    if let Err(throttled) = admitted {
        // Parallel attempts overtook this one; it checked no password, so it is not a failure.
        store.forgive_sign_in_attempt(&attempt.account).await?;
        store.forgive_sign_in_attempt(&attempt.address).await?;
        return Err(throttled.into());
    }
    Ok(attempt)
}

/// The password was right: the account's failures are forgotten and the address's count takes this attempt back.
pub async fn succeeded(store: &Store, attempt: &Attempt) -> Result<(), StoreError> {
    store.clear_sign_in_failures(&attempt.account).await?;
    store.forgive_sign_in_attempt(&attempt.address).await
}
