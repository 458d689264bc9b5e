//! The showcase's choices (`showcase_items`), the accounts' root share links (`share_links`),
//! counted visits (`reach_visits`, each also the child link its visitor shares onward) and the
//! day's hashing key (`reach_keys`). Visits are written in batches by the reach writer
//! (`group_commit`), as multi-row inserts.

use super::group_commit;
use super::orgs::Scope;
use super::sql::{Value, bulk_inserts, insert_rows, query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::{OrgId, UserId};

statements! {
    /// A choice to show an item; a second choice changes nothing.
    SHOW = "INSERT INTO showcase_items (kind, item_id, campaign_id, shown_by, shown_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, item_id) DO NOTHING";
    HIDE = "DELETE FROM showcase_items WHERE kind = $1 AND item_id = $2";
    IS_SHOWN = "SELECT COUNT(*) FROM showcase_items WHERE kind = $1 AND item_id = $2";
    /// Shown and accepted works under `$2` (a path pattern), of sub-project `$3` ('' any).
    PUBLIC_WORKS = concatcp!(WORK_SELECT, " WHERE s.kind = 'work' AND w.campaign_id = $1 AND w.status = 'accepted'
           AND o.path LIKE $2 AND (CAST($3 AS TEXT) = '' OR w.sub_project = $3)
         ORDER BY w.decided_at DESC, w.id DESC LIMIT $4");
    PUBLIC_WORK = concatcp!(WORK_SELECT, " WHERE s.kind = 'work' AND w.id = $1 AND w.status = 'accepted'");
    /// Shown and confirmed activities under `$2`.
    PUBLIC_ACTIVITIES = concatcp!(ACTIVITY_SELECT, " WHERE s.kind = 'activity' AND a.campaign_id = $1
           AND a.status = 'confirmed' AND o.path LIKE $2
         ORDER BY a.starts_at DESC, a.id DESC LIMIT $3");
    PUBLIC_ACTIVITY = concatcp!(ACTIVITY_SELECT, " WHERE s.kind = 'activity' AND a.id = $1 AND a.status = 'confirmed'");

    /// A root link (an account's own) by its code.
    ROOT_BY_CODE = concatcp!(ROOT_SELECT, " WHERE code = $1");
    /// A child link by its code: the visit it was made for, one level deeper (none past `$2`).
    CHILD_BY_CODE = "SELECT code, campaign_id, account_id, org_id, target, link_code AS parent_code,
            depth + 1 AS depth, visitor
         FROM reach_visits WHERE code = $1 AND depth < $2";
    ROOT_LINK = concatcp!(ROOT_SELECT, " WHERE account_id = $1 AND target = $2");
    /// An account's root link to a target; a racing second one changes nothing.
    INSERT_ROOT = "INSERT INTO share_links (code, campaign_id, account_id, org_id, target, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
    /// The account's root links with the visits through each itself (its depth-1 visits).
    MY_LINKS = "SELECT l.code, l.target, l.created_at,
            (SELECT COUNT(*) FROM reach_visits v WHERE v.account_id = l.account_id AND v.depth = 1
               AND v.link_code = l.code) AS direct
         FROM share_links l WHERE l.account_id = $1 ORDER BY l.created_at DESC LIMIT 100";
    /// Visits counted through the account's links, by depth (its whole tree).
    ACCOUNT_DEPTHS = "SELECT depth, COUNT(*) AS visits FROM reach_visits WHERE account_id = $1 GROUP BY depth ORDER BY depth";

    KEY = "SELECT secret FROM reach_keys WHERE day = $1";
    INSERT_KEY = "INSERT INTO reach_keys (day, secret) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING";
    /// Keys of days before `$1`: gone, so no stored hash can be tied to an address again.
    DROP_OLD_KEYS = "DELETE FROM reach_keys WHERE day < $1";

    TOTALS = concatcp!("SELECT COUNT(*) AS visits, COUNT(DISTINCT v.day || v.visitor) AS visitor_days,
            CAST(COALESCE(SUM(CASE WHEN v.depth >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS secondary,
            COUNT(DISTINCT v.account_id) AS propagators", SCOPED);
    BY_DAY = concatcp!("SELECT v.day AS key, COUNT(DISTINCT v.visitor) AS visitors, COUNT(*) AS visits", SCOPED,
        " GROUP BY v.day ORDER BY v.day");
    BY_DEPTH = concatcp!("SELECT v.depth, COUNT(*) AS visits", SCOPED, " GROUP BY v.depth ORDER BY v.depth");
    TOP_ACCOUNTS = concatcp!("SELECT v.account_id, u.display_name, o.name AS org_name, COUNT(*) AS visits,
            CAST(COALESCE(SUM(CASE WHEN v.depth >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS secondary
         FROM reach_visits v JOIN orgs o ON o.id = v.org_id JOIN users u ON u.id = v.account_id
         WHERE v.campaign_id = $1 AND o.path LIKE $2
         GROUP BY v.account_id, u.display_name, o.name ORDER BY visits DESC, v.account_id LIMIT $3");
    BY_ORG = concatcp!("SELECT v.org_id, COUNT(*) AS visits,
            CAST(COALESCE(SUM(CASE WHEN v.depth >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS secondary", SCOPED,
        " GROUP BY v.org_id");
}

bulk_inserts! {
    /// A batch of visits, each keyed by its visitor's child code; a visitor counted through the
    /// same link today already (the same code) changes nothing.
    VISITS = "reach_visits" ("code", "link_code", "day", "visitor", "campaign_id", "depth",
        "account_id", "org_id", "target", "at") "ON CONFLICT DO NOTHING";
}

use const_format::concatcp;

const WORK_SELECT: &str = "SELECT w.id, w.sub_project, w.title, w.authors, w.description, w.org_id,
        o.name AS org_name, o.path AS org_path, u.media_type, u.clean_key, u.poster_key, w.decided_at
     FROM showcase_items s JOIN works w ON w.id = s.item_id JOIN orgs o ON o.id = w.org_id
     JOIN uploads u ON u.id = w.upload_id";
const ACTIVITY_SELECT: &str = "SELECT a.id, a.name, a.starts_at, a.document, a.org_id,
        o.name AS org_name, o.path AS org_path
     FROM showcase_items s JOIN activities a ON a.id = s.item_id JOIN orgs o ON o.id = a.org_id";
/// A root link as a [`Link`]: no parent, depth 1, made for no visitor.
const ROOT_SELECT: &str = "SELECT code, campaign_id, account_id, org_id, target,
        CAST(NULL AS TEXT) AS parent_code, CAST(1 AS BIGINT) AS depth, CAST(NULL AS TEXT) AS visitor
     FROM share_links";
const SCOPED: &str = " FROM reach_visits v JOIN orgs o ON o.id = v.org_id
     WHERE v.campaign_id = $1 AND o.path LIKE $2";

/// What kind of item a showcase choice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Work,
    Activity,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Work => "work",
            Kind::Activity => "activity",
        }
    }
}

pub async fn show(
    tx: &mut Tx,
    kind: Kind,
    item_id: i64,
    campaign_id: i64,
    by: UserId,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&SHOW).bind(kind.code()).bind(item_id).bind(campaign_id)
        .bind(by).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn hide(tx: &mut Tx, kind: Kind, item_id: i64) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&HIDE).bind(kind.code()).bind(item_id).execute(c).await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn is_shown(db: &Db, kind: Kind, item_id: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = on_pool!(db, pool => query_scalar(&IS_SHOWN).bind(kind.code()).bind(item_id)
        .fetch_one(pool).await)?;
    Ok(n > 0)
}

/// A work as the showcase shows it (no phone, no login, no owner).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicWork {
    pub id: i64,
    pub sub_project: String,
    pub title: String,
    /// JSON list of the authors' names.
    pub authors: String,
    pub description: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub org_path: String,
    pub media_type: Option<String>,
    pub clean_key: Option<String>,
    pub poster_key: Option<String>,
    pub decided_at: Option<i64>,
}

pub async fn public_works(
    db: &Db,
    campaign_id: i64,
    under: &str,
    sub_project: &str,
    limit: i64,
) -> Result<Vec<PublicWork>, sqlx::Error> {
    on_pool!(db, pool => query_as(&PUBLIC_WORKS).bind(campaign_id).bind(format!("{under}%"))
        .bind(sub_project).bind(limit).fetch_all(pool).await)
}

pub async fn public_work(db: &Db, id: i64) -> Result<Option<PublicWork>, sqlx::Error> {
    on_pool!(db, pool => query_as(&PUBLIC_WORK).bind(id).fetch_optional(pool).await)
}

/// A confirmed activity as the showcase shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicActivity {
    pub id: i64,
    pub name: String,
    pub starts_at: String,
    /// The report (`ActivityInput`) as JSON.
    pub document: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub org_path: String,
}

pub async fn public_activities(
    db: &Db,
    campaign_id: i64,
    under: &str,
    limit: i64,
) -> Result<Vec<PublicActivity>, sqlx::Error> {
    on_pool!(db, pool => query_as(&PUBLIC_ACTIVITIES).bind(campaign_id).bind(format!("{under}%"))
        .bind(limit).fetch_all(pool).await)
}

pub async fn public_activity(db: &Db, id: i64) -> Result<Option<PublicActivity>, sqlx::Error> {
    on_pool!(db, pool => query_as(&PUBLIC_ACTIVITY).bind(id).fetch_optional(pool).await)
}

/// A share link as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    pub code: String,
    pub campaign_id: i64,
    pub account_id: UserId,
    pub org_id: OrgId,
    pub target: String,
    pub parent_code: Option<String>,
    pub depth: i64,
    /// For a child link, the day's hash of the visitor it was made for.
    pub visitor: Option<String>,
}

/// The link with `code`: a root link, or a child link (a visit) less deep than `max_depth`.
pub async fn link(db: &Db, code: &str, max_depth: i64) -> Result<Option<Link>, sqlx::Error> {
    if code.len() == crate::domain::reach::ROOT_CODE_LEN {
        on_pool!(db, pool => query_as(&ROOT_BY_CODE).bind(code).fetch_optional(pool).await)
    } else {
        on_pool!(db, pool => query_as(&CHILD_BY_CODE).bind(code).bind(max_depth)
            .fetch_optional(pool).await)
    }
}

pub async fn root_link(
    db: &Db,
    account: UserId,
    target: &str,
) -> Result<Option<Link>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ROOT_LINK).bind(account).bind(target).fetch_optional(pool).await)
}

/// Inserts a root link; false when the account already had one for the target (or, very
/// rarely, the code was taken).
pub async fn insert_root(db: &Db, link: &Link, at: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => query(&INSERT_ROOT).bind(&link.code).bind(link.campaign_id)
        .bind(link.account_id).bind(link.org_id).bind(&link.target).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n > 0)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MyLink {
    pub code: String,
    pub target: String,
    pub created_at: i64,
    /// Visits counted through this link itself (depth 1).
    pub direct: i64,
}

pub async fn my_links(db: &Db, account: UserId) -> Result<Vec<MyLink>, sqlx::Error> {
    on_pool!(db, pool => query_as(&MY_LINKS).bind(account).fetch_all(pool).await)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DepthCount {
    pub depth: i64,
    pub visits: i64,
}

pub async fn account_depths(db: &Db, account: UserId) -> Result<Vec<DepthCount>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ACCOUNT_DEPTHS).bind(account).fetch_all(pool).await)
}

/// The day's key, made by the first node to ask (random, hex), and the old ones dropped.
pub async fn day_key(db: &Db, day: &str, fresh: &str) -> Result<String, sqlx::Error> {
    if let Some(k) =
        on_pool!(db, pool => query_scalar::<_, String>(&KEY).bind(day).fetch_optional(pool).await)?
    {
        return Ok(k);
    }
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&INSERT_KEY).bind(day).bind(fresh).execute(c).await.map(|_| ()))?;
    on_tx!(&mut tx, c => query(&DROP_OLD_KEYS).bind(day).execute(c).await.map(|_| ()))?;
    let key: String = on_tx!(&mut tx, c => query_scalar(&KEY).bind(day).fetch_one(c).await)?;
    tx.commit().await?;
    Ok(key)
}

/// One counted visit. Its key is the child code its visitor gets (the visit is that child link
/// once written); a visit through a link at the deepest level keeps the code only as its key.
#[derive(Debug, Clone)]
pub struct Visit {
    pub code: String,
    pub link_code: String,
    pub day: String,
    pub visitor: String,
    pub campaign_id: i64,
    /// The visited link's depth.
    pub depth: i64,
    pub account_id: UserId,
    pub org_id: OrgId,
    pub target: String,
    pub at: i64,
}

impl group_commit::Write for Visit {
    type Output = ();

    async fn apply(&self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        write_visits(tx, &[self]).await
    }

    async fn apply_all(batch: &[&Visit], tx: &mut Tx) -> Result<Vec<()>, sqlx::Error> {
        write_visits(tx, batch).await?;
        Ok(vec![(); batch.len()])
    }
}

async fn write_visits(tx: &mut Tx, batch: &[&Visit]) -> Result<(), sqlx::Error> {
    let mut rows = Vec::with_capacity(batch.len() * VISITS.columns.len());
    for v in batch {
        rows.extend([
            Value::T(v.code.clone()),
            Value::T(v.link_code.clone()),
            Value::T(v.day.clone()),
            Value::T(v.visitor.clone()),
            Value::I(v.campaign_id),
            Value::I(v.depth),
            Value::I(v.account_id.get()),
            Value::I(v.org_id.get()),
            Value::T(v.target.clone()),
            Value::I(v.at),
        ]);
    }
    insert_rows(tx, &VISITS, &rows).await
}

#[derive(Debug, Clone, Default, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Counted visits (one per visitor, link and day).
    pub visits: i64,
    /// Distinct visitors summed over days.
    pub visitor_days: i64,
    /// Visits at depth 2 or more (secondary spread).
    pub secondary: i64,
    /// Accounts with at least one counted visit.
    pub propagators: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DayCount {
    #[sqlx(rename = "key")]
    pub day: String,
    pub visitors: i64,
    pub visits: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AccountCount {
    pub account_id: UserId,
    pub display_name: String,
    pub org_name: String,
    pub visits: i64,
    pub secondary: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgCount {
    pub org_id: OrgId,
    pub visits: i64,
    pub secondary: i64,
}

fn like(scope: &Scope) -> String {
    format!("{}%", scope.prefix)
}

// The dashboard's reads take one snapshot (`Db::snapshot`), so its figures agree.

pub async fn totals(tx: &mut Tx, campaign_id: i64, scope: &Scope) -> Result<Totals, sqlx::Error> {
    on_tx!(tx, c => query_as(&TOTALS).bind(campaign_id).bind(like(scope)).fetch_one(c).await)
}

pub async fn by_day(
    tx: &mut Tx,
    campaign_id: i64,
    scope: &Scope,
) -> Result<Vec<DayCount>, sqlx::Error> {
    on_tx!(tx, c => query_as(&BY_DAY).bind(campaign_id).bind(like(scope)).fetch_all(c).await)
}

pub async fn by_depth(
    tx: &mut Tx,
    campaign_id: i64,
    scope: &Scope,
) -> Result<Vec<DepthCount>, sqlx::Error> {
    on_tx!(tx, c => query_as(&BY_DEPTH).bind(campaign_id).bind(like(scope)).fetch_all(c).await)
}

pub async fn top_accounts(
    tx: &mut Tx,
    campaign_id: i64,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<AccountCount>, sqlx::Error> {
    on_tx!(tx, c => query_as(&TOP_ACCOUNTS).bind(campaign_id).bind(like(scope)).bind(limit)
        .fetch_all(c).await)
}

pub async fn by_org(
    tx: &mut Tx,
    campaign_id: i64,
    scope: &Scope,
) -> Result<Vec<OrgCount>, sqlx::Error> {
    on_tx!(tx, c => query_as(&BY_ORG).bind(campaign_id).bind(like(scope)).fetch_all(c).await)
}
