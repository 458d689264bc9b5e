//! 五进 lectures pages: units request lectures and see theirs (`/lecture-team/lectures`), the
//! city or the city's 网信办 assigns one or more lecturers, each lecturer confirms or declines
//! through their own link (`/lecture-team/confirm/{token}`), an open class's views are claimed
//! with a screenshot, and the team's record (members × venue types).

use askama::Template;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::db::lecture_team::Member;
use crate::db::lectures::{Assignment, Lecture};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path};
use crate::http::session::{CurrentUser, MaybeSession};
use crate::service::acting::current_campaign;
use crate::service::lecture_team::lectures::{self, Record, RequestInput, venue_label};
use crate::service::lecture_team::{self as team, may_keep_roster};

pub struct LectureLine {
    pub l: Lecture,
    pub venue: String,
    pub when: String,
    pub status: &'static str,
    pub lecturers: Vec<LecturerLine>,
    /// Some lecturer declined and nobody replaced them yet: the city should assign another.
    pub needs_lecturer: bool,
    pub open_class: bool,
    /// Views counted by Wangju on the lecture's showcase page (an open class it hosts).
    pub measured_views: Option<i64>,
    /// The requesting unit (or the city) may claim the open class's views.
    pub may_report_views: bool,
}

pub struct LecturerLine {
    pub a: Assignment,
    pub status: &'static str,
    /// The lecturer's own confirmation link, for those who assign (they pass it on).
    pub link: Option<String>,
}

fn status_label(code: &str) -> &'static str {
    match code {
        "requested" => "已申请，待安排讲师",
        "assigned" => "已安排讲师，待讲师确认",
        "confirmed" => "讲师已确认",
        _ => "未知",
    }
}

fn assignment_label(code: &str) -> &'static str {
    match code {
        "assigned" => "待确认",
        "confirmed" => "已确认",
        "declined" => "已婉拒",
        _ => "未知",
    }
}

#[derive(Template)]
#[template(path = "lectures.html")]
struct LecturesPage {
    nav: Nav,
    csrf: String,
    may_request: bool,
    assigns: bool,
    lines: Vec<LectureLine>,
    members: Vec<Member>,
    forms: Vec<String>,
    venues: Vec<String>,
    record: Record,
    counts_toward_quota: bool,
    errors: Vec<FieldError>,
    message: Option<String>,
}

async fn page(
    state: &AppState,
    session: &crate::http::session::Session,
    errors: Vec<FieldError>,
    message: Option<String>,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let acting = session.acting();
    let assigns = may_keep_roster(&acting);
    let lines = lectures::list(&state.db, &acting, &campaign)
        .await?
        .into_iter()
        .map(|x| {
            let l = x.l;
            let declined = x.assignments.iter().any(|a| a.status == "declined");
            let live = x.assignments.iter().any(|a| a.status != "declined");
            LectureLine {
                venue: venue_label(&l.venue_type),
                when: format!(
                    "{} 至 {}",
                    l.starts_at.replace('T', " "),
                    l.ends_at.get(11..).unwrap_or("")
                ),
                status: status_label(&l.status),
                needs_lecturer: declined || !live,
                open_class: l.form == lectures::OPEN_CLASS_FORM,
                measured_views: x.measured_views,
                may_report_views: l.form == lectures::OPEN_CLASS_FORM
                    && l.status == "confirmed"
                    && (session.role == crate::domain::role::Role::CityAdmin
                        || (session.role.may_report_activities() && session.org.id == l.org_id)),
                lecturers: x
                    .assignments
                    .into_iter()
                    .map(|a| LecturerLine {
                        status: assignment_label(&a.status),
                        link: (assigns && a.status == "assigned")
                            .then(|| format!("/lecture-team/confirm/{}", a.token)),
                        a,
                    })
                    .collect(),
                l,
            }
        })
        .collect();
    let members = if assigns {
        team::members(&state.db, &campaign)
            .await?
            .into_iter()
            .filter(|m| m.retired_at.is_none())
            .collect()
    } else {
        Vec::new()
    };
    let t = &campaign.campaign.lecture_team;
    render(&LecturesPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        may_request: session.role.may_report_activities() && session.org.is_union(),
        assigns,
        lines,
        members,
        forms: t.forms.clone(),
        venues: t.venues.iter().map(|v| venue_label(v)).collect(),
        record: lectures::record(&state.db, &campaign, state.clock.today()).await?,
        counts_toward_quota: t.lectures_count_toward_quota,
        errors,
        message,
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    crate::http::extract::Query(q): crate::http::extract::Query<DoneQuery>,
) -> AppResult<Html<String>> {
    let message = match q.done.as_deref() {
        Some("requested") => Some("宣讲申请已提交，待市总工会或网信办安排讲师。".to_string()),
        Some("assigned") => Some(
            "已安排讲师：请把确认链接发给讲师；全部讲师确认后，宣讲列入申请单位的线下活动。"
                .to_string(),
        ),
        Some("views") => Some("公开课浏览量和截图已保存。".to_string()),
        _ => None,
    };
    page(&state, &session, Vec::new(), message).await
}

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(default)]
    topic: String,
    #[serde(default)]
    form: String,
    #[serde(default)]
    venue_type: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    online_platform: String,
    #[serde(default)]
    online_link: String,
}

pub async fn request(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(f): Form<RequestForm>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let input = RequestInput {
        topic: f.topic,
        form: f.form,
        venue_type: f.venue_type,
        place: f.place,
        starts_at: f.starts_at,
        ends_at: f.ends_at,
        online_platform: f.online_platform,
        online_link: f.online_link,
    };
    match lectures::request(&state.db, &session.acting(), &campaign, &input).await {
        Ok(_) => Ok(Redirect::to("/lecture-team/lectures?done=requested").into_response()),
        Err(AppError::Invalid(errors)) => {
            let html = page(&state, &session, errors, None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    member_id: String,
}

pub async fn assign(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let member: i64 = f
        .member_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("member_id", "请选择讲师"))?;
    lectures::assign(&state.db, &session.acting(), &campaign, id, member).await?;
    Ok(Redirect::to(&format!(
        "/lecture-team/lectures?done=assigned#lecture-{id}"
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "lecture_confirm.html")]
struct ConfirmPage {
    nav: Nav,
    csrf: String,
    l: Lecture,
    a: Assignment,
    venue: String,
    /// Every lecturer on it who has not declined, by name.
    lecturers: String,
    errors: Vec<FieldError>,
}

async fn confirm_page(
    state: &AppState,
    session: Option<&crate::http::session::Session>,
    csrf: String,
    token: &str,
    errors: Vec<FieldError>,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let (a, l) = lectures::by_token(&state.db, &campaign, token).await?;
    let lecturers = crate::db::lectures::lecturers(&state.db, l.id)
        .await?
        .into_iter()
        .filter(|x| x.status != "declined")
        .map(|x| x.member_name)
        .collect::<Vec<_>>()
        .join("、");
    render(&ConfirmPage {
        nav: session.map_or_else(Nav::anonymous, Nav::for_session),
        csrf,
        venue: venue_label(&l.venue_type),
        lecturers,
        l,
        a,
        errors,
    })
}

pub async fn confirm_form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    jar: axum_extra::extract::CookieJar,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let (jar, csrf) = match &session {
        Some(s) => (jar, s.csrf.clone()),
        None => crate::http::session::pre_session_token(jar, state.settings.secure_cookies),
    };
    let html = confirm_page(&state, session.as_ref(), csrf, &token, Vec::new()).await?;
    Ok((jar, html).into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
    parts: axum::http::request::Parts,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let ip = crate::http::session::client_ip(&parts);
    lectures::confirm(&state.db, &campaign, &token, &ip).await?;
    Ok(Redirect::to(&format!("/lecture-team/confirm/{token}")).into_response())
}

#[derive(Deserialize)]
pub struct DeclineForm {
    #[serde(default)]
    reason: String,
}

/// The lecturer declines with a reason; the unit and the city see it on the lecture.
pub async fn decline(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    jar: axum_extra::extract::CookieJar,
    Path(token): Path<String>,
    parts: axum::http::request::Parts,
    Form(f): Form<DeclineForm>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let ip = crate::http::session::client_ip(&parts);
    match lectures::decline(&state.db, &campaign, &token, &f.reason, &ip).await {
        Ok(()) => Ok(Redirect::to(&format!("/lecture-team/confirm/{token}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let (jar, csrf) = match &session {
                Some(s) => (jar, s.csrf.clone()),
                None => crate::http::session::pre_session_token(jar, state.settings.secure_cookies),
            };
            let html = confirm_page(&state, session.as_ref(), csrf, &token, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, jar, html).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The route's body limit: the screenshot and the form around it.
pub const VIEWS_BODY_LIMIT: usize = lectures::MAX_SCREENSHOT_BYTES as usize + 64 * 1024;

/// An open class's claimed views with the screenshot (multipart: views, online_link, screenshot).
pub async fn report_views(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let acting = session.acting();
    let mut multipart = multipart
        .map_err(|_| AppError::invalid("screenshot", "请用页面上的表单填写浏览量并选择截图"))?;
    let broken = || AppError::invalid("screenshot", "上传没有完成，请重新选择截图");
    let (mut views, mut link, mut bytes) = (String::new(), String::new(), Vec::new());
    while let Some(mut field) = multipart.next_field().await.map_err(|_| broken())? {
        match field.name() {
            Some("views") => {
                views = field
                    .text()
                    .await
                    .map_err(|_| broken())?
                    .chars()
                    .take(20)
                    .collect()
            }
            Some("online_link") => {
                link = field
                    .text()
                    .await
                    .map_err(|_| broken())?
                    .chars()
                    .take(lectures::MAX_LINK_CHARS + 1)
                    .collect()
            }
            Some("screenshot") => {
                while let Some(chunk) = field.chunk().await.map_err(|_| broken())? {
                    if (bytes.len() + chunk.len()) as u64 > lectures::MAX_SCREENSHOT_BYTES {
                        return Err(AppError::invalid(
                            "screenshot",
                            format!(
                                "截图最大 {} MB，请压缩后再上传",
                                lectures::MAX_SCREENSHOT_BYTES / 1024 / 1024
                            ),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
            _ => {}
        }
    }
    lectures::report_views(
        &state.db,
        &state.store,
        &acting,
        &campaign,
        id,
        lectures::ViewsClaim {
            views,
            link,
            screenshot: bytes,
        },
    )
    .await?;
    Ok(Redirect::to("/lecture-team/lectures?done=views").into_response())
}

/// The views screenshot of an open class, for those who may read the lecture.
pub async fn screenshot(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let served =
        lectures::screenshot(&state.db, &state.store, &session.acting(), &campaign, id).await?;
    crate::http::range::serve_range(&state, &served, None).await
}
