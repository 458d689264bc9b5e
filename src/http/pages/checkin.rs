//! The check-in page attendees reach by scanning an activity's QR code (one screen, on a
//! phone), and the organiser's printable poster.

use crate::domain::ids::ActivityId;
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
use crate::service::checkin::{self, CONSENT_TEXT, CheckinForm, Outcome, REGISTER_CONSENT_TEXT};

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
    register_consent: &'static str,
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

/// Name of the long-lived cookie that tells one phone from another at check-in.
const DEVICE_COOKIE: &str = "wangju_device";

/// The phone's device id (a hash of its cookie, made on first visit): one phone signing in
/// many names is capped and shown to the reviewers. The cookie holds random bits only.
fn device_id(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    use sha2::{Digest, Sha256};
    let existing = jar
        .get(DEVICE_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let (jar, value) = match existing {
        Some(v) => (jar, v),
        None => {
            let value = crate::service::accounts::random_token();
            let cookie = axum_extra::extract::cookie::Cookie::build((DEVICE_COOKIE, value.clone()))
                .path("/c/")
                .http_only(true)
                .secure(secure)
                .same_site(axum_extra::extract::cookie::SameSite::Lax)
                .permanent()
                .build();
            (jar.add(cookie), value)
        }
    };
    let hash = hex::encode(Sha256::digest(value.as_bytes()));
    (jar, hash[..32].to_string())
}

/// The token the page's form must carry: the session's for a signed-in visitor (an organiser
/// trying the code), otherwise a pre-session one.
pub(super) fn form_token(
    state: &AppState,
    session: Option<Session>,
    jar: CookieJar,
) -> (CookieJar, String) {
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
    let (jar, _) = device_id(jar, state.settings.secure_cookies);
    let page = render(&CheckinPage {
        nav: Nav::anonymous(),
        csrf,
        closed: checkin::window(&target, state.clock.now_local()).err(),
        when: target.starts_at.format("%Y年%m月%d日 %H:%M").to_string(),
        activity: target.name,
        org: target.org_name,
        token,
        consent: CONSENT_TEXT,
        register_consent: REGISTER_CONSENT_TEXT,
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
    let (jar, device) = device_id(jar, state.settings.secure_cookies);
    let limits = &state.checkin_limits;
    let too_many = |message: &str| {
        let page = super::error_page(StatusCode::TOO_MANY_REQUESTS, message, &[]);
        Ok((StatusCode::TOO_MANY_REQUESTS, jar.clone(), page).into_response())
    };
    // Guessing codes: after repeated unknown codes an address waits; the limit is per address
    // and code, so one person's wrong code does not block the venue's shared network.
    let bad_key = format!("{ip}|{token}");
    if !limits.bad_codes.allow(&bad_key) || !limits.bad_codes_per_address.allow(&ip) {
        return too_many(
            "这台设备多次使用了无效的签到二维码，请 5 分钟后再试，或向活动组织者确认二维码。",
        );
    }
    if !limits.per_device.try_take(&device) {
        return too_many("这部手机签到过于频繁，请一分钟后再试。");
    }
    if !limits.per_code.try_take(&token) {
        return too_many("现在签到的人很多，请稍等几秒再点“签到”。");
    }
    let result = checkin::check_in(
        &state.db,
        &state.checkins,
        &state.clock,
        &token,
        &form,
        Some(&device),
    )
    .await;
    let target = match &result {
        Ok((t, _)) => t.clone(),
        Err(AppError::NotFound) => {
            limits.bad_codes.record_failure(&bad_key);
            limits.bad_codes_per_address.record_failure(&ip);
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
        Err(AppError::Conflict(_, message)) => {
            (StatusCode::CONFLICT, Vec::new(), Some(message), None)
        }
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
        register_consent: REGISTER_CONSENT_TEXT,
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
    csrf: String,
    activity_id: ActivityId,
    activity: String,
    org: String,
    when: String,
    /// The check-in address, once a code was made.
    path: Option<String>,
    verified: i64,
}

/// A printable poster with the activity's check-in code.
pub async fn poster(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    // Looking never makes a code: a GET must not change anything (a link preview or a
    // prefetch would otherwise create one). The page offers a button that does.
    let token = checkin::existing_code(&state.db, &acting, id).await?;
    let a = crate::service::activities::get(&state.db, &acting, id).await?;
    render(&PosterPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        activity_id: id,
        when: a.input.starts_at.replace('T', " "),
        activity: a.row.name,
        org: a.row.org_name,
        path: token.map(|t| format!("/c/{t}")),
        verified: checkin::verified(&state.db, id).await?,
    })
}

/// Makes the activity's check-in code (once; later calls keep it) and shows the poster.
pub async fn make_code(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
) -> AppResult<Response> {
    checkin::code_for(&state.db, &session.acting(), id).await?;
    Ok(axum::response::Redirect::to(&format!("/activities/{id}/checkin")).into_response())
}

/// The check-in code as an SVG image (for the poster and for download).
pub async fn qr_svg(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let url = checkin_url(&state, &session, id, &headers).await?;
    qr::svg(&url, "checkin-qr.svg")
}

/// The check-in code as a PNG (for WeChat groups and slides, where SVG does not go).
pub async fn qr_png(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let url = checkin_url(&state, &session, id, &headers).await?;
    qr::png(&url, &format!("checkin-qr-{id}.png"))
}

/// The activity's check-in URL, once a code was made (only for accounts that may see it).
async fn checkin_url(
    state: &AppState,
    session: &Session,
    id: ActivityId,
    headers: &axum::http::HeaderMap,
) -> AppResult<String> {
    let token = checkin::existing_code(&state.db, &session.acting(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(super::absolute_url(state, headers, &format!("/c/{token}")))
}

#[derive(Template)]
#[template(path = "attendees.html")]
struct AttendeesPage {
    nav: Nav,
    activity_id: ActivityId,
    activity: String,
    claimed: i64,
    attendees: Vec<AttendeeLine>,
    /// Phones that signed in more than one name.
    shared_devices: usize,
}

struct AttendeeLine {
    name: String,
    unit: String,
    phone: String,
    time: String,
    /// Names the same phone signed in (shown when more than one).
    device_names: i64,
}

/// Who checked in, for the reporting unit and the admins who review the report: names, units,
/// masked phones, times, and how many names each phone signed in.
pub async fn attendees(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(activity_id): Path<ActivityId>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    let activity = crate::service::activities::get(&state.db, &acting, activity_id).await?;
    let unmasked = session.role == crate::domain::role::Role::CityAdmin;
    let rows = crate::db::checkins::attendees(&state.db, activity.row.id).await?;
    let shared_devices = rows
        .iter()
        .filter(|r| r.device_names > 1)
        .filter_map(|r| r.device.as_deref())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let attendees = rows
        .into_iter()
        .map(|r| AttendeeLine {
            name: r.name,
            unit: r.unit,
            phone: r
                .phone
                .as_deref()
                .map(|p| crate::domain::mask::personal_phone(p, unmasked))
                .unwrap_or_default(),
            time: super::format_time(r.created_at),
            device_names: r.device_names,
        })
        .collect();
    render(&AttendeesPage {
        nav: Nav::for_session(&session),
        activity_id: activity.row.id,
        activity: activity.row.name.clone(),
        claimed: activity.row.participants,
        attendees,
        shared_devices,
    })
}
