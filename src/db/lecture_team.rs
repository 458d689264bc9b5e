//! The lecture team: model nominations (推荐), the joint selection's decisions and the roster.

use super::orgs::Scope;
use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::{CampaignId, OrgId, UserId};

macro_rules! nomination_select {
    () => {
        "SELECT n.id, n.org_id, o.name AS org_name, o.path AS org_path, n.name, n.phone, n.workplace, n.post,
        n.political_status, n.accounts, n.deeds, n.summary, n.links, n.photo_key, n.consent_version, n.status,
        n.return_reason, n.union_decision, n.union_reason, n.liaison_decision, n.liaison_reason, n.version, n.created_at
     FROM model_nominations n JOIN orgs o ON o.id = n.org_id"
    };
}

statements! {
    INSERT_NOMINATION = "INSERT INTO model_nominations (campaign_id, org_id, name, person_key, phone, workplace, post, political_status,
        accounts, deeds, summary, links, consent_version, consent_at, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14, $14) RETURNING id";
    /// Serialises nominating within a campaign (a row lock on PostgreSQL; SQLite's write lock is
    /// already held), so the unit's count below cannot be outrun by a concurrent nomination.
    LOCK_CAMPAIGN = "UPDATE campaigns SET updated_at = updated_at WHERE id = $1";
    COUNT_FOR_UNIT = "SELECT COUNT(*) FROM model_nominations WHERE campaign_id = $1 AND org_id = $2";
    /// Another nomination of the same person (normalised name and phone) in the campaign.
    SAME_PERSON = "SELECT COUNT(*) FROM model_nominations WHERE campaign_id = $1 AND person_key = $2 AND phone = $3 AND id <> $4";
    NOMINATIONS = concat!(nomination_select!(), " WHERE n.campaign_id = $1 AND o.path LIKE $2 ORDER BY n.id LIMIT $3");
    NOMINATION_ONE = concat!(nomination_select!(), " WHERE n.id = $1 AND n.campaign_id = $2 AND o.path LIKE $3");
    /// The unit corrects a nomination still with it or the city; it goes to the city again.
    UPDATE_NOMINATION = "UPDATE model_nominations SET name = $1, person_key = $2, phone = $3, workplace = $4, post = $5,
        political_status = $6, accounts = $7, deeds = $8, summary = $9, links = $10, consent_version = $11, consent_at = $12,
        updated_at = $12, status = 'submitted', return_reason = NULL, version = version + 1
     WHERE id = $13 AND version = $14 AND status IN ('submitted', 'returned')";
    /// A status change, compare-and-set on the status and the version the actor saw.
    SET_STATUS = "UPDATE model_nominations SET status = $1, return_reason = $2, updated_at = $3, version = version + 1
     WHERE id = $4 AND status = $5 AND version = $6";
    /// One side's decision, taken once, only while shortlisted; returns both sides' decisions.
    DECIDE_UNION = "UPDATE model_nominations SET union_decision = $1, union_reason = $2, union_by = $3, updated_at = $4, version = version + 1
     WHERE id = $5 AND status = 'shortlisted' AND union_decision IS NULL RETURNING union_decision, liaison_decision";
    DECIDE_LIAISON = "UPDATE model_nominations SET liaison_decision = $1, liaison_reason = $2, liaison_by = $3, updated_at = $4, version = version + 1
     WHERE id = $5 AND status = 'shortlisted' AND liaison_decision IS NULL RETURNING union_decision, liaison_decision";
    /// The joint outcome, set in the same transaction as the decision that decides it.
    SET_OUTCOME = "UPDATE model_nominations SET status = $1 WHERE id = $2 AND status = 'shortlisted'";
    SET_PHOTO = "UPDATE model_nominations SET photo_key = $1, updated_at = $2, version = version + 1
     WHERE id = $3 AND status IN ('submitted', 'returned')";
    /// Nominations both sides approved, as a 公示 lists them.
    ENDORSED = "SELECT n.id, n.name, n.workplace, o.name AS org_name FROM model_nominations n JOIN orgs o ON o.id = n.org_id
     WHERE n.campaign_id = $1 AND n.status = 'endorsed' ORDER BY n.id LIMIT $2";
    /// After a models 公示 closed: its listed entries are selected, its withdrawn ones rejected.
    SELECT_LISTED = "UPDATE model_nominations SET status = 'selected', version = version + 1
     WHERE status = 'endorsed' AND id IN (SELECT subject_id FROM publicity_entries
        WHERE publicity_id = $1 AND subject_kind = 'model' AND withdrawn_at IS NULL)";
    REJECT_WITHDRAWN = "UPDATE model_nominations SET status = 'rejected', version = version + 1
     WHERE status = 'endorsed' AND id IN (SELECT subject_id FROM publicity_entries
        WHERE publicity_id = $1 AND subject_kind = 'model' AND withdrawn_at IS NOT NULL)";
    /// Selected models join the roster once (the nomination is unique there).
    JOIN_SELECTED = "INSERT INTO lecture_members (campaign_id, nomination_id, category, name, workplace, summary, photo_key, consent_version, added_by, added_at)
     SELECT campaign_id, id, $1, name, workplace, summary, photo_key, consent_version, $2, $3 FROM model_nominations
     WHERE campaign_id = $4 AND status = 'selected' ON CONFLICT (nomination_id) DO NOTHING";
    COUNT_MEMBERS = "SELECT COUNT(*) FROM lecture_members WHERE campaign_id = $1";
    INSERT_MEMBER = "INSERT INTO lecture_members (campaign_id, category, name, workplace, summary, consent_version, added_by, added_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    MEMBERS = "SELECT id, nomination_id, category, name, workplace, summary, photo_key, retired_reason, retired_at, added_at
     FROM lecture_members WHERE campaign_id = $1 ORDER BY retired_at IS NOT NULL, id LIMIT $2";
    MEMBER_PHOTO = "SELECT photo_key FROM lecture_members WHERE id = $1 AND campaign_id = $2 AND retired_at IS NULL";
    RETIRE = "UPDATE lecture_members SET retired_reason = $1, retired_at = $2 WHERE id = $3 AND campaign_id = $4 AND retired_at IS NULL";
    NOMINATION_PHOTO = "SELECT n.photo_key FROM model_nominations n JOIN orgs o ON o.id = n.org_id
     WHERE n.id = $1 AND n.campaign_id = $2 AND o.path LIKE $3";
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Nomination {
    pub id: i64,
    pub org_id: OrgId,
    pub org_name: String,
    pub org_path: String,
    pub name: String,
    pub phone: String,
    pub workplace: String,
    pub post: String,
    pub political_status: String,
    pub accounts: String,
    pub deeds: String,
    pub summary: String,
    pub links: String,
    pub photo_key: Option<String>,
    pub consent_version: String,
    pub status: String,
    pub return_reason: Option<String>,
    pub union_decision: Option<String>,
    pub union_reason: Option<String>,
    pub liaison_decision: Option<String>,
    pub liaison_reason: Option<String>,
    pub version: i64,
    pub created_at: i64,
}

/// A nomination's fields as checked by the service.
pub struct NominationFields<'a> {
    pub name: &'a str,
    pub person_key: &'a str,
    pub phone: &'a str,
    pub workplace: &'a str,
    pub post: &'a str,
    pub political_status: &'a str,
    pub accounts: &'a str,
    pub deeds: &'a str,
    pub summary: &'a str,
    pub links: &'a str,
    pub consent_version: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Endorsed {
    pub id: i64,
    pub name: String,
    pub workplace: String,
    pub org_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub nomination_id: Option<i64>,
    pub category: String,
    pub name: String,
    pub workplace: String,
    pub summary: String,
    pub photo_key: Option<String>,
    pub retired_reason: Option<String>,
    pub retired_at: Option<i64>,
    pub added_at: i64,
}

pub struct NewMember<'a> {
    pub category: &'a str,
    pub name: &'a str,
    pub workplace: &'a str,
    pub summary: &'a str,
    pub consent_version: &'a str,
}

fn like(scope: &Scope) -> String {
    format!("{}%", scope.prefix)
}

/// Locks the campaign's nominating and counts the unit's nominations.
pub async fn lock_and_count_unit(
    tx: &mut Tx,
    campaign_id: CampaignId,
    org_id: OrgId,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query(&LOCK_CAMPAIGN).bind(campaign_id).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => query_scalar(&COUNT_FOR_UNIT).bind(campaign_id).bind(org_id).fetch_one(c).await)
}

pub async fn same_person(
    tx: &mut Tx,
    campaign_id: CampaignId,
    person_key: &str,
    phone: &str,
    except: i64,
) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => query_scalar(&SAME_PERSON)
        .bind(campaign_id).bind(person_key).bind(phone).bind(except).fetch_one(c).await)?;
    Ok(n > 0)
}

pub async fn insert_nomination(
    tx: &mut Tx,
    campaign_id: CampaignId,
    org_id: OrgId,
    f: &NominationFields<'_>,
    by: Option<UserId>,
    at: i64,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT_NOMINATION)
        .bind(campaign_id)
        .bind(org_id)
        .bind(f.name)
        .bind(f.person_key)
        .bind(f.phone)
        .bind(f.workplace)
        .bind(f.post)
        .bind(f.political_status)
        .bind(f.accounts)
        .bind(f.deeds)
        .bind(f.summary)
        .bind(f.links)
        .bind(f.consent_version)
        .bind(at)
        .bind(by)
        .fetch_one(c)
        .await)
}

pub async fn update_nomination(
    tx: &mut Tx,
    id: i64,
    version: i64,
    f: &NominationFields<'_>,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&UPDATE_NOMINATION)
        .bind(f.name)
        .bind(f.person_key)
        .bind(f.phone)
        .bind(f.workplace)
        .bind(f.post)
        .bind(f.political_status)
        .bind(f.accounts)
        .bind(f.deeds)
        .bind(f.summary)
        .bind(f.links)
        .bind(f.consent_version)
        .bind(at)
        .bind(id)
        .bind(version)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn nominations(
    db: &Db,
    campaign_id: CampaignId,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<Nomination>, sqlx::Error> {
    on_pool!(db, pool => query_as(&NOMINATIONS).bind(campaign_id).bind(like(scope)).bind(limit).fetch_all(pool).await)
}

pub async fn nomination(
    db: &Db,
    campaign_id: CampaignId,
    scope: &Scope,
    id: i64,
) -> Result<Option<Nomination>, sqlx::Error> {
    on_pool!(db, pool => query_as(&NOMINATION_ONE).bind(id).bind(campaign_id).bind(like(scope)).fetch_optional(pool).await)
}

/// Compare-and-set of the status; false when someone acted first.
pub async fn set_status(
    tx: &mut Tx,
    id: i64,
    from: &str,
    version: i64,
    to: &str,
    reason: Option<&str>,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&SET_STATUS)
        .bind(to)
        .bind(reason)
        .bind(at)
        .bind(id)
        .bind(from)
        .bind(version)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Records one side's decision; returns both sides' decisions after it, or None when the
/// nomination is not shortlisted or that side has decided already.
pub async fn decide(
    tx: &mut Tx,
    liaison: bool,
    id: i64,
    decision: &str,
    reason: &str,
    by: Option<UserId>,
    at: i64,
) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
    let statement = if liaison {
        &DECIDE_LIAISON
    } else {
        &DECIDE_UNION
    };
    on_tx!(tx, c => query_as(statement)
        .bind(decision)
        .bind(reason)
        .bind(by)
        .bind(at)
        .bind(id)
        .fetch_optional(c)
        .await)
}

pub async fn set_outcome(tx: &mut Tx, id: i64, status: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&SET_OUTCOME).bind(status).bind(id).execute(c).await.map(|_| ()))
}

/// Sets a nomination's photo while the unit may still edit it; false when it may not.
pub async fn set_photo(tx: &mut Tx, id: i64, key: &str, at: i64) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&SET_PHOTO)
        .bind(key)
        .bind(at)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn endorsed(
    db: &Db,
    campaign_id: CampaignId,
    limit: i64,
) -> Result<Vec<Endorsed>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ENDORSED).bind(campaign_id).bind(limit).fetch_all(pool).await)
}

/// Applies a closed models 公示: selects the listed, rejects the withdrawn, and lets the
/// selected join the roster. Returns how many joined.
pub async fn apply_publicity(
    tx: &mut Tx,
    campaign_id: CampaignId,
    publicity_id: i64,
    category: &str,
    by: UserId,
    at: i64,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => query(&SELECT_LISTED).bind(publicity_id).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => query(&REJECT_WITHDRAWN).bind(publicity_id).execute(c).await.map(|_| ()))?;
    join_selected(tx, campaign_id, category, Some(by), at).await
}

/// The campaign's selected models join the roster (those not on it yet); returns how many.
pub async fn join_selected(
    tx: &mut Tx,
    campaign_id: CampaignId,
    category: &str,
    by: Option<UserId>,
    at: i64,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => query(&JOIN_SELECTED)
        .bind(category)
        .bind(by)
        .bind(at)
        .bind(campaign_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

pub async fn count_members(tx: &mut Tx, campaign_id: CampaignId) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query(&LOCK_CAMPAIGN).bind(campaign_id).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => query_scalar(&COUNT_MEMBERS).bind(campaign_id).fetch_one(c).await)
}

pub async fn insert_member(
    tx: &mut Tx,
    campaign_id: CampaignId,
    m: &NewMember<'_>,
    by: Option<UserId>,
    at: i64,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT_MEMBER)
        .bind(campaign_id)
        .bind(m.category)
        .bind(m.name)
        .bind(m.workplace)
        .bind(m.summary)
        .bind(m.consent_version)
        .bind(by)
        .bind(at)
        .fetch_one(c)
        .await)
}

pub async fn members(
    db: &Db,
    campaign_id: CampaignId,
    limit: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    on_pool!(db, pool => query_as(&MEMBERS).bind(campaign_id).bind(limit).fetch_all(pool).await)
}

pub async fn retire(
    tx: &mut Tx,
    campaign_id: CampaignId,
    id: i64,
    reason: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&RETIRE)
        .bind(reason)
        .bind(at)
        .bind(id)
        .bind(campaign_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn member_photo(
    db: &Db,
    campaign_id: CampaignId,
    id: i64,
) -> Result<Option<Option<String>>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&MEMBER_PHOTO).bind(id).bind(campaign_id).fetch_optional(pool).await)
}

pub async fn nomination_photo(
    db: &Db,
    campaign_id: CampaignId,
    scope: &Scope,
    id: i64,
) -> Result<Option<Option<String>>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&NOMINATION_PHOTO).bind(id).bind(campaign_id).bind(like(scope)).fetch_optional(pool).await)
}
