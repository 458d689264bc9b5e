//! The works list: a worker's own works, a unit admin's units', a moderator's queue (opening
//! on what is waiting, among its own sub-projects), everything for the city.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::campaign::Participation;
use crate::domain::work::WorkStatus;
use crate::error::AppResult;
use crate::http::extract::Query;
use crate::http::pages::{Nav, render};
use crate::http::session::CurrentUser;
use crate::service::acting::current_campaign;
use crate::service::works::{self as service, Work};

#[derive(Template)]
#[template(path = "works.html")]
struct WorksPage {
    nav: Nav,
    works: Vec<Work>,
    projects: Vec<(String, String)>,
    filter: WorksQuery,
    moderator: bool,
    worker: bool,
    /// A moderator's assigned sub-projects (names); `None` for other roles.
    assigned: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorksQuery {
    #[serde(default)]
    pub sub_project: String,
    #[serde(default)]
    pub status: String,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(filter): Query<WorksQuery>,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let moderator = session.role.may_moderate();
    let mut filter = filter;
    if moderator && filter.status.is_empty() && filter.sub_project.is_empty() {
        // The queue opens on what is waiting.
        filter.status = WorkStatus::Submitted.code().to_string();
    }
    let works = service::list(
        &state.db,
        &session.acting(),
        filter.sub_project.trim(),
        filter.status.trim(),
    )
    .await?;
    let assigned = if session.role == crate::domain::role::Role::Moderator {
        Some(service::moderator_sub_projects(&state.db, session.user.id).await?)
    } else {
        None
    };
    render(&WorksPage {
        nav: Nav::for_session(&session),
        works,
        // A moderator filters among its own sub-projects.
        projects: match &assigned {
            Some(subs) => subs.clone(),
            None => campaign
                .campaign
                .sub_projects
                .iter()
                .filter(|s| s.participation == Participation::Wangju)
                .map(|s| (s.code.clone(), s.name.clone()))
                .collect(),
        },
        assigned: assigned.map(|subs| subs.into_iter().map(|(_, name)| name).collect()),
        filter,
        moderator,
        worker: session.role == crate::domain::role::Role::Worker,
    })
}
