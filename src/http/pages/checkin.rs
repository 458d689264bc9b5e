//! The check-in page attendees reach by scanning an activity's QR code (one screen, on a
//! phone), and the organiser's printable poster.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use super::{Nav, qr, render};
use crate::app::AppState;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path};
use crate::http::session::{CurrentUser, MaybeSession, Session, pre_session_token};
use crate::service::checkin::{self, CONSENT_TEXT, CheckinForm, Outcome};

#[derive(Template)]
#[template(path = "checkin.html")]
struct CheckinPage {
    nav: Nav,
    csrf: String,
    token: String,
    activity: String,
    org: String,
    when: String,
    /// Why the code does not work now, if it does not.
    closed: Option<String>,
    consent: &'static str,
    errors: Vec<FieldError>,
    form: CheckinForm,
    done: Option<&'static str>,
}

fn unknown_code() -> Response {
    let page = super::error_page(
        StatusCode::NOT_FOUND,
        "这个签到二维码无效。请确认扫描的是活动现场张贴的二维码，或向活动组织者询问。",
        &[],
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

/// The token the page's form must carry: the session's for a signed-in visitor (an organiser
/// trying the code), otherwise a pre-session one.
fn form_token(state: &AppState, session: Option<Session>, jar: CookieJar) -> (CookieJar, String) {
    match session {
        Some(s) => (jar, s.csrf),
        None => pre_session_token(jar, state.settings.secure_cookies),
    }
}

pub async fn form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(token): Path<String>,
    jar: CookieJar,
) -> AppResult<Response> {
    let target = match checkin::target(&state.db, &token).await {
        Ok(t) => t,
        Err(AppError::NotFound) => return Ok(unknown_code()),
        Err(e) => return Err(e),
    };
    let (jar, csrf) = form_token(&state, session, jar);
    let page = render(&CheckinPage {
        nav: Nav::anonymous(),
        csrf,
        closed: checkin::window(&target, state.clock.now_local()).err(),
        when: target.starts_at.format("%Y年%m月%d日 %H:%M").to_string(),
        activity: target.name,
        org: target.org_name,
        token,
        consent: CONSENT_TEXT,
        errors: Vec::new(),
        form: CheckinForm::default(),
        done: None,
    })?;
    Ok((jar, page).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(token): Path<String>,
    parts: axum::http::request::Parts,
    jar: CookieJar,
    Form(form): Form<CheckinForm>,
) -> AppResult<Response> {
    let ip = crate::http::session::client_ip(&parts);
    let (jar, csrf) = form_token(&state, session, jar);
    // Guessing codes: after repeated unknown codes an address waits.
    if !state.checkin_limiter.allow(&ip) {
        let page = super::error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "这台设备多次使用了无效的签到二维码，请 5 分钟后再试，或向活动组织者确认二维码。",
            &[],
        );
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let result = checkin::check_in(&state.db, &state.checkins, &state.clock, &token, &form).await;
    let target = match &result {
        Ok((t, _)) => t.clone(),
        Err(AppError::NotFound) => {
            state.checkin_limiter.record_failure(&ip);
            return Ok(unknown_code());
        }
        Err(_) => match checkin::target(&state.db, &token).await {
            Ok(t) => t,
            Err(AppError::NotFound) => return Ok(unknown_code()),
            Err(e) => return Err(e),
        },
    };
    let (status, errors, closed, done) = match result {
        Ok((_, Outcome::CheckedIn)) => (
            StatusCode::OK,
            Vec::new(),
            None,
            Some("签到成功，欢迎参加！"),
        ),
        Ok((_, Outcome::AlreadyCheckedIn)) => (
            StatusCode::OK,
            Vec::new(),
            None,
            Some("您已经签到过了，无需重复签到。"),
        ),
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None, None),
        Err(AppError::Conflict(message)) => (StatusCode::CONFLICT, Vec::new(), Some(message), None),
        Err(e) => return Err(e),
    };
    let page = render(&CheckinPage {
        nav: Nav::anonymous(),
        csrf,
        closed,
        when: target.starts_at.format("%Y年%m月%d日 %H:%M").to_string(),
        activity: target.name,
        org: target.org_name,
        token,
        consent: CONSENT_TEXT,
        errors,
        form,
        done,
    })?;
    Ok((status, jar, page).into_response())
}

#[derive(Template)]
#[template(path = "poster.html")]
struct PosterPage {
    nav: Nav,
    activity_id: i64,
    activity: String,
    org: String,
    when: String,
    path: String,
    verified: i64,
}

/// A printable poster with the activity's check-in code.
pub async fn poster(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    let token = checkin::code_for(&state.db, &acting, id).await?;
    let a = crate::service::activities::get(&state.db, &acting, id).await?;
    render(&PosterPage {
        nav: Nav::for_session(&session),
        activity_id: id,
        when: a.input.starts_at.replace('T', " "),
        activity: a.row.name,
        org: a.row.org_name,
        path: format!("/c/{token}"),
        verified: checkin::verified(&state.db, id).await?,
    })
}

/// The check-in code as an SVG image (for the poster and for download).
pub async fn qr_svg(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let url = checkin_url(&state, &session, id, &headers).await?;
    qr::svg(&url, "checkin-qr.svg")
}

/// The check-in code as a PNG (for WeChat groups and slides, where SVG does not go).
pub async fn qr_png(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let url = checkin_url(&state, &session, id, &headers).await?;
    qr::png(&url, &format!("checkin-qr-{id}.png"))
}

/// The activity's check-in URL (made on first use; only for accounts that may see it).
async fn checkin_url(
    state: &AppState,
    session: &Session,
    id: i64,
    headers: &axum::http::HeaderMap,
) -> AppResult<String> {
    let token = checkin::code_for(&state.db, &session.acting(), id).await?;
    Ok(super::absolute_url(state, headers, &format!("/c/{token}")))
}
