//! When reminders (催报) fall due and what they say. Pure: the job in `service::reminders`
//! feeds it today's date, the phases and each unit's figures.

use chrono::{Datelike, NaiveDate};

/// Days before a deadline on which units behind their quota are reminded.
pub const DAYS_BEFORE: [i64; 3] = [7, 3, 1];

/// The reminder that is due `days_left` days before a deadline: the smallest of 7, 3 and 1
/// that is at least `days_left`. On the day itself that is the day's own reminder; a node that
/// was down on day T-7 still sends that reminder on T-6 (with the true count of days), once.
/// None on the deadline day, after it, and more than 7 days before.
pub fn due_bucket(days_left: i64) -> Option<i64> {
    if days_left < 1 {
        return None;
    }
    DAYS_BEFORE.iter().rev().copied().find(|k| *k >= days_left)
}

/// What a district's summary reminder says, e.g. "请于11月20日前提交本单位活动总结（还有 3 天）".
pub fn summary_text(due: NaiveDate, today: NaiveDate) -> String {
    format!(
        "请于{}月{}日前提交本单位活动总结（文字总结，可附 Word 或 PDF 文件），还有 {} 天。",
        due.month(),
        due.day(),
        (due - today).num_days()
    )
}

/// A phase's short name: 第一阶段：活动启动推进 → 第一阶段; a name without a colon stays whole.
pub fn phase_short_name(name: &str) -> &str {
    name.split(['：', ':'])
        .next()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
}

/// 9月15日.
pub fn month_day(day: NaiveDate) -> String {
    format!("{}月{}日", day.month(), day.day())
}

/// An upcoming deadline, as the text names it.
#[derive(Debug, Clone)]
pub struct Deadline {
    pub phase: String,
    pub date: NaiveDate,
    pub days_left: i64,
}

/// What a unit's reminder says, e.g. "贵单位线下活动任务数 6 场，已确认 2 场，距第一阶段截止
/// （9月15日）还有 3 天". Without a quota or a deadline it says what it can.
pub fn reminder_text(quota: Option<i64>, confirmed: i64, deadline: Option<&Deadline>) -> String {
    let mut text = match quota {
        Some(q) => format!("贵单位线下活动任务数 {q} 场，已确认 {confirmed} 场"),
        None => format!("贵单位线下活动已确认 {confirmed} 场"),
    };
    if let Some(d) = deadline {
        text.push_str(&format!(
            "，距{}截止（{}）还有 {} 天",
            phase_short_name(&d.phase),
            month_day(d.date),
            d.days_left
        ));
    }
    if let Some(q) = quota
        && confirmed < q
    {
        text.push_str(&format!(
            "。尚差 {} 场，请抓紧组织开展并及时报送。",
            q - confirmed
        ));
    } else {
        text.push_str("。请及时组织开展并报送。");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_three_and_one_days_before() {
        assert_eq!(due_bucket(8), None);
        assert_eq!(due_bucket(7), Some(7));
        assert_eq!(due_bucket(5), Some(7), "catch-up of a missed T-7");
        assert_eq!(due_bucket(3), Some(3));
        assert_eq!(due_bucket(2), Some(3));
        assert_eq!(due_bucket(1), Some(1));
        assert_eq!(due_bucket(0), None);
        assert_eq!(due_bucket(-4), None);
    }

    #[test]
    fn says_what_is_behind() {
        let d = Deadline {
            phase: "第一阶段：活动启动推进".into(),
            date: NaiveDate::from_ymd_opt(2020, 9, 15).unwrap_or_default(),
            days_left: 3,
        };
        let text = reminder_text(Some(6), 2, Some(&d));
        assert!(
            text.starts_with(
                "贵单位线下活动任务数 6 场，已确认 2 场，距第一阶段截止（9月15日）还有 3 天"
            ),
            "{text}"
        );
        assert!(text.contains("尚差 4 场"));
        assert_eq!(phase_short_name("总结"), "总结");
    }
}
