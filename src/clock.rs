//! The campaign's idea of "today", which demos and tests may pin to any day.

use chrono::{Local, NaiveDate};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pinned_today: Option<NaiveDate>,
}

impl Clock {
    pub fn new(pinned_today: Option<NaiveDate>) -> Clock {
        Clock { pinned_today }
    }

    /// The day campaign phases are judged on (China local date in production).
    pub fn today(&self) -> NaiveDate {
        self.pinned_today
            .unwrap_or_else(|| Local::now().date_naive())
    }
}

/// Seconds since the Unix epoch, on the real clock. Used for sessions, lockouts and the audit
/// log, which a pinned campaign day must never affect.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
