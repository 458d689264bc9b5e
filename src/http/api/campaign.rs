use axum::Json;
use axum::extract::State;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::service::overview::{self, Overview};

/// The current campaign as the public overview shows it (phones masked).
#[utoipa::path(get, path = "/api/v1/campaign", tag = "campaign", responses((status = 200, body = Overview)))]
pub async fn current(State(state): State<AppState>) -> ApiResult<Json<Overview>> {
    Ok(Json(
        overview::current(&state.db, state.clock.today()).await?,
    ))
}
