//! Results, closing a round and the rankings.

use super::*;

// Results and closing.

/// Rows of a ranking shown on the round page, and works per page of assignments: a round of
/// 50,000 works stays a page a phone can load (the whole ranking is in the package and the
/// frozen results).
pub const RANKING_SHOWN: i64 = 100;
pub const WORKS_PER_PAGE: i64 = 50;

/// A round as its page shows it: the round row, its definition and (once closed) the top of
/// its frozen ranking. The assignments are on their own page ([`AssignmentsView`]): the
/// reviewer pool a move needs is most of a page's weight, and the ranking is what the city
/// reloads.
pub struct RoundView {
    pub round: RoundRow,
    pub definition: Round,
    pub sub_name: String,
    pub results: Vec<db::ResultRow>,
}

/// One page of a round's assignments, with the sub-project's reviewers to move them to.
pub struct AssignmentsView {
    pub round: RoundRow,
    pub definition: Round,
    pub sub_name: String,
    /// Assignments of up to [`WORKS_PER_PAGE`] works after `from`.
    pub assignments: Vec<db::RoundAssignment>,
    /// The work to continue after on the next page, when there is one.
    pub next_from: Option<i64>,
    /// The sub-project's reviewers (shared with this node's cache).
    pub pool: std::sync::Arc<Vec<ReviewerRow>>,
}

/// The round row of this campaign with its definition and sub-project name; the campaign comes
/// from this node's cache.
async fn round_of_campaign(
    db: &Db,
    campaigns: &crate::service::campaigns::CampaignCache,
    acting: &Acting,
    round_id: i64,
) -> Result<(RoundRow, Round, String), AppError> {
    city_only(acting)?;
    let campaign = campaigns.get(db).await?;
    let round = db::round(db, round_id).await?.ok_or(AppError::NotFound)?;
    if round.campaign_id != campaign.id {
        return Err(AppError::NotFound);
    }
    let definition = definition(&campaign, &round)?.clone();
    let sub_name = judged(&campaign, &round.sub_project)?.name.clone();
    Ok((round, definition, sub_name))
}

/// The round page's reads: the round row (its counts kept on it) and, once closed, the top of
/// the frozen ranking.
pub async fn round_view(
    db: &Db,
    campaigns: &crate::service::campaigns::CampaignCache,
    acting: &Acting,
    round_id: i64,
) -> Result<RoundView, AppError> {
    let (round, definition, sub_name) = round_of_campaign(db, campaigns, acting, round_id).await?;
    Ok(RoundView {
        results: if round.status == "closed" {
            db::round_results_top(db, round_id, RANKING_SHOWN).await?
        } else {
            Vec::new()
        },
        round,
        definition,
        sub_name,
    })
}

/// One page of a round's assignments (keyset on the work, a work never split over two pages)
/// and the reviewer pool from this node's cache.
pub async fn assignments_view(
    db: &Db,
    campaigns: &crate::service::campaigns::CampaignCache,
    cache: &RankingCache,
    acting: &Acting,
    round_id: i64,
    from: i64,
) -> Result<AssignmentsView, AppError> {
    let (round, definition, sub_name) = round_of_campaign(db, campaigns, acting, round_id).await?;
    let per_page = WORKS_PER_PAGE * i64::from(definition.reviewers_per_work.max(1));
    let mut assignments = db::round_assignments_page(db, round_id, from, per_page + 1).await?;
    let next_from = if assignments.len() as i64 > per_page {
        assignments.truncate(per_page as usize);
        // The last work may go on past the page: it starts the next page instead.
        let last = assignments.last().map(|a| a.work_id);
        if assignments.iter().any(|a| Some(a.work_id) != last) {
            assignments.retain(|a| Some(a.work_id) != last);
        }
        assignments.last().map(|a| a.work_id.get())
    } else {
        None
    };
    Ok(AssignmentsView {
        assignments,
        next_from,
        pool: cache.pool(db, &round).await?,
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
    let advancing: std::collections::HashSet<WorkId> = this
        .advance
        .as_ref()
        .map(|a| a.advancing(&ranking))
        .unwrap_or_default()
        .into_iter()
        .collect();
    // One statement for every result (it was one per work: 22–57 s for 50,000).
    let frozen: Vec<Frozen> = ranking
        .iter()
        .map(|r| Frozen {
            work: r.work,
            rank: r.rank as i64,
            score_centi: (r.score * 100.0).round() as i64,
            normalised_milli: (r.normalised * 1000.0).round() as i64,
            advanced: advancing.contains(&r.work),
        })
        .collect();
    db::set_results(&mut tx, round_id, &frozen).await?;
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
            db::advance_into(&mut tx, id, round_id).await?;
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

/// The live ranking of an open round as the page shows it: the first rows with their titles,
/// how many works it ranks and how many are flagged.
pub struct LiveRanking {
    pub top: Vec<(WorkResult, String)>,
    pub total: usize,
    pub disagreements: usize,
}

type Ranking = std::sync::Arc<Vec<(WorkResult, String)>>;
/// (works, submitted scores) of a round when its ranking was computed, read from the round row
/// (its counts change in the same transaction as the rows they count, and a submitted sheet is
/// never changed or deleted while the round is open).
type Stamp = (i64, i64);
type Pool = std::sync::Arc<Vec<ReviewerRow>>;
/// (campaign, sub-project) of a pool.
type PoolKey = (i64, String);

/// Per node, the round page's caches: each open round's live ranking with the stamp it was
/// computed at, so 32 admins on a round of 150,000 scores share one computation until a score
/// is submitted; and each sub-project's reviewer pool with the pool's revision (kept in
/// `reviewer_pool_revisions`, read with the round row), so the 1,000-reviewer pool is read once
/// per change rather than per request. Computing holds the lock, so a burst of requests after a
/// change computes once.
#[derive(Default)]
pub struct RankingCache {
    rounds: tokio::sync::Mutex<std::collections::HashMap<i64, (Stamp, Ranking, usize)>>,
    pools: tokio::sync::Mutex<std::collections::HashMap<PoolKey, (i64, Pool)>>,
    /// Something made from a pool once per revision (the page's rendered `<datalist>`).
    pool_renders: std::sync::Mutex<std::collections::HashMap<PoolKey, (i64, std::sync::Arc<str>)>>,
}

impl RankingCache {
    /// The reviewer pool of the round's sub-project, as of the round row's `pool_rev`. A
    /// reviewer's account disabled or renamed elsewhere shows at the pool's next change; a move
    /// by hand checks the pool afresh anyway.
    pub async fn pool(&self, db: &Db, round: &RoundRow) -> Result<Pool, AppError> {
        let key = (round.campaign_id, round.sub_project.clone());
        let mut pools = self.pools.lock().await;
        if let Some((rev, pool)) = pools.get(&key)
            && *rev == round.pool_rev
        {
            return Ok(pool.clone());
        }
        let pool: Pool =
            std::sync::Arc::new(db::pool(db, round.campaign_id, &round.sub_project).await?);
        pools.insert(key, (round.pool_rev, pool.clone()));
        Ok(pool)
    }

    /// `make` applied to the round's pool, once per pool revision (the round page renders its
    /// 1,000-reviewer `<datalist>` once, not per request).
    pub fn pool_rendered(
        &self,
        round: &RoundRow,
        pool: &[ReviewerRow],
        make: impl FnOnce(&[ReviewerRow]) -> Result<String, AppError>,
    ) -> Result<std::sync::Arc<str>, AppError> {
        let key = (round.campaign_id, round.sub_project.clone());
        if let Ok(renders) = self.pool_renders.lock()
            && let Some((rev, text)) = renders.get(&key)
            && *rev == round.pool_rev
        {
            return Ok(text.clone());
        }
        let text: std::sync::Arc<str> = make(pool)?.into();
        if let Ok(mut renders) = self.pool_renders.lock() {
            renders.insert(key, (round.pool_rev, text.clone()));
        }
        Ok(text)
    }
}

/// The live ranking of an open round (the row the page read), for the city (computed, not
/// frozen).
pub async fn live_ranking(
    db: &Db,
    cache: &RankingCache,
    acting: &Acting,
    round: &RoundRow,
) -> Result<LiveRanking, AppError> {
    city_only(acting)?;
    let round_id = round.id;
    let stamp = (round.works, round.submitted);
    let mut rounds = cache.rounds.lock().await;
    let (ranking, disagreements) = match rounds.get(&round_id) {
        Some((s, ranking, disagreements)) if *s == stamp => (ranking.clone(), *disagreements),
        _ => {
            let titles: std::collections::HashMap<WorkId, String> =
                db::round_titles(db, round_id).await?.into_iter().collect();
            let mut works: Vec<WorkId> = titles.keys().copied().collect();
            works.sort();
            let scores = db::round_scores_now(db, round_id).await?;
            let computed = tokio::task::spawn_blocking(move || compute(&works, &scores))
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            let ranking: Ranking = std::sync::Arc::new(
                computed
                    .into_iter()
                    .map(|r| {
                        let title = titles.get(&r.work).cloned().unwrap_or_default();
                        (r, title)
                    })
                    .collect(),
            );
            let disagreements = ranking.iter().filter(|(r, _)| r.disagreement).count();
            rounds.insert(round_id, (stamp, ranking.clone(), disagreements));
            (ranking, disagreements)
        }
    };
    drop(rounds);
    Ok(LiveRanking {
        top: ranking
            .iter()
            .take(RANKING_SHOWN as usize)
            .cloned()
            .collect(),
        total: ranking.len(),
        disagreements,
    })
}
