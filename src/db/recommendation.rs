//! Recommendation: the works recommended upward per sub-project and the national results.
//! City-only statements: they read authors, unit and phone for the 推荐表.

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::{CampaignId, UserId, WorkId};

statements! {
    /// Serialises picking within a campaign (a row lock on PostgreSQL; SQLite's write lock is
    /// already held), so the count under it cannot be outrun by a concurrent pick.
    LOCK_CAMPAIGN = "UPDATE campaigns SET updated_at = updated_at WHERE id = $1";
    IDS_IN_SUB = "SELECT work_id FROM recommendations WHERE campaign_id = $1 AND sub_project = $2 ORDER BY position";
    FIXED_IN_SUB = "SELECT COUNT(*) FROM recommendations WHERE campaign_id = $1 AND sub_project = $2 AND publicity_id IS NOT NULL";
    NEXT_POSITION = "SELECT COALESCE(MAX(position), 0) + 1 FROM recommendations WHERE campaign_id = $1 AND sub_project = $2";
    INSERT = "INSERT INTO recommendations (campaign_id, sub_project, work_id, position, rank, score_centi, reason, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (campaign_id, work_id) DO NOTHING";
    /// Removes a pick while its list is not yet on a 公示.
    DELETE = "DELETE FROM recommendations WHERE campaign_id = $1 AND work_id = $2 AND publicity_id IS NULL RETURNING sub_project";
    SET_PUBLICITY = "UPDATE recommendations SET publicity_id = $1 WHERE campaign_id = $2 AND sub_project = $3 AND publicity_id IS NULL";
    /// A work the city may pick: accepted, in this campaign and sub-project.
    PICKABLE = "SELECT w.id, w.title, o.name AS unit FROM works w JOIN orgs o ON o.id = w.org_id
     WHERE w.id = $1 AND w.campaign_id = $2 AND w.sub_project = $3 AND w.status = 'accepted'";
    /// The list with what the 汇总表 and 推荐表 need, ranked works first in rank order, then the
    /// others in the order picked; `withdrawn_reason` when the 公示 withdrew the entry.
    LIST = "SELECT r.work_id, r.sub_project, r.rank, r.score_centi, r.reason, r.publicity_id,
            w.title, w.authors, w.contact_phone, w.description, o.name AS unit, u.clean_key, u.media_type,
            e.withdrawn_reason
     FROM recommendations r JOIN works w ON w.id = r.work_id JOIN orgs o ON o.id = w.org_id
     JOIN uploads u ON u.id = w.upload_id
     LEFT JOIN publicity_entries e ON e.publicity_id = r.publicity_id AND e.subject_kind = 'work' AND e.subject_id = r.work_id
     WHERE r.campaign_id = $1 AND ($2 = '' OR r.sub_project = $2)
     ORDER BY r.sub_project, COALESCE(r.rank, 9223372036854775807), r.position";
    ACCEPTED = "SELECT w.id, w.title, o.name AS unit, w.sub_project FROM works w JOIN orgs o ON o.id = w.org_id
     WHERE w.campaign_id = $1 AND w.status = 'accepted' ORDER BY w.id";
    RESULT_UPSERT = "INSERT INTO national_results (campaign_id, work_id, award, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (campaign_id, work_id) DO UPDATE SET award = excluded.award, imported_by = excluded.imported_by, imported_at = excluded.imported_at";
    RESULT_OF = "SELECT award FROM national_results WHERE work_id = $1";
    RESULTS = "SELECT n.work_id, n.award, w.title, o.name AS unit, w.sub_project
     FROM national_results n JOIN works w ON w.id = n.work_id JOIN orgs o ON o.id = w.org_id
     WHERE n.campaign_id = $1 ORDER BY w.sub_project, n.work_id";
    /// Awarded works per level within a scope (a unit's subtree), for the progress figures.
    AWARDS_IN_SCOPE = "SELECT n.award, COUNT(*) FROM national_results n JOIN works w ON w.id = n.work_id
     JOIN orgs o ON o.id = w.org_id WHERE n.campaign_id = $1 AND o.path LIKE $2 GROUP BY n.award";
}

/// A recommended work with what the package needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recommended {
    pub work_id: WorkId,
    pub sub_project: String,
    pub rank: Option<i64>,
    pub score_centi: Option<i64>,
    pub reason: Option<String>,
    pub publicity_id: Option<i64>,
    pub title: String,
    /// JSON list of names.
    pub authors: String,
    pub contact_phone: String,
    pub description: String,
    pub unit: String,
    pub clean_key: Option<String>,
    pub media_type: Option<String>,
    pub withdrawn_reason: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pickable {
    pub id: WorkId,
    pub title: String,
    pub unit: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AcceptedWork {
    pub id: WorkId,
    pub title: String,
    pub unit: String,
    pub sub_project: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NationalResult {
    pub work_id: WorkId,
    pub award: String,
    pub title: String,
    pub unit: String,
    pub sub_project: String,
}

pub struct NewPick<'a> {
    pub campaign_id: CampaignId,
    pub sub_project: &'a str,
    pub work_id: WorkId,
    pub rank: Option<i64>,
    pub score_centi: Option<i64>,
    pub reason: Option<&'a str>,
    pub by: Option<UserId>,
    pub at: i64,
}

/// Locks the campaign row for the transaction; the picks counted after it are final.
pub async fn lock_campaign(tx: &mut Tx, campaign_id: CampaignId) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&LOCK_CAMPAIGN).bind(campaign_id).execute(c).await.map(|_| ()))
}

pub async fn ids_in_sub(
    tx: &mut Tx,
    campaign_id: CampaignId,
    sub_project: &str,
) -> Result<Vec<WorkId>, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&IDS_IN_SUB).bind(campaign_id).bind(sub_project).fetch_all(c).await)
}

pub async fn fixed_in_sub(
    tx: &mut Tx,
    campaign_id: CampaignId,
    sub_project: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => query_scalar(&FIXED_IN_SUB).bind(campaign_id).bind(sub_project).fetch_one(c).await)?;
    Ok(n > 0)
}

/// Adds a pick; false when the work was on the list already.
pub async fn insert(tx: &mut Tx, p: &NewPick<'_>) -> Result<bool, sqlx::Error> {
    let position: i64 = on_tx!(tx, c => query_scalar(&NEXT_POSITION)
        .bind(p.campaign_id).bind(p.sub_project).fetch_one(c).await)?;
    let done = on_tx!(tx, c => query(&INSERT)
        .bind(p.campaign_id)
        .bind(p.sub_project)
        .bind(p.work_id)
        .bind(position)
        .bind(p.rank)
        .bind(p.score_centi)
        .bind(p.reason)
        .bind(p.by)
        .bind(p.at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Removes a pick not yet on a 公示; returns its sub-project.
pub async fn delete(
    tx: &mut Tx,
    campaign_id: CampaignId,
    work_id: WorkId,
) -> Result<Option<String>, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&DELETE).bind(campaign_id).bind(work_id).fetch_optional(c).await)
}

pub async fn set_publicity(
    tx: &mut Tx,
    campaign_id: CampaignId,
    sub_project: &str,
    publicity_id: i64,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => query(&SET_PUBLICITY)
        .bind(publicity_id)
        .bind(campaign_id)
        .bind(sub_project)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

pub async fn pickable(
    tx: &mut Tx,
    campaign_id: CampaignId,
    sub_project: &str,
    work_id: WorkId,
) -> Result<Option<Pickable>, sqlx::Error> {
    on_tx!(tx, c => query_as(&PICKABLE).bind(work_id).bind(campaign_id).bind(sub_project).fetch_optional(c).await)
}

/// The recommended list of one sub-project (`""`: of all).
pub async fn list(
    db: &Db,
    campaign_id: CampaignId,
    sub_project: &str,
) -> Result<Vec<Recommended>, sqlx::Error> {
    on_pool!(db, pool => query_as(&LIST).bind(campaign_id).bind(sub_project).fetch_all(pool).await)
}

pub async fn accepted(db: &Db, campaign_id: CampaignId) -> Result<Vec<AcceptedWork>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ACCEPTED).bind(campaign_id).fetch_all(pool).await)
}

pub async fn upsert_result(
    tx: &mut Tx,
    campaign_id: CampaignId,
    work_id: WorkId,
    award: &str,
    by: Option<UserId>,
    at: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&RESULT_UPSERT)
        .bind(campaign_id)
        .bind(work_id)
        .bind(award)
        .bind(by)
        .bind(at)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn result_of(db: &Db, work_id: WorkId) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&RESULT_OF).bind(work_id).fetch_optional(pool).await)
}

pub async fn results(db: &Db, campaign_id: CampaignId) -> Result<Vec<NationalResult>, sqlx::Error> {
    on_pool!(db, pool => query_as(&RESULTS).bind(campaign_id).fetch_all(pool).await)
}

/// (level, works) within the subtree whose path starts with `prefix`, best level first.
pub async fn awards_in_scope(
    db: &Db,
    campaign_id: CampaignId,
    prefix: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let mut rows: Vec<(String, i64)> = on_pool!(db, pool => query_as(&AWARDS_IN_SCOPE)
        .bind(campaign_id).bind(format!("{prefix}%")).fetch_all(pool).await)?;
    rows.sort_by_key(|(a, _)| crate::domain::recommendation::award_order(a));
    Ok(rows)
}
