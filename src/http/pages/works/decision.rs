//! The moderator's decision on a waiting work (accept, return or reject, with a reason).

use crate::domain::ids::WorkId;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::show::work_page;
use crate::app::AppState;
use crate::domain::work::Decision;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path};
use crate::http::session::CurrentUser;
use crate::service::works as service;

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

pub async fn decide(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<WorkId>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let Some(decision) = Decision::parse(form.decision.trim()) else {
        let errors = vec![FieldError::new("decision", "请选择通过、退回修改或不通过")];
        return work_page(&state, &session, id, None, errors).await;
    };
    match service::decide(&state.db, &session.acting(), id, decision, &form.reason).await {
        Ok(()) => Ok(Redirect::to(&format!("/works/{id}?done=decided")).into_response()),
        Err(AppError::Invalid(errors)) => work_page(&state, &session, id, None, errors).await,
        Err(e) => Err(e),
    }
}
