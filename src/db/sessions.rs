//! Server-side sessions: the cookie holds a random 256-bit id; the table holds its SHA-256, so
//! every node can check any session and a leaked table opens none.

use super::{Db, Tx, on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub last_seen_at: i64,
}

pub async fn insert(
    tx: &mut Tx,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    now: i64,
    ip: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, ip) VALUES ($1, $2, $3, $4, $4, $5)")
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(ip)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, id_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as::<_, SessionRow>(
        "SELECT id_hash, user_id, csrf_token, last_seen_at FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(pool)
        .await)
}

/// Moves the idle clock forward. Only written when a minute has passed, to spare the writer.
pub async fn touch(db: &Db, id_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await
}

pub async fn delete(tx: &mut Tx, id_hash: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends every session of a user (password change or reset), optionally keeping one.
pub async fn delete_for_user(
    tx: &mut Tx,
    user_id: i64,
    keep: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Drops sessions idle since before `cutoff`.
pub async fn purge_idle(db: &Db, cutoff: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
        .bind(cutoff)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(pool).await)
}
