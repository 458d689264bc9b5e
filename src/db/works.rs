//! Uploads, works, their history and units' participation records.

use crate::domain::ids::{OrgId, UserId, WorkId};
use crate::domain::work::WorkStatus;
use serde::Serialize;

use super::orgs::Scope;
use const_format::concatcp;

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;

statements! {
    /// Takes the owner's row lock (a no-op write) so that counting and inserting are atomic.
    LOCK_OWNER = "UPDATE users SET updated_at = updated_at WHERE id = $1";
    /// Uploads of an owner still receiving bytes.
    OPEN_UPLOADS = "SELECT COUNT(*) FROM uploads WHERE owner_id = $1 AND state = 'receiving'";
    UPLOAD_BY_ID = concatcp!(UPLOAD, " WHERE id = $1");
    ABANDONED_UPLOADS = concatcp!("SELECT id, stored_key, clean_key, poster_key FROM uploads WHERE ", ABANDONED, " ORDER BY updated_at LIMIT $2");
    /// Compare-and-set: only while the upload is still abandoned.
    CLAIM_ABANDONED = concatcp!("UPDATE uploads SET state = 'expired', updated_at = $2 WHERE id = $3 AND ", ABANDONED);
    WORK_BY_ID = concatcp!(WORK, " WHERE w.id = $1");
    /// The newest `$7` works of a campaign, narrowed by sub-project, status, owner, unit
    /// subtree and a moderator's assignments (empty or 0: any).
    LIST = concatcp!(WORK, " WHERE w.campaign_id = $1 AND ($2 = '' OR w.sub_project = $2) AND ($3 = '' OR w.status = $3)
         AND ($4 = 0 OR w.owner_id = $4) AND o.path LIKE $5
         AND ($6 = 0 OR EXISTS (SELECT 1 FROM moderator_assignments m WHERE m.user_id = $6
              AND m.campaign_id = w.campaign_id AND m.sub_project = w.sub_project))
         ORDER BY w.submitted_at DESC, w.id DESC LIMIT $7");
    /// One keyset page of `LIST` (same `$1`..`$6`), also narrowed by words in the title, an
    /// author's name or the unit's name (`$7`, a LIKE pattern; empty: any), after
    /// (`$9`, `$10`) unless `$8` = 0.
    PAGE = concatcp!(WORK, " WHERE w.campaign_id = $1 AND ($2 = '' OR w.sub_project = $2) AND ($3 = '' OR w.status = $3)
         AND ($4 = 0 OR w.owner_id = $4) AND o.path LIKE $5
         AND ($6 = 0 OR EXISTS (SELECT 1 FROM moderator_assignments m WHERE m.user_id = $6
              AND m.campaign_id = w.campaign_id AND m.sub_project = w.sub_project))
         AND ($7 = '' OR w.title LIKE $7 ESCAPE '\\' OR w.authors LIKE $7 ESCAPE '\\' OR o.name LIKE $7 ESCAPE '\\')
         AND ($8 = 0 OR w.submitted_at > $9 OR (w.submitted_at = $9 AND w.id > $10))
         ORDER BY w.submitted_at, w.id LIMIT $11");
    /// How many works `PAGE`'s filter matches (`$1`..`$7`).
    COUNT_MATCHING = "SELECT CAST(COUNT(*) AS BIGINT) FROM works w JOIN orgs o ON o.id = w.org_id
         WHERE w.campaign_id = $1 AND ($2 = '' OR w.sub_project = $2) AND ($3 = '' OR w.status = $3)
         AND ($4 = 0 OR w.owner_id = $4) AND o.path LIKE $5
         AND ($6 = 0 OR EXISTS (SELECT 1 FROM moderator_assignments m WHERE m.user_id = $6
              AND m.campaign_id = w.campaign_id AND m.sub_project = w.sub_project))
         AND ($7 = '' OR w.title LIKE $7 ESCAPE '\\' OR w.authors LIKE $7 ESCAPE '\\' OR o.name LIKE $7 ESCAPE '\\')";
    INSERT_UPLOAD = "INSERT INTO uploads (id, owner_id, campaign_id, sub_project, file_name, size_bytes, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'receiving', $7, $7)";
    ADVANCE = "UPDATE uploads SET received = $1, updated_at = $2 WHERE id = $3 AND received = $4 AND state = 'receiving'";
    INSERT_PART = "INSERT INTO upload_parts (upload_id, start_byte, size_bytes, part_key) VALUES ($1, $2, $3, $4)";
    UPLOAD_PARTS = "SELECT part_key FROM upload_parts WHERE upload_id = $1 ORDER BY start_byte";
    SET_CHECKED = "UPDATE uploads SET state = 'checked', stored_key = $1, clean_key = $2, media_type = $3, verdict = $4,
         report = $5, updated_at = $6, poster_key = $8 WHERE id = $7 AND state = 'receiving' AND received = size_bytes";
    DELETE_PARTS = "DELETE FROM upload_parts WHERE upload_id = $1";
    TAKE_UPLOAD = "UPDATE uploads SET updated_at = $1 WHERE id = $2 AND state = 'checked'
         AND NOT EXISTS (SELECT 1 FROM works WHERE upload_id = $2)";
    DELETE_EXPIRED = "DELETE FROM uploads WHERE id = $1 AND state = 'expired'";
    UPLOAD_IN_USE = "SELECT COUNT(*) FROM works WHERE upload_id = $1";
    INSERT_WORK = "INSERT INTO works (campaign_id, sub_project, org_id, owner_id, filed_by, title, authors, contact_phone,
           description, status, upload_id, originality_version, originality_at, portrait_version, portrait_at,
           subtitles_declared, submitted_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', $10, $11, $12, $13, $12, $14, $12, $12, $12)
         RETURNING id";
    RESUBMIT = "UPDATE works SET title = $1, authors = $2, contact_phone = $3, description = $4, upload_id = $5,
           originality_version = $6, originality_at = $7, portrait_version = $8, portrait_at = $7,
           subtitles_declared = $9, status = 'submitted', decision_reason = NULL, decided_by = NULL,
           decided_at = NULL, submitted_at = $7, updated_at = $7
         WHERE id = $10 AND status = 'returned'";
    DECIDE = "UPDATE works SET status = $1, decision_reason = $2, decided_by = $3, decided_at = $4, updated_at = $4
         WHERE id = $5 AND status = 'submitted'";
    ADD_EVENT = "INSERT INTO work_events (work_id, actor_id, action, reason, upload_id, at) VALUES ($1, $2, $3, $4, $5, $6)";
    EVENTS = "SELECT e.action, e.reason, u.display_name AS actor_name, e.at FROM work_events e
         JOIN users u ON u.id = e.actor_id WHERE e.work_id = $1 ORDER BY e.id";
    ASSIGNMENTS = "SELECT sub_project FROM moderator_assignments WHERE user_id = $1 AND campaign_id = $2 ORDER BY sub_project";
    ASSIGNED_TO_WORK = "SELECT COUNT(*) FROM moderator_assignments m JOIN works w
           ON w.campaign_id = m.campaign_id AND w.sub_project = m.sub_project
         WHERE m.user_id = $1 AND w.id = $2";
    DELETE_ASSIGNMENTS = "DELETE FROM moderator_assignments WHERE user_id = $1 AND campaign_id = $2";
    INSERT_ASSIGNMENT = "INSERT INTO moderator_assignments (user_id, campaign_id, sub_project, assigned_by, assigned_at)
             VALUES ($1, $2, $3, $4, $5)";
    INSERT_PARTICIPATION = "INSERT INTO participations (campaign_id, sub_project, org_id, work_title, authors, submitted_to, reference,
           submitted_on, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    PARTICIPATIONS = "SELECT p.id, p.sub_project, p.org_id, o.name AS org_name, p.work_title, p.authors, p.submitted_to,
           p.reference, p.submitted_on, p.created_at
         FROM participations p JOIN orgs o ON o.id = p.org_id
         WHERE p.campaign_id = $1 AND o.path LIKE $2 ORDER BY p.submitted_on DESC, p.id DESC";
    PARTICIPATION_COUNTS = "SELECT sub_project, CAST(COUNT(*) AS BIGINT) FROM (
           SELECT p.sub_project FROM participations p JOIN orgs o ON o.id = p.org_id
             WHERE p.campaign_id = $1 AND o.path LIKE $2
           UNION ALL
           SELECT w.sub_project FROM works w JOIN orgs o ON o.id = w.org_id
             WHERE w.campaign_id = $1 AND o.path LIKE $2 AND w.status <> 'rejected') x
         GROUP BY sub_project";
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct UploadRow {
    pub id: String,
    #[serde(skip)]
    pub owner_id: UserId,
    #[serde(skip)]
    pub campaign_id: i64,
    pub sub_project: String,
    /// The name the file had on the phone (shown only).
    pub file_name: String,
    pub size_bytes: i64,
    /// Bytes received and kept; resume from here.
    pub received: i64,
    /// `receiving`, `checked`, or `expired` (claimed by the sweep of abandoned uploads).
    pub state: String,
    #[serde(skip)]
    pub stored_key: Option<String>,
    #[serde(skip)]
    pub clean_key: Option<String>,
    pub media_type: Option<String>,
    /// `accepted` or `rejected` once checked.
    pub verdict: Option<String>,
    /// The automatic findings (JSON), once checked.
    #[serde(skip)]
    pub report: Option<String>,
    pub created_at: i64,
}

const UPLOAD: &str =
    "SELECT id, owner_id, campaign_id, sub_project, file_name, size_bytes, received, state,
    stored_key, clean_key, media_type, verdict, report, created_at FROM uploads";

pub struct NewUpload<'a> {
    pub id: &'a str,
    pub owner_id: UserId,
    pub campaign_id: i64,
    pub sub_project: &'a str,
    pub file_name: &'a str,
    pub size_bytes: i64,
}

/// Records a new upload unless its owner already has `max_open` uploads still receiving;
/// false when refused. The owner's row is locked first, so concurrent announcements from one
/// account are counted one after another (on PostgreSQL too) and cannot pass the cap together.
pub async fn insert_upload(
    db: &Db,
    new: NewUpload<'_>,
    max_open: i64,
) -> Result<bool, sqlx::Error> {
    let now = unix_now();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&LOCK_OWNER)
        .bind(new.owner_id).execute(c).await.map(|r| r.rows_affected()))?;
    let open: i64 = on_tx!(&mut tx, c => query_scalar(&OPEN_UPLOADS)
        .bind(new.owner_id).fetch_one(c).await)?;
    if open >= max_open {
        return Ok(false);
    }
    on_tx!(&mut tx, c => query(&INSERT_UPLOAD)
        .bind(new.id).bind(new.owner_id).bind(new.campaign_id).bind(new.sub_project)
        .bind(new.file_name).bind(new.size_bytes).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(true)
}

pub async fn upload(db: &Db, id: &str) -> Result<Option<UploadRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, UploadRow>(&UPLOAD_BY_ID).bind(id).fetch_optional(pool).await)
}

/// Acknowledges bytes of an upload: moves `received` from `from` to `to`, for its owner and
/// while it is still receiving. The output is false when another request moved it first.
/// Concurrent uploads share commits through [`GroupCommit`](super::group_commit::GroupCommit).
/// The bytes from `from` to `to` are in the object `part_key`, which becomes part of the file.
#[derive(Debug, Clone)]
pub struct Advance {
    pub id: String,
    pub from: i64,
    pub to: i64,
    pub part_key: String,
}

impl super::group_commit::Write for Advance {
    type Output = bool;

    async fn apply(&self, tx: &mut Tx) -> Result<bool, sqlx::Error> {
        let n = on_tx!(tx, c => query(&ADVANCE)
            .bind(self.to).bind(unix_now()).bind(&self.id).bind(self.from)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if n != 1 {
            return Ok(false);
        }
        on_tx!(tx, c => query(&INSERT_PART)
            .bind(&self.id).bind(self.from).bind(self.to - self.from).bind(&self.part_key)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(true)
    }
}

/// The objects holding an upload's acknowledged bytes, in order.
pub async fn upload_parts(db: &Db, id: &str) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&UPLOAD_PARTS)
        .bind(id).fetch_all(pool).await)
}

/// The outcome of checking a complete upload.
pub struct Checked<'a> {
    /// The original and the metadata-free copy; none for a rejected file, which is not kept.
    pub stored_key: Option<&'a str>,
    pub clean_key: Option<&'a str>,
    /// A video's poster image, when one could be made.
    pub poster_key: Option<&'a str>,
    pub media_type: &'a str,
    pub verdict: &'a str,
    pub report: &'a str,
}

/// Records the check; false when another node recorded it first.
pub async fn mark_checked(db: &Db, id: &str, c: Checked<'_>) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, conn => query(&SET_CHECKED)
        .bind(c.stored_key).bind(c.clean_key).bind(c.media_type).bind(c.verdict).bind(c.report)
        .bind(unix_now()).bind(id).bind(c.poster_key)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    if n == 1 {
        // The parts are deleted next; the file is whole under its own keys now.
        on_tx!(&mut tx, conn => query(&DELETE_PARTS)
            .bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(n == 1)
}

/// Takes a checked upload for a submission, inside its transaction: marks it as touched now,
/// so the sweep of abandoned uploads leaves it alone. False when no work may take it (not
/// checked, claimed by the sweep, or already used by a work).
pub async fn take_upload(tx: &mut Tx, upload_id: &str) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&TAKE_UPLOAD)
        .bind(unix_now()).bind(upload_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// An upload the sweep deletes, with the objects it left in the file store.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Abandoned {
    pub id: String,
    pub stored_key: Option<String>,
    pub clean_key: Option<String>,
    pub poster_key: Option<String>,
}

/// Condition shared by the listing and the claim: no work uses the upload, no submission in a
/// work's history named it, and it was idle since `$1` (or a sweep already claimed it).
const ABANDONED: &str = "(state = 'expired' OR updated_at < $1)
    AND NOT EXISTS (SELECT 1 FROM works w WHERE w.upload_id = uploads.id)
    AND NOT EXISTS (SELECT 1 FROM work_events e WHERE e.upload_id = uploads.id)";

/// Up to `limit` abandoned uploads, the longest idle first.
pub async fn abandoned_uploads(
    db: &Db,
    idle_since: i64,
    limit: i64,
) -> Result<Vec<Abandoned>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Abandoned>(&ABANDONED_UPLOADS)
        .bind(idle_since).bind(limit).fetch_all(pool).await)
}

/// Claims an abandoned upload for deletion: from now on no submission can take it. False when
/// it is no longer abandoned (a worker touched or submitted it meanwhile).
pub async fn claim_abandoned(db: &Db, id: &str, idle_since: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => query(&CLAIM_ABANDONED)
        .bind(idle_since).bind(unix_now()).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Forgets a claimed upload once its objects are deleted.
pub async fn delete_expired(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&DELETE_EXPIRED)
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await
}

/// Whether a work already uses this upload.
pub async fn upload_in_use(tx: &mut Tx, upload_id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => query_scalar(&UPLOAD_IN_USE)
        .bind(upload_id).fetch_one(c).await)?;
    Ok(n > 0)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct WorkRow {
    pub id: WorkId,
    pub sub_project: String,
    pub org_id: OrgId,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub owner_id: UserId,
    pub filed_by: UserId,
    pub title: String,
    /// JSON list of the authors' real names.
    #[serde(skip)]
    pub authors: String,
    /// Full number; masked before it is shown to anyone but the author.
    #[serde(skip)]
    pub contact_phone: String,
    pub description: String,
    pub status: WorkStatus,
    pub upload_id: String,
    pub originality_version: String,
    pub originality_at: i64,
    pub portrait_version: String,
    pub portrait_at: i64,
    pub subtitles_declared: bool,
    pub decision_reason: Option<String>,
    pub decided_at: Option<i64>,
    pub submitted_at: i64,
    pub updated_at: i64,
    /// From the work's upload (one query for a whole list): the phone's file name, the type
    /// it is served as, and the automatic check as JSON.
    pub file_name: String,
    pub media_type: Option<String>,
    #[serde(skip)]
    pub report: Option<String>,
}

const WORK: &str = "SELECT w.id, w.sub_project, w.org_id, o.name AS org_name, o.path AS org_path, w.owner_id,
    w.filed_by, w.title, w.authors, w.contact_phone, w.description, w.status, w.upload_id,
    w.originality_version, w.originality_at, w.portrait_version, w.portrait_at,
    w.subtitles_declared <> 0 AS subtitles_declared, w.decision_reason, w.decided_at, w.submitted_at, w.updated_at,
    u.file_name, u.media_type, u.report
    FROM works w JOIN orgs o ON o.id = w.org_id JOIN uploads u ON u.id = w.upload_id";

pub struct NewWork<'a> {
    pub campaign_id: i64,
    pub sub_project: &'a str,
    pub org_id: OrgId,
    pub owner_id: UserId,
    pub filed_by: UserId,
    pub title: &'a str,
    pub authors: &'a str,
    pub contact_phone: &'a str,
    pub description: &'a str,
    pub upload_id: &'a str,
    pub originality_version: &'a str,
    pub portrait_version: &'a str,
    pub subtitles_declared: bool,
}

pub async fn insert_work(tx: &mut Tx, new: NewWork<'_>) -> Result<WorkId, sqlx::Error> {
    let now = unix_now();
    on_tx!(tx, c => query_scalar(&INSERT_WORK)
        .bind(new.campaign_id).bind(new.sub_project).bind(new.org_id).bind(new.owner_id).bind(new.filed_by)
        .bind(new.title).bind(new.authors).bind(new.contact_phone).bind(new.description).bind(new.upload_id)
        .bind(new.originality_version).bind(now).bind(new.portrait_version)
        .bind(i64::from(new.subtitles_declared))
        .fetch_one(c).await)
}

/// Replaces a returned work's content and file and puts it back in the queue; false when the
/// work was not in `returned` any more.
pub async fn resubmit(tx: &mut Tx, id: WorkId, new: &NewWork<'_>) -> Result<bool, sqlx::Error> {
    let now = unix_now();
    let n = on_tx!(tx, c => query(&RESUBMIT)
        .bind(new.title).bind(new.authors).bind(new.contact_phone).bind(new.description).bind(new.upload_id)
        .bind(new.originality_version).bind(now).bind(new.portrait_version)
        .bind(i64::from(new.subtitles_declared)).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records a decision if the work is still waiting for one.
pub async fn decide(
    tx: &mut Tx,
    id: WorkId,
    status: &str,
    reason: &str,
    by: UserId,
) -> Result<bool, sqlx::Error> {
    let now = unix_now();
    let n = on_tx!(tx, c => query(&DECIDE)
        .bind(status).bind(reason).bind(by).bind(now).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn add_event(
    tx: &mut Tx,
    work_id: WorkId,
    actor_id: UserId,
    action: &str,
    reason: Option<&str>,
    upload_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&ADD_EVENT)
        .bind(work_id).bind(actor_id).bind(action).bind(reason).bind(upload_id).bind(unix_now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct WorkEvent {
    pub action: String,
    pub reason: Option<String>,
    pub actor_name: String,
    pub at: i64,
}

pub async fn events(db: &Db, work_id: WorkId) -> Result<Vec<WorkEvent>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, WorkEvent>(&EVENTS)
        .bind(work_id).fetch_all(pool).await)
}

pub async fn work(db: &Db, id: WorkId) -> Result<Option<WorkRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, WorkRow>(&WORK_BY_ID).bind(id).fetch_optional(pool).await)
}

/// Which works a listing shows.
pub enum Filter<'a> {
    /// A worker's own works.
    Owner(UserId),
    /// Works of units in a scope (unit admins).
    Scope(&'a Scope),
    /// Works of the sub-projects a moderator is assigned.
    Assigned(UserId),
    /// Everything (the city).
    All,
}

/// The newest `limit` works (see `LIST`); whole lists are read a page at a time (`page`).
pub async fn list(
    db: &Db,
    campaign_id: i64,
    filter: Filter<'_>,
    sub_project: &str,
    status: &str,
    limit: i64,
) -> Result<Vec<WorkRow>, sqlx::Error> {
    // The filter narrows by owner, unit subtree or a moderator's sub-projects; the city sees all.
    let (owner, prefix, moderator) = match filter {
        Filter::Owner(id) => (id.get(), "/%".to_string(), 0),
        Filter::Scope(scope) => (0, format!("{}%", scope.prefix), 0),
        Filter::Assigned(id) => (0, "/%".to_string(), id.get()),
        Filter::All => (0, "/%".to_string(), 0),
    };
    on_pool!(db, pool => query_as::<_, WorkRow>(&LIST)
        .bind(campaign_id).bind(sub_project).bind(status).bind(owner).bind(prefix).bind(moderator)
        .bind(limit).fetch_all(pool).await)
}

/// What a paged works list is narrowed to; empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub sub_project: String,
    pub status: String,
    /// The materialised path of a unit in the caller's scope: its subtree only.
    pub under: String,
    /// Words in the title, an author's name or the unit's name (matched literally).
    pub search: String,
}

/// Where a keyset page starts: after the work with this (submitted_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub submitted_at: i64,
    pub id: WorkId,
}

/// The binds `$1`..`$7` of `PAGE` and `COUNT_MATCHING`.
fn page_binds(filter: &Filter<'_>, list: &ListFilter) -> (i64, String, i64, String) {
    let (owner, base, moderator) = match filter {
        Filter::Owner(id) => (id.get(), "/".to_string(), 0),
        Filter::Scope(scope) => (0, scope.prefix.clone(), 0),
        Filter::Assigned(id) => (0, "/".to_string(), id.get()),
        Filter::All => (0, "/".to_string(), 0),
    };
    // A unit filter narrows the scope, never widens it.
    let prefix = if !list.under.is_empty() && list.under.starts_with(&base) {
        list.under.clone()
    } else {
        base
    };
    let needle = list.search.trim();
    let pattern = if needle.is_empty() {
        String::new()
    } else {
        format!("%{}%", super::orgs::escape_like(needle))
    };
    (owner, format!("{prefix}%"), moderator, pattern)
}

/// How many works the filter matches, without reading them.
pub async fn count(
    db: &Db,
    campaign_id: i64,
    filter: Filter<'_>,
    list: &ListFilter,
) -> Result<i64, sqlx::Error> {
    let (owner, prefix, moderator, pattern) = page_binds(&filter, list);
    on_pool!(db, pool => query_scalar::<_, i64>(&COUNT_MATCHING)
        .bind(campaign_id).bind(&list.sub_project).bind(&list.status).bind(owner).bind(&prefix)
        .bind(moderator).bind(&pattern)
        .fetch_one(pool).await)
}

/// One keyset page of at most `limit` works, oldest submission first, after `after`; and how
/// many the filter matches in all.
pub async fn page(
    db: &Db,
    campaign_id: i64,
    filter: Filter<'_>,
    list: &ListFilter,
    after: Option<After>,
    limit: i64,
) -> Result<(Vec<WorkRow>, i64), sqlx::Error> {
    let (owner, prefix, moderator, pattern) = page_binds(&filter, list);
    let (first, at, id) = match after {
        Some(a) => (1_i64, a.submitted_at, a.id.get()),
        None => (0, 0, 0),
    };
    let rows = on_pool!(db, pool => query_as::<_, WorkRow>(&PAGE)
        .bind(campaign_id).bind(&list.sub_project).bind(&list.status).bind(owner).bind(&prefix)
        .bind(moderator).bind(&pattern).bind(first).bind(at).bind(id).bind(limit.max(0))
        .fetch_all(pool).await)?;
    Ok((rows, count(db, campaign_id, filter, list).await?))
}

/// The sub-projects a moderator checks in a campaign, in code order.
pub async fn assignments(
    db: &Db,
    user_id: UserId,
    campaign_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&ASSIGNMENTS)
        .bind(user_id).bind(campaign_id).fetch_all(pool).await)
}

/// Whether the moderator is assigned the sub-project of work `work_id`.
pub async fn assigned_to_work(
    db: &Db,
    user_id: UserId,
    work_id: WorkId,
) -> Result<bool, sqlx::Error> {
    let n: i64 = on_pool!(db, pool => query_scalar(&ASSIGNED_TO_WORK)
        .bind(user_id).bind(work_id).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// Replaces a moderator's sub-projects in a campaign.
pub async fn set_assignments(
    tx: &mut Tx,
    user_id: UserId,
    campaign_id: i64,
    sub_projects: &[String],
    by: Option<UserId>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&DELETE_ASSIGNMENTS)
        .bind(user_id).bind(campaign_id).execute(c).await.map(|r| r.rows_affected()))?;
    for code in sub_projects {
        on_tx!(tx, c => query(&INSERT_ASSIGNMENT)
            .bind(user_id).bind(campaign_id).bind(code).bind(by).bind(unix_now())
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ParticipationRow {
    pub id: i64,
    pub sub_project: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub work_title: String,
    pub authors: String,
    pub submitted_to: String,
    pub reference: String,
    pub submitted_on: String,
    pub created_at: i64,
}

pub struct NewParticipation<'a> {
    pub campaign_id: i64,
    pub sub_project: &'a str,
    pub org_id: OrgId,
    pub work_title: &'a str,
    pub authors: &'a str,
    pub submitted_to: &'a str,
    pub reference: &'a str,
    pub submitted_on: &'a str,
    pub recorded_by: UserId,
}

pub async fn insert_participation(
    tx: &mut Tx,
    new: NewParticipation<'_>,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT_PARTICIPATION)
        .bind(new.campaign_id).bind(new.sub_project).bind(new.org_id).bind(new.work_title).bind(new.authors)
        .bind(new.submitted_to).bind(new.reference).bind(new.submitted_on).bind(new.recorded_by).bind(unix_now())
        .fetch_one(c).await)
}

pub async fn participations(
    db: &Db,
    scope: &Scope,
    campaign_id: i64,
) -> Result<Vec<ParticipationRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, ParticipationRow>(&PARTICIPATIONS)
        .bind(campaign_id).bind(format!("{}%", scope.prefix)).fetch_all(pool).await)
}

/// Works and participation records per sub-project within a scope: the city's count of
/// participation in all eight.
pub async fn participation_counts(
    db: &Db,
    scope: &Scope,
    campaign_id: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, (String, i64)>(&PARTICIPATION_COUNTS)
        .bind(campaign_id).bind(format!("{}%", scope.prefix)).fetch_all(pool).await)
}
