//! Server-side sessions: the cookie holds a random 256-bit id; the table holds its SHA-256, so
//! every node can check any session and a leaked table opens none.

use super::orgs::Org;
use super::sql::{query, query_as, query_scalar, statements};
use super::users::User;
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::{OrgId, UserId};

statements! {
    INSERT = "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, ip) VALUES ($1, $2, $3, $4, $4, $5)";
    SIGNED = "SELECT s.csrf_token AS s_csrf_token, s.last_seen_at AS s_last_seen_at,
           u.id, u.login, u.display_name, u.phone, u.role, u.org_id, u.password_hash,
           u.must_change_password, u.failed_logins, u.locked_until, u.disabled,
           o.id AS o_id, o.parent_id AS o_parent_id, o.name AS o_name, o.kind AS o_kind,
           o.contact_name AS o_contact_name, o.contact_phone AS o_contact_phone, o.path AS o_path,
           o.depth AS o_depth
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id
         WHERE s.id_hash = $1";
    TOUCH = "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2";
    DELETE = "DELETE FROM sessions WHERE id_hash = $1";
    DELETE_FOR_USER = "DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2";
    PURGE_IDLE = "DELETE FROM sessions WHERE last_seen_at < $1";
    COUNT = "SELECT COUNT(*) FROM sessions";
}

pub async fn insert(
    tx: &mut Tx,
    id_hash: &str,
    user_id: UserId,
    csrf_token: &str,
    now: i64,
    ip: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&INSERT)
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

/// A session with its account and the account's org, read in one query: every signed-in
/// request needs all three, so it costs one round trip to the database instead of three.
pub struct Signed {
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub user: User,
    pub org: Org,
}

#[derive(sqlx::FromRow)]
struct SignedRow {
    s_csrf_token: String,
    s_last_seen_at: i64,
    #[sqlx(flatten)]
    user: User,
    #[sqlx(flatten)]
    org: OrgColumns,
}

/// The org's columns under `o_` names (they would clash with the account's).
#[derive(sqlx::FromRow)]
struct OrgColumns {
    o_id: OrgId,
    o_parent_id: Option<OrgId>,
    o_name: String,
    o_kind: crate::domain::org::OrgKind,
    o_contact_name: Option<String>,
    o_contact_phone: Option<String>,
    o_path: String,
    o_depth: i64,
}

pub async fn signed(db: &Db, id_hash: &str) -> Result<Option<Signed>, sqlx::Error> {
    let row: Option<SignedRow> = on_pool!(db, pool => query_as(&SIGNED)
        .bind(id_hash)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| Signed {
        csrf_token: r.s_csrf_token,
        last_seen_at: r.s_last_seen_at,
        user: r.user,
        org: Org {
            id: r.org.o_id,
            parent_id: r.org.o_parent_id,
            name: r.org.o_name,
            kind: r.org.o_kind,
            contact_name: r.org.o_contact_name,
            contact_phone: r.org.o_contact_phone,
            path: r.org.o_path,
            depth: r.org.o_depth,
        },
    }))
}

/// Moves the idle clock forward. Only written when a minute has passed, to spare the writer.
pub async fn touch(db: &Db, id_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&TOUCH)
        .bind(now)
        .bind(id_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await
}

pub async fn delete(tx: &mut Tx, id_hash: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&DELETE)
        .bind(id_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends every session of a user (password change or reset), optionally keeping one.
pub async fn delete_for_user(
    tx: &mut Tx,
    user_id: UserId,
    keep: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&DELETE_FOR_USER)
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
    let n = on_tx!(&mut tx, c => query(&PURGE_IDLE)
        .bind(cutoff)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&COUNT).fetch_one(pool).await)
}
