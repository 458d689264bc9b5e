//! The progress table: each unit in scope with its quota, its activities by status and the
//! 12351 counters, from the node's progress snapshot; city and unit admins set quotas from it.

use crate::domain::ids::OrgId;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::error::{AppResult, FieldError};
use crate::http::extract::Query;
use crate::http::session::{CurrentUser, Session};
use crate::service::progress::Progress;

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    nav: Nav,
    csrf: String,
    p: std::sync::Arc<Progress>,
    may_allocate: bool,
    own_org: OrgId,
    city: bool,
    message: Option<String>,
    errors: Vec<FieldError>,
}

#[derive(Deserialize, Default)]
pub struct ProgressQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn progress_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ProgressQuery>,
) -> AppResult<Html<String>> {
    render_progress(
        &state,
        &session,
        q.done.map(|_| "任务数已保存。".to_string()),
        Vec::new(),
    )
    .await
}

/// The progress page with a message or the errors of a quota change.
pub(super) async fn render_progress(
    state: &AppState,
    session: &Session,
    message: Option<String>,
    errors: Vec<FieldError>,
) -> AppResult<Html<String>> {
    let p = state.progress.get(&state.db, &session.scope()).await?;
    render(&ProgressPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        p,
        may_allocate: session.role.may_allocate_quotas(),
        own_org: session.org.id,
        city: session.role == crate::domain::role::Role::CityAdmin,
        message,
        errors,
    })
}
