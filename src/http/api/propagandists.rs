use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::api::activities::Created;
use crate::http::extract::Json as JsonBody;
use crate::http::session::CurrentUser;
use crate::service::propagandists::{self, NewPropagandist, Propagandist};

/// Propagandists registered by units in scope (phones masked except for city admins).
#[utoipa::path(get, path = "/api/v1/propagandists", tag = "activities", responses((status = 200, body = [Propagandist])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Json<Vec<Propagandist>>> {
    Ok(Json(propagandists::list(&state.db, &s.acting()).await?))
}

/// Registers a propagandist; the same person counts once per campaign.
#[utoipa::path(post, path = "/api/v1/propagandists", tag = "activities", request_body = NewPropagandist,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(input): JsonBody<NewPropagandist>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = propagandists::register(&state.db, &s.acting(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
