//! Selection: reviewer pools and conflicts, review rounds, the works in them, assignments and
//! score sheets. A reviewer's statements select only what blind review may show (title,
//! description, the clean copy and its measurements), never authors, unit, phone or file name.

use serde::Serialize;

use super::sql::{
    Sql, Value, bulk_inserts, insert_rows, query, query_as, query_scalar, statements,
};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::ids::{OrgId, UserId, WorkId};

statements! {
    POOL_ADD = "INSERT INTO reviewer_pools (user_id, campaign_id, sub_project, added_by, added_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, campaign_id, sub_project) DO NOTHING";
    POOL_REMOVE = "DELETE FROM reviewer_pools WHERE user_id = $1 AND campaign_id = $2 AND sub_project = $3";
    POOL_OF_USER = "SELECT sub_project FROM reviewer_pools WHERE user_id = $1 AND campaign_id = $2 ORDER BY sub_project";
    /// Reviewers of a sub-project with the path of their own unit.
    POOL = "SELECT u.id, u.login, u.display_name, o.name AS org_name, o.path AS org_path
         FROM reviewer_pools p JOIN users u ON u.id = p.user_id JOIN orgs o ON o.id = u.org_id
         WHERE p.campaign_id = $1 AND p.sub_project = $2 AND NOT u.disabled ORDER BY u.id";
    REVIEWERS = "SELECT u.id, u.login, u.display_name, o.name AS org_name, o.path AS org_path
         FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.role = 'reviewer' ORDER BY u.id";
    CONFLICT_ADD = "INSERT INTO reviewer_conflicts (user_id, org_id, person_id, note, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)";
    CONFLICTS_OF = "SELECT c.id, c.user_id, c.org_id, o.name AS org_name, o.path AS org_path, c.person_id,
           p.login AS person_login, p.display_name AS person_name, c.note
         FROM reviewer_conflicts c LEFT JOIN orgs o ON o.id = c.org_id LEFT JOIN users p ON p.id = c.person_id
         WHERE ($1 = 0 OR c.user_id = $1) ORDER BY c.user_id, c.id";
    ROUND_INSERT = "INSERT INTO review_rounds (campaign_id, sub_project, round_code, seq, status, opened_by, opened_at)
         VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id";
    /// The counts are kept on the row (migration 0024), changed in the same transaction as
    /// each write below; `pool_rev` is the sub-project's pool revision (see `POOL_REV_BUMP`).
    ROUNDS = "SELECT id, campaign_id, sub_project, round_code, seq, status, closed_at,
           works_count AS works, assignments_count AS assignments, submitted_count AS submitted,
           COALESCE((SELECT p.rev FROM reviewer_pool_revisions p
                     WHERE p.campaign_id = r.campaign_id AND p.sub_project = r.sub_project), 0) AS pool_rev
         FROM review_rounds r WHERE campaign_id = $1 ORDER BY sub_project, seq";
    ROUND_BY_ID = "SELECT id, campaign_id, sub_project, round_code, seq, status, closed_at,
           works_count AS works, assignments_count AS assignments, submitted_count AS submitted,
           COALESCE((SELECT p.rev FROM reviewer_pool_revisions p
                     WHERE p.campaign_id = r.campaign_id AND p.sub_project = r.sub_project), 0) AS pool_rev
         FROM review_rounds r WHERE id = $1";
    /// The counts, recounted (the test that they match what the row keeps).
    ROUND_RECOUNT = "SELECT (SELECT COUNT(*) FROM round_works rw WHERE rw.round_id = r.id),
           (SELECT COUNT(*) FROM review_assignments a WHERE a.round_id = r.id),
           (SELECT COUNT(*) FROM review_assignments a WHERE a.round_id = r.id AND a.status = 'submitted')
         FROM review_rounds r WHERE r.id = $1";
    COUNT_WORKS = "UPDATE review_rounds SET works_count = works_count + $1 WHERE id = $2";
    COUNT_ASSIGNMENTS = "UPDATE review_rounds SET assignments_count = assignments_count + $1 WHERE id = $2";
    /// One more submitted sheet, only while the round is open: on PostgreSQL this waits for a
    /// close in progress and then finds the round closed, so a score submitted as the round
    /// closes is either in the frozen ranking or refused, never lost in between.
    COUNT_SUBMITTED = "UPDATE review_rounds SET submitted_count = submitted_count + 1
         WHERE id = (SELECT round_id FROM review_assignments WHERE id = $1) AND status = 'open'";
    /// A sub-project's pool changed.
    POOL_REV_BUMP = "INSERT INTO reviewer_pool_revisions (campaign_id, sub_project, rev) VALUES ($1, $2, 1)
         ON CONFLICT (campaign_id, sub_project) DO UPDATE SET rev = reviewer_pool_revisions.rev + 1";
    /// Compare-and-set: of two admins closing at once, one changes the row.
    ROUND_CLOSE = "UPDATE review_rounds SET status = 'closed', closed_by = $1, closed_at = $2 WHERE id = $3 AND status = 'open'";
    ACCEPTED_INTO_ROUND = "INSERT INTO round_works (round_id, work_id, advanced)
         SELECT $1, id, 0 FROM works WHERE campaign_id = $2 AND sub_project = $3 AND status = 'accepted'";
    /// The works a closed round `$2` advanced, into the next round `$1`.
    ADVANCE_INTO = "INSERT INTO round_works (round_id, work_id, advanced)
         SELECT $1, work_id, 0 FROM round_works WHERE round_id = $2 AND advanced = 1";
    /// Every work's frozen result in one statement: on SQLite from a JSON array of
    /// `[work, rank, score_centi, normalised_milli, advanced]` (materialised first, so each row
    /// finds its work by the primary key rather than scanning the array per work), on
    /// PostgreSQL from five arrays.
    ROUND_RESULTS_SET = "WITH v AS MATERIALIZED (
             SELECT json_extract(value, '$[0]') AS work_id, json_extract(value, '$[1]') AS rank,
                    json_extract(value, '$[2]') AS score_centi, json_extract(value, '$[3]') AS normalised_milli,
                    json_extract(value, '$[4]') AS advanced
             FROM json_each($2))
         UPDATE round_works SET rank = v.rank, score_centi = v.score_centi,
             normalised_milli = v.normalised_milli, advanced = v.advanced
         FROM v WHERE round_works.round_id = $1 AND round_works.work_id = v.work_id",
        "UPDATE round_works SET rank = v.rank, score_centi = v.score_centi,
             normalised_milli = v.normalised_milli, advanced = v.advanced
         FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[], $6::BIGINT[])
             AS v(work_id, rank, score_centi, normalised_milli, advanced)
         WHERE round_works.round_id = $1 AND round_works.work_id = v.work_id";
    /// The works of a round as the assignment sees them.
    ROUND_WORKS = "SELECT rw.work_id, o.path AS org_path, w.owner_id FROM round_works rw
         JOIN works w ON w.id = rw.work_id JOIN orgs o ON o.id = w.org_id WHERE rw.round_id = $1 ORDER BY rw.work_id";
    ASSIGNMENT_IDS = "SELECT id, reviewer_id FROM review_assignments WHERE round_id = $1 ORDER BY id";
    PAIRS = "SELECT work_id, reviewer_id FROM review_assignments WHERE round_id = $1 ORDER BY work_id, reviewer_id";
    /// A reviewer's unscored assignments in an open round (they dropped out).
    DROP_UNSCORED = "DELETE FROM review_assignments WHERE reviewer_id = $1 AND round_id = $2 AND status <> 'submitted'";
    OPEN_ROUND_IDS = "SELECT id FROM review_rounds WHERE campaign_id = $1 AND sub_project = $2 AND status = 'open' ORDER BY id";
    /// Moves an assignment nobody has started scoring.
    MOVE = "UPDATE review_assignments SET reviewer_id = $1, assigned_by = $2, assigned_at = $3, updated_at = $3
         WHERE id = $4 AND status = 'pending'
         AND NOT EXISTS (SELECT 1 FROM review_assignments x WHERE x.round_id = review_assignments.round_id
                         AND x.work_id = review_assignments.work_id AND x.reviewer_id = $1)";
    ASSIGNMENT = "SELECT a.id, a.round_id, a.work_id, a.reviewer_id, a.status, r.status AS round_status
         FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id WHERE a.id = $1";
    /// Admin view of a round's assignments.
    ROUND_ASSIGNMENTS = "SELECT a.id, a.work_id, w.title, a.reviewer_id, u.display_name AS reviewer_name, a.status,
           a.score_centi, a.assigned_by
         FROM review_assignments a JOIN works w ON w.id = a.work_id JOIN users u ON u.id = a.reviewer_id
         WHERE a.round_id = $1 ORDER BY a.work_id, a.reviewer_id";
    /// One page of a round's assignments: `$3` rows from the work after `$2` on. `CROSS JOIN`
    /// keeps the assignments as SQLite's outer loop: once ANALYZE has run, SQLite 3.46 (STAT4)
    /// otherwise walked `works` from `id > $2` and sorted the round's 150,000 sheets per
    /// request (69 ms against 0.2 ms). PostgreSQL plans it as the inner join it is.
    ROUND_ASSIGNMENTS_PAGE = "SELECT a.id, a.work_id, w.title, a.reviewer_id, u.display_name AS reviewer_name, a.status,
           a.score_centi, a.assigned_by
         FROM review_assignments a CROSS JOIN works w CROSS JOIN users u
         WHERE w.id = a.work_id AND u.id = a.reviewer_id AND a.round_id = $1 AND a.work_id > $2
         ORDER BY a.work_id, a.reviewer_id LIMIT $3";
    /// The first `$2` of a closed round's frozen ranking. On SQLite by the rank index: the
    /// statistics may date from before the close, when every rank was NULL, and then SQLite
    /// sorted all 50,000 works per request (22 ms against 0.2 ms).
    ROUND_RESULTS_TOP = "SELECT rw.work_id, w.title, o.name AS org_name, rw.rank, rw.score_centi, rw.normalised_milli, rw.advanced
         FROM round_works rw INDEXED BY round_works_rank CROSS JOIN works w CROSS JOIN orgs o
         WHERE w.id = rw.work_id AND o.id = w.org_id AND rw.round_id = $1 ORDER BY rw.rank, rw.work_id LIMIT $2",
        "SELECT rw.work_id, w.title, o.name AS org_name, rw.rank, rw.score_centi, rw.normalised_milli, rw.advanced
         FROM round_works rw JOIN works w ON w.id = rw.work_id JOIN orgs o ON o.id = w.org_id
         WHERE rw.round_id = $1 ORDER BY rw.rank, rw.work_id LIMIT $2";
    ROUND_TITLES = "SELECT rw.work_id, w.title FROM round_works rw JOIN works w ON w.id = rw.work_id WHERE rw.round_id = $1";
    ROUND_SCORES = "SELECT work_id, reviewer_id, score_centi FROM review_assignments
         WHERE round_id = $1 AND status = 'submitted' AND score_centi IS NOT NULL";
    ROUND_RESULTS = "SELECT rw.work_id, w.title, o.name AS org_name, rw.rank, rw.score_centi, rw.normalised_milli, rw.advanced
         FROM round_works rw JOIN works w ON w.id = rw.work_id JOIN orgs o ON o.id = w.org_id
         WHERE rw.round_id = $1 ORDER BY rw.rank, rw.work_id";
    /// A reviewer's own assignments: blind fields only.
    MINE = "SELECT a.id, a.status, r.sub_project, r.round_code, r.status AS round_status, w.title, a.score_centi
         FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id JOIN works w ON w.id = a.work_id
         WHERE a.reviewer_id = $1 ORDER BY r.id DESC, a.id";
    /// One assignment for its reviewer: blind fields only.
    SHEET = "SELECT a.id, a.round_id, a.reviewer_id, a.status, a.scores, a.comment, r.campaign_id, r.sub_project,
           r.round_code, r.status AS round_status, w.title, w.description, up.media_type, up.report, up.clean_key
         FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id JOIN works w ON w.id = a.work_id
         JOIN uploads up ON up.id = w.upload_id WHERE a.id = $1";
    /// Saves a sheet while it is not submitted and the round is open (compare-and-set).
    SAVE_SHEET = "UPDATE review_assignments SET status = $1, scores = $2, comment = $3, score_centi = $4,
           updated_at = $5, submitted_at = $6
         WHERE id = $7 AND reviewer_id = $8 AND status <> 'submitted'
         AND EXISTS (SELECT 1 FROM review_rounds r WHERE r.id = review_assignments.round_id AND r.status = 'open')";
    /// Demo seeding: a demo upload's file (original and clean copy) is `$1`.
    DEMO_SET_FILE = "UPDATE uploads SET stored_key = $1, clean_key = $1 WHERE id = $2";
    /// The demo files the database names (keys under `$1`).
    DEMO_FILE_KEYS = "SELECT clean_key FROM uploads WHERE clean_key LIKE $1 || '%' ORDER BY clean_key";
    DEMO_SET_POSTERS = "UPDATE uploads SET poster_key = clean_key || '.poster.jpg'
         WHERE clean_key LIKE $1 || '%' AND poster_key IS NULL";
}

bulk_inserts! {
    /// New assignments, many a statement (opening a round of 50,000 works makes 150,000).
    ASSIGNMENTS = "review_assignments" ("round_id", "work_id", "reviewer_id", "assigned_by",
        "assigned_at", "status", "comment", "updated_at");
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ReviewerRow {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
    pub org_name: String,
    pub org_path: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ConflictRow {
    pub id: i64,
    pub user_id: UserId,
    pub org_id: Option<OrgId>,
    pub org_name: Option<String>,
    pub org_path: Option<String>,
    pub person_id: Option<UserId>,
    pub person_login: Option<String>,
    pub person_name: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct RoundRow {
    pub id: i64,
    pub campaign_id: i64,
    pub sub_project: String,
    pub round_code: String,
    pub seq: i64,
    /// `open` or `closed`.
    pub status: String,
    pub closed_at: Option<i64>,
    pub works: i64,
    pub assignments: i64,
    pub submitted: i64,
    /// The revision of the sub-project's reviewer pool.
    pub pool_rev: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoundWork {
    pub work_id: WorkId,
    pub org_path: String,
    pub owner_id: UserId,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignmentRow {
    pub id: i64,
    pub round_id: i64,
    pub work_id: WorkId,
    pub reviewer_id: UserId,
    pub status: String,
    pub round_status: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct RoundAssignment {
    pub id: i64,
    pub work_id: WorkId,
    pub title: String,
    pub reviewer_id: UserId,
    pub reviewer_name: String,
    pub status: String,
    pub score_centi: Option<i64>,
    pub assigned_by: Option<UserId>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ResultRow {
    pub work_id: WorkId,
    pub title: String,
    pub org_name: String,
    pub rank: Option<i64>,
    pub score_centi: Option<i64>,
    pub normalised_milli: Option<i64>,
    pub advanced: i64,
}

/// A reviewer's assignment in their list: nothing about the author.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct MineRow {
    pub id: i64,
    pub status: String,
    pub sub_project: String,
    pub round_code: String,
    pub round_status: String,
    pub title: String,
    #[serde(skip)]
    pub score_centi: Option<i64>,
}

/// One assignment as its reviewer sees it: nothing about the author.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SheetRow {
    pub id: i64,
    pub round_id: i64,
    pub reviewer_id: UserId,
    pub status: String,
    pub scores: Option<String>,
    pub comment: String,
    pub campaign_id: i64,
    pub sub_project: String,
    pub round_code: String,
    pub round_status: String,
    pub title: String,
    pub description: String,
    pub media_type: Option<String>,
    pub report: Option<String>,
    pub clean_key: Option<String>,
}

pub async fn pool_add(
    tx: &mut Tx,
    user: UserId,
    campaign_id: i64,
    sub_project: &str,
    by: Option<UserId>,
) -> Result<(), sqlx::Error> {
    let n = on_tx!(tx, c => query(&POOL_ADD)
        .bind(user).bind(campaign_id).bind(sub_project).bind(by).bind(unix_now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n > 0 {
        pool_changed(tx, campaign_id, sub_project).await?;
    }
    Ok(())
}

/// Removes a reviewer from a sub-project's pool; false when they were not in it.
pub async fn pool_remove(
    tx: &mut Tx,
    user: UserId,
    campaign_id: i64,
    sub_project: &str,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&POOL_REMOVE)
        .bind(user).bind(campaign_id).bind(sub_project)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n > 0 {
        pool_changed(tx, campaign_id, sub_project).await?;
    }
    Ok(n > 0)
}

pub async fn pool_of_user(
    db: &Db,
    user: UserId,
    campaign_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, p => query_scalar(&POOL_OF_USER).bind(user).bind(campaign_id).fetch_all(p).await)
}

pub async fn pool(
    db: &Db,
    campaign_id: i64,
    sub_project: &str,
) -> Result<Vec<ReviewerRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, ReviewerRow>(&POOL).bind(campaign_id).bind(sub_project).fetch_all(p).await)
}

pub async fn reviewers(db: &Db) -> Result<Vec<ReviewerRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, ReviewerRow>(&REVIEWERS).fetch_all(p).await)
}

pub async fn conflict_add(
    tx: &mut Tx,
    user: UserId,
    org: Option<OrgId>,
    person: Option<UserId>,
    note: &str,
    by: Option<UserId>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&CONFLICT_ADD)
        .bind(user).bind(org).bind(person).bind(note).bind(by).bind(unix_now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Declared conflicts of one reviewer, or of all (`None`).
pub async fn conflicts(db: &Db, user: Option<UserId>) -> Result<Vec<ConflictRow>, sqlx::Error> {
    let id = user.map_or(0, UserId::get);
    on_pool!(db, p => query_as::<_, ConflictRow>(&CONFLICTS_OF).bind(id).fetch_all(p).await)
}

pub async fn insert_round(
    tx: &mut Tx,
    campaign_id: i64,
    sub_project: &str,
    round_code: &str,
    seq: i64,
    by: Option<UserId>,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&ROUND_INSERT)
        .bind(campaign_id).bind(sub_project).bind(round_code).bind(seq).bind(by).bind(unix_now())
        .fetch_one(c).await)
}

pub async fn rounds(db: &Db, campaign_id: i64) -> Result<Vec<RoundRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, RoundRow>(&ROUNDS).bind(campaign_id).fetch_all(p).await)
}

pub async fn round(db: &Db, id: i64) -> Result<Option<RoundRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, RoundRow>(&ROUND_BY_ID).bind(id).fetch_optional(p).await)
}

/// Closes an open round; false when it was closed already (by someone else).
pub async fn close_round(tx: &mut Tx, id: i64, by: Option<UserId>) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&ROUND_CLOSE)
        .bind(by).bind(unix_now()).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Puts every accepted work of the sub-project into the (first) round; how many.
pub async fn add_accepted(
    tx: &mut Tx,
    round_id: i64,
    campaign_id: i64,
    sub_project: &str,
) -> Result<u64, sqlx::Error> {
    let n = on_tx!(tx, c => query(&ACCEPTED_INTO_ROUND)
        .bind(round_id).bind(campaign_id).bind(sub_project)
        .execute(c).await.map(|r| r.rows_affected()))?;
    count(tx, &COUNT_WORKS, round_id, n as i64).await?;
    Ok(n)
}

/// Puts the works closed round `from` advanced into round `into`; how many.
pub async fn advance_into(tx: &mut Tx, into: i64, from: i64) -> Result<u64, sqlx::Error> {
    let n = on_tx!(tx, c => query(&ADVANCE_INTO)
        .bind(into).bind(from).execute(c).await.map(|r| r.rows_affected()))?;
    count(tx, &COUNT_WORKS, into, n as i64).await?;
    Ok(n)
}

/// Adds `by` to one of a round's counts, inside the writing transaction (`n = n + k` is
/// atomic on both databases: the row is locked until the transaction ends).
async fn count(
    tx: &mut Tx,
    which: &'static Sql,
    round_id: i64,
    by: i64,
) -> Result<(), sqlx::Error> {
    if by != 0 {
        on_tx!(tx, c => query(which).bind(by).bind(round_id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// (works, assignments, submitted) of a round, counted from the rows themselves.
pub async fn recount(db: &Db, round_id: i64) -> Result<(i64, i64, i64), sqlx::Error> {
    on_pool!(db, p => query_as::<_, (i64, i64, i64)>(&ROUND_RECOUNT).bind(round_id).fetch_one(p).await)
}

/// A sub-project's reviewer pool changed (in the writing transaction).
pub async fn pool_changed(
    tx: &mut Tx,
    campaign_id: i64,
    sub_project: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&POOL_REV_BUMP).bind(campaign_id).bind(sub_project)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A work's frozen result in a closed round.
pub struct Frozen {
    pub work: WorkId,
    pub rank: i64,
    pub score_centi: i64,
    pub normalised_milli: i64,
    pub advanced: bool,
}

/// Writes every work's frozen result in one statement; how many rows it changed.
pub async fn set_results(
    tx: &mut Tx,
    round_id: i64,
    results: &[Frozen],
) -> Result<u64, sqlx::Error> {
    match tx {
        Tx::Sqlite(c) => {
            let rows: Vec<[i64; 5]> = results
                .iter()
                .map(|r| {
                    [
                        r.work.get(),
                        r.rank,
                        r.score_centi,
                        r.normalised_milli,
                        i64::from(r.advanced),
                    ]
                })
                .collect();
            let json = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(e.into()))?;
            query::<sqlx::Sqlite>(&ROUND_RESULTS_SET)
                .bind(round_id)
                .bind(json)
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected())
        }
        Tx::Postgres(c) => {
            let column = |f: fn(&Frozen) -> i64| results.iter().map(f).collect::<Vec<i64>>();
            query::<sqlx::Postgres>(&ROUND_RESULTS_SET)
                .bind(round_id)
                .bind(column(|r| r.work.get()))
                .bind(column(|r| r.rank))
                .bind(column(|r| r.score_centi))
                .bind(column(|r| r.normalised_milli))
                .bind(column(|r| i64::from(r.advanced)))
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected())
        }
    }
}

pub async fn round_works(tx: &mut Tx, round_id: i64) -> Result<Vec<RoundWork>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, RoundWork>(&ROUND_WORKS).bind(round_id).fetch_all(c).await)
}

pub async fn pairs(tx: &mut Tx, round_id: i64) -> Result<Vec<(WorkId, UserId)>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, (WorkId, UserId)>(&PAIRS).bind(round_id).fetch_all(c).await)
}

/// Makes the (work, reviewer) assignments of a round, many rows a statement.
pub async fn assign_all(
    tx: &mut Tx,
    round_id: i64,
    pairs: &[(WorkId, UserId)],
    by: Option<UserId>,
) -> Result<(), sqlx::Error> {
    let now = unix_now();
    let mut rows = Vec::with_capacity(pairs.len() * ASSIGNMENTS.columns.len());
    for (work, reviewer) in pairs {
        rows.extend([
            Value::I(round_id),
            Value::I(work.get()),
            Value::I(reviewer.get()),
            Value::NI(by.map(UserId::get)),
            Value::I(now),
            Value::T("pending".into()),
            Value::T(String::new()),
            Value::I(now),
        ]);
    }
    insert_rows(tx, &ASSIGNMENTS, &rows).await?;
    count(tx, &COUNT_ASSIGNMENTS, round_id, pairs.len() as i64).await
}

/// Deletes a reviewer's unscored assignments in a sub-project's open rounds; how many.
pub async fn drop_unscored(
    tx: &mut Tx,
    reviewer: UserId,
    campaign_id: i64,
    sub_project: &str,
) -> Result<u64, sqlx::Error> {
    let mut dropped = 0;
    for round_id in open_round_ids(tx, campaign_id, sub_project).await? {
        let n = on_tx!(tx, c => query(&DROP_UNSCORED)
            .bind(reviewer).bind(round_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        count(tx, &COUNT_ASSIGNMENTS, round_id, -(n as i64)).await?;
        dropped += n;
    }
    Ok(dropped)
}

pub async fn open_round_ids(
    tx: &mut Tx,
    campaign_id: i64,
    sub_project: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&OPEN_ROUND_IDS).bind(campaign_id).bind(sub_project).fetch_all(c).await)
}

/// Moves a pending assignment to `to`; false when it was started meanwhile or `to` already
/// judges the work.
pub async fn move_assignment(
    tx: &mut Tx,
    id: i64,
    to: UserId,
    by: Option<UserId>,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&MOVE)
        .bind(to).bind(by).bind(unix_now()).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn assignment(db: &Db, id: i64) -> Result<Option<AssignmentRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, AssignmentRow>(&ASSIGNMENT).bind(id).fetch_optional(p).await)
}

pub async fn round_assignments(
    db: &Db,
    round_id: i64,
) -> Result<Vec<RoundAssignment>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, RoundAssignment>(&ROUND_ASSIGNMENTS).bind(round_id).fetch_all(p).await)
}

pub async fn round_scores(
    tx: &mut Tx,
    round_id: i64,
) -> Result<Vec<(WorkId, UserId, i64)>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, (WorkId, UserId, i64)>(&ROUND_SCORES).bind(round_id).fetch_all(c).await)
}

pub async fn round_scores_now(
    db: &Db,
    round_id: i64,
) -> Result<Vec<(WorkId, UserId, i64)>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, (WorkId, UserId, i64)>(&ROUND_SCORES).bind(round_id).fetch_all(p).await)
}

pub async fn round_results(db: &Db, round_id: i64) -> Result<Vec<ResultRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, ResultRow>(&ROUND_RESULTS).bind(round_id).fetch_all(p).await)
}

pub async fn mine(db: &Db, reviewer: UserId) -> Result<Vec<MineRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, MineRow>(&MINE).bind(reviewer).fetch_all(p).await)
}

pub async fn sheet(db: &Db, id: i64) -> Result<Option<SheetRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, SheetRow>(&SHEET).bind(id).fetch_optional(p).await)
}

/// What a save writes.
pub struct Save<'a> {
    pub id: i64,
    pub reviewer: UserId,
    pub submit: bool,
    pub scores: &'a str,
    pub comment: &'a str,
    pub score_centi: Option<i64>,
}

/// Saves a draft or submits; false when the sheet was submitted or the round closed meanwhile.
pub async fn save_sheet(tx: &mut Tx, s: Save<'_>) -> Result<bool, sqlx::Error> {
    let now = unix_now();
    let status = if s.submit { "submitted" } else { "draft" };
    let n = on_tx!(tx, c => query(&SAVE_SHEET)
        .bind(status).bind(s.scores).bind(s.comment).bind(s.score_centi).bind(now)
        .bind(s.submit.then_some(now)).bind(s.id).bind(s.reviewer)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 && s.submit {
        let counted = on_tx!(tx, c => query(&COUNT_SUBMITTED).bind(s.id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        // The round closed meanwhile: the caller rolls the sheet back.
        return Ok(counted == 1);
    }
    Ok(n == 1)
}

pub async fn round_assignment_ids(
    tx: &mut Tx,
    round_id: i64,
) -> Result<Vec<(i64, UserId)>, sqlx::Error> {
    on_tx!(tx, c => query_as::<_, (i64, UserId)>(&ASSIGNMENT_IDS).bind(round_id).fetch_all(c).await)
}

pub async fn round_assignments_page(
    db: &Db,
    round_id: i64,
    after_work: i64,
    limit: i64,
) -> Result<Vec<RoundAssignment>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, RoundAssignment>(&ROUND_ASSIGNMENTS_PAGE)
        .bind(round_id).bind(after_work).bind(limit).fetch_all(p).await)
}

pub async fn round_results_top(
    db: &Db,
    round_id: i64,
    limit: i64,
) -> Result<Vec<ResultRow>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, ResultRow>(&ROUND_RESULTS_TOP).bind(round_id).bind(limit).fetch_all(p).await)
}

pub async fn round_titles(db: &Db, round_id: i64) -> Result<Vec<(WorkId, String)>, sqlx::Error> {
    on_pool!(db, p => query_as::<_, (WorkId, String)>(&ROUND_TITLES).bind(round_id).fetch_all(p).await)
}

/// Demo seeding: points a demo upload at its stored file.
pub async fn set_demo_file(tx: &mut Tx, upload_id: &str, key: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&DEMO_SET_FILE).bind(key).bind(upload_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The demo files' keys (under `prefix`).
pub async fn demo_file_keys(db: &Db, prefix: &str) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, p => query_scalar(&DEMO_FILE_KEYS).bind(prefix).fetch_all(p).await)
}

/// Names `{clean key}.poster.jpg` as the poster of every demo upload.
pub async fn demo_set_posters(db: &Db, prefix: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&DEMO_SET_POSTERS).bind(prefix)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.commit().await
}
