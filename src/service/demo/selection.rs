//! Demo selection: micro-videos filed by the demo admins for their units and accepted, nine
//! reviewer accounts in the micro-video pool, the first round opened and assigned (k from the
//! campaign, conflict-free and balanced by `domain::assignment`), and about three quarters of
//! the score sheets submitted, from reviewers of different strictness, so the review pages and
//! the ranking have something to show. The demo works have measurements but no stored file.

use rand::Rng;
use rand::rngs::StdRng;

use crate::db::Tx;
use crate::db::campaigns::StoredCampaign;
use crate::db::demo as demo_db;
use crate::db::selection as sel;
use crate::db::users::{self, NewUser};
use crate::db::works::{self, NewWork};
use crate::domain::assignment;
use crate::domain::campaign::Participation;
use crate::domain::ids::OrgId;
use crate::domain::role::Role;
use crate::domain::selection::weighted_score;
use crate::error::{AppError, Doing};

/// What the demo selection made.
#[derive(Debug, Default, Clone)]
pub struct Made {
    pub works: usize,
    pub reviewers: Vec<String>,
    pub assignments: usize,
    pub scores: usize,
}

const TITLES: [&str; 12] = [
    "战疫一线的守护者",
    "复工复产第一天",
    "车间里的绝活",
    "网络安全在身边",
    "快递小哥的春天",
    "护士长的日记",
    "匠心传承",
    "我的劳动我的歌",
    "文明上网从我做起",
    "夜班公交",
    "社区里的志愿者",
    "港口的早晨",
];

pub(super) async fn insert_selection(
    tx: &mut Tx,
    campaign: &StoredCampaign,
    admins: &[(String, String)],
    city: OrgId,
    hash: &str,
    rng: &mut StdRng,
) -> Result<Made, AppError> {
    let Some(sub) = campaign
        .campaign
        .sub_projects
        .iter()
        .find(|s| s.participation == Participation::Wangju && !s.rounds.is_empty())
    else {
        return Ok(Made::default());
    };
    let Some(first) = sub.rounds.first() else {
        return Ok(Made::default());
    };
    if demo_db::count_rounds(tx).await? > 0 || admins.is_empty() {
        return Ok(Made::default());
    }
    let mut made = Made::default();
    for i in 0..60usize {
        let (login, unit) = &admins[i % admins.len()];
        let Some((owner, org)) = demo_db::user_and_org(tx, login).await? else {
            continue;
        };
        let upload_id = format!("demo-{:04}", i + 1);
        let duration = 60 + rng.random_range(0..110);
        let report = serde_json::json!({"probe": {"duration_seconds": duration, "display_width": 1920, "display_height": 1080, "size_bytes": 30_000_000}, "errors": [], "warnings": []}).to_string();
        demo_db::insert_checked_upload(
            tx,
            demo_db::CheckedUpload {
                id: &upload_id,
                owner,
                campaign_id: campaign.id,
                sub_project: &sub.code,
                file_name: &format!("{upload_id}.mp4"),
                size_bytes: 30_000_000,
                report: &report,
            },
        )
        .await?;
        let title = format!("{}（{}）", TITLES[i % TITLES.len()], i + 1);
        let description = format!("{unit}职工拍摄的微视频，讲述身边的正能量故事。");
        let authors = serde_json::json!([format!("演示作者{}", i + 1)]).to_string();
        let work = works::insert_work(
            tx,
            NewWork {
                campaign_id: campaign.id,
                sub_project: &sub.code,
                org_id: org,
                owner_id: owner,
                filed_by: owner,
                title: &title,
                authors: &authors,
                contact_phone: "13800000000",
                description: &description,
                upload_id: &upload_id,
                originality_version: "demo",
                portrait_version: "demo",
                subtitles_declared: true,
            },
        )
        .await?;
        works::decide(tx, work, "accepted", "演示：符合征集要求", owner).await?;
        made.works += 1;
    }
    let mut pool = Vec::new();
    for i in 1..=9 {
        let login = format!("demo-reviewer-{i:02}");
        let id = match demo_db::user_and_org(tx, &login).await? {
            Some((id, _)) => id,
            None => {
                users::insert(
                    tx,
                    NewUser {
                        login: &login,
                        display_name: &format!("演示评审专家{i}"),
                        phone: None,
                        role: Role::Reviewer,
                        org_id: city,
                        password_hash: hash,
                        must_change_password: true,
                    },
                )
                .await?
            }
        };
        sel::pool_add(tx, id, campaign.id, &sub.code, None).await?;
        pool.push(assignment::Reviewer {
            id,
            conflict_paths: Vec::new(),
            conflict_persons: Vec::new(),
        });
        made.reviewers.push(login);
    }
    let round = sel::insert_round(tx, campaign.id, &sub.code, &first.code, 1, None).await?;
    sel::add_accepted(tx, round, campaign.id, &sub.code).await?;
    let items: Vec<assignment::Work> = sel::round_works(tx, round)
        .await?
        .into_iter()
        .map(|w| assignment::Work {
            id: w.work_id,
            org_path: w.org_path,
            owner: w.owner_id,
        })
        .collect();
    let pairs = assignment::assign(&items, &pool, first.reviewers_per_work as usize, &[])
        .map_err(|s| format!("{} works short of reviewers", s.len()))
        .doing("assigning the demo reviewers")?;
    for (work, reviewer) in &pairs {
        sel::assign(tx, round, *work, *reviewer, None).await?;
    }
    made.assignments = pairs.len();
    // Each reviewer has a leniency; a quarter of the sheets stay open.
    let ids: Vec<(i64, crate::domain::ids::UserId)> = sel::round_assignment_ids(tx, round).await?;
    for (id, reviewer) in ids {
        if rng.random_range(0..4) == 0 {
            continue;
        }
        let bias = reviewer.get() % 3 - 1;
        let scores: Vec<u32> = first
            .criteria
            .iter()
            .map(|c| {
                let mid = i64::from(c.max) * 6 / 10 + bias;
                (mid + rng.random_range(-2..=2)).clamp(1, i64::from(c.max) - 1) as u32
            })
            .collect();
        let score = weighted_score(&first.criteria, &scores);
        let json = serde_json::to_string(&scores.iter().map(|s| Some(*s)).collect::<Vec<_>>())
            .doing("encoding demo scores")?;
        sel::save_sheet(
            tx,
            sel::Save {
                id,
                reviewer,
                submit: true,
                scores: &json,
                comment: "演示评语：主题鲜明，画面清楚。",
                score_centi: Some((score * 100.0).round() as i64),
            },
        )
        .await?;
        made.scores += 1;
    }
    Ok(made)
}
