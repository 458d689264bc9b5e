//! Reminders (催报): one row per reminder to one unit, holding both the in-app notice and the
//! e-mail job. Created once per dedup key (`INSERT … ON CONFLICT DO NOTHING`); the e-mail is
//! claimed by compare-and-set with a lease, so one node sends it.

use crate::domain::ids::{OrgId, UserId};
use serde::Serialize;

use const_format::concatcp;

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};

statements! {
    DUE_MAIL = concatcp!("SELECT id FROM reminders WHERE ", CLAIMABLE, " ORDER BY id LIMIT $3");
    /// Compare-and-set claim of one e-mail job, with a lease.
    CLAIM = concatcp!("UPDATE reminders SET mail_status = 'sending', mail_attempts = mail_attempts + 1, mail_lease_until = $4
         WHERE id = $3 AND ", CLAIMABLE, "
         RETURNING id, org_id, kind, deadline, message, note, sender_label, mail_attempts, created_at");
    FOR_ORG = concatcp!(SELECT, " WHERE r.org_id = $2 ORDER BY r.id DESC LIMIT $3");
    UNREAD_FOR_ORG = concatcp!(SELECT, " WHERE r.org_id = $2
         AND NOT EXISTS (SELECT 1 FROM reminder_reads x WHERE x.reminder_id = r.id AND x.user_id = $1)
         ORDER BY r.id DESC LIMIT $3");
    SENT_IN_SCOPE = concatcp!(SELECT, " WHERE o.path LIKE $2 AND r.org_id <> $3 ORDER BY r.id DESC LIMIT $4");
    INSERT = "INSERT INTO reminders (campaign_id, org_id, kind, dedup_key, deadline, days_before, message, note,
             sender_id, sender_label, created_at, mail_status, mail_next_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $11)
         ON CONFLICT (dedup_key) DO NOTHING RETURNING id";
    KEYS_WITH_PREFIX = "SELECT dedup_key FROM reminders WHERE dedup_key LIKE $1";
    FINISH_MAIL = "UPDATE reminders SET mail_status = $1, mail_error = $2, mail_recipients = $3,
             mail_sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE mail_sent_at END,
             mail_next_at = $5, mail_lease_until = NULL
         WHERE id = $6 AND mail_status = 'sending'";
    SKIP_ALL_PENDING = "UPDATE reminders SET mail_status = 'skipped', mail_error = $1 WHERE mail_status = 'pending'";
    CONFIRMED_IN_SUBTREE = "SELECT COUNT(*) FROM activities a JOIN orgs o ON o.id = a.org_id
         WHERE a.campaign_id = $1 AND a.status = 'confirmed' AND o.path LIKE $2";
    RECIPIENTS = "SELECT display_name, email FROM users
         WHERE org_id = $1 AND role IN ('unit_admin', 'grassroots_admin') AND NOT disabled
           AND email IS NOT NULL AND email <> '' ORDER BY id";
    /// E-mails still to go out (pending or failed and to be retried), for `/metrics`.
    MAIL_WAITING = "SELECT COUNT(*) FROM reminders WHERE mail_status IN ('pending', 'failed')";
    UNREAD_COUNT = "SELECT COUNT(*) FROM reminders r WHERE r.org_id = $1
           AND NOT EXISTS (SELECT 1 FROM reminder_reads x WHERE x.reminder_id = r.id AND x.user_id = $2)";
    INSERT_READ = "INSERT INTO reminder_reads (reminder_id, user_id, read_at)
         SELECT id, $3, $4 FROM reminders WHERE id = $1 AND org_id = $2
         ON CONFLICT (reminder_id, user_id) DO NOTHING";
    FOR_UNIT = "SELECT id FROM reminders WHERE id = $1 AND org_id = $2";
}

/// Mail states.
pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const SKIPPED: &str = "skipped";

/// Attempts before a failed e-mail is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// How long a node may hold a claimed e-mail before another may take it over.
pub const LEASE_SECONDS: i64 = 300;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Reminder {
    pub id: i64,
    pub org_id: OrgId,
    pub org_name: String,
    /// `auto` (7, 3 or 1 days before a deadline) or `manual` (sent by an admin).
    pub kind: String,
    /// The phase deadline it is about (YYYY-MM-DD), if any.
    pub deadline: Option<String>,
    pub days_before: Option<i64>,
    pub message: String,
    /// The sending admin's note (manual reminders).
    pub note: Option<String>,
    /// Who sent it, as shown: 网聚自动提醒, or the admin's unit and name.
    pub sender_label: String,
    pub created_at: i64,
    /// pending, sending, sent, failed or skipped.
    pub mail_status: String,
    pub mail_attempts: i64,
    pub mail_error: Option<String>,
    pub mail_recipients: i64,
    /// Whether the viewing account has marked it read (false in lists not made for a reader).
    pub read: bool,
}

pub struct NewReminder<'a> {
    pub campaign_id: i64,
    pub org_id: OrgId,
    pub kind: &'a str,
    pub dedup_key: Option<&'a str>,
    pub deadline: Option<String>,
    pub days_before: Option<i64>,
    pub message: &'a str,
    pub note: Option<&'a str>,
    pub sender_id: Option<UserId>,
    pub sender_label: &'a str,
    pub now: i64,
}

/// Inserts a reminder unless one with the same dedup key exists. Returns its id when this
/// call created it.
pub async fn insert(tx: &mut Tx, new: &NewReminder<'_>) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, c => query_scalar(&INSERT)
        .bind(new.campaign_id)
        .bind(new.org_id)
        .bind(new.kind)
        .bind(new.dedup_key)
        .bind(&new.deadline)
        .bind(new.days_before)
        .bind(new.message)
        .bind(new.note)
        .bind(new.sender_id)
        .bind(new.sender_label)
        .bind(new.now)
        .fetch_optional(c)
        .await)
}

/// The dedup keys already taken that start with `prefix` (one read instead of a write per unit
/// on every tick).
pub async fn keys_with_prefix(db: &Db, prefix: &str) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&KEYS_WITH_PREFIX)
        .bind(format!("{prefix}%"))
        .fetch_all(pool)
        .await)
}

/// Condition for an e-mail that may be claimed at `$1` (now).
const CLAIMABLE: &str =
    "((mail_status IN ('pending', 'failed') AND mail_next_at <= $1 AND mail_attempts < $2)
     OR (mail_status = 'sending' AND mail_lease_until < $1))";

/// Ids of e-mails due now, oldest first.
pub async fn due_mail(db: &Db, now: i64, limit: i64) -> Result<Vec<i64>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&DUE_MAIL)
        .bind(now)
        .bind(MAX_ATTEMPTS)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// A claimed e-mail job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub org_id: OrgId,
    pub kind: String,
    pub deadline: Option<String>,
    pub message: String,
    pub note: Option<String>,
    pub sender_label: String,
    pub mail_attempts: i64,
    pub created_at: i64,
}

impl Claimed {
    /// The left part of the e-mail's Message-ID: the same on every attempt, so a resend after a
    /// node died between the SMTP server's acceptance and marking the row sent carries the
    /// first attempt's Message-ID (mail systems that deduplicate show it once).
    pub fn message_key(&self) -> String {
        format!("wangju-reminder-{}-{}", self.id, self.created_at)
    }
}

/// Claims the e-mail of reminder `id` for this node (compare-and-set): `None` when another
/// node has it or it is no longer due.
pub async fn claim(db: &Db, id: i64, now: i64) -> Result<Option<Claimed>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let claimed = on_tx!(&mut tx, c => query_as::<_, Claimed>(&CLAIM)
        .bind(now)
        .bind(MAX_ATTEMPTS)
        .bind(id)
        .bind(now + LEASE_SECONDS)
        .fetch_optional(c)
        .await)?;
    tx.commit().await?;
    Ok(claimed)
}

/// Records how the e-mail went. `next_at` is when a failure may be retried.
pub async fn finish_mail(
    db: &Db,
    id: i64,
    status: &str,
    error: Option<&str>,
    recipients: i64,
    now: i64,
    next_at: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&FINISH_MAIL)
        .bind(status)
        .bind(error)
        .bind(recipients)
        .bind(now)
        .bind(next_at)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await
}

/// Marks every e-mail still waiting as skipped (no mail server configured).
pub async fn skip_all_pending(db: &Db, reason: &str) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, c => query(&SKIP_ALL_PENDING)
        .bind(reason)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

/// Confirmed activities of the campaign anywhere in the subtree at `path`.
pub async fn confirmed_in_subtree(
    db: &Db,
    campaign_id: i64,
    path: &str,
) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&CONFIRMED_IN_SUBTREE)
        .bind(campaign_id)
        .bind(format!("{path}%"))
        .fetch_one(pool)
        .await)
}

/// Admins of a unit who have an e-mail address: (name, address).
pub async fn recipients(db: &Db, org_id: OrgId) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&RECIPIENTS)
        .bind(org_id)
        .fetch_all(pool)
        .await)
}

const SELECT: &str = "SELECT r.id, r.org_id, o.name AS org_name, r.kind, r.deadline, r.days_before, r.message, r.note,
        r.sender_label, r.created_at, r.mail_status, r.mail_attempts, r.mail_error, r.mail_recipients,
        EXISTS (SELECT 1 FROM reminder_reads x WHERE x.reminder_id = r.id AND x.user_id = $1) AS read
     FROM reminders r JOIN orgs o ON o.id = r.org_id";

/// Reminders addressed to `org_id`, newest first, with `user_id`'s read marks.
pub async fn for_org(
    db: &Db,
    org_id: OrgId,
    user_id: UserId,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<Reminder>, sqlx::Error> {
    let sql = if unread_only {
        &UNREAD_FOR_ORG
    } else {
        &FOR_ORG
    };
    on_pool!(db, pool => query_as::<_, Reminder>(sql)
        .bind(user_id)
        .bind(org_id)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// How many reminders to `org_id` that `user_id` has not read.
/// E-mails still to go out, whole database (the reminder queue's length).
pub async fn mail_waiting(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&MAIL_WAITING).fetch_one(pool).await)
}

pub async fn unread_count(db: &Db, org_id: OrgId, user_id: UserId) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&UNREAD_COUNT)
        .bind(org_id)
        .bind(user_id)
        .fetch_one(pool)
        .await)
}

/// Reminders sent to units below `org_id` within the scope prefix, newest first (what an admin
/// has sent or the job has sent to its units).
pub async fn sent_in_scope(
    db: &Db,
    prefix: &str,
    own_org: OrgId,
    limit: i64,
) -> Result<Vec<Reminder>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Reminder>(&SENT_IN_SCOPE)
        .bind(-1_i64)
        .bind(format!("{prefix}%"))
        .bind(own_org)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Marks reminder `id` (addressed to `org_id`) read by `user_id`. Returns false when there is
/// no such reminder for that unit.
pub async fn mark_read(
    tx: &mut Tx,
    id: i64,
    org_id: OrgId,
    user_id: UserId,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, c => query(&INSERT_READ)
        .bind(id)
        .bind(org_id)
        .bind(user_id)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n > 0 {
        return Ok(true);
    }
    let exists: Option<i64> = on_tx!(tx, c => query_scalar(&FOR_UNIT)
        .bind(id)
        .bind(org_id)
        .fetch_optional(c)
        .await)?;
    Ok(exists.is_some())
}
