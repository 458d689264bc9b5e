//! Stored campaigns. The campaign document is kept whole (as JSON) next to the columns other
//! tables join on; quotas are rows because later features count against them per org.

use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::campaign::Campaign;

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
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, is_current, document FROM campaigns ORDER BY is_current DESC, year DESC, id DESC LIMIT 1")
        .fetch_optional(pool)
        .await)?;
    row.map(Row::decode).transpose()
}

pub async fn by_code(db: &Db, code: &str) -> Result<Option<StoredCampaign>, sqlx::Error> {
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, is_current, document FROM campaigns WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await)?;
    row.map(Row::decode).transpose()
}

pub async fn by_code_tx(tx: &mut Tx, code: &str) -> Result<Option<StoredCampaign>, sqlx::Error> {
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, is_current, document FROM campaigns WHERE code = $1")
        .bind(code)
        .fetch_optional(c)
        .await)?;
    row.map(Row::decode).transpose()
}

pub async fn list_codes(db: &Db) -> Result<Vec<(String, i64, bool)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as("SELECT code, year, is_current FROM campaigns ORDER BY year, code")
        .fetch_all(pool)
        .await)
}

pub async fn insert(tx: &mut Tx, campaign: &Campaign) -> Result<i64, sqlx::Error> {
    let now = unix_now();
    let document = serde_json::to_string(campaign).map_err(|e| sqlx::Error::Encode(e.into()))?;
    on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO campaigns (code, year, title, document, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
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
    on_tx!(tx, c => sqlx::query(
        "UPDATE campaigns SET year = $1, title = $2, document = $3, updated_at = $4 WHERE id = $5")
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
    on_tx!(tx, c => sqlx::query("UPDATE campaigns SET is_current = (id = $1)")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct QuotaRow {
    pub position: i64,
    pub org_id: i64,
    pub org_name: String,
    pub min_activities: i64,
}

pub async fn quotas(db: &Db, campaign_id: i64) -> Result<Vec<QuotaRow>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as::<_, QuotaRow>(
        "SELECT q.position, q.org_id, o.name AS org_name, q.min_activities
         FROM quotas q JOIN orgs o ON o.id = q.org_id WHERE q.campaign_id = $1 ORDER BY q.position")
        .bind(campaign_id)
        .fetch_all(pool)
        .await)
}

/// Replaces the campaign's quota table with `rows` of (org id, minimum).
pub async fn replace_quotas(
    tx: &mut Tx,
    campaign_id: i64,
    rows: &[(i64, u32)],
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM quotas WHERE campaign_id = $1")
        .bind(campaign_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    for (position, (org_id, min)) in rows.iter().enumerate() {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO quotas (campaign_id, org_id, min_activities, position) VALUES ($1, $2, $3, $4)")
            .bind(campaign_id)
            .bind(org_id)
            .bind(i64::from(*min))
            .bind(position as i64 + 1)
            .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}
