//! Units' participation records for sub-projects hosted on other platforms: the summary per
//! sub-project, the list in scope and the form to record one.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{DoneQuery, UnitChoice, unions_in};
use crate::app::AppState;
use crate::domain::campaign::Participation;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Query};
use crate::http::pages::{Nav, render};
use crate::http::session::CurrentUser;
use crate::service::acting::current_campaign;
use crate::service::works::{self as service, ParticipationInput};

#[derive(Template)]
#[template(path = "participations.html")]
struct ParticipationsPage {
    nav: Nav,
    csrf: String,
    summary: Vec<(String, String, bool, i64)>,
    list: Vec<crate::db::works::ParticipationRow>,
    external: Vec<(String, String)>,
    units: Vec<UnitChoice>,
    may_record: bool,
    form: ParticipationForm,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ParticipationForm {
    #[serde(default)]
    pub sub_project: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub work_title: String,
    #[serde(default)]
    pub authors: String,
    #[serde(default)]
    pub submitted_to: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub submitted_on: String,
}

async fn participations_page(
    state: &AppState,
    session: &crate::http::session::Session,
    form: ParticipationForm,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
) -> AppResult<Response> {
    let acting = session.acting();
    let campaign = current_campaign(&state.db).await?;
    let summary = service::participation_summary(&state.db, &acting.scope)
        .await?
        .into_iter()
        .map(|(s, n)| (s.name, s.host, s.participation == Participation::Wangju, n))
        .collect();
    let units = unions_in(state, &acting.scope).await?;
    let status = crate::http::pages::form_status(&errors);
    let page = render(&ParticipationsPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        summary,
        list: service::participations(&state.db, &acting).await?,
        external: campaign
            .campaign
            .sub_projects
            .iter()
            .filter(|s| s.participation == Participation::External)
            .map(|s| (s.code.clone(), format!("{}（{}）", s.name, s.host)))
            .collect(),
        units,
        may_record: session.role.may_report_activities(),
        form,
        errors,
        message,
    })?;
    Ok((status, page).into_response())
}

pub async fn participations(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let message = (q.done == "recorded").then_some("参与情况已登记，计入本单位及上级单位的统计。");
    participations_page(
        &state,
        &session,
        ParticipationForm::default(),
        Vec::new(),
        message,
    )
    .await
}

pub async fn record_participation(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<ParticipationForm>,
) -> AppResult<Response> {
    let input = ParticipationInput {
        sub_project: form.sub_project.clone(),
        org_id: form.org_id.trim().parse().ok(),
        work_title: form.work_title.clone(),
        authors: form.authors.clone(),
        submitted_to: form.submitted_to.clone(),
        reference: form.reference.clone(),
        submitted_on: form.submitted_on.clone(),
    };
    match service::record_participation(&state.db, &session.acting(), input).await {
        Ok(_) => Ok(Redirect::to("/participations?done=recorded").into_response()),
        Err(AppError::Invalid(errors)) => {
            participations_page(&state, &session, form, errors, None).await
        }
        Err(e) => Err(e),
    }
}
