//! The showcase: public pages of accepted works and confirmed activities, shown only by choice.
//!
//! A work is public when its author (or an admin of its unit) chose to show it *and* moderation
//! accepted it; an activity when its unit chose to show it *and* the city confirmed it. Either
//! condition lapsing takes it off at once (the queries check both). The choice is audited.
//! What is shown: title, authors' names, unit, sub-project, description, the metadata-free copy
//! and, for activities, the report's write-up, photos and news links — never a phone, a login
//! or the owner account.

use serde::Serialize;

use crate::db::audit::{self, Event};
use crate::db::reach::{self as db, Kind, PublicActivity, PublicWork};
use crate::db::{Db, orgs, photos};
use crate::domain::activity::{ActivityInput, Status};
use crate::domain::ids::{ActivityId, WorkId};
use crate::domain::role::Role;
use crate::domain::work::WorkStatus;
use crate::error::{AppError, Doing};
use crate::service::acting::Acting;
use crate::service::works::ServedFile;
use crate::store::FileStore;

/// Most works (and most activities) one list shows.
pub const MAX_LISTED: i64 = 200;
/// Longest filter value taken from a query string.
pub const MAX_FILTER: usize = 64;

/// The list's filters (empty: any).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub sub_project: String,
    /// An org id of a district (or any unit): its subtree.
    #[serde(default)]
    pub district: String,
    /// A content category (theme) of the campaign, for activities.
    #[serde(default)]
    pub theme: String,
}

/// A work card or page.
#[derive(Debug, Clone, Serialize)]
pub struct WorkCard {
    pub id: i64,
    pub title: String,
    pub authors: Vec<String>,
    pub unit: String,
    pub sub_project: String,
    pub sub_project_name: String,
    pub description: String,
    pub is_video: bool,
    pub is_image: bool,
    pub is_audio: bool,
    /// A video's poster image was made (served at `/showcase/works/{id}/poster.jpg`).
    pub has_poster: bool,
    /// A national or selection award, when one is recorded (none yet).
    pub award: Option<String>,
}

/// An activity card or page.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityCard {
    pub id: i64,
    pub name: String,
    pub unit: String,
    pub date: String,
    pub place: String,
    pub format: String,
    pub themes: Vec<String>,
    pub summary: String,
    /// News links as given, only `http(s)://` ones.
    pub news_links: Vec<String>,
    pub photo_ids: Vec<i64>,
}

fn work_card(campaign: &crate::db::campaigns::StoredCampaign, w: PublicWork) -> WorkCard {
    let media = w.media_type.clone().unwrap_or_default();
    let sub_project_name = campaign
        .campaign
        .sub_projects
        .iter()
        .find(|s| s.code == w.sub_project)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| w.sub_project.clone());
    WorkCard {
        id: w.id,
        title: w.title,
        authors: serde_json::from_str(&w.authors).unwrap_or_default(),
        unit: w.org_name,
        sub_project: w.sub_project,
        sub_project_name,
        description: w.description,
        is_video: media.starts_with("video/"),
        is_image: media.starts_with("image/"),
        is_audio: media.starts_with("audio/"),
        has_poster: w.poster_key.is_some(),
        award: None,
    }
}

fn activity_card(a: PublicActivity, photo_ids: Vec<i64>) -> ActivityCard {
    let input: ActivityInput = serde_json::from_str(&a.document).unwrap_or_default();
    let news_links = input
        .news_links
        .split_whitespace()
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
        .filter(|l| l.len() <= 2_000 && !l.contains(['"', '<', '>']))
        .map(str::to_string)
        .collect();
    ActivityCard {
        id: a.id,
        name: a.name,
        unit: a.org_name,
        date: a.starts_at.get(..10).unwrap_or(&a.starts_at).to_string(),
        place: input.place,
        format: input.format,
        themes: input.categories,
        summary: input.summary,
        news_links,
        photo_ids,
    }
}

/// A district (or other top-level unit) to filter by.
#[derive(Debug, Clone, Serialize)]
pub struct District {
    pub id: i64,
    pub name: String,
}

/// The units right under the city union, for the district filter.
pub async fn districts(db: &Db) -> Result<Vec<District>, AppError> {
    let all = orgs::list(db, &orgs::Scope::everything(), None).await?;
    let top = all.iter().map(|o| o.depth).min().unwrap_or(0);
    Ok(all
        .into_iter()
        .filter(|o| o.depth == top + 1)
        .map(|o| District {
            id: o.id.get(),
            name: o.name,
        })
        .collect())
}

async fn under(db: &Db, filter: &Filter) -> Result<String, AppError> {
    let Some(id) = filter
        .district
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
    else {
        return Ok("/".into());
    };
    let org = orgs::get_by_id(db, crate::domain::ids::OrgId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(org.path)
}

/// The public list: works and activities matching the filter.
pub async fn list(
    db: &Db,
    campaign: &crate::db::campaigns::StoredCampaign,
    filter: &Filter,
) -> Result<(Vec<WorkCard>, Vec<ActivityCard>), AppError> {
    let under = under(db, filter).await?;
    let works = if filter.theme.is_empty() {
        db::public_works(db, campaign.id, &under, &filter.sub_project, MAX_LISTED)
            .await?
            .into_iter()
            .map(|w| work_card(campaign, w))
            .collect()
    } else {
        Vec::new()
    };
    let activities = if filter.sub_project.is_empty() {
        let mut out = Vec::new();
        for a in db::public_activities(db, campaign.id, &under, MAX_LISTED).await? {
            let photo_ids = photos::for_activity(db, ActivityId(a.id))
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let card = activity_card(a, photo_ids);
            if filter.theme.is_empty() || card.themes.contains(&filter.theme) {
                out.push(card);
            }
        }
        out
    } else {
        Vec::new()
    };
    Ok((works, activities))
}

/// How long a node answers from memory whether a work is shown (and its card): the showcase
/// page, its video and poster are the campaign's most-visited addresses, and each would
/// otherwise read the database. A work hidden on this node goes at once; hidden on another
/// node, or no longer accepted, within this many seconds.
const SHOWN_SECONDS: u64 = 5;
/// Works remembered at most; past it the map starts again.
const SHOWN_KEPT: usize = 10_000;

/// Per node, the shown works recently asked for (a work not shown is remembered as such too,
/// so a flood of requests for one does not reach the database either).
#[derive(Default)]
pub struct ShownWorks {
    works: std::sync::Mutex<std::collections::HashMap<i64, ReadAt>>,
}

/// When a work was read, and what was found (none: not shown).
type ReadAt = (std::time::Instant, Option<std::sync::Arc<PublicWork>>);

impl ShownWorks {
    /// The shown work `id`, from memory when read within [`SHOWN_SECONDS`].
    pub async fn get(&self, db: &Db, id: i64) -> Result<std::sync::Arc<PublicWork>, AppError> {
        let now = std::time::Instant::now();
        let fresh = |at: &std::time::Instant| now.duration_since(*at).as_secs() < SHOWN_SECONDS;
        if let Ok(works) = self.works.lock()
            && let Some((at, work)) = works.get(&id)
            && fresh(at)
        {
            return work.clone().ok_or(AppError::NotFound);
        }
        let work = db::public_work(db, id).await?.map(std::sync::Arc::new);
        if let Ok(mut works) = self.works.lock() {
            if works.len() >= SHOWN_KEPT {
                works.clear();
            }
            works.insert(id, (now, work.clone()));
        }
        work.ok_or(AppError::NotFound)
    }

    /// Forgets `id` (shown or hidden on this node just now).
    pub fn forget(&self, id: i64) {
        if let Ok(mut works) = self.works.lock() {
            works.remove(&id);
        }
    }
}

pub async fn work(
    db: &Db,
    shown: &ShownWorks,
    campaign: &crate::db::campaigns::StoredCampaign,
    id: i64,
) -> Result<WorkCard, AppError> {
    let w = shown.get(db, id).await?;
    Ok(work_card(campaign, (*w).clone()))
}

pub async fn activity(db: &Db, id: i64) -> Result<ActivityCard, AppError> {
    let a = db::public_activity(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let photo_ids = photos::for_activity(db, ActivityId(id))
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    Ok(activity_card(a, photo_ids))
}

fn not_found_as_missing(e: crate::store::StoreError) -> AppError {
    if e.is_not_found() {
        AppError::NotFound
    } else {
        AppError::Internal(e.into())
    }
}

/// A shown work's metadata-free copy.
pub async fn work_file(
    db: &Db,
    shown: &ShownWorks,
    store: &FileStore,
    id: i64,
) -> Result<ServedFile, AppError> {
    let w = shown.get(db, id).await?;
    let key = w.clean_key.clone().ok_or(AppError::NotFound)?;
    let size = store.size(&key).await.map_err(not_found_as_missing)?;
    let media_type = w
        .media_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let ext = match media_type.as_str() {
        "video/mp4" => "mp4",
        "audio/mp4" => "m4a",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "audio/mpeg" => "mp3",
        _ => "bin",
    };
    Ok(ServedFile {
        key,
        size,
        media_type,
        download_name: format!("showcase-{id}.{ext}"),
    })
}

/// A shown video's poster image.
pub async fn work_poster(
    db: &Db,
    shown: &ShownWorks,
    store: &FileStore,
    id: i64,
) -> Result<ServedFile, AppError> {
    let w = shown.get(db, id).await?;
    let key = w.poster_key.clone().ok_or(AppError::NotFound)?;
    let size = store.size(&key).await.map_err(not_found_as_missing)?;
    Ok(ServedFile {
        key,
        size,
        media_type: "image/jpeg".into(),
        download_name: format!("showcase-{id}-poster.jpg"),
    })
}

/// A photo (or its thumbnail) of a shown activity.
pub async fn photo(
    db: &Db,
    store: &FileStore,
    activity_id: i64,
    photo_id: i64,
    thumb: bool,
) -> Result<ServedFile, AppError> {
    db::public_activity(db, activity_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = photos::get(db, ActivityId(activity_id), photo_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let key = if thumb { row.thumb_key } else { row.image_key };
    let size = store.size(&key).await.map_err(not_found_as_missing)?;
    Ok(ServedFile {
        key,
        size,
        media_type: "image/jpeg".into(),
        download_name: format!("showcase-activity-{activity_id}-{photo_id}.jpg"),
    })
}

/// Whether an item is chosen for the showcase (for the owner's pages).
pub async fn is_shown(db: &Db, kind: Kind, id: i64) -> Result<bool, AppError> {
    Ok(db::is_shown(db, kind, id).await?)
}

/// The author or an admin of the work's unit chooses whether to show it. Returns whether it
/// is public now (shown and accepted).
pub async fn set_work_shown(
    db: &Db,
    acting: &Acting,
    id: WorkId,
    show: bool,
) -> Result<bool, AppError> {
    let work = crate::service::works::get(db, acting, id).await?;
    let own = work.row.owner_id == acting.user_id;
    let unit_admin = matches!(
        acting.role,
        Role::CityAdmin | Role::UnitAdmin | Role::GrassrootsAdmin
    );
    if !own && !unit_admin {
        return Err(AppError::Forbidden);
    }
    let campaign = crate::service::acting::current_campaign(db).await?;
    set(db, acting, Kind::Work, id.get(), campaign.id, show).await?;
    Ok(show && work.status() == WorkStatus::Accepted)
}

/// A unit admin chooses whether to show an activity of its subtree. Returns whether it is
/// public now (shown and confirmed).
pub async fn set_activity_shown(
    db: &Db,
    acting: &Acting,
    id: ActivityId,
    show: bool,
) -> Result<bool, AppError> {
    if !acting.role.may_report_activities() {
        return Err(AppError::Forbidden);
    }
    let activity = crate::service::activities::get(db, acting, id).await?;
    set(
        db,
        acting,
        Kind::Activity,
        id.get(),
        activity.row.campaign_id,
        show,
    )
    .await?;
    Ok(show && activity.status() == Status::Confirmed)
}

async fn set(
    db: &Db,
    acting: &Acting,
    kind: Kind,
    id: i64,
    campaign_id: i64,
    show: bool,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let changed = if show {
        db::show(
            &mut tx,
            kind,
            id,
            campaign_id,
            acting.user_id,
            crate::clock::unix_now(),
        )
        .await?
    } else {
        db::hide(&mut tx, kind, id).await?
    };
    if changed {
        audit::append(
            &mut tx,
            &acting.actor,
            Event {
                action: if show {
                    "showcase.show"
                } else {
                    "showcase.hide"
                },
                object_type: kind.code(),
                object_id: id.to_string(),
                before: Some(serde_json::json!({ "shown": !show })),
                after: Some(serde_json::json!({ "shown": show })),
            },
        )
        .await?;
    }
    tx.commit().await.doing("saving a showcase choice")?;
    Ok(())
}
