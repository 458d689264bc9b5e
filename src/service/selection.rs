//! Selection (评选) use cases: the city's reviewer pools and conflicts, opening a sub-project's
//! first round, the automatic assignment (and its re-run when a reviewer drops out), moving an
//! assignment by hand, the reviewer's blind score sheet, and closing a round, which freezes its
//! ranking and advances works by the round's rule into the next one.
//!
//! The seam for the recommendation step: [`final_ranking`] returns the ranking of a
//! sub-project's last closed round.

use serde::Serialize;

use crate::clock::Clock;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::selection::{self as db, Frozen, ReviewerRow, RoundRow, Save, SheetRow};
use crate::db::users;
use crate::domain::assignment::{self, Shortfall};
use crate::domain::campaign::{Participation, Round, SubProject};
use crate::domain::ids::{OrgId, UserId, WorkId};
use crate::domain::role::Role;
use crate::domain::selection::{self as rules, ScoreSheet, Scored, WorkResult};
use crate::error::{AppError, Conflict, FieldError};
use crate::service::acting::{Acting, current_campaign};

fn city_only(acting: &Acting) -> Result<(), AppError> {
    if acting.role == Role::CityAdmin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The sub-project `code` of the campaign, when it has review rounds.
pub fn judged<'a>(campaign: &'a StoredCampaign, code: &str) -> Result<&'a SubProject, AppError> {
    campaign
        .campaign
        .sub_projects
        .iter()
        .find(|s| {
            s.code == code && s.participation == Participation::Wangju && !s.rounds.is_empty()
        })
        .ok_or(AppError::NotFound)
}

/// The definition of a stored round.
pub fn definition<'a>(
    campaign: &'a StoredCampaign,
    round: &RoundRow,
) -> Result<&'a Round, AppError> {
    judged(campaign, &round.sub_project)?
        .rounds
        .iter()
        .find(|r| r.code == round.round_code)
        .ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------------------------------------
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
async fn candidates(db: &Db, pool: &[ReviewerRow]) -> Result<Vec<assignment::Reviewer>, AppError> {
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

// ---------------------------------------------------------------------------------------------
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
async fn assign_in(
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
    for (work, reviewer) in &added {
        db::assign(tx, round_id, *work, *reviewer, None).await?;
    }
    Ok(added.len())
}

fn shortfall_error(short: Vec<Shortfall>) -> AppError {
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

// ---------------------------------------------------------------------------------------------
// Blind scoring.

/// A reviewer's assignment as shown to them: what blind review may show, nothing else.
#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    pub id: i64,
    pub status: String,
    pub round_name: String,
    pub round_open: bool,
    pub window: String,
    pub title: String,
    pub description: String,
    pub media_type: Option<String>,
    /// The measurements of the clean copy (duration, resolution, …) as label and value.
    pub measurements: Vec<(String, String)>,
    pub criteria: Vec<rules::Criterion>,
    pub scores: Vec<Option<u32>>,
    pub comment: String,
    #[serde(skip)]
    pub clean_key: Option<String>,
}

fn measurements(report: Option<&str>) -> Vec<(String, String)> {
    let Some(v) = report.and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok()) else {
        return Vec::new();
    };
    let probe = v.get("probe").unwrap_or(&v);
    let mut out = Vec::new();
    let num = |k: &str| probe.get(k).and_then(serde_json::Value::as_f64);
    if let Some(d) = num("duration_seconds") {
        out.push(("时长".into(), format!("{d:.1} 秒")));
    }
    if let (Some(w), Some(h)) = (num("display_width"), num("display_height")) {
        out.push(("画面".into(), format!("{w}×{h}")));
    } else if let (Some(w), Some(h)) = (num("width"), num("height")) {
        out.push(("画面".into(), format!("{w}×{h}")));
    }
    if let Some(s) = num("size_bytes") {
        out.push(("大小".into(), format!("{:.1} MB", s / 1_048_576.0)));
    }
    out
}

async fn own_sheet(
    db: &Db,
    acting: &Acting,
    id: i64,
) -> Result<(SheetRow, StoredCampaign), AppError> {
    let row = db::sheet(db, id).await?.ok_or(AppError::NotFound)?;
    if row.reviewer_id != acting.user_id {
        return Err(AppError::NotFound);
    }
    let campaign = current_campaign(db).await?;
    if campaign.id != row.campaign_id {
        return Err(AppError::NotFound);
    }
    Ok((row, campaign))
}

fn round_of<'a>(campaign: &'a StoredCampaign, row: &SheetRow) -> Result<&'a Round, AppError> {
    judged(campaign, &row.sub_project)?
        .rounds
        .iter()
        .find(|r| r.code == row.round_code)
        .ok_or(AppError::NotFound)
}

/// A reviewer's own assignment: 404 for anyone else's.
pub async fn sheet(db: &Db, acting: &Acting, id: i64) -> Result<Sheet, AppError> {
    let (row, campaign) = own_sheet(db, acting, id).await?;
    let round = round_of(&campaign, &row)?;
    let scores: Vec<Option<u32>> = row
        .scores
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| vec![None; round.criteria.len()]);
    Ok(Sheet {
        id: row.id,
        status: row.status.clone(),
        round_name: round.name.clone(),
        round_open: row.round_status == "open",
        window: format!("{} 至 {}", round.starts_on, round.ends_on),
        title: row.title.clone(),
        description: row.description.clone(),
        media_type: row.media_type.clone(),
        measurements: measurements(row.report.as_deref()),
        criteria: round.criteria.clone(),
        scores,
        comment: row.comment.clone(),
        clean_key: row.clean_key.clone(),
    })
}

/// A reviewer's assignments (titles only).
pub async fn mine(db: &Db, acting: &Acting) -> Result<Vec<db::MineRow>, AppError> {
    if acting.role != Role::Reviewer {
        return Err(AppError::Forbidden);
    }
    Ok(db::mine(db, acting.user_id).await?)
}

/// Saves a draft, or submits (which locks the sheet). Refused with nothing written when a
/// score is out of range, a comment is missing, the round is closed or outside its window.
pub async fn save(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    id: i64,
    sheet: &ScoreSheet,
    submit: bool,
) -> Result<(), AppError> {
    let (row, campaign) = own_sheet(db, acting, id).await?;
    let round = round_of(&campaign, &row)?;
    if row.round_status != "open" {
        return Err(AppError::conflict(
            Conflict::PhaseClosed,
            format!("{}已结束，不能再评分", round.name),
        ));
    }
    let today = clock.today();
    if today < round.starts_on || today > round.ends_on {
        return Err(AppError::conflict(
            Conflict::PhaseClosed,
            format!(
                "{}的评分时间是 {} 至 {}，今天不能评分",
                round.name, round.starts_on, round.ends_on
            ),
        ));
    }
    if row.status == "submitted" {
        return Err(AppError::conflict(
            Conflict::WrongState,
            "这份评分已提交，不能再修改",
        ));
    }
    let problems = rules::sheet_problems(&round.criteria, sheet, submit);
    if !problems.is_empty() {
        return Err(AppError::Invalid(
            problems
                .into_iter()
                .map(|(f, m)| FieldError::new(f, m))
                .collect(),
        ));
    }
    let score_centi = if submit {
        let full: Vec<u32> = sheet.scores.iter().map(|s| s.unwrap_or(0)).collect();
        Some((rules::weighted_score(&round.criteria, &full) * 100.0).round() as i64)
    } else {
        None
    };
    let scores = serde_json::to_string(&sheet.scores).map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = db.begin().await?;
    let saved = db::save_sheet(
        &mut tx,
        Save {
            id,
            reviewer: acting.user_id,
            submit,
            scores: &scores,
            comment: sheet.comment.trim(),
            score_centi,
        },
    )
    .await?;
    if !saved {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            "评审已结束或这份评分已提交，没有保存",
        ));
    }
    if submit {
        audit::append(
            &mut tx,
            &acting.actor,
            Event {
                action: "score.submit",
                object_type: "review_assignment",
                object_id: id.to_string(),
                before: None,
                after: Some(serde_json::json!({"score_centi": score_centi})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
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

fn compute(works: &[WorkId], scores: &[(WorkId, UserId, i64)]) -> Vec<WorkResult> {
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

// ---------------------------------------------------------------------------------------------
// Reviewer accounts from a spreadsheet.

/// A reviewer account made by an import, with its one-time password (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub login: String,
    pub display_name: String,
    pub password: String,
}

/// Reviewer accounts from a spreadsheet (columns 登录名, 姓名, 手机号, 所在单位, 评审子项目),
/// all or nothing: every row's problems are reported with its row number and nothing is
/// written until the whole file is right. A blank unit means the city union; sub-projects are
/// codes or names separated by 、 , ; or spaces.
pub async fn import_reviewers(
    db: &Db,
    acting: &Acting,
    table: &crate::office::tabular::Table,
) -> Result<Vec<Issued>, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let (Some(c_login), Some(c_name)) = (
        table.column(&["登录名", "login"]),
        table.column(&["姓名", "name", "display_name"]),
    ) else {
        return Err(AppError::invalid(
            "表头",
            "第一行须有“登录名”“姓名”两列（可选“手机号”“所在单位”“评审子项目”）",
        ));
    };
    let c_phone = table.column(&["手机号", "phone"]);
    let c_org = table.column(&["所在单位", "单位", "org"]);
    let c_subs = table.column(&["评审子项目", "子项目", "sub_projects"]);
    let cell = |cells: &Vec<String>, i: Option<usize>| {
        i.and_then(|i| cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let city = campaign
        .campaign
        .organisers
        .iter()
        .find(|o| o.kind == crate::domain::org::OrgKind::CityUnion)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    struct Row {
        login: String,
        name: String,
        phone: Option<String>,
        org: OrgId,
        subs: Vec<String>,
    }
    let mut errors = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if table.rows.is_empty() {
        errors.push(FieldError::new("文件", "文件里没有数据行"));
    }
    for (line, cells) in &table.rows {
        let at = format!("第 {line} 行");
        let before = errors.len();
        let login = cell(cells, Some(c_login));
        if !crate::service::accounts::valid_login(&login) {
            errors.push(FieldError::new(
                &at,
                format!("登录名“{login}”须为 3 至 64 个字母、数字或 . _ @ -"),
            ));
        } else if !seen.insert(login.clone()) {
            errors.push(FieldError::new(&at, format!("登录名“{login}”在文件中重复")));
        } else if users::by_login(db, &login).await?.is_some() {
            errors.push(FieldError::new(
                &at,
                format!("登录名“{login}”已被使用，请换一个"),
            ));
        }
        let name = crate::domain::text::name(
            &cell(cells, Some(c_name)),
            crate::domain::text::limits::PERSON_NAME,
        )
        .unwrap_or_else(|m| {
            errors.push(FieldError::new(&at, format!("姓名{m}")));
            String::new()
        });
        let phone = Some(cell(cells, c_phone)).filter(|p| !p.is_empty());
        if let Some(p) = &phone
            && !crate::domain::mask::valid_phone(p)
        {
            errors.push(FieldError::new(&at, format!("手机号“{p}”应为 11 位数字")));
        }
        let org_name = Some(cell(cells, c_org))
            .filter(|o| !o.is_empty())
            .unwrap_or_else(|| city.clone());
        let org = crate::db::orgs::find_by_name(db, &org_name).await?;
        if org.is_none() {
            errors.push(FieldError::new(
                &at,
                format!("所在单位“{org_name}”不在组织架构中，请先建立或改用已有的单位名称"),
            ));
        }
        let mut subs = Vec::new();
        for part in cell(cells, c_subs)
            .split(|c: char| matches!(c, '、' | ',' | '，' | ';' | '；') || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            match campaign
                .campaign
                .sub_projects
                .iter()
                .find(|s| (s.code == part || s.name == part) && !s.rounds.is_empty())
            {
                Some(s) if !subs.contains(&s.code) => subs.push(s.code.clone()),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    &at,
                    format!("“{part}”不是设有评审轮次的子项目"),
                )),
            }
        }
        if let (true, Some(org)) = (errors.len() == before, org) {
            rows.push(Row {
                login,
                name,
                phone,
                org: org.id,
                subs,
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut issued = Vec::new();
    let mut hashes = Vec::new();
    for row in &rows {
        let password = crate::service::accounts::one_time_password();
        hashes.push(crate::service::accounts::hash_password(&password).await?);
        issued.push(Issued {
            login: row.login.clone(),
            display_name: row.name.clone(),
            password,
        });
    }
    let mut tx = db.begin().await?;
    for (row, hash) in rows.iter().zip(&hashes) {
        let id = users::insert(
            &mut tx,
            users::NewUser {
                login: &row.login,
                display_name: &row.name,
                phone: row.phone.as_deref(),
                role: Role::Reviewer,
                org_id: row.org,
                password_hash: hash,
                must_change_password: true,
            },
        )
        .await
        .map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                AppError::invalid(
                    "登录名",
                    format!("登录名“{}”刚被占用，请换一个后重新导入", row.login),
                )
            } else {
                e.into()
            }
        })?;
        for code in &row.subs {
            db::pool_add(&mut tx, id, campaign.id, code, Some(acting.user_id)).await?;
        }
        audit::append(&mut tx, &acting.actor, Event {
            action: "user.create",
            object_type: "user",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({"login": row.login, "display_name": row.name, "role": Role::Reviewer.code(),
                "org_id": row.org, "sub_projects": row.subs, "via": "reviewer_import"})),
        })
        .await?;
    }
    tx.commit().await?;
    Ok(issued)
}
