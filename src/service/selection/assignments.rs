//! Opening the first round, the automatic assignment and moves by hand.

use super::*;

// Rounds and assignment.

/// Opens a sub-project's first round with every accepted work, and assigns reviewers.
pub async fn open_first_round(db: &Db, acting: &Acting, code: &str) -> Result<i64, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let sub = judged(&campaign, code.trim())?;
    let Some(first) = sub.rounds.first() else {
        return Err(AppError::NotFound);
    };
    let pool = db::pool(db, campaign.id, &sub.code).await?;
    let mut tx = db.begin().await?;
    let round_id = db::insert_round(
        &mut tx,
        campaign.id,
        &sub.code,
        &first.code,
        1,
        Some(acting.user_id),
    )
    .await
    .map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            AppError::conflict(
                Conflict::AlreadyExists,
                format!("“{}”的{}已经开始", sub.name, first.name),
            )
        } else {
            e.into()
        }
    })?;
    let works = db::add_accepted(&mut tx, round_id, campaign.id, &sub.code).await?;
    if works == 0 {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!("“{}”还没有审核通过的作品，无法开始评审", sub.name),
        ));
    }
    let assigned = assign_in(
        &mut tx,
        db,
        round_id,
        first.reviewers_per_work as usize,
        &pool,
    )
    .await?;
    audit::append(&mut tx, &acting.actor, Event {
        action: "round.open",
        object_type: "review_round",
        object_id: round_id.to_string(),
        before: None,
        after: Some(serde_json::json!({"sub_project": sub.code, "round": first.code, "works": works, "assignments": assigned})),
    })
    .await?;
    tx.commit().await?;
    Ok(round_id)
}

/// The city runs the assignment of an open round again: works with fewer than k reviewers get
/// theirs (after reviewers joined the pool, or after a shortfall). Returns how many were made.
pub async fn assign_round(db: &Db, acting: &Acting, round_id: i64) -> Result<usize, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let round = db::round(db, round_id).await?.ok_or(AppError::NotFound)?;
    let k = definition(&campaign, &round)?.reviewers_per_work as usize;
    if round.status != "open" {
        return Err(AppError::conflict(
            Conflict::WrongState,
            "这一轮评审已结束，不能再分配",
        ));
    }
    let pool = db::pool(db, campaign.id, &round.sub_project).await?;
    let mut tx = db.begin().await?;
    let made = assign_in(&mut tx, db, round_id, k, &pool).await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "round.assign",
            object_type: "review_round",
            object_id: round_id.to_string(),
            before: None,
            after: Some(serde_json::json!({"assignments": made})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(made)
}

/// Runs the assignment for a round's works that have fewer than k reviewers; how many made.
pub(super) async fn assign_in(
    tx: &mut crate::db::Tx,
    db: &Db,
    round_id: i64,
    k: usize,
    pool: &[ReviewerRow],
) -> Result<usize, AppError> {
    let works: Vec<assignment::Work> = db::round_works(tx, round_id)
        .await?
        .into_iter()
        .map(|w| assignment::Work {
            id: w.work_id,
            org_path: w.org_path,
            owner: w.owner_id,
        })
        .collect();
    let existing = db::pairs(tx, round_id).await?;
    let reviewers = candidates(db, pool).await?;
    let added = assignment::assign(&works, &reviewers, k, &existing).map_err(shortfall_error)?;
    db::assign_all(tx, round_id, &added, None).await?;
    Ok(added.len())
}

pub(super) fn shortfall_error(short: Vec<Shortfall>) -> AppError {
    let fields = short
        .iter()
        .take(20)
        .map(|s| {
            FieldError::new(
                format!("作品 {}", s.work),
                format!(
                    "只有 {} 位无利益冲突的评审专家，每件需要 {} 位；请增加评审专家或核对回避登记",
                    s.available, s.needed
                ),
            )
        })
        .collect();
    AppError::Invalid(fields)
}

/// The city moves one assignment nobody has started to another reviewer of the pool (audited).
pub async fn move_assignment(
    db: &Db,
    acting: &Acting,
    assignment_id: i64,
    to: UserId,
) -> Result<(), AppError> {
    city_only(acting)?;
    let a = db::assignment(db, assignment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let round = db::round(db, a.round_id).await?.ok_or(AppError::NotFound)?;
    if a.round_status != "open" {
        return Err(AppError::conflict(
            Conflict::WrongState,
            "这一轮评审已结束，不能再调整分配",
        ));
    }
    let pool = db::pool(db, round.campaign_id, &round.sub_project).await?;
    let Some(target) = pool.iter().find(|r| r.id == to) else {
        return Err(AppError::invalid(
            "reviewer",
            "只能改派给本子项目的评审专家",
        ));
    };
    let reviewer = candidates(db, std::slice::from_ref(target)).await?;
    let mut tx = db.begin().await?;
    let work = db::round_works(&mut tx, a.round_id)
        .await?
        .into_iter()
        .find(|w| w.work_id == a.work_id)
        .ok_or(AppError::NotFound)?;
    let as_work = assignment::Work {
        id: work.work_id,
        org_path: work.org_path,
        owner: work.owner_id,
    };
    if reviewer.iter().any(|r| r.conflicts_with(&as_work)) {
        return Err(AppError::invalid(
            "reviewer",
            format!("{}与这件作品有利益冲突，不能改派", target.display_name),
        ));
    }
    if !db::move_assignment(&mut tx, assignment_id, to, Some(acting.user_id)).await? {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            "这份评分已开始填写，或该评审专家已评这件作品，不能改派",
        ));
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "assignment.move",
            object_type: "review_assignment",
            object_id: assignment_id.to_string(),
            before: Some(serde_json::json!({"reviewer_id": a.reviewer_id})),
            after: Some(serde_json::json!({"reviewer_id": to})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One sub-project's judging at a glance.
#[derive(Debug, Serialize)]
pub struct SubProjectOverview {
    pub code: String,
    pub name: String,
    pub rounds: Vec<(Round, Option<RoundRow>)>,
    pub pool: Vec<ReviewerRow>,
}

pub async fn overview(db: &Db, acting: &Acting) -> Result<Vec<SubProjectOverview>, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let stored = db::rounds(db, campaign.id).await?;
    let mut out = Vec::new();
    for sub in campaign
        .campaign
        .sub_projects
        .iter()
        .filter(|s| !s.rounds.is_empty())
    {
        let rounds = sub
            .rounds
            .iter()
            .map(|r| {
                let row = stored
                    .iter()
                    .find(|s| s.sub_project == sub.code && s.round_code == r.code)
                    .cloned();
                (r.clone(), row)
            })
            .collect();
        out.push(SubProjectOverview {
            code: sub.code.clone(),
            name: sub.name.clone(),
            rounds,
            pool: db::pool(db, campaign.id, &sub.code).await?,
        });
    }
    Ok(out)
}
