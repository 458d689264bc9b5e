//! QR check-in: attendees scan the activity's code and give their name and unit (phone
//! optional) with consent. The code works only in a window around the activity; the same person
//! counts once; an unknown (forged) or closed code is refused with a clear message.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, unix_now};
use crate::db::group_commit::{self, GroupCommit};
use crate::db::{Db, Tx, on_pool, on_tx};
use crate::domain::activity::TIME_FORMAT;
use crate::error::{AppError, FieldError};
use crate::service::accounts::{random_token, valid_phone};
use crate::service::acting::Acting;
use crate::service::activities::get as get_activity;

/// Version of the consent line shown on the check-in page; recorded with every check-in.
pub const CONSENT_VERSION: &str = "checkin-consent-2020-1";
pub const CONSENT_TEXT: &str =
    "我同意主办单位收集我的姓名、单位（及选填的手机号），仅用于本次活动签到统计，不对外公开。";

/// How long before the start the code opens. It closes at the end of the activity's day.
pub const OPENS_BEFORE: Duration = Duration::hours(2);

/// What the check-in page shows about the activity (nothing personal).
#[derive(Debug, Clone, Serialize)]
pub struct CheckinTarget {
    pub activity_id: i64,
    pub name: String,
    pub org_name: String,
    pub starts_at: NaiveDateTime,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    activity_id: i64,
    name: String,
    org_name: String,
    starts_at: String,
}

/// The activity a code belongs to. Unknown codes are "not found", with no hint of which exist.
pub async fn target(db: &Db, token: &str) -> Result<CheckinTarget, AppError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let row: Option<TargetRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT a.id AS activity_id, a.name, o.name AS org_name, a.starts_at
         FROM checkin_codes c JOIN activities a ON a.id = c.activity_id JOIN orgs o ON o.id = a.org_id
         WHERE c.token = $1")
        .bind(token)
        .fetch_optional(pool)
        .await)?;
    let row = row.ok_or(AppError::NotFound)?;
    let starts_at = NaiveDateTime::parse_from_str(&row.starts_at, TIME_FORMAT)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored start time unreadable: {e}")))?;
    Ok(CheckinTarget {
        activity_id: row.activity_id,
        name: row.name,
        org_name: row.org_name,
        starts_at,
    })
}

/// Whether the code is open now; if not, why (in Chinese).
pub fn window(target: &CheckinTarget, now: NaiveDateTime) -> Result<(), String> {
    let opens = target.starts_at - OPENS_BEFORE;
    let closes = target
        .starts_at
        .date()
        .and_hms_opt(23, 59, 59)
        .unwrap_or(target.starts_at);
    if now < opens {
        Err(format!(
            "签到尚未开始：活动 {} 开始，开始前 2 小时起可以签到。",
            target.starts_at.format("%Y年%m月%d日 %H:%M")
        ))
    } else if now > closes {
        Err(format!(
            "签到已结束：这个二维码只在活动当天（{}）有效。",
            target.starts_at.format("%Y年%m月%d日")
        ))
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckinForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub consent: String,
}

/// The outcome a person sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    CheckedIn,
    AlreadyCheckedIn,
}

/// Records a check-in. Normalises the name (spaces removed) so "张 三" and "张三" are one.
pub async fn check_in(
    db: &Db,
    writer: &CheckinWriter,
    clock: &Clock,
    token: &str,
    form: &CheckinForm,
) -> Result<(CheckinTarget, Outcome), AppError> {
    let target = target(db, token).await?;
    window(&target, clock.now_local()).map_err(AppError::Conflict)?;
    let mut errors = Vec::new();
    let name: String = form.name.chars().filter(|c| !c.is_whitespace()).collect();
    if name.is_empty() || name.chars().count() > 30 {
        errors.push(FieldError::new("姓名", "请填写您的姓名"));
    }
    let unit = form.unit.trim();
    if unit.is_empty() || unit.chars().count() > 100 {
        errors.push(FieldError::new("单位", "请填写您的工作单位"));
    }
    let phone = Some(form.phone.trim()).filter(|p| !p.is_empty());
    if let Some(p) = phone
        && !valid_phone(p)
    {
        errors.push(FieldError::new(
            "手机号",
            "手机号应为 11 位数字；不想填可以留空",
        ));
    }
    if form.consent != "yes" {
        errors.push(FieldError::new("同意", "请勾选同意后再签到"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let person_key = match phone {
        Some(p) => format!("{name}|{p}"),
        None => format!("{name}|{unit}"),
    };
    let row = NewCheckin {
        activity_id: target.activity_id,
        name,
        unit: unit.to_string(),
        phone: phone.map(str::to_string),
        person_key,
    };
    let outcome = writer.write(row).await?;
    Ok((target, outcome))
}

/// One check-in to store.
#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub activity_id: i64,
    pub name: String,
    pub unit: String,
    pub phone: Option<String>,
    pub person_key: String,
}

/// Stores check-ins. Those arriving together share one commit (a storm of phones scanning the
/// same code at the start of a lecture); `checkin_group_commit = false` gives each its own.
pub type CheckinWriter = GroupCommit<NewCheckin>;

impl group_commit::Write for NewCheckin {
    type Output = Outcome;

    async fn apply(&self, tx: &mut Tx) -> Result<Outcome, sqlx::Error> {
        let n = on_tx!(tx, c => sqlx::query(
            "INSERT INTO checkins (activity_id, name, unit, phone, person_key, consent_version, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (activity_id, person_key) DO NOTHING")
            .bind(self.activity_id)
            .bind(&self.name)
            .bind(&self.unit)
            .bind(&self.phone)
            .bind(&self.person_key)
            .bind(CONSENT_VERSION)
            .bind(unix_now())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(if n == 1 {
            Outcome::CheckedIn
        } else {
            Outcome::AlreadyCheckedIn
        })
    }
}

/// The activity's code, made on first use. Only accounts that may see the activity get it.
pub async fn code_for(db: &Db, acting: &Acting, activity_id: i64) -> Result<String, AppError> {
    let activity = get_activity(db, acting, activity_id).await?;
    let existing: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT token FROM checkin_codes WHERE activity_id = $1")
        .bind(activity.row.id)
        .fetch_optional(pool)
        .await)?;
    if let Some(token) = existing {
        return Ok(token);
    }
    let token = random_token()[..32].to_string();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO checkin_codes (activity_id, token, created_at) VALUES ($1, $2, $3) ON CONFLICT (activity_id) DO NOTHING")
        .bind(activity.row.id)
        .bind(&token)
        .bind(unix_now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    // Another request may have won the race: read back what is stored.
    on_pool!(db, pool => sqlx::query_scalar("SELECT token FROM checkin_codes WHERE activity_id = $1")
        .bind(activity.row.id)
        .fetch_one(pool)
        .await)
    .map_err(Into::into)
}

/// Verified attendance of one activity.
pub async fn verified(db: &Db, activity_id: i64) -> Result<i64, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM checkins WHERE activity_id = $1")
        .bind(activity_id)
        .fetch_one(pool)
        .await)
}

/// Claimed attendance far above what check-in shows: more than twice the verified count plus
/// ten (small events often have a few who do not scan).
pub fn doubtful(claimed: i64, verified: i64) -> bool {
    claimed > 2 * verified + 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, TIME_FORMAT).unwrap_or_default()
    }

    #[test]
    fn the_code_opens_two_hours_early_and_closes_at_midnight() {
        let t = CheckinTarget {
            activity_id: 1,
            name: String::new(),
            org_name: String::new(),
            starts_at: at("2020-07-01T09:30"),
        };
        assert!(window(&t, at("2020-07-01T07:29")).is_err());
        assert!(window(&t, at("2020-07-01T07:30")).is_ok());
        assert!(window(&t, at("2020-07-01T23:59")).is_ok());
        assert!(
            window(&t, at("2020-07-02T00:00"))
                .err()
                .unwrap_or_default()
                .contains("签到已结束")
        );
    }

    #[test]
    fn doubtful_counts() {
        assert!(!doubtful(30, 12));
        assert!(doubtful(500, 40));
        assert!(!doubtful(8, 0));
    }
}
