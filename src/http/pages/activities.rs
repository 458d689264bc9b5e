//! Offline activities: list, plan, report, and the approval chain. The progress table, quotas
//! and the Excel and Word downloads are in `progress.rs`, `quotas.rs` and `exports.rs`.

use crate::domain::ids::{ActivityId, OrgId};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, format_time, render};
use crate::app::AppState;
use crate::db::activities as db_activities;
use crate::db::orgs;
use crate::domain::activity::{ActivityInput, Status, Transition};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path, Query};
use crate::http::session::{CurrentUser, Session};
use crate::service::activities::{self, Activity};

pub struct StatusChip {
    pub code: &'static str,
    pub label: &'static str,
    pub active: bool,
}

pub struct Line {
    pub id: ActivityId,
    pub name: String,
    pub org_name: String,
    pub starts_at: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub participants: i64,
    pub verified: i64,
    /// Claimed attendance far above the checked-in count.
    pub doubtful: bool,
    /// `id:version` when the account may approve or confirm it in bulk.
    pub pick: Option<String>,
}

pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "activities.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    chips: Vec<StatusChip>,
    lines: Vec<Line>,
    may_report: bool,
    /// What the list is narrowed to, in words ("河西区总工会 · 知识竞赛"), with a way back.
    narrowed: Vec<String>,
    /// The query string without the status, for the status chips.
    rest: String,
    /// The whole filter as a query string (for the export and the next page).
    filter_query: String,
    /// The filter's fields, for the bulk form's hidden inputs.
    hidden: Vec<(String, String)>,
    total: i64,
    /// Link to the next page, if any.
    next: Option<String>,
    /// Whether this is a later page (a link back to the first).
    later: bool,
    q: ListQuery,
    units: Vec<SelectOption>,
    formats: Vec<SelectOption>,
    /// `approve`, `confirm`, or empty: what the bulk form offers.
    bulk_step: &'static str,
    bulk_label: &'static str,
    /// When the list was shown (Unix seconds): "all matching" refuses what changed after.
    seen_at: i64,
}

/// Rows per page.
const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
    /// A unit in scope: its subtree.
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub category: String,
    /// Words in the name or place.
    #[serde(default)]
    pub q: String,
    /// The next page's cursor (from the previous page).
    #[serde(default)]
    pub cursor: String,
}

fn day_or_empty(text: &str) -> String {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// The filter a list query asks for, checked against the account's scope, with its
/// description in words and its fields for links and forms (without the cursor).
pub(crate) struct Filter {
    pub filter: db_activities::ListFilter,
    pub narrowed: Vec<String>,
    /// (key, value) pairs, status excluded.
    pub rest: Vec<(String, String)>,
    pub status: &'static str,
}

pub(crate) async fn filter_of(
    state: &AppState,
    acting: &crate::service::acting::Acting,
    q: &ListQuery,
) -> AppResult<Filter> {
    let status = if q.status == "reported" {
        "reported"
    } else {
        Status::parse(&q.status).map_or("", Status::code)
    };
    let search = crate::domain::text::line(&q.q, 50)
        .map_err(|m| AppError::invalid("搜索", format!("搜索词{m}")))?;
    let mut filter = db_activities::ListFilter {
        status: status.to_string(),
        from: day_or_empty(&q.from),
        to: day_or_empty(&q.to),
        format: q.format.trim().to_string(),
        category: q.category.trim().to_string(),
        search: search.trim().to_string(),
        ..Default::default()
    };
    let mut narrowed = Vec::new();
    let mut rest: Vec<(String, String)> = Vec::new();
    let org: Option<OrgId> = match q.org.trim() {
        "" => None,
        text => Some(
            text.parse()
                .map_err(|_| AppError::invalid("单位", "请从列表中选择单位"))?,
        ),
    };
    if let Some(org) = org {
        filter.under = activities::subtree_of(&state.db, acting, org).await?;
        if let Some(o) = orgs::get(&state.db, &acting.scope, org).await? {
            narrowed.push(format!("{}（含下级）", o.name));
        }
        rest.push(("org".into(), org.to_string()));
    }
    match (filter.from.is_empty(), filter.to.is_empty()) {
        (false, false) => narrowed.push(format!("{} 至 {}", filter.from, filter.to)),
        (false, true) => narrowed.push(format!("{} 起", filter.from)),
        (true, false) => narrowed.push(format!("至 {}", filter.to)),
        (true, true) => {}
    }
    for (key, value) in [
        ("from", &filter.from),
        ("to", &filter.to),
        ("format", &filter.format),
        ("category", &filter.category),
        ("q", &filter.search),
    ] {
        if !value.is_empty() {
            rest.push((key.into(), value.clone()));
        }
    }
    if !filter.format.is_empty() {
        narrowed.push(format!("方式：{}", filter.format));
    }
    if !filter.category.is_empty() {
        narrowed.push(format!("内容：{}", filter.category));
    }
    if !filter.search.is_empty() {
        narrowed.push(format!("名称或地点含“{}”", filter.search));
    }
    Ok(Filter {
        filter,
        narrowed,
        rest,
        status,
    })
}

/// What the account may do to many reports at once: the city confirms, a unit admin approves.
fn bulk_step_of(role: crate::domain::role::Role) -> Option<Transition> {
    use crate::domain::role::Role;
    match role {
        Role::CityAdmin => Some(Transition::Confirm),
        Role::UnitAdmin => Some(Transition::Approve),
        _ => None,
    }
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    let Filter {
        filter,
        narrowed,
        rest,
        status,
    } = filter_of(&state, &acting, &q).await?;
    let page = activities::page(
        &state.db,
        &acting,
        &filter,
        Some(q.cursor.as_str()),
        PAGE_SIZE,
    )
    .await?;
    let mut all = rest.clone();
    if !status.is_empty() {
        all.insert(0, ("status".into(), status.to_string()));
    }
    let filter_query = serde_urlencoded::to_string(&all).unwrap_or_default();
    let next = page.next.as_ref().map(|c| {
        let mut with = all.clone();
        with.push(("cursor".into(), c.clone()));
        format!(
            "/activities?{}",
            serde_urlencoded::to_string(&with).unwrap_or_default()
        )
    });
    let rest_query = serde_urlencoded::to_string(&rest).unwrap_or_default();
    let mut chips = vec![StatusChip {
        code: "",
        label: "全部",
        active: status.is_empty(),
    }];
    chips.extend(Status::ALL.iter().map(|s| StatusChip {
        code: s.code(),
        label: s.label_zh(),
        active: s.code() == status,
    }));
    chips.push(StatusChip {
        code: "reported",
        label: "已报送（含审核、确认）",
        active: status == "reported",
    });
    let bulk = bulk_step_of(session.role);
    let units = unit_choices(&state, &session, q.org.trim().parse().ok()).await?;
    let campaign = crate::service::acting::current_campaign(&state.db).await?;
    let formats = campaign
        .campaign
        .activity_formats
        .iter()
        .map(String::as_str)
        .chain([crate::domain::activity::OTHER_FORMAT])
        .map(|f| SelectOption {
            value: f.to_string(),
            label: f.to_string(),
            selected: f == filter.format,
        })
        .collect();
    let lines = page
        .items
        .into_iter()
        .map(|a| {
            let pick = bulk
                .filter(|step| activities::available_steps(&acting, &a).contains(step))
                .map(|_| format!("{}:{}", a.row.id, a.row.version));
            Line {
                id: a.row.id,
                status: a.status().label_zh(),
                status_code: a.row.status.code(),
                participants: a.row.participants,
                verified: a.row.verified,
                doubtful: crate::service::checkin::doubtful(a.row.participants, a.row.verified),
                pick,
                name: a.row.name,
                org_name: a.row.org_name,
                starts_at: a.row.starts_at.replace('T', " "),
            }
        })
        .collect();
    render(&ListPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        chips,
        lines,
        may_report: session.role.may_report_activities(),
        narrowed,
        rest: rest_query,
        filter_query,
        hidden: all,
        total: page.total,
        next,
        later: !q.cursor.trim().is_empty(),
        q,
        units,
        formats,
        bulk_step: bulk.map_or("", Transition::code),
        bulk_label: bulk.map_or("", Transition::label_zh),
        seen_at: crate::clock::unix_now(),
    })
}

/// The units a list can be narrowed to: the districts and bureaus for the city, the units
/// right under their own for others (each with its subtree).
pub(crate) async fn unit_choices(
    state: &AppState,
    session: &Session,
    chosen: Option<OrgId>,
) -> AppResult<Vec<SelectOption>> {
    let own_depth = if session.sees_everything() {
        0
    } else {
        session.org.depth
    };
    Ok(orgs::list(&state.db, &session.scope(), None)
        .await?
        .into_iter()
        .filter(|o| o.depth == own_depth + 1 && o.is_union())
        .map(|o| SelectOption {
            selected: Some(o.id) == chosen,
            value: o.id.to_string(),
            label: o.name,
        })
        .collect())
}

#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    step: String,
    /// `picked` (the checked rows) or `all` (everything matching the filter).
    #[serde(default)]
    what: String,
    #[serde(default)]
    seen_at: Option<i64>,
}

pub struct BulkLine {
    pub id: ActivityId,
    pub name: String,
    pub org_name: String,
    pub outcome: &'static str,
    pub outcome_code: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "activities_bulk.html")]
struct BulkPage {
    nav: Nav,
    step: &'static str,
    done: usize,
    already: usize,
    refused: usize,
    lines: Vec<BulkLine>,
    back: String,
}

/// Approves or confirms the checked reports, or every report matching the list's filter, and
/// shows what became of each.
pub async fn bulk(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Html<String>> {
    use crate::service::activity_bulk::{self, BulkItem, Outcome};
    let acting = session.acting();
    let one = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = BulkForm {
        step: one("step"),
        what: one("what"),
        seen_at: one("seen_at").trim().parse().ok(),
    };
    let step = Transition::parse(&form.step)
        .filter(|s| matches!(s, Transition::Approve | Transition::Confirm))
        .ok_or_else(|| AppError::invalid("操作", "请选择“审核通过”或“确认”"))?;
    let q = ListQuery {
        status: one("status"),
        org: one("org"),
        from: one("from"),
        to: one("to"),
        format: one("format"),
        category: one("category"),
        q: one("q"),
        cursor: String::new(),
    };
    let filter = filter_of(&state, &acting, &q).await?;
    let (items, seen_at) = if form.what == "all" {
        let seen_at = form.seen_at.ok_or_else(|| {
            AppError::invalid("所选活动", "请从活动列表页发起“全部符合筛选条件”的操作")
        })?;
        let candidates = activities::list(&state.db, &acting, &filter.filter).await?;
        let items: Vec<BulkItem> = candidates
            .iter()
            .filter(|a| match step {
                Transition::Approve => a.status() == Status::Submitted,
                _ => matches!(a.status(), Status::Submitted | Status::Approved),
            })
            .map(|a| BulkItem {
                id: a.row.id,
                version: None,
            })
            .collect();
        (items, Some(seen_at))
    } else {
        let mut items = Vec::new();
        for (key, value) in &pairs {
            if key != "pick" {
                continue;
            }
            let parsed = value.split_once(':').and_then(|(id, v)| {
                Some(BulkItem {
                    id: id.trim().parse().ok()?,
                    version: Some(v.trim().parse().ok()?),
                })
            });
            items.push(parsed.ok_or_else(|| {
                AppError::invalid("所选活动", "勾选的活动无法识别，请刷新列表后重新勾选")
            })?);
        }
        (items, None)
    };
    let results = activity_bulk::bulk_transition(&state.db, &acting, step, &items, seen_at).await?;
    let tally = activity_bulk::tally(&results);
    let mut all = filter.rest.clone();
    if !filter.status.is_empty() {
        all.insert(0, ("status".into(), filter.status.to_string()));
    }
    render(&BulkPage {
        nav: Nav::for_session(&session),
        step: step.label_zh(),
        done: tally.done,
        already: tally.already,
        refused: tally.refused,
        lines: results
            .into_iter()
            .map(|r| BulkLine {
                id: r.id,
                name: if r.name.is_empty() {
                    format!("活动 {}", r.id)
                } else {
                    r.name
                },
                org_name: r.org_name,
                outcome: r.outcome.label_zh(),
                outcome_code: match r.outcome {
                    Outcome::Done => "done",
                    Outcome::Already => "already",
                    Outcome::Refused => "refused",
                },
                message: r.message,
            })
            .collect(),
        back: format!(
            "/activities?{}",
            serde_urlencoded::to_string(&all).unwrap_or_default()
        ),
    })
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "activity_form.html")]
struct FormPage {
    nav: Nav,
    csrf: String,
    /// None: a new plan.
    id: Option<ActivityId>,
    title: String,
    input: ActivityInput,
    units: Vec<Choice>,
    formats: Vec<Choice>,
    categories: Vec<Choice>,
    errors: Vec<FieldError>,
    show_report: bool,
    /// Why the report came back, when it did (shown at the top of the form).
    return_reason: Option<String>,
}

async fn form_page(
    state: &AppState,
    session: &Session,
    id: Option<ActivityId>,
    input: ActivityInput,
    org_id: OrgId,
    errors: Vec<FieldError>,
    return_reason: Option<String>,
) -> AppResult<(StatusCode, Html<String>)> {
    let campaign = crate::service::acting::current_campaign(&state.db).await?;
    let units = orgs::list(&state.db, &session.scope(), None)
        .await?
        .into_iter()
        .filter(|o| {
            !matches!(
                o.kind,
                crate::domain::org::OrgKind::CoOrganiser
                    | crate::domain::org::OrgKind::ExternalHost
            )
        })
        .map(|o| Choice {
            checked: o.id == org_id,
            value: o.id.to_string(),
            label: o.name,
        })
        .collect();
    let formats = campaign
        .campaign
        .activity_formats
        .iter()
        // A lecture's activity keeps its lecture form (专题培训…) as its format.
        .chain(
            campaign
                .campaign
                .lecture_team
                .forms
                .iter()
                .filter(|f| **f == input.format),
        )
        .map(String::as_str)
        .chain([crate::domain::activity::OTHER_FORMAT])
        .map(|f| Choice {
            value: f.to_string(),
            label: f.to_string(),
            checked: f == input.format,
        })
        .collect();
    let categories = campaign
        .campaign
        .content_categories
        .iter()
        .map(|c| Choice {
            value: c.clone(),
            label: c.clone(),
            checked: input.categories.contains(c),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&FormPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        title: if id.is_some() {
            "填写活动报告".into()
        } else {
            "新建线下活动".into()
        },
        id,
        input,
        units,
        formats,
        categories,
        errors,
        show_report: id.is_some(),
        return_reason,
    })?;
    Ok((status, html))
}

pub async fn new_form(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Html<String>> {
    let org_id = session.org.id;
    form_page(
        &state,
        &session,
        None,
        ActivityInput::default(),
        org_id,
        Vec::new(),
        None,
    )
    .await
    .map(|(_, h)| h)
}

/// Reads the activity form. Number fields are checked here so a typo gets a Chinese message.
fn read_form(pairs: &[(String, String)]) -> (ActivityInput, Option<OrgId>, Vec<FieldError>) {
    let one = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let mut number = |key: &str, label: &str| -> Option<i64> {
        let text = one(key);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new(
                    label,
                    format!("“{text}”不是整数，请只填数字"),
                ));
                None
            }
        }
    };
    let input = ActivityInput {
        participants: number("participants", "面对面参与职工人数"),
        grassroots_unions: number("grassroots_unions", "涉及基层工会数"),
        enterprises: number("enterprises", "走进企业数"),
        new_propagandists: number("new_propagandists", "新发展宣传员人数"),
        online_views: number("online_views", "线上浏览量"),
        name: one("name"),
        starts_at: one("starts_at"),
        place: one("place"),
        format: one("format"),
        format_other: one("format_other"),
        categories: pairs
            .iter()
            .filter(|(k, _)| k == "categories")
            .map(|(_, v)| v.clone())
            .collect(),
        co_organisers: one("co_organisers"),
        online_platform: one("online_platform"),
        online_link: one("online_link"),
        news_links: one("news_links"),
        summary: one("summary"),
    };
    let org_id = one("org_id").trim().parse().ok();
    (input, org_id, errors)
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (input, org_id, errors) = read_form(&pairs);
    let result = if errors.is_empty() {
        activities::create(
            &state.db,
            &state.clock,
            &session.acting(),
            org_id,
            input.clone(),
        )
        .await
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/activities/{id}")).into_response()),
        Err(e) => match activities::field_errors(&e) {
            Some(errors) => {
                let org = org_id.unwrap_or(session.org.id);
                Ok(form_page(&state, &session, None, input, org, errors, None)
                    .await?
                    .into_response())
            }
            None => Err(e),
        },
    }
}

pub struct StepButton {
    pub code: &'static str,
    pub label: &'static str,
    pub needs_reason: bool,
}

pub struct VersionLine {
    pub version: i64,
    pub status: &'static str,
    pub saved_at: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ShowPage {
    nav: Nav,
    csrf: String,
    a: Activity,
    /// The activity's time as people write it.
    when: String,
    status: &'static str,
    may_edit: bool,
    steps: Vec<StepButton>,
    versions: Vec<VersionLine>,
    message: Option<String>,
    doubtful: bool,
    photos: Vec<crate::service::photos::Photo>,
    /// Whether the activity is chosen for the showcase, for the unit admins who may choose.
    showcase: Option<bool>,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Response> {
    let acting = session.acting();
    let a = activities::get(&state.db, &acting, id).await?;
    if activities::may_edit(&acting, &a) && q.done.is_none() && a.status() != Status::Submitted {
        // The reporting unit works on the form directly (a returned report says why first).
        let org = a.row.org_id;
        let reason = returned_reason(&a);
        return Ok(form_page(
            &state,
            &session,
            Some(id),
            a.input.clone(),
            org,
            Vec::new(),
            reason,
        )
        .await?
        .into_response());
    }
    Ok(
        show_page(&state, &session, a, q.done.as_deref().and_then(message_for))
            .await?
            .into_response(),
    )
}

/// The reason a returned report came back; `None` for any other status.
fn returned_reason(a: &Activity) -> Option<String> {
    a.row
        .return_reason
        .clone()
        .filter(|_| a.status() == Status::Returned)
}

/// What the page says after an action; nothing for merely viewing (`done=view`) or a value
/// it does not know (no "done" for something that was not done).
fn message_for(done: &str) -> Option<String> {
    Some(
        match done {
            "saved" => "已保存。",
            "submit" => "已报送，等待上级审核。",
            "approve" => "已审核通过，等待市总确认。",
            "return" => "已退回，对方会看到退回原因。",
            "confirm" => "已确认，计入任务完成数。",
            "photos" => "照片已添加。",
            "photo_removed" => "照片已删除。",
            _ => return None,
        }
        .into(),
    )
}

pub(crate) async fn show_page(
    state: &AppState,
    session: &Session,
    a: Activity,
    message: Option<String>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    let steps = activities::available_steps(&acting, &a)
        .into_iter()
        .map(|t| StepButton {
            code: t.code(),
            label: t.label_zh(),
            needs_reason: t == Transition::Return,
        })
        .collect();
    let versions = db_activities::versions(&state.db, a.row.id)
        .await?
        .into_iter()
        .map(|v| {
            let input: ActivityInput = serde_json::from_str(&v.document).unwrap_or_default();
            VersionLine {
                version: v.version,
                status: v.status.label_zh(),
                saved_at: format_time(v.saved_at),
                summary: format!(
                    "{}；面对面 {} 人",
                    input.name,
                    input.participants.unwrap_or(0)
                ),
            }
        })
        .collect();
    let photos = crate::service::photos::list(&state.db, &acting, a.row.id).await?;
    let showcase = if session.role.may_report_activities() {
        Some(
            crate::service::showcase::is_shown(
                &state.db,
                crate::db::reach::Kind::Activity,
                a.row.id.get(),
            )
            .await?,
        )
    } else {
        None
    };
    render(&ShowPage {
        showcase,
        photos,
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        status: a.status().label_zh(),
        when: a.input.starts_at.replace('T', " "),
        doubtful: crate::service::checkin::doubtful(a.row.participants, a.row.verified),
        may_edit: activities::may_edit(&acting, &a),
        a,
        steps,
        versions,
        message,
    })
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (input, _, errors) = read_form(&pairs);
    let acting = session.acting();
    let result = if errors.is_empty() {
        activities::update(&state.db, &state.clock, &acting, id, input.clone()).await
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/activities/{id}?done=saved")).into_response()),
        Err(e) => match activities::field_errors(&e) {
            Some(errors) => {
                let a = activities::get(&state.db, &acting, id).await?;
                let reason = returned_reason(&a);
                Ok(form_page(
                    &state,
                    &session,
                    Some(id),
                    input,
                    a.row.org_id,
                    errors,
                    reason,
                )
                .await?
                .into_response())
            }
            None => Err(e),
        },
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    reason: String,
    /// The version the page showed: the step applies to that version only.
    #[serde(default)]
    version: Option<i64>,
}

pub async fn transition(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
    Form(form): Form<StepForm>,
) -> AppResult<Response> {
    let step = Transition::parse(&form.step)
        .ok_or_else(|| AppError::invalid("操作", "请选择报送、审核、退回或确认"))?;
    let acting = session.acting();
    let done = activities::transition(
        &state.db,
        &state.clock,
        &acting,
        id,
        step,
        &form.reason,
        form.version,
    )
    .await;
    match done {
        Ok(_) => {
            Ok(Redirect::to(&format!("/activities/{id}?done={}", step.code())).into_response())
        }
        Err(e) => match activities::field_errors(&e) {
            Some(errors) => {
                let a = activities::get(&state.db, &acting, id).await?;
                let message = errors
                    .iter()
                    .map(|f| format!("{}：{}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("；");
                let page =
                    show_page(&state, &session, a, Some(format!("未完成：{message}"))).await?;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
            }
            None => Err(e),
        },
    }
}
