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

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Words in the name or phone.
    #[serde(default)]
    pub q: String,
    /// From the previous page's `next`.
    #[serde(default)]
    pub cursor: String,
    /// Rows per page (1–500, default 50).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// One keyset page of the register in scope, newest first, with the total matching.
#[utoipa::path(get, path = "/api/v1/propagandists/page", tag = "activities", params(PageQuery),
    responses((status = 200, body = propagandists::Page), (status = 422, body = ErrorBody)))]
pub async fn page(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<PageQuery>,
) -> ApiResult<Json<propagandists::Page>> {
    Ok(Json(
        propagandists::page(
            &state.db,
            (&state.campaign, &state.register_totals),
            &s.acting(),
            &q.q,
            Some(q.cursor.as_str()),
            q.limit.unwrap_or(50),
        )
        .await?,
    ))
}

/// Edits an entry; giving another unit in scope moves the person (they stay one person).
#[utoipa::path(put, path = "/api/v1/propagandists/{propagandist_id}", tag = "activities", params(("propagandist_id" = i64, Path)),
    request_body = propagandists::Edit,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    crate::http::extract::ApiPath(id): crate::http::extract::ApiPath<i64>,
    JsonBody(input): JsonBody<propagandists::Edit>,
) -> ApiResult<StatusCode> {
    propagandists::edit(&state.db, &s.acting(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct Removal {
    /// Why (required), e.g. 调离本单位.
    pub reason: String,
}

/// Takes an entry off the register with a reason (kept, audited, out of every count).
#[utoipa::path(post, path = "/api/v1/propagandists/{propagandist_id}/removal", tag = "activities", params(("propagandist_id" = i64, Path)),
    request_body = Removal,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    crate::http::extract::ApiPath(id): crate::http::extract::ApiPath<i64>,
    JsonBody(body): JsonBody<Removal>,
) -> ApiResult<StatusCode> {
    propagandists::remove(&state.db, &s.acting(), id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports a register: the request body is the XLSX or CSV file (姓名, 手机号, 所在单位,
/// 加入日期, 网络账号). Every row is checked first; any error refuses the whole file, naming
/// the row and field.
#[utoipa::path(post, path = "/api/v1/propagandists/import", tag = "activities",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = propagandists::ImportSummary), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    body: axum::body::Bytes,
) -> ApiResult<Json<propagandists::ImportSummary>> {
    let table = crate::office::tabular::read_off_thread(body)
        .await
        .map_err(|m| crate::error::AppError::invalid("文件", m))?;
    Ok(Json(
        propagandists::import(&state.db, &s.acting(), &table).await?,
    ))
}
