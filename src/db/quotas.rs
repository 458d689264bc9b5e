//! The quota table (Annex 1 and the units' own splits): how many offline activities each unit
//! must hold in a campaign.

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::OrgId;

statements! {
    /// The quota table in its order, with whether each unit sits at Annex 1's level (directly
    /// under the city union, or at the top) or below a unit that has a quota of its own.
    QUOTAS = "SELECT q.position, q.org_id, o.name AS org_name, q.min_activities,
         CASE WHEN p.kind IS NULL OR p.kind = 'city_union' THEN 1 ELSE 0 END AS annex_level
         FROM quotas q JOIN orgs o ON o.id = q.org_id LEFT JOIN orgs p ON p.id = o.parent_id
         WHERE q.campaign_id = $1 ORDER BY q.position";
    DELETE_QUOTAS = "DELETE FROM quotas WHERE campaign_id = $1";
    INSERT_QUOTA = "INSERT INTO quotas (campaign_id, org_id, min_activities, position) VALUES ($1, $2, $3, $4)";
    /// One unit's quota, before it changes (for the audit log).
    GET = "SELECT min_activities FROM quotas WHERE campaign_id = $1 AND org_id = $2";
    /// Sets one unit's quota; a new unit goes to the end of the table.
    UPSERT = "INSERT INTO quotas (campaign_id, org_id, min_activities, position)
     VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM quotas WHERE campaign_id = $1))
     ON CONFLICT (campaign_id, org_id) DO UPDATE SET min_activities = excluded.min_activities";
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct QuotaRow {
    pub position: i64,
    pub org_id: OrgId,
    pub org_name: String,
    pub min_activities: i64,
    /// 1 when the unit is at Annex 1's level (a district, bureau or group-company union), 0 for
    /// a sub-unit's share of its parent's quota.
    pub annex_level: i32,
}

pub async fn list(db: &Db, campaign_id: i64) -> Result<Vec<QuotaRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, QuotaRow>(&QUOTAS)
        .bind(campaign_id)
        .fetch_all(pool)
        .await)
}

/// Replaces the campaign's quota table with `rows` of (org id, minimum).
pub async fn replace(
    tx: &mut Tx,
    campaign_id: i64,
    rows: &[(OrgId, u32)],
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&DELETE_QUOTAS)
        .bind(campaign_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    for (position, (org_id, min)) in rows.iter().enumerate() {
        on_tx!(tx, c => query(&INSERT_QUOTA)
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

/// One unit's quota, if it has one.
pub async fn get(tx: &mut Tx, campaign_id: i64, org_id: OrgId) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&GET)
        .bind(campaign_id)
        .bind(org_id)
        .fetch_optional(c)
        .await)
}

/// Sets one unit's quota.
pub async fn upsert(
    tx: &mut Tx,
    campaign_id: i64,
    org_id: OrgId,
    n: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&UPSERT)
        .bind(campaign_id)
        .bind(org_id)
        .bind(n)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
