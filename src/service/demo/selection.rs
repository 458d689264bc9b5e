//! Demo selection: micro-videos filed by the demo admins for their units and accepted, nine
//! reviewer accounts in the micro-video pool, the first round opened and assigned (k from the
//! campaign, conflict-free and balanced by `domain::assignment`), and about three quarters of
//! the score sheets submitted, from reviewers of different strictness, so the review pages and
//! the ranking have something to show.
//!
//! Every demo work has a real file: the same 3-second 320×180 MP4 (`demo-work.mp4`, 15 KB,
//! blue frame reading “演示作品 · 网聚 / DEMO”, a 440 Hz tone, no metadata), stored once per
//! work under `demo/works/<upload>.mp4` as both the original and the clean copy, so the review
//! sheet plays it, the showcase shows it and the recommendation package carries it. Its upload
//! report states the file's true measurements and says it is a demo file. The seeding records
//! the keys in its transaction; [`store_files`] writes the bytes (`wangju demo seed` calls it
//! after the commit, and again harmlessly on any later run).

use rand::Rng;
use rand::rngs::StdRng;

use crate::db::campaigns::StoredCampaign;
use crate::db::demo as demo_db;
use crate::db::selection as sel;
use crate::db::users::{self, NewUser};
use crate::db::works::{self, NewWork};
use crate::db::{Db, Tx};
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

/// The demo works' file (see the module comment).
pub const DEMO_VIDEO: &[u8] = include_bytes!("demo-work.mp4");
/// Where the demo works' files are kept in the file store.
pub const DEMO_KEY_PREFIX: &str = "demo/works/";

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
        let size = DEMO_VIDEO.len() as i64;
        let report = serde_json::json!({"probe": {"duration_seconds": 3.0, "display_width": 320, "display_height": 180, "size_bytes": size}, "errors": [], "warnings": [], "demo": "演示文件：3 秒示例视频，不是真实作品"}).to_string();
        demo_db::insert_checked_upload(
            tx,
            demo_db::CheckedUpload {
                id: &upload_id,
                owner,
                campaign_id: campaign.id,
                sub_project: &sub.code,
                file_name: &format!("{upload_id}.mp4"),
                size_bytes: size,
                report: &report,
            },
        )
        .await?;
        sel::set_demo_file(tx, &upload_id, &format!("{DEMO_KEY_PREFIX}{upload_id}.mp4")).await?;
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
    sel::assign_all(tx, round, &pairs, None).await?;
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

/// The demo video's poster, made from the bundled file (Wangju's own file, so in this process
/// rather than the child process uploads get).
fn demo_poster() -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("demo-work.mp4");
    std::fs::write(&path, DEMO_VIDEO).ok()?;
    crate::media::poster::poster_jpeg(&path).ok()
}

/// Writes the demo works' file (and its poster) under every demo key the database names that
/// the file store does not hold yet; how many videos were written. Cheap: 60 files of 15 KB on
/// the city demo.
pub async fn store_files(db: &Db, store: &crate::store::FileStore) -> Result<usize, AppError> {
    let mut written = 0;
    let keys = sel::demo_file_keys(db, DEMO_KEY_PREFIX).await?;
    if let Some(poster) = tokio::task::spawn_blocking(demo_poster)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
    {
        for key in &keys {
            let poster_key = format!("{key}.poster.jpg");
            if store.size(&poster_key).await.is_err() {
                store
                    .put_bytes(&poster_key, poster.clone())
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?;
            }
        }
        sel::demo_set_posters(db, DEMO_KEY_PREFIX).await?;
    }
    for key in keys {
        match store.size(&key).await {
            Ok(size) if size == DEMO_VIDEO.len() as u64 => continue,
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(AppError::Internal(e.into())),
        }
        store
            .put_bytes(&key, DEMO_VIDEO.to_vec())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        written += 1;
    }
    Ok(written)
}
