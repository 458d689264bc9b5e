//! The propagandist register (职工好网民宣传员).

use crate::domain::ids::OrgId;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::db::orgs;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Query};
use crate::http::session::{CurrentUser, Session};
use crate::service::propagandists::{self, NewPropagandist, Propagandist};

pub struct UnitOption {
    pub id: OrgId,
    pub name: String,
}

#[derive(Template)]
#[template(path = "propagandists.html")]
struct Page {
    nav: Nav,
    csrf: String,
    list: Vec<Propagandist>,
    units: Vec<UnitOption>,
    may_register: bool,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
}

async fn page(
    state: &AppState,
    session: &Session,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
) -> AppResult<(StatusCode, Html<String>)> {
    let list = propagandists::list(&state.db, &session.acting()).await?;
    let units = orgs::list(&state.db, &session.scope(), None)
        .await?
        .into_iter()
        .map(|o| UnitOption {
            id: o.id,
            name: o.name,
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&Page {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        list,
        units,
        may_register: session.role.may_report_activities(),
        errors,
        message,
    })?;
    Ok((status, html))
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<Done>,
) -> AppResult<Html<String>> {
    let message = q.done.map(|_| "已登记。");
    page(&state, &session, Vec::new(), message)
        .await
        .map(|(_, h)| h)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    accounts: String,
    #[serde(default)]
    org_id: String,
}

pub async fn register(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<RegisterForm>,
) -> AppResult<Response> {
    let input = NewPropagandist {
        name: form.name,
        phone: Some(form.phone),
        accounts: form.accounts,
        org_id: form.org_id.trim().parse().ok(),
    };
    match propagandists::register(&state.db, &session.acting(), &input).await {
        Ok(_) => Ok(Redirect::to("/propagandists?done=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            Ok(page(&state, &session, errors, None).await?.into_response())
        }
        Err(e) => Err(e),
    }
}
