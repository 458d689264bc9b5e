//! The campaign summary (活动总结), written in November from live data: a Word document in 公文
//! form with charts drawn by Wangju (`office::chart`) and an Excel appendix (`office::sheet`).
//! Each section has a narrative paragraph written from the figures; the city may edit it, and
//! every edit is kept as a version (who, when, text) that can be restored. Districts (区总工会
//! and bureau/group-company unions) submit their own summaries by the campaign's
//! `district_summary_due`; the city's summary lists who has and who has not.

use std::collections::HashMap;

use chrono::{NaiveDate, TimeZone};

use crate::db::Db;
use crate::db::activities as db_activities;
use crate::db::audit::{self, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::orgs::{Org, Scope};
use crate::db::summary::{self as db, DistrictSummary, NarrativeVersion};
use crate::domain::ids::{CampaignId, OrgId};
use crate::domain::org::OrgKind;
use crate::domain::role::Role;
use crate::domain::text;
use crate::error::{AppError, Conflict, Doing};
use crate::office::chart::{self, Bar as ChartBar, Chart, ChartFont};
use crate::office::sheet::{self, Cell, Column, Kind, Paper, Row, Sheet, date_zh};
use crate::office::word::{self, Block, Report};
use crate::service::acting::{Acting, current_campaign};
use crate::service::circular::percent;
use crate::service::papers::{self, campaign_line};
use crate::service::progress::{self, Progress, ProgressRow};
use crate::store::FileStore;

/// The sections, in the document's order: (code, heading).
pub const SECTIONS: [(&str, &str); 9] = [
    ("overview", "一、总体情况"),
    ("districts", "二、各单位任务完成情况"),
    ("activities", "三、线下活动开展情况"),
    ("projects", "四、子项目参与情况"),
    ("awards", "五、评选推荐与全国获奖情况"),
    ("lectures", "六、职工好网民模范与宣讲"),
    ("reach", "七、网上传播情况"),
    ("cases", "八、典型案例"),
    ("submissions", "九、各单位总结报送情况"),
];

/// Longest narrative paragraph (characters).
pub const MAX_NARRATIVE: usize = 3_000;
/// Longest district summary text (characters).
pub const MAX_DISTRICT_TEXT: usize = 20_000;
/// Largest district summary file (.docx or .pdf).
pub const MAX_DISTRICT_FILE: usize = 20 * 1024 * 1024;
/// Longest file name kept for a district's file.
pub const MAX_FILE_NAME: usize = 100;
/// Versions listed per section on the page.
pub const HISTORY_SHOWN: i64 = 20;
/// Typical cases (activities with a photo) in the document.
pub const CASES: i64 = 4;
/// Width a case photo is scaled to before it goes into the document (pixels).
const PHOTO_WIDTH: u32 = 900;

pub fn section_title(code: &str) -> Option<&'static str> {
    SECTIONS.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
}

/// Who reads the city's summary page: the city and the city's 网信办 liaison (not a
/// district's, whose scope is its district).
pub fn may_read(acting: &Acting) -> bool {
    matches!(acting.role, Role::CityAdmin | Role::CoOrganiserLiaison)
        && acting.scope.prefix == Scope::everything().prefix
}

/// The districts asked for a summary: the 区总工会 and bureau/group-company unions (Annex 1's
/// level), in the tree's order.
pub async fn districts(db_: &Db) -> Result<Vec<Org>, AppError> {
    Ok(crate::db::orgs::list(db_, &Scope::everything(), None)
        .await?
        .into_iter()
        .filter(|o| matches!(o.kind, OrgKind::DistrictUnion | OrgKind::BureauGroup))
        .collect())
}

/// The city admin as the command line acts (`wangju export summary`): the city union's whole
/// scope, recorded as the operator.
pub async fn city_acting(db_: &Db) -> Result<Acting, AppError> {
    let city = crate::db::orgs::list(db_, &Scope::everything(), None)
        .await?
        .into_iter()
        .find(|o| o.kind == OrgKind::CityUnion)
        .ok_or(AppError::NotFound)?;
    Ok(Acting {
        user_id: crate::domain::ids::UserId(0),
        role: Role::CityAdmin,
        org: city,
        scope: Scope::everything(),
        actor: crate::db::audit::Actor::cli(),
    })
}

fn is_district(org: &Org) -> bool {
    matches!(org.kind, OrgKind::DistrictUnion | OrgKind::BureauGroup)
}

/// A case: an activity with its first photo (PNG, scaled) when the store still has it.
pub struct CaseFigure {
    pub name: String,
    pub org: String,
    pub day: String,
    pub participants: i64,
    pub format: String,
    pub write_up: String,
    pub photo: Option<chart::Png>,
}

/// A district and whether it has submitted.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Submission {
    pub org_id: i64,
    pub name: String,
    pub submitted: Option<DistrictSummary>,
}

/// Everything the summary is written from.
pub struct Figures {
    pub campaign: StoredCampaign,
    pub as_of: NaiveDate,
    pub progress: Progress,
    /// (among, rows) of the districts and bureaus, ranked within peers.
    pub groups: Vec<(String, Vec<ProgressRow>)>,
    pub formats: Vec<(String, i64)>,
    pub categories: Vec<(String, i64)>,
    pub weeks: Vec<(String, i64)>,
    /// (name, host, participation (works + records), accepted works).
    pub projects: Vec<(String, String, i64, i64)>,
    /// (sub-project name, title, unit, award).
    pub national: Vec<(String, String, String, String)>,
    pub lecture_members: i64,
    pub lectures: i64,
    pub lecture_audience: i64,
    pub reach_visitor_days: i64,
    pub reach_visits: i64,
    pub reach_secondary: i64,
    pub reach_by_day: Vec<(String, i64)>,
    pub claimed_views: i64,
    pub reach_target: u64,
    pub cases: Vec<CaseFigure>,
    pub submissions: Vec<Submission>,
    pub due: Option<NaiveDate>,
    /// The latest edited narrative of each section (empty body: written from the figures).
    pub edited: HashMap<String, NarrativeVersion>,
}

impl Figures {
    /// Whether the campaign has any data at all (activities, works, visits).
    pub fn is_empty(&self) -> bool {
        self.progress.totals.planned == 0
            && self.projects.iter().all(|p| p.2 == 0)
            && self.reach_visits == 0
    }

    /// The section's narrative as it goes into the document: the city's edit, else the
    /// paragraph written from the figures.
    pub fn narrative(&self, section: &str) -> String {
        match self.edited.get(section) {
            Some(v) if !v.body.trim().is_empty() => v.body.clone(),
            _ => generated(self, section),
        }
    }
}

/// Scales a stored photo for the document and encodes it as PNG (docx-rs embeds PNG).
fn photo_png(bytes: &[u8]) -> Option<chart::Png> {
    let img = image::load_from_memory(bytes).ok()?;
    let img = if img.width() > PHOTO_WIDTH {
        img.resize(PHOTO_WIDTH, u32::MAX, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    rgb.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .ok()?;
    Some(chart::Png {
        bytes: out,
        width: rgb.width(),
        height: rgb.height(),
    })
}

fn document_field(document: &str, key: &str) -> String {
    serde_json::from_str::<serde_json::Value>(document)
        .ok()
        .and_then(|v| v.get(key).and_then(|s| s.as_str()).map(str::to_string))
        .unwrap_or_default()
}

/// Gathers the figures (as of `as_of`) for the city's summary.
pub async fn figures(
    db_: &Db,
    store: &FileStore,
    acting: &Acting,
    as_of: NaiveDate,
) -> Result<Figures, AppError> {
    let campaign = current_campaign(db_).await?;
    let id = campaign.id;
    let everything = Scope::everything();
    let progress = progress::progress(db_, &everything).await?;
    let groups = papers::circular_units(&progress)
        .into_iter()
        .map(|(among, rows)| (among, rows.into_iter().cloned().collect()))
        .collect();
    let formats = db_activities::per_format(db_, &everything, id)
        .await?
        .into_iter()
        .filter(|(n, _)| !n.is_empty())
        .collect();
    let categories = db_activities::per_category(db_, &everything, id)
        .await?
        .into_iter()
        .filter(|(n, _)| !n.is_empty())
        .collect();
    let weeks = crate::service::charts::weeks(&crate::service::charts::within(
        db_activities::per_day(db_, &everything, id).await?,
        campaign.campaign.activity_dates(),
    ))
    .into_iter()
    .map(|b| (b.label, b.value))
    .collect();
    let participation: HashMap<String, i64> =
        crate::db::works::participation_counts(db_, &everything, id)
            .await?
            .into_iter()
            .collect();
    let accepted: HashMap<String, i64> = db::accepted_works(db_, id).await?.into_iter().collect();
    let projects = campaign
        .campaign
        .sub_projects
        .iter()
        .map(|sp| {
            (
                sp.name.clone(),
                sp.host.clone(),
                participation.get(&sp.code).copied().unwrap_or(0),
                accepted.get(&sp.code).copied().unwrap_or(0),
            )
        })
        .collect();
    let name_of = |code: &str| {
        campaign
            .campaign
            .sub_projects
            .iter()
            .find(|sp| sp.code == code)
            .map_or_else(|| code.to_string(), |sp| sp.name.clone())
    };
    let mut national: Vec<_> = crate::db::recommendation::results(db_, CampaignId(id))
        .await?
        .into_iter()
        .map(|r| (name_of(&r.sub_project), r.title, r.unit, r.award))
        .collect();
    national.sort_by_key(|r| crate::domain::recommendation::award_order(&r.3));
    let record = crate::service::lecture_team::lectures::record(db_, &campaign, as_of).await?;
    let claimed_views = progress.totals.online_views;
    let dash = crate::service::reach::dashboard(db_, acting, &campaign, claimed_views).await?;
    let cases = case_figures(db_, store, id, CASES).await?;
    let submissions = submissions(db_, id).await?;
    let edited = db::latest(db_, id)
        .await?
        .into_iter()
        .map(|v| (v.section.clone(), v))
        .collect();
    Ok(Figures {
        due: campaign.campaign.district_summary_due,
        reach_target: campaign.campaign.targets.online_reach,
        campaign,
        as_of,
        groups,
        formats,
        categories,
        weeks,
        projects,
        national,
        lecture_members: record.rows.iter().filter(|r| !r.retired).count() as i64,
        lectures: record.totals.iter().map(|t| t.0).sum(),
        lecture_audience: record.totals.iter().map(|t| t.1.max(t.2)).sum(),
        reach_visitor_days: dash.totals.visitor_days,
        reach_visits: dash.totals.visits,
        reach_secondary: dash.totals.secondary,
        reach_by_day: dash
            .by_day
            .iter()
            .map(|d| (d.day.clone(), d.visitors))
            .collect(),
        claimed_views,
        cases,
        submissions,
        edited,
        progress,
    })
}

/// The best confirmed activities with a photo (most participants first), each with its first
/// photo scaled for a document: the summary's typical cases and the circular's.
pub async fn case_figures(
    db_: &Db,
    store: &FileStore,
    campaign_id: i64,
    limit: i64,
) -> Result<Vec<CaseFigure>, AppError> {
    let mut cases = Vec::new();
    for c in db::cases(db_, campaign_id, limit).await? {
        let photo = match &c.image_key {
            Some(key) => match store.read_all(key).await {
                Ok(bytes) => tokio::task::spawn_blocking(move || photo_png(&bytes))
                    .await
                    .ok()
                    .flatten(),
                Err(e) => {
                    tracing::warn!(key, "a case photo could not be read: {e}");
                    None
                }
            },
            None => None,
        };
        let mut format = document_field(&c.document, "format");
        if format == "其他" {
            format = document_field(&c.document, "format_other");
        }
        cases.push(CaseFigure {
            day: c.starts_at.chars().take(10).collect(),
            write_up: document_field(&c.document, "summary"),
            format,
            name: c.name,
            org: c.org_name,
            participants: c.participants,
            photo,
        });
    }
    Ok(cases)
}

impl CaseFigure {
    /// 2020-06-28，知识竞赛，参与职工120人。and the write-up.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{}，{}，参与职工{}人。",
            self.day, self.format, self.participants
        );
        line.push_str(self.write_up.trim());
        line
    }
}

/// Every district with its submission, if any.
pub async fn submissions(db_: &Db, campaign_id: i64) -> Result<Vec<Submission>, AppError> {
    let mut stored: HashMap<i64, DistrictSummary> = db::districts(db_, campaign_id)
        .await?
        .into_iter()
        .map(|d| (d.org_id, d))
        .collect();
    Ok(districts(db_)
        .await?
        .into_iter()
        .map(|o| Submission {
            submitted: stored.remove(&o.id.0),
            org_id: o.id.0,
            name: o.name,
        })
        .collect())
}

fn wan(n: i64) -> String {
    if n >= 100_000 {
        format!("{:.1}万", n as f64 / 10_000.0)
    } else {
        n.to_string()
    }
}

/// A figure for a narrow table cell: 1亿, 1844.1万, 3310.
fn big(n: i64) -> String {
    if n >= 100_000_000 {
        format!("{}亿", trim_decimal(n as f64 / 100_000_000.0))
    } else if n >= 100_000 {
        format!("{}万", trim_decimal(n as f64 / 10_000.0))
    } else {
        n.to_string()
    }
}

/// 1.0 → "1", 1844.12 → "1844.1".
fn trim_decimal(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn rate(done: i64, target: u64) -> String {
    if target == 0 {
        String::new()
    } else {
        format!("（目标的{}）", percent(done as f64 / target as f64))
    }
}

/// The paragraph of `section` written from the figures.
pub fn generated(f: &Figures, section: &str) -> String {
    let t = &f.progress.totals;
    let targets = &f.campaign.campaign.targets;
    let day = format!("截至{}", date_zh(f.as_of));
    match section {
        "overview" if f.is_empty() => format!(
            "{day}，本次活动尚无报送数据：没有线下活动、征集作品和经分享链接的访问。本总结在有数据后重新导出即可。"
        ),
        "overview" => format!(
            "{day}，全市工会系统围绕“{}”主题，共开展线下活动{}场（经市总工会确认），完成全市任务数（{}场）的{}；动员基层工会{}个{}，走进企业{}家，面对面接触职工{}人{}，其中扫码签到{}人；在册职工好网民宣传员{}名{}，活动中新发展{}名；线上传播经分享链接实测触达{}人次，各单位填报线上浏览量{}次{}。",
            f.campaign.campaign.title,
            t.confirmed,
            f.progress.total_quota,
            if f.progress.total_quota > 0 {
                percent(t.confirmed as f64 / f.progress.total_quota as f64)
            } else {
                "—".into()
            },
            t.grassroots_unions,
            rate(t.grassroots_unions, targets.grassroots_unions),
            t.enterprises,
            wan(t.participants),
            rate(t.participants, targets.face_to_face),
            t.verified,
            t.registered_propagandists,
            rate(t.registered_propagandists, targets.propagandists),
            t.new_propagandists,
            wan(f.reach_visitor_days),
            wan(f.claimed_views),
            rate(
                f.claimed_views.max(f.reach_visitor_days),
                targets.online_reach
            ),
        ),
        "districts" => {
            let rows: Vec<&ProgressRow> = f.groups.iter().flat_map(|(_, r)| r).collect();
            let done = rows
                .iter()
                .filter(|r| r.completion.is_some_and(|c| c >= 1.0))
                .count();
            let zero: Vec<&str> = rows
                .iter()
                .filter(|r| r.zero_report)
                .map(|r| r.name.as_str())
                .collect();
            let best: Vec<&str> = rows
                .iter()
                .filter(|r| r.rank == Some(1))
                .map(|r| r.name.as_str())
                .collect();
            let mut s = format!(
                "全市{}个区总工会和局、集团公司工会中，{}个单位完成或超额完成线下活动任务",
                rows.len(),
                done
            );
            if !best.is_empty() {
                s.push_str(&format!("，完成率在同级单位中居首的是{}", best.join("、")));
            }
            if zero.is_empty() {
                s.push_str("。各单位均有活动报送。");
            } else {
                s.push_str(&format!(
                    "；{}个单位零报送：{}。",
                    zero.len(),
                    zero.join("、")
                ));
            }
            s
        }
        "activities" => {
            let total: i64 = f.formats.iter().map(|(_, n)| n).sum();
            if total == 0 {
                return "暂无线下活动报送。".into();
            }
            let mut formats = f.formats.clone();
            formats.sort_by_key(|b| std::cmp::Reverse(b.1));
            let top: Vec<String> = formats
                .iter()
                .take(3)
                .map(|(n, c)| format!("{n}{c}场"))
                .collect();
            let mut cats = f.categories.clone();
            cats.sort_by_key(|b| std::cmp::Reverse(b.1));
            let cat = cats
                .first()
                .map(|(n, c)| format!("；内容上以“{n}”为多（{c}场）"))
                .unwrap_or_default();
            format!(
                "各单位报送的线下活动共{total}场，形式多样，以{}为主{cat}。活动分布在{}个周，最多的一周开展{}场。",
                top.join("、"),
                f.weeks.len(),
                f.weeks.iter().map(|(_, n)| *n).max().unwrap_or(0)
            )
        }
        "projects" => {
            let active = f.projects.iter().filter(|p| p.2 > 0).count();
            let total: i64 = f.projects.iter().map(|p| p.2).sum();
            let accepted: i64 = f.projects.iter().map(|p| p.3).sum();
            format!(
                "全国{}个子项目中，我市有{active}个子项目有单位和职工参与，共提交作品和参与记录{total}件（次），其中{accepted}件作品通过审核。",
                f.projects.len()
            )
        }
        "awards" if f.national.is_empty() => {
            "全国评选结果尚未导入；导入后本节列出我市获奖作品。".into()
        }
        "awards" => {
            let mut levels: Vec<(String, usize)> = Vec::new();
            for r in &f.national {
                match levels.iter_mut().find(|(l, _)| *l == r.3) {
                    Some(x) => x.1 += 1,
                    None => levels.push((r.3.clone(), 1)),
                }
            }
            let parts: Vec<String> = levels.iter().map(|(l, n)| format!("{l}{n}件")).collect();
            format!(
                "经全国总工会、中央网信办评选，我市共有{}件作品获奖，其中{}。",
                f.national.len(),
                parts.join("、")
            )
        }
        "lectures" => format!(
            "组建职工好网民宣讲团，现有成员{}名，共开展宣讲{}场，听众{}人次。",
            f.lecture_members, f.lectures, f.lecture_audience
        ),
        "reach" => format!(
            "经分享链接实测，活动展示页面累计触达{}人次（按天去重的访客），计数访问{}次，其中二次传播{}次；各单位在已确认的活动报告中填报的线上浏览量为{}次。实测与填报分开统计，不相加；通知目标为直接覆盖{}职工网民。",
            wan(f.reach_visitor_days),
            f.reach_visits,
            f.reach_secondary,
            wan(f.claimed_views),
            if f.reach_target == 100_000_000 {
                "1亿".to_string()
            } else {
                f.reach_target.to_string()
            }
        ),
        "cases" if f.cases.is_empty() => "暂无附照片的已确认活动可作为典型案例。".into(),
        "cases" => format!(
            "以下{}场活动参与人数多、报道完整，附现场照片，作为典型案例。",
            f.cases.len()
        ),
        "submissions" => {
            let done = f
                .submissions
                .iter()
                .filter(|s| s.submitted.is_some())
                .count();
            let missing: Vec<&str> = f
                .submissions
                .iter()
                .filter(|s| s.submitted.is_none())
                .map(|s| s.name.as_str())
                .collect();
            let due = f
                .due
                .map(|d| format!("（截止{}）", date_zh(d)))
                .unwrap_or_default();
            let mut s = format!(
                "各区总工会和局、集团公司工会报送本单位活动总结{due}：应报{}个，已报{done}个",
                f.submissions.len()
            );
            if missing.is_empty() {
                s.push('。');
            } else {
                s.push_str(&format!("，尚未报送的有{}。", missing.join("、")));
            }
            s
        }
        _ => String::new(),
    }
}

fn bar(label: &str, value: f64, shown: String) -> ChartBar {
    ChartBar {
        label: label.to_string(),
        value,
        shown,
    }
}

/// The charts of the document, by section.
fn charts(f: &Figures) -> Vec<(&'static str, Chart)> {
    let completion: Vec<ChartBar> = f
        .groups
        .iter()
        .flat_map(|(_, rows)| rows)
        .filter_map(|r| {
            let c = r.completion?;
            Some(bar(&r.name, c * 100.0, percent(c)))
        })
        .collect();
    let counts = |rows: &[(String, i64)]| -> Vec<ChartBar> {
        rows.iter()
            .map(|(n, v)| bar(n, *v as f64, v.to_string()))
            .collect()
    };
    vec![
        (
            "districts",
            Chart {
                title: "图1  各单位线下活动任务完成率".into(),
                bars: completion,
                horizontal: true,
                target: Some((100.0, "100%（任务数）".into())),
            },
        ),
        (
            "activities",
            Chart {
                title: "图2  线下活动形式（场）".into(),
                bars: counts(&f.formats),
                horizontal: true,
                target: None,
            },
        ),
        (
            "activities",
            Chart {
                title: "图3  每周开展的线下活动（场，按周一所在日期）".into(),
                bars: counts(&f.weeks),
                horizontal: false,
                target: None,
            },
        ),
        (
            "projects",
            Chart {
                title: "图4  各子项目参与（作品与参与记录，件/次）".into(),
                bars: f
                    .projects
                    .iter()
                    .map(|p| bar(&p.0, p.2 as f64, p.2.to_string()))
                    .collect(),
                horizontal: true,
                target: None,
            },
        ),
        (
            "reach",
            Chart {
                title: "图5  每日实测触达（按天去重的访客）".into(),
                bars: f
                    .reach_by_day
                    .iter()
                    .rev()
                    .take(chart::MAX_BARS)
                    .rev()
                    .map(|(d, n)| bar(d.get(5..).unwrap_or(d), *n as f64, n.to_string()))
                    .collect(),
                horizontal: false,
                target: None,
            },
        ),
    ]
}

/// A chart as a picture, or, without a CJK font, its figures as a table.
fn chart_block(font: Option<&ChartFont>, c: &Chart) -> Result<Block, String> {
    if let Some(font) = font {
        let png = chart::draw(font, c)?;
        return Ok(Block::Image {
            width_px: png.width,
            height_px: png.height,
            png: png.bytes,
            width_twips: word::TEXT_WIDTH,
            caption: c.title.clone(),
        });
    }
    let mut rows: Vec<Vec<String>> = c
        .bars
        .iter()
        .map(|b| vec![b.label.clone(), b.shown.clone()])
        .collect();
    if rows.is_empty() {
        rows.push(vec!["暂无数据".into(), String::new()]);
    }
    Ok(Block::Table {
        header: vec![c.title.clone(), "数值".into()],
        rows,
        widths: vec![word::TEXT_WIDTH - 2000, 2000],
    })
}

/// The summary as blocks of the Word document.
fn blocks(f: &Figures, font: Option<&ChartFont>) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    let charts = charts(f);
    let t = &f.progress.totals;
    let targets = &f.campaign.campaign.targets;
    for (code, heading) in SECTIONS {
        out.push(Block::Heading(heading.to_string()));
        out.push(Block::Body(f.narrative(code)));
        match code {
            "overview" => {
                let row = |name: &str, target: u64, done: i64, unit: &str| {
                    vec![
                        name.to_string(),
                        format!("{}{unit}", big(i64::try_from(target).unwrap_or(i64::MAX))),
                        format!("{}{unit}", big(done)),
                        if target > 0 {
                            percent(done as f64 / target as f64)
                        } else {
                            String::new()
                        },
                    ]
                };
                out.push(Block::Table {
                    header: vec![
                        "“12351+”指标".into(),
                        "目标".into(),
                        "完成".into(),
                        "完成率".into(),
                    ],
                    rows: vec![
                        row(
                            "动员基层工会",
                            targets.grassroots_unions,
                            t.grassroots_unions,
                            "个",
                        ),
                        row(
                            "职工好网民宣传员",
                            targets.propagandists,
                            t.registered_propagandists,
                            "名",
                        ),
                        row(
                            "走进企业或开展线下活动",
                            targets.enterprises_or_activities,
                            t.enterprises.max(t.confirmed),
                            "",
                        ),
                        row("面对面接触职工", targets.face_to_face, t.participants, "人"),
                        row(
                            "网上覆盖（实测）",
                            targets.online_reach,
                            f.reach_visitor_days,
                            "人次",
                        ),
                        row(
                            "网上覆盖（填报）",
                            targets.online_reach,
                            f.claimed_views,
                            "次",
                        ),
                    ],
                    widths: vec![3244, 2000, 2000, 1600],
                });
            }
            "districts" => {
                for (i, (among, rows)) in f.groups.iter().enumerate() {
                    let label = ["（一）", "（二）", "（三）", "（四）"]
                        .get(i)
                        .copied()
                        .unwrap_or("");
                    out.push(Block::Subheading(format!("{label}{among}")));
                    out.push(Block::Table {
                        header: ["名次", "单位", "任务数", "已确认", "完成率", "参与人数"]
                            .map(String::from)
                            .to_vec(),
                        rows: rows
                            .iter()
                            .map(|r| {
                                vec![
                                    r.rank.map(|k| k.to_string()).unwrap_or_default(),
                                    r.name.clone(),
                                    r.quota.map(|q| q.to_string()).unwrap_or_default(),
                                    r.counts.confirmed.to_string(),
                                    r.completion.map(percent).unwrap_or_default(),
                                    r.counts.participants.to_string(),
                                ]
                            })
                            .collect(),
                        widths: vec![900, 3144, 1100, 1100, 1400, 1200],
                    });
                }
            }
            "projects" => out.push(Block::Table {
                header: ["子项目", "承办单位", "参与（件/次）", "通过审核"]
                    .map(String::from)
                    .to_vec(),
                rows: f
                    .projects
                    .iter()
                    .map(|p| vec![p.0.clone(), p.1.clone(), p.2.to_string(), p.3.to_string()])
                    .collect(),
                widths: vec![2700, 2944, 1600, 1600],
            }),
            "awards" if !f.national.is_empty() => out.push(Block::Table {
                header: ["子项目", "作品", "单位", "奖项"]
                    .map(String::from)
                    .to_vec(),
                rows: f
                    .national
                    .iter()
                    .map(|r| vec![r.0.clone(), r.1.clone(), r.2.clone(), r.3.clone()])
                    .collect(),
                widths: vec![2000, 3044, 2400, 1400],
            }),
            "cases" => {
                for (i, c) in f.cases.iter().enumerate() {
                    out.push(Block::Subheading(format!(
                        "（{}）{}：{}",
                        ["一", "二", "三", "四", "五", "六"]
                            .get(i)
                            .copied()
                            .unwrap_or(""),
                        c.org,
                        c.name
                    )));
                    let mut line =
                        format!("{}，{}，参与职工{}人。", c.day, c.format, c.participants);
                    if !c.write_up.trim().is_empty() {
                        line.push_str(c.write_up.trim());
                    }
                    out.push(Block::Body(line));
                    if let Some(p) = &c.photo {
                        out.push(Block::Image {
                            png: p.bytes.clone(),
                            width_px: p.width,
                            height_px: p.height,
                            width_twips: word::TEXT_WIDTH * 3 / 4,
                            caption: format!("{}现场", c.name),
                        });
                    }
                }
            }
            "submissions" => out.push(Block::Table {
                header: ["单位", "报送情况", "提交时间", "附件"]
                    .map(String::from)
                    .to_vec(),
                rows: f
                    .submissions
                    .iter()
                    .map(|s| match &s.submitted {
                        Some(d) => vec![
                            s.name.clone(),
                            "已报送".into(),
                            time_zh(d.submitted_at),
                            d.file_name.clone().unwrap_or_else(|| "无".into()),
                        ],
                        None => vec![
                            s.name.clone(),
                            "未报送".into(),
                            String::new(),
                            String::new(),
                        ],
                    })
                    .collect(),
                widths: vec![3244, 1600, 2400, 1600],
            }),
            _ => {}
        }
        for (_, c) in charts.iter().filter(|(s, _)| *s == code) {
            out.push(chart_block(font, c)?);
        }
    }
    Ok(out)
}

/// Unix seconds as 2020-11-18 14:05 (China time).
pub fn time_zh(unix: i64) -> String {
    let Some(tz) = chrono::FixedOffset::east_opt(8 * 3600) else {
        return String::new();
    };
    tz.timestamp_opt(unix, 0)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn organs(f: &Figures) -> Vec<String> {
    let mut list: Vec<&crate::domain::campaign::Organiser> =
        f.campaign.campaign.organisers.iter().collect();
    list.sort_by_key(|o| o.kind != OrgKind::CityUnion);
    list.into_iter().map(|o| o.name.clone()).collect()
}

/// The summary as a .docx file (charts drawn with `font`, or tables without one).
pub fn docx(f: &Figures, font: Option<&ChartFont>) -> Result<Vec<u8>, String> {
    let blocks = blocks(f, font)?;
    let title = format!(
        "{}年“{}”\n主题活动总结",
        f.campaign.campaign.year, f.campaign.campaign.title
    );
    let organs = organs(f);
    word::report_docx(&Report {
        title: &title,
        subtitle: &format!("（数据截至{}）", date_zh(f.as_of)),
        blocks: &blocks,
        signature: &organs,
        date: &date_zh(f.as_of),
    })
}

/// The Excel appendix: one typed sheet per table of the document.
pub fn xlsx(f: &Figures) -> Result<Vec<u8>, String> {
    let paper = Paper {
        campaign: campaign_line(f.campaign.campaign.year, &f.campaign.campaign.title),
        as_of: f.as_of,
        issuer: organs(f).first().cloned().unwrap_or_default(),
    };
    let t = &f.progress.totals;
    let tg = &f.campaign.campaign.targets;
    let target_row = |name: &str, target: u64, done: i64| {
        Row::data(vec![
            Cell::text(name),
            Cell::Int(i64::try_from(target).unwrap_or(i64::MAX)),
            Cell::Int(done),
            if target > 0 {
                Cell::Ratio(done as f64 / target as f64)
            } else {
                Cell::Empty
            },
        ])
    };
    let counted = |name: &str, title: &str, label: &str, rows: &[(String, i64)]| Sheet {
        name: name.into(),
        title: title.into(),
        columns: vec![
            Column::new(label, Kind::Text),
            Column::new("活动数（场）", Kind::Count),
        ],
        rows: rows
            .iter()
            .map(|(n, v)| Row::data(vec![Cell::text(n.clone()), Cell::Int(*v)]))
            .collect(),
        total: true,
        notes: Vec::new(),
    };
    let mut sheets = vec![
        Sheet {
            name: "12351+目标".into(),
            title: "“12351+”目标完成情况".into(),
            columns: vec![
                Column::new("指标", Kind::Text),
                Column::new("目标", Kind::Count),
                Column::new("完成", Kind::Count),
                Column::new("完成率", Kind::Ratio { num: 2, den: 1 }),
            ],
            rows: vec![
                target_row("动员基层工会（个）", tg.grassroots_unions, t.grassroots_unions),
                target_row("职工好网民宣传员（名）", tg.propagandists, t.registered_propagandists),
                target_row(
                    "走进企业或开展线下活动（家/场）",
                    tg.enterprises_or_activities,
                    t.enterprises.max(t.confirmed),
                ),
                target_row("面对面接触职工（人）", tg.face_to_face, t.participants),
                target_row("网上覆盖·实测（人次）", tg.online_reach, f.reach_visitor_days),
                target_row("网上覆盖·填报（次）", tg.online_reach, f.claimed_views),
            ],
            total: false,
            notes: vec!["实测：经分享链接打开展示页面、按天去重的访客；填报：已确认活动报告中的线上浏览量。两者不相加。".into()],
        },
        Sheet {
            name: "各单位完成情况".into(),
            title: "各单位线下活动任务完成情况".into(),
            columns: vec![
                Column::new("名次", Kind::Ordinal),
                Column::new("单位", Kind::Text),
                Column::new("同级", Kind::Text),
                Column::new("任务数", Kind::Count),
                Column::new("已确认", Kind::Count),
                Column::new("完成率", Kind::Ratio { num: 4, den: 3 }),
                Column::new("参与人数", Kind::Count),
                Column::new("线上浏览量（填报）", Kind::Count),
            ],
            rows: f
                .groups
                .iter()
                .flat_map(|(among, rows)| {
                    rows.iter().map(move |r| {
                        Row::data(vec![
                            r.rank.map_or(Cell::Empty, |k| Cell::Int(k as i64)),
                            Cell::text(r.name.clone()),
                            Cell::text(among.clone()),
                            r.quota.map_or(Cell::Empty, Cell::Int),
                            Cell::Int(r.counts.confirmed),
                            r.completion.map_or(Cell::Empty, Cell::Ratio),
                            Cell::Int(r.counts.participants),
                            Cell::Int(r.counts.online_views),
                        ])
                    })
                })
                .collect(),
            total: true,
            notes: Vec::new(),
        },
        counted("活动形式", "线下活动形式统计", "活动形式", &f.formats),
        counted("活动主题", "线下活动内容分类统计", "内容分类", &f.categories),
        counted("每周活动", "每周线下活动统计（按周一所在日期）", "周", &f.weeks),
        Sheet {
            name: "子项目参与".into(),
            title: "各子项目参与情况".into(),
            columns: vec![
                Column::new("子项目", Kind::Text),
                Column::new("承办单位", Kind::Text),
                Column::new("参与（件/次）", Kind::Count),
                Column::new("通过审核作品", Kind::Count),
            ],
            rows: f
                .projects
                .iter()
                .map(|p| {
                    Row::data(vec![
                        Cell::text(p.0.clone()),
                        Cell::text(p.1.clone()),
                        Cell::Int(p.2),
                        Cell::Int(p.3),
                    ])
                })
                .collect(),
            total: true,
            notes: Vec::new(),
        },
        Sheet {
            name: "全国获奖".into(),
            title: "全国评选获奖作品".into(),
            columns: vec![
                Column::new("子项目", Kind::Text),
                Column::new("作品", Kind::Text),
                Column::new("单位", Kind::Text),
                Column::new("奖项", Kind::Text),
            ],
            rows: f
                .national
                .iter()
                .map(|r| {
                    Row::data(vec![
                        Cell::text(r.0.clone()),
                        Cell::text(r.1.clone()),
                        Cell::text(r.2.clone()),
                        Cell::text(r.3.clone()),
                    ])
                })
                .collect(),
            total: false,
            notes: if f.national.is_empty() {
                vec!["全国评选结果尚未导入。".into()]
            } else {
                Vec::new()
            },
        },
        Sheet {
            name: "每日触达".into(),
            title: "经分享链接实测的每日触达".into(),
            columns: vec![Column::new("日期", Kind::Text), Column::new("访客（人）", Kind::Count)],
            rows: f
                .reach_by_day
                .iter()
                .map(|(d, n)| Row::data(vec![Cell::text(d.clone()), Cell::Int(*n)]))
                .collect(),
            total: true,
            notes: Vec::new(),
        },
        Sheet {
            name: "各单位总结报送".into(),
            title: "各单位活动总结报送情况".into(),
            columns: vec![
                Column::new("单位", Kind::Text),
                Column::new("报送情况", Kind::Text),
                Column::new("提交时间", Kind::Text),
                Column::new("附件", Kind::Text),
            ],
            rows: f
                .submissions
                .iter()
                .map(|s| {
                    Row::data(match &s.submitted {
                        Some(d) => vec![
                            Cell::text(s.name.clone()),
                            Cell::text("已报送"),
                            Cell::text(time_zh(d.submitted_at)),
                            Cell::text(d.file_name.clone().unwrap_or_default()),
                        ],
                        None => vec![Cell::text(s.name.clone()), Cell::text("未报送")],
                    })
                })
                .collect(),
            total: false,
            notes: Vec::new(),
        },
    ];
    if f.is_empty() {
        sheets[0].notes.push("本次活动尚无报送数据。".into());
    }
    sheet::write(&paper, &sheets)
}

/// A summary file: bytes and names.
pub struct File {
    pub bytes: Vec<u8>,
    pub name: String,
    pub ascii_name: String,
}

fn names(f: &Figures, ext: &str) -> (String, String) {
    let year = f.campaign.campaign.year;
    let day = f.as_of.format("%Y%m%d");
    let what = if ext == "docx" {
        "活动总结"
    } else {
        "活动总结附表"
    };
    (
        format!("{year}网聚-{what}-{day}.{ext}"),
        format!("wangju-{year}-summary-{day}.{ext}"),
    )
}

/// The city's export: the .docx (`word_file`) or the .xlsx appendix.
pub async fn export(
    db_: &Db,
    store: &FileStore,
    acting: &Acting,
    as_of: NaiveDate,
    font_setting: &str,
    word_file: bool,
) -> Result<File, AppError> {
    let mut files = export_files(db_, store, acting, as_of, font_setting, &[word_file]).await?;
    files.pop().doing("writing the summary")
}

/// Several exports from one gathering of the figures (`true`: Word, `false`: Excel), in order.
pub async fn export_files(
    db_: &Db,
    store: &FileStore,
    acting: &Acting,
    as_of: NaiveDate,
    font_setting: &str,
    which: &[bool],
) -> Result<Vec<File>, AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    let f = figures(db_, store, acting, as_of).await?;
    let setting = font_setting.to_string();
    let which = which.to_vec();
    tokio::task::spawn_blocking(move || {
        which
            .into_iter()
            .map(|word_file| {
                let bytes = if word_file {
                    let font = ChartFont::find(&setting);
                    docx(&f, font.as_ref())
                } else {
                    xlsx(&f)
                };
                let bytes = bytes.doing("writing the summary")?;
                let (name, ascii_name) = names(&f, if word_file { "docx" } else { "xlsx" });
                Ok(File {
                    bytes,
                    name,
                    ascii_name,
                })
            })
            .collect::<Result<Vec<File>, AppError>>()
    })
    .await
    .doing("writing the summary")?
}

/// A section with its text, what the figures say, its version and history (the page and API).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SectionView {
    pub code: String,
    pub title: String,
    /// What goes into the document.
    pub text: String,
    /// The paragraph written from the figures.
    pub generated: String,
    /// The latest version (0: never edited); an edit names it as its base.
    pub version: i64,
    pub edited: bool,
    pub history: Vec<NarrativeVersion>,
}

pub async fn sections(db_: &Db, f: &Figures) -> Result<Vec<SectionView>, AppError> {
    let mut out = Vec::new();
    for (code, title) in SECTIONS {
        let latest = f.edited.get(code);
        out.push(SectionView {
            code: code.into(),
            title: title.into(),
            text: f.narrative(code),
            generated: generated(f, code),
            version: latest.map_or(0, |v| v.version),
            edited: latest.is_some_and(|v| !v.body.trim().is_empty()),
            history: db::history(db_, f.campaign.id, code, HISTORY_SHOWN).await?,
        });
    }
    Ok(out)
}

fn stale(latest: Option<&NarrativeVersion>) -> AppError {
    let who = latest
        .map(|v| {
            format!(
                "已被{}于{}修改（第{}版）",
                v.author_name,
                time_zh(v.created_at),
                v.version
            )
        })
        .unwrap_or_else(|| "已被他人修改".into());
    AppError::conflict(
        Conflict::StaleVersion,
        format!("这一段在您编辑期间{who}。请刷新页面，在最新版本上重新修改。"),
    )
}

/// Saves a new version of `section`'s narrative, made from version `base` (compare-and-set:
/// refused when someone saved another version meanwhile). An empty body returns the section
/// to the paragraph written from the figures. Returns the new version.
pub async fn save_narrative(
    db_: &Db,
    acting: &Acting,
    section: &str,
    base: i64,
    body: &str,
) -> Result<i64, AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    let title = section_title(section).ok_or(AppError::NotFound)?;
    let body = text::paragraphs(body, MAX_NARRATIVE)
        .map_err(|m| AppError::invalid("总结段落", format!("{title}：{m}")))?;
    let campaign = current_campaign(db_).await?;
    let latest = db::latest(db_, campaign.id)
        .await?
        .into_iter()
        .find(|v| v.section == section);
    let current = latest.as_ref().map_or(0, |v| v.version);
    if base != current {
        return Err(stale(latest.as_ref()));
    }
    let version = current + 1;
    let author = crate::db::users::by_id(db_, acting.user_id)
        .await?
        .map(|u| {
            if u.display_name.trim().is_empty() {
                u.login
            } else {
                u.display_name
            }
        })
        .unwrap_or_else(|| acting.actor.login.clone());
    let mut tx = db_.begin().await?;
    let inserted = db::insert_version(
        &mut tx,
        &db::NewVersion {
            campaign_id: campaign.id,
            section,
            version,
            body: &body,
            author_id: Some(acting.user_id.0),
            author_name: &author,
            now: crate::clock::unix_now(),
        },
    )
    .await;
    match inserted {
        Ok(()) => {}
        Err(e) if crate::db::is_unique_violation(&e) => {
            drop(tx);
            return Err(stale(None));
        }
        Err(e) => return Err(e.into()),
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "summary.narrative",
            object_type: "campaign",
            object_id: format!("{}:{section}", campaign.campaign.code),
            before: latest.map(|v| serde_json::json!({"version": v.version, "body": v.body})),
            after: Some(serde_json::json!({"version": version, "body": body})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// Restores an earlier version of `section` as a new version (the history keeps both).
pub async fn restore_narrative(
    db_: &Db,
    acting: &Acting,
    section: &str,
    base: i64,
    version: i64,
) -> Result<i64, AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    let campaign = current_campaign(db_).await?;
    let old = db::version(db_, campaign.id, section, version)
        .await?
        .ok_or(AppError::NotFound)?;
    save_narrative(db_, acting, section, base, &old.body).await
}

/// The uploaded district file: its original name and bytes.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// `.docx` (a zip with word/document.xml) or `.pdf` (starts with %PDF-), by name and content.
fn file_kind(u: &Upload) -> Option<&'static str> {
    let lower = u.name.to_lowercase();
    if lower.ends_with(".pdf") && u.bytes.starts_with(b"%PDF-") {
        return Some("pdf");
    }
    if lower.ends_with(".docx") && u.bytes.starts_with(b"PK\x03\x04") {
        let zip = zip::ZipArchive::new(std::io::Cursor::new(&u.bytes)).ok()?;
        if zip.file_names().any(|n| n == "word/document.xml") {
            return Some("docx");
        }
    }
    None
}

/// What a district sees of its own summary.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DistrictView {
    pub org_id: i64,
    pub name: String,
    pub due: Option<NaiveDate>,
    /// Submissions are still taken (today is on or before the deadline).
    pub open: bool,
    pub submitted: Option<DistrictSummary>,
}

fn own_district(acting: &Acting) -> Result<&Org, AppError> {
    if acting.role == Role::UnitAdmin && is_district(&acting.org) {
        Ok(&acting.org)
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn district_view(
    db_: &Db,
    acting: &Acting,
    today: NaiveDate,
) -> Result<DistrictView, AppError> {
    let org = own_district(acting)?;
    let campaign = current_campaign(db_).await?;
    let due = campaign.campaign.district_summary_due;
    Ok(DistrictView {
        org_id: org.id.0,
        name: org.name.clone(),
        due,
        open: due.is_some_and(|d| today <= d),
        submitted: db::district(db_, campaign.id, org.id.0).await?,
    })
}

/// A district submits (or, before the deadline, replaces) its summary: the text and an
/// optional .docx/.pdf (a resubmission without a file keeps the earlier one). `base` is the
/// version the form was made from (0: none yet); a submission made meanwhile wins and this
/// one is refused.
pub async fn submit_district(
    db_: &Db,
    store: &FileStore,
    acting: &Acting,
    today: NaiveDate,
    body: &str,
    base: i64,
    file: Option<Upload>,
) -> Result<i64, AppError> {
    let org = own_district(acting)?.clone();
    let campaign = current_campaign(db_).await?;
    let Some(due) = campaign.campaign.district_summary_due else {
        return Err(AppError::conflict(
            Conflict::PhaseClosed,
            "本次活动没有要求各单位提交总结（活动文件未设 district_summary_due）。",
        ));
    };
    if today > due {
        return Err(AppError::conflict(
            Conflict::PhaseClosed,
            format!(
                "各单位总结的提交截止日期（{}）已过，不能再提交或修改；如需补交，请联系市总工会宣教网络部。",
                date_zh(due)
            ),
        ));
    }
    let mut errors = Vec::new();
    let body = match text::paragraphs(body, MAX_DISTRICT_TEXT) {
        Ok(b) if b.is_empty() => {
            errors.push(crate::error::FieldError::new(
                "总结正文",
                "请填写本单位活动总结正文",
            ));
            b
        }
        Ok(b) => b,
        Err(m) => {
            errors.push(crate::error::FieldError::new("总结正文", m));
            String::new()
        }
    };
    let file = match file {
        Some(u) if u.bytes.len() > MAX_DISTRICT_FILE => {
            errors.push(crate::error::FieldError::new(
                "附件",
                format!(
                    "附件最大 {} MB，请压缩后再上传",
                    MAX_DISTRICT_FILE / 1024 / 1024
                ),
            ));
            None
        }
        Some(u) => match file_kind(&u) {
            Some(ext) => Some((u, ext)),
            None => {
                errors.push(crate::error::FieldError::new(
                    "附件",
                    "附件只能是 Word（.docx）或 PDF（.pdf）文件，请另存为其中一种格式后上传",
                ));
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let before = db::district(db_, campaign.id, org.id.0).await?;
    let current = before.as_ref().map_or(0, |d| d.version);
    let stale = || {
        AppError::conflict(
            Conflict::StaleVersion,
            "本单位的总结在您填写期间已由他人提交更新。请刷新页面，核对后再提交。",
        )
    };
    if base != current {
        return Err(stale());
    }
    let version = current + 1;
    let stored_file: Option<(String, String, i64)> = match file {
        Some((u, ext)) => {
            let key = format!("summaries/{}/{}/{version}.{ext}", campaign.id, org.id.0);
            let name = text::line(&u.name, MAX_FILE_NAME)
                .ok()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("活动总结.{ext}"));
            let size = u.bytes.len() as i64;
            store.put_bytes(&key, u.bytes).await.map_err(|e| {
                AppError::Internal(anyhow::anyhow!("storing a district summary: {e}"))
            })?;
            Some((key, name, size))
        }
        None => before.as_ref().and_then(|d| {
            Some((
                d.file_key.clone()?,
                d.file_name.clone()?,
                d.file_size.unwrap_or(0),
            ))
        }),
    };
    let mut tx = db_.begin().await?;
    let written = db::put_district(
        &mut tx,
        &db::NewDistrict {
            campaign_id: campaign.id,
            org_id: org.id.0,
            body: &body,
            file: stored_file
                .as_ref()
                .map(|(k, n, s)| (k.as_str(), n.as_str(), *s)),
            version,
            submitted_by: acting.user_id.0,
            now: crate::clock::unix_now(),
        },
    )
    .await?;
    if !written {
        drop(tx);
        return Err(stale());
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "summary.district",
            object_type: "org",
            object_id: org.id.to_string(),
            before: before.map(|d| serde_json::json!({"version": d.version, "file": d.file_name})),
            after: Some(serde_json::json!({
                "version": version, "chars": body.chars().count(),
                "file": stored_file.as_ref().map(|f| f.1.clone()),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// A district's file: the city and the liaison, or the district's own admin.
pub async fn district_file(
    db_: &Db,
    store: &FileStore,
    acting: &Acting,
    org_id: OrgId,
) -> Result<File, AppError> {
    let own = acting.role == Role::UnitAdmin && acting.org.id == org_id;
    if !(may_read(acting) || own) {
        return Err(AppError::NotFound);
    }
    let campaign = current_campaign(db_).await?;
    let d = db::district(db_, campaign.id, org_id.0)
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(key), Some(name)) = (d.file_key, d.file_name) else {
        return Err(AppError::NotFound);
    };
    let bytes = store
        .read_all(&key)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading a district summary: {e}")))?;
    let ext = if key.ends_with(".pdf") { "pdf" } else { "docx" };
    Ok(File {
        bytes,
        name,
        ascii_name: format!("summary-{}.{ext}", org_id.0),
    })
}
