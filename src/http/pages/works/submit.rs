//! Submitting a work from a phone: the form (with the upload widget and the declarations),
//! filing it, and the author's form for fixing a returned work.

use crate::domain::ids::WorkId;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{ProjectView, UnitChoice, project_view, unions_in};
use crate::app::AppState;
use crate::domain::campaign::Participation;
use crate::domain::work::{self, WorkInput};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path};
use crate::http::pages::{Nav, render};
use crate::http::session::CurrentUser;
use crate::service::acting::current_campaign;
use crate::service::works::{self as service, Submission};

#[derive(Template)]
#[template(path = "work_form.html")]
struct WorkFormPage {
    nav: Nav,
    csrf: String,
    p: ProjectView,
    open: Result<(), String>,
    /// Set when fixing a returned work.
    work_id: Option<WorkId>,
    form: WorkForm,
    errors: Vec<FieldError>,
    units: Vec<UnitChoice>,
    originality: &'static str,
    portrait: &'static str,
    subtitles: &'static str,
    needs_subtitles: bool,
    max_bytes: u64,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorkForm {
    #[serde(default)]
    pub upload_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub authors: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub originality: Option<String>,
    #[serde(default)]
    pub portrait: Option<String>,
    #[serde(default)]
    pub subtitles: Option<String>,
}

impl WorkForm {
    fn submission(&self, sub_project: &str) -> Submission {
        Submission {
            sub_project: sub_project.to_string(),
            upload_id: self.upload_id.trim().to_string(),
            input: WorkInput {
                title: self.title.clone(),
                authors: vec![self.authors.clone()],
                contact_phone: self.contact_phone.clone(),
                description: self.description.clone(),
                originality: self.originality.is_some(),
                portrait: self.portrait.is_some(),
                subtitles: self.subtitles.is_some(),
            },
            org_id: self.org_id.trim().parse().ok(),
        }
    }
}

async fn work_form_page(
    state: &AppState,
    session: &crate::http::session::Session,
    code: &str,
    work_id: Option<WorkId>,
    form: WorkForm,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let sub = service::sub_project(&campaign, code)?;
    if sub.participation != Participation::Wangju {
        return Ok(Redirect::to(&format!("/projects/{}", sub.code)).into_response());
    }
    let units = if session.role.may_report_activities() {
        unions_in(state, &session.scope()).await?
    } else {
        Vec::new()
    };
    let status = crate::http::pages::form_status(&errors);
    let page = render(&WorkFormPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        needs_subtitles: sub.rules.iter().any(|r| {
            matches!(
                r,
                crate::domain::campaign::FileRule::SubtitlesDeclared { .. }
            )
        }),
        max_bytes: sub
            .rules
            .iter()
            .find_map(|r| match r {
                crate::domain::campaign::FileRule::MaxSize { megabytes, .. } => {
                    Some(u64::from(*megabytes) * 1024 * 1024)
                }
                _ => None,
            })
            .unwrap_or(service::DEFAULT_MAX_BYTES),
        p: project_view(sub, true),
        open: service::submissions_open(&campaign, &state.clock),
        work_id,
        form,
        errors,
        units,
        originality: work::ORIGINALITY_TEXT,
        portrait: work::PORTRAIT_TEXT,
        subtitles: work::SUBTITLES_TEXT,
    })?;
    Ok((status, page).into_response())
}

pub async fn submit_form(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let form = WorkForm {
        authors: if session.role == crate::domain::role::Role::Worker {
            session.user.display_name.clone()
        } else {
            String::new()
        },
        contact_phone: session.user.phone.clone().unwrap_or_default(),
        ..WorkForm::default()
    };
    work_form_page(&state, &session, &code, None, form, Vec::new()).await
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<WorkForm>,
) -> AppResult<Response> {
    let acting = session.acting();
    match service::submit(&state.db, &state.clock, &acting, form.submission(&code)).await {
        Ok(id) => Ok(Redirect::to(&format!("/works/{id}?done=submitted")).into_response()),
        Err(AppError::Invalid(errors)) => {
            work_form_page(&state, &session, &code, None, form, errors).await
        }
        Err(e) => Err(e),
    }
}

pub async fn fix_form(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<WorkId>,
) -> AppResult<Response> {
    let w = service::get(&state.db, &session.acting(), id).await?;
    let form = WorkForm {
        upload_id: w.row.upload_id.clone(),
        title: w.row.title.clone(),
        authors: w.authors.join("、"),
        contact_phone: if w.row.owner_id == session.user.id {
            w.contact.clone()
        } else {
            String::new()
        },
        description: w.row.description.clone(),
        ..WorkForm::default()
    };
    work_form_page(
        &state,
        &session,
        &w.row.sub_project,
        Some(id),
        form,
        Vec::new(),
    )
    .await
}

pub async fn resubmit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<WorkId>,
    Form(form): Form<WorkForm>,
) -> AppResult<Response> {
    let acting = session.acting();
    let w = service::get(&state.db, &acting, id).await?;
    let submission = form.submission(&w.row.sub_project);
    match service::resubmit(&state.db, &state.clock, &acting, id, submission).await {
        Ok(()) => Ok(Redirect::to(&format!("/works/{id}?done=resubmitted")).into_response()),
        Err(AppError::Invalid(errors)) => {
            work_form_page(&state, &session, &w.row.sub_project, Some(id), form, errors).await
        }
        Err(e) => Err(e),
    }
}
