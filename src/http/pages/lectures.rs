//! 五进 lectures pages: units request lectures and see theirs (`/lecture-team/lectures`), the
//! city or the city's 网信办 assigns lecturers, the lecturer confirms through their link
//! (`/lecture-team/confirm/{token}`), and the team's record (members × venue types).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::db::lecture_team::Member;
use crate::db::lectures::Lecture;
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
    /// The lecturer's confirmation link, for those who assign (they pass it on).
    pub confirm_link: Option<String>,
}

fn status_label(code: &str) -> &'static str {
    match code {
        "requested" => "已申请，待安排讲师",
        "assigned" => "已安排讲师，待讲师确认",
        "confirmed" => "讲师已确认",
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
        .map(|l| LectureLine {
            venue: venue_label(&l.venue_type),
            when: format!(
                "{} 至 {}",
                l.starts_at.replace('T', " "),
                l.ends_at.get(11..).unwrap_or("")
            ),
            status: status_label(&l.status),
            confirm_link: (assigns && l.status == "assigned")
                .then(|| {
                    l.confirm_token
                        .as_ref()
                        .map(|t| format!("/lecture-team/confirm/{t}"))
                })
                .flatten(),
            l,
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
            "已安排讲师：请把确认链接发给讲师，讲师确认后宣讲列入申请单位的线下活动。".to_string(),
        ),
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
    Ok(Redirect::to("/lecture-team/lectures?done=assigned").into_response())
}

#[derive(Template)]
#[template(path = "lecture_confirm.html")]
struct ConfirmPage {
    nav: Nav,
    csrf: String,
    l: Lecture,
    venue: String,
    done: bool,
}

pub async fn confirm_form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    jar: axum_extra::extract::CookieJar,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let l = lectures::by_token(&state.db, &token).await?;
    let (jar, csrf) = match &session {
        Some(s) => (jar, s.csrf.clone()),
        None => crate::http::session::pre_session_token(jar, state.settings.secure_cookies),
    };
    let html = render(&ConfirmPage {
        nav: session
            .as_ref()
            .map_or_else(Nav::anonymous, Nav::for_session),
        csrf,
        venue: venue_label(&l.venue_type),
        done: l.status == "confirmed",
        l,
    })?;
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
