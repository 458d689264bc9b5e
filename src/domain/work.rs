//! Works submitted to a sub-project: what a submission must contain, the declarations an
//! author makes (each with the version of its text), and the moderation chain
//! submitted → accepted / returned (the author fixes and resubmits) / rejected.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::domain::mask::valid_phone;
use crate::error::FieldError;

/// The originality and authorisation declaration, as shown beside the check box. Its version is
/// stored with each work so the exact wording agreed to can be shown later.
pub const ORIGINALITY_VERSION: &str = "2020-06-v1";
pub const ORIGINALITY_TEXT: &str = "本人承诺作品为原创，未侵犯他人著作权、肖像权等合法权益；同意主办单位在本次活动宣传、展示中非商业性使用作品。";
pub const PORTRAIT_VERSION: &str = "2020-06-v1";
pub const PORTRAIT_TEXT: &str = "作品中出现的人物已知情并同意其肖像用于本次活动的宣传、展示。";
pub const SUBTITLES_TEXT: &str = "作品的关键内容配有字幕。";
/// The privacy notice a worker accepts when registering.
pub const PRIVACY_VERSION: &str = "2020-06-v1";
pub const PRIVACY_TEXT: &str = "网聚仅收集参加活动所需的姓名、手机号和所在单位，用于作品征集、审核与联系；不向活动以外的单位提供，活动结束后按规定期限删除。";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkStatus {
    /// Waiting for a moderator.
    Submitted,
    Accepted,
    /// Back to the author with a reason; may be fixed and resubmitted while the call is open.
    Returned,
    Rejected,
}

impl WorkStatus {
    pub fn code(self) -> &'static str {
        match self {
            WorkStatus::Submitted => "submitted",
            WorkStatus::Accepted => "accepted",
            WorkStatus::Returned => "returned",
            WorkStatus::Rejected => "rejected",
        }
    }

    /// The status stored under `code`.
    pub fn from_code(code: &str) -> Option<WorkStatus> {
        WorkStatus::parse(code)
    }

    pub fn parse(code: &str) -> Option<WorkStatus> {
        [
            WorkStatus::Submitted,
            WorkStatus::Accepted,
            WorkStatus::Returned,
            WorkStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            WorkStatus::Submitted => "待审核",
            WorkStatus::Accepted => "已通过",
            WorkStatus::Returned => "已退回修改",
            WorkStatus::Rejected => "未通过",
        }
    }
}

/// A moderator's decision; every one needs a reason.
/// Shown as its Chinese label (pages); stored and serialised as its code.
impl std::fmt::Display for WorkStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label_zh())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Return,
    Reject,
}

impl Decision {
    pub fn parse(code: &str) -> Option<Decision> {
        match code {
            "accept" => Some(Decision::Accept),
            "return" => Some(Decision::Return),
            "reject" => Some(Decision::Reject),
            _ => None,
        }
    }

    pub fn outcome(self) -> WorkStatus {
        match self {
            Decision::Accept => WorkStatus::Accepted,
            Decision::Return => WorkStatus::Returned,
            Decision::Reject => WorkStatus::Rejected,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Decision::Accept => "通过",
            Decision::Return => "退回修改",
            Decision::Reject => "不通过",
        }
    }
}

/// Whether a moderator may decide a work in `status`: only works waiting for a decision.
pub fn may_decide(status: WorkStatus) -> bool {
    status == WorkStatus::Submitted
}

/// Whether the author may change and resubmit the work.
pub fn may_resubmit(status: WorkStatus) -> bool {
    status == WorkStatus::Returned
}

/// The moderation target: one working day after submission (weekends skipped). Returns the
/// day by the end of which a decision is due.
pub fn decision_due(submitted_on: NaiveDate) -> NaiveDate {
    let mut day = submitted_on + Duration::days(1);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += Duration::days(1);
    }
    day
}

/// What the author fills in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkInput {
    pub title: String,
    /// Real names of the authors, one or more.
    pub authors: Vec<String>,
    pub contact_phone: String,
    #[serde(default)]
    pub description: String,
    /// The originality and authorisation declaration (`ORIGINALITY_TEXT`).
    #[serde(default)]
    pub originality: bool,
    /// The portrait consent (`PORTRAIT_TEXT`).
    #[serde(default)]
    pub portrait: bool,
    /// "Subtitles for key content", declared by the author.
    #[serde(default)]
    pub subtitles: bool,
}

impl WorkInput {
    pub fn normalised(mut self) -> WorkInput {
        self.title = self.title.trim().to_string();
        self.contact_phone = self.contact_phone.trim().to_string();
        self.description = self.description.trim().to_string();
        self.authors = self
            .authors
            .iter()
            .flat_map(|a| a.split(['，', ',', '、', ' ']))
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        self
    }
}

/// Checks a submission; `needs_subtitles` when the sub-project's rules ask for the declaration.
pub fn validate(input: &WorkInput, needs_subtitles: bool) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(m) = super::text::line(&input.title, 60) {
        errors.push(FieldError::new("title", format!("作品名称{m}")));
    }
    if let Err(m) = super::text::paragraphs(&input.description, 2000) {
        errors.push(FieldError::new("description", format!("作品简介{m}")));
    }
    let title_len = input.title.chars().count();
    if title_len == 0 {
        errors.push(FieldError::new("title", "请填写作品名称"));
    } else if title_len > 60 {
        errors.push(FieldError::new(
            "title",
            format!("作品名称 {title_len} 字，请控制在 60 字以内"),
        ));
    }
    if input.authors.is_empty() {
        errors.push(FieldError::new("authors", "请填写作者的真实姓名"));
    } else if input.authors.len() > 10 {
        errors.push(FieldError::new("authors", "作者最多 10 人"));
    }
    for name in &input.authors {
        if let Err(m) = super::text::name(name, super::text::limits::PERSON_NAME) {
            errors.push(FieldError::new("authors", format!("作者姓名{m}")));
            continue;
        }
        let n = name.chars().count();
        if !(2..=20).contains(&n) || name.chars().any(|c| c.is_ascii_digit()) {
            errors.push(FieldError::new(
                "authors",
                format!("“{name}”不像真实姓名：请填写 2 到 20 个字的姓名，多位作者用顿号分隔"),
            ));
        }
    }
    if !valid_phone(&input.contact_phone) {
        errors.push(FieldError::new(
            "contact_phone",
            "联系电话应为 11 位手机号或带区号的固定电话",
        ));
    }
    if input.description.chars().count() > 2000 {
        errors.push(FieldError::new(
            "description",
            "作品简介请控制在 2000 字以内",
        ));
    }
    if !input.originality {
        errors.push(FieldError::new(
            "originality",
            "请阅读并勾选原创及授权声明，否则作品不能提交",
        ));
    }
    if !input.portrait {
        errors.push(FieldError::new(
            "portrait",
            "请确认作品中出镜人员已同意肖像使用（无人出镜也请勾选）",
        ));
    }
    if needs_subtitles && !input.subtitles {
        errors.push(FieldError::new(
            "subtitles",
            "本项目要求关键内容配字幕：请确认已配字幕后勾选",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> WorkInput {
        WorkInput {
            title: "我身边的好网民".into(),
            authors: vec!["张三".into(), "李四".into()],
            contact_phone: "13812345678".into(),
            description: String::new(),
            originality: true,
            portrait: true,
            subtitles: true,
        }
    }

    #[test]
    fn a_complete_submission_passes() {
        assert_eq!(validate(&good(), true), Ok(()));
    }

    #[test]
    fn declarations_are_required() {
        let input = WorkInput {
            originality: false,
            subtitles: false,
            ..good()
        };
        let fields: Vec<String> = validate(&input, true)
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["originality", "subtitles"]);
        // Without the subtitle rule only the originality declaration is missing.
        assert_eq!(validate(&input, false).expect_err("invalid").len(), 1);
    }

    #[test]
    fn authors_split_on_chinese_separators() {
        let input = WorkInput {
            authors: vec!["张三、李四，王五".into()],
            ..good()
        }
        .normalised();
        assert_eq!(input.authors, ["张三", "李四", "王五"]);
    }

    #[test]
    fn only_waiting_works_are_decided() {
        assert!(may_decide(WorkStatus::Submitted));
        for s in [
            WorkStatus::Accepted,
            WorkStatus::Returned,
            WorkStatus::Rejected,
        ] {
            assert!(!may_decide(s));
        }
        assert!(may_resubmit(WorkStatus::Returned));
        assert!(!may_resubmit(WorkStatus::Rejected));
    }

    #[test]
    fn the_target_skips_weekends() {
        let friday = NaiveDate::from_ymd_opt(2020, 7, 3).expect("test fixture");
        assert_eq!(
            decision_due(friday),
            NaiveDate::from_ymd_opt(2020, 7, 6).expect("test fixture")
        );
        let monday = NaiveDate::from_ymd_opt(2020, 7, 6).expect("test fixture");
        assert_eq!(
            decision_due(monday),
            NaiveDate::from_ymd_opt(2020, 7, 7).expect("test fixture")
        );
    }
}
