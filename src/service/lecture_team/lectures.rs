//! 五进 lectures: a union unit requests a lecture (topic, form, venue type, place, time); the
//! city or the city's 网信办 assigns a lecturer from the roster (never a retired one, never one
//! booked at an overlapping time); the lecturer confirms through the link given to them, which
//! makes the lecture the requesting unit's offline activity — reported, photographed, checked in
//! and approved like any other, so a confirmed lecture counts toward the unit's Annex 1 任务数 and
//! the team's record. Each step is one transaction under the campaign's lock with its audit entry.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde_json::json;

use crate::clock::unix_now;
use crate::db::Db;
use crate::db::audit::{self, Actor, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::lectures::{self as db, Lecture, NewLecture};
use crate::domain::activity::ActivityInput;
use crate::domain::ids::CampaignId;
use crate::domain::text;
use crate::error::{AppError, Conflict, FieldError};
use crate::service::acting::Acting;
use crate::service::lecture_team::may_keep_roster;

/// Lectures a campaign holds at most (counted under the campaign's lock).
pub const MAX_LECTURES: i64 = 5_000;
/// A lecture's topic and place, in characters.
pub const MAX_TOPIC_CHARS: usize = 60;
pub const MAX_PLACE_CHARS: usize = 200;
/// Longest lecture, in hours (a lecture is one session on one day).
pub const MAX_HOURS: i64 = 8;
/// Lectures a list shows at most.
pub const MAX_LISTED: i64 = 2_000;

const TIME: &str = "%Y-%m-%dT%H:%M";

/// A request as the form sends it.
#[derive(Debug, Default, Clone)]
pub struct RequestInput {
    pub topic: String,
    pub form: String,
    pub venue_type: String,
    pub place: String,
    pub starts_at: String,
    pub ends_at: String,
}

/// `进机关` … as the 五进 name a venue.
pub fn venue_label(venue: &str) -> String {
    format!("进{venue}")
}

pub async fn request(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    input: &RequestInput,
) -> Result<i64, AppError> {
    if !acting.role.may_report_activities() {
        return Err(AppError::Forbidden);
    }
    if !acting.org.is_union() {
        return Err(AppError::invalid("org", "只有工会组织可以申请宣讲"));
    }
    let t = &campaign.campaign.lecture_team;
    let mut problems = Vec::new();
    let topic = text::name(&input.topic, MAX_TOPIC_CHARS)
        .map_err(|m| problems.push(FieldError::new("topic", format!("宣讲主题{m}"))))
        .unwrap_or_default();
    let place = text::name(&input.place, MAX_PLACE_CHARS)
        .map_err(|m| problems.push(FieldError::new("place", format!("宣讲地点{m}"))))
        .unwrap_or_default();
    let form = input.form.trim().to_string();
    if !t.forms.contains(&form) {
        problems.push(FieldError::new(
            "form",
            format!("请选择宣讲方式：{}", t.forms.join("、")),
        ));
    }
    let venue = input.venue_type.trim().trim_start_matches('进').to_string();
    if !t.venues.contains(&venue) {
        problems.push(FieldError::new(
            "venue_type",
            format!(
                "请选择宣讲去向：{}",
                t.venues
                    .iter()
                    .map(|v| venue_label(v))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        ));
    }
    let starts = NaiveDateTime::parse_from_str(input.starts_at.trim(), TIME);
    let ends = NaiveDateTime::parse_from_str(input.ends_at.trim(), TIME);
    match (starts, ends) {
        (Ok(s), Ok(e)) => {
            if e <= s || e.date() != s.date() || (e - s).num_hours() >= MAX_HOURS {
                problems.push(FieldError::new(
                    "ends_at",
                    format!("结束时间须晚于开始时间，在同一天内，不超过 {MAX_HOURS} 小时"),
                ));
            }
            if let Some((first, last)) = campaign.campaign.activity_dates()
                && (s.date() < first || s.date() > last)
            {
                problems.push(FieldError::new(
                    "starts_at",
                    format!("宣讲日期须在活动期内（{first} 至 {last}）"),
                ));
            }
        }
        _ => problems.push(FieldError::new(
            "starts_at",
            "请填写开始和结束时间（如 2020-07-10T09:00）",
        )),
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let campaign_id = CampaignId(campaign.id);
    let mut tx = db_.begin().await?;
    if db::lock_and_count(&mut tx, campaign_id).await? >= MAX_LECTURES {
        return Err(AppError::Conflict(
            Conflict::TooManyOpen,
            format!("本届活动的宣讲已达上限 {MAX_LECTURES} 场"),
        ));
    }
    let (starts_at, ends_at) = (input.starts_at.trim(), input.ends_at.trim());
    let id = db::insert(
        &mut tx,
        &NewLecture {
            campaign_id,
            org_id: acting.org.id,
            topic: &topic,
            form: &form,
            venue_type: &venue,
            place: &place,
            starts_at,
            ends_at,
            requested_by: Some(acting.user_id),
            created_at: unix_now(),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "lecture.request",
            object_type: "lecture",
            object_id: id.to_string(),
            before: None,
            after: Some(json!({
                "org": acting.org.id, "topic": topic, "form": form, "venue": venue,
                "starts_at": starts_at, "ends_at": ends_at,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
) -> Result<Vec<Lecture>, AppError> {
    if !acting.role.may_read_activities() {
        return Err(AppError::Forbidden);
    }
    Ok(db::list(db_, CampaignId(campaign.id), &acting.scope, MAX_LISTED).await?)
}

fn double_booked() -> AppError {
    AppError::Conflict(
        Conflict::ChangedMeanwhile,
        "该讲师在这段时间已有宣讲安排，同一讲师的宣讲时间不能重叠：请另选讲师或时间".into(),
    )
}

async fn check_lecturer(
    tx: &mut crate::db::Tx,
    campaign_id: CampaignId,
    l: &Lecture,
    member_id: i64,
) -> Result<(), AppError> {
    if !db::member_active(tx, campaign_id, member_id).await? {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            "该成员已退出宣讲团（或不在宣讲团名单中），不能安排宣讲".into(),
        ));
    }
    if db::overlapping(tx, member_id, &l.starts_at, &l.ends_at, l.id).await? > 0 {
        return Err(double_booked());
    }
    Ok(())
}

/// The city (or the city's 网信办) assigns a lecturer to a requested lecture; returns the
/// confirmation code the lecturer's link carries.
pub async fn assign(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
    member_id: i64,
) -> Result<String, AppError> {
    let campaign_id = CampaignId(campaign.id);
    // Out of the account's scope (a district liaison's): not found, before "not allowed".
    if !db::in_scope(db_, campaign_id, &acting.scope, id).await? {
        return Err(AppError::NotFound);
    }
    if !may_keep_roster(acting) {
        return Err(AppError::Forbidden);
    }
    let mut tx = db_.begin().await?;
    db::lock_and_count(&mut tx, campaign_id).await?;
    let l = db::one_tx(&mut tx, campaign_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if l.status == "confirmed" {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            "讲师已确认该场宣讲，不能再改派".into(),
        ));
    }
    check_lecturer(&mut tx, campaign_id, &l, member_id).await?;
    let token = crate::service::accounts::random_token()[..32].to_string();
    if !db::assign(
        &mut tx,
        campaign_id,
        id,
        member_id,
        &token,
        Some(acting.user_id),
    )
    .await?
    {
        return Err(AppError::Conflict(
            Conflict::ChangedMeanwhile,
            "该宣讲刚被他人处理，请刷新页面".into(),
        ));
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "lecture.assign",
            object_type: "lecture",
            object_id: id.to_string(),
            before: Some(json!({ "status": l.status, "member": l.member_id })),
            after: Some(json!({ "status": "assigned", "member": member_id })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// A lecture by its confirmation code (what the lecturer's link shows).
pub async fn by_token(db_: &Db, token: &str) -> Result<Lecture, AppError> {
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    db::by_token(db_, token).await?.ok_or(AppError::NotFound)
}

/// The lecturer confirms: the lecture becomes the requesting unit's offline activity (a draft
/// the unit reports like any other). Returns the activity's id.
pub async fn confirm(
    db_: &Db,
    campaign: &StoredCampaign,
    token: &str,
    ip: &str,
) -> Result<i64, AppError> {
    by_token(db_, token).await?;
    let campaign_id = CampaignId(campaign.id);
    let mut tx = db_.begin().await?;
    db::lock_and_count(&mut tx, campaign_id).await?;
    let l = db::by_token_tx(&mut tx, token)
        .await?
        .ok_or(AppError::NotFound)?;
    if l.status != "assigned" {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            "这场宣讲已确认过".into(),
        ));
    }
    let member_id = l.member_id.ok_or(AppError::NotFound)?;
    // Retired or booked elsewhere since the assignment: refused now too.
    check_lecturer(&mut tx, campaign_id, &l, member_id).await?;
    let input = ActivityInput {
        name: format!("{}：{}", l.form, l.topic),
        starts_at: l.starts_at.clone(),
        place: l.place.clone(),
        format: l.form.clone(),
        categories: campaign
            .campaign
            .content_categories
            .first()
            .cloned()
            .into_iter()
            .collect(),
        co_organisers: campaign.campaign.lecture_team.name.clone(),
        ..ActivityInput::default()
    };
    let document = serde_json::to_string(&input).map_err(|e| AppError::Internal(e.into()))?;
    // The activity is the requester's (demo requests have none: they are not confirmed here).
    let requested_by = crate::db::lectures::requested_by(&mut tx, l.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let activity_id = crate::db::activities::insert(
        &mut tx,
        crate::db::activities::NewActivity {
            campaign_id: campaign.id,
            org_id: l.org_id,
            document: &document,
            name: &input.name,
            starts_at: &input.starts_at,
            counters: crate::db::activities::Counters::default(),
            created_by: requested_by,
        },
    )
    .await?;
    if !db::confirm(&mut tx, l.id, activity_id, unix_now()).await? {
        return Err(AppError::Conflict(
            Conflict::ChangedMeanwhile,
            "这场宣讲刚被处理过，请刷新页面".into(),
        ));
    }
    audit::append(
        &mut tx,
        &Actor {
            user_id: None,
            login: format!("lecturer:{member_id}"),
            ip: ip.to_string(),
        },
        Event {
            action: "lecture.confirm",
            object_type: "lecture",
            object_id: l.id.to_string(),
            before: Some(json!({ "status": "assigned" })),
            after: Some(json!({ "status": "confirmed", "activity": activity_id })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(activity_id)
}

/// One member's row of the team's record.
pub struct RecordRow {
    pub name: String,
    pub category: String,
    pub retired: bool,
    /// Per venue, in the campaign's order: (lectures, checked-in, claimed).
    pub cells: Vec<(i64, i64, i64)>,
}

pub struct Record {
    pub venues: Vec<String>,
    pub rows: Vec<RecordRow>,
    pub totals: Vec<(i64, i64, i64)>,
    /// Venues with no lecture planned or held this month, e.g. "进校园".
    pub gaps_this_month: Vec<String>,
    pub month: String,
}

/// The team's record: members × 五进 venue types over confirmed lectures, with audiences
/// (checked in beside claimed), and the venues nobody goes to this month.
pub async fn record(
    db_: &Db,
    campaign: &StoredCampaign,
    today: NaiveDate,
) -> Result<Record, AppError> {
    let campaign_id = CampaignId(campaign.id);
    let venues = campaign.campaign.lecture_team.venues.clone();
    let cells = db::record(db_, campaign_id).await?;
    let members = crate::service::lecture_team::members(db_, campaign).await?;
    let mut totals = vec![(0, 0, 0); venues.len()];
    let rows = members
        .into_iter()
        .map(|m| {
            let cells: Vec<(i64, i64, i64)> = venues
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let c = cells
                        .iter()
                        .find(|c| c.member_id == m.id && &c.venue_type == v)
                        .map_or((0, 0, 0), |c| {
                            (
                                c.lectures,
                                c.checked_in.unwrap_or(0),
                                c.claimed.unwrap_or(0),
                            )
                        });
                    totals[i].0 += c.0;
                    totals[i].1 += c.1;
                    totals[i].2 += c.2;
                    c
                })
                .collect();
            RecordRow {
                name: m.name,
                category: m.category,
                retired: m.retired_at.is_some(),
                cells,
            }
        })
        .collect();
    let first = today.with_day(1).unwrap_or(today);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let held = db::per_venue_between(
        db_,
        campaign_id,
        &format!("{first}T00:00"),
        &format!("{next}T00:00"),
    )
    .await?;
    let gaps_this_month = venues
        .iter()
        .filter(|v| !held.iter().any(|(h, n)| h == *v && *n > 0))
        .map(|v| venue_label(v))
        .collect();
    Ok(Record {
        venues: venues.iter().map(|v| venue_label(v)).collect(),
        rows,
        totals,
        gaps_this_month,
        month: first.format("%Y年%m月").to_string(),
    })
}

/// Confirmed lectures from today on, for the public calendar (no contacts, no people's data but
/// the lecturer's public name).
pub async fn calendar(
    db_: &Db,
    campaign: &StoredCampaign,
    today: NaiveDate,
) -> Result<Vec<crate::db::lectures::Upcoming>, AppError> {
    Ok(db::upcoming(db_, CampaignId(campaign.id), &format!("{today}T00:00"), 100).await?)
}
