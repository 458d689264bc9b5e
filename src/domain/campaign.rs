//! The campaign as data: everything a notice fixes (phases, targets, quotas, sub-projects and
//! their file rules, the lecture team, contacts). Parsed from TOML, validated here with no I/O.
//! The format is documented in `docs/campaign-format.md`.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::org::OrgKind;
pub use super::selection::{Advance, Criterion, Round};

/// The file rules are the media library's: the probe and the check speak them.
pub use wangju_media::rules::{FileRule, MediaKind, Severity};

/// How many days before the first and after the last reporting day an activity may be dated.
pub const ACTIVITY_DATE_GRACE_DAYS: i64 = 7;

/// One campaign, e.g. the 2020 Tianjin notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Stable code, e.g. `tianjin-2020`. Lower-case letters, digits and `-`.
    pub code: String,
    pub year: i32,
    /// Theme of the campaign: 网聚职工正能量 争做中国好网民.
    pub title: String,
    pub notice: Notice,
    pub organisers: Vec<Organiser>,
    pub phases: Vec<Phase>,
    pub targets: Targets,
    pub quotas: Quotas,
    pub activity_formats: Vec<String>,
    pub content_categories: Vec<String>,
    pub sub_projects: Vec<SubProject>,
    pub lecture_team: LectureTeam,
    #[serde(default)]
    pub contacts: Vec<ContactGroup>,
    /// The day by which each district (区总工会, bureau/group-company union) submits its own
    /// summary (inclusive); reminders go out 7, 3 and 1 days before to those that have not.
    /// `None`: districts are not asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_summary_due: Option<NaiveDate>,
}

/// The notice that fixes the campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    pub title: String,
    /// 文号. The 2020 Tianjin notice carries none of its own; it cites the national one.
    #[serde(default)]
    pub document_number: Option<String>,
    /// The national notice this one implements, e.g. 厅字〔2020〕15号.
    #[serde(default)]
    pub based_on: Option<String>,
    pub issued_on: NaiveDate,
    pub addressees: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organiser {
    pub name: String,
    pub kind: OrgKind,
    /// The department that runs the campaign day to day (宣教网络部).
    #[serde(default)]
    pub department: Option<String>,
}

/// What a phase lets people do. Enforced by the features that need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseAction {
    /// Units hold and report offline activities.
    ReportActivities,
    /// Workers submit works to the sub-projects.
    SubmitWorks,
    /// Lecturers are engaged and the lecture team formed.
    FormLectureTeam,
    /// Preliminary summary and recommendation upward.
    Recommend,
    /// Evaluation of works.
    Evaluate,
    /// Campaign summary.
    Summarise,
}

impl PhaseAction {
    pub fn label_zh(self) -> &'static str {
        match self {
            PhaseAction::ReportActivities => "开展并报送线下活动",
            PhaseAction::SubmitWorks => "提交征集作品",
            PhaseAction::FormLectureTeam => "组建宣讲团",
            PhaseAction::Recommend => "初步总结与推荐",
            PhaseAction::Evaluate => "评选",
            PhaseAction::Summarise => "总结",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub code: String,
    pub name: String,
    pub starts_on: NaiveDate,
    /// Inclusive.
    pub ends_on: NaiveDate,
    pub description: String,
    #[serde(default)]
    pub allows: Vec<PhaseAction>,
}

/// The national "12351+" targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// 1: grassroots unions mobilised.
    pub grassroots_unions: u64,
    /// 2: worker good-netizen propagandists.
    pub propagandists: u64,
    /// 3: enterprises entered or offline activities held.
    pub enterprises_or_activities: u64,
    /// 5 (0,000): workers met face to face.
    pub face_to_face: u64,
    /// 1 (亿): worker netizens reached online.
    pub online_reach: u64,
    /// "+": secondary spread, in words.
    pub secondary_spread: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// At least this many offline activities city-wide.
    pub total_min: u32,
    /// Every bureau/group-company union must hold at least this many.
    pub bureau_group_min: u32,
    /// Annex 1, in its order.
    pub units: Vec<UnitQuota>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitQuota {
    pub unit: String,
    pub kind: OrgKind,
    pub min_activities: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubProject {
    /// Stable code, e.g. `micro-video`.
    pub code: String,
    pub name: String,
    /// 承办单位.
    pub host: String,
    /// Whether Wangju takes the submissions (`wangju`) or units take part on the host's
    /// platform and record their participation here (`external`).
    pub participation: Participation,
    pub description: String,
    pub platform_entries: Vec<PlatformEntry>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// The kind of work asked for.
    pub media: MediaKind,
    /// File rules as structured data; checked on the server.
    #[serde(default)]
    pub rules: Vec<FileRule>,
    /// Review rounds in order (初评 → 复评 → 终评); none when the city does not judge it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<Round>,
    /// The most works the city may recommend upward from this sub-project's final ranking
    /// (推荐名额); [`super::recommendation::DEFAULT_CAP`] when a judged sub-project names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommend_max: Option<u32>,
}

impl SubProject {
    /// The recommendation cap: the file's `recommend_max`, else the default.
    pub fn recommend_cap(&self) -> u32 {
        self.recommend_max
            .unwrap_or(super::recommendation::DEFAULT_CAP)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Participation {
    Wangju,
    External,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformEntry {
    pub name: String,
    pub kind: PlatformKind,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformKind {
    Website,
    WechatAccount,
    App,
}

impl PlatformKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            PlatformKind::Website => "网站",
            PlatformKind::WechatAccount => "微信公众号",
            PlatformKind::App => "客户端",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub phones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactGroup {
    /// Whom to call about what, e.g. 天津市总工会宣教网络部.
    pub about: String,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LectureTeam {
    pub name: String,
    /// Worker good-netizen models selected city-wide.
    pub worker_models: u32,
    /// Groups of representatives who join them, e.g. 青年好网民, 巾帼好网民.
    pub representative_groups: Vec<String>,
    /// 五进: 机关、校园、社区、企业、网络.
    pub venues: Vec<String>,
    /// 专题培训、巡回宣讲、文化活动、网络公开课.
    pub forms: Vec<String>,
    /// Who selects them.
    pub selected_by: Vec<String>,
    /// Candidates each district, bureau or group-company union may nominate (推荐名额).
    #[serde(default = "default_nominations_per_unit")]
    pub nominations_per_unit: u32,
    /// Whether a lecture held by a union unit (its confirmed activity) counts toward the unit's
    /// Annex 1 quota and the progress figures; it always counts toward the team's record.
    #[serde(default = "default_true")]
    pub lectures_count_toward_quota: bool,
}

fn default_true() -> bool {
    true
}

fn default_nominations_per_unit() -> u32 {
    super::lecture::DEFAULT_NOMINATIONS_PER_UNIT
}

/// One problem found in a campaign file: where, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignFileError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Field path, e.g. `phases[2].ends_on`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for CampaignFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "第 {line} 行，字段 {}：{}", self.field, self.message),
            None => write!(f, "字段 {}：{}", self.field, self.message),
        }
    }
}

impl Campaign {
    /// Parses and validates a campaign file. Every problem found is returned, each with its
    /// line and field, so one round of fixes is enough.
    pub fn parse_toml(source: &str) -> Result<Campaign, Vec<CampaignFileError>> {
        let campaign: Campaign =
            toml::from_str(source).map_err(|e| vec![toml_error(source, &e)])?;
        let errors = campaign.validate(source);
        if errors.is_empty() {
            Ok(campaign)
        } else {
            Err(errors)
        }
    }

    pub fn to_toml(&self) -> String {
        // Serialising our own plain data cannot fail; fall back to JSON-in-TOML-comment never needed.
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# 导出失败：{e}\n"))
    }

    /// Semantic checks the type system cannot express.
    fn validate(&self, source: &str) -> Vec<CampaignFileError> {
        let mut errors = Vec::new();
        let mut err = |line: Option<usize>, field: String, message: String| {
            errors.push(CampaignFileError {
                line,
                field,
                message,
            })
        };
        let top = |key: &str| line_of_key(source, key);

        if !is_code(&self.code) {
            err(
                top("code"),
                "code".into(),
                "编码只能由小写字母、数字和“-”组成，例如 tianjin-2020".into(),
            );
        }
        if !(2000..=2100).contains(&self.year) {
            err(
                top("year"),
                "year".into(),
                format!("年份 {} 不在 2000 至 2100 之间", self.year),
            );
        }
        if self.title.trim().is_empty() {
            err(top("title"), "title".into(), "活动主题不能为空".into());
        }
        if self.organisers.is_empty() {
            err(
                None,
                "organisers".into(),
                "至少需要一个主办单位（[[organisers]]）".into(),
            );
        }
        if !self.organisers.iter().any(|o| o.kind == OrgKind::CityUnion) {
            err(
                line_of_table(source, "organisers", 0),
                "organisers".into(),
                "主办单位中须有一个 kind = \"city_union\" 的市总工会".into(),
            );
        }

        if self.phases.is_empty() {
            err(
                None,
                "phases".into(),
                "至少需要一个阶段（[[phases]]）".into(),
            );
        }
        if let Some(due) = self.district_summary_due {
            let first = self.phases.iter().map(|p| p.starts_on).min();
            let last = self.phases.iter().map(|p| p.ends_on).max();
            if first.is_some_and(|f| due < f) || last.is_some_and(|l| due > l) {
                err(
                    top("district_summary_due"),
                    "district_summary_due".into(),
                    format!("各区总结的提交截止日期 {due} 不在活动各阶段的起止日期之内"),
                );
            }
        }
        let mut phase_codes = HashSet::new();
        for (i, phase) in self.phases.iter().enumerate() {
            let line = line_of_table(source, "phases", i);
            if !phase_codes.insert(phase.code.as_str()) {
                err(
                    line,
                    format!("phases[{i}].code"),
                    format!("阶段编码“{}”重复", phase.code),
                );
            }
            if phase.ends_on < phase.starts_on {
                err(
                    line,
                    format!("phases[{i}].ends_on"),
                    format!(
                        "结束日期 {} 早于开始日期 {}",
                        phase.ends_on, phase.starts_on
                    ),
                );
            }
            if i > 0 && phase.starts_on < self.phases[i - 1].starts_on {
                err(
                    line,
                    format!("phases[{i}].starts_on"),
                    "阶段须按开始日期先后排列".into(),
                );
            }
        }

        let mut units = HashSet::new();
        let mut sum: u64 = 0;
        for (i, quota) in self.quotas.units.iter().enumerate() {
            let line = line_of_table(source, "quotas.units", i);
            if quota.unit.trim().is_empty() {
                err(
                    line,
                    format!("quotas.units[{i}].unit"),
                    "单位名称不能为空".into(),
                );
            }
            if !units.insert(quota.unit.as_str()) {
                err(
                    line,
                    format!("quotas.units[{i}].unit"),
                    format!("单位“{}”在任务分配表中出现了两次", quota.unit),
                );
            }
            if quota.kind == OrgKind::BureauGroup
                && quota.min_activities < self.quotas.bureau_group_min
            {
                err(
                    line,
                    format!("quotas.units[{i}].min_activities"),
                    format!(
                        "局、集团公司工会至少 {} 场，这里只有 {} 场",
                        self.quotas.bureau_group_min, quota.min_activities
                    ),
                );
            }
            sum += u64::from(quota.min_activities);
        }
        if sum < u64::from(self.quotas.total_min) && !self.quotas.units.is_empty() {
            err(
                line_of_key(source, "total_min"),
                "quotas.total_min".into(),
                format!(
                    "各单位任务合计 {sum} 场，少于全市不少于 {} 场的要求",
                    self.quotas.total_min
                ),
            );
        }

        let mut codes = HashSet::new();
        for (i, sp) in self.sub_projects.iter().enumerate() {
            let line = line_of_table(source, "sub_projects", i);
            if !is_code(&sp.code) {
                err(
                    line,
                    format!("sub_projects[{i}].code"),
                    "编码只能由小写字母、数字和“-”组成，例如 micro-video".into(),
                );
            }
            if !codes.insert(sp.code.as_str()) {
                err(
                    line,
                    format!("sub_projects[{i}].code"),
                    format!("子项目编码“{}”重复", sp.code),
                );
            }
            if sp.host.trim().is_empty() {
                err(
                    line,
                    format!("sub_projects[{i}].host"),
                    "承办单位不能为空".into(),
                );
            }
            for (j, entry) in sp.platform_entries.iter().enumerate() {
                if let Some(url) = &entry.url
                    && !(url.starts_with("http://") || url.starts_with("https://"))
                {
                    err(
                        line,
                        format!("sub_projects[{i}].platform_entries[{j}].url"),
                        format!("网址“{url}”须以 http:// 或 https:// 开头"),
                    );
                }
            }
            for (j, rule) in sp.rules.iter().enumerate() {
                if let Some(message) = rule_problem(rule) {
                    err(line, format!("sub_projects[{i}].rules[{j}]"), message);
                }
            }
            if !sp.rounds.is_empty() && sp.participation != Participation::Wangju {
                err(
                    line,
                    format!("sub_projects[{i}].rounds"),
                    "只有在网聚提交作品的子项目（participation = \"wangju\"）才能设评审轮次".into(),
                );
            }
            for (field, message) in super::selection::round_problems(&sp.rounds) {
                err(line, format!("sub_projects[{i}].{field}"), message);
            }
            if let Some(cap) = sp.recommend_max {
                let max = super::recommendation::MAX_CAP;
                if sp.rounds.is_empty() {
                    err(
                        line,
                        format!("sub_projects[{i}].recommend_max"),
                        "推荐名额只能设在有评审轮次的子项目上（推荐名单从终评排名中选出）".into(),
                    );
                } else if !(1..=max).contains(&cap) {
                    err(
                        line,
                        format!("sub_projects[{i}].recommend_max"),
                        format!("推荐名额须为 1 至 {max}"),
                    );
                }
            }
        }

        if self.lecture_team.worker_models == 0 {
            err(
                line_of_key(source, "worker_models"),
                "lecture_team.worker_models".into(),
                "职工好网民榜样人数须大于 0".into(),
            );
        }
        if self.lecture_team.worker_models > super::lecture::MAX_WORKER_MODELS {
            err(
                line_of_key(source, "worker_models"),
                "lecture_team.worker_models".into(),
                format!(
                    "职工好网民榜样人数不能超过 {}",
                    super::lecture::MAX_WORKER_MODELS
                ),
            );
        }
        if !(1..=super::lecture::MAX_NOMINATIONS_PER_UNIT)
            .contains(&self.lecture_team.nominations_per_unit)
        {
            err(
                line_of_key(source, "nominations_per_unit"),
                "lecture_team.nominations_per_unit".into(),
                format!(
                    "每个单位的推荐名额须为 1 至 {} 名",
                    super::lecture::MAX_NOMINATIONS_PER_UNIT
                ),
            );
        }
        errors
    }

    /// The phase that contains `day`, if any. When phases overlap on a boundary day (9/15 ends
    /// one and starts the next), the later phase wins.
    pub fn phase_on(&self, day: NaiveDate) -> Option<&Phase> {
        self.phases
            .iter()
            .rev()
            .find(|p| p.starts_on <= day && day <= p.ends_on)
    }

    /// Whether any phase that contains `day` allows `action`. Boundary days belong to both
    /// phases, so the push phase still allows reports on its last day (9/15).
    pub fn allows_on(&self, day: NaiveDate, action: PhaseAction) -> bool {
        self.phases
            .iter()
            .any(|p| p.starts_on <= day && day <= p.ends_on && p.allows.contains(&action))
    }

    pub fn starts_on(&self) -> Option<NaiveDate> {
        self.phases.iter().map(|p| p.starts_on).min()
    }

    /// The days an offline activity may be dated on: the reporting phases' first to last day,
    /// widened by [`ACTIVITY_DATE_GRACE_DAYS`] on both sides (a unit may prepare in the last
    /// days of May, or hold a planned activity just after the deadline). `None` when no phase
    /// allows reporting.
    pub fn activity_dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        let reporting = || {
            self.phases
                .iter()
                .filter(|p| p.allows.contains(&PhaseAction::ReportActivities))
        };
        let first = reporting().map(|p| p.starts_on).min()?;
        let last = reporting().map(|p| p.ends_on).max()?;
        let grace = chrono::Duration::days(ACTIVITY_DATE_GRACE_DAYS);
        Some((first - grace, last + grace))
    }

    pub fn ends_on(&self) -> Option<NaiveDate> {
        self.phases.iter().map(|p| p.ends_on).max()
    }

    /// Starts a new year's campaign from this one: every date moves into `year` (29 February
    /// becomes 28 February when the year has none), the year in the code and titles follows,
    /// everything else is kept.
    pub fn for_year(&self, year: i32) -> Campaign {
        let delta = year - self.year;
        let old = self.year.to_string();
        let new = year.to_string();
        let mut next = self.clone();
        next.year = year;
        next.code = if self.code.contains(&old) {
            self.code.replace(&old, &new)
        } else {
            format!("{}-{new}", self.code)
        };
        next.title = self.title.replace(&old, &new);
        next.notice.title = self.notice.title.replace(&old, &new);
        next.notice.issued_on = shift_years(self.notice.issued_on, delta);
        for phase in &mut next.phases {
            phase.starts_on = shift_years(phase.starts_on, delta);
            phase.ends_on = shift_years(phase.ends_on, delta);
        }
        next.district_summary_due = self.district_summary_due.map(|d| shift_years(d, delta));
        for round in next.sub_projects.iter_mut().flat_map(|sp| &mut sp.rounds) {
            round.starts_on = shift_years(round.starts_on, delta);
            round.ends_on = shift_years(round.ends_on, delta);
        }
        next
    }
}

fn shift_years(day: NaiveDate, delta: i32) -> NaiveDate {
    let year = day.year() + delta;
    day.with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, day.month(), 28))
        .unwrap_or(day)
}

fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn rule_problem(rule: &FileRule) -> Option<String> {
    match rule {
        FileRule::Format { allowed, .. } if allowed.is_empty() => {
            Some("格式规则须列出至少一种允许的格式".into())
        }
        FileRule::MaxSize { megabytes: 0, .. } => Some("文件大小上限须大于 0".into()),
        FileRule::MaxDuration { seconds: 0, .. } => Some("时长上限须大于 0".into()),
        FileRule::AspectRatio {
            width,
            height,
            tolerance_percent,
            ..
        } if *width == 0 || *height == 0 || !(0.0..=20.0).contains(tolerance_percent) => {
            Some("画面比例的宽高须大于 0，容差在 0 至 20% 之间".into())
        }
        FileRule::TextLength {
            min_chars,
            max_chars,
            ..
        } if min_chars > max_chars => Some("字数下限不能大于上限".into()),
        _ => None,
    }
}

fn toml_error(source: &str, e: &toml::de::Error) -> CampaignFileError {
    let line = e
        .span()
        .map(|span| source[..span.start.min(source.len())].matches('\n').count() + 1);
    // The toml message names the field ("missing field `x`", "unknown field `y`") and sometimes
    // the table; keep its first line as the technical detail after our own words.
    let detail = e.message().lines().next().unwrap_or_default().to_string();
    let field = detail
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| "(文件格式)".to_string());
    CampaignFileError {
        line,
        field,
        message: format!("无法读取活动文件：{}", translate_toml_message(&detail)),
    }
}

fn translate_toml_message(detail: &str) -> String {
    if let Some(rest) = detail.strip_prefix("missing field ") {
        format!("缺少必填字段 {rest}")
    } else if let Some(rest) = detail.strip_prefix("unknown field ") {
        let name = rest.split(',').next().unwrap_or(rest);
        format!("不认识的字段 {name}，请检查拼写")
    } else if detail.starts_with("invalid type") {
        format!("取值类型不对（{detail}）")
    } else if detail.contains("input contains invalid characters")
        || detail.contains("premature end of input")
    {
        format!("日期须写成 YYYY-MM-DD（{detail}）")
    } else if detail.starts_with("unknown variant") {
        format!("取值不在允许范围内（{detail}）")
    } else {
        format!("TOML 语法错误（{detail}）")
    }
}

/// Line of the `index`-th `[[table]]` header.
fn line_of_table(source: &str, table: &str, index: usize) -> Option<usize> {
    let header = format!("[[{table}]]");
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .nth(index)
        .map(|(n, _)| n + 1)
}

/// Line of the first `key = ...` assignment.
fn line_of_key(source: &str, key: &str) -> Option<usize> {
    source
        .lines()
        .enumerate()
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(n, _)| n + 1)
}

/// The built-in campaign: the 2020 Tianjin notice.
pub const TIANJIN_2020: &str = include_str!("../../campaigns/tianjin-2020.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Campaign {
        match Campaign::parse_toml(TIANJIN_2020) {
            Ok(c) => c,
            Err(errors) => panic!("built-in campaign invalid: {errors:?}"),
        }
    }

    #[test]
    fn builtin_campaign_matches_the_notice() {
        let c = builtin();
        assert_eq!(c.code, "tianjin-2020");
        assert_eq!(c.quotas.units.len(), 16);
        let total: u32 = c.quotas.units.iter().map(|u| u.min_activities).sum();
        assert_eq!(total, 100);
        let binhai = c.quotas.units.iter().find(|u| u.unit == "滨海新区总工会");
        assert_eq!(binhai.map(|u| u.min_activities), Some(10));
        assert!(
            c.quotas
                .units
                .iter()
                .filter(|u| u.unit != "滨海新区总工会")
                .all(|u| u.min_activities == 6)
        );
        assert_eq!(c.quotas.bureau_group_min, 1);
        assert_eq!(c.sub_projects.len(), 8);
        assert_eq!(c.targets.propagandists, 20_000);
        assert_eq!(c.lecture_team.worker_models, 10);
        let video = c.sub_projects.iter().find(|s| s.code == "micro-video");
        let rules = video.map(|s| s.rules.clone()).unwrap_or_default();
        assert!(rules.contains(&FileRule::MaxSize {
            megabytes: 50,
            severity: Severity::Error
        }));
        assert!(rules.contains(&FileRule::MaxDuration {
            seconds: 180,
            severity: Severity::Error
        }));
    }

    #[test]
    fn phase_boundaries_follow_the_notice() {
        let c = builtin();
        let day = |m, d| NaiveDate::from_ymd_opt(2020, m, d).unwrap_or_default();
        assert_eq!(c.phase_on(day(7, 1)).map(|p| p.code.as_str()), Some("push"));
        assert_eq!(
            c.phase_on(day(9, 20)).map(|p| p.code.as_str()),
            Some("recommend")
        );
        assert_eq!(
            c.phase_on(day(10, 8)).map(|p| p.code.as_str()),
            Some("evaluate")
        );
        assert_eq!(c.phase_on(day(12, 8)), None);
    }

    #[test]
    fn export_then_parse_is_identity() {
        let c = builtin();
        let again = Campaign::parse_toml(&c.to_toml());
        assert_eq!(again.as_ref().ok(), Some(&c), "{again:?}");
    }

    #[test]
    fn new_year_moves_dates_and_keeps_the_rest() {
        let c = builtin();
        let next = c.for_year(2021);
        assert_eq!(next.code, "tianjin-2021");
        assert_eq!(next.year, 2021);
        assert_eq!(
            next.phases[0].starts_on,
            NaiveDate::from_ymd_opt(2021, 6, 1).unwrap_or_default()
        );
        assert_eq!(next.sub_projects.len(), c.sub_projects.len());
        assert_eq!(next.sub_projects[1], c.sub_projects[1]);
        let first = &next.sub_projects[0].rounds[0];
        assert_eq!(first.starts_on.year(), 2021);
        assert_eq!(next.quotas, c.quotas);
        let leap = NaiveDate::from_ymd_opt(2020, 2, 29).unwrap_or_default();
        assert_eq!(
            shift_years(leap, 1),
            NaiveDate::from_ymd_opt(2021, 2, 28).unwrap_or_default()
        );
    }

    #[test]
    fn builtin_rounds_judge_the_micro_videos() {
        let c = builtin();
        let video = c.sub_projects.iter().find(|s| s.code == "micro-video");
        let rounds = video.map(|s| s.rounds.clone()).unwrap_or_default();
        let names: Vec<&str> = rounds.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["初评", "复评", "终评"]);
        assert!(rounds.iter().all(|r| r.blind && r.criteria.len() == 4));
        assert!(rounds.last().is_some_and(|r| r.advance.is_none()));
    }

    #[test]
    fn bad_rounds_are_named() {
        let broken = TIANJIN_2020
            .replacen("reviewers_per_work = 3", "reviewers_per_work = 0", 1)
            .replacen("weight = 30, max = 10", "weight = 30, max = 0", 1)
            .replacen("recommend_max = 10", "recommend_max = 0", 1)
            .replacen(
                "rule = \"top_share\", percent = 50",
                "rule = \"top_share\", percent = 150",
                1,
            );
        let errors = Campaign::parse_toml(&broken).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"sub_projects[0].rounds[0].reviewers_per_work"),
            "{errors:?}"
        );
        assert!(
            fields.contains(&"sub_projects[0].rounds[0].criteria[0]"),
            "{errors:?}"
        );
        assert!(
            fields.contains(&"sub_projects[0].rounds[0].advance"),
            "{errors:?}"
        );
        assert!(
            fields.contains(&"sub_projects[0].recommend_max"),
            "{errors:?}"
        );
        let unknown = TIANJIN_2020.replacen("reviewers_per_work = 3", "reviewers = 3", 1);
        let errors = Campaign::parse_toml(&unknown).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("不认识的字段") || e.message.contains("缺少")),
            "{errors:?}"
        );
    }

    #[test]
    fn syntax_error_names_line_and_field() {
        let broken = TIANJIN_2020.replacen("total_min = 100", "total_min = \"一百\"", 1);
        let errors = Campaign::parse_toml(&broken).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        let expected_line = TIANJIN_2020
            .lines()
            .position(|l| l.starts_with("total_min"))
            .map(|n| n + 1);
        assert_eq!(errors[0].line, expected_line);
    }

    #[test]
    fn semantic_errors_name_the_entry() {
        let broken =
            TIANJIN_2020.replacen("ends_on = \"2020-09-15\"", "ends_on = \"2020-05-15\"", 1);
        let errors = Campaign::parse_toml(&broken).err().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e.field == "phases[0].ends_on" && e.line.is_some()),
            "{errors:?}"
        );
    }
}
