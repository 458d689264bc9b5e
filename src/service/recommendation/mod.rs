//! Recommendation (推荐): the city picks the works recommended to the national selection from
//! each judged sub-project's final ranking, within the campaign file's cap (`recommend_max`),
//! an override (a work picked past a better-ranked one, or one the ranking does not give) only
//! with a reason; then drafts the 公示 of the list through the one 公示 mechanism
//! (`service::publicity`), which fixes the list. Every change is one transaction with its audit
//! entry; the cap is counted under a lock on the campaign row.
//!
//! `package` writes the recommendation package (汇总表, 推荐表, the clean files) as a streamed
//! zip; `national` imports the national results.

pub mod national;
pub mod package;

use serde_json::json;

use crate::clock::unix_now;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::publicity::NewEntry;
use crate::db::recommendation::{self as db, NewPick, Recommended};
use crate::domain::campaign::SubProject;
use crate::domain::ids::{CampaignId, WorkId};
use crate::domain::publicity::PublicityKind;
use crate::domain::recommendation::{self as rules, Override};
use crate::domain::role::Role;
use crate::domain::text;
use crate::error::{AppError, Conflict};
use crate::service::acting::{Acting, current_campaign};
use crate::service::publicity::{self, DraftInput};
use crate::service::selection::{self, Ranked};

fn city_only(acting: &Acting) -> Result<(), AppError> {
    if acting.role == Role::CityAdmin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A judged sub-project's recommendation: its cap, the final ranking and the list.
pub struct SubList {
    pub code: String,
    pub name: String,
    pub cap: u32,
    /// The final round's name once it has closed (the list is picked from its ranking).
    pub final_round: Option<String>,
    /// Why no list can be picked yet (no round closed, or the last round still open).
    pub waiting: Option<String>,
    pub ranking: Vec<Ranked>,
    pub picks: Vec<Recommended>,
    /// The 公示 drafted from the list; the list is fixed once it is set.
    pub publicity_id: Option<i64>,
}

impl SubList {
    pub fn is_picked(&self, work: &WorkId) -> bool {
        self.picks.iter().any(|p| p.work_id == *work)
    }

    /// Works still listed (not withdrawn by the 公示).
    pub fn listed(&self) -> usize {
        self.picks
            .iter()
            .filter(|p| p.withdrawn_reason.is_none())
            .count()
    }
}

/// The final ranking of a judged sub-project, or why there is none yet.
async fn final_ranking(
    db: &Db,
    sub: &SubProject,
) -> Result<Result<(String, Vec<Ranked>), String>, AppError> {
    let Some(last) = sub.rounds.last() else {
        return Ok(Err("该子项目没有评审轮次".into()));
    };
    match selection::final_ranking(db, &sub.code).await? {
        Some((code, ranking)) if code == last.code => Ok(Ok((last.name.clone(), ranking))),
        Some(_) | None => Ok(Err(format!(
            "{}尚未结束：结束后才能从其排名中选出推荐名单",
            last.name
        ))),
    }
}

pub async fn overview(db: &Db, acting: &Acting) -> Result<Vec<SubList>, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let id = CampaignId(campaign.id);
    let mut out = Vec::new();
    for sub in campaign
        .campaign
        .sub_projects
        .iter()
        .filter(|s| !s.rounds.is_empty())
    {
        let (final_round, waiting, ranking) = match final_ranking(db, sub).await? {
            Ok((name, ranking)) => (Some(name), None, ranking),
            Err(why) => (None, Some(why), Vec::new()),
        };
        let picks = db::list(db, id, &sub.code).await?;
        out.push(SubList {
            code: sub.code.clone(),
            name: sub.name.clone(),
            cap: sub.recommend_cap(),
            final_round,
            waiting,
            ranking,
            publicity_id: picks.iter().find_map(|p| p.publicity_id),
            picks,
        });
    }
    Ok(out)
}

/// The sub-project and its final ranking, or the Chinese reason why nothing can be picked.
async fn ready<'a>(
    db: &Db,
    campaign: &'a StoredCampaign,
    code: &str,
) -> Result<(&'a SubProject, Vec<Ranked>), AppError> {
    let sub = selection::judged(campaign, code)?;
    match final_ranking(db, sub).await? {
        Ok((_, ranking)) => Ok((sub, ranking)),
        Err(why) => Err(AppError::conflict(Conflict::WrongState, why)),
    }
}

fn fixed() -> AppError {
    AppError::conflict(
        Conflict::WrongState,
        "该子项目的推荐名单已生成公示，不能再修改（如需调整，请通过公示的异议处理撤下作品）",
    )
}

fn full(cap: u32) -> AppError {
    AppError::conflict(
        Conflict::TooManyOpen,
        format!("推荐名额为 {cap} 个，已经选满；请先移出一件再推荐"),
    )
}

/// Picks one work. An override needs `reason` (4–500 characters); an in-order pick keeps a
/// reason given but does not need one.
pub async fn pick(
    db: &Db,
    acting: &Acting,
    code: &str,
    work: WorkId,
    reason: &str,
) -> Result<Option<Override>, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let (sub, ranking) = ready(db, &campaign, code).await?;
    let reason = text::line(reason, rules::MAX_REASON_CHARS)
        .map_err(|m| AppError::invalid("reason", format!("推荐理由{m}")))?;
    let order: Vec<WorkId> = ranking.iter().map(|r| r.work_id).collect();
    let id = CampaignId(campaign.id);
    let cap = sub.recommend_cap();
    let mut tx = db.begin().await?;
    db::lock_campaign(&mut tx, id).await?;
    if db::fixed_in_sub(&mut tx, id, code).await? {
        return Err(fixed());
    }
    let recommended = db::ids_in_sub(&mut tx, id, code).await?;
    if recommended.contains(&work) {
        return Err(AppError::conflict(
            Conflict::AlreadyExists,
            "该作品已在推荐名单中",
        ));
    }
    if recommended.len() >= cap as usize {
        return Err(full(cap));
    }
    let Some(found) = db::pickable(&mut tx, id, code, work).await? else {
        return Err(AppError::invalid(
            "work_id",
            format!("作品 {work} 不是“{}”中审核通过的作品，不能推荐", sub.name),
        ));
    };
    let over = rules::override_of(&order, &recommended, work);
    if let Some(o) = over
        && reason.chars().count() < rules::MIN_REASON_CHARS
    {
        return Err(AppError::invalid(
            "reason",
            format!(
                "该作品{}，请写明推荐理由（至少 {} 个字）",
                o.label_zh(),
                rules::MIN_REASON_CHARS
            ),
        ));
    }
    let ranked = ranking.iter().find(|r| r.work_id == work);
    db::insert(
        &mut tx,
        &NewPick {
            campaign_id: id,
            sub_project: code,
            work_id: work,
            rank: ranked.map(|r| r.rank),
            score_centi: ranked.map(|r| (r.score * 100.0).round() as i64),
            reason: (!reason.is_empty()).then_some(reason.as_str()),
            by: Some(acting.user_id),
            at: unix_now(),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "recommendation.pick",
            object_type: "work",
            object_id: work.to_string(),
            before: None,
            after: Some(json!({
                "sub_project": code,
                "title": found.title,
                "rank": ranked.map(|r| r.rank),
                "override": over.map(Override::label_zh),
                "reason": reason,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(over)
}

/// Fills the list from the ranking: the best-ranked works not yet on it, up to the cap.
/// Returns how many were added.
pub async fn fill(db: &Db, acting: &Acting, code: &str) -> Result<usize, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let (sub, ranking) = ready(db, &campaign, code).await?;
    let order: Vec<WorkId> = ranking.iter().map(|r| r.work_id).collect();
    let id = CampaignId(campaign.id);
    let cap = sub.recommend_cap();
    let mut tx = db.begin().await?;
    db::lock_campaign(&mut tx, id).await?;
    if db::fixed_in_sub(&mut tx, id, code).await? {
        return Err(fixed());
    }
    let recommended = db::ids_in_sub(&mut tx, id, code).await?;
    if recommended.len() >= cap as usize {
        return Err(full(cap));
    }
    let adding = rules::fill(&order, &recommended, cap as usize);
    let at = unix_now();
    for work in &adding {
        let ranked = ranking.iter().find(|r| r.work_id == *work);
        db::insert(
            &mut tx,
            &NewPick {
                campaign_id: id,
                sub_project: code,
                work_id: *work,
                rank: ranked.map(|r| r.rank),
                score_centi: ranked.map(|r| (r.score * 100.0).round() as i64),
                reason: None,
                by: Some(acting.user_id),
                at,
            },
        )
        .await?;
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "recommendation.fill",
            object_type: "sub_project",
            object_id: code.to_string(),
            before: Some(json!({ "count": recommended.len() })),
            after: Some(json!({ "count": recommended.len() + adding.len(), "added": adding })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(adding.len())
}

/// Takes a work off a list not yet on a 公示.
pub async fn remove(db: &Db, acting: &Acting, work: WorkId) -> Result<String, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let id = CampaignId(campaign.id);
    let mut tx = db.begin().await?;
    db::lock_campaign(&mut tx, id).await?;
    let Some(code) = db::delete(&mut tx, id, work).await? else {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            "该作品不在推荐名单中，或名单已生成公示，不能移出；请刷新页面",
        ));
    };
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "recommendation.remove",
            object_type: "work",
            object_id: work.to_string(),
            before: Some(json!({ "sub_project": code })),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// The 公示 entry of a recommended work: its sub-project and, when ranked, its place.
fn entry_detail(sub: &SubProject, final_round: &str, p: &Recommended) -> String {
    match p.rank {
        Some(rank) => format!("{}（{final_round}第 {rank} 名）", sub.name),
        None => sub.name.clone(),
    }
}

/// Drafts the 公示 of a sub-project's list and fixes the list, in one transaction.
pub async fn draft_publicity(
    db: &Db,
    acting: &Acting,
    code: &str,
    input: &DraftInput,
) -> Result<i64, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let sub = selection::judged(&campaign, code)?;
    let final_round = sub.rounds.last().map_or("", |r| r.name.as_str());
    let id = CampaignId(campaign.id);
    let list = db::list(db, id, code).await?;
    let entries: Vec<NewEntry> = list
        .iter()
        .map(|p| NewEntry {
            subject_kind: "work",
            subject_id: p.work_id.get(),
            title: p.title.clone(),
            unit: p.unit.clone(),
            detail: entry_detail(sub, final_round, p),
        })
        .collect();
    if entries.is_empty() {
        return Err(AppError::invalid("works", "推荐名单为空：请先选出推荐作品"));
    }
    let mut tx = db.begin().await?;
    db::lock_campaign(&mut tx, id).await?;
    if db::fixed_in_sub(&mut tx, id, code).await? {
        return Err(fixed());
    }
    // The list read above must still be the list: a pick in between makes the admin look again.
    let mut now = db::ids_in_sub(&mut tx, id, code).await?;
    let mut seen: Vec<WorkId> = list.iter().map(|p| p.work_id).collect();
    now.sort();
    seen.sort();
    if now != seen {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            "推荐名单刚被修改，请刷新页面核对后再生成公示",
        ));
    }
    let publicity_id = publicity::create_in(
        &mut tx,
        &acting.actor,
        id,
        PublicityKind::Works,
        input,
        &entries,
    )
    .await?;
    db::set_publicity(&mut tx, id, code, publicity_id).await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "recommendation.publicise",
            object_type: "sub_project",
            object_id: code.to_string(),
            before: None,
            after: Some(json!({ "publicity": publicity_id, "works": seen })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(publicity_id)
}
