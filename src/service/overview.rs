//! The public campaign overview, built once from the stored campaign and shared by the home
//! page and `GET /api/v1/campaign`. Phone numbers are masked here, on the server.

use chrono::NaiveDate;
use serde::Serialize;

use crate::db::{Db, campaigns};
use crate::domain::campaign::{Campaign, Contact, Participation, Severity};
use crate::domain::mask::contact_phone;
use crate::error::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub code: String,
    pub year: i32,
    pub title: String,
    pub notice_title: String,
    pub based_on: Option<String>,
    pub document_number: Option<String>,
    pub issued_on: NaiveDate,
    pub addressees: String,
    pub organisers: Vec<String>,
    pub today: NaiveDate,
    pub current_phase: Option<String>,
    /// The campaign was archived and closed: read-only (已归档).
    pub archived: bool,
    pub phases: Vec<PhaseView>,
    pub targets: Vec<TargetView>,
    pub secondary_spread: String,
    pub quota_total_min: u32,
    pub quota_bureau_group_min: u32,
    pub quota_sum: i64,
    pub quotas: Vec<QuotaView>,
    pub activity_formats: Vec<String>,
    pub content_categories: Vec<String>,
    pub sub_projects: Vec<SubProjectView>,
    pub lecture_team: LectureTeamView,
    pub contacts: Vec<ContactGroupView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhaseView {
    pub code: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub description: String,
    /// `past`, `current` or `upcoming`.
    pub state: &'static str,
    pub allows: Vec<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetView {
    /// The digit of "12351+" this target stands for.
    pub digit: &'static str,
    pub label: &'static str,
    pub value: u64,
    pub display: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuotaView {
    pub position: i64,
    pub unit: String,
    pub min_activities: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubProjectView {
    pub code: String,
    pub name: String,
    pub host: String,
    /// Submissions in Wangju, or participation on the host's platform.
    pub in_wangju: bool,
    pub media: &'static str,
    pub description: String,
    pub platform_entries: Vec<PlatformEntryView>,
    pub contacts: Vec<ContactView>,
    pub rules: Vec<RuleView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlatformEntryView {
    pub name: String,
    pub kind: &'static str,
    pub url: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    pub name: String,
    /// Office landlines whole; mobiles whole for signed-in viewers, masked (139****4997) for
    /// anonymous ones.
    pub phones: Vec<String>,
    /// Some number is masked: the page says 登录后查看.
    pub masked: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub text: String,
    /// Blocks submission (`error`) or flags it for the moderator (`warning`).
    pub blocking: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LectureTeamView {
    pub name: String,
    pub worker_models: u32,
    pub representative_groups: Vec<String>,
    pub venues: Vec<String>,
    pub forms: Vec<String>,
    pub selected_by: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactGroupView {
    pub about: String,
    pub contacts: Vec<ContactView>,
}

/// The notice's contacts as `signed_in` or anonymous visitors may see them (the one rule in
/// `domain::mask::contact_phone`).
pub fn contacts(list: &[Contact], signed_in: bool) -> Vec<ContactView> {
    list.iter()
        .map(|c| {
            let phones: Vec<String> = c
                .phones
                .iter()
                .map(|p| contact_phone(p, signed_in))
                .collect();
            ContactView {
                name: c.name.clone(),
                masked: phones
                    .iter()
                    .zip(&c.phones)
                    .any(|(shown, p)| shown != p.trim()),
                phones,
            }
        })
        .collect()
}

fn big_number(n: u64) -> String {
    if n >= 100_000_000 && n.is_multiple_of(100_000_000) {
        format!("{} 亿", n / 100_000_000)
    } else if n >= 10_000 && n.is_multiple_of(10_000) {
        format!("{} 万", n / 10_000)
    } else {
        n.to_string()
    }
}

/// The overview of the current campaign as of `today`, its contacts as a `signed_in` or an
/// anonymous visitor may see them.
pub async fn current(db: &Db, today: NaiveDate, signed_in: bool) -> Result<Overview, AppError> {
    let stored = campaigns::current(db).await?.ok_or(AppError::NotFound)?;
    // The public table is Annex 1: sub-units' shares are splits of these, never added in.
    let quotas = crate::db::quotas::list(db, stored.id)
        .await?
        .into_iter()
        .filter(|q| q.annex_level == 1)
        .collect();
    let mut overview = build(&stored.campaign, quotas, today, signed_in);
    overview.archived = crate::db::archive::closed(db, stored.id).await?.is_some();
    Ok(overview)
}

fn build(
    c: &Campaign,
    quotas: Vec<crate::db::quotas::QuotaRow>,
    today: NaiveDate,
    signed_in: bool,
) -> Overview {
    let current = c.phase_on(today).map(|p| p.code.clone());
    let phases = c
        .phases
        .iter()
        .map(|p| PhaseView {
            code: p.code.clone(),
            name: p.name.clone(),
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            description: p.description.clone(),
            state: if current.as_deref() == Some(p.code.as_str()) {
                "current"
            } else if p.ends_on < today {
                "past"
            } else {
                "upcoming"
            },
            allows: p.allows.iter().map(|a| a.label_zh()).collect(),
        })
        .collect();
    let t = &c.targets;
    let targets = vec![
        TargetView {
            digit: "1",
            label: "组织动员基层工会",
            value: t.grassroots_unions,
            display: format!("{} 个", big_number(t.grassroots_unions)),
        },
        TargetView {
            digit: "2",
            label: "发展职工好网民宣传员",
            value: t.propagandists,
            display: format!("{} 名", big_number(t.propagandists)),
        },
        TargetView {
            digit: "3",
            label: "走进企业或开展线下活动",
            value: t.enterprises_or_activities,
            display: format!("{} 家/场", big_number(t.enterprises_or_activities)),
        },
        TargetView {
            digit: "5",
            label: "面对面接触职工",
            value: t.face_to_face,
            display: format!("{} 名", big_number(t.face_to_face)),
        },
        TargetView {
            digit: "1",
            label: "直接覆盖职工网民",
            value: t.online_reach,
            display: format!("{} 人", big_number(t.online_reach)),
        },
    ];
    let quota_sum = quotas.iter().map(|q| q.min_activities).sum();
    Overview {
        code: c.code.clone(),
        year: c.year,
        title: c.title.clone(),
        notice_title: c.notice.title.clone(),
        based_on: c.notice.based_on.clone(),
        document_number: c.notice.document_number.clone(),
        issued_on: c.notice.issued_on,
        addressees: c.notice.addressees.clone(),
        organisers: c.organisers.iter().map(|o| o.name.clone()).collect(),
        today,
        current_phase: c.phase_on(today).map(|p| p.name.clone()),
        archived: false,
        phases,
        targets,
        secondary_spread: t.secondary_spread.clone(),
        quota_total_min: c.quotas.total_min,
        quota_bureau_group_min: c.quotas.bureau_group_min,
        quota_sum,
        quotas: quotas
            .into_iter()
            .enumerate()
            .map(|(i, q)| QuotaView {
                position: i as i64 + 1,
                unit: q.org_name,
                min_activities: q.min_activities,
            })
            .collect(),
        activity_formats: c.activity_formats.clone(),
        content_categories: c.content_categories.clone(),
        sub_projects: c
            .sub_projects
            .iter()
            .map(|s| SubProjectView {
                code: s.code.clone(),
                name: s.name.clone(),
                host: s.host.clone(),
                in_wangju: s.participation == Participation::Wangju,
                media: s.media.label_zh(),
                description: s.description.clone(),
                platform_entries: s
                    .platform_entries
                    .iter()
                    .map(|e| PlatformEntryView {
                        name: e.name.clone(),
                        kind: e.kind.label_zh(),
                        url: e.url.clone(),
                    })
                    .collect(),
                contacts: contacts(&s.contacts, signed_in),
                rules: s
                    .rules
                    .iter()
                    .map(|r| RuleView {
                        text: r.describe_zh(),
                        blocking: r.severity() == Severity::Error,
                    })
                    .collect(),
            })
            .collect(),
        lecture_team: LectureTeamView {
            name: c.lecture_team.name.clone(),
            worker_models: c.lecture_team.worker_models,
            representative_groups: c.lecture_team.representative_groups.clone(),
            venues: c.lecture_team.venues.clone(),
            forms: c.lecture_team.forms.clone(),
            selected_by: c.lecture_team.selected_by.clone(),
        },
        contacts: c
            .contacts
            .iter()
            .map(|g| ContactGroupView {
                about: g.about.clone(),
                contacts: contacts(&g.contacts, signed_in),
            })
            .collect(),
    }
}
