use axum::Json;
use axum::extract::State;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::http::session::MaybeSession;
use crate::service::overview::{self, Overview};

/// The current campaign as the overview shows it: contacts' office landlines whole, their
/// mobiles whole for a signed-in caller and masked for an anonymous one.
#[utoipa::path(get, path = "/api/v1/campaign", tag = "campaign", responses((status = 200, body = Overview)))]
pub async fn current(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> ApiResult<Json<Overview>> {
    Ok(Json(
        overview::current(&state.db, state.clock.today(), session.is_some()).await?,
    ))
}
