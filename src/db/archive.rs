//! The campaign archive's storage side: every table of a campaign read row by row as JSON
//! values (streamed, never a whole table in memory), the files the archive copies, the archives
//! written, and closing and reopening a campaign.
//!
//! Each table is read with a named `SELECT *` statement (prepared on both databases by the
//! statement test like every other), and its rows are turned into JSON from the column types
//! the driver reports, so the archive follows the schema as migrations change it: a new column
//! appears in the archive without code here changing. PostgreSQL's booleans are written as 0/1,
//! as SQLite stores them, so one campaign archives the same way on both databases.

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::Value;
use sqlx::{Column, Row, TypeInfo, ValueRef};

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;

statements! {
    T_CAMPAIGN = "SELECT id, code, year, title, is_current, created_at, updated_at, revision, closed_at, closed_by, closed_archive_id FROM campaigns WHERE id = $1";
    T_ORGS = "SELECT * FROM orgs ORDER BY id";
    T_USERS = "SELECT * FROM users ORDER BY id";
    T_QUOTAS = "SELECT * FROM quotas WHERE campaign_id = $1 ORDER BY org_id";
    T_ACTIVITIES = "SELECT * FROM activities WHERE campaign_id = $1 ORDER BY id";
    T_ACTIVITY_VERSIONS = "SELECT v.* FROM activity_versions v JOIN activities a ON a.id = v.activity_id WHERE a.campaign_id = $1 ORDER BY v.activity_id, v.version";
    T_ACTIVITY_PHOTOS = "SELECT p.* FROM activity_photos p JOIN activities a ON a.id = p.activity_id WHERE a.campaign_id = $1 ORDER BY p.id";
    T_CHECKINS = "SELECT c.* FROM checkins c JOIN activities a ON a.id = c.activity_id WHERE a.campaign_id = $1 ORDER BY c.id";
    T_PROPAGANDISTS = "SELECT * FROM propagandists WHERE campaign_id = $1 ORDER BY id";
    T_UPLOADS = "SELECT u.* FROM uploads u JOIN works w ON w.upload_id = u.id WHERE w.campaign_id = $1 ORDER BY w.id";
    T_WORKS = "SELECT * FROM works WHERE campaign_id = $1 ORDER BY id";
    T_WORK_EVENTS = "SELECT e.* FROM work_events e JOIN works w ON w.id = e.work_id WHERE w.campaign_id = $1 ORDER BY e.id";
    T_PARTICIPATIONS = "SELECT * FROM participations WHERE campaign_id = $1 ORDER BY 1";
    T_REMINDERS = "SELECT * FROM reminders WHERE campaign_id = $1 ORDER BY id";
    T_MODERATORS = "SELECT * FROM moderator_assignments WHERE campaign_id = $1 ORDER BY 1, 2";
    T_PAPERS = "SELECT * FROM campaign_papers WHERE campaign_id = $1";
    T_REVIEWER_POOLS = "SELECT * FROM reviewer_pools WHERE campaign_id = $1 ORDER BY 1, 2";
    T_REVIEW_ROUNDS = "SELECT * FROM review_rounds WHERE campaign_id = $1 ORDER BY id";
    T_ROUND_WORKS = "SELECT rw.* FROM round_works rw JOIN review_rounds r ON r.id = rw.round_id WHERE r.campaign_id = $1 ORDER BY rw.round_id, rw.work_id";
    T_REVIEW_ASSIGNMENTS = "SELECT ra.* FROM review_assignments ra JOIN review_rounds r ON r.id = ra.round_id WHERE r.campaign_id = $1 ORDER BY ra.id";
    T_PUBLICITIES = "SELECT * FROM publicities WHERE campaign_id = $1 ORDER BY id";
    T_PUBLICITY_ENTRIES = "SELECT e.* FROM publicity_entries e JOIN publicities p ON p.id = e.publicity_id WHERE p.campaign_id = $1 ORDER BY e.id";
    T_OBJECTIONS = "SELECT o.* FROM objections o JOIN publicities p ON p.id = o.publicity_id WHERE p.campaign_id = $1 ORDER BY o.id";
    T_NOMINATIONS = "SELECT * FROM model_nominations WHERE campaign_id = $1 ORDER BY id";
    T_LECTURE_MEMBERS = "SELECT * FROM lecture_members WHERE campaign_id = $1 ORDER BY id";
    T_LECTURES = "SELECT * FROM lectures WHERE campaign_id = $1 ORDER BY id";
    T_SHOWCASE = "SELECT * FROM showcase_items WHERE campaign_id = $1 ORDER BY 1, 2";
    T_SHARE_LINKS = "SELECT * FROM share_links WHERE campaign_id = $1 ORDER BY created_at, code";
    T_REACH_VISITS = "SELECT * FROM reach_visits WHERE campaign_id = $1 ORDER BY day, at, code";
    T_RECOMMENDATIONS = "SELECT * FROM recommendations WHERE campaign_id = $1 ORDER BY id";
    T_NATIONAL_RESULTS = "SELECT * FROM national_results WHERE campaign_id = $1 ORDER BY work_id";
    /// The audit log up to the head read first (entries appended meanwhile are left out).
    T_AUDIT = "SELECT * FROM audit_log WHERE id <= $1 ORDER BY id";
    AUDIT_HEAD = "SELECT last_id, last_hash FROM audit_head WHERE id = 1";

    ACCEPTED_WORK_FILES = "SELECT w.id, w.sub_project, w.title, u.clean_key, u.media_type FROM works w JOIN uploads u ON u.id = w.upload_id WHERE w.campaign_id = $1 AND w.status = 'accepted' ORDER BY w.id";
    PHOTO_FILES = "SELECT p.id, p.activity_id, p.image_key FROM activity_photos p JOIN activities a ON a.id = p.activity_id WHERE a.campaign_id = $1 ORDER BY p.id";

    INSERT_ARCHIVE = "INSERT INTO campaign_archives (campaign_id, written_at, written_by, file_name, manifest_sha256, zip_sha256, entries, bytes, audit_last_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    LATEST_ARCHIVE = "SELECT id, written_at, written_by, file_name, manifest_sha256, zip_sha256, entries, bytes, audit_last_id FROM campaign_archives WHERE campaign_id = $1 ORDER BY id DESC LIMIT 1";
    /// Writes after the archive: every audited action but signing in and out and the archive
    /// itself.
    WRITES_SINCE = "SELECT COUNT(*) FROM audit_log WHERE id > $1 AND action NOT IN ('login.success', 'login.failure', 'logout', 'account.lock', 'password.change', 'campaign.archive')";
    CLOSE = "UPDATE campaigns SET closed_at = $1, closed_by = $2, closed_archive_id = $3, revision = revision + 1 WHERE id = $4 AND closed_at IS NULL";
    REOPEN = "UPDATE campaigns SET closed_at = NULL, closed_by = NULL, closed_archive_id = NULL, revision = revision + 1 WHERE id = $1 AND closed_at IS NOT NULL";
    CLOSED_BY_ID = "SELECT closed_at, closed_by, closed_archive_id FROM campaigns WHERE id = $1";
    /// The current campaign's closing, ordered as `campaigns::CURRENT` picks it.
    CURRENT_CLOSED = "SELECT closed_at FROM campaigns ORDER BY is_current DESC, year DESC, id DESC LIMIT 1";
}

/// One table of the archive: its file (`data/<name>.json`), its Chinese name, and whether its
/// statement takes the campaign's id.
pub struct Table {
    pub name: &'static str,
    pub label_zh: &'static str,
    sql: &'static super::sql::Sql,
    by_campaign: bool,
}

const fn t(
    name: &'static str,
    label_zh: &'static str,
    sql: &'static super::sql::Sql,
    by_campaign: bool,
) -> Table {
    Table {
        name,
        label_zh,
        sql,
        by_campaign,
    }
}

/// Every table the archive holds, in the order written.
pub const TABLES: &[Table] = &[
    t("campaign", "主题活动", &T_CAMPAIGN, true),
    t("orgs", "单位", &T_ORGS, false),
    t("users", "账号", &T_USERS, false),
    t("quotas", "任务分配", &T_QUOTAS, true),
    t("activities", "线下活动", &T_ACTIVITIES, true),
    t(
        "activity_versions",
        "活动报告版本",
        &T_ACTIVITY_VERSIONS,
        true,
    ),
    t("activity_photos", "活动照片", &T_ACTIVITY_PHOTOS, true),
    t("checkins", "签到", &T_CHECKINS, true),
    t("propagandists", "宣传员", &T_PROPAGANDISTS, true),
    t("uploads", "作品文件", &T_UPLOADS, true),
    t("works", "作品", &T_WORKS, true),
    t("work_events", "作品审核记录", &T_WORK_EVENTS, true),
    t("participations", "子项目参与", &T_PARTICIPATIONS, true),
    t("reminders", "催报提醒", &T_REMINDERS, true),
    t("moderator_assignments", "审核分工", &T_MODERATORS, true),
    t("campaign_papers", "通报文号", &T_PAPERS, true),
    t("reviewer_pools", "评审专家库", &T_REVIEWER_POOLS, true),
    t("review_rounds", "评审轮次", &T_REVIEW_ROUNDS, true),
    t("round_works", "评选结果", &T_ROUND_WORKS, true),
    t(
        "review_assignments",
        "评审打分",
        &T_REVIEW_ASSIGNMENTS,
        true,
    ),
    t("publicities", "公示", &T_PUBLICITIES, true),
    t("publicity_entries", "公示名单", &T_PUBLICITY_ENTRIES, true),
    t("objections", "异议", &T_OBJECTIONS, true),
    t("model_nominations", "好网民推荐", &T_NOMINATIONS, true),
    t("lecture_members", "宣讲团成员", &T_LECTURE_MEMBERS, true),
    t("lectures", "宣讲记录", &T_LECTURES, true),
    t("showcase_items", "展示", &T_SHOWCASE, true),
    t("share_links", "分享链接", &T_SHARE_LINKS, true),
    t("reach_visits", "实测访问", &T_REACH_VISITS, true),
    t("recommendations", "推荐作品", &T_RECOMMENDATIONS, true),
    t(
        "national_results",
        "全国评选结果",
        &T_NATIONAL_RESULTS,
        true,
    ),
];

/// One row: its columns in the table's order.
pub type JsonRow = Vec<(String, Value)>;

fn sqlite_value(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_string();
    Ok(match kind.as_str() {
        "INTEGER" | "BOOLEAN" => Value::from(row.try_get_unchecked::<i64, _>(i)?),
        "REAL" => Value::from(row.try_get_unchecked::<f64, _>(i)?),
        "BLOB" => Value::from(hex::encode(row.try_get_unchecked::<Vec<u8>, _>(i)?)),
        _ => Value::from(row.try_get_unchecked::<String, _>(i)?),
    })
}

fn postgres_value(row: &sqlx::postgres::PgRow, i: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_string();
    Ok(match kind.as_str() {
        "INT8" => Value::from(row.try_get::<i64, _>(i)?),
        "INT4" => Value::from(row.try_get::<i32, _>(i)?),
        "INT2" => Value::from(row.try_get::<i16, _>(i)?),
        "BOOL" => Value::from(i64::from(row.try_get::<bool, _>(i)?)),
        "FLOAT8" => Value::from(row.try_get::<f64, _>(i)?),
        "FLOAT4" => Value::from(row.try_get::<f32, _>(i)?),
        "BYTEA" => Value::from(hex::encode(row.try_get::<Vec<u8>, _>(i)?)),
        _ => Value::from(row.try_get::<String, _>(i)?),
    })
}

fn sqlite_row(row: sqlx::sqlite::SqliteRow) -> Result<JsonRow, sqlx::Error> {
    (0..row.columns().len())
        .map(|i| Ok((row.columns()[i].name().to_string(), sqlite_value(&row, i)?)))
        .collect()
}

fn postgres_row(row: sqlx::postgres::PgRow) -> Result<JsonRow, sqlx::Error> {
    (0..row.columns().len())
        .map(|i| {
            Ok((
                row.columns()[i].name().to_string(),
                postgres_value(&row, i)?,
            ))
        })
        .collect()
}

/// The rows of `table` for campaign `campaign_id`, one at a time.
pub fn rows<'a>(
    db: &'a Db,
    table: &'static Table,
    campaign_id: i64,
) -> BoxStream<'a, Result<JsonRow, sqlx::Error>> {
    match db {
        Db::Sqlite { read, .. } => {
            let q = query(table.sql);
            let q = if table.by_campaign {
                q.bind(campaign_id)
            } else {
                q
            };
            q.fetch(read).map(|r| r.and_then(sqlite_row)).boxed()
        }
        Db::Postgres(pool) => {
            let q = query(table.sql);
            let q = if table.by_campaign {
                q.bind(campaign_id)
            } else {
                q
            };
            q.fetch(pool).map(|r| r.and_then(postgres_row)).boxed()
        }
    }
}

/// The audit log's head: (last id, last hash).
pub async fn audit_head(db: &Db) -> Result<(i64, String), sqlx::Error> {
    on_pool!(db, pool => query_as(&AUDIT_HEAD).fetch_one(pool).await)
}

/// The audit log's entries up to `last_id`, one at a time, as stored.
pub fn audit_rows(db: &Db, last_id: i64) -> BoxStream<'_, Result<JsonRow, sqlx::Error>> {
    match db {
        Db::Sqlite { read, .. } => query(&T_AUDIT)
            .bind(last_id)
            .fetch(read)
            .map(|r| r.and_then(sqlite_row))
            .boxed(),
        Db::Postgres(pool) => query(&T_AUDIT)
            .bind(last_id)
            .fetch(pool)
            .map(|r| r.and_then(postgres_row))
            .boxed(),
    }
}

/// An accepted work's clean copy.
#[derive(sqlx::FromRow)]
pub struct WorkFile {
    pub id: i64,
    pub sub_project: String,
    pub title: String,
    pub clean_key: Option<String>,
    pub media_type: Option<String>,
}

pub async fn accepted_work_files(db: &Db, campaign_id: i64) -> Result<Vec<WorkFile>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ACCEPTED_WORK_FILES).bind(campaign_id).fetch_all(pool).await)
}

/// An activity photo's re-encoded copy: (photo id, activity id, key).
pub async fn photo_files(
    db: &Db,
    campaign_id: i64,
) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&PHOTO_FILES).bind(campaign_id).fetch_all(pool).await)
}

/// An archive written.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArchiveRecord {
    pub id: i64,
    pub written_at: i64,
    pub written_by: String,
    pub file_name: String,
    pub manifest_sha256: String,
    pub zip_sha256: String,
    pub entries: i64,
    pub bytes: i64,
    pub audit_last_id: i64,
}

pub struct NewArchive<'a> {
    pub campaign_id: i64,
    pub written_by: &'a str,
    pub file_name: &'a str,
    pub manifest_sha256: &'a str,
    pub zip_sha256: &'a str,
    pub entries: i64,
    pub bytes: i64,
    pub audit_last_id: i64,
}

pub async fn insert_archive(tx: &mut Tx, a: &NewArchive<'_>) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT_ARCHIVE)
        .bind(a.campaign_id)
        .bind(unix_now())
        .bind(a.written_by)
        .bind(a.file_name)
        .bind(a.manifest_sha256)
        .bind(a.zip_sha256)
        .bind(a.entries)
        .bind(a.bytes)
        .bind(a.audit_last_id)
        .fetch_one(c)
        .await)
}

pub async fn latest_archive(
    db: &Db,
    campaign_id: i64,
) -> Result<Option<ArchiveRecord>, sqlx::Error> {
    on_pool!(db, pool => query_as(&LATEST_ARCHIVE).bind(campaign_id).fetch_optional(pool).await)
}

/// Audited writes after audit entry `after_id` (signing in and out left aside).
pub async fn writes_since(tx: &mut Tx, after_id: i64) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&WRITES_SINCE).bind(after_id).fetch_one(c).await)
}

/// Closes the campaign unless it is closed already (compare-and-set). Whether it closed it.
pub async fn close(
    tx: &mut Tx,
    campaign_id: i64,
    by: &str,
    archive_id: i64,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&CLOSE)
        .bind(unix_now())
        .bind(by)
        .bind(archive_id)
        .bind(campaign_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Reopens a closed campaign (compare-and-set). Whether it reopened it.
pub async fn reopen(tx: &mut Tx, campaign_id: i64) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&REOPEN)
        .bind(campaign_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// When and by whom a campaign was closed, and on which archive; `None` while open.
pub async fn closed(
    db: &Db,
    campaign_id: i64,
) -> Result<Option<(i64, String, Option<i64>)>, sqlx::Error> {
    let row: Option<(Option<i64>, Option<String>, Option<i64>)> =
        on_pool!(db, pool => query_as(&CLOSED_BY_ID).bind(campaign_id).fetch_optional(pool).await)?;
    Ok(row.and_then(|(at, by, archive)| at.map(|at| (at, by.unwrap_or_default(), archive))))
}

/// Whether the current campaign is closed (one indexed row; what every write checks).
pub async fn current_is_closed(db: &Db) -> Result<bool, sqlx::Error> {
    let at: Option<Option<i64>> =
        on_pool!(db, pool => query_scalar(&CURRENT_CLOSED).fetch_optional(pool).await)?;
    Ok(at.flatten().is_some())
}
