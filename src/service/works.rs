//! Works: worker registration, resumable uploads checked against the sub-project's rules,
//! submissions with declarations, moderation, and units' participation in the sub-projects
//! hosted elsewhere.
//!
//! An upload is a row plus parts in the file store (`uploads/<id>/<offset>`), so any node can
//! take the next chunk. The chunk that completes it triggers the check: the parts are joined
//! into a temporary local file, probed, a metadata-free copy is made, and both are kept in the
//! store under random keys. Only then can a work be submitted with it.

use std::path::Path;

use bytes::Bytes;
use futures_util::Stream;
use serde::Serialize;

use crate::clock::Clock;
use crate::db::audit::{self, Actor, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::group_commit::GroupCommit;
use crate::db::orgs::{self, Scope};
use crate::db::users::{self, NewUser};
use crate::db::works::{self, Checked, Filter, NewParticipation, NewUpload, NewWork};
use crate::db::{Db, is_unique_violation};
use crate::domain::campaign::{FileRule, MediaKind, Participation, PhaseAction, SubProject};
use crate::domain::mask::valid_phone;
use crate::domain::password::check_new_password;
use crate::domain::role::Role;
use crate::domain::work::{self, Decision, WorkInput, WorkStatus};
use crate::error::{AppError, FieldError};
use crate::media::check::{Verdict, check, size_zh};
use crate::media::command::file_json;
use crate::service::accounts::{hash_password, random_token};
use crate::service::acting::{Acting, current_campaign};
use crate::store::{FileStore, Written};

/// Largest upload when a sub-project names no size limit.
pub const DEFAULT_MAX_BYTES: u64 = 500 * 1024 * 1024;

/// The sub-project `code` of the current campaign.
pub fn sub_project<'a>(
    campaign: &'a StoredCampaign,
    code: &str,
) -> Result<&'a SubProject, AppError> {
    campaign
        .campaign
        .sub_projects
        .iter()
        .find(|s| s.code == code)
        .ok_or(AppError::NotFound)
}

/// A sub-project whose works Wangju takes (not one hosted on another platform).
fn hosted<'a>(campaign: &'a StoredCampaign, code: &str) -> Result<&'a SubProject, AppError> {
    let sub = sub_project(campaign, code)?;
    if sub.participation != Participation::Wangju {
        return Err(AppError::Conflict(format!(
            "“{}”由{}承办，作品请按项目页上的平台入口提交；单位可在网聚登记参与情况。",
            sub.name, sub.host
        )));
    }
    Ok(sub)
}

/// Whether the call is open today, and if not, a message naming the window.
pub fn submissions_open(campaign: &StoredCampaign, clock: &Clock) -> Result<(), String> {
    let today = clock.today();
    if campaign.campaign.allows_on(today, PhaseAction::SubmitWorks) {
        return Ok(());
    }
    let window: Vec<String> = campaign
        .campaign
        .phases
        .iter()
        .filter(|p| p.allows.contains(&PhaseAction::SubmitWorks))
        .map(|p| format!("{} 至 {}", p.starts_on, p.ends_on))
        .collect();
    Err(format!(
        "今天（{today}）不在作品征集期内。征集期：{}",
        window.join("，")
    ))
}

fn max_bytes(sub: &SubProject) -> u64 {
    sub.rules
        .iter()
        .find_map(|r| match r {
            FileRule::MaxSize {
                megabytes,
                severity: crate::domain::campaign::Severity::Error,
            } => Some(u64::from(*megabytes) * 1024 * 1024),
            _ => None,
        })
        .unwrap_or(DEFAULT_MAX_BYTES)
}

fn needs_subtitles(sub: &SubProject) -> bool {
    sub.rules
        .iter()
        .any(|r| matches!(r, FileRule::SubtitlesDeclared { .. }))
}

// ---------------------------------------------------------------------------------------------
// Registration

/// What a worker fills in to register.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub real_name: String,
    /// The mobile number; it is also the login.
    pub phone: String,
    /// One of the unions the public form lists (the Annex 1 level); ignored with `join`.
    #[serde(default)]
    pub org_id: i64,
    /// The code of a union's registration link (`/register?join=…`): registers into that union,
    /// at any depth of the tree.
    #[serde(default)]
    pub join: Option<String>,
    pub password: String,
    /// The privacy notice (`work::PRIVACY_TEXT`) was accepted.
    #[serde(default)]
    pub consent: bool,
}

/// The union a registration link names; `None` for an unknown or replaced link.
pub async fn union_by_invite(db: &Db, code: &str) -> Result<Option<orgs::Org>, AppError> {
    let code = code.trim();
    if code.len() != 32 || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(orgs::by_invite(db, code).await?.filter(|o| o.is_union()))
}

/// Creates a worker account bound to a union in the tree. Returns the account id.
pub async fn register(db: &Db, reg: &Registration, ip: &str) -> Result<i64, AppError> {
    let mut errors = Vec::new();
    let name = reg.real_name.trim();
    let n = name.chars().count();
    if !(2..=20).contains(&n) || name.chars().any(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            "real_name",
            "请填写 2 到 20 个字的真实姓名",
        ));
    }
    let phone = reg.phone.trim();
    if !(valid_phone(phone) && phone.len() == 11) {
        errors.push(FieldError::new(
            "phone",
            "请填写 11 位手机号，它也是您的登录名",
        ));
    }
    if let Err(message) = check_new_password(Role::Worker, &reg.password, phone) {
        errors.push(FieldError::new("password", message));
    }
    if !reg.consent {
        errors.push(FieldError::new(
            "consent",
            "请阅读并勾选个人信息收集说明，否则无法注册",
        ));
    }
    let joining = reg.join.as_deref().filter(|c| !c.trim().is_empty());
    let org = match joining {
        Some(code) => union_by_invite(db, code).await?,
        None => orgs::get(db, &Scope::everything(), reg.org_id).await?,
    };
    match &org {
        None if joining.is_some() => errors.push(FieldError::new(
            "join",
            "注册链接已失效，请向所在工会索取新的注册链接或二维码",
        )),
        None => errors.push(FieldError::new("org_id", "请选择您所在的工会")),
        Some(_) if joining.is_some() => {}
        Some(o) if o.depth > 1 => errors.push(FieldError::new(
            "org_id",
            "请在列表中选择您所在的区、局或集团公司工会",
        )),
        Some(o) if !o.is_union() => errors.push(FieldError::new(
            "org_id",
            format!("“{}”不是工会组织，请选择您所在的工会", o.name),
        )),
        _ => {}
    }
    let Some(org) = org.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let hash = hash_password(&reg.password).await?;
    let mut tx = db.begin().await?;
    let id = users::insert(
        &mut tx,
        NewUser {
            login: phone,
            display_name: name,
            phone: Some(phone),
            role: Role::Worker,
            org_id: org.id,
            password_hash: &hash,
            must_change_password: false,
        },
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::invalid(
                "phone",
                "这个手机号已经注册过，请直接登录；忘记密码请联系所在单位管理员重置",
            )
        } else {
            e.into()
        }
    })?;
    users::record_consent(&mut tx, id, work::PRIVACY_VERSION).await?;
    audit::append(
        &mut tx,
        &Actor {
            user_id: Some(id),
            login: phone.to_string(),
            ip: ip.to_string(),
        },
        Event {
            action: "user.register",
            object_type: "user",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "role": Role::Worker.code(), "org_id": org.id, "consent_version": work::PRIVACY_VERSION,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Uploads

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

/// Announces an upload; refuses at once a file larger than the rule allows.
pub async fn start_upload(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    req: &UploadRequest,
) -> Result<UploadView, AppError> {
    let campaign = current_campaign(db).await?;
    let sub = hosted(&campaign, &req.sub_project)?;
    submissions_open(&campaign, clock).map_err(AppError::Conflict)?;
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
    works::insert_upload(
        db,
        NewUpload {
            id: &id,
            owner_id: acting.user_id,
            campaign_id: campaign.id,
            sub_project: &sub.code,
            file_name: &file_name,
            size_bytes: i64::try_from(req.size_bytes).unwrap_or(i64::MAX),
        },
    )
    .await?;
    get_upload(db, acting, &id).await
}

/// The caller's own upload; anyone else's is "not found".
pub async fn get_upload(db: &Db, acting: &Acting, id: &str) -> Result<UploadView, AppError> {
    let row = own_upload(db, acting, id).await?;
    Ok(view(row))
}

async fn own_upload(db: &Db, acting: &Acting, id: &str) -> Result<works::UploadRow, AppError> {
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
        return Err(AppError::Conflict(EXPIRED.into()));
    }
    if row.state != "receiving" {
        return Ok(view(row));
    }
    let received = u64::try_from(row.received).unwrap_or(0);
    let size = u64::try_from(row.size_bytes).unwrap_or(0);
    if offset != received {
        return Err(AppError::Conflict(format!(
            "续传位置不对：已收到 {received} 字节，请从第 {received} 字节继续上传"
        )));
    }
    if received < size {
        // A name of its own: a retry may race a stalled request that started at this offset.
        let key = format!("uploads/{id}/{offset:016}-{}", &random_token()[..8]);
        let written = storage
            .store
            .write_stream(&key, body, size - received)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
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
                return Err(AppError::Conflict(
                    "同一文件正在另一个连接上上传，请稍后刷新页面查看进度".into(),
                ));
            }
        }
        if let Written::Interrupted(_) = written {
            // The connection is gone; nobody reads this answer. The bytes are kept.
            return Err(AppError::Conflict("连接中断，已收到的部分会保留".into()));
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
    let internal = |e: crate::store::StoreError| AppError::Internal(e.into());
    let parts = works::upload_parts(db, id).await?;
    tokio::fs::create_dir_all(storage.scratch)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    // Deleted when dropped, whichever way checking ends (unless moved into the store first).
    let scratch = |name: String| {
        tempfile::TempPath::try_from_path(storage.scratch.join(name))
            .map_err(|e| AppError::Internal(e.into()))
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
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| AppError::Internal(e.into()))?;
    let keys = match verdict {
        Verdict::Accepted => {
            let key = random_token()[..32].to_string();
            let (stored_key, clean_key) = (format!("works/{key}.orig"), format!("works/{key}"));
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
            Some((stored_key, clean_key))
        }
        Verdict::Rejected => None,
    };
    let report = serde_json::to_string(&report_json).map_err(|e| AppError::Internal(e.into()))?;
    let recorded = works::mark_checked(
        db,
        id,
        Checked {
            stored_key: keys.as_ref().map(|k| k.0.as_str()),
            clean_key: keys.as_ref().map(|k| k.1.as_str()),
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
    } else if let Some((stored_key, clean_key)) = &keys {
        // Another request checked it first; its copies are the ones on record.
        let _ = storage.store.delete(stored_key).await;
        let _ = storage.store.delete(clean_key).await;
    }
    get_upload(db, acting, id).await
}

/// What one sweep of abandoned uploads did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub uploads: u64,
    pub objects_failed: u64,
}

/// Most uploads one sweep deletes; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 200;

/// Deletes uploads that no work uses, idle for longer than `keep`: half-sent ones a phone
/// never finished (with their parts) and checked files nobody submitted. A file named by any
/// submission in a work's history is kept. Safe on several nodes at once: each upload is first
/// claimed (after which no submission can take it), then its objects go, then its row; a node
/// that dies midway leaves a claimed row the next sweep finishes.
pub async fn sweep_abandoned(
    db: &Db,
    store: &FileStore,
    keep: std::time::Duration,
) -> Result<Swept, AppError> {
    let keep = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
    let idle_since = crate::clock::unix_now().saturating_sub(keep);
    let mut swept = Swept::default();
    for upload in works::abandoned_uploads(db, idle_since, SWEEP_BATCH).await? {
        if !works::claim_abandoned(db, &upload.id, idle_since).await? {
            continue;
        }
        let mut failed = 0;
        if store
            .delete_prefix(&format!("uploads/{}/", upload.id))
            .await
            .is_err()
        {
            failed += 1;
        }
        for key in [&upload.stored_key, &upload.clean_key]
            .into_iter()
            .flatten()
        {
            if store.delete(key).await.is_err() {
                failed += 1;
            }
        }
        if failed > 0 {
            // Keep the claimed row: the next sweep tries its objects again.
            tracing::warn!(upload = %upload.id, failed, "could not delete an abandoned upload's files");
            swept.objects_failed += failed;
            continue;
        }
        works::delete_expired(db, &upload.id).await?;
        swept.uploads += 1;
    }
    Ok(swept)
}

/// Sweeps abandoned uploads every ten minutes (see [`sweep_abandoned`]).
pub async fn sweep_ticker(db: Db, store: FileStore, keep: std::time::Duration) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match sweep_abandoned(&db, &store, keep).await {
            Ok(s) if s.uploads + s.objects_failed > 0 => {
                tracing::info!(
                    uploads = s.uploads,
                    failed = s.objects_failed,
                    "swept abandoned uploads"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweep of abandoned uploads failed"),
        }
    }
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

// ---------------------------------------------------------------------------------------------
// Works

/// A work with its authors decoded and the contact masked unless the viewer is the author.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Work {
    #[serde(flatten)]
    pub row: works::WorkRow,
    pub authors: Vec<String>,
    pub contact: String,
    pub status_label: &'static str,
    /// The day by which a moderator should decide (one working day).
    pub decision_due: String,
    pub overdue: bool,
    /// The upload's automatic findings.
    #[schema(value_type = Object)]
    pub report: Option<serde_json::Value>,
    pub file_name: String,
    pub media_type: Option<String>,
}

impl Work {
    pub fn status(&self) -> WorkStatus {
        WorkStatus::parse(&self.row.status).unwrap_or(WorkStatus::Submitted)
    }

    /// Whether the automatic check raised warnings for the moderator.
    pub fn has_warnings(&self) -> bool {
        self.report
            .as_ref()
            .and_then(|r| r.get("warnings"))
            .and_then(|w| w.as_array())
            .is_some_and(|w| !w.is_empty())
    }
}

fn decorate(acting: &Acting, row: works::WorkRow) -> Work {
    let authors: Vec<String> = serde_json::from_str(&row.authors).unwrap_or_default();
    let contact = if row.owner_id == acting.user_id {
        row.contact_phone.clone()
    } else {
        crate::domain::mask::mask_phone(&row.contact_phone)
    };
    let submitted_on = crate::clock::china_date(row.submitted_at);
    let due = work::decision_due(submitted_on);
    let status = WorkStatus::parse(&row.status).unwrap_or(WorkStatus::Submitted);
    Work {
        authors,
        contact,
        status_label: status.label_zh(),
        decision_due: due.to_string(),
        overdue: status == WorkStatus::Submitted
            && crate::clock::china_date(crate::clock::unix_now()) > due,
        report: row
            .report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        file_name: row.file_name.clone(),
        media_type: row.media_type.clone(),
        row,
    }
}

/// Who may see a work: its author, whoever filed it, the city, a moderator assigned its
/// sub-project (`assigned`), and unit admins over its unit. (Reviewers will see the works
/// assigned to them once evaluation is built.)
fn may_view(acting: &Acting, row: &works::WorkRow, assigned: bool) -> bool {
    row.owner_id == acting.user_id
        || row.filed_by == acting.user_id
        || (acting.role.may_moderate() && (acting.role != Role::Moderator || assigned))
        || (acting.role.may_report_activities() && row.org_path.starts_with(&acting.scope.prefix))
}

pub async fn get(db: &Db, acting: &Acting, id: i64) -> Result<Work, AppError> {
    let Some(row) = works::work(db, id).await? else {
        return Err(AppError::NotFound);
    };
    let assigned =
        acting.role == Role::Moderator && works::assigned_to_work(db, acting.user_id, id).await?;
    if !may_view(acting, &row, assigned) {
        return Err(AppError::NotFound);
    }
    Ok(decorate(acting, row))
}

/// The sub-projects (code and name) a moderator checks in the current campaign.
pub async fn moderator_sub_projects(
    db: &Db,
    user_id: i64,
) -> Result<Vec<(String, String)>, AppError> {
    let campaign = current_campaign(db).await?;
    let codes = works::assignments(db, user_id, campaign.id).await?;
    Ok(campaign
        .campaign
        .sub_projects
        .iter()
        .filter(|s| codes.contains(&s.code))
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect())
}

/// The sub-projects a moderator may be given: those Wangju hosts.
pub async fn hosted_sub_projects(db: &Db) -> Result<Vec<(String, String)>, AppError> {
    let campaign = current_campaign(db).await?;
    Ok(campaign
        .campaign
        .sub_projects
        .iter()
        .filter(|s| s.participation == Participation::Wangju)
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect())
}

/// The city admin gives a moderator the sub-projects they check (replacing earlier ones).
/// Audited.
pub async fn assign_moderator(
    db: &Db,
    acting: &Acting,
    user_id: i64,
    codes: &[String],
) -> Result<(), AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    set_moderator_sub_projects(db, &acting.actor, Some(acting.user_id), user_id, codes).await
}

/// The sub-project codes a moderator may be given, checked, without repeats, in order: each
/// must be one the current campaign hosts in Wangju.
pub fn moderated_codes(
    campaign: &StoredCampaign,
    codes: &[String],
) -> Result<Vec<String>, AppError> {
    let mut chosen: Vec<String> = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let sub = hosted(campaign, code).map_err(|_| {
            let hosted: Vec<&str> = campaign
                .campaign
                .sub_projects
                .iter()
                .filter(|s| s.participation == Participation::Wangju)
                .map(|s| s.code.as_str())
                .collect();
            AppError::invalid(
                "sub_projects",
                format!(
                    "“{code}”不是本次活动中由网聚收稿的子项目；可选：{}",
                    hosted.join("、")
                ),
            )
        })?;
        if !chosen.contains(&sub.code) {
            chosen.push(sub.code.clone());
        }
    }
    chosen.sort();
    Ok(chosen)
}

/// Sets a moderator's sub-projects (the city admin's page, or `wangju user add --moderate`).
pub async fn set_moderator_sub_projects(
    db: &Db,
    actor: &Actor,
    by: Option<i64>,
    user_id: i64,
    codes: &[String],
) -> Result<(), AppError> {
    let user = users::by_id(db, user_id).await?.ok_or(AppError::NotFound)?;
    if user.role() != Some(Role::Moderator) {
        return Err(AppError::Conflict(format!(
            "“{}”不是审核员账号，不能分配审核的子项目",
            user.display_name
        )));
    }
    let campaign = current_campaign(db).await?;
    let chosen = moderated_codes(&campaign, codes)?;
    let before = works::assignments(db, user.id, campaign.id).await?;
    let mut tx = db.begin().await?;
    works::set_assignments(&mut tx, user.id, campaign.id, &chosen, by).await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "moderator.assign",
            object_type: "user",
            object_id: user.id.to_string(),
            before: Some(serde_json::json!({"sub_projects": before})),
            after: Some(serde_json::json!({"sub_projects": chosen})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The history of a work; taking the `Work` that [`get`] returned means access was checked.
pub async fn history(db: &Db, work: &Work) -> Result<Vec<works::WorkEvent>, AppError> {
    Ok(works::events(db, work.row.id).await?)
}

/// Works the account may see: a worker's own, a unit admin's units', a moderator's
/// sub-projects', everything for the city.
pub async fn list(
    db: &Db,
    acting: &Acting,
    sub_project: &str,
    status: &str,
) -> Result<Vec<Work>, AppError> {
    let campaign = current_campaign(db).await?;
    let filter = if acting.role == Role::Moderator {
        Filter::Assigned(acting.user_id)
    } else if acting.role.may_moderate() {
        Filter::All
    } else if acting.role.may_report_activities() {
        Filter::Scope(&acting.scope)
    } else {
        Filter::Owner(acting.user_id)
    };
    let rows = works::list(db, campaign.id, filter, sub_project, status).await?;
    Ok(rows.into_iter().map(|row| decorate(acting, row)).collect())
}

/// A submission: the filled-in form, the checked upload, and (for a unit admin filing for a
/// member) whose work it is.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct Submission {
    pub sub_project: String,
    pub upload_id: String,
    #[serde(flatten)]
    pub input: WorkInput,
    /// A unit admin filing for a member: the member's unit (defaults to the admin's own).
    #[serde(default)]
    pub org_id: Option<i64>,
}

async fn checked_upload(
    db: &Db,
    acting: &Acting,
    sub: &SubProject,
    upload_id: &str,
) -> Result<works::UploadRow, AppError> {
    let upload = own_upload(db, acting, upload_id.trim())
        .await
        .map_err(|_| AppError::invalid("file", "请先上传作品文件"))?;
    if upload.sub_project != sub.code {
        return Err(AppError::invalid("file", "这个文件是为另一个子项目上传的"));
    }
    if upload.state == "expired" {
        return Err(AppError::invalid("file", EXPIRED));
    }
    if upload.state != "checked" {
        return Err(AppError::invalid(
            "file",
            "文件还没有上传完，请等进度条走完再提交",
        ));
    }
    if upload.verdict.as_deref() != Some("accepted") {
        let messages: Vec<String> = upload
            .report
            .as_deref()
            .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
            .and_then(|v| v.get("messages").cloned())
            .and_then(|m| serde_json::from_value(m).ok())
            .unwrap_or_default();
        return Err(AppError::Invalid(
            messages
                .into_iter()
                .map(|m| FieldError::new("file", m))
                .collect::<Vec<_>>()
                .into_iter()
                .chain(std::iter::once(FieldError::new(
                    "file",
                    "文件不符合本项目的要求，请按提示修改后重新上传",
                )))
                .collect(),
        ));
    }
    Ok(upload)
}

/// What a worker reads about an upload the sweep deleted.
const EXPIRED: &str = "这个文件上传后长时间没有提交，已被清理：请重新选择文件上传";

/// Takes the upload for the submission in `tx`; see [`works::take_upload`].
async fn take_upload(tx: &mut crate::db::Tx, upload_id: &str) -> Result<(), AppError> {
    if works::take_upload(tx, upload_id).await? {
        return Ok(());
    }
    Err(if works::upload_in_use(tx, upload_id).await? {
        AppError::invalid("file", "这个文件已经用于另一件作品")
    } else {
        AppError::invalid("file", EXPIRED)
    })
}

/// Files a new work. The declarations are recorded with the version of their text.
pub async fn submit(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    submission: Submission,
) -> Result<i64, AppError> {
    let campaign = current_campaign(db).await?;
    let sub = hosted(&campaign, &submission.sub_project)?;
    submissions_open(&campaign, clock).map_err(AppError::Conflict)?;
    let input = submission.input.normalised();
    let mut errors = work::validate(&input, needs_subtitles(sub))
        .err()
        .unwrap_or_default();
    let org = match submission.org_id {
        Some(id) if id != acting.org.id => {
            if !acting.role.may_report_activities() {
                return Err(AppError::invalid("org_id", "职工只能以本人所在单位提交"));
            }
            orgs::get(db, &acting.scope, id).await?
        }
        _ => Some(acting.org.clone()),
    };
    if org.is_none() {
        errors.push(FieldError::new(
            "org_id",
            "所选单位不存在或不在您的管理范围内",
        ));
    }
    let upload = match checked_upload(db, acting, sub, &submission.upload_id).await {
        Ok(u) => Some(u),
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            None
        }
        Err(e) => return Err(e),
    };
    let (Some(org), Some(upload), true) = (org, upload, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let authors =
        serde_json::to_string(&input.authors).map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = db.begin().await?;
    take_upload(&mut tx, &upload.id).await?;
    let id = works::insert_work(
        &mut tx,
        NewWork {
            campaign_id: campaign.id,
            sub_project: &sub.code,
            org_id: org.id,
            owner_id: acting.user_id,
            filed_by: acting.user_id,
            title: &input.title,
            authors: &authors,
            contact_phone: &input.contact_phone,
            description: &input.description,
            upload_id: &upload.id,
            originality_version: work::ORIGINALITY_VERSION,
            portrait_version: work::PORTRAIT_VERSION,
            subtitles_declared: input.subtitles,
        },
    )
    .await?;
    works::add_event(
        &mut tx,
        id,
        acting.user_id,
        "submit",
        None,
        Some(&upload.id),
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "work.submit",
            object_type: "work",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "sub_project": sub.code, "title": input.title, "org_id": org.id, "upload_id": upload.id,
                "originality_version": work::ORIGINALITY_VERSION, "portrait_version": work::PORTRAIT_VERSION,
                "subtitles_declared": input.subtitles,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The author fixes a returned work (new text, and a new file if needed) and sends it back.
pub async fn resubmit(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    id: i64,
    submission: Submission,
) -> Result<(), AppError> {
    let current = get(db, acting, id).await?;
    if current.row.filed_by != acting.user_id && current.row.owner_id != acting.user_id {
        return Err(AppError::Forbidden);
    }
    if !work::may_resubmit(current.status()) {
        return Err(AppError::Conflict(format!(
            "这件作品{}，不能再修改提交",
            current.status().label_zh()
        )));
    }
    let campaign = current_campaign(db).await?;
    let sub = hosted(&campaign, &current.row.sub_project)?;
    submissions_open(&campaign, clock).map_err(AppError::Conflict)?;
    let input = submission.input.normalised();
    work::validate(&input, needs_subtitles(sub)).map_err(AppError::Invalid)?;
    let upload_id = if submission.upload_id.trim().is_empty()
        || submission.upload_id.trim() == current.row.upload_id
    {
        current.row.upload_id.clone()
    } else {
        checked_upload(db, acting, sub, &submission.upload_id)
            .await?
            .id
    };
    let authors =
        serde_json::to_string(&input.authors).map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = db.begin().await?;
    if upload_id != current.row.upload_id {
        take_upload(&mut tx, &upload_id).await?;
    }
    let updated = works::resubmit(
        &mut tx,
        id,
        &NewWork {
            campaign_id: campaign.id,
            sub_project: &sub.code,
            org_id: current.row.org_id,
            owner_id: current.row.owner_id,
            filed_by: current.row.filed_by,
            title: &input.title,
            authors: &authors,
            contact_phone: &input.contact_phone,
            description: &input.description,
            upload_id: &upload_id,
            originality_version: work::ORIGINALITY_VERSION,
            portrait_version: work::PORTRAIT_VERSION,
            subtitles_declared: input.subtitles,
        },
    )
    .await?;
    if !updated {
        return Err(AppError::Conflict(
            "作品状态刚刚发生了变化，请刷新后再试".into(),
        ));
    }
    works::add_event(
        &mut tx,
        id,
        acting.user_id,
        "resubmit",
        None,
        Some(&upload_id),
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "work.resubmit",
            object_type: "work",
            object_id: id.to_string(),
            before: Some(
                serde_json::json!({"title": current.row.title, "upload_id": current.row.upload_id}),
            ),
            after: Some(serde_json::json!({"title": input.title, "upload_id": upload_id})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A moderator accepts, returns or rejects a waiting work, always with a reason.
pub async fn decide(
    db: &Db,
    acting: &Acting,
    id: i64,
    decision: Decision,
    reason: &str,
) -> Result<(), AppError> {
    if !acting.role.may_moderate() {
        return Err(AppError::Forbidden);
    }
    let current = get(db, acting, id).await?;
    if !work::may_decide(current.status()) {
        return Err(AppError::Conflict(format!(
            "这件作品{}，不在待审核状态",
            current.status().label_zh()
        )));
    }
    let reason = reason.trim();
    if reason.chars().count() < 2 {
        return Err(AppError::invalid(
            "reason",
            format!("请填写{}的理由，作者会看到它", decision.label_zh()),
        ));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "理由请控制在 500 字以内"));
    }
    let outcome = decision.outcome();
    let mut tx = db.begin().await?;
    if !works::decide(&mut tx, id, outcome.code(), reason, acting.user_id).await? {
        return Err(AppError::Conflict(
            "另一位审核员刚刚处理了这件作品，请刷新查看".into(),
        ));
    }
    works::add_event(
        &mut tx,
        id,
        acting.user_id,
        outcome.code(),
        Some(reason),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "work.decide",
            object_type: "work",
            object_id: id.to_string(),
            before: Some(serde_json::json!({"status": current.row.status})),
            after: Some(serde_json::json!({"status": outcome.code(), "reason": reason})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The stored file a viewer may fetch: the metadata-free copy, never the original.
pub struct ServedFile {
    pub key: String,
    pub size: u64,
    pub media_type: String,
    pub download_name: String,
}

pub async fn file(
    db: &Db,
    store: &FileStore,
    acting: &Acting,
    work_id: i64,
) -> Result<ServedFile, AppError> {
    let work = get(db, acting, work_id).await?;
    let upload = works::upload(db, &work.row.upload_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let key = upload.clean_key.ok_or(AppError::NotFound)?;
    let size = store.size(&key).await.map_err(|e| {
        if e.is_not_found() {
            AppError::NotFound
        } else {
            AppError::Internal(e.into())
        }
    })?;
    let media_type = upload
        .media_type
        .unwrap_or_else(|| "application/octet-stream".into());
    let extension = match media_type.as_str() {
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
        download_name: format!("work-{work_id}.{extension}"),
    })
}

// ---------------------------------------------------------------------------------------------
// Participation in sub-projects hosted elsewhere

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ParticipationInput {
    pub sub_project: String,
    /// The unit taking part (in the account's scope; defaults to its own).
    #[serde(default)]
    pub org_id: Option<i64>,
    pub work_title: String,
    pub authors: String,
    /// Where it was submitted (the host's platform).
    pub submitted_to: String,
    /// A link or reference number on that platform.
    pub reference: String,
    /// `YYYY-MM-DD`.
    pub submitted_on: String,
}

pub async fn record_participation(
    db: &Db,
    acting: &Acting,
    input: ParticipationInput,
) -> Result<i64, AppError> {
    let campaign = current_campaign(db).await?;
    let mut errors = Vec::new();
    let sub = sub_project(&campaign, input.sub_project.trim())
        .map_err(|_| AppError::invalid("sub_project", "请选择子项目"))?;
    if sub.participation != Participation::External {
        errors.push(FieldError::new(
            "sub_project",
            format!("“{}”的作品直接在网聚提交，不需要另行登记", sub.name),
        ));
    }
    let title = input.work_title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        errors.push(FieldError::new(
            "work_title",
            "请填写作品或活动名称（100 字以内）",
        ));
    }
    let authors = input.authors.trim();
    if authors.is_empty() || authors.chars().count() > 200 {
        errors.push(FieldError::new(
            "authors",
            "请填写作者或参与人（200 字以内）",
        ));
    }
    let submitted_to = input.submitted_to.trim();
    if submitted_to.is_empty() || submitted_to.chars().count() > 100 {
        errors.push(FieldError::new("submitted_to", "请填写提交到的平台或单位"));
    }
    let reference = input.reference.trim();
    if reference.is_empty() || reference.chars().count() > 500 {
        errors.push(FieldError::new("reference", "请填写作品链接或平台上的编号"));
    } else if reference.contains("://")
        && !(reference.starts_with("https://") || reference.starts_with("http://"))
    {
        errors.push(FieldError::new(
            "reference",
            "链接应以 http:// 或 https:// 开头",
        ));
    }
    let on = input.submitted_on.trim();
    if chrono::NaiveDate::parse_from_str(on, "%Y-%m-%d").is_err() {
        errors.push(FieldError::new(
            "submitted_on",
            "请按 2020-07-01 的格式填写提交日期",
        ));
    }
    let org = match input.org_id {
        Some(id) => orgs::get(db, &acting.scope, id).await?,
        None => Some(acting.org.clone()),
    };
    let Some(org) = org else {
        errors.push(FieldError::new(
            "org_id",
            "所选单位不存在或不在您的管理范围内",
        ));
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    let id = works::insert_participation(
        &mut tx,
        NewParticipation {
            campaign_id: campaign.id,
            sub_project: &sub.code,
            org_id: org.id,
            work_title: title,
            authors,
            submitted_to,
            reference,
            submitted_on: on,
            recorded_by: acting.user_id,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "participation.record",
            object_type: "participation",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "sub_project": sub.code, "org_id": org.id, "work_title": title, "reference": reference,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn participations(
    db: &Db,
    acting: &Acting,
) -> Result<Vec<works::ParticipationRow>, AppError> {
    let campaign = current_campaign(db).await?;
    Ok(works::participations(db, &acting.scope, campaign.id).await?)
}

/// For each of the campaign's sub-projects: how many works or participation records the scope
/// has (the city counts participation in all eight).
pub async fn participation_summary(
    db: &Db,
    scope: &Scope,
) -> Result<Vec<(SubProject, i64)>, AppError> {
    let campaign = current_campaign(db).await?;
    let counts = works::participation_counts(db, scope, campaign.id).await?;
    Ok(campaign
        .campaign
        .sub_projects
        .iter()
        .map(|s| {
            let n = counts
                .iter()
                .find(|(code, _)| code == &s.code)
                .map_or(0, |(_, n)| *n);
            (s.clone(), n)
        })
        .collect())
}
