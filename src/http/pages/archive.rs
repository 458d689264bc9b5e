//! The campaign's archive page (city admin): whether the campaign is 进行中 or 已归档, the latest
//! archive written by `wangju campaign archive`, and the button that closes the campaign (结束活动,
//! read-only) after a confirmation. Reopening is on the command line only.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, format_time, render};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Form, Query};
use crate::http::session::CurrentUser;
use crate::service::archive;

#[derive(Template)]
#[template(path = "campaign_archive.html")]
struct ArchivePage {
    nav: Nav,
    csrf: String,
    title: String,
    code: String,
    closed: Option<(String, String)>,
    /// (file name, written at, by, manifest digest, size in MB).
    latest: Option<(String, String, String, String, String)>,
    message: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    closed: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ShowQuery>,
) -> AppResult<Html<String>> {
    let s = archive::status(&state.db, None).await?;
    render(&ArchivePage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        title: crate::service::papers::campaign_line(s.year, &s.title),
        code: s.code,
        closed: s.closed.map(|(at, by)| (format_time(at), by)),
        latest: s.latest.map(|a| {
            (
                a.file_name,
                format_time(a.written_at),
                a.written_by,
                a.manifest_sha256,
                format!("{:.1}", a.bytes as f64 / 1_048_576.0),
            )
        }),
        message: q
            .closed
            .map(|_| "活动已结束并归档：此后只能查看，不能修改。"),
    })
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    code: String,
}

/// Closes the current campaign; the form must carry the confirmation box and the code typed.
pub async fn close(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<CloseForm>,
) -> AppResult<Response> {
    let s = archive::status(&state.db, None).await?;
    if form.confirm != "yes" {
        return Err(AppError::invalid(
            "confirm",
            "请勾选确认框：结束后所有单位都不能再报送、提交作品或签到",
        ));
    }
    if form.code.trim() != s.code {
        return Err(AppError::invalid(
            "code",
            format!("请输入本次活动的代码 {} 以确认结束", s.code),
        ));
    }
    archive::close(&state.db, &s.code, &session.acting().actor).await?;
    Ok(Redirect::to("/campaign/archive?closed=1").into_response())
}
