//! Units' participation in the sub-projects hosted on other platforms: recording where a work
//! was submitted, the list in scope, and the per-sub-project counts of the overview.

use super::sub_project;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::orgs::{self, Scope};
use crate::db::works::{self, NewParticipation};
use crate::domain::campaign::{Participation, SubProject};
use crate::domain::ids::OrgId;
use crate::error::{AppError, FieldError};
use crate::service::acting::{Acting, current_campaign};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ParticipationInput {
    pub sub_project: String,
    /// The unit taking part (in the account's scope; defaults to its own).
    #[serde(default)]
    pub org_id: Option<OrgId>,
    pub work_title: String,
    pub authors: String,
    /// Where it was submitted (the host's platform).
    pub submitted_to: String,
    /// A link or reference number on that platform.
    pub reference: String,
    /// `YYYY-MM-DD`.
    pub submitted_on: String,
}

pub async fn record_participation(
    db: &Db,
    acting: &Acting,
    input: ParticipationInput,
) -> Result<i64, AppError> {
    let campaign = current_campaign(db).await?;
    let mut errors = Vec::new();
    let sub = sub_project(&campaign, input.sub_project.trim())
        .map_err(|_| AppError::invalid("sub_project", "请选择子项目"))?;
    if sub.participation != Participation::External {
        errors.push(FieldError::new(
            "sub_project",
            format!("“{}”的作品直接在网聚提交，不需要另行登记", sub.name),
        ));
    }
    let title = crate::domain::text::line(&input.work_title, 100).unwrap_or_default();
    let title = title.as_str();
    if title.is_empty() || title.chars().count() > 100 {
        errors.push(FieldError::new(
            "work_title",
            "请填写作品或活动名称（100 字以内）",
        ));
    }
    let authors = crate::domain::text::line(&input.authors, 200).unwrap_or_default();
    let authors = authors.as_str();
    if authors.is_empty() || authors.chars().count() > 200 {
        errors.push(FieldError::new(
            "authors",
            "请填写作者或参与人（200 字以内）",
        ));
    }
    let submitted_to = crate::domain::text::line(&input.submitted_to, 100).unwrap_or_default();
    let submitted_to = submitted_to.as_str();
    if submitted_to.is_empty() || submitted_to.chars().count() > 100 {
        errors.push(FieldError::new("submitted_to", "请填写提交到的平台或单位"));
    }
    let reference = crate::domain::text::line(&input.reference, 500).unwrap_or_default();
    let reference = reference.as_str();
    if reference.is_empty() || reference.chars().count() > 500 {
        errors.push(FieldError::new("reference", "请填写作品链接或平台上的编号"));
    } else if reference.contains("://")
        && !(reference.starts_with("https://") || reference.starts_with("http://"))
    {
        errors.push(FieldError::new(
            "reference",
            "链接应以 http:// 或 https:// 开头",
        ));
    }
    let on = input.submitted_on.trim();
    if chrono::NaiveDate::parse_from_str(on, "%Y-%m-%d").is_err() {
        errors.push(FieldError::new(
            "submitted_on",
            "请按 2020-07-01 的格式填写提交日期",
        ));
    }
    let org = match input.org_id {
        Some(id) => orgs::get(db, &acting.scope, id).await?,
        None => Some(acting.org.clone()),
    };
    let Some(org) = org else {
        errors.push(FieldError::new(
            "org_id",
            "所选单位不存在或不在您的管理范围内",
        ));
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let id = works::insert_participation(
        &mut tx,
        NewParticipation {
            campaign_id: campaign.id,
            sub_project: &sub.code,
            org_id: org.id,
            work_title: title,
            authors,
            submitted_to,
            reference,
            submitted_on: on,
            recorded_by: acting.user_id,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "participation.record",
            object_type: "participation",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "sub_project": sub.code, "org_id": org.id, "work_title": title, "reference": reference,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn participations(
    db: &Db,
    acting: &Acting,
) -> Result<Vec<works::ParticipationRow>, AppError> {
    let campaign = current_campaign(db).await?;
    Ok(works::participations(db, &acting.scope, campaign.id).await?)
}

/// For each of the campaign's sub-projects: how many works or participation records the scope
/// has (the city counts participation in all eight).
pub async fn participation_summary(
    db: &Db,
    scope: &Scope,
) -> Result<Vec<(SubProject, i64)>, AppError> {
    let campaign = current_campaign(db).await?;
    let counts = works::participation_counts(db, scope, campaign.id).await?;
    Ok(campaign
        .campaign
        .sub_projects
        .iter()
        .map(|s| {
            let n = counts
                .iter()
                .find(|(code, _)| code == &s.code)
                .map_or(0, |(_, n)| *n);
            (s.clone(), n)
        })
        .collect())
}
