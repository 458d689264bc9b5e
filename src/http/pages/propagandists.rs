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
    message: Option<String>,
    q: String,
    total: i64,
    next: Option<String>,
    later: bool,
}

/// Rows per page of the register.
const PAGE_SIZE: i64 = 50;

async fn page(
    state: &AppState,
    session: &Session,
    errors: Vec<FieldError>,
    message: Option<String>,
    q: &Done,
) -> AppResult<(StatusCode, Html<String>)> {
    let found = propagandists::page(
        &state.db,
        (&state.campaign, &state.register_totals),
        &session.acting(),
        &q.q,
        Some(q.cursor.as_str()),
        PAGE_SIZE,
    )
    .await?;
    let next = found.next.map(|c| {
        format!(
            "/propagandists?{}",
            serde_urlencoded::to_string([("q", q.q.trim()), ("cursor", c.as_str())])
                .unwrap_or_default()
        )
    });
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
        list: found.items,
        total: found.total,
        next,
        later: !q.cursor.trim().is_empty(),
        q: q.q.trim().to_string(),
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
    /// Name or phone.
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<Done>,
) -> AppResult<Html<String>> {
    let message = q.done.as_deref().map(|d| match d {
        "removed" => "已移除。".to_string(),
        _ => "已登记。".to_string(),
    });
    page(&state, &session, Vec::new(), message, &q)
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
            Ok(page(&state, &session, errors, None, &Done::default())
                .await?
                .into_response())
        }
        Err(e) => Err(e),
    }
}

/// Imports a register from a CSV or XLSX upload (field `file`): all rows or none.
pub async fn import(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    multipart: crate::http::extract::Multipart,
) -> AppResult<Response> {
    let bytes = super::orgs::uploaded_file(multipart).await?;
    let result = match crate::office::tabular::read_off_thread(bytes).await {
        Ok(table) => propagandists::import(&state.db, &session.acting(), &table).await,
        Err(message) => Err(AppError::invalid("文件", message)),
    };
    match result {
        Ok(summary) => Ok(page(
            &state,
            &session,
            Vec::new(),
            Some(format!("导入完成：登记 {} 名宣传员。", summary.imported)),
            &Done::default(),
        )
        .await?
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            Ok(page(&state, &session, errors, None, &Done::default())
                .await?
                .into_response())
        }
        Err(e) => Err(e),
    }
}

/// The register in scope as Excel, in the import layout.
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Response> {
    use crate::error::Doing;
    let rows = propagandists::export_rows(&state.db, &session.acting()).await?;
    let bytes = crate::office::tabular::write_xlsx("宣传员名册", &propagandists::HEADER, &rows)
        .doing("writing the propagandist export")?;
    Ok(super::download(
        bytes,
        super::XLSX,
        "propagandists.xlsx",
        "职工好网民宣传员名册.xlsx",
    ))
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    reason: String,
}

/// Takes an entry off the register, with the reason.
pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    crate::http::extract::Path(id): crate::http::extract::Path<i64>,
    Form(form): Form<RemoveForm>,
) -> AppResult<Response> {
    match propagandists::remove(&state.db, &session.acting(), id, &form.reason).await {
        Ok(()) => Ok(Redirect::to("/propagandists?done=removed").into_response()),
        Err(AppError::Invalid(errors)) => {
            Ok(page(&state, &session, errors, None, &Done::default())
                .await?
                .into_response())
        }
        Err(e) => Err(e),
    }
}
