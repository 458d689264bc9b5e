//! The demo seeding's storage: counting and clearing what a seeding replaces, the multi-row
//! INSERTs that write a generated tree, its activities, check-ins and propagandists in one
//! transaction, the few one-row writes around them (quotas, demo admins), moving PostgreSQL's
//! id sequences past the ids the seeding chose, and refreshing the planner's statistics.
//! The generation itself (names, tree, numbers) is `service::demo`; nothing there names SQL.

use super::sql::{Bulk, Sql, bulk_inserts, query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::OrgId;

statements! {
    COUNT_ACTIVITIES = "SELECT COUNT(*) FROM activities";
    DELETE_CHECKINS = "DELETE FROM checkins";
    DELETE_CHECKIN_CODES = "DELETE FROM checkin_codes";
    DELETE_ACTIVITY_VERSIONS = "DELETE FROM activity_versions";
    DELETE_ACTIVITIES = "DELETE FROM activities";
    DELETE_PROPAGANDISTS = "DELETE FROM propagandists";
    DELETE_LECTURE_ASSIGNMENTS = "DELETE FROM lecture_assignments";
    DELETE_LECTURES = "DELETE FROM lectures";
    DELETE_LECTURE_MEMBERS = "DELETE FROM lecture_members";
    DELETE_MODEL_NOMINATIONS = "DELETE FROM model_nominations";
    /// A unit's quota for the campaign; a new one goes to the end of the table's order.
    UPSERT_QUOTA = "INSERT INTO quotas (campaign_id, org_id, min_activities, position)
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM quotas WHERE campaign_id = $1))
             ON CONFLICT (campaign_id, org_id) DO UPDATE SET min_activities = excluded.min_activities";
    /// A demo admin that exists already gets the new one-time password (and is unlocked).
    RESET_ADMIN = "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = NULL, updated_at = $3 WHERE login = $4";
    USER_ID_BY_LOGIN = "SELECT id FROM users WHERE login = $1";
    /// An account's id and unit, for demo works filed by the demo admins.
    USER_AND_ORG = "SELECT id, org_id FROM users WHERE login = $1";
    COUNT_ROUNDS = "SELECT COUNT(*) FROM review_rounds";
    /// A demo work's upload: checked and accepted, with measurements but no stored file.
    INSERT_CHECKED_UPLOAD = "INSERT INTO uploads (id, owner_id, campaign_id, sub_project, file_name, size_bytes, received,
           state, media_type, verdict, report, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, 'checked', 'video/mp4', 'accepted', $7, $8, $8)
         ON CONFLICT (id) DO NOTHING";
    NEXT_ACTIVITY_ID = "SELECT COALESCE(MAX(id), 0) + 1 FROM activities";
    /// PostgreSQL only: the seeding gave rows their ids, so the identity sequences move past them.
    SYNC_ORGS_SEQUENCE = "", "SELECT setval(pg_get_serial_sequence('orgs', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM orgs), false)";
    SYNC_ACTIVITIES_SEQUENCE = "", "SELECT setval(pg_get_serial_sequence('activities', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM activities), false)";
    /// Fresh statistics for the planner after a bulk load.
    ANALYZE = "ANALYZE", "ANALYZE orgs, quotas, users, activities, checkins, propagandists";
}

/// What `--force` removes, children first: every lecture (they name activities), team member
/// and model nomination, activity, check-in and propagandist.
const CLEAR: [&Sql; 9] = [
    &DELETE_LECTURE_ASSIGNMENTS,
    &DELETE_LECTURES,
    &DELETE_LECTURE_MEMBERS,
    &DELETE_MODEL_NOMINATIONS,
    &DELETE_CHECKINS,
    &DELETE_CHECKIN_CODES,
    &DELETE_ACTIVITY_VERSIONS,
    &DELETE_ACTIVITIES,
    &DELETE_PROPAGANDISTS,
];

/// The sequences of the tables whose rows the seeding numbers itself.
const SYNC_SEQUENCES: [&Sql; 2] = [&SYNC_ORGS_SEQUENCE, &SYNC_ACTIVITIES_SEQUENCE];

bulk_inserts! {
    ORGS = "orgs" ("id", "parent_id", "name", "kind", "contact_name", "contact_phone", "path",
        "depth", "created_at", "updated_at");
    ACTIVITIES = "activities" ("id", "campaign_id", "org_id", "status", "document", "name",
        "starts_at", "participants", "grassroots_unions", "enterprises", "new_propagandists",
        "online_views", "return_reason", "version", "created_by", "created_at", "updated_at");
    CHECKINS = "checkins" ("activity_id", "name", "unit", "phone", "person_key",
        "consent_version", "created_at");
    PROPAGANDISTS = "propagandists" ("campaign_id", "org_id", "name", "phone", "accounts",
        "person_key", "created_at");
}

pub use super::sql::Value;

/// How many activities there are (the seeding refuses a database that has some).
pub async fn count_activities(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&COUNT_ACTIVITIES).fetch_one(pool).await)
}

/// Deletes every activity, check-in and propagandist (`demo seed --force`).
pub async fn clear_activities(tx: &mut Tx) -> Result<(), sqlx::Error> {
    for statement in CLEAR {
        on_tx!(tx, c => query(statement)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Inserts `rows` (each `bulk.columns.len()` values, row after row) in as few statements as the
/// parameter limit allows.
pub async fn insert(tx: &mut Tx, bulk: &'static Bulk, rows: &[Value]) -> Result<(), sqlx::Error> {
    super::sql::insert_rows(tx, bulk, rows).await
}

/// Sets a unit's quota for the campaign.
pub async fn upsert_quota(
    tx: &mut Tx,
    campaign_id: i64,
    org_id: OrgId,
    min_activities: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&UPSERT_QUOTA)
        .bind(campaign_id)
        .bind(org_id)
        .bind(min_activities)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Gives the account `login`, if it exists, the one-time password `hash` and unlocks it.
/// Returns how many accounts changed (0 when there is none yet).
pub async fn reset_admin(
    tx: &mut Tx,
    login: &str,
    hash: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, c => query(&RESET_ADMIN)
        .bind(hash)
        .bind(true)
        .bind(now)
        .bind(login)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// The id of the account `login`, within the seeding's transaction.
pub async fn user_id_by_login(tx: &mut Tx, login: &str) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&USER_ID_BY_LOGIN)
        .bind(login)
        .fetch_optional(c)
        .await)
}

/// The first activity id after every stored one.
pub async fn next_activity_id(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar::<_, i64>(&NEXT_ACTIVITY_ID).fetch_one(c).await)
}

/// PostgreSQL only: moves the identity sequences of `orgs` and `activities` past the ids the
/// seeding gave.
pub async fn sync_id_sequences(tx: &mut Tx) -> Result<(), sqlx::Error> {
    for statement in SYNC_SEQUENCES {
        on_tx!(tx, c => query(statement)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Refreshes the planner's statistics: right after a bulk load PostgreSQL still thinks the
/// tables are nearly empty. On SQLite it runs on the write connection (it writes
/// `sqlite_stat1`).
pub async fn analyze(db: &Db) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => query(&ANALYZE).execute(write).await.map(|_| ()),
        Db::Postgres(pool) => query(&ANALYZE).execute(pool).await.map(|_| ()),
    }
}

pub async fn user_and_org(
    tx: &mut Tx,
    login: &str,
) -> Result<Option<(crate::domain::ids::UserId, OrgId)>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, (crate::domain::ids::UserId, OrgId)>(&USER_AND_ORG)
        .bind(login).fetch_optional(c).await)
}

pub async fn count_rounds(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&COUNT_ROUNDS).fetch_one(c).await)
}

/// A checked, accepted upload without a stored file (demo works).
pub struct CheckedUpload<'a> {
    pub id: &'a str,
    pub owner: crate::domain::ids::UserId,
    pub campaign_id: i64,
    pub sub_project: &'a str,
    pub file_name: &'a str,
    pub size_bytes: i64,
    pub report: &'a str,
}

pub async fn insert_checked_upload(tx: &mut Tx, u: CheckedUpload<'_>) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&INSERT_CHECKED_UPLOAD)
        .bind(u.id).bind(u.owner).bind(u.campaign_id).bind(u.sub_project).bind(u.file_name)
        .bind(u.size_bytes).bind(u.report).bind(crate::clock::unix_now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
