//! The register of worker good-netizen propagandists (职工好网民宣传员).

use super::sql::{query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;

statements! {
    /// The register of units under a path prefix, in tree order.
    LIST = "SELECT p.id, p.name, p.phone, p.accounts, p.org_id, o.name AS org_name
         FROM propagandists p JOIN orgs o ON o.id = p.org_id
         WHERE p.campaign_id = $1 AND o.path LIKE $2 ORDER BY o.path, p.id";
    COUNTS = "SELECT org_id, COUNT(*) FROM propagandists WHERE campaign_id = $1 GROUP BY org_id";
    /// `person_key` is unique per campaign: the same person is registered once.
    INSERT = "INSERT INTO propagandists (campaign_id, org_id, name, phone, accounts, person_key, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
}

/// One propagandist as lists show them.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Propagandist {
    pub id: i64,
    pub name: String,
    /// Masked unless the viewer is a city admin.
    pub phone: Option<String>,
    pub accounts: String,
    pub org_id: i64,
    pub org_name: String,
}

/// The register of the units whose path starts with `prefix`.
pub async fn list(
    db: &Db,
    campaign_id: i64,
    prefix: &str,
) -> Result<Vec<Propagandist>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Propagandist>(&LIST)
        .bind(campaign_id)
        .bind(format!("{prefix}%"))
        .fetch_all(pool)
        .await)
}

/// Counts per org (for progress).
pub async fn counts(db: &Db, campaign_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&COUNTS)
        .bind(campaign_id)
        .fetch_all(pool)
        .await)
}

pub struct NewPropagandist<'a> {
    pub campaign_id: i64,
    pub org_id: i64,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub accounts: &'a str,
    pub person_key: &'a str,
    pub created_by: i64,
}

/// Registers one; a unique violation means the person is on the register already.
pub async fn insert(tx: &mut Tx, new: NewPropagandist<'_>) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT)
        .bind(new.campaign_id)
        .bind(new.org_id)
        .bind(new.name)
        .bind(new.phone)
        .bind(new.accounts)
        .bind(new.person_key)
        .bind(new.created_by)
        .bind(unix_now())
        .fetch_one(c)
        .await)
}
