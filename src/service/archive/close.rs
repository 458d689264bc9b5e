//! Closing a campaign (结束活动): once an archive is written and nothing changed since, the city
//! makes the campaign read-only. Every write then stops at `acting::ensure_open`. Only the
//! command line reopens it, with a reason, audited.

use crate::db::Db;
use crate::db::archive::{self as db, ArchiveRecord};
use crate::db::audit::{self, Actor};
use crate::error::{AppError, Conflict};

/// A campaign's archive state, for its page.
pub struct Status {
    pub campaign_id: i64,
    pub code: String,
    pub title: String,
    pub year: i32,
    /// (when, by whom) it was closed; `None`: open.
    pub closed: Option<(i64, String)>,
    pub latest: Option<ArchiveRecord>,
}

pub async fn status(db: &Db, code: Option<&str>) -> Result<Status, AppError> {
    let stored = match code {
        Some(code) => crate::db::campaigns::by_code(db, code).await?,
        None => crate::db::campaigns::current(db).await?,
    }
    .ok_or(AppError::NotFound)?;
    let closed = db::closed(db, stored.id).await?.map(|(at, by, _)| (at, by));
    let latest = db::latest_archive(db, stored.id).await?;
    Ok(Status {
        campaign_id: stored.id,
        code: stored.campaign.code.clone(),
        title: stored.campaign.title.clone(),
        year: stored.campaign.year,
        closed,
        latest,
    })
}

/// Closes campaign `code` on its latest archive. Refused while no archive exists, when
/// anything was written after it (archive again first), or when it is closed already.
pub async fn close(db: &Db, code: &str, actor: &Actor) -> Result<ArchiveRecord, AppError> {
    let stored = crate::db::campaigns::by_code(db, code)
        .await?
        .ok_or_else(|| AppError::invalid("code", format!("没有代码为“{code}”的活动")))?;
    let Some(archive) = db::latest_archive(db, stored.id).await? else {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!(
                "本次活动还没有归档：请先运行 wangju campaign archive --code {code} --out 文件.zip，再结束活动"
            ),
        ));
    };
    let mut tx = db.begin().await?;
    // The audit entry first: it takes the chain's head, so writes audited before it are
    // counted below and writes after it find the campaign closed.
    audit::append(
        &mut tx,
        actor,
        audit::Event {
            action: "campaign.close",
            object_type: "campaign",
            object_id: stored.id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "archive_id": archive.id,
                "file_name": archive.file_name,
                "manifest_sha256": archive.manifest_sha256,
                "zip_sha256": archive.zip_sha256,
            })),
        },
    )
    .await?;
    let since = db::writes_since(&mut tx, archive.audit_last_id).await? - 1;
    if since > 0 {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!("归档之后又有 {since} 项修改没有进入档案：请重新归档后再结束活动"),
        ));
    }
    if !db::close(&mut tx, stored.id, &actor.login, archive.id).await? {
        return Err(AppError::conflict(
            Conflict::CampaignClosed,
            "本次活动已经结束并归档",
        ));
    }
    tx.commit().await?;
    Ok(archive)
}

/// Reopens closed campaign `code` (command line only), with the reason in the audit log.
pub async fn reopen(db: &Db, code: &str, reason: &str, actor: &Actor) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "请用 --reason 写明重新开放的原因",
        ));
    }
    if reason.chars().count() > super::MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("原因最多 {} 个字", super::MAX_REASON_CHARS),
        ));
    }
    let stored = crate::db::campaigns::by_code(db, code)
        .await?
        .ok_or_else(|| AppError::invalid("code", format!("没有代码为“{code}”的活动")))?;
    let mut tx = db.begin().await?;
    if !db::reopen(&mut tx, stored.id).await? {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!("活动 {code} 没有结束，不需要重新开放"),
        ));
    }
    audit::append(
        &mut tx,
        actor,
        audit::Event {
            action: "campaign.reopen",
            object_type: "campaign",
            object_id: stored.id.to_string(),
            before: None,
            after: Some(serde_json::json!({ "reason": reason })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
