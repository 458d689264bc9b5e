//! The register of worker good-netizen propagandists (职工好网民宣传员).

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::ids::{OrgId, UserId};

statements! {
    /// The register of units under a path prefix, in tree order.
    LIST = "SELECT p.id, p.name, p.phone, p.accounts, p.org_id, o.name AS org_name
         FROM propagandists p JOIN orgs o ON o.id = p.org_id
         WHERE p.campaign_id = $1 AND o.path LIKE $2 ORDER BY o.path, p.id";
    COUNTS = "SELECT org_id, COUNT(*) FROM propagandists WHERE campaign_id = $1 GROUP BY org_id";
    /// `person_key` is unique per campaign: the same person is registered once.
    INSERT = "INSERT INTO propagandists (campaign_id, org_id, name, phone, accounts, person_key, created_by, created_at,
            consent_version, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    /// A check-in attendee who asked to join: registered unless already on the register.
    JOIN_FROM_CHECKIN = "INSERT INTO propagandists (campaign_id, org_id, name, phone, accounts, person_key, created_at,
            consent_version, source)
         VALUES ($1, $2, $3, $4, '', $5, $6, $7, 'checkin') ON CONFLICT (campaign_id, person_key) DO NOTHING";
}

/// One propagandist as lists show them.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Propagandist {
    pub id: i64,
    pub name: String,
    /// Masked unless the viewer is a city admin.
    pub phone: Option<String>,
    pub accounts: String,
    pub org_id: OrgId,
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
pub async fn counts(db: &Db, campaign_id: i64) -> Result<Vec<(OrgId, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&COUNTS)
        .bind(campaign_id)
        .fetch_all(pool)
        .await)
}

pub struct NewPropagandist<'a> {
    pub campaign_id: i64,
    pub org_id: OrgId,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub accounts: &'a str,
    pub person_key: &'a str,
    pub created_by: UserId,
    /// The consent text's version, when the person joined themselves.
    pub consent_version: Option<&'a str>,
    /// `register` (a unit entered them), `checkin` or `import`.
    pub source: &'a str,
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
        .bind(new.consent_version)
        .bind(new.source)
        .fetch_one(c)
        .await)
}

/// Puts a check-in attendee on the register (in the check-in's transaction); false when they
/// were on it already.
pub async fn join_from_checkin(
    tx: &mut Tx,
    campaign_id: i64,
    org_id: OrgId,
    name: &str,
    phone: Option<&str>,
    person_key: &str,
    consent_version: &str,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&JOIN_FROM_CHECKIN)
        .bind(campaign_id)
        .bind(org_id)
        .bind(name)
        .bind(phone)
        .bind(person_key)
        .bind(unix_now())
        .bind(consent_version)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
