//! QR check-in codes and the check-ins made with them.

use super::group_commit;
use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;

statements! {
    /// The activity a check-in code belongs to.
    TARGET = "SELECT a.id AS activity_id, a.name, o.name AS org_name, a.starts_at
         FROM checkin_codes c JOIN activities a ON a.id = c.activity_id JOIN orgs o ON o.id = a.org_id
         WHERE c.token = $1";
    /// The same person (`person_key`) counts once per activity.
    INSERT = "INSERT INTO checkins (activity_id, name, unit, phone, person_key, consent_version, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (activity_id, person_key) DO NOTHING";
    CODE = "SELECT token FROM checkin_codes WHERE activity_id = $1";
    /// The first code made wins; a racing second insert changes nothing.
    INSERT_CODE = "INSERT INTO checkin_codes (activity_id, token, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (activity_id) DO NOTHING";
    COUNT = "SELECT COUNT(*) FROM checkins WHERE activity_id = $1";
}

/// The activity behind a code, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TargetRow {
    pub activity_id: i64,
    pub name: String,
    pub org_name: String,
    pub starts_at: String,
}

pub async fn target(db: &Db, token: &str) -> Result<Option<TargetRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, TargetRow>(&TARGET)
        .bind(token)
        .fetch_optional(pool)
        .await)
}

/// One check-in to store.
#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub activity_id: i64,
    pub name: String,
    pub unit: String,
    pub phone: Option<String>,
    pub person_key: String,
    pub consent_version: &'static str,
}

/// Stores a check-in inside a (possibly shared) transaction; false when the same person had
/// already checked in.
impl group_commit::Write for NewCheckin {
    type Output = bool;

    async fn apply(&self, tx: &mut Tx) -> Result<bool, sqlx::Error> {
        let n = on_tx!(tx, c => query(&INSERT)
            .bind(self.activity_id)
            .bind(&self.name)
            .bind(&self.unit)
            .bind(&self.phone)
            .bind(&self.person_key)
            .bind(self.consent_version)
            .bind(unix_now())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

/// The activity's check-in code, if one was made.
pub async fn code(db: &Db, activity_id: i64) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&CODE)
        .bind(activity_id)
        .fetch_optional(pool)
        .await)
}

/// Gives the activity `token` as its code unless it has one; returns the code it has after.
pub async fn ensure_code(db: &Db, activity_id: i64, token: &str) -> Result<String, sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&INSERT_CODE)
        .bind(activity_id)
        .bind(token)
        .bind(unix_now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    let stored: String = on_tx!(&mut tx, c => query_scalar(&CODE)
        .bind(activity_id)
        .fetch_one(c)
        .await)?;
    tx.commit().await?;
    Ok(stored)
}

/// Verified attendance of one activity.
pub async fn count(db: &Db, activity_id: i64) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&COUNT)
        .bind(activity_id)
        .fetch_one(pool)
        .await)
}
