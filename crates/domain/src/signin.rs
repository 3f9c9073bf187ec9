//! Password guessing: after a few failed sign-ins, each further attempt on the same account (or from the same address)
//! waits twice as long as the last, up to a cap. Pure: the store keeps the counts, the caller passes the clock.
//!
//! An account is throttled by the name typed, whether or not such an account exists, so the throttle never tells a
//! guesser which names are real. A correct password does not get through a throttle in force (else the throttle
//! would confirm a guess); it clears the account's count once it is accepted. The address count is never cleared by a
//! success (one valid account must not buy an attacker more guesses on others) and lapses after a quiet period.

use serde::Serialize;

/// Failed sign-ins so far of one subject (an account name or a client address), and when the last one was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Failures {
    pub count: u32,
    /// Epoch seconds of the last failure.
    pub last_at: i64,
}

/// How failures turn into waiting time for one kind of subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures allowed before any wait.
    pub free: u32,
    /// The wait after the first failure over `free`, in seconds; it doubles with each further failure.
    pub first_wait_secs: i64,
    /// The longest wait.
    pub max_wait_secs: i64,
    /// A subject with no failure for this long starts again from zero.
    pub forget_after_secs: i64,
}

/// Per account name: five tries, then 1 s, 2 s, 4 s … up to 15 minutes.
pub const PER_ACCOUNT: Backoff = Backoff {
    free: 5,
    first_wait_secs: 1,
    max_wait_secs: 15 * 60,
    forget_after_secs: 24 * 3600,
};

/// Per client address: more tries, since many residents may share one address (a village office, a carrier's NAT).
pub const PER_ADDRESS: Backoff = Backoff {
    free: 50,
    first_wait_secs: 1,
    max_wait_secs: 15 * 60,
    forget_after_secs: 3600,
};

impl Backoff {
    /// The failures that still count at `now` (none after a quiet period).
    pub fn current(&self, failures: Failures, now: i64) -> Failures {
        if now - failures.last_at >= self.forget_after_secs {
            Failures::default()
        } else {
            failures
        }
    }

    /// Until when a subject with these failures must wait, if it must at `now`.
    pub fn locked_until(&self, failures: Failures, now: i64) -> Option<i64> {
        let failures = self.current(failures, now);
        let over = failures.count.checked_sub(self.free)?.checked_add(1)?;
        // 2^(over-1) × first, capped: the shift is bounded so it cannot overflow.
        let doubling = 1i64 << (over - 1).min(40);
        let wait = self.first_wait_secs.saturating_mul(doubling).min(self.max_wait_secs);
        let until = failures.last_at + wait;
        (until > now).then_some(until)
    }

    /// The failures after one more at `now`.
    pub fn after_failure(&self, failures: Failures, now: i64) -> Failures {
        let current = self.current(failures, now);
        Failures {
            count: current.count.saturating_add(1),
            last_at: now,
        }
    }
}

/// Why a sign-in is not even checked: the subject must wait.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Throttled {
    #[error("too many failed sign-ins for this name; try again in {retry_after_secs} s")]
    Account { retry_after_secs: i64 },
    #[error("too many failed sign-ins from this address; try again in {retry_after_secs} s")]
    Address { retry_after_secs: i64 },
}

impl Throttled {
    pub fn retry_after_secs(&self) -> i64 {
        match self {
            Throttled::Account { retry_after_secs } | Throttled::Address { retry_after_secs } => *retry_after_secs,
        }
    }
}

/// May a sign-in be checked at `now`, given the failures of the name typed and of the client's address?
pub fn admit(account: Failures, address: Failures, now: i64) -> Result<(), Throttled> {
    if let Some(until) = PER_ACCOUNT.locked_until(account, now) {
        return Err(Throttled::Account {
            retry_after_secs: until - now,
        });
    }
    if let Some(until) = PER_ADDRESS.locked_until(address, now) {
        return Err(Throttled::Address {
            retry_after_secs: until - now,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures_at(backoff: &Backoff, times: &[i64]) -> Failures {
        times
            .iter()
            .fold(Failures::default(), |f, t| backoff.after_failure(f, *t))
    }

    #[test]
    fn the_free_tries_then_a_doubling_wait() {
        let b = PER_ACCOUNT;
        let four = failures_at(&b, &[100, 100, 100, 100]);
        assert_eq!(b.locked_until(four, 100), None, "four failures cost nothing");
        let five = b.after_failure(four, 100);
        assert_eq!(b.locked_until(five, 100), Some(101), "the fifth: 1 s");
        let six = b.after_failure(five, 101);
        assert_eq!(b.locked_until(six, 101), Some(103), "the sixth: 2 s");
        let seven = b.after_failure(six, 103);
        assert_eq!(b.locked_until(seven, 103), Some(107), "the seventh: 4 s");
        assert_eq!(b.locked_until(seven, 107), None, "the wait ends");
    }

    #[test]
    fn the_wait_is_capped_and_never_overflows() {
        let b = PER_ACCOUNT;
        let many = Failures {
            count: u32::MAX,
            last_at: 1_000,
        };
        assert_eq!(b.locked_until(many, 1_000), Some(1_000 + b.max_wait_secs));
        assert_eq!(b.after_failure(many, 1_001).count, u32::MAX);
    }

    #[test]
    fn a_quiet_period_forgets() {
        let b = PER_ADDRESS;
        let many = Failures { count: 500, last_at: 0 };
        assert!(b.locked_until(many, 10).is_some());
        assert_eq!(b.locked_until(many, b.forget_after_secs), None);
        assert_eq!(b.after_failure(many, b.forget_after_secs).count, 1);
    }

    #[test]
    fn the_account_is_checked_before_the_address() {
        let locked = Failures { count: 60, last_at: 50 };
        assert!(matches!(
            admit(locked, Failures::default(), 50),
            Err(Throttled::Account { .. })
        ));
        assert!(matches!(
            admit(Failures::default(), locked, 50),
            Err(Throttled::Address { .. })
        ));
        assert_eq!(admit(Failures::default(), Failures::default(), 50), Ok(()));
    }
}
