//! The campaign's idea of "today", which demos and tests may pin to any day. Campaign dates are
//! China dates (UTC+8), whatever time zone the server runs in.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// The campaign day: the real China date, or a pinned one (demos, tests). A pinned day can be
/// moved while the app runs (`set_today`), so a test can let a 公示 window pass.
#[derive(Debug, Clone)]
pub struct Clock {
    /// Days from the common era of the pinned day, shared by every clone.
    pinned_today: Option<Arc<AtomicI32>>,
}

/// China Standard Time has no daylight saving: a fixed +8 hours.
fn china_now() -> NaiveDateTime {
    let now = Utc::now();
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => now.with_timezone(&tz).naive_local(),
        None => now.naive_utc(),
    }
}

impl Clock {
    pub fn new(pinned_today: Option<NaiveDate>) -> Clock {
        Clock {
            pinned_today: pinned_today.map(|d| Arc::new(AtomicI32::new(d.num_days_from_ce()))),
        }
    }

    /// The day campaign phases are judged on.
    pub fn today(&self) -> NaiveDate {
        self.pinned_today
            .as_ref()
            .and_then(|d| NaiveDate::from_num_days_from_ce_opt(d.load(Ordering::Relaxed)))
            .unwrap_or_else(|| china_now().date())
    }

    /// Moves a pinned day; a clock on the real date stays on it (returns false).
    pub fn set_today(&self, day: NaiveDate) -> bool {
        match &self.pinned_today {
            Some(pinned) => {
                pinned.store(day.num_days_from_ce(), Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// The campaign's day with the real China time of day: for windows within a day, such as
    /// check-in.
    pub fn now_local(&self) -> NaiveDateTime {
        let time: NaiveTime = china_now().time();
        self.today().and_time(time)
    }
}

/// The China date of a Unix time (real clock): for service targets such as "decided within one
/// working day", which a pinned campaign day must not bend.
pub fn china_date(unix: i64) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default();
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => utc.with_timezone(&tz).date_naive(),
        None => utc.date_naive(),
    }
}

/// Seconds since the Unix epoch, on the real clock. Used for sessions, lockouts and the audit
/// log, which a pinned campaign day must never affect.
pub fn unix_now() -> i64 {
    Utc::now().timestamp()
}

/// Unix seconds as China time, e.g. 2020-07-01 09:30:00 (the raw number if out of range).
pub fn china_time_text(unix: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600);
    match (chrono::DateTime::from_timestamp(unix, 0), offset) {
        (Some(t), Some(tz)) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string(),
        _ => unix.to_string(),
    }
}
