//! Moderation: a moderator's decision on a waiting work (always with a reason, compare-and-set
//! against a second moderator), and which sub-projects each moderator checks.

use super::hosted;
use super::read::get;
use crate::db::Db;
use crate::db::audit::{self, Actor, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::users;
use crate::db::works;
use crate::domain::campaign::Participation;
use crate::domain::ids::{UserId, WorkId};
use crate::domain::role::Role;
use crate::domain::work::{self, Decision};
use crate::error::{AppError, Conflict};
use crate::service::acting::{Acting, current_campaign};

/// The sub-projects (code and name) a moderator checks in the current campaign.
pub async fn moderator_sub_projects(
    db: &Db,
    user_id: UserId,
) -> Result<Vec<(String, String)>, AppError> {
    let campaign = current_campaign(db).await?;
    let codes = works::assignments(db, user_id, campaign.id).await?;
    Ok(campaign
        .campaign
        .sub_projects
        .iter()
        .filter(|s| codes.contains(&s.code))
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect())
}

/// The sub-projects a moderator may be given: those Wangju hosts.
pub async fn hosted_sub_projects(db: &Db) -> Result<Vec<(String, String)>, AppError> {
    let campaign = current_campaign(db).await?;
    Ok(campaign
        .campaign
        .sub_projects
        .iter()
        .filter(|s| s.participation == Participation::Wangju)
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect())
}

/// The city admin gives a moderator the sub-projects they check (replacing earlier ones).
/// Audited.
pub async fn assign_moderator(
    db: &Db,
    acting: &Acting,
    user_id: UserId,
    codes: &[String],
) -> Result<(), AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    set_moderator_sub_projects(db, &acting.actor, Some(acting.user_id), user_id, codes).await
}

/// The sub-project codes a moderator may be given, checked, without repeats, in order: each
/// must be one the current campaign hosts in Wangju.
pub fn moderated_codes(
    campaign: &StoredCampaign,
    codes: &[String],
) -> Result<Vec<String>, AppError> {
    let mut chosen: Vec<String> = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let sub = hosted(campaign, code).map_err(|_| {
            let hosted: Vec<&str> = campaign
                .campaign
                .sub_projects
                .iter()
                .filter(|s| s.participation == Participation::Wangju)
                .map(|s| s.code.as_str())
                .collect();
            AppError::invalid(
                "sub_projects",
                format!(
                    "“{code}”不是本次活动中由网聚收稿的子项目；可选：{}",
                    hosted.join("、")
                ),
            )
        })?;
        if !chosen.contains(&sub.code) {
            chosen.push(sub.code.clone());
        }
    }
    chosen.sort();
    Ok(chosen)
}

/// Sets a moderator's sub-projects (the city admin's page, or `wangju user add --moderate`).
pub async fn set_moderator_sub_projects(
    db: &Db,
    actor: &Actor,
    by: Option<UserId>,
    user_id: UserId,
    codes: &[String],
) -> Result<(), AppError> {
    let user = users::by_id(db, user_id).await?.ok_or(AppError::NotFound)?;
    if user.role != Role::Moderator {
        return Err(AppError::conflict(
            Conflict::WrongRole,
            format!(
                "“{}”不是审核员账号，不能分配审核的子项目",
                user.display_name
            ),
        ));
    }
    let campaign = current_campaign(db).await?;
    let chosen = moderated_codes(&campaign, codes)?;
    let before = works::assignments(db, user.id, campaign.id).await?;
    let mut tx = db.begin().await?;
    works::set_assignments(&mut tx, user.id, campaign.id, &chosen, by).await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "moderator.assign",
            object_type: "user",
            object_id: user.id.to_string(),
            before: Some(serde_json::json!({"sub_projects": before})),
            after: Some(serde_json::json!({"sub_projects": chosen})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A moderator accepts, returns or rejects a waiting work, always with a reason.
pub async fn decide(
    db: &Db,
    acting: &Acting,
    id: WorkId,
    decision: Decision,
    reason: &str,
) -> Result<(), AppError> {
    if !acting.role.may_moderate() {
        return Err(AppError::Forbidden);
    }
    let current = get(db, acting, id).await?;
    // Nobody decides on a work they own or filed, the city admin included.
    if current.row.owner_id == acting.user_id || current.row.filed_by == acting.user_id {
        return Err(AppError::conflict(
            Conflict::WrongRole,
            "不能审核自己提交的作品，请由其他审核员处理",
        ));
    }
    if !work::may_decide(current.status()) {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!("这件作品{}，不在待审核状态", current.status().label_zh()),
        ));
    }
    let reason = reason.trim();
    if reason.chars().count() < 2 {
        return Err(AppError::invalid(
            "reason",
            format!("请填写{}的理由，作者会看到它", decision.label_zh()),
        ));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "理由请控制在 500 字以内"));
    }
    let outcome = decision.outcome();
    let mut tx = db.begin().await?;
    if !works::decide(&mut tx, id, outcome.code(), reason, acting.user_id).await? {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            "另一位审核员刚刚处理了这件作品，请刷新查看",
        ));
    }
    works::add_event(
        &mut tx,
        id,
        acting.user_id,
        outcome.code(),
        Some(reason),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "work.decide",
            object_type: "work",
            object_id: id.to_string(),
            before: Some(serde_json::json!({"status": current.row.status})),
            after: Some(serde_json::json!({"status": outcome.code(), "reason": reason})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
