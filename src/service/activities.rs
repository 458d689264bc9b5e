//! Planning, reporting and approving offline activities. Every change is audited in the same
//! transaction; editing a report that left draft keeps the earlier version.

use crate::clock::Clock;
use crate::db::activities::{self, ActivityRow, Counters, NewActivity};
use crate::db::audit::{self, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::orgs;
use crate::db::{Db, Tx};
use crate::domain::activity::{self, ActivityInput, Standing, Status, Transition};
use crate::domain::campaign::PhaseAction;
use crate::domain::ids::{ActivityId, OrgId};
use crate::domain::role::Role;
use crate::error::{AppError, Conflict, Doing, FieldError};
use crate::service::acting::{Acting, current_campaign};

/// An activity with its plan and report decoded.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Activity {
    #[serde(flatten)]
    pub row: ActivityRow,
    pub input: ActivityInput,
}

impl Activity {
    pub fn status(&self) -> Status {
        self.row.status
    }
}

fn decode(row: ActivityRow) -> Activity {
    let input = serde_json::from_str(&row.document).unwrap_or_default();
    Activity { row, input }
}

fn counters(input: &ActivityInput) -> Counters {
    Counters {
        participants: input.participants.unwrap_or(0),
        grassroots_unions: input.grassroots_unions.unwrap_or(0),
        enterprises: input.enterprises.unwrap_or(0),
        new_propagandists: input.new_propagandists.unwrap_or(0),
        online_views: input.online_views.unwrap_or(0),
    }
}

/// What the campaign says a report must keep to.
fn rules(c: &crate::domain::campaign::Campaign) -> activity::Rules<'_> {
    activity::Rules {
        formats: &c.activity_formats,
        lecture_forms: &c.lecture_team.forms,
        categories: &c.content_categories,
        dates: c.activity_dates(),
    }
}

fn normalise(mut input: ActivityInput) -> ActivityInput {
    input.name = input.name.trim().to_string();
    input.place = input.place.trim().to_string();
    input.format = input.format.trim().to_string();
    input.format_other = if input.format == activity::OTHER_FORMAT {
        input.format_other.trim().to_string()
    } else {
        String::new()
    };
    input.starts_at = input.starts_at.trim().to_string();
    input.categories.sort();
    input.categories.dedup();
    input
}

/// Reporting is open only while a phase allows it (the notice's push phase ends 9/15).
fn check_phase(campaign: &StoredCampaign, clock: &Clock) -> Result<(), AppError> {
    let today = clock.today();
    if campaign
        .campaign
        .allows_on(today, PhaseAction::ReportActivities)
    {
        return Ok(());
    }
    let window: Vec<String> = campaign
        .campaign
        .phases
        .iter()
        .filter(|p| p.allows.contains(&PhaseAction::ReportActivities))
        .map(|p| format!("{} 至 {}", p.starts_on, p.ends_on))
        .collect();
    Err(AppError::conflict(
        Conflict::PhaseClosed,
        format!(
            "今天（{today}）不在线下活动报送期内。报送期：{}",
            window.join("，")
        ),
    ))
}

/// Activities in scope, narrowed by `filter` (its `under` is a unit id's path, checked here),
/// all of them, newest first.
pub async fn list(
    db: &Db,
    acting: &Acting,
    filter: &activities::ListFilter,
) -> Result<Vec<Activity>, AppError> {
    let campaign = current_campaign(db).await?;
    let rows = activities::list(db, &acting.scope, campaign.id, filter, None, i64::MAX).await?;
    Ok(rows.into_iter().map(decode).collect())
}

/// How many activities in scope the filter matches, without reading them.
pub async fn count(
    db: &Db,
    acting: &Acting,
    filter: &activities::ListFilter,
) -> Result<i64, AppError> {
    let campaign = current_campaign(db).await?;
    Ok(activities::count(db, &acting.scope, campaign.id, filter).await?)
}

/// How many of the acting account's own unit's activities (not its units below) have `status`.
pub async fn count_own(db: &Db, acting: &Acting, status: Status) -> Result<i64, AppError> {
    let campaign = current_campaign(db).await?;
    Ok(activities::count_of_org(db, campaign.id, acting.org.id, status.code()).await?)
}

/// One page of a filtered list, with how many match in all and the cursor of the next page.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page {
    pub items: Vec<Activity>,
    /// How many activities match the filter (all pages).
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The stable text a cursor is bound to: the filter, in scope.
fn filter_key(acting: &Acting, filter: &activities::ListFilter) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}",
        acting.scope.prefix,
        filter.status,
        filter.under,
        filter.from,
        filter.to,
        filter.format,
        filter.category,
        filter.search.trim(),
        acting.user_id
    )
}

/// One keyset page of `size` activities after `cursor` (from the previous page's `next`).
/// A cursor that was tampered with, or made for another filter, is refused (422).
pub async fn page(
    db: &Db,
    acting: &Acting,
    filter: &activities::ListFilter,
    cursor: Option<&str>,
    size: i64,
) -> Result<Page, AppError> {
    let key = filter_key(acting, filter);
    let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            let (starts_at, id) = crate::service::cursor::decode(&key, c)?;
            Some(activities::After {
                starts_at,
                id: ActivityId(id),
            })
        }
        None => None,
    };
    let campaign = current_campaign(db).await?;
    let size = size.clamp(1, 500);
    let mut rows = activities::list(
        db,
        &acting.scope,
        campaign.id,
        filter,
        after.as_ref(),
        size + 1,
    )
    .await?;
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    let next = match rows.last() {
        Some(last) if more => Some(crate::service::cursor::encode(
            &key,
            &last.starts_at,
            last.id.get(),
        )),
        _ => None,
    };
    let total = activities::count(db, &acting.scope, campaign.id, filter).await?;
    Ok(Page {
        items: rows.into_iter().map(decode).collect(),
        total,
        next,
    })
}

/// The path of a unit in scope, for narrowing a list to its subtree.
pub async fn subtree_of(db: &Db, acting: &Acting, org_id: OrgId) -> Result<String, AppError> {
    Ok(orgs::get(db, &acting.scope, org_id)
        .await?
        .ok_or(AppError::NotFound)?
        .path)
}

pub async fn get(db: &Db, acting: &Acting, id: ActivityId) -> Result<Activity, AppError> {
    activities::get(db, &acting.scope, id)
        .await?
        .map(decode)
        .ok_or(AppError::NotFound)
}

/// Plans an activity for a unit in scope (the account's own unit by default).
pub async fn create(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    org_id: Option<OrgId>,
    input: ActivityInput,
) -> Result<i64, AppError> {
    let campaign = current_campaign(db).await?;
    check_phase(&campaign, clock)?;
    let org = match org_id {
        Some(id) => orgs::get(db, &acting.scope, id)
            .await?
            .ok_or_else(|| AppError::invalid("主办单位", "主办单位不存在或不在您的管理范围内"))?,
        None => acting.org.clone(),
    };
    // Union bodies hold activities; the co-organiser and outside hosts do not.
    if !org.is_union() {
        return Err(AppError::invalid(
            "主办单位",
            format!("“{}”不是工会组织，不能报送线下活动", org.name),
        ));
    }
    let input = normalise(input);
    let c = &campaign.campaign;
    activity::validate(&input, &rules(c), false).map_err(AppError::Invalid)?;
    let document = serde_json::to_string(&input).doing("encoding an activity report")?;
    let mut tx = db.begin().await?;
    let id = activities::insert(
        &mut tx,
        NewActivity {
            campaign_id: campaign.id,
            org_id: org.id,
            document: &document,
            name: &input.name,
            starts_at: &input.starts_at,
            counters: counters(&input),
            created_by: acting.user_id,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "activity.create",
            object_type: "activity",
            object_id: id.to_string(),
            before: None,
            after: serde_json::to_value(&input).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves the plan and report. Only the reporting unit (or the city) edits, while the report
/// is a draft, returned, or submitted and not yet approved; the earlier version is kept.
pub async fn update(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    id: ActivityId,
    input: ActivityInput,
) -> Result<(), AppError> {
    let current = get(db, acting, id).await?;
    let standing = standing(acting, &current.row)?;
    if standing == Standing::Above {
        return Err(AppError::invalid(
            "活动",
            "上级单位只能审核或退回，不能修改下级的报告",
        ));
    }
    if !current.status().editable() {
        return Err(AppError::conflict(
            Conflict::WrongState,
            format!("这个活动{}，不能再修改", current.status().label_zh()),
        ));
    }
    let campaign = current_campaign(db).await?;
    check_phase(&campaign, clock)?;
    let input = normalise(input);
    let c = &campaign.campaign;
    let submitted = current.status() == Status::Submitted;
    activity::validate(&input, &rules(c), submitted).map_err(AppError::Invalid)?;
    let document = serde_json::to_string(&input).doing("encoding an activity report")?;
    let mut tx = db.begin().await?;
    let row = activities::get_tx(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.status != Status::Draft {
        activities::save_version(&mut tx, &row, acting.user_id).await?;
    }
    activities::update_document(
        &mut tx,
        id,
        &document,
        &input.name,
        &input.starts_at,
        counters(&input),
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "activity.update",
            object_type: "activity",
            object_id: id.to_string(),
            before: serde_json::from_str(&row.document).ok(),
            after: serde_json::to_value(&input).ok(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where the acting account stands relative to the activity's unit.
pub(crate) fn standing(acting: &Acting, row: &ActivityRow) -> Result<Standing, AppError> {
    if !acting.role.may_report_activities() {
        return Err(AppError::Forbidden);
    }
    if acting.role == Role::CityAdmin {
        Ok(Standing::City)
    } else if row.org_id == acting.org.id {
        Ok(Standing::OwnUnit)
    } else if row.org_path.starts_with(&acting.org.path) {
        Ok(Standing::Above)
    } else {
        Err(AppError::NotFound)
    }
}

/// Moves a report along the approval chain. `seen_version` is the version the acting admin
/// looked at (pages and API clients send it back); the step applies only to that version, so
/// an approval never covers content the reviewer did not see.
pub async fn transition(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    id: ActivityId,
    step: Transition,
    reason: &str,
    seen_version: Option<i64>,
) -> Result<Status, AppError> {
    let current = get(db, acting, id).await?;
    let who = standing(acting, &current.row)?;
    let from = current.status();
    if let Some(seen) = seen_version
        && seen != current.row.version
    {
        return Err(AppError::conflict(
            Conflict::StaleVersion,
            format!(
                "您看到的是第 {seen} 版，这个活动现在是第 {} 版：请刷新后看过最新内容再{}",
                current.row.version,
                step.label_zh()
            ),
        ));
    }
    let to = activity::next_status(from, step, who)
        .map_err(|m| AppError::conflict(Conflict::WrongState, m))?;
    let reason = crate::domain::text::paragraphs(reason, crate::domain::text::limits::REASON)
        .map_err(|m| AppError::invalid("退回原因", format!("退回原因{m}")))?;
    let reason = reason.as_str();
    if step == Transition::Return && reason.is_empty() {
        return Err(AppError::invalid(
            "退回原因",
            "退回时请写明原因，方便对方修改",
        ));
    }
    if step == Transition::Submit {
        let campaign = current_campaign(db).await?;
        check_phase(&campaign, clock)?;
        let c = &campaign.campaign;
        let starts =
            activity::validate(&current.input, &rules(c), true).map_err(AppError::Invalid)?;
        if starts.date() > clock.today() {
            return Err(AppError::invalid(
                "活动时间",
                format!("活动在 {} 举行，活动结束后才能报送", starts.date()),
            ));
        }
    }
    let mut tx = db.begin().await?;
    let moved = activities::set_status(
        &mut tx,
        id,
        from.code(),
        current.row.version,
        to.code(),
        (step == Transition::Return).then_some(reason),
    )
    .await?;
    if !moved {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            "这个活动刚被别人处理过，请刷新后再看",
        ));
    }
    audit_transition(&mut tx, acting, id, step, from, to, reason).await?;
    tx.commit().await?;
    Ok(to)
}

pub(crate) async fn audit_transition(
    tx: &mut Tx,
    acting: &Acting,
    id: ActivityId,
    step: Transition,
    from: Status,
    to: Status,
    reason: &str,
) -> Result<(), AppError> {
    audit::append(
        tx,
        &acting.actor,
        Event {
            action: match step {
                Transition::Submit => "activity.submit",
                Transition::Approve => "activity.approve",
                Transition::Return => "activity.return",
                Transition::Confirm => "activity.confirm",
            },
            object_type: "activity",
            object_id: id.to_string(),
            before: Some(serde_json::json!({ "status": from.code() })),
            after: Some(serde_json::json!({ "status": to.code(), "reason": reason })),
        },
    )
    .await?;
    Ok(())
}

/// Steps the acting account may take on this activity now (for buttons).
pub fn available_steps(acting: &Acting, activity: &Activity) -> Vec<Transition> {
    let Ok(who) = standing(acting, &activity.row) else {
        return Vec::new();
    };
    [
        Transition::Submit,
        Transition::Approve,
        Transition::Return,
        Transition::Confirm,
    ]
    .into_iter()
    .filter(|t| activity::next_status(activity.status(), *t, who).is_ok())
    .collect()
}

/// Whether the acting account may edit this activity's plan and report now.
pub fn may_edit(acting: &Acting, activity: &Activity) -> bool {
    matches!(
        standing(acting, &activity.row),
        Ok(Standing::OwnUnit | Standing::City)
    ) && activity.status().editable()
}

/// Validation errors as a list, for forms.
pub fn field_errors(e: &AppError) -> Option<Vec<FieldError>> {
    match e {
        AppError::Invalid(fields) => Some(fields.clone()),
        AppError::Conflict(_, message) => Some(vec![FieldError::new("活动", message.clone())]),
        _ => None,
    }
}
