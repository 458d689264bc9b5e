//! 公示, their entries and the objections lodged against them.

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::{CampaignId, UserId};
use crate::domain::publicity::{ObjectionState, PublicityKind, PublicityState};

statements! {
    INSERT = "INSERT INTO publicities (campaign_id, kind, title, notice, contact, workdays, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    INSERT_ENTRY = "INSERT INTO publicity_entries (publicity_id, position, subject_kind, subject_id, title, unit, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
    LIST = "SELECT id, campaign_id, kind, title, notice, contact, workdays, state, starts_on, ends_on, version, created_at
     FROM publicities WHERE campaign_id = $1 ORDER BY id DESC";
    ONE = "SELECT id, campaign_id, kind, title, notice, contact, workdays, state, starts_on, ends_on, version, created_at
     FROM publicities WHERE id = $1";
    ENTRIES = "SELECT id, position, subject_kind, subject_id, title, unit, detail, withdrawn_reason
     FROM publicity_entries WHERE publicity_id = $1 ORDER BY position";
    /// Opens a draft; the version guards against two admins acting on the same page.
    PUBLISH = "UPDATE publicities SET state = 'open', starts_on = $1, ends_on = $2, published_at = $3, version = version + 1
     WHERE id = $4 AND state = 'draft' AND version = $5";
    CLOSE = "UPDATE publicities SET state = 'closed', closed_at = $1, version = version + 1
     WHERE id = $2 AND state = 'open' AND version = $3";
    /// Locks the 公示's row for the rest of the transaction (SQLite: the write lock is held).
    LOCK = "UPDATE publicities SET version = version WHERE id = $1 RETURNING state, starts_on, ends_on";
    /// Serialises drafting within a campaign (a row lock on PostgreSQL; SQLite's write lock is
    /// already held), so the count below cannot be outrun by concurrent drafts.
    LOCK_CAMPAIGN = "UPDATE campaigns SET updated_at = updated_at WHERE id = $1";
    COUNT_IN_CAMPAIGN = "SELECT COUNT(*) FROM publicities WHERE campaign_id = $1";
    OBJECTION = "SELECT x.id, x.entry_id, e.title AS entry_title, x.name, x.phone, x.reason, x.evidence_key, x.evidence_type,
            x.lodged_at, x.state, x.ruling, x.ruled_at
     FROM objections x JOIN publicity_entries e ON e.id = x.entry_id
     WHERE x.publicity_id = $1 AND x.id = $2";
    /// Whether an entry is on the 公示 and still listed.
    ENTRY_LISTED = "SELECT COUNT(*) FROM publicity_entries WHERE id = $1 AND publicity_id = $2 AND withdrawn_at IS NULL";
    COUNT_OBJECTIONS = "SELECT COUNT(*) FROM objections WHERE publicity_id = $1";
    PENDING_OBJECTIONS = "SELECT COUNT(*) FROM objections WHERE publicity_id = $1 AND state = 'pending'";
    FROM_ADDRESS_SINCE = "SELECT COUNT(*) FROM objections WHERE ip = $1 AND lodged_at >= $2";
    INSERT_OBJECTION = "INSERT INTO objections (publicity_id, entry_id, receipt_hash, name, phone, reason, evidence_key, evidence_type, lodged_at, ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    OBJECTIONS = "SELECT x.id, x.entry_id, e.title AS entry_title, x.name, x.phone, x.reason, x.evidence_key, x.evidence_type,
            x.lodged_at, x.state, x.ruling, x.ruled_at
     FROM objections x JOIN publicity_entries e ON e.id = x.entry_id
     WHERE x.publicity_id = $1 ORDER BY x.id";
    BY_RECEIPT = "SELECT x.id, x.publicity_id, p.title AS publicity_title, e.title AS entry_title, x.lodged_at, x.state, x.ruling, x.ruled_at
     FROM objections x JOIN publicities p ON p.id = x.publicity_id JOIN publicity_entries e ON e.id = x.entry_id
     WHERE x.receipt_hash = $1";
    RULE = "UPDATE objections SET state = $1, ruling = $2, ruled_by = $3, ruled_at = $4
     WHERE id = $5 AND publicity_id = $6 AND state = 'pending' RETURNING entry_id";
    WITHDRAW = "UPDATE publicity_entries SET withdrawn_reason = $1, withdrawn_at = $2
     WHERE id = $3 AND publicity_id = $4 AND withdrawn_at IS NULL";
    /// Works a 公示 may list: accepted by a moderator, in this campaign.
    ACCEPTED_WORKS = "SELECT w.id, w.sub_project, w.title, o.name AS unit
     FROM works w JOIN orgs o ON o.id = w.org_id
     WHERE w.campaign_id = $1 AND w.status = 'accepted' ORDER BY w.sub_project, w.id LIMIT $2";
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Publicity {
    pub id: i64,
    pub campaign_id: CampaignId,
    pub kind: PublicityKind,
    pub title: String,
    pub notice: String,
    pub contact: String,
    pub workdays: i64,
    pub state: PublicityState,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub version: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub position: i64,
    pub subject_kind: String,
    pub subject_id: i64,
    pub title: String,
    pub unit: String,
    pub detail: String,
    pub withdrawn_reason: Option<String>,
}

pub struct NewPublicity<'a> {
    pub campaign_id: CampaignId,
    pub kind: PublicityKind,
    pub title: &'a str,
    pub notice: &'a str,
    pub contact: &'a str,
    pub workdays: u32,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

pub struct NewEntry {
    pub subject_kind: &'static str,
    pub subject_id: i64,
    pub title: String,
    pub unit: String,
    pub detail: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Objection {
    pub id: i64,
    pub entry_id: i64,
    pub entry_title: String,
    pub name: String,
    pub phone: String,
    pub reason: String,
    pub evidence_key: Option<String>,
    pub evidence_type: Option<String>,
    pub lodged_at: i64,
    pub state: ObjectionState,
    pub ruling: Option<String>,
    pub ruled_at: Option<i64>,
}

/// What an objector sees of their own objection.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Receipt {
    pub id: i64,
    pub publicity_id: i64,
    pub publicity_title: String,
    pub entry_title: String,
    pub lodged_at: i64,
    pub state: ObjectionState,
    pub ruling: Option<String>,
    pub ruled_at: Option<i64>,
}

pub struct NewObjection<'a> {
    pub publicity_id: i64,
    pub entry_id: i64,
    pub receipt_hash: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub reason: &'a str,
    pub evidence_key: Option<&'a str>,
    pub evidence_type: Option<&'a str>,
    pub lodged_at: i64,
    pub ip: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AcceptedWork {
    pub id: i64,
    pub sub_project: String,
    pub title: String,
    pub unit: String,
}

pub async fn insert(tx: &mut Tx, p: &NewPublicity<'_>) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT)
        .bind(p.campaign_id)
        .bind(p.kind)
        .bind(p.title)
        .bind(p.notice)
        .bind(p.contact)
        .bind(i64::from(p.workdays))
        .bind(p.created_by)
        .bind(p.created_at)
        .fetch_one(c)
        .await)
}

pub async fn insert_entry(
    tx: &mut Tx,
    publicity_id: i64,
    position: i64,
    e: &NewEntry,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&INSERT_ENTRY)
        .bind(publicity_id)
        .bind(position)
        .bind(e.subject_kind)
        .bind(e.subject_id)
        .bind(&e.title)
        .bind(&e.unit)
        .bind(&e.detail)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn list(db: &Db, campaign_id: CampaignId) -> Result<Vec<Publicity>, sqlx::Error> {
    on_pool!(db, pool => query_as(&LIST).bind(campaign_id).fetch_all(pool).await)
}

pub async fn one(db: &Db, id: i64) -> Result<Option<Publicity>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ONE).bind(id).fetch_optional(pool).await)
}

pub async fn entries(db: &Db, id: i64) -> Result<Vec<Entry>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ENTRIES).bind(id).fetch_all(pool).await)
}

/// Opens a draft for objections; false when it is not a draft at `version` any more.
pub async fn publish(
    tx: &mut Tx,
    id: i64,
    version: i64,
    starts_on: &str,
    ends_on: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&PUBLISH)
        .bind(starts_on)
        .bind(ends_on)
        .bind(at)
        .bind(id)
        .bind(version)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn close(tx: &mut Tx, id: i64, version: i64, at: i64) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&CLOSE)
        .bind(at)
        .bind(id)
        .bind(version)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Locks a 公示 for the transaction; returns its state and window.
pub async fn lock(
    tx: &mut Tx,
    id: i64,
) -> Result<Option<(PublicityState, Option<String>, Option<String>)>, sqlx::Error> {
    on_tx!(tx, c => query_as(&LOCK).bind(id).fetch_optional(c).await)
}

/// Locks the campaign's drafting and counts its 公示 (inside the drafting transaction).
pub async fn lock_and_count(tx: &mut Tx, campaign_id: CampaignId) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query(&LOCK_CAMPAIGN).bind(campaign_id).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => query_scalar(&COUNT_IN_CAMPAIGN).bind(campaign_id).fetch_one(c).await)
}

pub async fn objection(
    db: &Db,
    publicity_id: i64,
    objection_id: i64,
) -> Result<Option<Objection>, sqlx::Error> {
    on_pool!(db, pool => query_as(&OBJECTION).bind(publicity_id).bind(objection_id).fetch_optional(pool).await)
}

pub async fn entry_listed(
    tx: &mut Tx,
    publicity_id: i64,
    entry_id: i64,
) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => query_scalar(&ENTRY_LISTED).bind(entry_id).bind(publicity_id).fetch_one(c).await)?;
    Ok(n == 1)
}

pub async fn count_objections(tx: &mut Tx, id: i64) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&COUNT_OBJECTIONS).bind(id).fetch_one(c).await)
}

pub async fn pending_objections(tx: &mut Tx, id: i64) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&PENDING_OBJECTIONS).bind(id).fetch_one(c).await)
}

pub async fn from_address_since(tx: &mut Tx, ip: &str, since: i64) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&FROM_ADDRESS_SINCE).bind(ip).bind(since).fetch_one(c).await)
}

pub async fn insert_objection(tx: &mut Tx, o: &NewObjection<'_>) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT_OBJECTION)
        .bind(o.publicity_id)
        .bind(o.entry_id)
        .bind(o.receipt_hash)
        .bind(o.name)
        .bind(o.phone)
        .bind(o.reason)
        .bind(o.evidence_key)
        .bind(o.evidence_type)
        .bind(o.lodged_at)
        .bind(o.ip)
        .fetch_one(c)
        .await)
}

pub async fn objections(db: &Db, publicity_id: i64) -> Result<Vec<Objection>, sqlx::Error> {
    on_pool!(db, pool => query_as(&OBJECTIONS).bind(publicity_id).fetch_all(pool).await)
}

pub async fn by_receipt(db: &Db, receipt_hash: &str) -> Result<Option<Receipt>, sqlx::Error> {
    on_pool!(db, pool => query_as(&BY_RECEIPT).bind(receipt_hash).fetch_optional(pool).await)
}

/// Rules on a pending objection; returns its entry, or None when it was ruled on meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn rule(
    tx: &mut Tx,
    publicity_id: i64,
    objection_id: i64,
    state: ObjectionState,
    ruling: &str,
    by: Option<UserId>,
    at: i64,
) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&RULE)
        .bind(state)
        .bind(ruling)
        .bind(by)
        .bind(at)
        .bind(objection_id)
        .bind(publicity_id)
        .fetch_optional(c)
        .await)
}

pub async fn withdraw(
    tx: &mut Tx,
    publicity_id: i64,
    entry_id: i64,
    reason: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&WITHDRAW)
        .bind(reason)
        .bind(at)
        .bind(entry_id)
        .bind(publicity_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn accepted_works(
    db: &Db,
    campaign_id: CampaignId,
    limit: i64,
) -> Result<Vec<AcceptedWork>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ACCEPTED_WORKS).bind(campaign_id).bind(limit).fetch_all(pool).await)
}
