//! Stored campaigns. The campaign document is kept whole (as JSON) next to the columns other
//! tables join on; quotas are rows because later features count against them per org.

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::campaign::Campaign;

statements! {
    CURRENT = "SELECT id, is_current, document FROM campaigns ORDER BY is_current DESC, year DESC, id DESC LIMIT 1";
    /// Which campaign is current and when it last changed, without its document: what a
    /// node's cached copy is checked against.
    CURRENT_STAMP = "SELECT id, revision FROM campaigns ORDER BY is_current DESC, year DESC, id DESC LIMIT 1";
    BY_CODE = "SELECT id, is_current, document FROM campaigns WHERE code = $1";
    LIST_CODES = "SELECT code, year, is_current FROM campaigns ORDER BY year, code";
    INSERT = "INSERT INTO campaigns (code, year, title, document, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";
    UPDATE = "UPDATE campaigns SET year = $1, title = $2, document = $3, updated_at = $4, revision = revision + 1 WHERE id = $5";
    SET_CURRENT = "UPDATE campaigns SET is_current = (id = $1)";
    /// Whether any campaign is the current one.
    HAS_CURRENT = "SELECT COUNT(*) FROM campaigns WHERE is_current = $1";
}

#[derive(Debug, Clone)]
pub struct StoredCampaign {
    pub id: i64,
    pub is_current: bool,
    pub campaign: Campaign,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    is_current: bool,
    document: String,
}

impl Row {
    fn decode(self) -> Result<StoredCampaign, sqlx::Error> {
        let campaign =
            serde_json::from_str(&self.document).map_err(|e| sqlx::Error::Decode(e.into()))?;
        Ok(StoredCampaign {
            id: self.id,
            is_current: self.is_current,
            campaign,
        })
    }
}

/// The campaign the site runs now.
pub async fn current(db: &Db) -> Result<Option<StoredCampaign>, sqlx::Error> {
    let row: Option<Row> = on_pool!(db, pool => query_as(&CURRENT)
        .fetch_optional(pool)
        .await)?;
    row.map(Row::decode).transpose()
}

/// (id, revision) of the current campaign: changes whenever another campaign becomes current
/// or the current one is saved.
pub async fn current_stamp(db: &Db) -> Result<Option<(i64, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, (i64, i64)>(&CURRENT_STAMP)
        .fetch_optional(pool)
        .await)
}

pub async fn by_code(db: &Db, code: &str) -> Result<Option<StoredCampaign>, sqlx::Error> {
    let row: Option<Row> = on_pool!(db, pool => query_as(&BY_CODE)
        .bind(code)
        .fetch_optional(pool)
        .await)?;
    row.map(Row::decode).transpose()
}

pub async fn by_code_tx(tx: &mut Tx, code: &str) -> Result<Option<StoredCampaign>, sqlx::Error> {
    let row: Option<Row> = on_tx!(tx, c => query_as(&BY_CODE)
        .bind(code)
        .fetch_optional(c)
        .await)?;
    row.map(Row::decode).transpose()
}

pub async fn list_codes(db: &Db) -> Result<Vec<(String, i64, bool)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&LIST_CODES)
        .fetch_all(pool)
        .await)
}

pub async fn insert(tx: &mut Tx, campaign: &Campaign) -> Result<i64, sqlx::Error> {
    let now = unix_now();
    let document = serde_json::to_string(campaign).map_err(|e| sqlx::Error::Encode(e.into()))?;
    on_tx!(tx, c => query_scalar(&INSERT)
        .bind(&campaign.code)
        .bind(i64::from(campaign.year))
        .bind(&campaign.title)
        .bind(document)
        .bind(now)
        .fetch_one(c)
        .await)
}

pub async fn update(tx: &mut Tx, id: i64, campaign: &Campaign) -> Result<(), sqlx::Error> {
    let document = serde_json::to_string(campaign).map_err(|e| sqlx::Error::Encode(e.into()))?;
    on_tx!(tx, c => query(&UPDATE)
        .bind(i64::from(campaign.year))
        .bind(&campaign.title)
        .bind(document)
        .bind(unix_now())
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Makes one campaign the current one.
pub async fn set_current(tx: &mut Tx, id: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&SET_CURRENT)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether any campaign is marked current.
pub async fn has_current(tx: &mut Tx) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => query_scalar(&HAS_CURRENT)
        .bind(true)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}
