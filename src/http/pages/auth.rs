//! Login, logout and changing one's password.

use crate::http::extract::Form;
use crate::http::extract::Query;
use askama::Template;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::session::{
    AnySession, MaybeSession, clear_session_cookie, client_ip, pre_session_token, session_cookie,
};
use crate::service::accounts;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    csrf: String,
    login: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
    changed: Option<String>,
    /// The phone number a worker just registered with (fills the login).
    registered: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<LoginQuery>,
    jar: CookieJar,
) -> AppResult<Response> {
    if session.is_some() {
        return Ok(Redirect::to("/dashboard").into_response());
    }
    let (jar, csrf) = pre_session_token(jar, state.settings.secure_cookies);
    let registered: String = q
        .registered
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .take(11)
        .collect();
    let notice = if !registered.is_empty() {
        Some("注册成功，请用手机号和刚才设置的密码登录。")
    } else if q.changed.is_some() {
        Some("密码已修改，请用新密码登录。")
    } else if q.expired.is_some() {
        Some("请先登录。如您刚才已登录，可能因 30 分钟未操作已自动退出。")
    } else {
        None
    };
    let page = render(&LoginPage {
        nav: Nav::anonymous(),
        csrf,
        login: registered,
        error: None,
        notice,
    })?;
    Ok((jar, page).into_response())
}

/// A login counted against the address's budget of failures (taken before the password is
/// checked, given back when it was right), on top of the account's own lockout.
pub(crate) async fn limited_login(
    state: &AppState,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<(crate::db::users::User, accounts::NewSession), AppError> {
    if !state.login_limiter.try_take(ip) {
        return Err(AppError::RateLimited);
    }
    let attempt = accounts::login(&state.db, login, password, ip).await;
    if !matches!(
        attempt,
        Err(AppError::BadLogin | AppError::Locked { .. } | AppError::RateLimited)
    ) {
        state.login_limiter.give_back(ip);
    }
    attempt
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let secure = state.settings.secure_cookies;
    let ip = client_ip(&parts);
    let attempt = limited_login(&state, &form.login, &form.password, &ip).await;
    match attempt {
        Ok((user, session)) => {
            let jar = jar.add(session_cookie(&session.token, secure));
            let to = if user.must_change_password {
                "/account/password"
            } else {
                "/dashboard"
            };
            Ok((jar, Redirect::to(to)).into_response())
        }
        Err(e @ (AppError::BadLogin | AppError::Locked { .. } | AppError::RateLimited)) => {
            let status = e.status();
            let (jar, csrf) = pre_session_token(jar, secure);
            let page = render(&LoginPage {
                nav: Nav::anonymous(),
                csrf,
                login: form.login.chars().take(64).collect(),
                error: Some(e.message_zh()),
                notice: None,
            })?;
            Ok((status, jar, page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    AnySession(session): AnySession,
    jar: CookieJar,
) -> AppResult<Response> {
    accounts::logout(&state.db, &session.token, &session.actor()).await?;
    let jar = jar.add(clear_session_cookie(state.settings.secure_cookies));
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Nav,
    csrf: String,
    first_time: bool,
    errors: Vec<FieldError>,
    staff: bool,
}

pub async fn password_form(AnySession(session): AnySession) -> AppResult<Html<String>> {
    render(&PasswordPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        first_time: session.user.must_change_password,
        errors: Vec::new(),
        staff: session.role.is_staff(),
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    AnySession(session): AnySession,
    parts: Parts,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let result = accounts::change_password(
        &state.db,
        &session.user,
        &form.current,
        &form.new,
        &form.confirm,
        &client_ip(&parts),
        &session.actor(),
    )
    .await;
    match result {
        Ok(new_session) => {
            let jar = jar.add(session_cookie(
                &new_session.token,
                state.settings.secure_cookies,
            ));
            Ok((jar, Redirect::to("/dashboard?password_changed=1")).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let page = render(&PasswordPage {
                nav: Nav::for_session(&session),
                csrf: session.csrf.clone(),
                first_time: session.user.must_change_password,
                errors,
                staff: session.role.is_staff(),
            })?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
