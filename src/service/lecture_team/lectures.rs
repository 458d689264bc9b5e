//! 五进 lectures: a union unit requests a lecture (topic, form, venue type, place, time; for a
//! 网络公开课 the platform and link); the city or the city's 网信办 assigns one or more lecturers
//! from the roster (never a retired one, never one booked at an overlapping time); each lecturer
//! confirms or declines (with a reason) through the link given to them. When every lecturer who
//! has not declined has confirmed, the lecture becomes the requesting unit's offline activity —
//! reported, photographed, checked in and approved like any other, so it counts toward the
//! unit's Annex 1 任务数 (when the campaign's `lectures_count_toward_quota` says so) and the
//! team's record. A decline sends the lecture back to the city, which assigns another. Each step
//! is one transaction under the campaign's lock with its audit entry.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde_json::json;

use crate::clock::unix_now;
use crate::db::Db;
use crate::db::audit::{self, Actor, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::lectures::{self as db, Assignment, Lecture, NewLecture};
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
/// Lecturers on one lecture at most (not counting those who declined).
pub const MAX_LECTURERS: usize = 5;
/// A lecturer's reason for declining, in characters (at least `MIN_DECLINE_CHARS`).
pub const MAX_DECLINE_CHARS: usize = 200;
pub const MIN_DECLINE_CHARS: usize = 2;
/// An open class's platform name, in characters; its link, in characters.
pub const MAX_PLATFORM_CHARS: usize = 30;
pub const MAX_LINK_CHARS: usize = 300;
/// Views a unit may claim for one open class.
pub const MAX_VIEWS: i64 = 100_000_000;
/// The views screenshot, before re-encoding.
pub const MAX_SCREENSHOT_BYTES: u64 = 10 * 1024 * 1024;
/// The form that makes a lecture an online open class (it records platform, link and views).
pub const OPEN_CLASS_FORM: &str = "网络公开课";

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
    /// 网络公开课 only: the platform (required) and the link (optional until the views report).
    pub online_platform: String,
    pub online_link: String,
}

/// Checks an open class's link: http(s), no spaces, at most [`MAX_LINK_CHARS`].
pub fn check_link(raw: &str) -> Result<String, String> {
    let l = raw.trim();
    if !(l.starts_with("https://") || l.starts_with("http://"))
        || l.len() <= "https://".len()
        || l.chars().any(char::is_whitespace)
        || l.chars().count() > MAX_LINK_CHARS
    {
        return Err(format!(
            "公开课链接须以 http:// 或 https:// 开头、不含空格、不超过 {MAX_LINK_CHARS} 个字符"
        ));
    }
    Ok(l.to_string())
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
    let (mut platform, mut link) = (String::new(), String::new());
    if form == OPEN_CLASS_FORM {
        match text::name(&input.online_platform, MAX_PLATFORM_CHARS) {
            _ if input.online_platform.trim().is_empty() => problems.push(FieldError::new(
                "online_platform",
                "网络公开课请填写直播或发布平台（如 抖音、学习强国）",
            )),
            Ok(p) => platform = p,
            Err(m) => problems.push(FieldError::new("online_platform", format!("平台{m}"))),
        }
        if !input.online_link.trim().is_empty() {
            match check_link(&input.online_link) {
                Ok(l) => link = l,
                Err(m) => problems.push(FieldError::new("online_link", m)),
            }
        }
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
            online_platform: &platform,
            online_link: &link,
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
                "online_platform": platform, "online_link": link,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A lecture with its lecturers (declined ones too) and, for an open class, the views Wangju
/// measured on its showcase page.
pub struct Listed {
    pub l: Lecture,
    pub assignments: Vec<Assignment>,
    pub measured_views: Option<i64>,
}

pub async fn list(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
) -> Result<Vec<Listed>, AppError> {
    if !acting.role.may_read_activities() {
        return Err(AppError::Forbidden);
    }
    let campaign_id = CampaignId(campaign.id);
    let lectures = db::list(db_, campaign_id, &acting.scope, MAX_LISTED).await?;
    let mut assignments = db::assignments(db_, campaign_id, &acting.scope).await?;
    let mut out = Vec::with_capacity(lectures.len());
    for l in lectures {
        let mine: Vec<Assignment> = assignments
            .extract_if(.., |a| a.lecture_id == l.id)
            .collect();
        let measured_views = match (l.form == OPEN_CLASS_FORM, l.activity_id) {
            (true, Some(a)) => Some(
                db::measured_views(db_, campaign_id, &format!("/showcase/activities/{a}")).await?,
            ),
            _ => None,
        };
        out.push(Listed {
            l,
            assignments: mine,
            measured_views,
        });
    }
    Ok(out)
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

/// The city (or the city's 网信办) assigns one more lecturer to a lecture not yet confirmed;
/// returns the confirmation code that lecturer's link carries.
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
    // A confirmed lecture may still take another lecturer (one who declined is replaced);
    // the activity it became stays as it is.
    let live: Vec<Assignment> = db::assignments_of(&mut tx, id)
        .await?
        .into_iter()
        .filter(|a| a.status != "declined")
        .collect();
    if live.iter().any(|a| a.member_id == member_id) {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            "该讲师已在这场宣讲的讲师名单中".into(),
        ));
    }
    if live.len() >= MAX_LECTURERS {
        return Err(AppError::Conflict(
            Conflict::TooManyOpen,
            format!("一场宣讲最多安排 {MAX_LECTURERS} 名讲师"),
        ));
    }
    check_lecturer(&mut tx, campaign_id, &l, member_id).await?;
    let token = crate::service::accounts::random_token()[..32].to_string();
    let assignment = db::insert_assignment(
        &mut tx,
        id,
        member_id,
        &token,
        Some(acting.user_id),
        unix_now(),
    )
    .await?;
    if l.status == "requested" {
        db::set_status(&mut tx, id, "assigned").await?;
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "lecture.assign",
            object_type: "lecture",
            object_id: id.to_string(),
            before: Some(json!({
                "status": l.status,
                "lecturers": live.iter().map(|a| a.member_id).collect::<Vec<_>>(),
            })),
            after: Some(json!({
                "status": if l.status == "confirmed" { "confirmed" } else { "assigned" },
                "member": member_id, "assignment": assignment,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// An assignment and its lecture by the lecturer's confirmation code (what their link shows).
pub async fn by_token(
    db_: &Db,
    campaign: &StoredCampaign,
    token: &str,
) -> Result<(Assignment, Lecture), AppError> {
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let a = db::by_token(db_, token).await?.ok_or(AppError::NotFound)?;
    let l = db::one(db_, CampaignId(campaign.id), a.lecture_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((a, l))
}

/// Locks the campaign and reads an assignment still open by its code.
async fn open_assignment(
    tx: &mut crate::db::Tx,
    campaign_id: CampaignId,
    token: &str,
) -> Result<(Assignment, Lecture), AppError> {
    db::lock_and_count(tx, campaign_id).await?;
    let a = db::by_token_tx(tx, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let l = db::one_tx(tx, campaign_id, a.lecture_id)
        .await?
        .ok_or(AppError::NotFound)?;
    match a.status.as_str() {
        "assigned" => Ok((a, l)),
        "confirmed" => Err(AppError::Conflict(
            Conflict::WrongState,
            "您已确认过这场宣讲".into(),
        )),
        _ => Err(AppError::Conflict(
            Conflict::WrongState,
            "您已婉拒这场宣讲；如能参加，请联系市总工会重新安排".into(),
        )),
    }
}

fn lecturer_actor(member_id: i64, ip: &str) -> Actor {
    Actor {
        user_id: None,
        login: format!("lecturer:{member_id}"),
        ip: ip.to_string(),
    }
}

/// A lecturer confirms their assignment. When every lecturer has answered (and someone
/// confirmed), the lecture becomes the requesting unit's offline activity (a draft the unit
/// reports like any other); returns its id then.
pub async fn confirm(
    db_: &Db,
    campaign: &StoredCampaign,
    token: &str,
    ip: &str,
) -> Result<Option<i64>, AppError> {
    by_token(db_, campaign, token).await?;
    let campaign_id = CampaignId(campaign.id);
    let mut tx = db_.begin().await?;
    let (a, l) = open_assignment(&mut tx, campaign_id, token).await?;
    // Retired or booked elsewhere since the assignment: refused now too.
    check_lecturer(&mut tx, campaign_id, &l, a.member_id).await?;
    if !db::respond(&mut tx, a.id, "confirmed", None, unix_now()).await? {
        return Err(AppError::Conflict(
            Conflict::ChangedMeanwhile,
            "这场宣讲刚被处理过，请刷新页面".into(),
        ));
    }
    let activity = settle(&mut tx, campaign, &l).await?;
    audit::append(
        &mut tx,
        &lecturer_actor(a.member_id, ip),
        Event {
            action: "lecture.confirm",
            object_type: "lecture",
            object_id: l.id.to_string(),
            before: Some(json!({ "assignment": a.id, "status": "assigned" })),
            after: Some(json!({
                "assignment": a.id, "member": a.member_id, "status": "confirmed",
                "lecture": if activity.is_some() { "confirmed" } else { l.status.as_str() },
                "activity": activity,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(activity)
}

/// A lecturer declines their assignment with a reason. The requesting unit and the city see it
/// on the lecture; with nobody left on it the lecture is back to "requested" for the city to
/// assign another.
pub async fn decline(
    db_: &Db,
    campaign: &StoredCampaign,
    token: &str,
    reason: &str,
    ip: &str,
) -> Result<(), AppError> {
    by_token(db_, campaign, token).await?;
    let reason = text::paragraphs(reason, MAX_DECLINE_CHARS)
        .map_err(|m| AppError::invalid("reason", format!("婉拒理由{m}")))?;
    if reason.chars().count() < MIN_DECLINE_CHARS {
        return Err(AppError::invalid(
            "reason",
            "请写明不能参加的原因（如 当天另有工作安排），市总工会据此另行安排讲师",
        ));
    }
    let campaign_id = CampaignId(campaign.id);
    let mut tx = db_.begin().await?;
    let (a, l) = open_assignment(&mut tx, campaign_id, token).await?;
    if !db::respond(&mut tx, a.id, "declined", Some(&reason), unix_now()).await? {
        return Err(AppError::Conflict(
            Conflict::ChangedMeanwhile,
            "这场宣讲刚被处理过，请刷新页面".into(),
        ));
    }
    let live = db::assignments_of(&mut tx, l.id)
        .await?
        .into_iter()
        .filter(|x| x.status != "declined")
        .count();
    if live == 0 {
        db::set_status(&mut tx, l.id, "requested").await?;
    }
    // The others had all confirmed: the lecture goes ahead with them.
    let activity = settle(&mut tx, campaign, &l).await?;
    audit::append(
        &mut tx,
        &lecturer_actor(a.member_id, ip),
        Event {
            action: "lecture.decline",
            object_type: "lecture",
            object_id: l.id.to_string(),
            before: Some(json!({ "assignment": a.id, "status": "assigned" })),
            after: Some(json!({
                "assignment": a.id, "member": a.member_id, "status": "declined", "reason": reason,
                "lecture": if live == 0 { "requested" } else if activity.is_some() { "confirmed" } else { l.status.as_str() },
                "activity": activity,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// After a lecturer's answer: when nobody is left to answer and someone confirmed, a lecture not
/// yet confirmed becomes the requesting unit's activity. Returns the activity made, if any.
async fn settle(
    tx: &mut crate::db::Tx,
    campaign: &StoredCampaign,
    l: &Lecture,
) -> Result<Option<i64>, AppError> {
    let all = db::assignments_of(tx, l.id).await?;
    let settled =
        all.iter().all(|x| x.status != "assigned") && all.iter().any(|x| x.status == "confirmed");
    if !settled || l.status != "assigned" {
        return Ok(None);
    }
    let id = make_activity(tx, campaign, l).await?;
    if !db::confirm(tx, l.id, id, unix_now()).await? {
        return Err(AppError::Conflict(
            Conflict::ChangedMeanwhile,
            "这场宣讲刚被处理过，请刷新页面".into(),
        ));
    }
    Ok(Some(id))
}

/// The requesting unit's activity for a lecture every lecturer answered.
async fn make_activity(
    tx: &mut crate::db::Tx,
    campaign: &StoredCampaign,
    l: &Lecture,
) -> Result<i64, AppError> {
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
        online_platform: l.online_platform.clone(),
        online_link: l.online_link.clone(),
        ..ActivityInput::default()
    };
    let document = serde_json::to_string(&input).map_err(|e| AppError::Internal(e.into()))?;
    // The activity is the requester's (demo requests have none: they are not confirmed here).
    let requested_by = db::requested_by(tx, l.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::db::activities::insert(
        tx,
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
    .await?)
}

/// An open class's claimed views as the form sends them.
pub struct ViewsClaim {
    pub views: String,
    /// Empty: the link the request gave.
    pub link: String,
    /// The screenshot's bytes (at most [`MAX_SCREENSHOT_BYTES`], checked here too).
    pub screenshot: Vec<u8>,
}

/// The views an open class claims, with the screenshot that shows them (and its link, which
/// the request may not have had yet): the requesting unit, or the city, once the lecture is
/// confirmed. The screenshot is re-encoded without metadata like activity photos.
pub async fn report_views(
    db_: &Db,
    store: &crate::store::FileStore,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
    claim: ViewsClaim,
) -> Result<(), AppError> {
    let ViewsClaim {
        views,
        link,
        screenshot,
    } = claim;
    let (views, link) = (views.as_str(), link.as_str());
    let campaign_id = CampaignId(campaign.id);
    if !db::in_scope(db_, campaign_id, &acting.scope, id).await? {
        return Err(AppError::NotFound);
    }
    let l = db::one(db_, campaign_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let city = acting.role == crate::domain::role::Role::CityAdmin;
    if !(city || (acting.role.may_report_activities() && acting.org.id == l.org_id)) {
        return Err(AppError::Forbidden);
    }
    if l.form != OPEN_CLASS_FORM {
        return Err(AppError::invalid(
            "views",
            format!("只有{OPEN_CLASS_FORM}填报浏览量"),
        ));
    }
    if l.status != "confirmed" {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            "讲师确认后才能填报公开课浏览量".into(),
        ));
    }
    let mut problems = Vec::new();
    let views = match views.trim().parse::<i64>() {
        Ok(n) if (0..=MAX_VIEWS).contains(&n) => n,
        _ => {
            problems.push(FieldError::new(
                "views",
                "浏览量请填 0 到 1 亿之间的整数（平台显示的观看或浏览次数）",
            ));
            0
        }
    };
    let link = match check_link(if link.trim().is_empty() {
        &l.online_link
    } else {
        link
    }) {
        Ok(x) => x,
        Err(m) => {
            problems.push(FieldError::new("online_link", m));
            String::new()
        }
    };
    if screenshot.is_empty() {
        problems.push(FieldError::new(
            "screenshot",
            "请上传显示浏览量的平台截图，作为填报依据",
        ));
    } else if screenshot.len() as u64 > MAX_SCREENSHOT_BYTES {
        problems.push(FieldError::new(
            "screenshot",
            format!(
                "截图最大 {} MB，请压缩后再上传",
                MAX_SCREENSHOT_BYTES / 1024 / 1024
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let prepared = tokio::task::spawn_blocking(move || crate::media::photo::prepare(&screenshot))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::invalid("screenshot", format!("截图{e}")))?;
    let key = format!(
        "lectures/{}.jpg",
        &crate::service::accounts::random_token()[..32]
    );
    store.put_bytes(&key, prepared.image).await?;
    let mut tx = db_.begin().await?;
    db::lock_and_count(&mut tx, campaign_id).await?;
    // The screenshot replaced is the one stored now (another claim may have come meanwhile).
    let old_shot = db::one_tx(&mut tx, campaign_id, id)
        .await?
        .and_then(|x| x.views_screenshot);
    if !db::set_views(&mut tx, campaign_id, id, views, &key, &link).await? {
        drop(tx);
        let _ = store.delete(&key).await;
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "lecture.views",
            object_type: "lecture",
            object_id: id.to_string(),
            before: Some(json!({ "views": l.views_claimed, "link": l.online_link })),
            after: Some(json!({ "views": views, "screenshot": key, "link": link })),
        },
    )
    .await?;
    tx.commit().await?;
    if let Some(old) = old_shot {
        let _ = store.delete(&old).await;
    }
    Ok(())
}

/// An open class's views screenshot, for those who may read the lecture.
pub async fn screenshot(
    db_: &Db,
    store: &crate::store::FileStore,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
) -> Result<crate::service::works::ServedFile, AppError> {
    let campaign_id = CampaignId(campaign.id);
    if !db::in_scope(db_, campaign_id, &acting.scope, id).await? {
        return Err(AppError::NotFound);
    }
    if !acting.role.may_read_activities() {
        return Err(AppError::Forbidden);
    }
    let key = db::one(db_, campaign_id, id)
        .await?
        .and_then(|l| l.views_screenshot)
        .ok_or(AppError::NotFound)?;
    let size = store.size(&key).await.map_err(|e| {
        if e.is_not_found() {
            AppError::NotFound
        } else {
            AppError::Internal(e.into())
        }
    })?;
    Ok(crate::service::works::ServedFile {
        key,
        size,
        media_type: "image/jpeg".into(),
        download_name: format!("lecture-{id}-views.jpg"),
    })
}

/// One member's row of the team's record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordRow {
    pub name: String,
    pub category: String,
    pub retired: bool,
    /// Per venue, in the campaign's order: (lectures, checked-in, claimed).
    pub cells: Vec<(i64, i64, i64)>,
}

/// The team's record as data: what the lectures page, the statistics workbook and the
/// November summary show.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Record {
    /// The 五进 as labels (进机关 …), the columns of `cells` and `totals`.
    pub venues: Vec<String>,
    pub rows: Vec<RecordRow>,
    /// Per venue over lectures (a lecture given by two members counts once): (lectures,
    /// checked-in, claimed).
    pub totals: Vec<(i64, i64, i64)>,
    /// Venues with no lecture planned or held this month, e.g. "进校园".
    pub gaps_this_month: Vec<String>,
    pub month: String,
}

/// The team's record: members × 五进 venue types over lectures the member confirmed and whose
/// activity the city confirmed, with audiences (checked in beside claimed), the totals per venue
/// and the venues nobody goes to this month. Call it for the figures (the summary does).
pub async fn record(
    db_: &Db,
    campaign: &StoredCampaign,
    today: NaiveDate,
) -> Result<Record, AppError> {
    let campaign_id = CampaignId(campaign.id);
    let venues = campaign.campaign.lecture_team.venues.clone();
    let cells = db::record(db_, campaign_id).await?;
    let per_venue = db::record_totals(db_, campaign_id).await?;
    let members = crate::service::lecture_team::members(db_, campaign).await?;
    let rows = members
        .into_iter()
        .map(|m| RecordRow {
            cells: venues
                .iter()
                .map(|v| {
                    cells
                        .iter()
                        .find(|c| c.member_id == m.id && &c.venue_type == v)
                        .map_or((0, 0, 0), |c| {
                            (
                                c.lectures,
                                c.checked_in.unwrap_or(0),
                                c.claimed.unwrap_or(0),
                            )
                        })
                })
                .collect(),
            name: m.name,
            category: m.category,
            retired: m.retired_at.is_some(),
        })
        .collect();
    let totals = venues
        .iter()
        .map(|v| {
            per_venue
                .iter()
                .find(|t| &t.venue_type == v)
                .map_or((0, 0, 0), |t| {
                    (
                        t.lectures,
                        t.checked_in.unwrap_or(0),
                        t.claimed.unwrap_or(0),
                    )
                })
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

/// A confirmed upcoming lecture with its lecturers' public names.
pub struct CalendarEntry {
    pub u: crate::db::lectures::Upcoming,
    pub lecturers: String,
}

/// Confirmed lectures from today on, for the public calendar (no contacts, no people's data but
/// the lecturers' public names).
pub async fn calendar(
    db_: &Db,
    campaign: &StoredCampaign,
    today: NaiveDate,
) -> Result<Vec<CalendarEntry>, AppError> {
    let (lectures, names) =
        db::upcoming(db_, CampaignId(campaign.id), &format!("{today}T00:00"), 100).await?;
    Ok(lectures
        .into_iter()
        .map(|u| CalendarEntry {
            lecturers: names
                .iter()
                .filter(|(id, _)| *id == u.id)
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            u,
        })
        .collect())
}
