//! The sub-projects' public pages: the list of the campaign's sub-projects and one
//! sub-project with its host, platform entries, contacts and file rules.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::{ProjectView, nav_of, project_view};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::Path;
use crate::http::pages::{Nav, render};
use crate::http::session::MaybeSession;
use crate::service::works as service;

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    nav: Nav,
    campaign: String,
    projects: Vec<ProjectView>,
    open: Result<(), String>,
}

pub async fn projects(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> AppResult<Html<String>> {
    let campaign = state.campaign.get(&state.db).await?;
    render(&ProjectsPage {
        nav: nav_of(&session),
        open: service::submissions_open(&campaign, &state.clock),
        campaign: campaign.campaign.title.clone(),
        projects: campaign
            .campaign
            .sub_projects
            .iter()
            .map(|s| project_view(s, session.is_some()))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    nav: Nav,
    p: ProjectView,
    open: Result<(), String>,
    signed_in: bool,
    may_submit: bool,
    may_record: bool,
}

pub async fn project(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let campaign = state.campaign.get(&state.db).await?;
    let sub = service::sub_project(&campaign, &code)?;
    let role = session.as_ref().map(|s| s.role);
    render(&ProjectPage {
        nav: nav_of(&session),
        p: project_view(sub, session.is_some()),
        open: service::submissions_open(&campaign, &state.clock),
        signed_in: session.is_some(),
        may_submit: role.is_some_and(|r| r.may_submit_works()),
        may_record: role.is_some_and(|r| r.may_report_activities()),
    })
}
