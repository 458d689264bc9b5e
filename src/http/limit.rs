//! A per-address limit on failed logins, on top of the per-account lockout: it slows down
//! password spraying (many accounts, one password each) from one address. Only failures count,
//! so a whole workplace signing in from behind one NAT address is not held up. Kept in memory
//! per node; several nodes each allow the limit, which still bounds the rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per address within `WINDOW`.
pub const MAX_ATTEMPTS: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(300);
/// Beyond this many tracked addresses, expired entries are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct LoginLimiter {
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    /// Whether `ip` may try to log in now.
    pub fn allow(&self, ip: &str) -> bool {
        let Ok(seen) = self.seen.lock() else {
            return true;
        };
        seen.get(ip)
            .is_none_or(|(start, failures)| start.elapsed() >= WINDOW || *failures < MAX_ATTEMPTS)
    }

    /// Takes one attempt from `key`'s budget before the attempt is judged; false when the
    /// budget is spent. Concurrent attempts cannot all pass a check made before any of them is
    /// counted: each takes its place first, and one that turns out right is given back.
    pub fn try_take(&self, key: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        let now = Instant::now();
        if seen.len() > SWEEP_AT {
            seen.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = seen.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= MAX_ATTEMPTS {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Returns an attempt taken with `try_take` that was not a failure.
    pub fn give_back(&self, key: &str) {
        if let Ok(mut seen) = self.seen.lock()
            && let Some(entry) = seen.get_mut(key)
        {
            entry.1 = entry.1.saturating_sub(1);
        }
    }

    /// Counts a failed attempt from `ip`.
    pub fn record_failure(&self, ip: &str) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let now = Instant::now();
        if seen.len() > SWEEP_AT {
            seen.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = seen.entry(ip.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_the_limit_is_refused_and_others_are_not() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_ATTEMPTS {
            assert!(limiter.allow("10.0.0.1"));
            limiter.record_failure("10.0.0.1");
        }
        assert!(!limiter.allow("10.0.0.1"));
        assert!(limiter.allow("10.0.0.2"));
    }

    #[test]
    fn concurrent_takers_never_exceed_the_budget() {
        let limiter = std::sync::Arc::new(LoginLimiter::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let limiter = std::sync::Arc::clone(&limiter);
                std::thread::spawn(move || (0..20).filter(|_| limiter.try_take("a")).count())
            })
            .collect();
        let taken: usize = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
        assert_eq!(taken, MAX_ATTEMPTS as usize);
        limiter.give_back("a");
        assert!(limiter.try_take("a"));
        assert!(!limiter.try_take("a"));
    }
}
