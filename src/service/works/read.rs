//! Reading works: one work as its viewer may see it (authors decoded, contact masked, the
//! decision deadline), who may see it, the lists by role, a work's history, and the stored file
//! (the metadata-free copy, never the original).

use crate::domain::ids::WorkId;
use serde::Serialize;

use crate::db::Db;
use crate::db::works::{self, Filter};
use crate::domain::role::Role;
use crate::domain::work::{self, WorkStatus};
use crate::error::AppError;
use crate::service::acting::{Acting, current_campaign};
use crate::store::FileStore;

/// A work with its authors decoded and the contact masked unless the viewer is the author or
/// a moderator who may decide on it (they call about fixes; each such view is audited).
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
        self.row.status
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

fn decorate(acting: &Acting, row: works::WorkRow, contact_unmasked: bool) -> Work {
    let authors: Vec<String> = serde_json::from_str(&row.authors).unwrap_or_default();
    let contact = if contact_unmasked || row.owner_id == acting.user_id {
        row.contact_phone.clone()
    } else {
        crate::domain::mask::mask_phone(&row.contact_phone)
    };
    let submitted_on = crate::clock::china_date(row.submitted_at);
    let due = work::decision_due(submitted_on);
    let status = row.status;
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

pub async fn get(db: &Db, acting: &Acting, id: WorkId) -> Result<Work, AppError> {
    let Some(row) = works::work(db, id).await? else {
        return Err(AppError::NotFound);
    };
    let assigned =
        acting.role == Role::Moderator && works::assigned_to_work(db, acting.user_id, id).await?;
    if !may_view(acting, &row, assigned) {
        return Err(AppError::NotFound);
    }
    // A moderator (or the city) deciding on the work sees the author's whole number to call
    // about fixes; that access to personal data is recorded.
    let moderating = acting.role.may_moderate()
        && (acting.role != Role::Moderator || assigned)
        && row.owner_id != acting.user_id;
    if moderating {
        let mut tx = db.begin().await?;
        crate::db::audit::append(
            &mut tx,
            &acting.actor,
            crate::db::audit::Event {
                action: "work.contact_view",
                object_type: "work",
                object_id: id.to_string(),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(decorate(acting, row, moderating))
}

/// The history of a work; taking the `Work` that [`get`] returned means access was checked.
pub async fn history(db: &Db, work: &Work) -> Result<Vec<works::WorkEvent>, AppError> {
    Ok(works::events(db, work.row.id).await?)
}

/// The newest `limit` works the account may see: a worker's own, a unit admin's units', a
/// moderator's sub-projects', everything for the city.
pub async fn newest(
    db: &Db,
    acting: &Acting,
    sub_project: &str,
    status: &str,
    limit: i64,
) -> Result<Vec<Work>, AppError> {
    let campaign = current_campaign(db).await?;
    let rows = works::list(
        db,
        campaign.id,
        filter_for(acting),
        sub_project,
        status,
        limit,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| decorate(acting, row, false))
        .collect())
}

/// How many of the works the account may see have `status` (empty: any), without reading them.
pub async fn count(db: &Db, acting: &Acting, status: &str) -> Result<i64, AppError> {
    let campaign = current_campaign(db).await?;
    let filter = works::ListFilter {
        status: status.to_string(),
        ..works::ListFilter::default()
    };
    Ok(works::count(db, campaign.id, filter_for(acting), &filter).await?)
}

/// Which works the account's role lists: its own, its units', a moderator's sub-projects', all.
fn filter_for(acting: &Acting) -> Filter<'_> {
    if acting.role == Role::Moderator {
        Filter::Assigned(acting.user_id)
    } else if acting.role.may_moderate() {
        Filter::All
    } else if acting.role.may_report_activities() {
        Filter::Scope(&acting.scope)
    } else {
        Filter::Owner(acting.user_id)
    }
}

/// One page of a works list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorksPage {
    pub items: Vec<Work>,
    /// How many works match the filter (all pages).
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The text a works cursor is bound to: the filter, in the account's reach.
fn cursor_key(acting: &Acting, filter: &works::ListFilter) -> String {
    format!(
        "works|{}|{}|{}|{}|{}|{}|{}",
        acting.scope.prefix,
        acting.role.code(),
        acting.user_id,
        filter.sub_project,
        filter.status,
        filter.under,
        filter.search.trim()
    )
}

/// One keyset page of `size` works (oldest submission first) after `cursor`, from the
/// previous page's `next`. A cursor that was tampered with or made for another filter is
/// refused (422).
pub async fn page(
    db: &Db,
    acting: &Acting,
    filter: &works::ListFilter,
    cursor: Option<&str>,
    size: i64,
) -> Result<WorksPage, AppError> {
    let key = cursor_key(acting, filter);
    let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            let (at, id) = crate::service::cursor::decode(&key, c)?;
            Some(works::After {
                submitted_at: at
                    .parse()
                    .map_err(|_| AppError::invalid("翻页", "翻页参数无效：请回到第一页重新查看"))?,
                id: WorkId(id),
            })
        }
        None => None,
    };
    let campaign = current_campaign(db).await?;
    let size = size.clamp(1, 1_000);
    let (mut rows, total) =
        works::page(db, campaign.id, filter_for(acting), filter, after, size + 1).await?;
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    let next = match rows.last() {
        Some(last) if more => Some(crate::service::cursor::encode(
            &key,
            &last.submitted_at.to_string(),
            last.id.get(),
        )),
        _ => None,
    };
    Ok(WorksPage {
        items: rows
            .into_iter()
            .map(|row| decorate(acting, row, false))
            .collect(),
        total,
        next,
    })
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
    work_id: WorkId,
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
