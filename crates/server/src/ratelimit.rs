//! Per-key and per-IP rate limits: one token bucket per client, refilled continuously.
//!
//! The limiter takes the current time from its caller (`Instant`), so tests can drive it with a fake clock. Idle
//! buckets are dropped when the table grows, so memory stays bounded by the number of recently active clients.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A limit: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub burst: f64,
    pub per_second: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: Limit,
    buckets: Mutex<HashMap<String, Bucket>>,
    max_clients: usize,
}

impl RateLimiter {
    pub fn new(limit: Limit) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
            max_clients: 100_000,
        }
    }

    /// Takes one token for `client`; `Err(wait)` says how long until one is available.
    pub fn check(&self, client: &str, now: Instant) -> Result<(), Duration> {
        let Limit { burst, per_second } = self.limit;
        // A poisoned lock only means another request panicked mid-update; the table is still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= self.max_clients && !buckets.contains_key(client) {
            let full_after = Duration::from_secs_f64(burst / per_second.max(f64::MIN_POSITIVE));
            buckets.retain(|_, b| now.saturating_duration_since(b.updated) < full_after);
        }
        let bucket = buckets.entry(client.to_string()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second.max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait.min(3_600.0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_steady_rate() {
        let limiter = RateLimiter::new(Limit {
            burst: 3.0,
            per_second: 2.0,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("ip:1", t0).is_ok());
        }
        let wait = limiter.check("ip:1", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert!(limiter.check("ip:2", t0).is_ok(), "clients are independent");
        assert!(limiter.check("ip:1", t0 + Duration::from_millis(500)).is_ok());
        assert!(limiter.check("ip:1", t0 + Duration::from_millis(500)).is_err());
    }
}
