//! The register of worker good-netizen propagandists (职工好网民宣传员).

use super::sql::{Value, bulk_inserts, insert_rows, query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::ids::{OrgId, UserId};
use const_format::concatcp;

statements! {
    /// The register of units under a path prefix, in tree order.
    LIST = concatcp!(SELECT, " WHERE p.campaign_id = $1 AND o.path LIKE $2 AND p.removed_at IS NULL ORDER BY o.path, p.id");
    /// One keyset page, newest first, after id `$4` unless it is 0; `$3` a LIKE pattern on the
    /// name or phone, empty for any.
    PAGE = concatcp!(SELECT, " WHERE p.campaign_id = $1 AND o.path LIKE $2 AND p.removed_at IS NULL
           AND ($3 = '' OR p.name LIKE $3 ESCAPE '\\' OR p.phone LIKE $3 ESCAPE '\\')
           AND ($4 = 0 OR p.id < $4)
         ORDER BY p.id DESC LIMIT $5");
    COUNT_PAGE = "SELECT CAST(COUNT(*) AS BIGINT) FROM propagandists p JOIN orgs o ON o.id = p.org_id
         WHERE p.campaign_id = $1 AND o.path LIKE $2 AND p.removed_at IS NULL
           AND ($3 = '' OR p.name LIKE $3 ESCAPE '\\' OR p.phone LIKE $3 ESCAPE '\\')";
    REVISION = "SELECT CAST(rev AS BIGINT) FROM register_revision WHERE id = 1";
    GET_IN_SCOPE = concatcp!(SELECT, " WHERE p.id = $1 AND o.path LIKE $2 AND p.removed_at IS NULL");
    /// Who is on the register already (keys of the entries not removed), with their unit.
    KEYS = "SELECT p.person_key, o.name FROM propagandists p JOIN orgs o ON o.id = p.org_id
         WHERE p.campaign_id = $1 AND p.removed_at IS NULL";
    UPDATE = "UPDATE propagandists SET name = $1, phone = $2, accounts = $3, org_id = $4, joined_on = $5,
            person_key = $6, updated_at = $7 WHERE id = $8 AND removed_at IS NULL";
    /// Removal keeps the row (out of every count) and frees the person's key.
    REMOVE = "UPDATE propagandists SET removed_at = $1, removed_reason = $2, removed_by = $3,
            person_key = 'removed:' || CAST(id AS TEXT) || ':' || person_key WHERE id = $4 AND removed_at IS NULL";
    COUNTS = "SELECT org_id, COUNT(*) FROM propagandists WHERE campaign_id = $1 AND removed_at IS NULL GROUP BY org_id";
    /// `person_key` is unique per campaign: the same person is registered once.
    INSERT = "INSERT INTO propagandists (campaign_id, org_id, name, phone, accounts, person_key, created_by, created_at,
            consent_version, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    /// A check-in attendee who asked to join: registered unless already on the register.
    JOIN_FROM_CHECKIN = "INSERT INTO propagandists (campaign_id, org_id, name, phone, accounts, person_key, created_at,
            consent_version, source)
         VALUES ($1, $2, $3, $4, '', $5, $6, $7, 'checkin') ON CONFLICT (campaign_id, person_key) DO NOTHING";
}

const SELECT: &str =
    "SELECT p.id, p.name, p.phone, p.accounts, p.org_id, o.name AS org_name, p.joined_on
         FROM propagandists p JOIN orgs o ON o.id = p.org_id";

bulk_inserts! {
    /// An import: every row in as few statements as the parameter limit allows.
    IMPORT = "propagandists" ("campaign_id", "org_id", "name", "phone", "accounts", "person_key",
        "joined_on", "created_by", "created_at", "updated_at", "source");
}

/// The key a person is known by on the register: their phone wherever they are registered
/// (so one person counts once across units, and a move is an edit); without a phone, the name
/// (as `text::person_key_name` folds it) within the unit.
pub fn register_key(key_name: &str, phone: Option<&str>, org_id: OrgId) -> String {
    match phone.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => format!("tel:{p}"),
        None => format!("{key_name}|@{org_id}"),
    }
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
    /// The day they joined (`YYYY-MM-DD`), when known.
    pub joined_on: Option<String>,
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

fn pattern(search: &str) -> String {
    let needle = search.trim();
    if needle.is_empty() {
        String::new()
    } else {
        format!("%{}%", super::orgs::escape_like(needle))
    }
}

/// One keyset page of the register under `prefix`, newest first, after id `after` (0: from the
/// start), matching `search` in the name or phone.
pub async fn page(
    db: &Db,
    campaign_id: i64,
    prefix: &str,
    search: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Propagandist>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Propagandist>(&PAGE)
        .bind(campaign_id)
        .bind(format!("{prefix}%"))
        .bind(pattern(search))
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// The register's change counter (moved by triggers on every write to `propagandists`).
pub async fn revision(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar::<_, i64>(&REVISION).fetch_one(pool).await)
}

pub async fn count_page(
    db: &Db,
    campaign_id: i64,
    prefix: &str,
    search: &str,
) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar::<_, i64>(&COUNT_PAGE)
        .bind(campaign_id)
        .bind(format!("{prefix}%"))
        .bind(pattern(search))
        .fetch_one(pool)
        .await)
}

/// One entry on the register (not removed) whose unit lies under `prefix`.
pub async fn get(db: &Db, id: i64, prefix: &str) -> Result<Option<Propagandist>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Propagandist>(&GET_IN_SCOPE)
        .bind(id)
        .bind(format!("{prefix}%"))
        .fetch_optional(pool)
        .await)
}

/// Keys of everyone on the register, with their unit's name.
pub async fn keys(db: &Db, campaign_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, (String, String)>(&KEYS)
        .bind(campaign_id)
        .fetch_all(pool)
        .await)
}

/// What an edit sets.
pub struct Edit<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub accounts: &'a str,
    pub org_id: OrgId,
    pub joined_on: Option<&'a str>,
    pub person_key: &'a str,
}

/// Saves an edit (a unique violation: that phone is someone else's entry). False when the
/// entry was removed meanwhile.
pub async fn update(tx: &mut Tx, id: i64, e: Edit<'_>) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&UPDATE)
        .bind(e.name)
        .bind(e.phone)
        .bind(e.accounts)
        .bind(e.org_id)
        .bind(e.joined_on)
        .bind(e.person_key)
        .bind(unix_now())
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Takes an entry off the register with a reason. False when it was removed already.
pub async fn remove(tx: &mut Tx, id: i64, reason: &str, by: UserId) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&REMOVE)
        .bind(unix_now())
        .bind(reason)
        .bind(by)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// One imported row.
pub struct Imported {
    pub org_id: OrgId,
    pub name: String,
    pub phone: Option<String>,
    pub accounts: String,
    pub person_key: String,
    pub joined_on: Option<String>,
}

/// Inserts an import's rows in the caller's transaction, as multi-row INSERTs.
pub async fn insert_imported(
    tx: &mut Tx,
    campaign_id: i64,
    by: UserId,
    rows: Vec<Imported>,
) -> Result<(), sqlx::Error> {
    let now = unix_now();
    let mut values = Vec::with_capacity(rows.len() * IMPORT.columns.len());
    for r in rows {
        values.extend([
            Value::I(campaign_id),
            Value::I(r.org_id.get()),
            Value::T(r.name),
            Value::N(r.phone),
            Value::T(r.accounts),
            Value::T(r.person_key),
            Value::N(r.joined_on),
            Value::I(by.get()),
            Value::I(now),
            Value::I(now),
            Value::T("import".into()),
        ]);
    }
    insert_rows(tx, &IMPORT, &values).await
}
