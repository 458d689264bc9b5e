//! Photos in activity reports and their near-duplicates in other reports.

use crate::domain::ids::{ActivityId, UserId};
use const_format::concatcp;

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;

statements! {
    FOR_ACTIVITY = concatcp!("SELECT ", COLUMNS, " FROM activity_photos WHERE activity_id = $1 ORDER BY id");
    GET = concatcp!("SELECT ", COLUMNS, " FROM activity_photos WHERE activity_id = $1 AND id = $2");
    DELETE = concatcp!("DELETE FROM activity_photos WHERE activity_id = $1 AND id = $2 RETURNING ", COLUMNS);
    INSERT = "INSERT INTO activity_photos (activity_id, image_key, thumb_key, width, height, dhash, uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    COUNT = "SELECT COUNT(*) FROM activity_photos WHERE activity_id = $1";
    HASHES_ELSEWHERE = "SELECT p.id, p.dhash FROM activity_photos p JOIN activities a ON a.id = p.activity_id
         WHERE a.campaign_id = $1 AND p.activity_id <> $2";
    ADD_MATCH = "INSERT INTO photo_matches (photo_id, other_photo_id, distance) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
    REUSES = "SELECT mine.id AS photo_id, a.id AS other_activity_id, a.name AS other_activity_name,
                o.name AS other_org_name, o.path AS other_org_path, m.distance
         FROM activity_photos mine
         JOIN photo_matches m ON m.photo_id = mine.id OR m.other_photo_id = mine.id
         JOIN activity_photos other ON other.id = CASE WHEN m.photo_id = mine.id THEN m.other_photo_id ELSE m.photo_id END
         JOIN activities a ON a.id = other.activity_id
         JOIN orgs o ON o.id = a.org_id
         WHERE mine.activity_id = $1
         ORDER BY mine.id, m.distance";
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct PhotoRow {
    pub id: i64,
    pub activity_id: ActivityId,
    #[serde(skip)]
    pub image_key: String,
    #[serde(skip)]
    pub thumb_key: String,
    pub width: i64,
    pub height: i64,
    #[serde(skip)]
    pub dhash: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, activity_id, image_key, thumb_key, width, height, dhash, created_at";

pub struct NewPhoto<'a> {
    pub activity_id: ActivityId,
    pub image_key: &'a str,
    pub thumb_key: &'a str,
    pub width: i64,
    pub height: i64,
    pub dhash: i64,
    pub uploaded_by: UserId,
}

pub async fn insert(tx: &mut Tx, p: NewPhoto<'_>) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT)
        .bind(p.activity_id).bind(p.image_key).bind(p.thumb_key).bind(p.width).bind(p.height)
        .bind(p.dhash).bind(p.uploaded_by).bind(unix_now())
        .fetch_one(c).await)
}

pub async fn for_activity(db: &Db, activity_id: ActivityId) -> Result<Vec<PhotoRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, PhotoRow>(&FOR_ACTIVITY).bind(activity_id).fetch_all(pool).await)
}

pub async fn get(
    db: &Db,
    activity_id: ActivityId,
    id: i64,
) -> Result<Option<PhotoRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, PhotoRow>(&GET).bind(activity_id).bind(id).fetch_optional(pool).await)
}

pub async fn count(tx: &mut Tx, activity_id: ActivityId) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&COUNT)
        .bind(activity_id).fetch_one(c).await)
}

/// Every photo's hash in other activities of the campaign, for the reuse scan.
pub async fn hashes_elsewhere(
    tx: &mut Tx,
    campaign_id: i64,
    activity_id: ActivityId,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, (i64, i64)>(&HASHES_ELSEWHERE)
        .bind(campaign_id).bind(activity_id).fetch_all(c).await)
}

pub async fn add_match(
    tx: &mut Tx,
    photo: i64,
    other: i64,
    distance: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&ADD_MATCH)
        .bind(photo).bind(other).bind(distance)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A photo of this activity that also appears (or nearly) in another report.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Reuse {
    pub photo_id: i64,
    pub other_activity_id: i64,
    pub other_activity_name: String,
    pub other_org_name: String,
    #[serde(skip)]
    pub other_org_path: String,
    pub distance: i64,
}

/// Matches in both directions: a later upload elsewhere flags this report too.
pub async fn reuses(db: &Db, activity_id: ActivityId) -> Result<Vec<Reuse>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Reuse>(&REUSES)
        .bind(activity_id).fetch_all(pool).await)
}

pub async fn delete(
    tx: &mut Tx,
    activity_id: ActivityId,
    id: i64,
) -> Result<Option<PhotoRow>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, PhotoRow>(&DELETE).bind(activity_id).bind(id).fetch_optional(c).await)
}
