//! The reviewer's pages (phone first): the assigned works, one blind score sheet, and the
//! metadata-free copy under a generated name. Nothing here names an author, unit, phone, login
//! or the uploaded file's name: the statements behind them do not select those.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{Nav, render};
use crate::app::AppState;
use crate::db::selection::MineRow;
use crate::domain::selection::ScoreSheet;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path, Query};
use crate::http::session::{CurrentUser, Session};
use crate::service::selection::{self as service, Sheet};
use crate::service::works::ServedFile;

#[derive(Template)]
#[template(path = "review_list.html")]
struct ListPage {
    nav: Nav,
    items: Vec<MineRow>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Html<String>> {
    let items = service::mine(&state.db, &session.acting()).await?;
    render(&ListPage {
        nav: Nav::for_session(&session),
        items,
    })
}

#[derive(Template)]
#[template(path = "review_sheet.html")]
struct SheetPage {
    nav: Nav,
    csrf: String,
    sheet: Sheet,
    errors: Vec<FieldError>,
    saved: bool,
}

impl SheetPage {
    fn score_of(&self, i: &usize) -> String {
        self.sheet
            .scores
            .get(*i)
            .copied()
            .flatten()
            .map(|s| s.to_string())
            .unwrap_or_default()
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn sheet_page(
    state: &AppState,
    session: &Session,
    id: i64,
    errors: Vec<FieldError>,
    saved: bool,
    typed: Option<ScoreSheet>,
) -> AppResult<Response> {
    let mut sheet = service::sheet(&state.db, &session.acting(), id).await?;
    if let Some(typed) = typed {
        sheet.scores = typed.scores;
        sheet.comment = typed.comment;
    }
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&SheetPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        sheet,
        errors,
        saved,
    })?;
    Ok((status, page).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    sheet_page(&state, &session, id, Vec::new(), q.saved.is_some(), None).await
}

/// Reads `score_0 … score_n`, `comment` and `action` (`draft` or `submit`). A score that is
/// not a whole number is a field error, never a panic.
fn read_form(form: &HashMap<String, String>, n: usize) -> (ScoreSheet, Vec<FieldError>) {
    let mut errors = Vec::new();
    let scores = (0..n)
        .map(|i| {
            let raw = form
                .get(&format!("score_{i}"))
                .map(|s| s.trim())
                .unwrap_or("");
            if raw.is_empty() {
                return None;
            }
            match raw.parse::<u32>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.push(FieldError::new(
                        format!("第 {} 项", i + 1),
                        format!("“{raw}”不是 0 或正整数分数"),
                    ));
                    None
                }
            }
        })
        .collect();
    let comment = form.get("comment").cloned().unwrap_or_default();
    (ScoreSheet { scores, comment }, errors)
}

pub async fn save(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let acting = session.acting();
    let sheet = service::sheet(&state.db, &acting, id).await?;
    let (typed, errors) = read_form(&form, sheet.criteria.len());
    if !errors.is_empty() {
        return sheet_page(&state, &session, id, errors, false, Some(typed)).await;
    }
    let submit = form.get("action").is_some_and(|a| a == "submit");
    match service::save(&state.db, &state.clock, &acting, id, &typed, submit).await {
        Ok(()) => Ok(Redirect::to(&format!("/review/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(errors)) => {
            sheet_page(&state, &session, id, errors, false, Some(typed)).await
        }
        Err(e) => Err(e),
    }
}

/// The clean copy, under a name made from the assignment (never the uploaded file's name).
pub async fn file(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let sheet = service::sheet(&state.db, &session.acting(), id).await?;
    let key = sheet.clean_key.clone().ok_or(AppError::NotFound)?;
    let size = state.store.size(&key).await.map_err(|e| {
        if e.is_not_found() {
            AppError::NotFound
        } else {
            AppError::Internal(e.into())
        }
    })?;
    let media_type = sheet
        .media_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let extension = match media_type.as_str() {
        "video/mp4" => "mp4",
        "audio/mp4" => "m4a",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "audio/mpeg" => "mp3",
        _ => "bin",
    };
    let served = ServedFile {
        key,
        size,
        media_type,
        download_name: format!("review-{id}.{extension}"),
    };
    crate::http::range::serve_range(&state, &served, headers.get(header::RANGE)).await
}
