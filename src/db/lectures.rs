//! The lecture team's 五进 lectures: requests, assignments, confirmations, and the team's record.

use super::orgs::Scope;
use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::domain::ids::{CampaignId, OrgId, UserId};

statements! {
    REQUESTED_BY = "SELECT requested_by FROM lectures WHERE id = $1";
    INSERT = "INSERT INTO lectures (campaign_id, org_id, topic, form, venue_type, place, starts_at, ends_at, requested_by, created_at, online_platform, online_link)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
    LOCK_CAMPAIGN = "UPDATE campaigns SET updated_at = updated_at WHERE id = $1";
    COUNT = "SELECT COUNT(*) FROM lectures WHERE campaign_id = $1";
    LIST = "SELECT l.id, l.org_id, o.name AS org_name, l.topic, l.form, l.venue_type, l.place, l.starts_at, l.ends_at, l.status,
            l.activity_id, l.online_platform, l.online_link, l.views_claimed, l.views_screenshot
     FROM lectures l JOIN orgs o ON o.id = l.org_id
     WHERE l.campaign_id = $1 AND o.path LIKE $2 ORDER BY l.starts_at, l.id LIMIT $3";
    ONE = "SELECT l.id, l.org_id, o.name AS org_name, l.topic, l.form, l.venue_type, l.place, l.starts_at, l.ends_at, l.status,
            l.activity_id, l.online_platform, l.online_link, l.views_claimed, l.views_screenshot
     FROM lectures l JOIN orgs o ON o.id = l.org_id
     WHERE l.campaign_id = $1 AND l.id = $2";
    IN_SCOPE = "SELECT COUNT(*) FROM lectures l JOIN orgs o ON o.id = l.org_id WHERE l.campaign_id = $1 AND l.id = $2 AND o.path LIKE $3";
    /// The assignments of the lectures in a scope (declined ones too: the unit and the city see
    /// who declined and why).
    ASSIGNMENTS = "SELECT la.id, la.lecture_id, la.member_id, m.name AS member_name, la.status, la.token, la.decline_reason
     FROM lecture_assignments la JOIN lectures l ON l.id = la.lecture_id JOIN orgs o ON o.id = l.org_id
     JOIN lecture_members m ON m.id = la.member_id
     WHERE l.campaign_id = $1 AND o.path LIKE $2 ORDER BY la.lecture_id, la.id";
    ASSIGNMENTS_OF = "SELECT la.id, la.lecture_id, la.member_id, m.name AS member_name, la.status, la.token, la.decline_reason
     FROM lecture_assignments la JOIN lecture_members m ON m.id = la.member_id
     WHERE la.lecture_id = $1 ORDER BY la.id";
    BY_TOKEN = "SELECT la.id, la.lecture_id, la.member_id, m.name AS member_name, la.status, la.token, la.decline_reason
     FROM lecture_assignments la JOIN lecture_members m ON m.id = la.member_id
     WHERE la.token = $1";
    /// A member's live assignments (assigned or confirmed) overlapping a time, on other lectures.
    OVERLAPPING = "SELECT COUNT(*) FROM lecture_assignments la JOIN lectures l ON l.id = la.lecture_id
     WHERE la.member_id = $1 AND la.status IN ('assigned', 'confirmed')
     AND l.starts_at < $2 AND l.ends_at > $3 AND l.id <> $4";
    /// Whether a member is already on a lecture (not declined).
    ON_LECTURE = "SELECT COUNT(*) FROM lecture_assignments WHERE lecture_id = $1 AND member_id = $2 AND status <> 'declined'";
    /// Whether a member may take lectures: on the roster of the campaign, not retired.
    MEMBER_ACTIVE = "SELECT COUNT(*) FROM lecture_members WHERE id = $1 AND campaign_id = $2 AND retired_at IS NULL";
    INSERT_ASSIGNMENT = "INSERT INTO lecture_assignments (lecture_id, member_id, status, token, assigned_by, assigned_at)
     VALUES ($1, $2, 'assigned', $3, $4, $5) RETURNING id";
    /// The lecture's status from its assignments: requested with none live, assigned with some.
    SET_STATUS = "UPDATE lectures SET status = $1 WHERE id = $2 AND status <> 'confirmed'";
    RESPOND = "UPDATE lecture_assignments SET status = $1, decline_reason = $2, responded_at = $3
     WHERE id = $4 AND status = 'assigned'";
    CONFIRM = "UPDATE lectures SET status = 'confirmed', activity_id = $1, confirmed_at = $2
     WHERE id = $3 AND status = 'assigned'";
    SET_VIEWS = "UPDATE lectures SET views_claimed = $1, views_screenshot = $2, online_link = $3 WHERE id = $4 AND campaign_id = $5";
    /// Members × venue types over lectures whose activity the city confirmed and the member
    /// confirmed: how many, the audience the reports claim and the attendees who checked in.
    RECORD = "SELECT la.member_id, l.venue_type, COUNT(*) AS lectures, CAST(SUM(a.participants) AS BIGINT) AS claimed,
            CAST(SUM((SELECT COUNT(*) FROM checkins c WHERE c.activity_id = a.id)) AS BIGINT) AS checked_in
     FROM lecture_assignments la JOIN lectures l ON l.id = la.lecture_id JOIN activities a ON a.id = l.activity_id
     WHERE l.campaign_id = $1 AND la.status = 'confirmed' AND a.status = 'confirmed' GROUP BY la.member_id, l.venue_type";
    /// The same per venue type over lectures (a lecture given by two members counts once).
    RECORD_TOTALS = "SELECT l.venue_type, COUNT(*) AS lectures, CAST(SUM(a.participants) AS BIGINT) AS claimed,
            CAST(SUM((SELECT COUNT(*) FROM checkins c WHERE c.activity_id = a.id)) AS BIGINT) AS checked_in
     FROM lectures l JOIN activities a ON a.id = l.activity_id
     WHERE l.campaign_id = $1 AND a.status = 'confirmed' GROUP BY l.venue_type";
    /// Confirmed lectures from a time on, for the public calendar.
    UPCOMING = "SELECT l.id, l.starts_at, l.ends_at, l.topic, l.form, l.venue_type, o.name AS org_name
     FROM lectures l JOIN orgs o ON o.id = l.org_id
     WHERE l.campaign_id = $1 AND l.status = 'confirmed' AND l.starts_at >= $2 ORDER BY l.starts_at LIMIT $3";
    /// The confirmed lecturers of confirmed lectures from a time on (public names only).
    UPCOMING_LECTURERS = "SELECT la.lecture_id, m.name FROM lecture_assignments la
     JOIN lectures l ON l.id = la.lecture_id JOIN lecture_members m ON m.id = la.member_id
     WHERE l.campaign_id = $1 AND l.status = 'confirmed' AND l.starts_at >= $2 AND la.status = 'confirmed' ORDER BY la.id";
    /// Lectures (assigned or confirmed) per venue type between two times, for the gaps.
    PER_VENUE_BETWEEN = "SELECT venue_type, COUNT(*) FROM lectures
     WHERE campaign_id = $1 AND status IN ('assigned', 'confirmed') AND starts_at >= $2 AND starts_at < $3 GROUP BY venue_type";
    /// Visits counted through share links to a lecture's activity page on the showcase (what
    /// Wangju measures of an open class it hosts).
    MEASURED_VIEWS = "SELECT COUNT(*) FROM reach_visits WHERE campaign_id = $1 AND target = $2";
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Lecture {
    pub id: i64,
    pub org_id: OrgId,
    pub org_name: String,
    pub topic: String,
    pub form: String,
    pub venue_type: String,
    pub place: String,
    pub starts_at: String,
    pub ends_at: String,
    pub status: String,
    pub activity_id: Option<i64>,
    pub online_platform: String,
    pub online_link: String,
    pub views_claimed: Option<i64>,
    pub views_screenshot: Option<String>,
}

/// One lecturer on one lecture.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Assignment {
    pub id: i64,
    pub lecture_id: i64,
    pub member_id: i64,
    pub member_name: String,
    /// assigned, confirmed, declined
    pub status: String,
    pub token: String,
    pub decline_reason: Option<String>,
}

pub struct NewLecture<'a> {
    pub campaign_id: CampaignId,
    pub org_id: OrgId,
    pub topic: &'a str,
    pub form: &'a str,
    pub venue_type: &'a str,
    pub place: &'a str,
    pub starts_at: &'a str,
    pub ends_at: &'a str,
    pub requested_by: Option<UserId>,
    pub created_at: i64,
    pub online_platform: &'a str,
    pub online_link: &'a str,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordCell {
    pub member_id: i64,
    pub venue_type: String,
    pub lectures: i64,
    pub claimed: Option<i64>,
    pub checked_in: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VenueTotal {
    pub venue_type: String,
    pub lectures: i64,
    pub claimed: Option<i64>,
    pub checked_in: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upcoming {
    pub id: i64,
    pub starts_at: String,
    pub ends_at: String,
    pub topic: String,
    pub form: String,
    pub venue_type: String,
    pub org_name: String,
}

pub async fn lock_and_count(tx: &mut Tx, campaign_id: CampaignId) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query(&LOCK_CAMPAIGN).bind(campaign_id).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => query_scalar(&COUNT).bind(campaign_id).fetch_one(c).await)
}

pub async fn insert(tx: &mut Tx, l: &NewLecture<'_>) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT)
        .bind(l.campaign_id)
        .bind(l.org_id)
        .bind(l.topic)
        .bind(l.form)
        .bind(l.venue_type)
        .bind(l.place)
        .bind(l.starts_at)
        .bind(l.ends_at)
        .bind(l.requested_by)
        .bind(l.created_at)
        .bind(l.online_platform)
        .bind(l.online_link)
        .fetch_one(c)
        .await)
}

pub async fn list(
    db: &Db,
    campaign_id: CampaignId,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<Lecture>, sqlx::Error> {
    let like = format!("{}%", scope.prefix);
    on_pool!(db, pool => query_as(&LIST).bind(campaign_id).bind(like).bind(limit).fetch_all(pool).await)
}

pub async fn one_tx(
    tx: &mut Tx,
    campaign_id: CampaignId,
    id: i64,
) -> Result<Option<Lecture>, sqlx::Error> {
    on_tx!(tx, c => query_as(&ONE).bind(campaign_id).bind(id).fetch_optional(c).await)
}

pub async fn overlapping(
    tx: &mut Tx,
    member_id: i64,
    starts_at: &str,
    ends_at: &str,
    except: i64,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&OVERLAPPING)
        .bind(member_id)
        .bind(ends_at)
        .bind(starts_at)
        .bind(except)
        .fetch_one(c)
        .await)
}

pub async fn member_active(
    tx: &mut Tx,
    campaign_id: CampaignId,
    member_id: i64,
) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => query_scalar(&MEMBER_ACTIVE).bind(member_id).bind(campaign_id).fetch_one(c).await)?;
    Ok(n == 1)
}

pub async fn record(db: &Db, campaign_id: CampaignId) -> Result<Vec<RecordCell>, sqlx::Error> {
    on_pool!(db, pool => query_as(&RECORD).bind(campaign_id).fetch_all(pool).await)
}

pub async fn per_venue_between(
    db: &Db,
    campaign_id: CampaignId,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&PER_VENUE_BETWEEN).bind(campaign_id).bind(from).bind(to).fetch_all(pool).await)
}

/// Who requested a lecture (the activity it becomes is theirs).
pub async fn requested_by(tx: &mut Tx, id: i64) -> Result<Option<UserId>, sqlx::Error> {
    let by: Option<Option<UserId>> =
        on_tx!(tx, c => query_scalar(&REQUESTED_BY).bind(id).fetch_optional(c).await)?;
    Ok(by.flatten())
}

/// Whether a lecture's unit is within a scope.
pub async fn in_scope(
    db: &Db,
    campaign_id: CampaignId,
    scope: &Scope,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let like = format!("{}%", scope.prefix);
    let n: i64 = on_pool!(db, pool => query_scalar(&IN_SCOPE).bind(campaign_id).bind(id).bind(like).fetch_one(pool).await)?;
    Ok(n == 1)
}

pub async fn assignments(
    db: &Db,
    campaign_id: CampaignId,
    scope: &Scope,
) -> Result<Vec<Assignment>, sqlx::Error> {
    let like = format!("{}%", scope.prefix);
    on_pool!(db, pool => query_as(&ASSIGNMENTS).bind(campaign_id).bind(like).fetch_all(pool).await)
}

pub async fn assignments_of(tx: &mut Tx, lecture_id: i64) -> Result<Vec<Assignment>, sqlx::Error> {
    on_tx!(tx, c => query_as(&ASSIGNMENTS_OF).bind(lecture_id).fetch_all(c).await)
}

pub async fn by_token(db: &Db, token: &str) -> Result<Option<Assignment>, sqlx::Error> {
    on_pool!(db, pool => query_as(&BY_TOKEN).bind(token).fetch_optional(pool).await)
}

pub async fn by_token_tx(tx: &mut Tx, token: &str) -> Result<Option<Assignment>, sqlx::Error> {
    on_tx!(tx, c => query_as(&BY_TOKEN).bind(token).fetch_optional(c).await)
}

pub async fn one(
    db: &Db,
    campaign_id: CampaignId,
    id: i64,
) -> Result<Option<Lecture>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ONE).bind(campaign_id).bind(id).fetch_optional(pool).await)
}

/// Whether a member is on a lecture already (assigned or confirmed).
pub async fn on_lecture(tx: &mut Tx, lecture_id: i64, member_id: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = on_tx!(tx, c => query_scalar(&ON_LECTURE).bind(lecture_id).bind(member_id).fetch_one(c).await)?;
    Ok(n > 0)
}

pub async fn insert_assignment(
    tx: &mut Tx,
    lecture_id: i64,
    member_id: i64,
    token: &str,
    by: Option<UserId>,
    at: i64,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT_ASSIGNMENT)
        .bind(lecture_id)
        .bind(member_id)
        .bind(token)
        .bind(by)
        .bind(at)
        .fetch_one(c)
        .await)
}

/// Sets a lecture that is not yet confirmed to `requested` or `assigned`.
pub async fn set_status(tx: &mut Tx, id: i64, status: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&SET_STATUS).bind(status).bind(id).execute(c).await.map(|_| ()))
}

/// An assignment still open is confirmed or declined (with the reason); false if it was not open.
pub async fn respond(
    tx: &mut Tx,
    assignment_id: i64,
    status: &str,
    reason: Option<&str>,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&RESPOND)
        .bind(status)
        .bind(reason)
        .bind(at)
        .bind(assignment_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn confirm(tx: &mut Tx, id: i64, activity_id: i64, at: i64) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&CONFIRM)
        .bind(activity_id)
        .bind(at)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn set_views(
    tx: &mut Tx,
    campaign_id: CampaignId,
    id: i64,
    views: i64,
    screenshot: &str,
    link: &str,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, c => query(&SET_VIEWS)
        .bind(views)
        .bind(screenshot)
        .bind(link)
        .bind(id)
        .bind(campaign_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn record_totals(
    db: &Db,
    campaign_id: CampaignId,
) -> Result<Vec<VenueTotal>, sqlx::Error> {
    on_pool!(db, pool => query_as(&RECORD_TOTALS).bind(campaign_id).fetch_all(pool).await)
}

pub async fn upcoming(
    db: &Db,
    campaign_id: CampaignId,
    from: &str,
    limit: i64,
) -> Result<(Vec<Upcoming>, Vec<(i64, String)>), sqlx::Error> {
    let lectures = on_pool!(db, pool => query_as(&UPCOMING).bind(campaign_id).bind(from).bind(limit).fetch_all(pool).await)?;
    let names = on_pool!(db, pool => query_as(&UPCOMING_LECTURERS).bind(campaign_id).bind(from).fetch_all(pool).await)?;
    Ok((lectures, names))
}

/// Visits counted through share links to a showcase page (`target`, e.g. `/showcase/activities/7`).
pub async fn measured_views(
    db: &Db,
    campaign_id: CampaignId,
    target: &str,
) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&MEASURED_VIEWS).bind(campaign_id).bind(target).fetch_one(pool).await)
}

/// A lecture's assignments, in the order they were made.
pub async fn lecturers(db: &Db, lecture_id: i64) -> Result<Vec<Assignment>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ASSIGNMENTS_OF).bind(lecture_id).fetch_all(pool).await)
}
