//! Limits on how often something may happen per key within a window, kept in memory per node
//! (several nodes each allow the limit, which still bounds the rate):
//!
//! - failed logins per address, on top of the per-account lockout (slows password spraying
//!   from one address; only failures count, so a workplace behind one NAT is not held up);
//! - check-ins: unknown codes per address and code, check-ins per code per second and per
//!   phone per minute (`CheckinLimits`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per address within `WINDOW`.
pub const MAX_ATTEMPTS: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(300);
/// Beyond this many tracked keys, expired entries are swept.
const SWEEP_AT: usize = 10_000;

/// At most `max` events per key in each window of `window`.
pub struct Limiter {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

/// The failed-login limit per address.
pub type LoginLimiter = Limiter;

impl Default for Limiter {
    fn default() -> Limiter {
        Limiter::new(MAX_ATTEMPTS, WINDOW)
    }
}

/// Limits on check-ins (the QR code at an event): see the module comment.
pub struct CheckinLimits {
    /// Unknown codes per address and code: one person scanning a wrong code does not block the
    /// venue's shared network for everybody else.
    pub bad_codes: Limiter,
    /// Unknown codes per address, however many codes (guessing).
    pub bad_codes_per_address: Limiter,
    /// Check-ins per code per second: people scan one by one; a script does not.
    pub per_code: Limiter,
    /// Check-in attempts per phone per minute.
    pub per_device: Limiter,
}

impl Default for CheckinLimits {
    fn default() -> CheckinLimits {
        CheckinLimits {
            bad_codes: Limiter::new(10, WINDOW),
            bad_codes_per_address: Limiter::new(300, WINDOW),
            per_code: Limiter::new(CHECKINS_PER_CODE_PER_SECOND, Duration::from_secs(1)),
            per_device: Limiter::new(CHECKINS_PER_DEVICE_PER_MINUTE, Duration::from_secs(60)),
        }
    }
}

/// Check-ins one code takes per second.
pub const CHECKINS_PER_CODE_PER_SECOND: u32 = 20;
/// Check-in attempts one phone makes per minute.
pub const CHECKINS_PER_DEVICE_PER_MINUTE: u32 = 6;

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Limiter {
        Limiter {
            max,
            window,
            seen: Mutex::default(),
        }
    }

    /// Whether `ip` may try to log in now.
    pub fn allow(&self, ip: &str) -> bool {
        let Ok(seen) = self.seen.lock() else {
            return true;
        };
        seen.get(ip)
            .is_none_or(|(start, failures)| start.elapsed() >= self.window || *failures < self.max)
    }

    /// Takes one attempt from `key`'s budget before the attempt is judged; false when the
    /// budget is spent. Concurrent attempts cannot all pass a check made before any of them is
    /// counted: each takes its place first, and one that turns out right is given back.
    pub fn try_take(&self, key: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        let now = Instant::now();
        let window = self.window;
        if seen.len() > SWEEP_AT {
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.max {
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
        let window = self.window;
        if seen.len() > SWEEP_AT {
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(ip.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
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
