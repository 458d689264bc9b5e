//! Accounts. Each is bound to one org and holds one role.

use crate::domain::ids::{OrgId, UserId};
use serde::Serialize;

use super::orgs::Scope;
use const_format::concatcp;

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::role::Role;

statements! {
    BY_LOGIN = concatcp!("SELECT ", COLUMNS, " FROM users WHERE login = $1");
    BY_ID = concatcp!("SELECT ", COLUMNS, " FROM users WHERE id = $1");
    LIST = concatcp!(ROW_SELECT, " ORDER BY o.path, u.login");
    GET_ROW = concatcp!(ROW_SELECT, " AND u.id = $3");
    INSERT = "INSERT INTO users (login, display_name, phone, role, org_id, password_hash, must_change_password, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id";
    RECORD_CONSENT = "UPDATE users SET consent_version = $1, consent_at = $2 WHERE id = $3";
    SET_PASSWORD = "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, attempts_since = 0, locked_until = NULL, updated_at = $3 WHERE id = $4";
    /// Takes one attempt from the account's budget before its password is checked: refused
    /// (no row) while a lock is in force or the window's budget is spent. A window older than
    /// `$2`, or a lock that has run out, starts a new window. `$1` now, `$3` id, `$4` budget.
    TAKE_ATTEMPT = "UPDATE users SET
            failed_logins = CASE WHEN attempts_since < $2 OR locked_until <= $1 THEN 1 ELSE failed_logins + 1 END,
            attempts_since = CASE WHEN attempts_since < $2 OR locked_until <= $1 THEN $1 ELSE attempts_since END,
            locked_until = CASE WHEN locked_until <= $1 THEN NULL ELSE locked_until END
         WHERE id = $3 AND (locked_until IS NULL OR locked_until <= $1)
           AND (failed_logins < $4 OR attempts_since < $2 OR locked_until <= $1)
         RETURNING failed_logins";
    /// A wrong password: once the window's budget is spent, the lock comes into force (an
    /// earlier lock is never extended). Returns the lock's end, if any.
    RECORD_FAILURE = "UPDATE users SET locked_until = CASE
            WHEN failed_logins >= $2 AND (locked_until IS NULL OR locked_until <= $1) THEN $3 ELSE locked_until END
         WHERE id = $4 RETURNING locked_until";
    /// A right password clears the window, but never a lock already in force.
    RECORD_SUCCESS = "UPDATE users SET failed_logins = 0, attempts_since = 0
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)";
    SET_EMAIL = "UPDATE users SET email = $1, updated_at = $2 WHERE id = $3";
    /// Compare-and-set on the role and unit the editor saw, so two admins editing one account
    /// at once cannot silently overwrite each other.
    SET_PROFILE = "UPDATE users SET display_name = $1, role = $2, org_id = $3, updated_at = $4
         WHERE id = $5 AND role = $6 AND org_id = $7";
    SET_DISABLED = "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3";
    COUNT = "SELECT COUNT(*) FROM users";
    /// A page of the accounts in scope matching a search (login or name), in the order they
    /// were made, after id `$5`.
    PAGE = concatcp!(ROW_SELECT, " AND ($3 = '' OR u.login LIKE $4 ESCAPE '\\' OR u.display_name LIKE $4 ESCAPE '\\')
         AND u.id > $5 ORDER BY u.id LIMIT $6");
    COUNT_MATCHING = "SELECT COUNT(*) FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.path LIKE $1
         AND ($2 = '' OR u.login LIKE $3 ESCAPE '\\' OR u.display_name LIKE $3 ESCAPE '\\')";
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub org_id: OrgId,
    pub password_hash: String,
    pub must_change_password: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub disabled: bool,
}

/// A user as listed to admins: never the hash.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct UserRow {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
    /// Masked unless the viewer may see it whole.
    pub phone: Option<String>,
    /// Where reminders are mailed; masked like the phone.
    pub email: Option<String>,
    pub role: Role,
    pub org_id: OrgId,
    pub org_name: String,
    /// The org's materialised path (who may manage the account depends on it).
    #[serde(skip)]
    pub org_path: String,
    pub must_change_password: bool,
    pub locked: bool,
    pub disabled: bool,
}

const COLUMNS: &str = "id, login, display_name, phone, role, org_id, password_hash, must_change_password, failed_logins, locked_until, disabled";

pub async fn by_login(db: &Db, login: &str) -> Result<Option<User>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, User>(&BY_LOGIN).bind(login).fetch_optional(pool).await)
}

pub async fn by_login_tx(tx: &mut Tx, login: &str) -> Result<Option<User>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, User>(&BY_LOGIN).bind(login).fetch_optional(c).await)
}

pub async fn by_id(db: &Db, id: UserId) -> Result<Option<User>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, User>(&BY_ID).bind(id).fetch_optional(pool).await)
}

const ROW_SELECT: &str = "SELECT u.id, u.login, u.display_name, u.phone, u.email, u.role, u.org_id, o.name AS org_name, o.path AS org_path,
    u.must_change_password, (u.locked_until IS NOT NULL AND u.locked_until > $2) AS locked, u.disabled
    FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.path LIKE $1";

/// Accounts whose org lies in scope.
pub async fn list(db: &Db, scope: &Scope) -> Result<Vec<UserRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, UserRow>(&LIST)
        .bind(format!("{}%", scope.prefix))
        .bind(unix_now())
        .fetch_all(pool)
        .await)
}

/// How many accounts lie in scope, without reading them.
pub async fn count_in(db: &Db, scope: &Scope) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar::<_, i64>(&COUNT_MATCHING)
        .bind(format!("{}%", scope.prefix))
        .bind("")
        .bind("")
        .fetch_one(pool)
        .await)
}

/// Accounts in scope whose login or name contains `needle`, `limit` at a time in the order
/// they were made (after id `after`; ids, not logins, so a worker's login — a mobile — never
/// travels in a link), and how many match in all.
pub async fn page(
    db: &Db,
    scope: &Scope,
    needle: &str,
    after: i64,
    limit: i64,
) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let needle = needle.trim();
    let pattern = format!("%{}%", super::orgs::escape_like(needle));
    let prefix = format!("{}%", scope.prefix);
    let rows = on_pool!(db, pool => query_as::<_, UserRow>(&PAGE)
        .bind(&prefix)
        .bind(unix_now())
        .bind(needle)
        .bind(&pattern)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
    let total = on_pool!(db, pool => query_scalar::<_, i64>(&COUNT_MATCHING)
        .bind(&prefix)
        .bind(needle)
        .bind(&pattern)
        .fetch_one(pool)
        .await)?;
    Ok((rows, total))
}

/// One account, if its org lies in scope.
pub async fn get_row(db: &Db, scope: &Scope, id: UserId) -> Result<Option<UserRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, UserRow>(&GET_ROW)
        .bind(format!("{}%", scope.prefix))
        .bind(unix_now())
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub struct NewUser<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub phone: Option<&'a str>,
    pub role: Role,
    pub org_id: OrgId,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

pub async fn insert(tx: &mut Tx, new: NewUser<'_>) -> Result<UserId, sqlx::Error> {
    let now = unix_now();
    on_tx!(tx, c => query_scalar(&INSERT)
        .bind(new.login)
        .bind(new.display_name)
        .bind(new.phone)
        .bind(new.role.code())
        .bind(new.org_id)
        .bind(new.password_hash)
        .bind(new.must_change_password)
        .bind(now)
        .fetch_one(c)
        .await)
}

/// Records the version of the privacy notice a self-registered worker accepted, and when.
pub async fn record_consent(tx: &mut Tx, id: UserId, version: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&RECORD_CONSENT)
        .bind(version).bind(unix_now()).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_password(
    tx: &mut Tx,
    id: UserId,
    password_hash: &str,
    must_change: bool,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&SET_PASSWORD)
        .bind(password_hash)
        .bind(must_change)
        .bind(unix_now())
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed login; locks the account when the count reaches `limit`.
/// Returns the new count.
/// Takes one login attempt from the account's budget (`limit` attempts per `window` seconds).
/// `None`: refused, a lock is in force or the budget is spent; `Some(n)`: the n-th attempt.
pub async fn take_attempt(
    db: &Db,
    id: UserId,
    now: i64,
    limit: i64,
    window: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let taken: Option<i64> = on_tx!(&mut tx, c => query_scalar(&TAKE_ATTEMPT)
        .bind(now)
        .bind(now - window)
        .bind(id)
        .bind(limit)
        .fetch_optional(c)
        .await)?;
    tx.commit().await?;
    Ok(taken)
}

/// Records a wrong password; returns the end of the lock in force, if any.
pub async fn record_failure(
    tx: &mut Tx,
    id: UserId,
    now: i64,
    limit: i64,
    lock_until: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let until: Option<Option<i64>> = on_tx!(tx, c => query_scalar(&RECORD_FAILURE)
        .bind(now)
        .bind(limit)
        .bind(lock_until)
        .bind(id)
        .fetch_optional(c)
        .await)?;
    Ok(until.flatten().filter(|t| *t > now))
}

/// Records a right password; false when a lock came into force meanwhile (the login is then
/// refused: a right password never lifts a lock).
pub async fn record_success(tx: &mut Tx, id: UserId, now: i64) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&RECORD_SUCCESS)
        .bind(id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Sets or clears an account's e-mail address.
pub async fn set_email(tx: &mut Tx, id: UserId, email: Option<&str>) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&SET_EMAIL)
        .bind(email)
        .bind(unix_now())
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What an admin may change of an account after it is made.
pub struct Profile<'a> {
    pub display_name: &'a str,
    pub role: Role,
    pub org_id: OrgId,
}

/// Changes name, role and unit if role and unit are still `seen`; false when they changed
/// meanwhile.
pub async fn set_profile(
    tx: &mut Tx,
    id: UserId,
    new: Profile<'_>,
    seen: (Role, OrgId),
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, c => query(&SET_PROFILE)
        .bind(new.display_name)
        .bind(new.role.code())
        .bind(new.org_id)
        .bind(unix_now())
        .bind(id)
        .bind(seen.0.code())
        .bind(seen.1)
        .execute(c)
        .await
        .map(|r| r.rows_affected() == 1))
}

pub async fn set_disabled(tx: &mut Tx, id: UserId, disabled: bool) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&SET_DISABLED)
        .bind(disabled)
        .bind(unix_now())
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&COUNT).fetch_one(pool).await)
}
