use crate::http::extract::ApiQuery;
use axum::Json;
use axum::extract::State;

use crate::app::AppState;
use crate::db::audit::{self, Entry, Filter};
use crate::error::ApiResult;
use crate::http::session::CurrentUser;

/// Audit entries, newest first, 100 at a time (page with `before`). City admins only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(Filter), responses((status = 200, body = [Entry])))]
pub async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiQuery(filter): ApiQuery<Filter>,
) -> ApiResult<Json<Vec<Entry>>> {
    Ok(Json(audit::list(&state.db, &filter, 100).await?))
}
