//! Worker registration: the public form (a union chosen from the list, or fixed by a union's
//! registration link) and its submission, rate-limited like logins.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::UnitChoice;
use crate::app::AppState;
use crate::db::orgs::{self, Scope};
use crate::domain::work;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Query};
use crate::http::pages::{Nav, render};
use crate::http::session::{MaybeSession, client_ip, pre_session_token, session_cookie};
use crate::service::works::{self as service, Registration};

/// Unions a worker may name on the public form: the city union and the units under it (the
/// district, bureau and group-company unions of the notice's Annex 1). The tree below them is
/// not published to anonymous visitors.
async fn union_choices(state: &AppState) -> AppResult<Vec<UnitChoice>> {
    Ok(orgs::list(&state.db, &Scope::everything(), None)
        .await?
        .into_iter()
        .filter(|o| o.depth <= 1 && o.is_union())
        .map(|o| UnitChoice {
            id: o.id,
            label: format!("{}{}", "　".repeat(o.depth.clamp(0, 6) as usize), o.name),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    nav: Nav,
    csrf: String,
    units: Vec<UnitChoice>,
    /// The union a registration link names (then the choice is fixed).
    joining: Option<String>,
    /// A link was followed but names no union (unknown or replaced).
    stale_link: bool,
    privacy: &'static str,
    form: RegisterForm,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub real_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub org_id: String,
    /// A union's registration link code (`/register?join=…`).
    #[serde(default)]
    pub join: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password2: String,
    #[serde(default)]
    pub consent: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterQuery {
    #[serde(default)]
    pub join: String,
}

/// The union a registration link names, as the page shows it.
async fn joining(state: &AppState, code: &str) -> AppResult<(Option<String>, bool)> {
    if code.trim().is_empty() {
        return Ok((None, false));
    }
    Ok(match service::union_by_invite(&state.db, code).await? {
        Some(org) => (Some(org.name), false),
        None => (None, true),
    })
}

pub async fn register_form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<RegisterQuery>,
    jar: CookieJar,
) -> AppResult<Response> {
    if session.is_some() {
        return Ok(Redirect::to("/works").into_response());
    }
    let (jar, csrf) = pre_session_token(jar, state.settings.secure_cookies);
    let (joining, stale_link) = joining(&state, &q.join).await?;
    let page = render(&RegisterPage {
        nav: Nav::anonymous(),
        csrf,
        units: union_choices(&state).await?,
        joining: joining.clone(),
        stale_link,
        privacy: work::PRIVACY_TEXT,
        form: RegisterForm {
            join: if joining.is_some() {
                q.join
            } else {
                String::new()
            },
            ..RegisterForm::default()
        },
        errors: Vec::new(),
    })?;
    Ok((jar, page).into_response())
}

pub async fn register(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> AppResult<Response> {
    let ip = client_ip(&parts);
    if !state.login_limiter.allow(&ip) {
        return Err(AppError::RateLimited);
    }
    let mut errors = Vec::new();
    if form.password != form.password2 {
        errors.push(FieldError::new("password2", "两次输入的密码不一致"));
    }
    let reg = Registration {
        real_name: form.real_name.clone(),
        phone: form.phone.trim().to_string(),
        org_id: form.org_id.trim().parse().unwrap_or_default(),
        join: Some(form.join.trim().to_string()).filter(|j| !j.is_empty()),
        password: form.password.clone(),
        consent: form.consent.is_some(),
    };
    let result = if errors.is_empty() {
        service::register(&state.db, &reg, &ip).await.map(|_| ())
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => {
            // Signed in at once, through the login's own path (its session, its audit, its
            // address budget); should that refuse, the login page with the number filled in.
            match crate::http::pages::auth::limited_login(&state, &reg.phone, &reg.password, &ip)
                .await
            {
                Ok((_, session)) => {
                    let jar = jar.add(session_cookie(
                        &session.token,
                        state.settings.secure_cookies,
                    ));
                    Ok((jar, Redirect::to("/dashboard?welcome=1")).into_response())
                }
                Err(_) => {
                    Ok(Redirect::to(&format!("/login?registered={}", reg.phone)).into_response())
                }
            }
        }
        Err(AppError::Invalid(errors)) => {
            // Failed registrations count like failed logins (phone-number probing).
            state.login_limiter.record_failure(&ip);
            let (jar, csrf) = pre_session_token(jar, state.settings.secure_cookies);
            let (joining, stale_link) = joining(&state, &form.join).await?;
            let page = render(&RegisterPage {
                nav: Nav::anonymous(),
                csrf,
                units: union_choices(&state).await?,
                joining,
                stale_link,
                privacy: work::PRIVACY_TEXT,
                form: RegisterForm {
                    password: String::new(),
                    password2: String::new(),
                    ..form
                },
                errors,
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, jar, page).into_response())
        }
        Err(e) => Err(e),
    }
}
