//! The campaign summary: the narrative paragraphs' versions, the districts' own summaries, and
//! the few figures no other module counts (accepted works per sub-project, the typical cases).

use super::sql::{query, query_as, statements};
use super::{Db, Tx, on_pool, on_tx};

statements! {
    /// The latest version of every section's narrative.
    LATEST = "SELECT n.section, n.version, n.body, n.author_name, n.created_at FROM summary_narratives n
         WHERE n.campaign_id = $1 AND n.version = (SELECT MAX(m.version) FROM summary_narratives m
           WHERE m.campaign_id = n.campaign_id AND m.section = n.section)";
    HISTORY = "SELECT section, version, body, author_name, created_at FROM summary_narratives
         WHERE campaign_id = $1 AND section = $2 ORDER BY version DESC LIMIT $3";
    VERSION = "SELECT section, version, body, author_name, created_at FROM summary_narratives
         WHERE campaign_id = $1 AND section = $2 AND version = $3";
    /// Fails on the primary key when version `$3` exists: someone else saved first.
    INSERT_VERSION = "INSERT INTO summary_narratives (campaign_id, section, version, body, author_id, author_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    DISTRICTS = "SELECT org_id, body, file_key, file_name, file_size, version, submitted_at FROM district_summaries
         WHERE campaign_id = $1";
    DISTRICT = "SELECT org_id, body, file_key, file_name, file_size, version, submitted_at FROM district_summaries
         WHERE campaign_id = $1 AND org_id = $2";
    /// Version `$7` replaces version `$7 - 1` only (compare-and-set); the first is version 1.
    UPSERT_DISTRICT = "INSERT INTO district_summaries (campaign_id, org_id, body, file_key, file_name, file_size, version,
           submitted_by, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (campaign_id, org_id) DO UPDATE SET body = excluded.body, file_key = excluded.file_key,
           file_name = excluded.file_name, file_size = excluded.file_size, version = excluded.version,
           submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at
         WHERE district_summaries.version = excluded.version - 1";
    ACCEPTED_WORKS = "SELECT sub_project, CAST(COUNT(*) AS BIGINT) FROM works
         WHERE campaign_id = $1 AND status = 'accepted' GROUP BY sub_project";
    /// Confirmed activities with a photo, most participants first, with their first photo.
    CASES = "SELECT a.id, a.name, a.starts_at, a.participants, a.document, o.name AS org_name,
           (SELECT p.image_key FROM activity_photos p WHERE p.activity_id = a.id ORDER BY p.id LIMIT 1) AS image_key
         FROM activities a JOIN orgs o ON o.id = a.org_id
         WHERE a.campaign_id = $1 AND a.status = 'confirmed'
           AND EXISTS (SELECT 1 FROM activity_photos p WHERE p.activity_id = a.id)
         ORDER BY a.participants DESC, a.id LIMIT $2";
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct NarrativeVersion {
    pub section: String,
    pub version: i64,
    /// Empty: the paragraph written from the figures.
    pub body: String,
    pub author_name: String,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DistrictSummary {
    pub org_id: i64,
    pub body: String,
    #[serde(skip)]
    pub file_key: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    pub version: i64,
    pub submitted_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Case {
    pub id: i64,
    pub name: String,
    pub starts_at: String,
    pub participants: i64,
    pub document: String,
    pub org_name: String,
    pub image_key: Option<String>,
}

pub async fn latest(db: &Db, campaign_id: i64) -> Result<Vec<NarrativeVersion>, sqlx::Error> {
    on_pool!(db, pool => query_as(&LATEST).bind(campaign_id).fetch_all(pool).await)
}

pub async fn history(
    db: &Db,
    campaign_id: i64,
    section: &str,
    limit: i64,
) -> Result<Vec<NarrativeVersion>, sqlx::Error> {
    on_pool!(db, pool => query_as(&HISTORY).bind(campaign_id).bind(section).bind(limit)
        .fetch_all(pool).await)
}

pub async fn version(
    db: &Db,
    campaign_id: i64,
    section: &str,
    version: i64,
) -> Result<Option<NarrativeVersion>, sqlx::Error> {
    on_pool!(db, pool => query_as(&VERSION).bind(campaign_id).bind(section).bind(version)
        .fetch_optional(pool).await)
}

pub struct NewVersion<'a> {
    pub campaign_id: i64,
    pub section: &'a str,
    pub version: i64,
    pub body: &'a str,
    pub author_id: Option<i64>,
    pub author_name: &'a str,
    pub now: i64,
}

/// Inserts the version; a unique violation means another editor saved that version first.
pub async fn insert_version(tx: &mut Tx, v: &NewVersion<'_>) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&INSERT_VERSION)
        .bind(v.campaign_id).bind(v.section).bind(v.version).bind(v.body)
        .bind(v.author_id).bind(v.author_name).bind(v.now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn districts(db: &Db, campaign_id: i64) -> Result<Vec<DistrictSummary>, sqlx::Error> {
    on_pool!(db, pool => query_as(&DISTRICTS).bind(campaign_id).fetch_all(pool).await)
}

pub async fn district(
    db: &Db,
    campaign_id: i64,
    org_id: i64,
) -> Result<Option<DistrictSummary>, sqlx::Error> {
    on_pool!(db, pool => query_as(&DISTRICT).bind(campaign_id).bind(org_id)
        .fetch_optional(pool).await)
}

pub async fn district_tx(
    tx: &mut Tx,
    campaign_id: i64,
    org_id: i64,
) -> Result<Option<DistrictSummary>, sqlx::Error> {
    on_tx!(tx, c => query_as(&DISTRICT).bind(campaign_id).bind(org_id)
        .fetch_optional(c).await)
}

pub struct NewDistrict<'a> {
    pub campaign_id: i64,
    pub org_id: i64,
    pub body: &'a str,
    pub file: Option<(&'a str, &'a str, i64)>,
    pub version: i64,
    pub submitted_by: i64,
    pub now: i64,
}

/// Writes version `d.version`; false when the stored one is not `d.version - 1`.
pub async fn put_district(tx: &mut Tx, d: &NewDistrict<'_>) -> Result<bool, sqlx::Error> {
    let (key, name, size) = match d.file {
        Some((k, n, s)) => (Some(k), Some(n), Some(s)),
        None => (None, None, None),
    };
    let n = on_tx!(tx, c => query(&UPSERT_DISTRICT)
        .bind(d.campaign_id).bind(d.org_id).bind(d.body).bind(key).bind(name).bind(size)
        .bind(d.version).bind(d.submitted_by).bind(d.now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn accepted_works(db: &Db, campaign_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ACCEPTED_WORKS).bind(campaign_id).fetch_all(pool).await)
}

pub async fn cases(db: &Db, campaign_id: i64, limit: i64) -> Result<Vec<Case>, sqlx::Error> {
    on_pool!(db, pool => query_as(&CASES).bind(campaign_id).bind(limit).fetch_all(pool).await)
}
