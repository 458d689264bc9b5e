//! 公示: a list published for a number of working days, during which anyone may lodge a
//! real-name objection (异议) that the city rules on. One mechanism for every list the campaign
//! publishes: the works recommended upward and the worker good-netizen models.

use chrono::NaiveDate;

use super::calendar::{Calendar, NotCovered};

/// Longest 公示 title, in characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// The text above the list (who publishes it, how to object), in characters.
pub const MAX_NOTICE_CHARS: usize = 2_000;
/// Working days a 公示 may run (the notice's default is 5).
pub const MIN_WORKDAYS: u32 = 1;
pub const MAX_WORKDAYS: u32 = 30;
pub const DEFAULT_WORKDAYS: u32 = 5;
/// 公示 in one campaign (the notice has two lists; drafts that were never published count too).
pub const MAX_PUBLICITIES: i64 = 100;
/// Entries on one 公示.
pub const MAX_ENTRIES: usize = 500;
/// An entry's title and unit, in characters.
pub const MAX_ENTRY_TITLE_CHARS: usize = 100;
pub const MAX_ENTRY_UNIT_CHARS: usize = 60;
/// An objector's name, reason and a ruling's reason, in characters.
pub const MAX_OBJECTOR_NAME_CHARS: usize = 20;
pub const MIN_REASON_CHARS: usize = 10;
pub const MAX_REASON_CHARS: usize = 2_000;
pub const MAX_RULING_CHARS: usize = 1_000;
/// An evidence file (a photo or a PDF).
pub const MAX_EVIDENCE_BYTES: u64 = 10 * 1024 * 1024;
/// Objections one client address may lodge per hour (real objections are few; this stops a
/// script flooding the city's inbox).
pub const OBJECTIONS_PER_HOUR: u32 = 5;
/// Objections one 公示 accepts in all.
pub const MAX_OBJECTIONS: i64 = 2_000;

/// Where a 公示 is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicityState {
    /// Being prepared by the city; not public.
    Draft,
    /// Public; objections are taken until the end date.
    Open,
    /// The window closed and the final list was published.
    Closed,
}

impl PublicityState {
    pub fn code(self) -> &'static str {
        match self {
            PublicityState::Draft => "draft",
            PublicityState::Open => "open",
            PublicityState::Closed => "closed",
        }
    }

    pub fn from_code(code: &str) -> Option<PublicityState> {
        Some(match code {
            "draft" => PublicityState::Draft,
            "open" => PublicityState::Open,
            "closed" => PublicityState::Closed,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            PublicityState::Draft => "草稿",
            PublicityState::Open => "公示中",
            PublicityState::Closed => "已结束",
        }
    }
}

/// What a 公示 lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicityKind {
    /// Works recommended to the national level.
    Works,
    /// Worker good-netizen models (职工好网民榜样).
    Models,
}

impl PublicityKind {
    pub fn code(self) -> &'static str {
        match self {
            PublicityKind::Works => "works",
            PublicityKind::Models => "models",
        }
    }

    pub fn from_code(code: &str) -> Option<PublicityKind> {
        Some(match code {
            "works" => PublicityKind::Works,
            "models" => PublicityKind::Models,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            PublicityKind::Works => "推荐作品",
            PublicityKind::Models => "职工好网民榜样",
        }
    }
}

/// What became of an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectionState {
    Pending,
    /// 成立: the objection holds.
    Upheld,
    /// 不成立.
    Dismissed,
}

impl ObjectionState {
    pub fn code(self) -> &'static str {
        match self {
            ObjectionState::Pending => "pending",
            ObjectionState::Upheld => "upheld",
            ObjectionState::Dismissed => "dismissed",
        }
    }

    pub fn from_code(code: &str) -> Option<ObjectionState> {
        Some(match code {
            "pending" => ObjectionState::Pending,
            "upheld" => ObjectionState::Upheld,
            "dismissed" => ObjectionState::Dismissed,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            ObjectionState::Pending => "待处理",
            ObjectionState::Upheld => "异议成立",
            ObjectionState::Dismissed => "异议不成立",
        }
    }
}

/// The window of a 公示 published on `starts_on` for `workdays` working days: it ends on the
/// last of them (a 公示 starting on a working day counts that day).
pub fn window(
    calendar: &Calendar,
    starts_on: NaiveDate,
    workdays: u32,
) -> Result<(NaiveDate, NaiveDate), NotCovered> {
    Ok((starts_on, calendar.nth_workday(starts_on, workdays)?))
}

/// Whether objections are taken on `today`: from the first day to the last, both included.
pub fn takes_objections(starts_on: NaiveDate, ends_on: NaiveDate, today: NaiveDate) -> bool {
    starts_on <= today && today <= ends_on
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_five_day_window_skips_the_national_day_week() {
        let c = Calendar::built_in();
        // 28, 29, 30 September, then Friday 9 and Saturday 10 October (worked).
        assert_eq!(
            window(&c, d("2020-09-28"), 5),
            Ok((d("2020-09-28"), d("2020-10-10")))
        );
        assert!(takes_objections(
            d("2020-09-28"),
            d("2020-10-09"),
            d("2020-10-05")
        ));
        assert!(!takes_objections(
            d("2020-09-28"),
            d("2020-10-09"),
            d("2020-10-10")
        ));
        assert!(!takes_objections(
            d("2020-09-28"),
            d("2020-10-09"),
            d("2020-09-27")
        ));
    }

    #[test]
    fn codes_round_trip() {
        for s in [
            PublicityState::Draft,
            PublicityState::Open,
            PublicityState::Closed,
        ] {
            assert_eq!(PublicityState::from_code(s.code()), Some(s));
        }
        for s in [
            ObjectionState::Pending,
            ObjectionState::Upheld,
            ObjectionState::Dismissed,
        ] {
            assert_eq!(ObjectionState::from_code(s.code()), Some(s));
        }
        for k in [PublicityKind::Works, PublicityKind::Models] {
            assert_eq!(PublicityKind::from_code(k.code()), Some(k));
        }
        assert_eq!(PublicityState::from_code("deleted"), None);
    }
}
