//! Photos in activity reports: only the reporting unit (or the city) adds or removes them, while
//! the report can still be edited; each is checked and re-encoded without metadata, and a photo
//! that already appears in another report — the same or perceptually near — is flagged to the
//! approving admins.

use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::photos::{self, NewPhoto, PhotoRow};
use crate::domain::ids::ActivityId;
use crate::error::{AppError, Conflict, Doing};
use crate::media::photo::{self, NEAR, PhotoError};
use crate::service::accounts::random_token;
use crate::service::acting::Acting;
use crate::service::activities;
use crate::store::FileStore;

/// Most photos one report keeps.
pub const MAX_PER_ACTIVITY: i64 = 20;

/// A photo with where else it appears, as the viewer may see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Photo {
    #[serde(flatten)]
    pub row: PhotoRow,
    /// Other reports holding the same or a near picture; units outside the viewer's scope are
    /// named only as "another unit".
    pub reused_in: Vec<String>,
}

pub async fn list(
    db: &Db,
    acting: &Acting,
    activity_id: ActivityId,
) -> Result<Vec<Photo>, AppError> {
    activities::get(db, acting, activity_id).await?;
    let rows = photos::for_activity(db, activity_id).await?;
    let reuses = photos::reuses(db, activity_id).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut reused_in: Vec<String> = reuses
                .iter()
                .filter(|r| r.photo_id == row.id)
                .map(|r| {
                    if r.other_org_path.starts_with(&acting.scope.prefix) {
                        format!("“{}”（{}）", r.other_activity_name, r.other_org_name)
                    } else {
                        "管理范围以外单位的活动报告".to_string()
                    }
                })
                .collect();
            // Several photos of one other report: name the report once.
            reused_in.sort();
            reused_in.dedup();
            Photo { row, reused_in }
        })
        .collect())
}

/// Photos decoded at once, on this node. A process-wide bound like the argon2 pool's: it
/// limits memory, which belongs to the process, not to any one request.
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Adds one photo to a report. Returns its id.
pub async fn add(
    db: &Db,
    store: &FileStore,
    acting: &Acting,
    activity_id: ActivityId,
    bytes: Vec<u8>,
) -> Result<i64, AppError> {
    let activity = activities::get(db, acting, activity_id).await?;
    if !activities::may_edit(acting, &activity) {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!(
                "这个活动{}，只有报送单位在报告可修改时能添加照片",
                activity.status().label_zh()
            ),
        ));
    }
    // Decoding a large photo takes up to ~200 MB for a moment: at most DECODES at once, so a
    // burst of uploads queues instead of multiplying that.
    let permit = DECODES
        .acquire()
        .await
        .doing("waiting for a photo decoding slot")?;
    let prepared = tokio::task::spawn_blocking(move || photo::prepare(&bytes))
        .await
        .doing("preparing a photo off the async threads")?
        .map_err(|e: PhotoError| AppError::invalid("照片", e.to_string()))?;
    drop(permit);
    let key = random_token()[..32].to_string();
    let image_key = format!("photos/{key}.jpg");
    let thumb_key = format!("photos/{key}.thumb.jpg");
    let internal = AppError::from;
    store
        .put_bytes(&image_key, prepared.image)
        .await
        .map_err(internal)?;
    store
        .put_bytes(&thumb_key, prepared.thumb)
        .await
        .map_err(internal)?;
    // The hash is stored as the same 64 bits in a signed column.
    let dhash = i64::from_ne_bytes(prepared.dhash.to_ne_bytes());
    let mut tx = db.begin().await?;
    if photos::count(&mut tx, activity_id).await? >= MAX_PER_ACTIVITY {
        drop(tx);
        let _ = store.delete(&image_key).await;
        let _ = store.delete(&thumb_key).await;
        return Err(AppError::invalid(
            "照片",
            format!("每个活动最多 {MAX_PER_ACTIVITY} 张照片：请先删去不需要的"),
        ));
    }
    let id = photos::insert(
        &mut tx,
        NewPhoto {
            activity_id,
            image_key: &image_key,
            thumb_key: &thumb_key,
            width: i64::from(prepared.width),
            height: i64::from(prepared.height),
            dhash,
            uploaded_by: acting.user_id,
        },
    )
    .await?;
    let mut matches = 0;
    for (other, other_hash) in
        photos::hashes_elsewhere(&mut tx, activity.row.campaign_id, activity_id).await?
    {
        let d = photo::distance(prepared.dhash, u64::from_ne_bytes(other_hash.to_ne_bytes()));
        if d <= NEAR {
            photos::add_match(&mut tx, id, other, i64::from(d)).await?;
            matches += 1;
        }
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "photo.add",
            object_type: "activity",
            object_id: activity_id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "photo_id": id, "width": prepared.width, "height": prepared.height, "reused_elsewhere": matches,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn remove(
    db: &Db,
    store: &FileStore,
    acting: &Acting,
    activity_id: ActivityId,
    photo_id: i64,
) -> Result<(), AppError> {
    let activity = activities::get(db, acting, activity_id).await?;
    if !activities::may_edit(acting, &activity) {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!("这个活动{}，照片不能再删除", activity.status().label_zh()),
        ));
    }
    let mut tx = db.begin().await?;
    let removed = photos::delete(&mut tx, activity_id, photo_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "photo.remove",
            object_type: "activity",
            object_id: activity_id.to_string(),
            before: Some(serde_json::json!({"photo_id": photo_id})),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    let _ = store.delete(&removed.image_key).await;
    let _ = store.delete(&removed.thumb_key).await;
    Ok(())
}

/// The stored copy (or its thumbnail) of a photo in a report the viewer may see.
pub async fn file(
    db: &Db,
    store: &FileStore,
    acting: &Acting,
    activity_id: ActivityId,
    photo_id: i64,
    thumb: bool,
) -> Result<crate::service::works::ServedFile, AppError> {
    activities::get(db, acting, activity_id).await?;
    let row = photos::get(db, activity_id, photo_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let key = if thumb { row.thumb_key } else { row.image_key };
    let size = store.size(&key).await.map_err(|e| {
        if e.is_not_found() {
            AppError::NotFound
        } else {
            AppError::Internal(e.into())
        }
    })?;
    Ok(crate::service::works::ServedFile {
        key,
        size,
        media_type: "image/jpeg".into(),
        download_name: format!("activity-{activity_id}-photo-{photo_id}.jpg"),
    })
}
