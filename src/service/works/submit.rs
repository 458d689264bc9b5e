//! Submitting works: a submission (the form, the checked upload, the declarations), filing a
//! new work, and the author's fixed version of a returned one. An upload makes at most one work.

use super::read::get;
use super::uploads::own_upload;
use super::{EXPIRED, hosted, needs_subtitles, submissions_open};
use crate::clock::Clock;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::orgs;
use crate::db::works::{self, NewWork};
use crate::domain::campaign::SubProject;
use crate::domain::ids::{OrgId, WorkId};
use crate::domain::work::{self, WorkInput};
use crate::error::{AppError, FieldError};
use crate::service::acting::{Acting, current_campaign};

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
    pub org_id: Option<OrgId>,
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
) -> Result<WorkId, AppError> {
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
    id: WorkId,
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
