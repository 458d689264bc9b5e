//! Results, closing a round and the rankings.

use super::*;

// Results and closing.

/// A round with its assignments and (while open, for the city only) its live results.
pub struct RoundView {
    pub round: RoundRow,
    pub definition: Round,
    pub sub_name: String,
    pub assignments: Vec<db::RoundAssignment>,
    pub results: Vec<db::ResultRow>,
    pub pool: Vec<ReviewerRow>,
}

pub async fn round_view(db: &Db, acting: &Acting, round_id: i64) -> Result<RoundView, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let round = db::round(db, round_id).await?.ok_or(AppError::NotFound)?;
    let definition = definition(&campaign, &round)?.clone();
    let sub_name = judged(&campaign, &round.sub_project)?.name.clone();
    Ok(RoundView {
        assignments: db::round_assignments(db, round_id).await?,
        results: if round.status == "closed" {
            db::round_results(db, round_id).await?
        } else {
            Vec::new()
        },
        pool: db::pool(db, campaign.id, &round.sub_project).await?,
        round,
        definition,
        sub_name,
    })
}

pub(super) fn compute(works: &[WorkId], scores: &[(WorkId, UserId, i64)]) -> Vec<WorkResult> {
    let scored: Vec<Scored> = scores
        .iter()
        .map(|(w, r, c)| Scored {
            work: *w,
            reviewer: *r,
            score: *c as f64 / 100.0,
        })
        .collect();
    rules::results(works, &scored)
}

/// Closes a round (compare-and-set: of two admins at once one wins, the other gets a
/// conflict), freezes its ranking and, unless it is the last, opens the next round with the
/// works its rule advances and assigns their reviewers. Returns the next round's id.
pub async fn close_round(db: &Db, acting: &Acting, round_id: i64) -> Result<Option<i64>, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let round = db::round(db, round_id).await?.ok_or(AppError::NotFound)?;
    let sub = judged(&campaign, &round.sub_project)?;
    let index = sub
        .rounds
        .iter()
        .position(|r| r.code == round.round_code)
        .ok_or(AppError::NotFound)?;
    let this = &sub.rounds[index];
    let pool = db::pool(db, campaign.id, &sub.code).await?;
    let mut tx = db.begin().await?;
    if !db::close_round(&mut tx, round_id, Some(acting.user_id)).await? {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            format!("{}已由其他管理员结束，请刷新查看结果", this.name),
        ));
    }
    let works: Vec<WorkId> = db::round_works(&mut tx, round_id)
        .await?
        .into_iter()
        .map(|w| w.work_id)
        .collect();
    let scores = db::round_scores(&mut tx, round_id).await?;
    let ranking = compute(&works, &scores);
    let advancing = this
        .advance
        .as_ref()
        .map(|a| a.advancing(&ranking))
        .unwrap_or_default();
    for r in &ranking {
        db::set_result(
            &mut tx,
            round_id,
            &Frozen {
                work: r.work,
                rank: r.rank as i64,
                score_centi: (r.score * 100.0).round() as i64,
                normalised_milli: (r.normalised * 1000.0).round() as i64,
                advanced: advancing.contains(&r.work),
            },
        )
        .await?;
    }
    let next = match sub.rounds.get(index + 1) {
        Some(next) if !advancing.is_empty() => {
            let id = db::insert_round(
                &mut tx,
                campaign.id,
                &sub.code,
                &next.code,
                round.seq + 1,
                Some(acting.user_id),
            )
            .await?;
            for w in &advancing {
                db::add_round_work(&mut tx, id, *w).await?;
            }
            // Too few reviewers for the next round does not stop the close: the round page
            // says what is missing, and the city assigns once the pool is large enough.
            match assign_in(&mut tx, db, id, next.reviewers_per_work as usize, &pool).await {
                Ok(_) | Err(AppError::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
            Some(id)
        }
        _ => None,
    };
    audit::append(&mut tx, &acting.actor, Event {
        action: "round.close",
        object_type: "review_round",
        object_id: round_id.to_string(),
        before: Some(serde_json::json!({"status": "open"})),
        after: Some(serde_json::json!({"status": "closed", "advanced": advancing.len(), "next_round": next})),
    })
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// A work in a sub-project's final ranking.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub work_id: WorkId,
    pub title: String,
    pub org_name: String,
    pub rank: i64,
    /// 0–100, the trimmed mean from five scores up.
    pub score: f64,
    pub normalised: f64,
}

/// The seam for recommendation: the ranking of the sub-project's last closed round (best
/// first), with the round's code; `None` while no round has closed.
pub async fn final_ranking(db: &Db, code: &str) -> Result<Option<(String, Vec<Ranked>)>, AppError> {
    let campaign = current_campaign(db).await?;
    let last = db::rounds(db, campaign.id)
        .await?
        .into_iter()
        .filter(|r| r.sub_project == code && r.status == "closed")
        .max_by_key(|r| r.seq);
    let Some(last) = last else {
        return Ok(None);
    };
    let rows = db::round_results(db, last.id).await?;
    Ok(Some((
        last.round_code,
        rows.into_iter()
            .map(|r| Ranked {
                work_id: r.work_id,
                title: r.title,
                org_name: r.org_name,
                rank: r.rank.unwrap_or(i64::MAX),
                score: r.score_centi.unwrap_or(0) as f64 / 100.0,
                normalised: r.normalised_milli.unwrap_or(0) as f64 / 1000.0,
            })
            .collect(),
    )))
}

/// The live ranking of an open round, for the city (computed, not frozen).
pub async fn live_ranking(
    db: &Db,
    acting: &Acting,
    round_id: i64,
) -> Result<Vec<WorkResult>, AppError> {
    city_only(acting)?;
    let round = db::round(db, round_id).await?.ok_or(AppError::NotFound)?;
    let assignments = db::round_assignments(db, round.id).await?;
    let mut works: Vec<WorkId> = assignments.iter().map(|a| a.work_id).collect();
    works.sort();
    works.dedup();
    let scores = db::round_scores_now(db, round_id).await?;
    Ok(compute(&works, &scores))
}
