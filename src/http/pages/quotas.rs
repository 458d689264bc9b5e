//! Setting quotas: one unit's minimum number of activities from the progress table, or a whole
//! allocation table imported in Annex 1's layout (all rows or none).

use crate::domain::ids::OrgId;
use axum::extract::State;

use crate::http::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::progress::render_progress;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Form, Path};
use crate::http::session::CurrentUser;
use crate::office::tabular;
use crate::service::progress;

#[derive(Deserialize)]
pub struct QuotaForm {
    #[serde(default)]
    min_activities: String,
}

pub async fn set_quota(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(org_id): Path<OrgId>,
    Form(form): Form<QuotaForm>,
) -> AppResult<Response> {
    let result = match form.min_activities.trim().parse::<i64>() {
        Ok(n) => progress::set_quota(&state.db, &session.acting(), org_id, n).await,
        Err(_) => Err(AppError::invalid(
            "任务数",
            format!("“{}”不是整数，请填写场数", form.min_activities.trim()),
        )),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/progress?done=1").into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = render_progress(&state, &session, None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// Imports an allocation table in Annex 1's layout (field `file`). All rows or none.
pub async fn import_allocation(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    multipart: Multipart,
) -> AppResult<Response> {
    let bytes = super::orgs::uploaded_file(multipart).await?;
    let result = match tabular::read_off_thread(bytes).await {
        Ok(table) => progress::import_allocation(&state.db, &session.acting(), &table).await,
        Err(message) => Err(AppError::invalid("文件", message)),
    };
    if result.is_ok() {
        // The page below shows the new figures: not the snapshot taken before the import.
        state.progress.invalidate();
    }
    match result {
        Ok(done) => Ok(render_progress(
            &state,
            &session,
            Some(format!(
                "导入完成：设置了 {} 个单位的任务数。{}",
                done.set,
                done.warnings.join("；")
            )),
            Vec::new(),
        )
        .await?
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = render_progress(&state, &session, None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
