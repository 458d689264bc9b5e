//! Resumable uploads: announcing a file (refused at once when larger than the rule allows),
//! taking its bytes chunk by chunk into part objects of their own, and, when the last chunk
//! arrives, joining the parts, probing and checking the file against the sub-project's rules
//! and keeping the original and a metadata-free copy under random keys.

use std::path::Path;

use bytes::Bytes;
use futures_util::Stream;
use serde::Serialize;

use super::{EXPIRED, hosted, max_bytes, sub_project, submissions_open};
use crate::clock::Clock;
use crate::db::Db;
use crate::db::group_commit::GroupCommit;
use crate::db::works::{self, Checked, NewUpload};
use crate::domain::campaign::MediaKind;
use crate::error::{AppError, Conflict, Doing};
use crate::media::check::{Verdict, check, size_zh};
use crate::media::command::file_json;
use crate::service::accounts::random_token;
use crate::service::acting::{Acting, current_campaign};
use crate::store::{FileStore, Written};

/// What the phone announces before sending bytes.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct UploadRequest {
    pub sub_project: String,
    pub file_name: String,
    pub size_bytes: u64,
}

/// An upload as the phone sees it: where to resume, and once checked, the findings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadView {
    #[serde(flatten)]
    pub row: works::UploadRow,
    /// The automatic check (measurements, errors, warnings, messages in Chinese), once complete.
    #[schema(value_type = Object)]
    pub report: Option<serde_json::Value>,
}

fn view(row: works::UploadRow) -> UploadView {
    let report = row
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    UploadView { row, report }
}

/// Most uploads one account may have receiving at once: a phone sends one file at a time, and
/// each open upload holds up to the rule's size in the store.
pub const MAX_OPEN_UPLOADS: i64 = 3;

/// Announces an upload; refuses at once a file larger than the rule allows.
pub async fn start_upload(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    req: &UploadRequest,
) -> Result<UploadView, AppError> {
    let campaign = current_campaign(db).await?;
    let sub = hosted(&campaign, &req.sub_project)?;
    submissions_open(&campaign, clock).map_err(|m| AppError::conflict(Conflict::PhaseClosed, m))?;
    let limit = max_bytes(sub);
    if req.size_bytes == 0 {
        return Err(AppError::invalid("file", "文件是空的，请重新选择"));
    }
    if req.size_bytes > limit {
        return Err(AppError::FileTooLarge(format!(
            "文件大小 {}，要求小于 {}：请压缩后再上传",
            size_zh(req.size_bytes),
            size_zh(limit)
        )));
    }
    let file_name: String = req
        .file_name
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let id = random_token()[..32].to_string();
    let recorded = works::insert_upload(
        db,
        NewUpload {
            id: &id,
            owner_id: acting.user_id,
            campaign_id: campaign.id,
            sub_project: &sub.code,
            file_name: &file_name,
            size_bytes: i64::try_from(req.size_bytes).unwrap_or(i64::MAX),
        },
        MAX_OPEN_UPLOADS,
    )
    .await?;
    if !recorded {
        return Err(AppError::conflict(
            Conflict::TooManyOpen,
            format!(
                "您已有 {MAX_OPEN_UPLOADS} 个文件正在上传。请先传完（或放弃）其中的文件，再上传新的文件。"
            ),
        ));
    }
    get_upload(db, acting, &id).await
}

/// The caller's own upload; anyone else's is "not found".
pub async fn get_upload(db: &Db, acting: &Acting, id: &str) -> Result<UploadView, AppError> {
    let row = own_upload(db, acting, id).await?;
    Ok(view(row))
}

pub(super) async fn own_upload(
    db: &Db,
    acting: &Acting,
    id: &str,
) -> Result<works::UploadRow, AppError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    works::upload(db, id)
        .await?
        .filter(|u| u.owner_id == acting.user_id)
        .ok_or(AppError::NotFound)
}

/// Where the bytes go, how their receipt is recorded, and where checking happens.
pub struct Storage<'a> {
    pub store: &'a FileStore,
    /// Records acknowledged bytes; concurrent uploads share commits.
    pub progress: &'a GroupCommit<works::Advance>,
    /// A local folder for the temporary joined file while it is checked.
    pub scratch: &'a Path,
    /// Makes a video's poster image in a child process; none: no posters.
    pub poster_helper: Option<&'a Path>,
}

/// Takes the bytes from `offset` on. The offset must be where the upload stands (a resumed
/// upload asks first); the size limit is enforced while the bytes stream in. The chunk that
/// completes the upload runs the check.
pub async fn receive<S, E>(
    db: &Db,
    storage: &Storage<'_>,
    acting: &Acting,
    id: &str,
    offset: u64,
    body: S,
) -> Result<UploadView, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let row = own_upload(db, acting, id).await?;
    if row.state == "expired" {
        return Err(AppError::conflict(Conflict::UploadExpired, EXPIRED));
    }
    if row.state != "receiving" {
        return Ok(view(row));
    }
    let received = u64::try_from(row.received).unwrap_or(0);
    let size = u64::try_from(row.size_bytes).unwrap_or(0);
    if offset != received {
        return Err(AppError::conflict(
            Conflict::UploadOffsetMismatch,
            format!("续传位置不对：已收到 {received} 字节，请从第 {received} 字节继续上传"),
        ));
    }
    if received < size {
        // A name of its own: a retry may race a stalled request that started at this offset.
        let key = format!("uploads/{id}/{offset:016}-{}", &random_token()[..8]);
        let written = storage
            .store
            .write_stream(&key, body, size - received)
            .await?;
        let n = match written {
            Written::OverLimit => {
                return Err(AppError::FileTooLarge(format!(
                    "收到的数据超过了上传前声明的文件大小 {}，已停止接收：请重新选择文件上传",
                    size_zh(size)
                )));
            }
            Written::Complete(n) | Written::Interrupted(n) => n,
        };
        if n > 0 {
            let to = i64::try_from(received + n).unwrap_or(i64::MAX);
            let advance = works::Advance {
                id: id.to_string(),
                from: row.received,
                to,
                part_key: key.clone(),
            };
            if !storage.progress.write(advance).await? {
                let _ = storage.store.delete(&key).await;
                return Err(AppError::conflict(
                    Conflict::UploadBusy,
                    "同一文件正在另一个连接上上传，请稍后刷新页面查看进度",
                ));
            }
            crate::telemetry::upload_bytes(n);
        }
        if let Written::Interrupted(_) = written {
            // The connection is gone; nobody reads this answer. The bytes are kept.
            return Err(AppError::conflict(
                Conflict::UploadInterrupted,
                "连接中断，已收到的部分会保留",
            ));
        }
        if received + n < size {
            // The row as it now stands, without reading it back.
            let mut row = row;
            row.received += i64::try_from(n).unwrap_or(i64::MAX);
            return Ok(view(row));
        }
    }
    finish(db, storage, acting, id).await
}

/// Joins the parts, checks the file against the sub-project's rules, keeps the original and a
/// metadata-free copy under random keys and records the findings.
async fn finish(
    db: &Db,
    storage: &Storage<'_>,
    acting: &Acting,
    id: &str,
) -> Result<UploadView, AppError> {
    let row = own_upload(db, acting, id).await?;
    let campaign = current_campaign(db).await?;
    let sub = sub_project(&campaign, &row.sub_project)?.clone();
    let internal = AppError::from;
    let parts = works::upload_parts(db, id).await?;
    tokio::fs::create_dir_all(storage.scratch)
        .await
        .map_err(AppError::io)?;
    // Deleted when dropped, whichever way checking ends (unless moved into the store first).
    let scratch = |name: String| {
        tempfile::TempPath::try_from_path(storage.scratch.join(name))
            .doing("joining an upload's parts")
    };
    let original = scratch(format!("{id}.orig"))?;
    let clean = scratch(format!("{id}.clean"))?;
    let joined = storage
        .store
        .concat_to_file(&parts, &original)
        .await
        .map_err(internal)?;
    if i64::try_from(joined).ok() != Some(row.size_bytes) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "upload {id}: parts hold {joined} bytes, expected {}",
            row.size_bytes
        )));
    }
    let (probe_path, clean_path, media, rules) = (
        original.to_path_buf(),
        clean.to_path_buf(),
        sub.media,
        sub.rules.clone(),
    );
    let (report_json, verdict, media_type) = tokio::task::spawn_blocking(move || {
        let probe = crate::media::probe_path(&probe_path)?;
        let report = check(media, &rules, &probe);
        let media_type = served_type(media, &probe);
        // A rejected file can never be submitted: only its findings are kept.
        if report.verdict == Verdict::Accepted {
            std::fs::copy(&probe_path, &clean_path)?;
            if probe.format == crate::media::sniff::Format::Mp4 {
                crate::media::clean::strip_mp4(&clean_path)?;
            }
        }
        let json = file_json("", &probe, &report);
        Ok::<_, std::io::Error>((json, report.verdict, media_type))
    })
    .await
    .doing("checking an uploaded file off the async threads")?
    .map_err(AppError::io)?;
    let keys = match verdict {
        Verdict::Accepted => {
            let key = random_token()[..32].to_string();
            let (stored_key, clean_key) = (format!("works/{key}.orig"), format!("works/{key}"));
            // The poster comes from the clean copy (no metadata), before it moves into the store.
            let poster_key = match (storage.poster_helper, media_type) {
                (Some(helper), "video/mp4") => {
                    let poster = scratch(format!("{id}.poster.jpg"))?;
                    match crate::media::poster_in_child(helper, &clean, &poster).await {
                        Ok(()) => {
                            let poster_key = format!("works/{key}.poster.jpg");
                            storage
                                .store
                                .put_file_moving(&poster_key, &poster)
                                .await
                                .map_err(internal)?;
                            Some(poster_key)
                        }
                        Err(e) => {
                            tracing::info!(upload = %id, "no poster for a video: {e}");
                            None
                        }
                    }
                }
                _ => None,
            };
            storage
                .store
                .put_file_moving(&stored_key, &original)
                .await
                .map_err(internal)?;
            storage
                .store
                .put_file_moving(&clean_key, &clean)
                .await
                .map_err(internal)?;
            Some((stored_key, clean_key, poster_key))
        }
        Verdict::Rejected => None,
    };
    let report = serde_json::to_string(&report_json).doing("encoding an upload's findings")?;
    let recorded = works::mark_checked(
        db,
        id,
        Checked {
            stored_key: keys.as_ref().map(|k| k.0.as_str()),
            clean_key: keys.as_ref().map(|k| k.1.as_str()),
            poster_key: keys.as_ref().and_then(|k| k.2.as_deref()),
            media_type,
            verdict: match verdict {
                Verdict::Accepted => "accepted",
                Verdict::Rejected => "rejected",
            },
            report: &report,
        },
    )
    .await?;
    if recorded {
        let _ = storage.store.delete_prefix(&format!("uploads/{id}/")).await;
    } else if let Some((stored_key, clean_key, poster_key)) = &keys {
        // Another request checked it first; its copies are the ones on record.
        for key in [Some(stored_key), Some(clean_key), poster_key.as_ref()]
            .into_iter()
            .flatten()
        {
            let _ = storage.store.delete(key).await;
        }
    }
    get_upload(db, acting, id).await
}

/// The one content type a kept file is served with, from what the probe found; never one a
/// browser would run (HTML, SVG).
fn served_type(media: MediaKind, probe: &crate::media::Probe) -> &'static str {
    use crate::media::sniff::Format;
    match probe.format {
        Format::Mp4 => {
            if media == MediaKind::Audio {
                "audio/mp4"
            } else {
                "video/mp4"
            }
        }
        Format::Jpeg => "image/jpeg",
        Format::Png => "image/png",
        Format::Mp3 => "audio/mpeg",
        _ => "application/octet-stream",
    }
}
