//! Working days in China: weekends and public holidays, with the 调休 weekends that are
//! working days. The State Council publishes each year's arrangement late in the year before,
//! so it is data, not code: one TOML file per year (`calendars/cn-YYYY.toml`, format in
//! `docs/calendar-format.md`). A 公示 of "5 个工作日" ends on the date [`Calendar::nth_workday`]
//! gives. A date in a year without a calendar is an error, never a guess: a guess would end a
//! 公示 on a holiday.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Largest calendar file accepted.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// Holiday periods in one year's file (the State Council lists 7).
pub const MAX_HOLIDAYS: usize = 40;
/// One holiday period's length, in days (the longest so far: 2020's extended 春节, 10).
pub const MAX_HOLIDAY_DAYS: i64 = 31;
/// 调休 working days attached to one holiday.
pub const MAX_SHIFTED_WORKDAYS: usize = 5;
/// Largest N asked of [`Calendar::nth_workday`]: about a working year.
pub const MAX_COUNT: u32 = 260;
/// Holiday and source names, in characters.
pub const MAX_NAME_CHARS: usize = 30;
pub const MAX_SOURCE_CHARS: usize = 200;

/// One year's arrangement, as the file says it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct YearCalendar {
    pub year: i32,
    /// The notice it transcribes (文号).
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: String,
    /// First and last day off, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Weekend days worked in exchange (调休上班).
    #[serde(default)]
    pub workdays: Vec<NaiveDate>,
}

/// What a date is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Day {
    /// Monday to Friday, no holiday.
    Workday,
    /// A Saturday or Sunday worked in exchange for the named holiday.
    ShiftedWorkday(String),
    Weekend,
    Holiday(String),
}

impl Day {
    pub fn is_workday(&self) -> bool {
        matches!(self, Day::Workday | Day::ShiftedWorkday(_))
    }
}

/// A problem in a calendar file, with the field it is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarFileError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for CalendarFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "字段 {}：{}", self.field, self.message)
    }
}

/// A date the loaded calendars do not cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotCovered {
    pub year: i32,
}

impl std::fmt::Display for NotCovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "还没有 {} 年的节假日安排，无法计算工作日。请导入该年的节假日文件（wangju calendar import，格式见 docs/calendar-format.md）",
            self.year
        )
    }
}

impl YearCalendar {
    /// Parses and checks one year's file; every problem is returned at once.
    pub fn parse_toml(source: &str) -> Result<YearCalendar, Vec<CalendarFileError>> {
        if source.len() > MAX_FILE_BYTES {
            return Err(vec![CalendarFileError {
                field: "(文件)".into(),
                message: format!(
                    "文件有 {} 字节，超过上限 {MAX_FILE_BYTES} 字节",
                    source.len()
                ),
            }]);
        }
        let year: YearCalendar = toml::from_str(source).map_err(|e| {
            let detail = e.message().lines().next().unwrap_or_default().to_string();
            vec![CalendarFileError {
                field: detail
                    .split('`')
                    .nth(1)
                    .map(str::to_string)
                    .unwrap_or_else(|| "(文件格式)".into()),
                message: format!("无法读取节假日文件（日期须写成 \"2020-06-25\"）：{detail}"),
            }]
        })?;
        let errors = year.validate();
        if errors.is_empty() {
            Ok(year)
        } else {
            Err(errors)
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# 导出失败：{e}\n"))
    }

    fn validate(&self) -> Vec<CalendarFileError> {
        let mut errors = Vec::new();
        let mut err =
            |field: String, message: String| errors.push(CalendarFileError { field, message });
        if !(2000..=2100).contains(&self.year) {
            err(
                "year".into(),
                format!("年份 {} 不在 2000 至 2100 之间", self.year),
            );
            return errors;
        }
        if self.source.chars().count() > MAX_SOURCE_CHARS {
            err("source".into(), format!("来源最多 {MAX_SOURCE_CHARS} 个字"));
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            err(
                "holidays".into(),
                format!(
                    "一年最多 {MAX_HOLIDAYS} 个假期，文件中有 {} 个",
                    self.holidays.len()
                ),
            );
            return errors;
        }
        // A year's arrangement may reach a month into the next or previous year (元旦 from
        // 12/31), no further.
        let (first, last) = self.reach();
        let mut days_off: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        for (i, h) in self.holidays.iter().enumerate() {
            let field = |part: &str| format!("holidays[{i}].{part}");
            let name = h.name.trim();
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                err(
                    field("name"),
                    format!("假期名称须为 1 至 {MAX_NAME_CHARS} 个字"),
                );
            }
            if h.from > h.to {
                err(
                    field("to"),
                    format!("“{name}”的结束日 {} 早于开始日 {}", h.to, h.from),
                );
                continue;
            }
            if (h.to - h.from).num_days() + 1 > MAX_HOLIDAY_DAYS {
                err(
                    field("to"),
                    format!("“{name}”超过 {MAX_HOLIDAY_DAYS} 天，请检查日期"),
                );
                continue;
            }
            for (part, day) in [("from", h.from), ("to", h.to)] {
                if day < first || day > last {
                    err(
                        field(part),
                        format!("{day} 不在 {} 年的安排范围内", self.year),
                    );
                }
            }
            for day in h.from.iter_days().take_while(|d| *d <= h.to) {
                if let Some(other) = days_off.insert(day, i) {
                    err(
                        field("from"),
                        format!(
                            "“{name}”与“{}”在 {day} 重叠",
                            self.holidays[other].name.trim()
                        ),
                    );
                    break;
                }
            }
            if h.workdays.len() > MAX_SHIFTED_WORKDAYS {
                err(
                    field("workdays"),
                    format!("一个假期最多 {MAX_SHIFTED_WORKDAYS} 个调休上班日"),
                );
            }
        }
        for (i, h) in self.holidays.iter().enumerate() {
            for (j, day) in h.workdays.iter().enumerate() {
                let field = format!("holidays[{i}].workdays[{j}]");
                if *day < first || *day > last {
                    err(
                        field.clone(),
                        format!("{day} 不在 {} 年的安排范围内", self.year),
                    );
                }
                if !is_weekend(*day) {
                    err(
                        field,
                        format!(
                            "{day} 是{}，调休上班日只会是星期六或星期日",
                            weekday_name(day.weekday())
                        ),
                    );
                } else if let Some(k) = days_off.get(day) {
                    err(
                        field,
                        format!(
                            "{day} 已在“{}”的放假日期内，不能同时是上班日",
                            self.holidays[*k].name.trim()
                        ),
                    );
                }
            }
        }
        errors
    }

    /// The dates a year's file may speak of: its year, with a month either side.
    fn reach(&self) -> (NaiveDate, NaiveDate) {
        let first = NaiveDate::from_ymd_opt(self.year - 1, 12, 1).unwrap_or(NaiveDate::MIN);
        let last = NaiveDate::from_ymd_opt(self.year + 1, 1, 31).unwrap_or(NaiveDate::MAX);
        (first, last)
    }
}

/// The built-in years: the notices published so far that a campaign of ours runs in.
pub const BUILT_IN: &[&str] = &[
    include_str!("../../calendars/cn-2020.toml"),
    include_str!("../../calendars/cn-2021.toml"),
];

/// The loaded years, answering for any date in them.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    years: BTreeMap<i32, YearCalendar>,
    /// Every listed day, from any year's file (a file may list a day of the next year).
    days: BTreeMap<NaiveDate, Day>,
}

impl Calendar {
    /// The built-in years. They are checked by a test, so a broken one never ships.
    pub fn built_in() -> Calendar {
        let mut calendar = Calendar::default();
        for source in BUILT_IN {
            if let Ok(year) = YearCalendar::parse_toml(source) {
                calendar.insert(year);
            }
        }
        calendar
    }

    /// Adds a year, replacing one already loaded for the same year.
    pub fn insert(&mut self, year: YearCalendar) {
        self.years.insert(year.year, year);
        self.days.clear();
        for year in self.years.values() {
            for h in &year.holidays {
                for day in h.from.iter_days().take_while(|d| *d <= h.to) {
                    self.days
                        .insert(day, Day::Holiday(h.name.trim().to_string()));
                }
                for day in &h.workdays {
                    self.days
                        .insert(*day, Day::ShiftedWorkday(h.name.trim().to_string()));
                }
            }
        }
    }

    pub fn years(&self) -> impl Iterator<Item = &YearCalendar> {
        self.years.values()
    }

    pub fn year(&self, year: i32) -> Option<&YearCalendar> {
        self.years.get(&year)
    }

    /// What `date` is, when its year is loaded.
    pub fn day(&self, date: NaiveDate) -> Result<Day, NotCovered> {
        if !self.years.contains_key(&date.year()) {
            return Err(NotCovered { year: date.year() });
        }
        Ok(match self.days.get(&date) {
            Some(day) => day.clone(),
            None if is_weekend(date) => Day::Weekend,
            None => Day::Workday,
        })
    }

    pub fn is_workday(&self, date: NaiveDate) -> Result<bool, NotCovered> {
        Ok(self.day(date)?.is_workday())
    }

    /// The date the `n`th working day falls on, counting `from` itself as the first when it is
    /// a working day (a 公示 of n working days that starts on `from` ends that day).
    /// `n` is 1..=[`MAX_COUNT`]; 0 is read as 1.
    pub fn nth_workday(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, NotCovered> {
        let n = n.clamp(1, MAX_COUNT);
        let mut seen = 0;
        let mut day = from;
        loop {
            if self.is_workday(day)? {
                seen += 1;
                if seen == n {
                    return Ok(day);
                }
            }
            day = day.checked_add_days(Days::new(1)).ok_or(NotCovered {
                year: day.year() + 1,
            })?;
        }
    }

    /// Working days from `from` to `to`, both included (0 when `to` is before `from`).
    pub fn workdays_between(&self, from: NaiveDate, to: NaiveDate) -> Result<u32, NotCovered> {
        let mut count = 0;
        for day in from.iter_days().take_while(|d| *d <= to) {
            if self.is_workday(day)? {
                count += 1;
            }
        }
        Ok(count)
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn built_in_years_parse() {
        for source in BUILT_IN {
            if let Err(errors) = YearCalendar::parse_toml(source) {
                panic!("built-in calendar: {errors:?}");
            }
        }
        assert_eq!(Calendar::built_in().years().count(), BUILT_IN.len());
    }

    #[test]
    fn the_2020_second_half() {
        let c = Calendar::built_in();
        for off in [
            "2020-06-25",
            "2020-06-26",
            "2020-06-27",
            "2020-10-01",
            "2020-10-08",
        ] {
            assert!(!c.is_workday(d(off)).expect("2020"), "{off} is a day off");
        }
        for on in [
            "2020-06-28",
            "2020-09-27",
            "2020-10-10",
            "2020-09-30",
            "2020-10-09",
        ] {
            assert!(c.is_workday(d(on)).expect("2020"), "{on} is a working day");
        }
        assert_eq!(
            c.day(d("2020-10-10")),
            Ok(Day::ShiftedWorkday("国庆节、中秋节".into()))
        );
        // A 公示 of five working days from Friday 9/25: 25, 27 (Sunday, worked), 28, 29, 30.
        assert_eq!(c.nth_workday(d("2020-09-25"), 5), Ok(d("2020-09-30")));
        // From 9/30, the second working day is after the National Day week.
        assert_eq!(c.nth_workday(d("2020-09-30"), 2), Ok(d("2020-10-09")));
        assert_eq!(c.nth_workday(d("2020-09-30"), 3), Ok(d("2020-10-10")));
        // Starting on a holiday counts from the first working day after it.
        assert_eq!(c.nth_workday(d("2020-06-25"), 1), Ok(d("2020-06-28")));
        assert_eq!(c.nth_workday(d("2020-06-24"), 2), Ok(d("2020-06-28")));
    }

    #[test]
    fn years_not_loaded_are_refused_not_guessed() {
        let c = Calendar::built_in();
        assert_eq!(
            c.is_workday(d("2027-03-01")),
            Err(NotCovered { year: 2027 })
        );
        // Running off the end of the loaded years is refused too.
        assert_eq!(
            c.nth_workday(d("2021-12-28"), 10),
            Err(NotCovered { year: 2022 })
        );
        assert!(NotCovered { year: 2027 }.to_string().contains("2027"));
    }

    #[test]
    fn bad_files_name_every_problem() {
        let bad = r#"
year = 2022
[[holidays]]
name = "劳动节"
from = "2022-05-04"
to = "2022-04-30"
[[holidays]]
name = "国庆节"
from = "2022-10-01"
to = "2022-10-07"
workdays = ["2022-10-05", "2022-10-11"]
[[holidays]]
name = "重叠"
from = "2022-10-07"
to = "2022-10-08"
"#;
        let errors = YearCalendar::parse_toml(bad).expect_err("bad");
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            text.iter()
                .any(|e| e.contains("holidays[0].to") && e.contains("早于")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("2022-10-11") && e.contains("星期二")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("2022-10-05") && e.contains("星期三")),
            "{text:?}"
        );
        assert!(text.iter().any(|e| e.contains("重叠")), "{text:?}");

        let not_a_date =
            "year = 2022\n[[holidays]]\nname = \"x\"\nfrom = \"5月1日\"\nto = \"2022-05-03\"\n";
        let errors = YearCalendar::parse_toml(not_a_date).expect_err("date");
        assert!(errors[0].message.contains("2020-06-25"), "{errors:?}");

        let far =
            "year = 2022\n[[holidays]]\nname = \"x\"\nfrom = \"2023-05-01\"\nto = \"2023-05-03\"\n";
        assert!(YearCalendar::parse_toml(far).is_err());
        assert!(YearCalendar::parse_toml(&"#".repeat(MAX_FILE_BYTES + 1)).is_err());
        assert!(YearCalendar::parse_toml("year = 2022\nunknown = 1\n").is_err());
    }

    #[test]
    fn a_loaded_year_replaces_the_built_in_one() {
        let mut c = Calendar::built_in();
        let mut y = YearCalendar::parse_toml(BUILT_IN[0]).expect("2020");
        y.holidays.retain(|h| h.name != "端午节");
        c.insert(y);
        assert_eq!(c.is_workday(d("2020-06-25")), Ok(true));
        assert_eq!(c.is_workday(d("2020-06-28")), Ok(false));
    }

    /// The 2020 days off and worked weekends, written out by hand from the notices, as an
    /// oracle independent of the file and the parser.
    fn oracle_2020_is_workday(day: NaiveDate) -> bool {
        const OFF: &[(&str, &str)] = &[
            ("2020-01-01", "2020-01-01"),
            ("2020-01-24", "2020-02-02"),
            ("2020-04-04", "2020-04-06"),
            ("2020-05-01", "2020-05-05"),
            ("2020-06-25", "2020-06-27"),
            ("2020-10-01", "2020-10-08"),
        ];
        const WORKED: &[&str] = &[
            "2020-01-19",
            "2020-04-26",
            "2020-05-09",
            "2020-06-28",
            "2020-09-27",
            "2020-10-10",
        ];
        if WORKED.iter().any(|w| d(w) == day) {
            return true;
        }
        if OFF.iter().any(|(a, b)| d(a) <= day && day <= d(b)) {
            return false;
        }
        !is_weekend(day)
    }

    proptest! {
        /// For any start in 2020 and any count that stays in 2020: the answer is a working
        /// day, exactly n working days (by the oracle) lie from the start to it, and none is
        /// skipped.
        #[test]
        fn nth_workday_agrees_with_the_2020_calendar(start in 0u64..330, n in 1u32..=20) {
            let c = Calendar::built_in();
            let from = d("2020-01-01") + Days::new(start);
            let end = c.nth_workday(from, n).expect("2020 and 2021 are loaded");
            prop_assert!(end >= from);
            if end.year() == 2020 {
                prop_assert!(oracle_2020_is_workday(end));
                let counted = from
                    .iter_days()
                    .take_while(|x| *x <= end)
                    .filter(|x| oracle_2020_is_workday(*x))
                    .count();
                prop_assert_eq!(counted, n as usize);
                prop_assert_eq!(c.workdays_between(from, end).expect("loaded"), n);
            }
            // One more working day is strictly later.
            prop_assert!(c.nth_workday(from, n + 1).expect("loaded") > end);
        }

        #[test]
        fn every_2020_day_agrees_with_the_oracle(offset in 0u64..366) {
            let day = d("2020-01-01") + Days::new(offset);
            prop_assert_eq!(Calendar::built_in().is_workday(day), Ok(oracle_2020_is_workday(day)));
        }
    }
}
