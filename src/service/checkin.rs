//! QR check-in: attendees scan the activity's code and give their name and unit (phone
//! optional) with consent. The code works only in a window around the activity; the same person
//! counts once; an unknown (forged) or closed code is refused with a clear message.

use crate::domain::ids::{ActivityId, OrgId};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::db::Db;
use crate::db::checkins::{self, NewCheckin, Stored};
use crate::db::group_commit::GroupCommit;
use crate::domain::activity::TIME_FORMAT;
use crate::domain::text;
use crate::error::{AppError, Conflict, Doing, FieldError};
use crate::service::accounts::{random_token, valid_phone};
use crate::service::acting::Acting;
use crate::service::activities::get as get_activity;

/// Version of the consent line shown on the check-in page; recorded with every check-in.
pub const CONSENT_VERSION: &str = "checkin-consent-2020-1";
pub const CONSENT_TEXT: &str =
    "我同意主办单位收集我的姓名、单位（及选填的手机号），仅用于本次活动签到统计，不对外公开。";

/// Version of the consent to join the propagandist register from the check-in page.
pub const REGISTER_CONSENT_VERSION: &str = "checkin-propagandist-2020-1";
pub const REGISTER_CONSENT_TEXT: &str = "我愿意成为职工好网民宣传员：同意本活动的主办工会将我的姓名和手机号登记在宣传员名册中，用于联系宣传员工作，不对外公开。";

/// Most names one phone may sign in at one activity (a colleague without a phone, a
/// neighbour's): more than one is shown to the reviewers.
pub const NAMES_PER_DEVICE: i64 = 3;

/// How long before the start the code opens. It closes at the end of the activity's day.
pub const OPENS_BEFORE: Duration = Duration::hours(2);

/// What the check-in page shows about the activity (nothing personal).
#[derive(Debug, Clone, Serialize)]
pub struct CheckinTarget {
    pub activity_id: ActivityId,
    pub name: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub starts_at: NaiveDateTime,
    /// Check-ins are taken only while the report is a draft: once it has gone up for review
    /// the attendance it claims is fixed.
    pub open_for_report: bool,
}

/// The activity a code belongs to. Unknown codes are "not found", with no hint of which exist.
pub async fn target(db: &Db, token: &str) -> Result<CheckinTarget, AppError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let row = checkins::target(db, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let starts_at = NaiveDateTime::parse_from_str(&row.starts_at, TIME_FORMAT)
        .doing("reading a stored activity start time")?;
    Ok(CheckinTarget {
        activity_id: row.activity_id,
        name: row.name,
        org_id: row.org_id,
        org_name: row.org_name,
        starts_at,
        open_for_report: row.status == crate::domain::activity::Status::Draft.code(),
    })
}

/// Whether the code is open now; if not, why (in Chinese).
pub fn window(target: &CheckinTarget, now: NaiveDateTime) -> Result<(), String> {
    if !target.open_for_report {
        return Err("签到已结束：这个活动的报告已经报送，签到人数不再变动。".into());
    }
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
    /// "yes" when the attendee asks to join the propagandist register (成为职工好网民宣传员).
    #[serde(default)]
    pub propagandist: String,
}

/// The outcome a person sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    CheckedIn,
    AlreadyCheckedIn,
}

/// Records a check-in from the phone whose device cookie hashes to `device`. Normalises the
/// name so "张 三", "張三" and "张三" are one person.
pub async fn check_in(
    db: &Db,
    writer: &CheckinWriter,
    clock: &Clock,
    token: &str,
    form: &CheckinForm,
    device: Option<&str>,
) -> Result<(CheckinTarget, Outcome), AppError> {
    let target = target(db, token).await?;
    window(&target, clock.now_local())
        .map_err(|m| AppError::conflict(Conflict::CheckinClosed, m))?;
    let mut errors = Vec::new();
    let name = text::name(&form.name, text::limits::PERSON_NAME).unwrap_or_else(|m| {
        errors.push(FieldError::new("姓名", format!("姓名{m}")));
        String::new()
    });
    let unit = text::name(&form.unit, text::limits::ORG_NAME).unwrap_or_else(|m| {
        errors.push(FieldError::new("单位", format!("工作单位{m}")));
        String::new()
    });
    let unit = unit.as_str();
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
    let joins = form.propagandist == "yes";
    if joins && phone.is_none() {
        errors.push(FieldError::new(
            "手机号",
            "成为宣传员须填写手机号，方便工会联系您",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // "张 三", "張三" and "张\u{200B}三" are one person.
    let key_name = text::person_key_name(&name);
    let person_key = match phone {
        Some(p) => format!("{key_name}|{p}"),
        None => format!("{key_name}|{}", text::person_key_name(unit)),
    };
    let join_register = if joins {
        let campaign = crate::service::acting::current_campaign(db).await?;
        Some(checkins::JoinRegister {
            campaign_id: campaign.id,
            org_id: target.org_id,
            consent_version: REGISTER_CONSENT_VERSION,
        })
    } else {
        None
    };
    let row = NewCheckin {
        activity_id: target.activity_id,
        name,
        unit: unit.to_string(),
        phone: phone.map(str::to_string),
        person_key,
        consent_version: CONSENT_VERSION,
        device: device.map(str::to_string),
        names_per_device: NAMES_PER_DEVICE,
        join_register,
    };
    let stored = writer.write(row).await?;
    crate::telemetry::checkin(match stored {
        Stored::New => "new",
        Stored::Repeat => "repeat",
        Stored::DeviceFull => "device_full",
    });
    let outcome = match stored {
        Stored::New => Outcome::CheckedIn,
        Stored::Repeat => Outcome::AlreadyCheckedIn,
        Stored::DeviceFull => {
            return Err(AppError::conflict(
                Conflict::CheckinClosed,
                format!(
                    "这部手机已为 {NAMES_PER_DEVICE} 人签到，不能再为其他人签到。请每位参加者用自己的手机扫码。"
                ),
            ));
        }
    };
    Ok((target, outcome))
}

/// Stores check-ins. Those arriving together share one commit (a storm of phones scanning the
/// same code at the start of a lecture); `checkin_group_commit = false` gives each its own.
pub type CheckinWriter = GroupCommit<NewCheckin>;

/// The activity's code if one was made. Only accounts that may see the activity get it.
pub async fn existing_code(
    db: &Db,
    acting: &Acting,
    activity_id: ActivityId,
) -> Result<Option<String>, AppError> {
    let activity = get_activity(db, acting, activity_id).await?;
    Ok(checkins::code(db, activity.row.id).await?)
}

/// The activity's code, made on first use (by a POST). Only accounts that may see the
/// activity get it.
pub async fn code_for(
    db: &Db,
    acting: &Acting,
    activity_id: ActivityId,
) -> Result<String, AppError> {
    let activity = get_activity(db, acting, activity_id).await?;
    if let Some(token) = checkins::code(db, activity.row.id).await? {
        return Ok(token);
    }
    // Another request may make one at the same time: whichever is stored first is the code.
    let token = random_token()[..32].to_string();
    Ok(checkins::ensure_code(db, activity.row.id, &token).await?)
}

/// Verified attendance of one activity.
pub async fn verified(db: &Db, activity_id: ActivityId) -> Result<i64, sqlx::Error> {
    checkins::count(db, activity_id).await
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
            activity_id: ActivityId(1),
            name: String::new(),
            org_id: OrgId(1),
            org_name: String::new(),
            starts_at: at("2020-07-01T09:30"),
            open_for_report: true,
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
        let submitted = CheckinTarget {
            open_for_report: false,
            ..t
        };
        assert!(window(&submitted, at("2020-07-01T10:00")).is_err());
    }

    #[test]
    fn doubtful_counts() {
        assert!(!doubtful(30, 12));
        assert!(doubtful(500, 40));
        assert!(!doubtful(8, 0));
    }
}
