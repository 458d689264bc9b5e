//! Offline activity reports. The plan and report are kept whole as JSON; the counters are
//! columns so progress can be summed in SQL.

use crate::domain::activity::Status;
use crate::domain::ids::{ActivityId, OrgId, UserId};
use serde::Serialize;

use super::orgs::Scope;
use const_format::concatcp;

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ActivityRow {
    pub id: ActivityId,
    pub campaign_id: i64,
    pub org_id: OrgId,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    /// Where the report is on the approval chain.
    pub status: Status,
    /// The plan and report (`ActivityInput`) as JSON text.
    pub document: String,
    pub name: String,
    pub starts_at: String,
    pub participants: i64,
    pub grassroots_unions: i64,
    pub enterprises: i64,
    pub new_propagandists: i64,
    pub online_views: i64,
    pub return_reason: Option<String>,
    pub version: i64,
    pub updated_at: i64,
    /// People who checked in with the activity's QR code.
    pub verified: i64,
}

const SELECT: &str = "SELECT a.id, a.campaign_id, a.org_id, o.name AS org_name, o.path AS org_path, a.status, a.document,
    a.name, a.starts_at, a.participants, a.grassroots_unions, a.enterprises, a.new_propagandists, a.online_views,
    a.return_reason, a.version, a.updated_at,
    (SELECT COUNT(*) FROM checkins c WHERE c.activity_id = a.id) AS verified
    FROM activities a JOIN orgs o ON o.id = a.org_id";

/// The activity's format lives in its JSON document; the two databases spell JSON access
/// differently.
const FORMAT_SQLITE: &str = "json_extract(a.document, '$.format')";
const FORMAT_PG: &str = "(CAST(a.document AS jsonb) ->> 'format')";
const PLACE_SQLITE: &str = "json_extract(a.document, '$.place')";
const PLACE_PG: &str = "(CAST(a.document AS jsonb) ->> 'place')";
/// A row source of the activity's categories, one `value` per category.
const CATEGORIES_SQLITE: &str = "json_each(a.document, '$.categories')";
const CATEGORIES_PG: &str =
    "jsonb_array_elements_text(CAST(a.document AS jsonb) -> 'categories') AS j(value)";

/// The list filter's conditions (`$3`..`$8`), around the JSON fragments.
const FILTER_HEAD: &str = "
           AND ($3 = '' OR a.status = $3 OR ($3 = 'reported' AND a.status IN ('submitted', 'approved', 'confirmed')))
           AND ($4 = '' OR substr(a.starts_at, 1, 10) >= $4) AND ($5 = '' OR substr(a.starts_at, 1, 10) <= $5)
           AND ($6 = '' OR ";
const FILTER_MID: &str = " = $6)
           AND ($7 = '' OR EXISTS (SELECT 1 FROM ";
const FILTER_SEARCH: &str = " WHERE value = $7))
           AND ($8 = '' OR a.name LIKE $8 ESCAPE '\\' OR ";
const FILTER_TAIL: &str = " LIKE $8 ESCAPE '\\')";

/// Both dialects of a statement that differs only in its JSON fragments.
macro_rules! with_json {
    (@sqlite FORMAT) => { FORMAT_SQLITE };
    (@sqlite CATEGORIES) => { CATEGORIES_SQLITE };
    (@sqlite PLACE) => { PLACE_SQLITE };
    (@pg PLACE) => { PLACE_PG };
    (@sqlite FILTER) => { concatcp!(FILTER_HEAD, FORMAT_SQLITE, FILTER_MID, CATEGORIES_SQLITE, FILTER_SEARCH, PLACE_SQLITE, FILTER_TAIL) };
    (@pg FILTER) => { concatcp!(FILTER_HEAD, FORMAT_PG, FILTER_MID, CATEGORIES_PG, FILTER_SEARCH, PLACE_PG, FILTER_TAIL) };
    (@sqlite $other:tt) => { $other };
    (@pg FORMAT) => { FORMAT_PG };
    (@pg CATEGORIES) => { CATEGORIES_PG };
    (@pg $other:tt) => { $other };
    ($($part:tt),+) => {
        [concatcp!($(with_json!(@sqlite $part)),+), concatcp!($(with_json!(@pg $part)),+)]
    };
}

statements! {
    /// One keyset page of the activities under a path prefix, narrowed by the list filter
    /// (`$3`..`$8` empty mean any; `$8` a LIKE pattern on the name or place), newest first,
    /// after (`$10`, `$11`) unless `$9` = 0.
    LIST = @dialects with_json!(SELECT, " WHERE o.path LIKE $1 AND a.campaign_id = $2", FILTER, "
           AND ($9 = 0 OR a.starts_at < $10 OR (a.starts_at = $10 AND a.id < $11))
         ORDER BY a.starts_at DESC, a.id DESC LIMIT $12");
    /// How many activities the same filter matches (`$1`..`$8` as for `LIST`).
    COUNT = @dialects with_json!("SELECT CAST(COUNT(*) AS BIGINT) FROM activities a JOIN orgs o ON o.id = a.org_id
         WHERE o.path LIKE $1 AND a.campaign_id = $2", FILTER);
    /// How many of one unit's own activities (not its subtree's) have status `$3`.
    COUNT_OF_ORG = "SELECT CAST(COUNT(*) AS BIGINT) FROM activities WHERE campaign_id = $1 AND org_id = $2 AND status = $3";
    PER_DAY = "SELECT substr(a.starts_at, 1, 10) AS day, CAST(COUNT(*) AS BIGINT) FROM activities a JOIN orgs o ON o.id = a.org_id
         WHERE o.path LIKE $1 AND a.campaign_id = $2 GROUP BY substr(a.starts_at, 1, 10) ORDER BY day";
    PER_FORMAT = @dialects with_json!("SELECT COALESCE(", FORMAT, ", '') AS v, CAST(COUNT(*) AS BIGINT) FROM activities a JOIN orgs o ON o.id = a.org_id
         WHERE o.path LIKE $1 AND a.campaign_id = $2 GROUP BY COALESCE(", FORMAT, ", '') ORDER BY 2 DESC");
    PER_CATEGORY = @dialects with_json!("SELECT value, CAST(COUNT(*) AS BIGINT) FROM activities a JOIN orgs o ON o.id = a.org_id, ", CATEGORIES, "
         WHERE o.path LIKE $1 AND a.campaign_id = $2 GROUP BY value ORDER BY 2 DESC");
    GET_IN_SCOPE = concatcp!(SELECT, " WHERE a.id = $1 AND o.path LIKE $2");
    GET = concatcp!(SELECT, " WHERE a.id = $1");
    INSERT = "INSERT INTO activities (campaign_id, org_id, status, document, name, starts_at, participants, grassroots_unions,
            enterprises, new_propagandists, online_views, created_by, created_at, updated_at)
         VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id";
    UPDATE_DOCUMENT = "UPDATE activities SET document = $1, name = $2, starts_at = $3, participants = $4, grassroots_unions = $5,
            enterprises = $6, new_propagandists = $7, online_views = $8, version = version + 1, updated_at = $9 WHERE id = $10";
    /// Compare-and-set on the status and the version; a submission starts a new version.
    SET_STATUS = "UPDATE activities SET status = $1, return_reason = $2, updated_at = $3,
            version = version + $6 WHERE id = $4 AND status = $5 AND version = $7";
    SAVE_VERSION = "INSERT INTO activity_versions (activity_id, version, status, document, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5, $6)";
    VERSIONS = "SELECT version, status, document, saved_at FROM activity_versions WHERE activity_id = $1 ORDER BY version DESC";
    /// (PostgreSQL sums BIGINT into NUMERIC; the casts keep both databases answering BIGINT.)
    TALLIES = "SELECT a.org_id, a.status, COUNT(*) AS activities, CAST(SUM(a.participants) AS BIGINT) AS participants,
            CAST(SUM(a.grassroots_unions) AS BIGINT) AS grassroots_unions, CAST(SUM(a.enterprises) AS BIGINT) AS enterprises,
            CAST(SUM(a.new_propagandists) AS BIGINT) AS new_propagandists, CAST(SUM(a.online_views) AS BIGINT) AS online_views,
            CAST(SUM(COALESCE(v.n, 0)) AS BIGINT) AS verified
         FROM activities a LEFT JOIN (SELECT activity_id, COUNT(*) AS n FROM checkins GROUP BY activity_id) v ON v.activity_id = a.id
         WHERE a.campaign_id = $1 AND substr(a.starts_at, 1, 10) BETWEEN $2 AND $3
         AND ($4 = 1 OR NOT EXISTS (SELECT 1 FROM lectures l WHERE l.activity_id = a.id))
         GROUP BY a.org_id, a.status";
}

/// Which activities a list shows; empty strings mean "any". Every figure on the dashboard
/// links to the list with the filter that produced it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// A status code, `reported` (submitted, approved or confirmed: what the dashboard counts as
    /// reported), or empty.
    pub status: String,
    /// The materialised path of a unit in scope: its subtree only.
    pub under: String,
    /// First and last day (`YYYY-MM-DD`), inclusive.
    pub from: String,
    pub to: String,
    pub format: String,
    pub category: String,
    /// Words found in the name or the place (as typed; matched literally).
    pub search: String,
}

/// Where a keyset page starts: after the row with this (starts_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub starts_at: String,
    pub id: ActivityId,
}

fn prefix_of(scope: &Scope, filter: &ListFilter) -> String {
    let prefix = if filter.under.starts_with(&scope.prefix) {
        filter.under.as_str()
    } else {
        scope.prefix.as_str()
    };
    format!("{prefix}%")
}

fn search_pattern(filter: &ListFilter) -> String {
    let needle = filter.search.trim();
    if needle.is_empty() {
        String::new()
    } else {
        format!("%{}%", super::orgs::escape_like(needle))
    }
}

/// One keyset page of the activities of units in scope, newest first, narrowed by `filter`:
/// at most `limit` rows after `after` (the previous page's last row). Every page costs the
/// same, however deep.
pub async fn list(
    db: &Db,
    scope: &Scope,
    campaign_id: i64,
    filter: &ListFilter,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<ActivityRow>, sqlx::Error> {
    let (first, starts_at, id) = match after {
        Some(a) => (1_i64, a.starts_at.as_str(), a.id.get()),
        None => (0, "", 0),
    };
    on_pool!(db, pool => query_as::<_, ActivityRow>(&LIST)
        .bind(prefix_of(scope, filter))
        .bind(campaign_id)
        .bind(&filter.status)
        .bind(&filter.from)
        .bind(&filter.to)
        .bind(&filter.format)
        .bind(&filter.category)
        .bind(search_pattern(filter))
        .bind(first)
        .bind(starts_at)
        .bind(id)
        .bind(limit.max(0))
        .fetch_all(pool)
        .await)
}

/// How many activities of units in scope `filter` matches.
pub async fn count(
    db: &Db,
    scope: &Scope,
    campaign_id: i64,
    filter: &ListFilter,
) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar::<_, i64>(&COUNT)
        .bind(prefix_of(scope, filter))
        .bind(campaign_id)
        .bind(&filter.status)
        .bind(&filter.from)
        .bind(&filter.to)
        .bind(&filter.format)
        .bind(&filter.category)
        .bind(search_pattern(filter))
        .fetch_one(pool)
        .await)
}

/// How many of unit `org_id`'s own activities (not those of the units below it) have `status`.
pub async fn count_of_org(
    db: &Db,
    campaign_id: i64,
    org_id: OrgId,
    status: &str,
) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar::<_, i64>(&COUNT_OF_ORG)
        .bind(campaign_id).bind(org_id).bind(status).fetch_one(pool).await)
}

/// Activities in scope per day (`YYYY-MM-DD`), per format and per content category: the
/// dashboard's charts.
pub async fn per_day(
    db: &Db,
    scope: &Scope,
    campaign_id: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, (String, i64)>(&PER_DAY)
        .bind(format!("{}%", scope.prefix)).bind(campaign_id).fetch_all(pool).await)
}

pub async fn per_format(
    db: &Db,
    scope: &Scope,
    campaign_id: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, (String, i64)>(&PER_FORMAT)
        .bind(format!("{}%", scope.prefix)).bind(campaign_id).fetch_all(pool).await)
}

pub async fn per_category(
    db: &Db,
    scope: &Scope,
    campaign_id: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, (String, i64)>(&PER_CATEGORY)
        .bind(format!("{}%", scope.prefix)).bind(campaign_id).fetch_all(pool).await)
}

/// One activity whose unit lies in scope.
pub async fn get(
    db: &Db,
    scope: &Scope,
    id: ActivityId,
) -> Result<Option<ActivityRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, ActivityRow>(&GET_IN_SCOPE)
        .bind(id)
        .bind(format!("{}%", scope.prefix))
        .fetch_optional(pool)
        .await)
}

pub async fn get_tx(tx: &mut Tx, id: ActivityId) -> Result<Option<ActivityRow>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, ActivityRow>(&GET).bind(id).fetch_optional(c).await)
}

/// The counted fields of a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    pub participants: i64,
    pub grassroots_unions: i64,
    pub enterprises: i64,
    pub new_propagandists: i64,
    pub online_views: i64,
}

pub struct NewActivity<'a> {
    pub campaign_id: i64,
    pub org_id: OrgId,
    pub document: &'a str,
    pub name: &'a str,
    pub starts_at: &'a str,
    pub counters: Counters,
    pub created_by: UserId,
}

pub async fn insert(tx: &mut Tx, new: NewActivity<'_>) -> Result<i64, sqlx::Error> {
    let c = new.counters;
    on_tx!(tx, conn => query_scalar(&INSERT)
        .bind(new.campaign_id)
        .bind(new.org_id)
        .bind(new.document)
        .bind(new.name)
        .bind(new.starts_at)
        .bind(c.participants)
        .bind(c.grassroots_unions)
        .bind(c.enterprises)
        .bind(c.new_propagandists)
        .bind(c.online_views)
        .bind(new.created_by)
        .bind(unix_now())
        .fetch_one(conn)
        .await)
}

/// Replaces the plan and report; bumps the version.
pub async fn update_document(
    tx: &mut Tx,
    id: ActivityId,
    document: &str,
    name: &str,
    starts_at: &str,
    c: Counters,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => query(&UPDATE_DOCUMENT)
        .bind(document)
        .bind(name)
        .bind(starts_at)
        .bind(c.participants)
        .bind(c.grassroots_unions)
        .bind(c.enterprises)
        .bind(c.new_propagandists)
        .bind(c.online_views)
        .bind(unix_now())
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves the report along the approval chain, only if it is still in `from` at `version` (so
/// two admins acting at once cannot both succeed, and what a reviewer saw is what is
/// approved). A submission makes a new version. Returns whether it moved.
pub async fn set_status(
    tx: &mut Tx,
    id: ActivityId,
    from: &str,
    version: i64,
    to: &str,
    return_reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, conn => query(&SET_STATUS)
        .bind(to)
        .bind(return_reason)
        .bind(unix_now())
        .bind(id)
        .bind(from)
        .bind(i64::from(to == "submitted"))
        .bind(version)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Keeps the version about to be replaced.
pub async fn save_version(
    tx: &mut Tx,
    row: &ActivityRow,
    saved_by: UserId,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => query(&SAVE_VERSION)
        .bind(row.id)
        .bind(row.version)
        .bind(row.status)
        .bind(&row.document)
        .bind(saved_by)
        .bind(unix_now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct VersionRow {
    pub version: i64,
    pub status: Status,
    pub document: String,
    pub saved_at: i64,
}

pub async fn versions(db: &Db, id: ActivityId) -> Result<Vec<VersionRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, VersionRow>(&VERSIONS)
        .bind(id)
        .fetch_all(pool)
        .await)
}

/// Per-org sums of one campaign's activities in one status group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgTally {
    pub org_id: OrgId,
    pub status: Status,
    pub activities: i64,
    pub participants: i64,
    pub grassroots_unions: i64,
    pub enterprises: i64,
    pub new_propagandists: i64,
    pub online_views: i64,
    pub verified: i64,
}

/// Per-org sums of the campaign's activities by status, counting only activities dated from
/// `first` to `last` (`YYYY-MM-DD`): a stray date outside the campaign counts nowhere.
/// Each org's activities by status. `with_lectures`: whether lectures' activities count (the
/// campaign's `lectures_count_toward_quota`).
pub async fn tallies(
    db: &Db,
    campaign_id: i64,
    first: &str,
    last: &str,
    with_lectures: bool,
) -> Result<Vec<OrgTally>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, OrgTally>(&TALLIES)
        .bind(campaign_id)
        .bind(first)
        .bind(last)
        .bind(i64::from(with_lectures))
        .fetch_all(pool)
        .await)
}
