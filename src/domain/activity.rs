//! Offline activities ("3" of 12351+): the report's fields, their validation, and the approval
//! chain draft → submitted → returned (with a reason) | approved by the parent unit → confirmed
//! by the city. Only confirmed activities count toward quotas.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Returned,
    Approved,
    Confirmed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Submitted,
        Status::Returned,
        Status::Approved,
        Status::Confirmed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Approved => "approved",
            Status::Confirmed => "confirmed",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Submitted => "已报送，待审核",
            Status::Returned => "已退回，待修改",
            Status::Approved => "上级已审核，待市总确认",
            Status::Confirmed => "市总已确认",
        }
    }

    /// The status stored under `code` (codes only, as the database holds them).
    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == text)
    }

    /// The reporting unit may still change the report (and its photos). A submitted report is
    /// frozen until it is returned: what the reviewer reads is what they approve.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }
}

/// Shown as its Chinese label (pages); stored and serialised as its code.
impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// A step in the approval chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Submit,
    Approve,
    Return,
    Confirm,
}

impl Transition {
    pub fn parse(text: &str) -> Option<Transition> {
        match text {
            "submit" => Some(Transition::Submit),
            "approve" => Some(Transition::Approve),
            "return" => Some(Transition::Return),
            "confirm" => Some(Transition::Confirm),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::Approve => "approve",
            Transition::Return => "return",
            Transition::Confirm => "confirm",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Transition::Submit => "报送",
            Transition::Approve => "审核通过",
            Transition::Return => "退回修改",
            Transition::Confirm => "市总确认",
        }
    }
}

/// Who is acting, relative to the activity's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// An admin of the reporting unit itself.
    OwnUnit,
    /// An admin of a unit above it (not the city).
    Above,
    /// The city admin.
    City,
}

/// The status after `transition`, or why it cannot happen (in Chinese).
pub fn next_status(from: Status, transition: Transition, who: Standing) -> Result<Status, String> {
    use Status as S;
    use Transition as T;
    match (transition, from, who) {
        (T::Submit, S::Draft | S::Returned, Standing::OwnUnit | Standing::City) => Ok(S::Submitted),
        (T::Submit, _, _) => Err(format!("“{}”的活动不能再报送", from.label_zh())),
        (T::Approve, S::Submitted, Standing::Above | Standing::City) => Ok(S::Approved),
        (T::Approve, S::Submitted, Standing::OwnUnit) => {
            Err("活动须由上级单位审核，不能自己审核".into())
        }
        (T::Approve, _, _) => Err(format!(
            "只有已报送的活动可以审核，这个活动{}",
            from.label_zh()
        )),
        (T::Return, S::Submitted, Standing::Above | Standing::City) => Ok(S::Returned),
        (T::Return, S::Approved, Standing::City) => Ok(S::Returned),
        (T::Return, _, Standing::OwnUnit) => Err("只有上级单位可以退回".into()),
        (T::Return, _, _) => Err(format!("这个活动{}，不能退回", from.label_zh())),
        (T::Confirm, S::Approved | S::Submitted, Standing::City) => Ok(S::Confirmed),
        (T::Confirm, _, Standing::City) => Err(format!("这个活动{}，不能确认", from.label_zh())),
        (T::Confirm, _, _) => Err("只有市总管理员可以确认".into()),
    }
}

/// What a unit fills in: the plan before the activity, the report after it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityInput {
    pub name: String,
    /// Local time, `YYYY-MM-DDTHH:MM` (what a datetime-local input sends).
    pub starts_at: String,
    pub place: String,
    /// One of the campaign's formats, or [`OTHER_FORMAT`] with `format_other` saying which.
    pub format: String,
    /// The format in the unit's own words when `format` is [`OTHER_FORMAT`].
    #[serde(default)]
    pub format_other: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub co_organisers: String,
    /// The report, filled in after the activity.
    #[serde(default)]
    pub participants: Option<i64>,
    #[serde(default)]
    pub grassroots_unions: Option<i64>,
    #[serde(default)]
    pub enterprises: Option<i64>,
    #[serde(default)]
    pub new_propagandists: Option<i64>,
    #[serde(default)]
    pub online_platform: String,
    #[serde(default)]
    pub online_link: String,
    #[serde(default)]
    pub online_views: Option<i64>,
    #[serde(default)]
    pub news_links: String,
    #[serde(default)]
    pub summary: String,
}

pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// The notice lists formats and ends with 等: every campaign also offers this one, and the
/// unit says which format it was.
pub const OTHER_FORMAT: &str = "其他（请注明）";

impl ActivityInput {
    /// The format as papers and pages show it: 其他（读书分享会） for one in the unit's words.
    pub fn format_label(&self) -> String {
        if self.format == OTHER_FORMAT {
            format!("其他（{}）", self.format_other.trim())
        } else {
            self.format.clone()
        }
    }
}

/// What a report is checked against: the campaign's formats, categories and dates.
pub struct Rules<'a> {
    pub formats: &'a [String],
    /// The lecture team's forms (专题培训…): a confirmed lecture is an activity of its form.
    pub lecture_forms: &'a [String],
    pub categories: &'a [String],
    /// First and last day an activity may be dated on (`Campaign::activity_dates`).
    pub dates: Option<(NaiveDate, NaiveDate)>,
}

/// Most photos one report carries.
pub const MAX_PHOTOS: usize = 9;

/// Checks the plan (always) and, for `for_submission`, the report too.
pub fn validate(
    input: &ActivityInput,
    rules: &Rules<'_>,
    for_submission: bool,
) -> Result<NaiveDateTime, Vec<FieldError>> {
    use super::text::{self, limits};
    let (formats, categories) = (rules.formats, rules.categories);
    let mut errors = Vec::new();
    let mut err = |f: &str, m: String| errors.push(FieldError::new(f, m));
    match text::line(&input.name, limits::TITLE) {
        Ok(name) if name.is_empty() => err("活动名称", "请填写活动名称".into()),
        Ok(_) => {}
        Err(m) => err("活动名称", format!("活动名称{m}")),
    }
    let starts = NaiveDateTime::parse_from_str(input.starts_at.trim(), TIME_FORMAT);
    match (&starts, rules.dates) {
        (Err(_), _) => err(
            "活动时间",
            "请填写活动的日期和时间，例如 2020-07-01T09:30".into(),
        ),
        (Ok(t), Some((first, last))) if t.date() < first || t.date() > last => err(
            "活动时间",
            format!(
                "活动日期须在本次活动的报送期内：{first} 至 {last}（已含前后 {} 天宽限）",
                super::campaign::ACTIVITY_DATE_GRACE_DAYS
            ),
        ),
        _ => {}
    }
    match text::line(&input.place, limits::SHORT_TEXT) {
        Ok(place) if place.is_empty() => err("活动地点", "请填写活动地点".into()),
        Ok(_) => {}
        Err(m) => err("活动地点", format!("活动地点{m}")),
    }
    for (label, value, max) in [
        ("联合主办单位", &input.co_organisers, limits::SHORT_TEXT),
        ("直播或发布平台", &input.online_platform, limits::SHORT_TEXT),
        ("直播或发布链接", &input.online_link, limits::URL),
    ] {
        if let Err(m) = text::line(value, max) {
            err(label, format!("{label}{m}"));
        }
    }
    if let Err(m) = text::paragraphs(&input.news_links, limits::LONG_TEXT) {
        err("新闻报道", format!("新闻报道{m}"));
    }
    if input.format.trim() == OTHER_FORMAT {
        match text::line(&input.format_other, limits::FORMAT_OTHER) {
            Ok(other) if other.is_empty() => err(
                "活动方式",
                "选择“其他”时，请在“其他方式”里写明是什么活动方式（如：读书分享会）".into(),
            ),
            Ok(_) => {}
            Err(m) => err("其他方式", format!("其他方式{m}")),
        }
    } else if !formats
        .iter()
        .chain(rules.lecture_forms)
        .any(|f| f == input.format.trim())
    {
        err(
            "活动方式",
            format!("请从以下方式中选择：{}、{OTHER_FORMAT}", formats.join("、")),
        );
    }
    if input.categories.is_empty() {
        err("活动内容", "请至少选择一项活动内容".into());
    }
    for c in &input.categories {
        if !categories.contains(c) {
            err("活动内容", format!("“{c}”不是本次活动的内容类别"));
        }
    }
    for (label, value) in [
        ("面对面参与职工人数", input.participants),
        ("涉及基层工会数", input.grassroots_unions),
        ("走进企业数", input.enterprises),
        ("新发展宣传员人数", input.new_propagandists),
        ("线上浏览量", input.online_views),
    ] {
        match value {
            Some(n) if !(0..=100_000_000).contains(&n) => {
                err(label, "请填写 0 到 1 亿之间的整数".into())
            }
            None if for_submission && label != "线上浏览量" => {
                err(label, "报送前请填写（没有请填 0）".into())
            }
            _ => {}
        }
    }
    let link = input.online_link.trim();
    if !(link.is_empty() || link.starts_with("https://") || link.starts_with("http://")) {
        err("直播或发布链接", "链接须以 http:// 或 https:// 开头".into());
    }
    for line in input
        .news_links
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if !line.contains("http://") && !line.contains("https://") {
            err(
                "新闻报道",
                format!("“{line}”里没有链接；每行一条：媒体名称 链接"),
            );
        }
    }
    if let Err(m) = text::paragraphs(&input.summary, 2000) {
        err("活动简介", format!("活动简介{m}"));
    }
    if for_submission && input.summary.trim().chars().count() < 20 {
        err("活动简介", "报送前请写不少于 20 字的活动简介".into());
    }
    match (starts, errors.is_empty()) {
        (Ok(t), true) => Ok(t),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_goes_up_and_only_up() {
        use Standing::*;
        assert_eq!(
            next_status(Status::Draft, Transition::Submit, OwnUnit),
            Ok(Status::Submitted)
        );
        assert!(next_status(Status::Submitted, Transition::Approve, OwnUnit).is_err());
        assert_eq!(
            next_status(Status::Submitted, Transition::Approve, Above),
            Ok(Status::Approved)
        );
        assert!(next_status(Status::Approved, Transition::Confirm, Above).is_err());
        assert_eq!(
            next_status(Status::Approved, Transition::Confirm, City),
            Ok(Status::Confirmed)
        );
        assert_eq!(
            next_status(Status::Submitted, Transition::Return, Above),
            Ok(Status::Returned)
        );
        assert_eq!(
            next_status(Status::Returned, Transition::Submit, OwnUnit),
            Ok(Status::Submitted)
        );
        assert!(next_status(Status::Confirmed, Transition::Return, City).is_err());
        assert!(next_status(Status::Confirmed, Transition::Submit, OwnUnit).is_err());
    }

    fn formats() -> Vec<String> {
        vec!["知识竞赛".into()]
    }

    #[test]
    fn a_plan_needs_less_than_a_report() {
        let plan = ActivityInput {
            name: "网络安全知识竞赛".into(),
            starts_at: "2020-07-01T09:30".into(),
            place: "区工人文化宫".into(),
            format: "知识竞赛".into(),
            categories: vec!["网络安全知识技能".into()],
            ..Default::default()
        };
        let cats = vec!["网络安全知识技能".to_string()];
        let formats = formats();
        let rules = Rules {
            lecture_forms: &[],
            formats: &formats,
            categories: &cats,
            dates: NaiveDate::from_ymd_opt(2020, 5, 25).zip(NaiveDate::from_ymd_opt(2020, 9, 22)),
        };
        assert!(validate(&plan, &rules, false).is_ok());
        let errors = validate(&plan, &rules, true).err().unwrap_or_default();
        assert!(errors.iter().any(|e| e.field == "面对面参与职工人数"));
        assert!(errors.iter().any(|e| e.field == "活动简介"));
        let bad = ActivityInput {
            format: "跳舞".into(),
            starts_at: "7月1日".into(),
            ..plan
        };
        let errors = validate(&bad, &rules, false).err().unwrap_or_default();
        assert!(errors.iter().any(|e| e.field == "活动方式"));
        assert!(errors.iter().any(|e| e.field == "活动时间"));
    }

    #[test]
    fn other_formats_are_taken_when_the_unit_says_which() {
        let formats = formats();
        let cats = vec!["网络安全知识技能".to_string()];
        let rules = Rules {
            formats: &formats,
            lecture_forms: &[],
            categories: &cats,
            dates: None,
        };
        let plan = ActivityInput {
            name: "职工读书会".into(),
            starts_at: "2020-07-01T09:30".into(),
            place: "区工人文化宫".into(),
            format: OTHER_FORMAT.into(),
            categories: cats.clone(),
            ..Default::default()
        };
        let errors = validate(&plan, &rules, false).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.field == "活动方式" && e.message.contains("写明")),
            "{errors:?}"
        );
        let named = ActivityInput {
            format_other: "读书分享会".into(),
            ..plan.clone()
        };
        assert!(validate(&named, &rules, false).is_ok());
        assert_eq!(named.format_label(), "其他（读书分享会）");
        let long = ActivityInput {
            format_other: "很".repeat(limits_other() + 1),
            ..plan
        };
        let errors = validate(&long, &rules, false).err().unwrap_or_default();
        assert!(errors.iter().any(|e| e.field == "其他方式"), "{errors:?}");
    }

    fn limits_other() -> usize {
        crate::domain::text::limits::FORMAT_OTHER
    }

    #[test]
    fn dates_outside_the_campaign_are_refused() {
        let formats = formats();
        let cats = vec!["网络安全知识技能".to_string()];
        let rules = Rules {
            lecture_forms: &[],
            formats: &formats,
            categories: &cats,
            dates: NaiveDate::from_ymd_opt(2020, 5, 25).zip(NaiveDate::from_ymd_opt(2020, 9, 22)),
        };
        for starts_at in [
            "2019-07-01T09:30",
            "0000-07-01T09:30",
            "9999-07-01T09:30",
            "2020-05-24T23:59",
            "2020-09-23T00:00",
        ] {
            let input = ActivityInput {
                name: "网络安全知识竞赛".into(),
                starts_at: starts_at.into(),
                place: "区工人文化宫".into(),
                format: "知识竞赛".into(),
                categories: cats.clone(),
                ..Default::default()
            };
            let errors = validate(&input, &rules, false).err().unwrap_or_default();
            assert!(errors.iter().any(|e| e.field == "活动时间"), "{starts_at}");
        }
    }
}
