//! Reviewer pools and conflicts.

use super::*;

// Reviewers and conflicts.

/// Adds a reviewer account to a sub-project's pool (city only, audited).
pub async fn add_to_pool(
    db: &Db,
    acting: &Acting,
    user_id: UserId,
    code: &str,
) -> Result<(), AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let sub = judged(&campaign, code.trim())?;
    let user = users::by_id(db, user_id).await?.ok_or(AppError::NotFound)?;
    if user.role != Role::Reviewer {
        return Err(AppError::conflict(
            Conflict::WrongRole,
            format!(
                "“{}”不是评审专家账号，请先在账号管理中建立评审专家账号",
                user.display_name
            ),
        ));
    }
    let mut tx = db.begin().await?;
    db::pool_add(
        &mut tx,
        user_id,
        campaign.id,
        &sub.code,
        Some(acting.user_id),
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "reviewer.pool_add",
            object_type: "user",
            object_id: user_id.to_string(),
            before: None,
            after: Some(serde_json::json!({"sub_project": sub.code})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A reviewer drops out of a sub-project: out of its pool, their unscored assignments in its
/// open rounds deleted, and only those works assigned again. Returns how many were moved.
pub async fn withdraw(
    db: &Db,
    acting: &Acting,
    user_id: UserId,
    code: &str,
) -> Result<usize, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let sub = judged(&campaign, code.trim())?;
    let mut tx = db.begin().await?;
    if !db::pool_remove(&mut tx, user_id, campaign.id, &sub.code).await? {
        return Err(AppError::NotFound);
    }
    let dropped = db::drop_unscored(&mut tx, user_id, campaign.id, &sub.code).await?;
    let pool: Vec<ReviewerRow> = db::pool(db, campaign.id, &sub.code)
        .await?
        .into_iter()
        .filter(|r| r.id != user_id)
        .collect();
    let mut moved = 0;
    for round_id in db::open_round_ids(&mut tx, campaign.id, &sub.code).await? {
        let round = db::round(db, round_id).await?.ok_or(AppError::NotFound)?;
        let k = definition(&campaign, &round)?.reviewers_per_work as usize;
        moved += assign_in(&mut tx, db, round_id, k, &pool).await?;
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "reviewer.withdraw",
            object_type: "user",
            object_id: user_id.to_string(),
            before: Some(serde_json::json!({"sub_project": sub.code})),
            after: Some(serde_json::json!({"unscored_dropped": dropped, "reassigned": moved})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(moved)
}

/// Records a declared conflict: a unit (by id, its whole subtree) or a person (by login).
pub async fn declare_conflict(
    db: &Db,
    acting: &Acting,
    user_id: UserId,
    org_id: Option<OrgId>,
    person_login: &str,
    note: &str,
) -> Result<(), AppError> {
    city_only(acting)?;
    let reviewer = users::by_id(db, user_id).await?.ok_or(AppError::NotFound)?;
    if reviewer.role != Role::Reviewer {
        return Err(AppError::conflict(
            Conflict::WrongRole,
            "只能为评审专家账号登记利益冲突",
        ));
    }
    let org = match org_id {
        Some(id) => Some(
            crate::db::orgs::get(db, &acting.scope, id)
                .await?
                .ok_or_else(|| AppError::invalid("org_id", "回避单位不存在"))?
                .id,
        ),
        None => None,
    };
    let person = match person_login.trim() {
        "" => None,
        login => Some(
            users::by_login(db, login)
                .await?
                .ok_or_else(|| AppError::invalid("person", format!("没有登录名为“{login}”的账号")))?
                .id,
        ),
    };
    if org.is_none() && person.is_none() {
        return Err(AppError::invalid(
            "org_id",
            "请选择要回避的单位，或填写要回避的人的登录名",
        ));
    }
    let note = note.trim();
    if note.chars().count() > 200 {
        return Err(AppError::invalid("note", "说明不能超过 200 字"));
    }
    let mut tx = db.begin().await?;
    db::conflict_add(&mut tx, user_id, org, person, note, Some(acting.user_id)).await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "reviewer.conflict",
            object_type: "user",
            object_id: user_id.to_string(),
            before: None,
            after: Some(serde_json::json!({"org_id": org, "person_id": person, "note": note})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The assignment's view of a pool: own unit subtree (unless the reviewer sits at a top-level
/// org such as the city union, above every work) and declared conflicts.
pub(super) async fn candidates(
    db: &Db,
    pool: &[ReviewerRow],
) -> Result<Vec<assignment::Reviewer>, AppError> {
    let declared = db::conflicts(db, None).await?;
    Ok(pool
        .iter()
        .map(|r| {
            let top_level = r.org_path.matches('/').count() <= 2;
            let mut conflict_paths: Vec<String> = if top_level {
                Vec::new()
            } else {
                vec![r.org_path.clone()]
            };
            let mut conflict_persons = Vec::new();
            for c in declared.iter().filter(|c| c.user_id == r.id) {
                if let Some(p) = &c.org_path {
                    conflict_paths.push(p.clone());
                }
                if let Some(p) = c.person_id {
                    conflict_persons.push(p);
                }
            }
            assignment::Reviewer {
                id: r.id,
                conflict_paths,
                conflict_persons,
            }
        })
        .collect())
}
