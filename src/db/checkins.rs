//! QR check-in codes and the check-ins made with them.

use super::group_commit;
use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::ids::{ActivityId, OrgId};

statements! {
    /// The activity a check-in code belongs to.
    TARGET = "SELECT a.id AS activity_id, a.name, o.id AS org_id, o.name AS org_name, a.starts_at, a.status
         FROM checkin_codes c JOIN activities a ON a.id = c.activity_id JOIN orgs o ON o.id = a.org_id
         WHERE c.token = $1";
    /// The same person (`person_key`) counts once per activity, and one phone signs in at most
    /// `$9` names (`$8` its device hash; a check-in without one is not capped here).
    INSERT = "INSERT INTO checkins (activity_id, name, unit, phone, person_key, consent_version, created_at, device)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8
         WHERE CAST($8 AS TEXT) IS NULL
            OR (SELECT COUNT(*) FROM checkins WHERE activity_id = $1 AND device = CAST($8 AS TEXT)) < $9
         ON CONFLICT (activity_id, person_key) DO NOTHING";
    /// Whether the person is already checked in (to tell a repeat from a full phone).
    HAS_PERSON = "SELECT COUNT(*) FROM checkins WHERE activity_id = $1 AND person_key = $2";
    /// The attendees, first come first.
    ATTENDEES = "SELECT c.name, c.unit, c.phone, c.created_at, c.device,
            (SELECT COUNT(*) FROM checkins d WHERE d.activity_id = c.activity_id AND d.device = c.device) AS device_names
         FROM checkins c WHERE c.activity_id = $1 ORDER BY c.created_at, c.id";
    CODE = "SELECT token FROM checkin_codes WHERE activity_id = $1";
    /// The first code made wins; a racing second insert changes nothing.
    INSERT_CODE = "INSERT INTO checkin_codes (activity_id, token, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (activity_id) DO NOTHING";
    COUNT = "SELECT COUNT(*) FROM checkins WHERE activity_id = $1";
}

/// The activity behind a code, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TargetRow {
    pub activity_id: ActivityId,
    pub name: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub starts_at: String,
    pub status: String,
}

pub async fn target(db: &Db, token: &str) -> Result<Option<TargetRow>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, TargetRow>(&TARGET)
        .bind(token)
        .fetch_optional(pool)
        .await)
}

/// One check-in to store.
#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub activity_id: ActivityId,
    pub name: String,
    pub unit: String,
    pub phone: Option<String>,
    pub person_key: String,
    pub consent_version: &'static str,
    /// Hash of the phone's device cookie.
    pub device: Option<String>,
    /// Most names one device may sign in for this activity.
    pub names_per_device: i64,
    /// The attendee asked to join the propagandist register of the activity's unit.
    pub join_register: Option<JoinRegister>,
}

/// Where a check-in attendee joins the propagandist register.
#[derive(Debug, Clone)]
pub struct JoinRegister {
    pub campaign_id: i64,
    pub org_id: OrgId,
    pub consent_version: &'static str,
}

/// What storing a check-in came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// The same person had checked in already.
    Repeat,
    /// The phone has signed in as many names as it may.
    DeviceFull,
}

/// Stores a check-in inside a (possibly shared) transaction.
impl group_commit::Write for NewCheckin {
    type Output = Stored;

    async fn apply(&self, tx: &mut Tx) -> Result<Stored, sqlx::Error> {
        let stored = self.store(tx).await?;
        // Joining the register goes with the check-in (a repeat check-in may still ask).
        if stored != Stored::DeviceFull
            && let Some(join) = &self.join_register
        {
            super::propagandists::join_from_checkin(
                tx,
                join.campaign_id,
                join.org_id,
                &self.name,
                self.phone.as_deref(),
                &super::propagandists::register_key(
                    &self.person_key,
                    self.phone.as_deref(),
                    join.org_id,
                ),
                join.consent_version,
            )
            .await?;
        }
        Ok(stored)
    }
}

impl NewCheckin {
    async fn store(&self, tx: &mut Tx) -> Result<Stored, sqlx::Error> {
        let n = on_tx!(tx, c => query(&INSERT)
            .bind(self.activity_id)
            .bind(&self.name)
            .bind(&self.unit)
            .bind(&self.phone)
            .bind(&self.person_key)
            .bind(self.consent_version)
            .bind(unix_now())
            .bind(&self.device)
            .bind(self.names_per_device)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 1 {
            return Ok(Stored::New);
        }
        let known: i64 = on_tx!(tx, c => query_scalar(&HAS_PERSON)
            .bind(self.activity_id)
            .bind(&self.person_key)
            .fetch_one(c)
            .await)?;
        Ok(if known > 0 {
            Stored::Repeat
        } else {
            Stored::DeviceFull
        })
    }
}

/// One attendee as the reporter and the reviewers see them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attendee {
    pub name: String,
    pub unit: String,
    pub phone: Option<String>,
    pub created_at: i64,
    pub device: Option<String>,
    /// How many names the same phone signed in (1 for a phone used once).
    pub device_names: i64,
}

pub async fn attendees(db: &Db, activity_id: ActivityId) -> Result<Vec<Attendee>, sqlx::Error> {
    on_pool!(db, pool => query_as::<_, Attendee>(&ATTENDEES)
        .bind(activity_id)
        .fetch_all(pool)
        .await)
}

/// The activity's check-in code, if one was made.
pub async fn code(db: &Db, activity_id: ActivityId) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&CODE)
        .bind(activity_id)
        .fetch_optional(pool)
        .await)
}

/// Gives the activity `token` as its code unless it has one; returns the code it has after.
pub async fn ensure_code(
    db: &Db,
    activity_id: ActivityId,
    token: &str,
) -> Result<String, sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => query(&INSERT_CODE)
        .bind(activity_id)
        .bind(token)
        .bind(unix_now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    let stored: String = on_tx!(&mut tx, c => query_scalar(&CODE)
        .bind(activity_id)
        .fetch_one(c)
        .await)?;
    tx.commit().await?;
    Ok(stored)
}

/// Verified attendance of one activity.
pub async fn count(db: &Db, activity_id: ActivityId) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => query_scalar(&COUNT)
        .bind(activity_id)
        .fetch_one(pool)
        .await)
}
